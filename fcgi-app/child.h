/*
 * child.h: what every child of the master sets up first.
 *
 * Workers and the housekeeping child share it: SIGQUIT runs the child's
 * own handler (finish, then exit), SIGTERM and SIGINT exit at once, the
 * master's signals (HUP, USR1, USR2) and SIGPIPE are ignored, the mask the
 * master blocked across fork is cleared, the process gets a name that ps
 * and /proc/PID/comm show, and it dies with the master (PDEATHSIG).
 */
#ifndef BO_CHILD_H
#define BO_CHILD_H

#include <stdbool.h>

/* Exit status of a child that found its master gone before it started. */
#define CHILD_EXIT_ORPHANED	4

/*
 * quit_restarts: whether a system call interrupted by SIGQUIT resumes
 * (a worker mid-request) or fails with EINTR (the housekeeper's sleep).
 * Exits with CHILD_EXIT_ORPHANED when the master is already gone.
 */
void	 child_setup(const char *name, void (*on_quit)(int),
	    bool quit_restarts);

#endif
