/*
 * cpu_ratio: fails a test when a step's CPU time grows faster than its input.
 *
 * This is the one kind of timing assertion the unit tests make, and it is a
 * ratio on purpose.  An absolute time depends on the machine, the build
 * (AddressSanitizer is several times slower) and whatever else runs; the
 * ratio of the same step at two sizes, measured moments apart in the same
 * process, does not.  For ten times the input a linear step costs about ten
 * times as much and a quadratic one about a hundred times; the limit of 15
 * leaves room for the larger input missing the caches more often.
 *
 * The clock is this process's CPU time (CLOCK_PROCESS_CPUTIME_ID), which does
 * not count time spent waiting for a CPU on a busy machine.  After a run of
 * each size to warm up, the sizes are measured in turn, so that both see the
 * same load on the machine, and the best run of each counts: the test passes
 * as soon as the best times are within the limit, and fails after
 * CPU_RATIO_TRIES rounds that never were.  A run slowed by an interrupt or
 * by a neighbour thrashing the shared caches is thus outvoted.  A large run
 * over four times the limit is not noise: the test stops there rather than
 * repeat a step that may take seconds.
 *
 * glibc hands freed memory at the top of the heap back to the kernel once it
 * passes 128 KiB, and serves blocks past 128 KiB with mmap.  The large step's
 * memory then crosses those lines and the small step's does not, so only
 * the large step would fault its pages in again on every run: a constant
 * factor of two to five on a virtual machine, which says nothing of how the
 * step grows.  cpu_ratio_keep_memory keeps freed memory for reuse instead.
 */
#ifndef MCPD_TESTS_UNIT_CPU_RATIO_H
#define MCPD_TESTS_UNIT_CPU_RATIO_H

#include <malloc.h>
#include <math.h>
#include <time.h>

#define CPU_RATIO_LIMIT 15.0
#define CPU_RATIO_TRIES 10

static double
cpu_ratio_now(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) != 0)
		fail_msg("clock_gettime(CLOCK_PROCESS_CPUTIME_ID) failed");
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
cpu_ratio_keep_memory(void)
{
	int trim = mallopt(M_TRIM_THRESHOLD, 256 << 20);
	int map = mallopt(M_MMAP_THRESHOLD, 32 << 20);

#ifdef MCPD_SANITIZE
	/* The sanitizers' allocator refuses these knobs; it needs none. */
	(void)trim, (void)map;
#else
	if (trim != 1 || map != 1)
		fail_msg("mallopt would not keep freed memory for reuse");
#endif
}

/* CPU seconds of one step(arg). */
static double
cpu_ratio_time(void (*step)(void *), void *arg)
{
	double start = cpu_ratio_now();

	step(arg);
	return cpu_ratio_now() - start;
}

/*
 * Fails unless step(large), for an input of large_n units, costs at most
 * CPU_RATIO_LIMIT times step(small), for small_n = large_n / 10.
 */
static void
assert_cpu_linear(const char *what, void (*step)(void *), void *small, size_t small_n, void *large,
    size_t large_n)
{
	double t_small = HUGE_VAL, t_large = HUGE_VAL;

	if (large_n != 10 * small_n)
		fail_msg("the limit of %.0f is for ten times the input", CPU_RATIO_LIMIT);
	cpu_ratio_keep_memory();
	/* Unmeasured runs fault in the memory both sizes need and warm the caches. */
	step(small);
	step(large);
	for (int i = 0; i < CPU_RATIO_TRIES; i++) {
		double t;

		t_small = fmin(t_small, cpu_ratio_time(step, small));
		t = cpu_ratio_time(step, large);
		t_large = fmin(t_large, t);
		if (t_large <= CPU_RATIO_LIMIT * t_small || t > 4 * CPU_RATIO_LIMIT * t_small)
			break;
	}
	print_message("%s: %zu in %.2f ms, %zu in %.2f ms of CPU: ratio %.1f (limit %.0f)\n", what,
	    small_n, t_small * 1e3, large_n, t_large * 1e3, t_large / t_small, CPU_RATIO_LIMIT);
	if (!(t_large <= CPU_RATIO_LIMIT * t_small))
		fail_msg("%s grows faster than its input: %zu cost %.1f times %zu (limit %.0f)", what,
		    large_n, t_large / t_small, small_n, CPU_RATIO_LIMIT);
}

#endif
