/*
 * fuzz_conf.c: the configuration file parser (conf.c), then the checks a
 * start-up and a reload run on what it parsed.
 *
 * Input: the file's bytes, then optionally a line "%%env" and "KEY=value"
 * lines that become BOXOFFICE_<KEY> variables for conf_load(). The file is
 * written to a memfd and read back through its /proc/self/fd path, so the
 * real fopen()/fgets() path runs without touching the disk.
 */
#include "config.h"

#include <stdbool.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "conf.h"
#include "fuzz.h"

static int	memfd = -1;
static char	path[64];

/* BOXOFFICE_<KEY> of every key, upper-cased, into buf. */
static void
env_name(char *buf, size_t len, const char *key)
{
	size_t	i;

	snprintf(buf, len, "BOXOFFICE_%s", key);
	for (i = sizeof "BOXOFFICE_" - 1; buf[i] != '\0'; i++)
		if (buf[i] >= 'a' && buf[i] <= 'z')
			buf[i] -= 'a' - 'A';
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const struct conf_key	*keys;
	char			 name[64];
	size_t			 nkeys, i;

	/* conf_keep_restart_keys() warns about every restart-only change. */
	fuzz_quiet_log();
	/* Only the input sets the environment (scripts/test exports some). */
	keys = conf_keys(&nkeys);
	for (i = 0; i < nkeys; i++) {
		env_name(name, sizeof name, keys[i].name);
		unsetenv(name);
	}
	if ((memfd = memfd_create("fuzz_conf", 0)) == -1) {
		perror("memfd_create");
		exit(1);
	}
	snprintf(path, sizeof path, "/proc/self/fd/%d", memfd);
	return (0);
}

#define ENV_MARK	"\n%%env\n"
#define MAX_ENV		8

/* Set "KEY=value" lines as BOXOFFICE_KEY; names[] gets what to unset. */
static int
set_env(const char *text, size_t len, char names[][64])
{
	char	*copy = strndup(text, len), *line, *save = NULL, *eq;
	int	 n = 0;

	for (line = strtok_r(copy, "\n", &save); line != NULL && n < MAX_ENV;
	    line = strtok_r(NULL, "\n", &save)) {
		if ((eq = strchr(line, '=')) == NULL || eq == line ||
		    eq - line > 40)
			continue;
		*eq = '\0';
		env_name(names[n], 64, line);
		if (setenv(names[n], eq + 1, 1) == 0)
			n++;
	}
	free(copy);
	return (n);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bo_conf	 c, old;
	char		 err[512], names[MAX_ENV][64];
	const uint8_t	*mark;
	size_t		 off = 0, envlen = 0;
	ssize_t		 n;
	int		 nenv = 0, i;

	if (memfd == -1)
		LLVMFuzzerInitialize(NULL, NULL);
	mark = memmem(data, size, ENV_MARK, sizeof ENV_MARK - 1);
	if (mark != NULL) {
		envlen = size - (size_t)(mark - data) - (sizeof ENV_MARK - 1);
		size = (size_t)(mark - data) + 1;
	}
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

	/* Defaults, file, environment and checks in one step, as at start. */
	if (mark != NULL)
		nenv = set_env((const char *)mark + sizeof ENV_MARK - 1,
		    envlen, names);
	err[0] = '\0';
	if (conf_load(&c, path, err, sizeof err) == 0) {
		FUZZ_ASSERT(conf_validate(&c, err, sizeof err) == 0);
		conf_free(&c);
	} else
		FUZZ_ASSERT(err[0] != '\0');
	for (i = 0; i < nenv; i++)
		unsetenv(names[i]);
	return (0);
}
