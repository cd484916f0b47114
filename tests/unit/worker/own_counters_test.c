/*
 * Unit tests for worker/own_counters.c: a worker's outbound requests are
 * counted in its own block, by tool and outcome and in the duration
 * histogram, a replacement goes on from its predecessor's counts, and a
 * tool index or outcome out of range lands in a row the exposition names
 * rather than outside the table.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/metrics.h"
#include "worker/own_counters.h"

#define WORKERS 2

/* The requests of every tool and outcome of a block. */
static uint64_t
requests_counted(const struct counters_egress *e)
{
	uint64_t n = 0;

	for (size_t t = 0; t <= COUNTERS_MAX_TOOLS; t++)
		for (size_t o = 0; o < EGRESS_WIRE_OUTCOME_COUNT; o++)
			n += counter_get(&e->requests[t][o]);
	return n;
}

static uint64_t
histogram_count(const struct counters_egress *e)
{
	uint64_t n = 0;

	for (size_t b = 0; b < N_EGRESS_DURATION_BUCKETS; b++)
		n += counter_get(&e->duration_bucket[b]);
	return n;
}

/* Before a region is attached (unit tests, fuzz drivers) counting still works, privately. */
static void
counts_before_attach_go_to_a_private_block(void **state)
{
	const struct counters_egress *e = &own_counters->egress;

	(void)state;
	egress_counted(2, EGRESS_WIRE_OUTCOME_OK, 1500);
	assert_int_equal(counter_get(&e->requests[2][EGRESS_WIRE_OUTCOME_OK]), 1);
	assert_int_equal(counter_get(&e->duration_bucket[1]), 1);	/* 1 ms < 1.5 ms <= 2.5 ms */
	assert_int_equal(counter_get(&e->duration_sum_us), 1500);
}

/*
 * The attached block holds the counts, where the metrics process finds
 * them; a replacement continues its dead predecessor's counts.
 */
static void
counts_land_in_the_attached_block(void **state)
{
	int fd = counters_region_create(WORKERS);
	union counters_block *blocks = counters_map(fd, WORKERS);
	struct worker_counters *mine;
	static struct metrics_totals totals;

	(void)state;
	assert_non_null(blocks);
	mine = &blocks[COUNTERS_WORKER_BLOCK(1, 1)].worker;
	counter_add(&mine->egress.requests[0][EGRESS_WIRE_OUTCOME_TIMEOUT], 4);	/* the predecessor's */
	counter_add(&mine->egress.duration_bucket[N_EGRESS_DURATION_BUCKETS - 1], 4);
	own_counters_attach(mine);
	egress_counted(0, EGRESS_WIRE_OUTCOME_TIMEOUT, 10000000);
	egress_counted(0, EGRESS_WIRE_OUTCOME_OK, 800);
	egress_counted(3, EGRESS_WIRE_OUTCOME_REFUSED_DESTINATION, 0);
	own_counters_detach();
	egress_counted(0, EGRESS_WIRE_OUTCOME_OK, 800);	/* private again: not in the region */
	metrics_sum(blocks, WORKERS, &totals);
	assert_int_equal(totals.egress.requests[0][EGRESS_WIRE_OUTCOME_TIMEOUT], 5);
	assert_int_equal(totals.egress.requests[0][EGRESS_WIRE_OUTCOME_OK], 1);
	assert_int_equal(totals.egress.requests[3][EGRESS_WIRE_OUTCOME_REFUSED_DESTINATION], 1);
	assert_int_equal(totals.egress.duration_bucket[counters_egress_bucket_of(800)], 2);	/* 800 and 0 */
	assert_int_equal(totals.egress.duration_bucket[counters_egress_bucket_of(10000000)], 1);
	assert_int_equal(totals.egress.duration_sum_us, 10000800);
	/* The histogram holds every request the table does. */
	assert_int_equal(requests_counted(&totals.egress), 7);
	assert_int_equal(histogram_count(&totals.egress), 7);
	counters_unmap(blocks, WORKERS);
	close(fd);
}

/* A bad index or outcome is still one request, in a row the exposition names. */
static void
out_of_range_counts_as_unknown_and_internal(void **state)
{
	const struct counters_egress *e = &own_counters->egress;
	uint64_t before = requests_counted(e);

	(void)state;
	egress_counted(COUNTERS_MAX_TOOLS, EGRESS_WIRE_OUTCOME_OK, 1);
	egress_counted(COUNTERS_MAX_TOOLS + 1, EGRESS_WIRE_OUTCOME_OK, 1);
	egress_counted(SIZE_MAX, EGRESS_WIRE_OUTCOME_OK, 1);
	assert_int_equal(counter_get(&e->requests[COUNTERS_MAX_TOOLS][EGRESS_WIRE_OUTCOME_OK]), 3);
	egress_counted(1, EGRESS_WIRE_OUTCOME_COUNT, 1);
	egress_counted(1, (enum egress_wire_outcome)999, 1);
	egress_counted(1, (enum egress_wire_outcome)-1, 1);
	assert_int_equal(counter_get(&e->requests[1][EGRESS_WIRE_OUTCOME_INTERNAL]), 3);
	assert_int_equal(requests_counted(e), before + 6);
	assert_int_equal(histogram_count(e), requests_counted(e));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(counts_before_attach_go_to_a_private_block),
		cmocka_unit_test(counts_land_in_the_attached_block),
		cmocka_unit_test(out_of_range_counts_as_unknown_and_internal),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
