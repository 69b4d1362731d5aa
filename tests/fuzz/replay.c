/*
 * replay.c: run a fuzz target's committed inputs as a Check suite.
 *
 * Built once per target (FUZZ_TARGET names it) with any compiler, so `make
 * check` replays tests/fuzz/corpus/<target>/ and tests/fuzz/regressions/
 * <target>/ on every build, the sanitizer build included: an input that
 * once crashed a target stays a test. Each file is one check, run in its own
 * process (CK_FORK), so a crash fails that input only.
 */
#include "config.h"

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

#define MAX_INPUTS	4096

static char	*inputs[MAX_INPUTS];
static int	 ninputs;

/* libFuzzer calls it when a target defines it; so do we. */
int LLVMFuzzerInitialize(int *, char ***) __attribute__((weak));

static void
collect(const char *dir)
{
	DIR		*d;
	struct dirent	*e;
	char		 path[4096];
	struct stat	 st;

	if ((d = opendir(dir)) == NULL) {
		if (errno != ENOENT) {
			perror(dir);
			exit(1);
		}
		return;
	}
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		if (stat(path, &st) == -1 || !S_ISREG(st.st_mode))
			continue;
		if (ninputs == MAX_INPUTS) {
			fprintf(stderr, "more than %d inputs\n", MAX_INPUTS);
			exit(1);
		}
		inputs[ninputs++] = strdup(path);
	}
	closedir(d);
}

static int
by_name(const void *a, const void *b)
{
	return (strcmp(*(char *const *)a, *(char *const *)b));
}

START_TEST(test_input)
{
	const char	*path = inputs[_i];
	FILE		*f;
	uint8_t		*buf;
	long		 len;

	f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
	ck_assert(fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) >= 0);
	rewind(f);
	/* A copy of exactly len bytes, so ASan sees any read past it. */
	buf = malloc(len > 0 ? (size_t)len : 1);
	ck_assert((long)fread(buf, 1, (size_t)len, f) == len);
	fclose(f);
	ck_assert_int_eq(LLVMFuzzerTestOneInput(buf, (size_t)len), 0);
	free(buf);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("fuzz_" FUZZ_TARGET);
	TCase	*tc = tcase_create("Replay");
	SRunner	*sr;
	int	 failed, i;

	collect(TOPSRCDIR "/tests/fuzz/corpus/" FUZZ_TARGET);
	collect(TOPSRCDIR "/tests/fuzz/regressions/" FUZZ_TARGET);
	if (ninputs == 0) {
		fprintf(stderr, "no inputs for %s\n", FUZZ_TARGET);
		return (EXIT_FAILURE);
	}
	qsort(inputs, (size_t)ninputs, sizeof inputs[0], by_name);
	if (LLVMFuzzerInitialize != NULL)
		LLVMFuzzerInitialize(NULL, NULL);
	tcase_add_loop_test(tc, test_input, 0, ninputs);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	for (i = 0; i < ninputs; i++)
		free(inputs[i]);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
