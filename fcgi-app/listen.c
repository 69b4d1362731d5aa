/* listen.c: bind the FastCGI socket. */
#include "config.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "listen.h"

static const char *
unix_path(const char *spec)
{
	if (strncmp(spec, "unix:", 5) == 0)
		spec += 5;
	return (*spec == '/' ? spec : NULL);
}

static int
listen_unix(const char *path, int backlog, int mode, char *err, size_t errlen)
{
	struct sockaddr_un	sun;
	int			fd;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sun.sun_path) {
		snprintf(err, errlen, "socket path too long: %s", path);
		return (-1);
	}
	strcpy(sun.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return (-1);
	}
	/* Refuse to steal a socket that another daemon still serves. */
	if (connect(fd, (struct sockaddr *)&sun, sizeof sun) == 0) {
		snprintf(err, errlen, "%s is in use by a running process",
		    path);
		close(fd);
		return (-1);
	}
	close(fd);
	if (unlink(path) == -1 && errno != ENOENT) {
		snprintf(err, errlen, "cannot remove stale %s: %s", path,
		    strerror(errno));
		return (-1);
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return (-1);
	}
	if (bind(fd, (struct sockaddr *)&sun, sizeof sun) == -1 ||
	    chmod(path, (mode_t)mode) == -1 || listen(fd, backlog) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return (-1);
	}
	return (fd);
}

static int
listen_tcp(const char *spec, int backlog, char *err, size_t errlen)
{
	struct addrinfo	 hints, *res = NULL, *ai;
	char		*host, *port;
	int		 fd = -1, on = 1, rc;

	host = strdup(spec);
	if (host == NULL) {
		snprintf(err, errlen, "out of memory");
		return (-1);
	}
	port = strrchr(host, ':');
	*port++ = '\0';
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	if ((rc = getaddrinfo(*host ? host : NULL, port, &hints, &res)) != 0) {
		snprintf(err, errlen, "%s: %s", spec, gai_strerror(rc));
		free(host);
		return (-1);
	}
	snprintf(err, errlen, "%s: no usable address", spec);
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
		    ai->ai_protocol);
		if (fd == -1)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
		    listen(fd, backlog) == 0)
			break;
		snprintf(err, errlen, "%s: %s", spec, strerror(errno));
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	free(host);
	return (fd);
}

int
listen_open(const char *spec, int backlog, int mode, char *err, size_t errlen)
{
	const char	*path = unix_path(spec);

	if (path != NULL)
		return (listen_unix(path, backlog, mode, err, errlen));
	return (listen_tcp(spec, backlog, err, errlen));
}

void
listen_unlink(const char *spec)
{
	const char	*path = unix_path(spec);

	if (path != NULL)
		unlink(path);
}
