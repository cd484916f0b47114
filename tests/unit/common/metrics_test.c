#define _GNU_SOURCE	/* asprintf; before any header */
/*
 * Unit tests for common/metrics.c: sums over both blocks of a slot, the
 * fetcher's and the supervisor's, the exposition text (families, escaping,
 * the cumulative histograms), what is left out before a key set exists, and
 * which tools' outbound requests have rows.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/metrics.h"

#define WORKERS 2

/* The labels the supervisor would hand over; common/ does not know the tools. */
static const struct counters_tools tools = {.names = {"sum", "say \"hi\""}, .count = 2};

struct fixture {
	int fd;
	union counters_block *blocks;
	struct metrics_totals totals;
	struct strbuf text;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->fd = counters_region_create(WORKERS);
	f->blocks = counters_map(f->fd, WORKERS);
	strbuf_init(&f->text);
	*state = f;
	return f->blocks == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	strbuf_free(&f->text);
	counters_unmap(f->blocks, WORKERS);
	close(f->fd);
	free(f);
	return 0;
}

static struct worker_counters *
worker(struct fixture *f, int slot, int k)
{
	return &f->blocks[COUNTERS_WORKER_BLOCK(slot, k)].worker;
}

/* The exposition of the fixture's region, NUL-terminated. */
static const char *
exposition(struct fixture *f, int64_t now, bool tokens_verified)
{
	metrics_sum(f->blocks, WORKERS, &f->totals);
	f->text.len = 0;
	metrics_write_prometheus(&f->text, &f->totals, &tools, now, tokens_verified);
	strbuf_putc(&f->text, '\0');
	assert_true(strbuf_ok(&f->text));
	return f->text.data;
}

static void
assert_line(const char *text, const char *line)
{
	char *want;

	assert_true(asprintf(&want, "\n%s\n", line) > 0);
	if (strstr(text, want) == NULL)
		fail_msg("missing line: %s", line);
	free(want);
}

static void
sums_cover_every_block(void **state)
{
	struct fixture *f = *state;

	counter_add(&worker(f, 0, 0)->http_status[STATUS_200], 3);
	counter_add(&worker(f, 0, 1)->http_status[STATUS_200], 4);	/* a reload's successor */
	counter_add(&worker(f, 1, 0)->http_status[STATUS_200], 5);
	counter_add(&worker(f, 1, 1)->http_status[STATUS_401], 2);
	counter_add(&worker(f, 1, 0)->gate.open_connections, 6);
	counter_add(&worker(f, 1, 1)->gate.open_connections, 1);
	counter_add(&worker(f, 0, 0)->tool_calls[0], 9);
	counter_add(&worker(f, 1, 1)->tool_calls[COUNTERS_MAX_TOOLS], 2);
	counter_add(&worker(f, 0, 1)->client_limited[LIMITED_RATE], 3);
	counter_add(&worker(f, 1, 0)->client_limited[LIMITED_RATE], 1);
	counter_add(&worker(f, 1, 0)->client_limit_takeovers, 2);
	metrics_sum(f->blocks, WORKERS, &f->totals);
	assert_int_equal(f->totals.client_limited[LIMITED_RATE], 4);
	assert_int_equal(f->totals.client_limited[LIMITED_CONCURRENCY], 0);
	assert_int_equal(f->totals.client_limit_takeovers, 2);
	assert_int_equal(f->totals.http_status[STATUS_200], 12);
	assert_int_equal(f->totals.http_status[STATUS_401], 2);
	assert_int_equal(f->totals.open_connections[0], 0);
	assert_int_equal(f->totals.open_connections[1], 7);
	assert_int_equal(f->totals.tool_calls[0], 9);
	assert_int_equal(f->totals.tool_calls[COUNTERS_MAX_TOOLS], 2);
}

static void
exposition_has_each_family_once(void **state)
{
	static const char *const families[] = {
		"mcpd_build_info gauge", "mcpd_http_requests_total counter",
		"mcpd_http_received_bytes_total counter", "mcpd_http_sent_bytes_total counter",
		"mcpd_http_request_duration_seconds histogram", "mcpd_rpc_requests_total counter",
		"mcpd_tool_calls_total counter", "mcpd_tool_errors_total counter",
		"mcpd_auth_refusals_total counter", "mcpd_client_limited_total counter",
		"mcpd_client_limit_takeovers_total counter", "mcpd_open_connections gauge",
		"mcpd_connections_accepted_total counter", "mcpd_worker_requests_total counter",
		"mcpd_child_starts_total counter",
		"mcpd_child_exits_total counter", "mcpd_jwks_fetches_total counter",
		"mcpd_jwks_fetch_failures_total counter", "mcpd_keyset_generation gauge",
		"mcpd_egress_requests_total counter", "mcpd_egress_request_duration_seconds histogram",
	};
	struct fixture *f = *state;
	const char *text = exposition(f, 1000, true);

	for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
		char type[128];
		const char *hit;

		snprintf(type, sizeof(type), "# TYPE %s\n", families[i]);
		hit = strstr(text, type);
		assert_non_null(hit);
		assert_null(strstr(hit + 1, type));
	}
	assert_line(text, "mcpd_build_info{version=\"" MCPD_VERSION "\"} 1");
	/* Every label value is there from the start, at zero. */
	assert_line(text, "mcpd_http_requests_total{code=\"200\"} 0");
	assert_line(text, "mcpd_http_requests_total{code=\"other\"} 0");
	assert_line(text, "mcpd_rpc_requests_total{method=\"tools/call\"} 0");
	assert_line(text, "mcpd_auth_refusals_total{reason=\"expired\"} 0");
	/* By reason only, never by client: clients cannot grow the series. */
	assert_line(text, "mcpd_client_limited_total{reason=\"rate\"} 0");
	assert_line(text, "mcpd_client_limited_total{reason=\"concurrency\"} 0");
	assert_line(text, "mcpd_client_limited_total{reason=\"table_full\"} 0");
	assert_line(text, "mcpd_client_limit_takeovers_total 0");
	assert_line(text, "mcpd_tool_calls_total{tool=\"sum\"} 0");
	assert_line(text, "mcpd_tool_calls_total{tool=\"say \\\"hi\\\"\"} 0");
	assert_line(text, "mcpd_tool_calls_total{tool=\"(unknown)\"} 0");
	assert_line(text, "mcpd_child_exits_total{role=\"worker\",cause=\"crash\"} 0");
	assert_line(text, "mcpd_open_connections{slot=\"1\"} 0");
}

static void
histogram_is_cumulative(void **state)
{
	struct fixture *f = *state;
	const char *text;

	counter_add(&worker(f, 0, 0)->duration_bucket[counters_bucket_of(40)], 1);
	counter_add(&worker(f, 1, 0)->duration_bucket[counters_bucket_of(700)], 2);
	counter_add(&worker(f, 1, 1)->duration_bucket[counters_bucket_of(5000000)], 1);
	counter_add(&worker(f, 0, 0)->duration_sum_us, 40 + 1400 + 5000000);
	text = exposition(f, 0, false);
	assert_line(text, "mcpd_http_request_duration_seconds_bucket{le=\"5e-05\"} 1");
	assert_line(text, "mcpd_http_request_duration_seconds_bucket{le=\"0.0005\"} 1");
	assert_line(text, "mcpd_http_request_duration_seconds_bucket{le=\"0.001\"} 3");
	assert_line(text, "mcpd_http_request_duration_seconds_bucket{le=\"1\"} 3");
	assert_line(text, "mcpd_http_request_duration_seconds_bucket{le=\"+Inf\"} 4");
	assert_line(text, "mcpd_http_request_duration_seconds_sum 5.001440");
	assert_line(text, "mcpd_http_request_duration_seconds_count 4");
	assert_int_equal(metrics_requests(&f->totals), 4);
	/* The same requests by worker slot. */
	assert_line(text, "mcpd_worker_requests_total{slot=\"0\"} 1");
	assert_line(text, "mcpd_worker_requests_total{slot=\"1\"} 3");
}

/* How many lines of text begin with prefix. */
static size_t
lines_starting(const char *text, const char *prefix)
{
	size_t n = 0;

	for (const char *line = text; line != NULL && *line != '\0'; line = strchr(line, '\n')) {
		if (*line == '\n')
			line++;
		if (strncmp(line, prefix, strlen(prefix)) == 0)
			n++;
	}
	return n;
}

/*
 * mcpd_egress_requests_total has rows only for the tools that made
 * requests, and then one per outcome, zeros included; the histogram is
 * always there.
 */
static void
egress_rows_are_for_tools_that_reached_out(void **state)
{
	struct fixture *f = *state;
	const char *text = exposition(f, 0, false);

	assert_int_equal(lines_starting(text, "mcpd_egress_requests_total"), 0);
	assert_line(text, "# TYPE mcpd_egress_requests_total counter");
	assert_line(text, "mcpd_egress_request_duration_seconds_count 0");
	counter_add(&worker(f, 0, 0)->egress.requests[1][EGRESS_WIRE_OUTCOME_OK], 3);
	counter_add(&worker(f, 1, 1)->egress.requests[1][EGRESS_WIRE_OUTCOME_OK], 2);	/* another slot */
	counter_add(&worker(f, 1, 0)->egress.requests[1][EGRESS_WIRE_OUTCOME_TIMEOUT], 1);
	counter_add(&worker(f, 0, 1)->egress.requests[COUNTERS_MAX_TOOLS][EGRESS_WIRE_OUTCOME_INTERNAL], 1);
	counter_add(&worker(f, 0, 0)->egress.requests[5][EGRESS_WIRE_OUTCOME_OK], 1);	/* a place no tool has */
	text = exposition(f, 0, false);
	assert_int_equal(f->totals.egress.requests[1][EGRESS_WIRE_OUTCOME_OK], 5);
	assert_line(text, "mcpd_egress_requests_total{tool=\"say \\\"hi\\\"\",outcome=\"ok\"} 5");
	assert_line(text, "mcpd_egress_requests_total{tool=\"say \\\"hi\\\"\",outcome=\"timeout\"} 1");
	assert_line(text, "mcpd_egress_requests_total{tool=\"say \\\"hi\\\"\",outcome=\"egress_restarted\"} 0");
	assert_line(text, "mcpd_egress_requests_total{tool=\"(unknown)\",outcome=\"internal\"} 1");
	assert_line(text, "mcpd_egress_requests_total{tool=\"(unknown)\",outcome=\"ok\"} 0");
	assert_int_equal(lines_starting(text, "mcpd_egress_requests_total{tool=\"sum\""), 0);
	assert_int_equal(lines_starting(text, "mcpd_egress_requests_total{"), 2 * EGRESS_WIRE_OUTCOME_COUNT);
	for (size_t o = 0; o < EGRESS_WIRE_OUTCOME_COUNT; o++) {
		char want[160];

		snprintf(want, sizeof(want), "mcpd_egress_requests_total{tool=\"(unknown)\",outcome=\"%s\"}",
		    egress_wire_outcome_name((enum egress_wire_outcome)o));
		assert_int_equal(lines_starting(text, want), 1);
	}
}

static void
egress_histogram_is_cumulative(void **state)
{
	struct fixture *f = *state;
	const char *text;

	counter_add(&worker(f, 0, 0)->egress.duration_bucket[counters_egress_bucket_of(0)], 1);
	counter_add(&worker(f, 0, 1)->egress.duration_bucket[counters_egress_bucket_of(1200)], 2);
	counter_add(&worker(f, 1, 0)->egress.duration_bucket[counters_egress_bucket_of(30000000)], 1);
	counter_add(&worker(f, 1, 1)->egress.duration_bucket[counters_egress_bucket_of(120000000)], 1);
	counter_add(&worker(f, 1, 1)->egress.duration_sum_us, 2400 + 30000000 + 120000000);
	text = exposition(f, 0, false);
	assert_line(text, "mcpd_egress_request_duration_seconds_bucket{le=\"0.001\"} 1");
	assert_line(text, "mcpd_egress_request_duration_seconds_bucket{le=\"0.0025\"} 3");
	assert_line(text, "mcpd_egress_request_duration_seconds_bucket{le=\"10\"} 3");
	assert_line(text, "mcpd_egress_request_duration_seconds_bucket{le=\"30\"} 4");
	assert_line(text, "mcpd_egress_request_duration_seconds_bucket{le=\"60\"} 4");
	assert_line(text, "mcpd_egress_request_duration_seconds_bucket{le=\"+Inf\"} 5");
	assert_line(text, "mcpd_egress_request_duration_seconds_sum 150.002400");
	assert_line(text, "mcpd_egress_request_duration_seconds_count 5");
	assert_int_equal(lines_starting(text, "mcpd_egress_request_duration_seconds_bucket{"),
	    N_EGRESS_DURATION_BUCKETS);
	/* The requests served are another histogram. */
	assert_line(text, "mcpd_http_request_duration_seconds_count 0");
}

static void
key_set_metrics_follow_the_fetcher(void **state)
{
	struct fixture *f = *state;
	struct fetcher_counters *fc = &f->blocks[COUNTERS_FETCHER_BLOCK].fetcher;
	const char *text;

	/* Without token verification there is no key set to speak of. */
	assert_null(strstr(exposition(f, 1000, false), "mcpd_keyset"));
	/* Before the first key set: generation 0 and no age. */
	text = exposition(f, 1000, true);
	assert_line(text, "mcpd_keyset_generation 0");
	assert_null(strstr(text, "mcpd_keyset_age_seconds"));
	counter_add(&fc->fetches_ok, 2);
	counter_add(&fc->fetch_failures[FETCH_JWKS_UNREACHABLE], 1);
	counter_set(&fc->keyset_generation, 2);
	fc->keyset_published_at = 900;
	text = exposition(f, 1000, true);
	assert_line(text, "mcpd_keyset_generation 2");
	assert_line(text, "mcpd_keyset_age_seconds 100");
	assert_line(text, "mcpd_jwks_fetches_total 2");
	assert_line(text, "mcpd_jwks_fetch_failures_total{cause=\"jwks_unreachable\"} 1");
	/* A clock that went back gives age 0, never a huge unsigned number. */
	assert_line(exposition(f, 800, true), "mcpd_keyset_age_seconds 0");
}

static void
children_are_counted_by_role_and_cause(void **state)
{
	struct fixture *f = *state;
	struct supervisor_counters *s = &f->blocks[COUNTERS_SUPERVISOR_BLOCK].supervisor;
	const char *text;

	counter_add(&s->starts[ROLE_WORKER], 3);
	counter_add(&s->exits[ROLE_WORKER][EXIT_CRASH], 1);
	counter_add(&s->exits[ROLE_FETCHER][EXIT_CLEAN], 1);
	text = exposition(f, 0, false);
	assert_line(text, "mcpd_child_starts_total{role=\"worker\"} 3");
	assert_line(text, "mcpd_child_exits_total{role=\"worker\",cause=\"crash\"} 1");
	assert_line(text, "mcpd_child_exits_total{role=\"fetcher\",cause=\"clean\"} 1");
}

static void
label_values_are_escaped(void **state)
{
	struct fixture *f = *state;

	f->text.len = 0;
	metrics_label_value(&f->text, "a\\b\"c\nd");
	strbuf_putc(&f->text, '\0');
	assert_string_equal(f->text.data, "\"a\\\\b\\\"c\\nd\"");
	f->text.len = 0;
	metrics_label_value(&f->text, "");
	strbuf_putc(&f->text, '\0');
	assert_string_equal(f->text.data, "\"\"");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(sums_cover_every_block, setup, teardown),
		cmocka_unit_test_setup_teardown(exposition_has_each_family_once, setup, teardown),
		cmocka_unit_test_setup_teardown(histogram_is_cumulative, setup, teardown),
		cmocka_unit_test_setup_teardown(egress_rows_are_for_tools_that_reached_out, setup, teardown),
		cmocka_unit_test_setup_teardown(egress_histogram_is_cumulative, setup, teardown),
		cmocka_unit_test_setup_teardown(key_set_metrics_follow_the_fetcher, setup, teardown),
		cmocka_unit_test_setup_teardown(children_are_counted_by_role_and_cause, setup, teardown),
		cmocka_unit_test_setup_teardown(label_values_are_escaped, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
