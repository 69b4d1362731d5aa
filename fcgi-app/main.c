/* main.c: command line, startup checks, then the master loop. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "group_commit.h"
#include "listen.h"
#include "log.h"
#include "master.h"
#include "metrics.h"
#include "xmalloc.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#define DEFAULT_CONF SYSCONFDIR "/boxoffice/boxoffice.conf"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: boxoffice-fcgi [--config FILE] [--check-config]\n"
	    "       boxoffice-fcgi --version | --help\n"
	    "\n"
	    "  -c, --config FILE   configuration file (default %s)\n"
	    "  -t, --check-config  check the configuration and exit:\n"
	    "                      0 when valid, 1 with file:line: message\n"
	    "  -V, --version       print the version and exit\n"
	    "  -h, --help          print this help and exit\n"
	    "\n"
	    "Every key can be overridden with BOXOFFICE_<KEY>, e.g.\n"
	    "BOXOFFICE_WORKERS=4. Signals: HUP reload, QUIT graceful stop,\n"
	    "TERM fast stop, USR1 reopen the log.\n", DEFAULT_CONF);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check-config", no_argument, NULL, 't' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct bo_conf	*conf;
	const char	*path = DEFAULT_CONF;
	char		 err[512];
	int		 ch, check = 0, fd;

	while ((ch = getopt_long(argc, argv, "c:tVh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 't':
			check = 1;
			break;
		case 'V':
			printf("boxoffice-fcgi %s\n", VERSION);
			return (0);
		case 'h':
			usage(stdout);
			return (0);
		default:
			usage(stderr);
			return (1);
		}
	}
	if (optind != argc) {
		usage(stderr);
		return (1);
	}

	conf = xcalloc(1, sizeof *conf);
	if (conf_load(conf, path, err, sizeof err) == -1) {
		fprintf(stderr, "%s\n", err);
		free(conf);
		return (1);
	}
	if (check) {
		printf("%s: configuration OK\n", path);
		conf_free(conf);
		free(conf);
		return (0);
	}
	if (log_open(conf->log_file, (enum log_level)conf->log_level, err,
	    sizeof err) == -1) {
		fprintf(stderr, "boxoffice-fcgi: %s\n", err);
		return (1);
	}
	if (*conf->pid_file != '\0' &&
	    pidfile_write(conf->pid_file, err, sizeof err) == -1) {
		log_error("%s", err);
		return (1);
	}
	fd = listen_open(conf->listen, conf->listen_backlog, conf->socket_mode,
	    err, sizeof err);
	if (fd == -1) {
		log_error("cannot listen: %s", err);
		if (*conf->pid_file != '\0')
			unlink(conf->pid_file);
		return (1);
	}
	metrics_init();
	if (gc_init() == -1)
		log_warn("group commit off: cannot map its table: %s",
		    strerror(errno));
	return (master_run(conf, path, fd));
}
