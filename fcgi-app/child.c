/* child.c: signals, name and parent-death for the master's children. */
#include "config.h"

#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "child.h"

static void
on_terminate(int sig)
{
	(void)sig;
	_exit(0);
}

void
child_setup(const char *name, void (*on_quit)(int), bool quit_restarts)
{
	struct sigaction	sa;
	sigset_t		empty;

	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = quit_restarts ? SA_RESTART : 0;
	sa.sa_handler = on_quit;
	sigaction(SIGQUIT, &sa, NULL);
	sa.sa_flags = 0;
	sa.sa_handler = on_terminate;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	/* The master's business. Set before FCGX_Init, which then leaves
	 * them alone. */
	sa.sa_handler = SIG_IGN;
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);
	sigaction(SIGPIPE, &sa, NULL);
	sa.sa_handler = SIG_DFL;
	sigaction(SIGCHLD, &sa, NULL);
	sigaction(SIGALRM, &sa, NULL);
	sigemptyset(&empty);
	sigprocmask(SIG_SETMASK, &empty, NULL);
	prctl(PR_SET_NAME, name);
	/* Leave with the master, even when it is killed outright. */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() == 1)
		_exit(CHILD_EXIT_ORPHANED);
}
