/* Runs in: workers, after the sandbox. */
/* scope: is a scope in a space-separated list?  See scope.h. */
#include <string.h>

#include "worker/scope.h"

bool
scope_list_has(const char *granted, const char *want)
{
	size_t n = strlen(want);

	for (const char *p = granted; *p != '\0';) {
		size_t len = strcspn(p, " ");

		if (len == n && memcmp(p, want, n) == 0)
			return true;
		p += len;
		p += strspn(p, " ");
	}
	return false;
}
