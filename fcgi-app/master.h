/*
 * master.h: the supervisor of the prefork pool.
 *
 * The master binds nothing and serves nothing itself: it forks workers on
 * the listening socket it is given, respawns those that die (pausing when
 * they crash in a loop), and turns signals into actions:
 *
 *	HUP	reload the config file and roll every worker
 *	QUIT	graceful stop: requests in hand finish
 *	TERM	fast stop (INT too); SIGKILL after terminate_timeout_ms
 *	USR1	reopen the log file
 *
 * Signal handlers only set flags; all work happens in the loop.
 */
#ifndef BO_MASTER_H
#define BO_MASTER_H

#include <stddef.h>

struct bo_conf;

/*
 * Run until stopped. conf is owned by the master from here on (a reload
 * replaces and frees it). Returns the process exit status.
 */
int	 master_run(struct bo_conf *conf, const char *conf_path,
	    int listen_fd);

/* Write our pid to path; 0, or -1 with err when another master runs. */
int	 pidfile_write(const char *path, char *err, size_t errlen)
	    __attribute__((warn_unused_result));

#endif
