/*
 * fail: the failure convention of start-up, configuration and input from
 * outside.  A call that fails there returns -1 (or NULL) and writes a
 * one-line reason into its caller's buffer (`char *err, size_t errlen`, or
 * `why` for what a remote party sent); the caller logs it once, or prints it
 * and exits.
 */
#ifndef MCPD_COMMON_FAIL_H
#define MCPD_COMMON_FAIL_H

#include <stddef.h>

/**
 * Writes the printf-style reason into `err` (nothing when err is NULL or
 * errlen 0; cut to errlen - 1 bytes) and returns -1, so that a failing path
 * reads `return fail_because(err, errlen, "...", ...);`.
 */
int fail_because(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
