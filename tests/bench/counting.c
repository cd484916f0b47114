/*
 * bench-counting: what counting costs a request, in nanoseconds.  It runs
 * the calls a served tools/call makes into the worker's counter block
 * (status, duration bucket and sum, bytes in and out, JSON-RPC method, tool)
 * ten million times over varied inputs and prints the time per request.
 * A benchmark, not a test: `build/bench-counting` (ops/build werror).
 */
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "worker/own_counters.h"

#define REQUESTS 10000000u

/* Inputs that vary like a real mix, read through volatile so nothing folds. */
static volatile int statuses[4] = {200, 200, 202, 401};
static volatile uint64_t durations_us[8] = {40, 90, 120, 180, 260, 700, 1500, 30000};
static const char *volatile methods[4] = {"tools/call", "tools/call", "tools/list", "ping"};

static double
seconds_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
count_one(unsigned i)
{
	uint64_t us = durations_us[i & 7];

	counter_add(&own_counters->http_status[counters_status_of(statuses[i & 3])], 1);
	counter_add(&own_counters->duration_bucket[counters_bucket_of(us)], 1);
	counter_add(&own_counters->duration_sum_us, us);
	counter_add(&own_counters->bytes_received, 118);
	counter_add(&own_counters->bytes_sent, 250);
	counter_add(&own_counters->rpc_method[counters_method_of(methods[i & 3])], 1);
	counter_add(&own_counters->tool_calls[i & 1], 1);
}

int
main(void)
{
	double start = seconds_now(), elapsed;

	for (unsigned i = 0; i < REQUESTS; i++)
		count_one(i);
	elapsed = seconds_now() - start;
	if (counter_get(&own_counters->duration_sum_us) == 0) {
		fprintf(stderr, "bench-counting: nothing was counted\n");
		return 1;
	}
	printf("counting per request: %.1f ns (%u requests in %.3f s)\n",
	    elapsed * 1e9 / REQUESTS, REQUESTS, elapsed);
	return 0;
}
