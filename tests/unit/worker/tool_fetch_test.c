/*
 * Unit tests for calls of tools that may fetch (worker/tool_fetch.c).  A
 * unit test has no egress process, so every request fails before it
 * leaves and its continuation runs at once: that path, the order in which
 * such answers reach a tool, the requests refused before any egress is
 * asked, and the misuses of mcpd_fetch.  Requests that really travel are
 * tested through the whole system (tests/integration/74-egress-tools).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "tests/unit/tool_test.h"

static struct tool_outcome out;

static int
teardown(void **state)
{
	(void)state;
	tools_outcome_free(&out);
	return 0;
}

static const char *
text(void)
{
	return out.text.data != NULL ? out.text.data : "";
}

/* The continuation of every fixture: the error it was given, or the status. */
static int
said(struct mcpd_call *call, const struct mcpd_response *response)
{
	if (response->error != NULL)
		return mcpd_error(call, "%s (outcome %s, data %s)", response->error, response->outcome,
		    response->data != NULL ? (const char *)response->data : "none");
	return mcpd_return_integer(call, response->status);
}

static int
fetch_one(struct mcpd_call *call)
{
	struct mcpd_request request = {.url = "https://api.example.com/"};

	return mcpd_fetch(call, &request, said, "one");
}

static const struct mcpd_tool fetcher = {.name = "fetcher", .description = "d", .run = fetch_one,
    .result = {.type = MCPD_TYPE_INTEGER}, .egress = (const char *const[]){"api.example.com", NULL}};

static void
test_without_an_egress_the_continuation_gets_the_reason(void **state)
{
	(void)state;
	tool_test_run(&fetcher, NULL, NULL, &out);
	assert_true(out.is_error);
	assert_string_equal(text(), "fetcher: egress_restarted: this server runs no egress process "
	    "(outcome egress_restarted, data one)");
}

/* Two answers, kept in the call's scratch memory, returned when both came. */
struct both {
	char seen[160];
	int answers;
};

static int
one_of_two(struct mcpd_call *call, const struct mcpd_response *response)
{
	struct both *b = response->data;
	size_t len = strlen(b->seen);

	snprintf(b->seen + len, sizeof(b->seen) - len, "%s%s", len ? "," : "",
	    response->error != NULL ? response->error : "ok");
	if (++b->answers < 2)
		return MCPD_PENDING;
	return mcpd_return_string(call, b->seen, strlen(b->seen));
}

static int
fetch_two(struct mcpd_call *call)
{
	struct both *b = mcpd_alloc(call, sizeof(*b));
	struct mcpd_request bad = {.url = "https://api.example.com/", .timeout_ms = 300001};
	struct mcpd_request good = {.url = "https://api.example.com/"};

	*b = (struct both){0};
	mcpd_fetch(call, &bad, one_of_two, b);
	return mcpd_fetch(call, &good, one_of_two, b);
}

static const struct mcpd_tool two = {.name = "two", .description = "d", .run = fetch_two,
    .result = {.type = MCPD_TYPE_STRING}, .egress_operator = true};

static void
test_requests_that_fail_before_leaving_are_answered_in_order(void **state)
{
	(void)state;
	tool_test_run(&two, NULL, NULL, &out);
	assert_false(out.is_error);
	assert_string_equal(text(), "bad_request: timeout_ms 300001 is over 300000,"
	    "egress_restarted: this server runs no egress process");
}

static int
bad_requests(struct mcpd_call *call, const struct mcpd_response *response)
{
	(void)response;
	return mcpd_error(call, "%s", response->error);
}

static const struct mcpd_request *current_request;

static int
fetch_current(struct mcpd_call *call)
{
	return mcpd_fetch(call, current_request, bad_requests, NULL);
}

static void
test_malformed_requests_are_refused_with_their_reason(void **state)
{
	static const struct mcpd_tool t = {.name = "t", .description = "d", .run = fetch_current,
	    .result = {.type = MCPD_TYPE_INTEGER}, .egress_operator = true};
	static const struct mcpd_header nameless = {NULL, "v"};
	const struct {
		struct mcpd_request request;
		const char *error;
	} cases[] = {
		{{.url = NULL}, "t: bad_request: the request has no url"},
		{{.url = ""}, "t: bad_request: the request has no url"},
		{{.url = "https://a/", .max_response = (16u << 20) + 1}, "t: bad_request: max_response 16777217 is over 16777216"},
		{{.url = "https://a/", .nheaders = 1}, "t: bad_request: too many headers (256 at most), or none given for nheaders"},
		{{.url = "https://a/", .nheaders = 1, .headers = &nameless}, "t: bad_request: a header without a name or value"},
		{{.url = "https://a/", .body_len = 3}, "t: bad_request: body_len without a body"},
		{{.url = "https://a/", .aws_region = "us-east-1"}, "t: bad_request: aws_region without aws_service"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		current_request = &cases[i].request;
		tool_test_run(&t, NULL, NULL, &out);
		assert_true(out.is_error);
		assert_string_equal(text(), cases[i].error);
		tools_outcome_free(&out);
	}
	memset(&out, 0, sizeof(out));
}

static int
waits_on_nothing(struct mcpd_call *call)
{
	(void)call;
	return MCPD_PENDING;
}

static void
test_misuses_of_mcpd_fetch_are_internal_errors(void **state)
{
	static const struct mcpd_tool undeclared = {.name = "undeclared", .description = "d", .run = fetch_one,
	    .result = {.type = MCPD_TYPE_INTEGER}};
	static const struct mcpd_tool idle = {.name = "idle", .description = "d", .run = waits_on_nothing,
	    .result = {.type = MCPD_TYPE_INTEGER}, .egress_operator = true};
	static const struct mcpd_tool idle_sync = {.name = "idle_sync", .description = "d", .run = waits_on_nothing,
	    .result = {.type = MCPD_TYPE_INTEGER}};

	(void)state;
	tool_test_run(&undeclared, NULL, NULL, &out);
	assert_string_equal(text(), "undeclared: internal error: the tool called mcpd_fetch but declares no MCPD_EGRESS");
	tools_outcome_free(&out);
	tool_test_run(&idle, NULL, NULL, &out);
	assert_string_equal(text(), "idle: internal error: the tool returned MCPD_PENDING with no request in flight");
	tools_outcome_free(&out);
	tool_test_run(&idle_sync, NULL, NULL, &out);
	assert_string_equal(text(), "idle_sync: internal error: the tool returned MCPD_PENDING but declares no MCPD_EGRESS");
}

static void
test_nothing_is_left_waiting(void **state)
{
	(void)state;
	tool_test_run(&two, NULL, NULL, &out);
	assert_int_equal(tools_pending_count(), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_without_an_egress_the_continuation_gets_the_reason, teardown),
		cmocka_unit_test_teardown(test_requests_that_fail_before_leaving_are_answered_in_order, teardown),
		cmocka_unit_test_teardown(test_malformed_requests_are_refused_with_their_reason, teardown),
		cmocka_unit_test_teardown(test_misuses_of_mcpd_fetch_are_internal_errors, teardown),
		cmocka_unit_test_teardown(test_nothing_is_left_waiting, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
