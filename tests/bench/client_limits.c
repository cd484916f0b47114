/*
 * bench-client-limits: what the per-client limits cost a request, in
 * nanoseconds of CPU.  It runs what a worker runs for a request with both
 * limits on (worker/http_limits.c): the clock, admission (the client's
 * keyed hash, its entry, the in-flight count and the bucket), the lease kept
 * in the request's h2o pool, and its release when the pool is cleared, less
 * the same pool work without them.  One
 * client in one process; 1000 clients in turn; one client shared by 4
 * processes at once, which contend for its entry as 4 workers do.  CPU
 * time, not wall time, so that other work on the machine counts less.  A
 * benchmark, not a test: `build/bench-client-limits` (ops/build werror).
 */
#define _GNU_SOURCE
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <h2o.h>

#include "common/client_limits.h"
#include "common/clock.h"

#define REQUESTS 4000000u
#define CLIENTS 1000
#define PROCESSES 4

static struct client_limits *table;
/* Set so high that every request passes: the cost of passing is what each request pays. */
static const struct client_limits_policy policy = {.interval_ns = 1000, .tolerance_ns = 1000000000000ULL,
	.concurrency = 1000000};
static char names[CLIENTS][40];

static double
cpu_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
on_disposed(void *data)
{
	client_limits_release(table, data);
}

/*
 * One request's pool: something allocated from it, as every request does,
 * and with `limited`, its admission and its lease, released as the pool is
 * cleared.  The cost of the limits is the difference between the two.
 */
static int
one_request(h2o_mem_pool_t *pool, bool limited, uint32_t column, const char *client)
{
	struct client_limits_result r;
	struct client_lease *held;

	*(volatile char *)h2o_mem_alloc_pool(pool, 64) = 1;
	if (limited) {
		client_limits_admit(table, &policy, column, client, strlen(client), now_ns(), &r);
		if (r.verdict != CLIENT_LIMITS_PASS)
			return -1;
		held = h2o_mem_alloc_shared(pool, sizeof(*held), on_disposed);
		*held = r.lease;
	}
	h2o_mem_clear_pool(pool);
	return 0;
}

/* Runs `n` requests of `clients` clients in turn from column `column`; returns CPU ns per request. */
static double
run_requests(bool limited, uint32_t column, int clients, unsigned n)
{
	h2o_mem_pool_t pool;
	double start = cpu_seconds();

	h2o_mem_init_pool(&pool);
	for (unsigned i = 0; i < n; i++)
		if (one_request(&pool, limited, column, names[i % (unsigned)clients]) < 0) {
			fprintf(stderr, "bench-client-limits: request %u refused\n", i);
			return -1;
		}
	return (cpu_seconds() - start) * 1e9 / n;
}

/* What the limits add to a request: with them, less the same pool work without. */
static double
run(uint32_t column, int clients, unsigned n)
{
	double with = run_requests(true, column, clients, n), without = run_requests(false, column, clients, n);

	return with < 0 ? -1 : with - without;
}

/* PROCESSES processes on one client at once; returns their mean CPU ns per request. */
static double
contended(void)
{
	double *each = mmap(NULL, sizeof(double) * PROCESSES, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	double sum = 0;

	if (each == MAP_FAILED)
		return -1;
	for (int p = 0; p < PROCESSES; p++) {
		pid_t pid = fork();

		if (pid < 0)
			return -1;
		if (pid == 0) {
			each[p] = run((uint32_t)p, 1, REQUESTS / PROCESSES);
			_exit(each[p] < 0);
		}
	}
	for (int p = 0; p < PROCESSES; p++) {
		int status;

		if (wait(&status) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
			return -1;
	}
	for (int p = 0; p < PROCESSES; p++)
		sum += each[p];
	munmap(each, sizeof(double) * PROCESSES);
	return sum / PROCESSES;
}

int
main(void)
{
	int fd = client_limits_create(PROCESSES);
	double one, many, shared;

	table = fd >= 0 ? client_limits_map(fd, PROCESSES) : NULL;
	if (table == NULL) {
		perror("bench-client-limits: the table");
		return 1;
	}
	for (int c = 0; c < CLIENTS; c++)
		snprintf(names[c], sizeof(names[c]), "4e5f6a7b8c9d0e1f2a3b4c%04d", c);
	(void)run(0, CLIENTS, REQUESTS / 8);	/* warm up: the clients' entries exist */
	one = run(0, 1, REQUESTS);
	many = run(0, CLIENTS, REQUESTS);
	shared = contended();
	if (one < 0 || many < 0 || shared < 0)
		return 1;
	printf("per-client limits per request (CPU): %.1f ns one client, %.1f ns %d clients in turn, "
	    "%.1f ns one client from %d processes at once (%u requests each run)\n", one, many, CLIENTS, shared,
	    PROCESSES, REQUESTS);
	client_limits_unmap(table, PROCESSES);
	close(fd);
	return 0;
}
