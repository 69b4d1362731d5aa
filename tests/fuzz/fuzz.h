/*
 * fuzz.h: what every target in tests/fuzz shares.
 *
 * Each fuzz_<name>.c defines LLVMFuzzerTestOneInput (and may define
 * LLVMFuzzerInitialize). The same file links against libFuzzer's main in a
 * clang --enable-fuzzing build (scripts/fuzz), and against replay.c in every
 * build, where `make check` runs the committed corpus and regression inputs
 * through it.
 *
 * FUZZ_ASSERT states an invariant of the code under test: breaking it
 * aborts, which libFuzzer reports as a crash and replay.c as an error.
 */
#ifndef BO_FUZZ_H
#define BO_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "log.h"

int	 LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int	 LLVMFuzzerInitialize(int *argc, char ***argv);

/* Errors only, to stderr: the code under test warns about what it refuses. */
static inline void
fuzz_quiet_log(void)
{
	char	err[256];

	if (log_open(NULL, LOG_LVL_ERROR, err, sizeof err) == -1) {
		fprintf(stderr, "log_open: %s\n", err);
		exit(1);
	}
}

#define FUZZ_ASSERT(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: invariant broken: %s\n",	\
		    __FILE__, __LINE__, #cond);				\
		abort();						\
	}								\
} while (0)

#endif
