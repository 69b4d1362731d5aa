/*
 * fuzz_conf.c: the configuration file parser (conf.c), then the checks a
 * start-up and a reload run on what it parsed.
 *
 * Input: the file's bytes. They are written to a memfd and read back through
 * its /proc/self/fd path, so the real fopen()/fgets() path runs without
 * touching the disk.
 */
#include "config.h"

#include <stdbool.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "conf.h"
#include "log.h"
#include "fuzz.h"

static int	memfd = -1;
static char	path[64];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	/* conf_keep_restart_keys() warns about every restart-only change. */
	log_set_level(LOG_LVL_ERROR);
	if ((memfd = memfd_create("fuzz_conf", 0)) == -1) {
		perror("memfd_create");
		exit(1);
	}
	snprintf(path, sizeof path, "/proc/self/fd/%d", memfd);
	return (0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bo_conf	 c, old;
	char		 err[512];
	size_t		 off = 0;
	ssize_t		 n;

	if (memfd == -1)
		LLVMFuzzerInitialize(NULL, NULL);
	FUZZ_ASSERT(ftruncate(memfd, 0) == 0);
	while (off < size) {
		n = pwrite(memfd, data + off, size - off, (off_t)off);
		FUZZ_ASSERT(n > 0);
		off += (size_t)n;
	}

	conf_defaults(&c);
	err[0] = '\0';
	if (conf_load_file(&c, path, err, sizeof err) == -1) {
		/* Errors name the file and the line: "path:line: message". */
		FUZZ_ASSERT(strncmp(err, path, strlen(path)) == 0);
		FUZZ_ASSERT(err[strlen(path)] == ':');
	} else {
		FUZZ_ASSERT(c.path != NULL && strcmp(c.path, path) == 0);
		FUZZ_ASSERT(c.workers >= 1 && c.workers <= 1024);
		FUZZ_ASSERT(c.listen != NULL && c.mysql_host != NULL);
		if (conf_validate(&c, err, sizeof err) == -1)
			FUZZ_ASSERT(err[0] != '\0');
		/* A reload keeps the running restart-only values. */
		conf_defaults(&old);
		conf_keep_restart_keys(&c, &old);
		FUZZ_ASSERT(strcmp(c.listen, old.listen) == 0);
		FUZZ_ASSERT(c.listen_backlog == old.listen_backlog);
		conf_free(&old);
	}
	conf_free(&c);
	return (0);
}
