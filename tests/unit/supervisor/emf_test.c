/*
 * Unit tests for supervisor/emf.c: every document is one JSON line within
 * PIPE_BUF that follows the Embedded Metric Format's structure (a directive
 * whose metrics and dimensions exist as members), the interval's deltas are
 * right, and the latency values follow the histogram, the requests served
 * and the tools' outbound requests alike.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cJSON.h>
#include <cmocka.h>

#include "supervisor/emf.h"

#define MAX_DOCS 16

/* The labels the supervisor would hand over: the worker's registry, in its order. */
static const struct counters_tools tools = {.names = {"add_numbers", "greet_user"}, .count = 2};

struct capture {
	cJSON *docs[MAX_DOCS];
	size_t n;
};

static void
capture_line(const char *line, size_t len, void *ctx)
{
	struct capture *c = ctx;

	assert_true(len <= EMF_LINE_MAX);
	assert_true(len > 0 && line[len - 1] == '\n');
	assert_null(memchr(line, '\n', len - 1));	/* one line */
	assert_true(c->n < MAX_DOCS);
	c->docs[c->n] = cJSON_ParseWithLength(line, len);
	assert_non_null(c->docs[c->n]);
	c->n++;
}

static void
capture_free(struct capture *c)
{
	for (size_t i = 0; i < c->n; i++)
		cJSON_Delete(c->docs[i]);
	c->n = 0;
}

static bool
unit_known(const char *unit)
{
	static const char *const units[] = {"Count", "Milliseconds", "Bytes"};

	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strcmp(unit, units[i]) == 0)
			return true;
	return false;
}

/* The structure the EMF specification asks of one document. */
static void
assert_emf(const cJSON *doc, const char *namespace)
{
	const cJSON *aws = cJSON_GetObjectItemCaseSensitive(doc, "_aws"), *directive, *set, *key, *metric;

	assert_true(cJSON_IsObject(aws));
	assert_true(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(aws, "Timestamp")));
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(aws, "CloudWatchMetrics")), 1);
	directive = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(aws, "CloudWatchMetrics"), 0);
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(directive, "Namespace")->valuestring, namespace);
	cJSON_ArrayForEach(set, cJSON_GetObjectItemCaseSensitive(directive, "Dimensions")) {
		assert_true(cJSON_IsArray(set));
		cJSON_ArrayForEach(key, set)
			assert_true(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(doc, key->valuestring)));
	}
	assert_true(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(directive, "Metrics")) >= 1);
	cJSON_ArrayForEach(metric, cJSON_GetObjectItemCaseSensitive(directive, "Metrics")) {
		const cJSON *value = cJSON_GetObjectItemCaseSensitive(doc,
		    cJSON_GetObjectItemCaseSensitive(metric, "Name")->valuestring);

		assert_true(unit_known(cJSON_GetObjectItemCaseSensitive(metric, "Unit")->valuestring));
		assert_true(cJSON_IsNumber(value) || (cJSON_IsArray(value) &&
		    cJSON_GetArraySize(value) >= 1 && cJSON_GetArraySize(value) <= EMF_MAX_VALUES));
	}
}

static double
member(const cJSON *doc, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, name);

	assert_true(cJSON_IsNumber(v));
	return v->valuedouble;
}

static const char *
dimension_value(const cJSON *doc, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, name);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void
an_interval_gives_the_deltas(void **state)
{
	static struct metrics_totals prev, now;
	struct capture c = {0};
	int docs;

	(void)state;
	prev.http_status[STATUS_200] = 10;
	now.http_status[STATUS_200] = 17;
	now.http_status[STATUS_401] = 2;
	now.http_status[STATUS_OTHER] = 1;
	prev.tool_calls[0] = 4;
	now.tool_calls[0] = 9;
	now.tool_errors[0] = 1;
	now.tool_calls[COUNTERS_MAX_TOOLS] = 3;
	now.tool_calls[5] = 1;	/* a place no tool has: counted, but no document of its own */
	now.auth_refusals[REFUSAL_EXPIRED] = 2;
	prev.client_limited[LIMITED_RATE] = 5;
	now.client_limited[LIMITED_RATE] = 9;
	now.client_limited[LIMITED_CONCURRENCY] = 1;
	now.bytes_received = 500;
	now.duration_bucket[counters_bucket_of(80)] = 9;
	now.supervisor.exits[ROLE_WORKER][EXIT_CRASH] = 1;
	docs = emf_write_interval(&prev, &now, &tools, "mcpd/test", 1796476644599, capture_line, &c);
	/* The service, 2xx, 4xx, other, and two tools. */
	assert_int_equal(docs, 6);
	assert_int_equal(c.n, 6);
	for (size_t i = 0; i < c.n; i++)
		assert_emf(c.docs[i], "mcpd/test");
	assert_null(dimension_value(c.docs[0], "StatusClass"));
	assert_true(member(c.docs[0], "Requests") == 10);
	assert_true(member(c.docs[0], "ToolCalls") == 9);
	assert_true(member(c.docs[0], "ToolErrors") == 1);
	assert_true(member(c.docs[0], "AuthRefusals") == 2);
	assert_true(member(c.docs[0], "ClientLimited") == 5);
	assert_true(member(c.docs[0], "BytesReceived") == 500);
	assert_true(member(c.docs[0], "ChildCrashes") == 1);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(c.docs[0], "Latency")), 9);
	assert_string_equal(dimension_value(c.docs[1], "StatusClass"), "2xx");
	assert_true(member(c.docs[1], "Requests") == 7);
	assert_string_equal(dimension_value(c.docs[2], "StatusClass"), "4xx");
	assert_string_equal(dimension_value(c.docs[3], "StatusClass"), "other");
	assert_string_equal(dimension_value(c.docs[4], "Tool"), "add_numbers");
	assert_true(member(c.docs[4], "ToolCalls") == 5);
	assert_true(member(c.docs[4], "ToolErrors") == 1);
	assert_string_equal(dimension_value(c.docs[5], "Tool"), METRICS_UNKNOWN_TOOL);
	/* No tool reached out: zero in total, and nothing of it by tool. */
	assert_true(member(c.docs[0], "EgressRequests") == 0);
	assert_true(member(c.docs[0], "EgressFailures") == 0);
	assert_null(cJSON_GetObjectItemCaseSensitive(c.docs[0], "EgressLatency"));
	for (size_t i = 4; i < c.n; i++)
		assert_null(cJSON_GetObjectItemCaseSensitive(c.docs[i], "EgressRequests"));
	capture_free(&c);
}

/*
 * Outbound requests in total and by tool: every outcome counts as a
 * request, all but ok and cancelled as a failure, and a tool whose request
 * ended in an interval without a call of its own still has its document.
 */
static void
egress_requests_by_tool_and_in_total(void **state)
{
	static struct metrics_totals prev, now;
	struct capture c = {0};
	const cJSON *latency;

	(void)state;
	prev.tool_calls[0] = 1;
	now.tool_calls[0] = 2;
	prev.egress.requests[0][EGRESS_WIRE_OUTCOME_OK] = 4;
	now.egress.requests[0][EGRESS_WIRE_OUTCOME_OK] = 7;
	now.egress.requests[0][EGRESS_WIRE_OUTCOME_UPSTREAM_STATUS] = 1;
	now.egress.requests[0][EGRESS_WIRE_OUTCOME_CANCELLED] = 2;
	now.egress.requests[1][EGRESS_WIRE_OUTCOME_TIMEOUT] = 1;	/* greet_user: no call this interval */
	now.egress.requests[1][EGRESS_WIRE_OUTCOME_INTERNAL] = 1;
	prev.egress.duration_bucket[counters_egress_bucket_of(3000)] = 4;
	now.egress.duration_bucket[counters_egress_bucket_of(3000)] = 7;
	now.egress.duration_bucket[counters_egress_bucket_of(90000000)] = 5;
	assert_int_equal(emf_write_interval(&prev, &now, &tools, "mcpd", 1, capture_line, &c), 3);
	for (size_t i = 0; i < c.n; i++)
		assert_emf(c.docs[i], "mcpd");
	assert_true(member(c.docs[0], "EgressRequests") == 3 + 1 + 2 + 2);
	assert_true(member(c.docs[0], "EgressFailures") == 1 + 2);
	latency = cJSON_GetObjectItemCaseSensitive(c.docs[0], "EgressLatency");
	assert_int_equal(cJSON_GetArraySize(latency), 8);
	assert_true(cJSON_GetArrayItem(latency, 0)->valuedouble == 5);	/* the 5 ms bucket */
	assert_true(cJSON_GetArrayItem(latency, 7)->valuedouble == 60000);	/* over 60 s reads 60 s */
	assert_null(cJSON_GetObjectItemCaseSensitive(c.docs[0], "Latency"));
	assert_string_equal(dimension_value(c.docs[1], "Tool"), "add_numbers");
	assert_true(member(c.docs[1], "ToolCalls") == 1);
	assert_true(member(c.docs[1], "EgressRequests") == 6);
	assert_true(member(c.docs[1], "EgressFailures") == 1);
	assert_string_equal(dimension_value(c.docs[2], "Tool"), "greet_user");
	assert_true(member(c.docs[2], "ToolCalls") == 0);
	assert_true(member(c.docs[2], "EgressRequests") == 2);
	assert_true(member(c.docs[2], "EgressFailures") == 2);
	capture_free(&c);
}

/* The largest service document there can be still fits one line. */
static void
the_fullest_service_document_fits(void **state)
{
	static struct metrics_totals prev, now;
	struct capture c = {0};
	char ns[256];

	(void)state;
	memset(ns, '"', sizeof(ns) - 1);	/* each one escaped: twice as long */
	ns[sizeof(ns) - 1] = '\0';
	memset(&now, 0xff, sizeof(now));
	memset(now.tool_calls, 0, sizeof(now.tool_calls));	/* one tool document, below */
	memset(now.egress.requests, 0, sizeof(now.egress.requests));
	now.egress.requests[0][EGRESS_WIRE_OUTCOME_OK] = UINT64_MAX;
	/* Quantiles of the widest values: every request above the last bound. */
	memset(now.duration_bucket, 0, sizeof(now.duration_bucket));
	now.duration_bucket[N_DURATION_BUCKETS - 1] = 1000;
	memset(now.egress.duration_bucket, 0, sizeof(now.egress.duration_bucket));
	now.egress.duration_bucket[N_EGRESS_DURATION_BUCKETS - 1] = 1000;
	/* The service, 2xx, 4xx, 5xx, other, and add_numbers. */
	assert_int_equal(emf_write_interval(&prev, &now, &tools, ns, 1, capture_line, &c), 1 + 4 + 1);
	assert_emf(c.docs[0], ns);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(c.docs[0], "Latency")), EMF_MAX_VALUES);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(c.docs[0], "EgressLatency")),
	    EMF_MAX_VALUES);
	capture_free(&c);
}

/* A quiet interval still says "0 requests", and has no latency to give. */
static void
a_quiet_interval_is_one_document(void **state)
{
	static struct metrics_totals t;
	struct capture c = {0};

	(void)state;
	t.http_status[STATUS_200] = 5;
	assert_int_equal(emf_write_interval(&t, &t, &tools, "mcpd", 1, capture_line, &c), 1);
	assert_emf(c.docs[0], "mcpd");
	assert_true(member(c.docs[0], "Requests") == 0);
	assert_null(cJSON_GetObjectItemCaseSensitive(c.docs[0], "Latency"));
	capture_free(&c);
}

static void
namespaces_are_json_escaped(void **state)
{
	static struct metrics_totals t;
	struct capture c = {0};
	char ns[256];

	(void)state;
	memset(ns, 'n', sizeof(ns) - 1);
	ns[sizeof(ns) - 1] = '\0';
	ns[3] = '"';
	assert_int_equal(emf_write_interval(&t, &t, &tools, ns, 1, capture_line, &c), 1);
	assert_emf(c.docs[0], ns);
	capture_free(&c);
}

static void
latency_lists_each_request_when_few(void **state)
{
	uint64_t d[N_EGRESS_DURATION_BUCKETS] = {0};
	double v[EMF_MAX_VALUES];

	(void)state;
	d[counters_bucket_of(30)] = 2;
	d[counters_bucket_of(900)] = 1;
	d[N_DURATION_BUCKETS - 1] = 1;
	assert_int_equal(emf_latency_values(&emf_http_histogram, d, v), 4);
	assert_true(v[0] == 0.05 && v[1] == 0.05 && v[2] == 1 && v[3] == 1000);
	/* The same from the outbound histogram, whose last bound is 60 s. */
	memset(d, 0, sizeof(d));
	d[counters_egress_bucket_of(0)] = 1;
	d[counters_egress_bucket_of(2000000)] = 1;
	d[N_EGRESS_DURATION_BUCKETS - 1] = 1;
	assert_int_equal(emf_latency_values(&emf_egress_histogram, d, v), 3);
	assert_true(v[0] == 1 && v[1] == 2500 && v[2] == 60000);
}

static void
latency_gives_quantiles_when_many(void **state)
{
	uint64_t d[N_DURATION_BUCKETS] = {0};
	double v[EMF_MAX_VALUES];

	(void)state;
	/* 900 fast requests and 100 slow ones: the values keep the 90/10 split. */
	d[counters_bucket_of(100)] = 900;
	d[counters_bucket_of(20000)] = 100;
	assert_int_equal(emf_latency_values(&emf_http_histogram, d, v), EMF_MAX_VALUES);
	for (size_t i = 0; i < EMF_MAX_VALUES; i++)
		assert_true(v[i] == (i < 90 ? 0.1 : 25));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(an_interval_gives_the_deltas),
		cmocka_unit_test(a_quiet_interval_is_one_document),
		cmocka_unit_test(egress_requests_by_tool_and_in_total),
		cmocka_unit_test(the_fullest_service_document_fits),
		cmocka_unit_test(namespaces_are_json_escaped),
		cmocka_unit_test(latency_lists_each_request_when_few),
		cmocka_unit_test(latency_gives_quantiles_when_many),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
