/* Runs in: every process, on a failure path. See fail.h. */
#include "common/fail.h"

#include <stdarg.h>
#include <stdio.h>

int
fail_because(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return -1;
	va_start(ap, fmt);
	(void)vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}
