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

int	 LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int	 LLVMFuzzerInitialize(int *argc, char ***argv);

#define FUZZ_ASSERT(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: invariant broken: %s\n",	\
		    __FILE__, __LINE__, #cond);				\
		abort();						\
	}								\
} while (0)

#endif
