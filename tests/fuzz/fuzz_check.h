/*
 * fuzz_check: a broken promise of the code under test, reported as a crash
 * so that libFuzzer keeps the input.
 */
#ifndef MCPD_TESTS_FUZZ_CHECK_H
#define MCPD_TESTS_FUZZ_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#define FUZZ_CHECK(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
		abort(); \
	} \
} while (0)

#endif
