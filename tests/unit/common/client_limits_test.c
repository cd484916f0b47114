#define _GNU_SOURCE	/* F_GET_SEALS, memfd_create; before any header */
/*
 * Unit tests for common/client_limits.c: the bucket's arithmetic, the
 * policy a configuration gives, the shared table (one client limited while
 * another is not, the in-flight cap, a dead worker's share reclaimed, what
 * a full table does), and the counts staying exact when several processes
 * admit at once.  Time is passed in, so nothing here waits.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/client_limits.h"

#define COLUMNS 4
#define SEC 1000000000ULL
/* A moment well past 0, so that "before now" exists. */
#define T0 (1000 * SEC)

struct fixture {
	int fd;
	struct client_limits *t;
};

static int
setup(void **state)
{
	static struct fixture f;

	f.fd = client_limits_create(COLUMNS);
	f.t = f.fd >= 0 ? client_limits_map(f.fd, COLUMNS) : NULL;
	*state = &f;
	return f.t == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	client_limits_unmap(f->t, COLUMNS);
	close(f->fd);
	return 0;
}

/* RATE a second, BURST at once, and a cap (0: none). */
static struct client_limits_policy
policy(uint64_t rate, uint64_t burst, uint32_t cap)
{
	struct client_limits_policy p = {.concurrency = cap};

	if (rate > 0) {
		p.interval_ns = SEC / rate;
		p.tolerance_ns = burst * p.interval_ns;
	}
	return p;
}

static enum client_limits_verdict
admit(struct fixture *f, const struct client_limits_policy *p, uint32_t column, const char *client,
    uint64_t now, struct client_limits_result *r)
{
	struct client_limits_result local;

	if (r == NULL)
		r = &local;
	client_limits_admit(f->t, p, column, client, strlen(client), now, r);
	return r->verdict;
}

static void
bucket_gives_burst_then_one_per_interval(void **state)
{
	struct client_limits_policy p = policy(10, 3, 0);	/* 100 ms a token, 3 at once */
	uint64_t tat = 0, next, wait = 0;

	(void)state;
	for (int i = 0; i < 3; i++) {
		assert_true(client_limits_bucket_take(tat, T0, &p, &next, &wait));
		tat = next;
	}
	assert_false(client_limits_bucket_take(tat, T0, &p, &next, &wait));
	assert_int_equal(wait, 100000000);
	/* One interval on, one token is back, and only one. */
	assert_true(client_limits_bucket_take(tat, T0 + wait, &p, &next, &wait));
	tat = next;
	assert_false(client_limits_bucket_take(tat, T0 + 100000000, &p, &next, &wait));
	/* Idle long enough, the bucket is full again, never fuller. */
	for (int i = 0; i < 3; i++) {
		assert_true(client_limits_bucket_take(tat, T0 + 10 * SEC, &p, &next, &wait));
		tat = next;
	}
	assert_false(client_limits_bucket_take(tat, T0 + 10 * SEC, &p, &next, &wait));
}

static void
bucket_passes_exactly_rate_times_time(void **state)
{
	struct client_limits_policy p = policy(50, 5, 0);
	uint64_t tat = 0, next, wait, passed = 0;

	(void)state;
	/* A client asking every millisecond for 10 s gets 5 + 50 x 10. */
	for (uint64_t ms = 0; ms <= 10000; ms++) {
		if (client_limits_bucket_take(tat, T0 + ms * 1000000, &p, &next, &wait)) {
			tat = next;
			passed++;
		}
	}
	assert_int_equal(passed, 5 + 50 * 10);
}

static void
policy_follows_the_configuration(void **state)
{
	struct config cfg = {.client_rate_limit = {.rate_milli = 500, .burst = 5}, .client_concurrency = 0};
	struct client_limits_policy p;

	(void)state;
	assert_true(client_limits_wanted(&cfg));
	client_limits_policy_of(&cfg, &p);
	assert_int_equal(p.interval_ns, 2 * SEC);
	assert_int_equal(p.tolerance_ns, 10 * SEC);
	assert_int_equal(p.concurrency, 0);
	cfg = (struct config){.client_concurrency = 4};
	assert_true(client_limits_wanted(&cfg));
	client_limits_policy_of(&cfg, &p);
	assert_int_equal(p.interval_ns, 0);
	assert_int_equal(p.concurrency, 4);
	cfg = (struct config){0};
	assert_false(client_limits_wanted(&cfg));
}

static void
region_is_sealed_and_checked(void **state)
{
	struct fixture *f = *state;
	int other = memfd_create("not-limits", MFD_CLOEXEC);

	assert_int_equal(ftruncate(f->fd, 0), -1);
	assert_true(fcntl(f->fd, F_GETFD) & FD_CLOEXEC);
	/* The wrong column count or a foreign memfd is refused, not mapped. */
	errno = 0;
	assert_null(client_limits_map(f->fd, COLUMNS + 1));
	assert_int_equal(errno, EINVAL);
	assert_true(other >= 0);
	assert_int_equal(ftruncate(other, (off_t)client_limits_size(COLUMNS)), 0);
	errno = 0;
	assert_null(client_limits_map(other, COLUMNS));
	assert_int_equal(errno, EINVAL);
	close(other);
}

static void
one_client_limited_while_another_is_not(void **state)
{
	struct fixture *f = *state;
	struct client_limits_policy p = policy(1, 2, 0);
	struct client_limits_result r;

	assert_int_equal(admit(f, &p, 0, "app-a", T0, NULL), CLIENT_LIMITS_PASS);
	assert_int_equal(admit(f, &p, 1, "app-a", T0, NULL), CLIENT_LIMITS_PASS);
	assert_int_equal(admit(f, &p, 2, "app-a", T0 + 1, &r), CLIENT_LIMITS_RATE);
	assert_int_equal(r.retry_after_s, 1);
	assert_int_equal(r.lease.entry, -1);
	assert_int_equal(admit(f, &p, 0, "app-b", T0 + 1, NULL), CLIENT_LIMITS_PASS);
	/* A refusal spends nothing: a second later there is exactly one token. */
	assert_int_equal(admit(f, &p, 0, "app-a", T0 + SEC, NULL), CLIENT_LIMITS_PASS);
	assert_int_equal(admit(f, &p, 0, "app-a", T0 + SEC, NULL), CLIENT_LIMITS_RATE);
	/* Ids that differ only in length or a byte are other clients. */
	assert_int_equal(admit(f, &p, 0, "app-a ", T0 + SEC, NULL), CLIENT_LIMITS_PASS);
	assert_int_equal(admit(f, &p, 0, "app-A", T0 + SEC, NULL), CLIENT_LIMITS_PASS);
}

static void
retry_after_rounds_the_wait_up(void **state)
{
	struct fixture *f = *state;
	struct client_limits_policy p = policy(0, 0, 0);
	struct client_limits_result r;

	p.interval_ns = 2500 * 1000000ULL;	/* 0.4 a second */
	p.tolerance_ns = p.interval_ns;
	assert_int_equal(admit(f, &p, 0, "slow", T0, NULL), CLIENT_LIMITS_PASS);
	assert_int_equal(admit(f, &p, 0, "slow", T0, &r), CLIENT_LIMITS_RATE);
	assert_int_equal(r.retry_after_s, 3);
}

static void
concurrency_cap_holds_until_release(void **state)
{
	struct fixture *f = *state;
	struct client_limits_policy p = policy(0, 0, 2);
	struct client_limits_result a, b, c;

	assert_int_equal(admit(f, &p, 0, "busy", T0, &a), CLIENT_LIMITS_PASS);
	assert_int_equal(admit(f, &p, 1, "busy", T0, &b), CLIENT_LIMITS_PASS);
	assert_true(a.lease.entry >= 0);
	assert_int_equal(admit(f, &p, 2, "busy", T0, &c), CLIENT_LIMITS_CONCURRENCY);
	assert_int_equal(c.retry_after_s, 1);
	assert_int_equal(admit(f, &p, 2, "calm", T0, NULL), CLIENT_LIMITS_PASS);
	client_limits_release(f->t, &a.lease);
	assert_int_equal(a.lease.entry, -1);
	client_limits_release(f->t, &a.lease);	/* a second release does nothing */
	assert_int_equal(admit(f, &p, 2, "busy", T0, &c), CLIENT_LIMITS_PASS);
	assert_int_equal(admit(f, &p, 2, "busy", T0, NULL), CLIENT_LIMITS_CONCURRENCY);
}

static void
cap_refusal_spends_no_token(void **state)
{
	struct fixture *f = *state;
	struct client_limits_policy p = policy(1, 2, 1);
	struct client_limits_result a;

	assert_int_equal(admit(f, &p, 0, "both", T0, &a), CLIENT_LIMITS_PASS);
	for (int i = 0; i < 5; i++)
		assert_int_equal(admit(f, &p, 0, "both", T0, NULL), CLIENT_LIMITS_CONCURRENCY);
	client_limits_release(f->t, &a.lease);
	assert_int_equal(admit(f, &p, 0, "both", T0, &a), CLIENT_LIMITS_PASS);
	client_limits_release(f->t, &a.lease);
	/* Two tokens spent: the bucket of 2 is empty, whatever the cap says. */
	assert_int_equal(admit(f, &p, 0, "both", T0, NULL), CLIENT_LIMITS_RATE);
}

static void
dead_workers_share_is_reclaimed(void **state)
{
	struct fixture *f = *state;
	struct client_limits_policy p = policy(0, 0, 3);
	struct client_limits_result kept;

	assert_int_equal(admit(f, &p, 1, "c", T0, NULL), CLIENT_LIMITS_PASS);
	assert_int_equal(admit(f, &p, 1, "c", T0, NULL), CLIENT_LIMITS_PASS);
	assert_int_equal(admit(f, &p, 2, "c", T0, &kept), CLIENT_LIMITS_PASS);
	assert_int_equal(admit(f, &p, 0, "c", T0, NULL), CLIENT_LIMITS_CONCURRENCY);
	/* The worker of column 1 died holding two: only its two go. */
	assert_int_equal(client_limits_reclaim(f->t, COLUMNS, 1), 2);
	assert_int_equal(client_limits_reclaim(f->t, COLUMNS, 1), 0);
	assert_int_equal(client_limits_reclaim(f->t, COLUMNS, COLUMNS), 0);	/* no such column */
	assert_int_equal(admit(f, &p, 0, "c", T0, NULL), CLIENT_LIMITS_PASS);
	assert_int_equal(admit(f, &p, 0, "c", T0, NULL), CLIENT_LIMITS_PASS);
	assert_int_equal(admit(f, &p, 0, "c", T0, NULL), CLIENT_LIMITS_CONCURRENCY);
	client_limits_release(f->t, &kept.lease);
	assert_int_equal(admit(f, &p, 3, "c", T0, NULL), CLIENT_LIMITS_PASS);
}

/* Admits clients PREFIX0, PREFIX1, ... (at most `max`) until one is refused; returns how many passed. */
static int
fill(struct fixture *f, const struct client_limits_policy *p, uint64_t now, const char *prefix, int max,
    bool *took_over)
{
	struct client_limits_result r;
	char name[32];
	int n;

	*took_over = false;
	for (n = 0; n < max; n++) {
		snprintf(name, sizeof(name), "%s%d", prefix, n);
		if (admit(f, p, 0, name, now, &r) != CLIENT_LIMITS_PASS)
			break;
		*took_over |= r.took_over;
	}
	return n;
}

static void
table_full_of_requests_in_flight_refuses_new_clients(void **state)
{
	struct fixture *f = *state;
	struct client_limits_policy p = policy(0, 0, 1);
	struct client_limits_result r;
	bool took_over;
	int n = fill(f, &p, T0, "c", 4 * CLIENT_LIMITS_SLOTS, &took_over);
	char refused[32];

	/*
	 * Every entry of the refused client's two groups has a request in
	 * flight: it is refused, nothing grows.  With two groups a client, the
	 * first group fills at about three quarters of the table; half is a
	 * bound no key misses.
	 */
	assert_true(n > CLIENT_LIMITS_SLOTS / 2);
	assert_true(n <= CLIENT_LIMITS_SLOTS);
	assert_false(took_over);
	snprintf(refused, sizeof(refused), "c%d", n);
	assert_int_equal(admit(f, &p, 0, refused, T0, &r), CLIENT_LIMITS_TABLE_FULL);
	assert_int_equal(r.retry_after_s, 1);
	/* Once their requests end, the entries hold nothing and serve anyone. */
	client_limits_reclaim(f->t, COLUMNS, 0);
	assert_int_equal(admit(f, &p, 0, refused, T0, NULL), CLIENT_LIMITS_PASS);
}

static void
table_full_of_debts_takes_the_oldest_over(void **state)
{
	struct fixture *f = *state;
	struct client_limits_policy p = policy(1, 1, 0);
	struct client_limits_result r;
	bool took_over;
	int n = fill(f, &p, T0, "c", 4 * CLIENT_LIMITS_SLOTS, &took_over);

	/* Every client spent its one token; none is refused for lack of room. */
	assert_int_equal(n, 4 * CLIENT_LIMITS_SLOTS);
	assert_true(took_over);
	/* The newcomer pushed someone's debt out, and starts with a full bucket. */
	assert_int_equal(admit(f, &p, 0, "newcomer", T0, &r), CLIENT_LIMITS_PASS);
	assert_true(r.took_over);
	assert_int_equal(admit(f, &p, 0, "newcomer", T0, NULL), CLIENT_LIMITS_RATE);
}

static void
full_buckets_are_reused_without_a_takeover(void **state)
{
	struct fixture *f = *state;
	struct client_limits_policy p = policy(1, 1, 0);
	struct client_limits_result r;
	bool took_over;

	/* Every entry used, and every bucket spent. */
	(void)fill(f, &p, T0, "old", 4 * CLIENT_LIMITS_SLOTS, &took_over);
	/* Two seconds on, every bucket is full again: holding nothing, the entries are anyone's. */
	assert_int_equal(admit(f, &p, 0, "newcomer", T0 + 2 * SEC, &r), CLIENT_LIMITS_PASS);
	assert_false(r.took_over);
	assert_int_equal(admit(f, &p, 0, "newcomer", T0 + 2 * SEC, NULL), CLIENT_LIMITS_RATE);
}

/* `procs` processes each try `tries` admissions of one client at one moment; returns the passes. */
static int
admitted_by_processes(struct fixture *f, const struct client_limits_policy *p, int procs, int tries)
{
	int *passed = mmap(NULL, sizeof(int) * (size_t)procs, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	int total = 0;

	assert_true(passed != MAP_FAILED);
	for (int i = 0; i < procs; i++) {
		pid_t pid = fork();

		assert_true(pid >= 0);
		if (pid == 0) {
			int mine = 0;

			for (int k = 0; k < tries; k++)
				mine += admit(f, p, (uint32_t)i, "shared", T0, NULL) == CLIENT_LIMITS_PASS;
			passed[i] = mine;
			_exit(0);
		}
	}
	for (int i = 0; i < procs; i++) {
		int status;

		assert_true(wait(&status) > 0);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	for (int i = 0; i < procs; i++)
		total += passed[i];
	munmap(passed, sizeof(int) * (size_t)procs);
	return total;
}

static void
workers_together_get_exactly_the_burst(void **state)
{
	struct fixture *f = *state;
	struct client_limits_policy rate = policy(1, 1000, 0), cap = policy(0, 0, 700);

	/* Four processes racing on one entry at one moment: the compare-and-swaps lose nothing. */
	assert_int_equal(admitted_by_processes(f, &rate, COLUMNS, 5000), 1000);
	assert_int_equal(admitted_by_processes(f, &cap, COLUMNS, 5000), 700);
	/* Each process's share is in its own column. */
	for (int c = 0; c < COLUMNS; c++)
		client_limits_reclaim(f->t, COLUMNS, (uint32_t)c);
	assert_int_equal(admitted_by_processes(f, &cap, COLUMNS, 5000), 700);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(bucket_gives_burst_then_one_per_interval),
		cmocka_unit_test(bucket_passes_exactly_rate_times_time),
		cmocka_unit_test(policy_follows_the_configuration),
		cmocka_unit_test_setup_teardown(region_is_sealed_and_checked, setup, teardown),
		cmocka_unit_test_setup_teardown(one_client_limited_while_another_is_not, setup, teardown),
		cmocka_unit_test_setup_teardown(retry_after_rounds_the_wait_up, setup, teardown),
		cmocka_unit_test_setup_teardown(concurrency_cap_holds_until_release, setup, teardown),
		cmocka_unit_test_setup_teardown(cap_refusal_spends_no_token, setup, teardown),
		cmocka_unit_test_setup_teardown(dead_workers_share_is_reclaimed, setup, teardown),
		cmocka_unit_test_setup_teardown(table_full_of_requests_in_flight_refuses_new_clients, setup, teardown),
		cmocka_unit_test_setup_teardown(table_full_of_debts_takes_the_oldest_over, setup, teardown),
		cmocka_unit_test_setup_teardown(full_buckets_are_reused_without_a_takeover, setup, teardown),
		cmocka_unit_test_setup_teardown(workers_together_get_exactly_the_burst, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
