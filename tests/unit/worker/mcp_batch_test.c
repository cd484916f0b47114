/*
 * Unit tests for worker/mcp.c: 2025-03-26 batches: where they are allowed,
 * what each element gets, that their cost grows linearly, and a request too
 * big to index.
 */
#include "tests/unit/worker/mcp_exchange.h"
#include "tests/unit/address_limit.h"
#include "tests/unit/cpu_ratio.h"
#include "worker/own_counters.h"
#include "worker/tool_engine.h"

static const char batch_body[] = "["
    "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"},"
    "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"},"
    "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\"},"
    "{\"jsonrpc\":\"2.0\",\"id\":3,\"result\":{}}"
    "]";

static void
assert_batch_answered(void **state, const char *version)
{
	const cJSON *msg = send_2025(state, batch_body, version);

	assert_int_equal(status(state), 200);
	assert_true(cJSON_IsArray(msg));
	assert_int_equal(cJSON_GetArraySize(msg), 2);
	assert_id_int(cJSON_GetArrayItem(msg, 0), 1);
	assert_result(cJSON_GetArrayItem(msg, 0));
	assert_id_int(cJSON_GetArrayItem(msg, 1), 2);
	/* Batches are 2025-03-26 traffic: no titles. */
	assert_no_member(cJSON_GetArrayItem(member(assert_result(cJSON_GetArrayItem(msg, 1)),
	    "tools"), 0), "title");
}

/*
 * A batch holding a tools/call the caller lacks the scope for is refused
 * whole (403, the refused member's error) before any member runs, so a
 * client that steps up and retries does not run the others twice.
 */
static void
test_batch_with_a_scope_refusal_runs_nothing(void **state)
{
	static const struct mcpd_identity caller = {.sub = "", .username = "", .client_id = "c1",
	    .scope = "openid mcp/tools"};
	static const char body[] = "["
	    "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"sum\","
	    "\"arguments\":{\"a\":1,\"b\":2}}},"
	    "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":\"whoami\"}},"
	    "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":{\"name\":\"sum\","
	    "\"arguments\":{\"a\":3,\"b\":4}}}]";
	struct exchange *ex = *state;
	const uint64_t *sum_calls = &own_counters->tool_calls[tools_index(tools_find("sum", 3))];
	uint64_t before = counter_get(sum_calls);
	const cJSON *msg;

	ex->caller = &caller;
	msg = send_2025(state, body, "2025-03-26");
	assert_int_equal(status(state), 403);
	assert_non_null(ex->res.scope_refused);
	assert_int_equal(cJSON_GetArraySize(msg), 1);
	assert_id_int(cJSON_GetArrayItem(msg, 0), 2);
	assert_int_equal(counter_get(sum_calls), before);
	/* With the scope, all three run. */
	ex->caller = &(const struct mcpd_identity){.sub = "", .username = "", .client_id = "c1",
	    .scope = "openid mcpd/admin"};
	msg = send_2025(state, body, "2025-03-26");
	assert_int_equal(status(state), 200);
	assert_int_equal(cJSON_GetArraySize(msg), 3);
	assert_int_equal(counter_get(sum_calls), before + 2);
	ex->caller = NULL;
}

static void
test_batch_allowed_without_version_header(void **state)
{
	assert_batch_answered(state, NULL);
}

static void
test_batch_allowed_with_2025_03_26_header(void **state)
{
	assert_batch_answered(state, "2025-03-26");
}

static void
test_batch_rejected_for_later_versions(void **state)
{
	static const char *const versions[] = {"2025-06-18", "2025-11-25", V2026};

	for (size_t i = 0; i < 3; i++) {
		const cJSON *msg = send_2025(state, batch_body, versions[i]);

		assert_int_equal(status(state), 400);
		assert_error(msg, -32600);
		assert_id_null(msg);
	}
}

static void
test_empty_batch_is_400(void **state)
{
	const cJSON *msg = send_2025(state, "[]", NULL);

	assert_int_equal(status(state), 400);
	assert_error(msg, -32600);
	assert_id_null(msg);
}

static void
test_batch_of_notifications_is_202(void **state)
{
	assert_null(send_2025(state, "[{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"},"
	    "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\",\"params\":{}},"
	    "{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":{}}]", NULL));
	assert_no_body(state, 202);
}

static void
test_initialize_inside_batch_is_error_element(void **state)
{
	const cJSON *msg = send_2025(state, "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\","
	    "\"params\":{\"protocolVersion\":\"2025-03-26\",\"capabilities\":{}}},"
	    "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"ping\"}]", NULL);

	assert_int_equal(status(state), 200);
	assert_int_equal(cJSON_GetArraySize(msg), 2);
	assert_error(cJSON_GetArrayItem(msg, 0), -32600);
	assert_id_int(cJSON_GetArrayItem(msg, 0), 1);
	assert_result(cJSON_GetArrayItem(msg, 1));
	assert_id_int(cJSON_GetArrayItem(msg, 1), 2);
}

static void
test_batch_needs_accept_of_both_formats(void **state)
{
	struct exchange *ex = *state;
	const cJSON *msg;

	ex->refuse_accept = true;
	msg = send_2025(state, batch_body, NULL);
	assert_int_equal(status(state), 406);
	assert_error(msg, -32000);
	assert_id_null(msg);
}

static void
test_batch_invalid_elements_get_their_own_errors(void **state)
{
	const cJSON *msg = send_2025(state, "[1,{\"jsonrpc\":\"2.0\",\"id\":\"b\",\"method\":5},"
	    "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"nope\"}]", NULL);

	assert_int_equal(cJSON_GetArraySize(msg), 3);
	assert_error(cJSON_GetArrayItem(msg, 0), -32600);
	assert_id_null(cJSON_GetArrayItem(msg, 0));
	assert_error(cJSON_GetArrayItem(msg, 1), -32600);
	assert_id_string(cJSON_GetArrayItem(msg, 1), "b");
	assert_error(cJSON_GetArrayItem(msg, 2), -32601);
	assert_id_int(cJSON_GetArrayItem(msg, 2), 3);
}

/* A 2025-03-26 batch of n pings with ids 1..n, as a client would send it. */
struct ping_batch {
	char *body;
	size_t len;
	size_t n;
};

static void
ping_batch_build(struct ping_batch *b, size_t n)
{
	static const char item[] = "{\"jsonrpc\":\"2.0\",\"id\":%zu,\"method\":\"ping\"}";
	size_t cap = n * (sizeof(item) + 24) + 3;

	b->n = n;
	b->len = 0;
	b->body = malloc(cap);
	assert_non_null(b->body);
	b->body[b->len++] = '[';
	for (size_t i = 1; i <= n; i++) {
		if (i > 1)
			b->body[b->len++] = ',';
		b->len += (size_t)snprintf(b->body + b->len, cap - b->len, item, i);
	}
	b->body[b->len++] = ']';
	b->body[b->len] = '\0';
}

/* Answers the batch as worker/http_mcp.c would: the timed step. */
static void
ping_batch_answer(void *arg)
{
	const struct ping_batch *b = arg;
	struct mcp_request req = {.body = b->body, .body_len = b->len, .accepts_json_and_sse = true};
	struct mcp_response res;

	mcp_handle(&req, &res);
	if (res.status != 200 || res.body == NULL)
		fail_msg("a batch of %zu pings got HTTP %d", b->n, res.status);
	mcp_response_free(&res);
}

/*
 * Every id of a batch is read several times, exactly from its text; each read
 * once rescanned the body, so a batch cost the square of its size (one of 23 548 pings, just
 * under 1 MiB, held a worker for half a minute).
 */
static void
test_batch_cpu_time_grows_linearly(void **state)
{
	struct ping_batch small, large;
	const cJSON *msg, *last;

	ping_batch_build(&small, 1000);
	ping_batch_build(&large, 10000);
	msg = send_2025(state, small.body, NULL);
	assert_int_equal(status(state), 200);
	assert_int_equal(cJSON_GetArraySize(msg), 1000);
	last = cJSON_GetArrayItem(msg, 999);
	assert_id_int(last, 1000);
	assert_non_null(cJSON_GetObjectItemCaseSensitive(last, "result"));
	assert_cpu_linear("batch of pings", ping_batch_answer, &small, small.n, &large, large.n);
	free(small.body);
	free(large.body);
}

struct handle_attempt {
	struct mcp_request req;
	struct mcp_response *res;
};

static void
handle_attempt(void *arg)
{
	struct handle_attempt *a = arg;

	mcp_handle(&a->req, a->res);
}

/*
 * A request whose values need more memory to index than there is gets a
 * JSON-RPC internal error, not a crash and not a parse error: 2 MiB of small
 * numbers need 16 MiB of spans, and 4 MiB are left.
 */
static void
test_request_too_big_to_index_is_internal_error(void **state)
{
	static const char head[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\","
	    "\"params\":{\"name\":\"number_stats\",\"arguments\":{\"numbers\":[";
	struct exchange *ex = *state;
	size_t n = 1u << 20, len = sizeof(head) - 1 + 2 * n + 2;
	struct handle_attempt a;
	const cJSON *error;
	char *body;

	address_limit_require();
	body = malloc(len + 1);
	assert_non_null(body);
	memcpy(body, head, sizeof(head) - 1);
	for (size_t i = 0; i < n; i++)
		memcpy(body + sizeof(head) - 1 + 2 * i, i + 1 < n ? "1," : "1]", 2);
	memcpy(body + len - 2, "}}", 3);
	exchange_clear(ex);
	a = (struct handle_attempt){.req = {.body = body, .body_len = len,
	    .accepts_json_and_sse = true}, .res = &ex->res};
	address_limit_run(handle_attempt, &a, 4u << 20);
	free(body);
	assert_int_equal(ex->res.status, 500);
	assert_non_null(ex->res.body);
	ex->json = cJSON_ParseWithLength(ex->res.body, ex->res.body_len);
	error = assert_error(ex->json, -32603);
	assert_id_null(ex->json);
	assert_string_equal(member(error, "message")->valuestring,
	    "Internal error: out of memory reading the request");
}

static void
test_2026_message_inside_batch_is_error_element(void **state)
{
	const cJSON *msg = send_2025(state, "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\","
	    "\"params\":{" META_2026 "}}]", NULL);

	assert_int_equal(cJSON_GetArraySize(msg), 1);
	assert_error(cJSON_GetArrayItem(msg, 0), -32600);
	assert_id_int(cJSON_GetArrayItem(msg, 0), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		MCP_TEST(test_batch_with_a_scope_refusal_runs_nothing),
		MCP_TEST(test_batch_allowed_without_version_header),
		MCP_TEST(test_batch_allowed_with_2025_03_26_header),
		MCP_TEST(test_batch_rejected_for_later_versions),
		MCP_TEST(test_empty_batch_is_400),
		MCP_TEST(test_batch_of_notifications_is_202),
		MCP_TEST(test_initialize_inside_batch_is_error_element),
		MCP_TEST(test_batch_needs_accept_of_both_formats),
		MCP_TEST(test_batch_invalid_elements_get_their_own_errors),
		MCP_TEST(test_batch_cpu_time_grows_linearly),
		MCP_TEST(test_request_too_big_to_index_is_internal_error),
		MCP_TEST(test_2026_message_inside_batch_is_error_element),
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
