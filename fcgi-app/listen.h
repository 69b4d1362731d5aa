/*
 * listen.h: the FastCGI listening socket, bound once by the master and
 * shared by every worker.
 */
#ifndef BO_LISTEN_H
#define BO_LISTEN_H

#include <stddef.h>

/*
 * Bind and listen on spec ("unix:/path", "/path" or "host:port"). A stale
 * unix socket (nobody answers on it) is replaced; a live one is an error.
 * Returns the fd, or -1 with err.
 */
int	 listen_open(const char *spec, int backlog, int mode, char *err,
	    size_t errlen) __attribute__((warn_unused_result));
/* Remove the socket file of a unix spec; no-op for TCP. */
void	 listen_unlink(const char *spec);

#endif
