#define _GNU_SOURCE	/* F_GET_SEALS; before any header */
/*
 * Unit tests for common/counters.c: the region (size, seals, shared across
 * fork with one writer per block) and the label sets (every status, method
 * and duration, outbound ones included, lands where the exposition expects
 * it).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/counters.h"
#include "worker/rpc.h"

static void
region_is_sized_and_sealed(void **state)
{
	int fd = counters_region_create(3);
	struct stat st;

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_size, (off_t)COUNTERS_BLOCKS(3) * COUNTERS_BLOCK_SIZE);
	assert_int_equal(COUNTERS_BLOCKS(3), 8);
	/* Nobody can shrink it under a reader's mapping. */
	assert_int_equal(ftruncate(fd, 0), -1);
	assert_true(fcntl(fd, F_GET_SEALS) & F_SEAL_SHRINK);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	close(fd);
}

/* A child writes its block; the parent, mapped separately, reads what it wrote. */
static void
blocks_are_shared_across_fork(void **state)
{
	int fd = counters_region_create(2), status;
	union counters_block *parent = counters_map(fd, 2);
	pid_t pid;

	(void)state;
	assert_non_null(parent);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		union counters_block *mine = counters_map(fd, 2);
		struct worker_counters *w = &mine[COUNTERS_WORKER_BLOCK(1, 1)].worker;

		for (int i = 0; i < 1000; i++)
			counter_add(&w->http_status[STATUS_200], 1);
		counter_set(&w->gate.open_connections, 7);
		/* The far end of the region's last block. */
		counter_add(&w->egress.requests[COUNTERS_MAX_TOOLS][EGRESS_WIRE_OUTCOME_COUNT - 1], 3);
		counter_add(&w->egress.duration_sum_us, 5);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(counter_get(&parent[COUNTERS_WORKER_BLOCK(1, 1)].worker.http_status[STATUS_200]), 1000);
	assert_int_equal(counter_get(&parent[COUNTERS_WORKER_BLOCK(1, 1)].worker.gate.open_connections), 7);
	assert_int_equal(counter_get(&parent[COUNTERS_WORKER_BLOCK(1, 1)].worker.egress.requests[COUNTERS_MAX_TOOLS]
	    [EGRESS_WIRE_OUTCOME_COUNT - 1]), 3);
	assert_int_equal(counter_get(&parent[COUNTERS_WORKER_BLOCK(1, 1)].worker.egress.duration_sum_us), 5);
	/* The other blocks stayed zero. */
	assert_int_equal(counter_get(&parent[COUNTERS_WORKER_BLOCK(1, 0)].worker.http_status[STATUS_200]), 0);
	assert_int_equal(counter_get(&parent[COUNTERS_WORKER_BLOCK(0, 1)].worker.http_status[STATUS_200]), 0);
	counters_unmap(parent, 2);
	close(fd);
}

static void
block_indexes_do_not_overlap(void **state)
{
	(void)state;
	assert_int_equal(COUNTERS_SUPERVISOR_BLOCK, 0);
	assert_int_equal(COUNTERS_FETCHER_BLOCK, 1);
	assert_int_equal(COUNTERS_WORKER_BLOCK(0, 0), 2);
	assert_int_equal(COUNTERS_WORKER_BLOCK(0, 1), 3);
	assert_int_equal(COUNTERS_WORKER_BLOCK(4, 1), 11);
	assert_int_equal(COUNTERS_WORKER_BLOCK(4, 1), (int)COUNTERS_BLOCKS(5) - 1);
	assert_int_equal(sizeof(union counters_block), COUNTERS_BLOCK_SIZE);
}

static void
egress_durations_fall_in_their_bucket(void **state)
{
	(void)state;
	assert_int_equal(counters_egress_bucket_of(0), 0);
	assert_int_equal(counters_egress_bucket_of(1000), 0);	/* le="0.001" */
	assert_int_equal(counters_egress_bucket_of(1001), 1);
	assert_int_equal(counters_egress_bucket_of(10000000), 12);	/* a 10 s default deadline */
	assert_int_equal(counters_egress_bucket_of(60000000), N_EGRESS_DURATION_BUCKETS - 2);
	assert_int_equal(counters_egress_bucket_of(60000001), N_EGRESS_DURATION_BUCKETS - 1);
	assert_int_equal(counters_egress_bucket_of(UINT64_MAX), N_EGRESS_DURATION_BUCKETS - 1);
	for (size_t b = 1; b + 1 < N_EGRESS_DURATION_BUCKETS; b++)
		assert_true(counters_egress_duration_bounds_us[b] > counters_egress_duration_bounds_us[b - 1]);
}

static void
statuses_map_to_their_code(void **state)
{
	(void)state;
	for (int s = 0; s < STATUS_OTHER; s++)
		assert_int_equal(counters_status_of(counters_status_codes[s]), s);
	assert_int_equal(counters_status_of(200), STATUS_200);
	assert_int_equal(counters_status_of(503), STATUS_503);
	assert_int_equal(counters_status_of(418), STATUS_OTHER);
	assert_int_equal(counters_status_of(0), STATUS_OTHER);
	assert_int_equal(counters_status_of(-1), STATUS_OTHER);
}

/* Every method mcpd serves has its own label, and the label names a method mcpd serves. */
static void
methods_have_labels(void **state)
{
	(void)state;
	for (int m = 0; m < METHOD_NOTIFICATION; m++) {
		assert_int_equal(counters_method_of(counters_method_names[m]), m);
		assert_true(methods_find(counters_method_names[m], false) != NULL ||
		    methods_find(counters_method_names[m], true) != NULL);
	}
	assert_int_equal(counters_method_of("notifications/initialized"), METHOD_NOTIFICATION);
	assert_int_equal(counters_method_of("notifications/cancelled"), METHOD_NOTIFICATION);
	assert_int_equal(counters_method_of("notifications"), METHOD_OTHER);
	assert_int_equal(counters_method_of("tools/cal"), METHOD_OTHER);
	assert_int_equal(counters_method_of("tools/calls"), METHOD_OTHER);
	assert_int_equal(counters_method_of(""), METHOD_OTHER);
}

static void
durations_fall_in_their_bucket(void **state)
{
	(void)state;
	assert_int_equal(counters_bucket_of(0), 0);
	assert_int_equal(counters_bucket_of(50), 0);	/* upper bounds are inclusive (le) */
	assert_int_equal(counters_bucket_of(51), 1);
	assert_int_equal(counters_bucket_of(1000), 4);
	assert_int_equal(counters_bucket_of(1000000), N_DURATION_BUCKETS - 2);
	assert_int_equal(counters_bucket_of(1000001), N_DURATION_BUCKETS - 1);
	assert_int_equal(counters_bucket_of(UINT64_MAX), N_DURATION_BUCKETS - 1);
	for (size_t b = 1; b + 1 < N_DURATION_BUCKETS; b++)
		assert_true(counters_duration_bounds_us[b] > counters_duration_bounds_us[b - 1]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(region_is_sized_and_sealed),
		cmocka_unit_test(blocks_are_shared_across_fork),
		cmocka_unit_test(block_indexes_do_not_overlap),
		cmocka_unit_test(statuses_map_to_their_code),
		cmocka_unit_test(methods_have_labels),
		cmocka_unit_test(durations_fall_in_their_bucket),
		cmocka_unit_test(egress_durations_fall_in_their_bucket),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
