/*
 * address_limit: runs a step with little address space to spare, so that its
 * large allocations fail as they would on a machine short of memory.
 *
 * The step must not assert: a failed assertion would leave the limit in
 * place for the tests after it.  It records what happened; the test checks
 * that once the limit is lifted.  AddressSanitizer reserves terabytes of
 * address space for its shadow memory up front, so sanitized builds skip:
 * a test calls address_limit_require before it allocates anything.
 */
#ifndef MCPD_TESTS_UNIT_ADDRESS_LIMIT_H
#define MCPD_TESTS_UNIT_ADDRESS_LIMIT_H

#include <stdio.h>
#include <sys/resource.h>
#include <unistd.h>

#ifndef MCPD_SANITIZE
/* Bytes of address space this process has mapped now. */
static size_t
address_limit_mapped(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	unsigned long pages = 0;
	int n;

	if (f == NULL)
		fail_msg("cannot open /proc/self/statm");
	n = fscanf(f, "%lu", &pages);
	fclose(f);
	if (n != 1)
		fail_msg("cannot read /proc/self/statm");
	return pages * (size_t)sysconf(_SC_PAGESIZE);
}
#endif

/* Skips the calling test where the address space cannot be limited. */
static void
address_limit_require(void)
{
#ifdef MCPD_SANITIZE
	skip();
#endif
}

/* Runs step(arg) with `headroom` bytes of address space beyond what is mapped. */
static void
address_limit_run(void (*step)(void *), void *arg, size_t headroom)
{
	struct rlimit saved, tight;

#ifdef MCPD_SANITIZE
	(void)step, (void)arg, (void)headroom, (void)saved, (void)tight;
	fail_msg("no address space limit under the sanitizers: call address_limit_require first");
#else
	if (getrlimit(RLIMIT_AS, &saved) != 0)
		fail_msg("getrlimit(RLIMIT_AS) failed");
	tight = saved;
	tight.rlim_cur = address_limit_mapped() + headroom;
	if (saved.rlim_cur != RLIM_INFINITY && saved.rlim_cur < tight.rlim_cur)
		tight.rlim_cur = saved.rlim_cur;
	if (setrlimit(RLIMIT_AS, &tight) != 0)
		fail_msg("setrlimit(RLIMIT_AS) failed");
	step(arg);
	if (setrlimit(RLIMIT_AS, &saved) != 0)
		fail_msg("cannot restore RLIMIT_AS");
#endif
}

#endif
