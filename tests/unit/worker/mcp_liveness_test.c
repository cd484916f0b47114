/*
 * Unit tests for worker/mcp.c: the liveness ping that health probes send
 * without a token, and everything else such a caller is refused.
 */
#include "tests/unit/worker/mcp_exchange.h"

static const char probe_body[] = "{\"jsonrpc\":\"2.0\",\"method\":\"ping\",\"params\":null,\"id\":4}";

static void
test_liveness_ping_is_answered_whatever_accept_says(void **state)
{
	struct exchange *ex = *state;

	ex->liveness = ex->ping_only = ex->refuse_accept = true;
	send_2025(state, probe_body, NULL);
	assert_int_equal(status(state), 200);
	assert_true(ex->res.public_ping);
	assert_false(ex->res.needs_credentials);
	assert_string_equal(raw(state), "{\"jsonrpc\":\"2.0\",\"id\":4,\"result\":{}}");
	send_2025(state, "{\"jsonrpc\":\"2.0\",\"method\":\"ping\",\"id\":\"s\"}", "2025-11-25");
	assert_int_equal(status(state), 200);
	assert_id_string(ex->json, "s");
	assert_true(ex->res.public_ping);
}

/* What a caller without credentials gets nothing for: no body, no status. */
static void
assert_needs_credentials(void **state, const char *body, const char *why)
{
	struct exchange *ex = *state;

	post(state, body, NULL, NULL, NULL);
	if (!ex->res.needs_credentials)
		fail_msg("%s was served without credentials: %d %s", why, ex->res.status,
		    raw(state) ? raw(state) : "");
	assert_false(ex->res.public_ping);
	assert_no_body(state, 0);
	assert_string_equal(ex->res.rpc_method, "");
}

static void
test_without_credentials_only_a_lone_ping_is_served(void **state)
{
	struct exchange *ex = *state;
	char big[MCP_PING_MAX_BODY + 64];
	int n;

	ex->liveness = ex->ping_only = true;
	assert_needs_credentials(state, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}", "tools/list");
	assert_needs_credentials(state, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\","
	    "\"params\":{\"name\":\"sum\",\"arguments\":{\"a\":1,\"b\":2}}}", "tools/call");
	assert_needs_credentials(state, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\","
	    "\"params\":{\"protocolVersion\":\"2025-11-25\",\"capabilities\":{},"
	    "\"clientInfo\":{\"name\":\"t\",\"version\":\"1\"}}}", "initialize");
	assert_needs_credentials(state, "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}]", "a batch of a ping");
	assert_needs_credentials(state, "{\"jsonrpc\":\"2.0\",\"method\":\"ping\"}", "a ping notification");
	assert_needs_credentials(state, "{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"ping\"}", "a ping with id null");
	assert_needs_credentials(state, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\\u0000x\"}", "ping\\u0000x");
	assert_needs_credentials(state, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"pinG\"}", "pinG");
	assert_needs_credentials(state, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":", "a body that is not JSON");
	assert_needs_credentials(state, "", "an empty body");
	n = snprintf(big, sizeof(big), "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"params\":{\"pad\":\"%0*d\"}}",
	    MCP_PING_MAX_BODY, 0);
	assert_true(n > MCP_PING_MAX_BODY && (size_t)n < sizeof(big));
	assert_needs_credentials(state, big, "a ping larger than MCP_PING_MAX_BODY");
}

static void
test_without_credentials_a_failing_ping_gets_the_same_refusal(void **state)
{
	struct exchange *ex = *state;

	/* Tokens verified, none sent: no error detail or version list goes to anyone who asks. */
	ex->liveness = ex->ping_only = true;
	assert_needs_credentials(state, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"ping\",\"params\":[]}",
	    "a ping with params by position");
	assert_needs_credentials(state, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"ping\",\"params\":\"x\"}",
	    "a ping whose params are a string");
	assert_needs_credentials(state, "{\"id\":3,\"method\":\"ping\"}", "a ping without jsonrpc");
	send_2026(state, "ping", "", NULL);
	assert_true(ex->res.needs_credentials);
	assert_false(ex->res.public_ping);
	post(state, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"ping\"}", "1999-01-01", NULL, NULL);
	assert_true(ex->res.needs_credentials);
}

static void
test_liveness_ping_keeps_the_envelope_rules(void **state)
{
	struct exchange *ex = *state;
	const cJSON *msg;

	/* Tokens not verified (--auth none): the probe's Accept rule is relaxed, the rest answers as ever. */
	ex->liveness = true;
	msg = send_2025(state, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"ping\",\"params\":[]}", NULL);
	assert_int_equal(status(state), 400);
	assert_error(msg, -32602);
	assert_id_int(msg, 3);
	/* 2026-07-28 has no ping: one sent on that wire is answered as a removed method. */
	msg = send_2026(state, "ping", "", NULL);
	assert_int_equal(status(state), 404);
	assert_error(msg, -32601);
}

static void
test_liveness_without_ping_only_serves_everything(void **state)
{
	struct exchange *ex = *state;
	const cJSON *msg;

	ex->liveness = true;
	ex->refuse_accept = true;
	msg = send_2025(state, tools_list_body, "2025-11-25");
	assert_int_equal(status(state), 406);
	assert_error(msg, -32000);
	assert_false(ex->res.public_ping);
	assert_false(ex->res.needs_credentials);
	ex->refuse_accept = false;
	send_2025(state, tools_list_body, "2025-11-25");
	assert_int_equal(status(state), 200);
	assert_false(ex->res.public_ping);
}

static void
test_ping_without_liveness_keeps_the_accept_rule(void **state)
{
	struct exchange *ex = *state;

	ex->refuse_accept = true;
	send_2025(state, probe_body, NULL);
	assert_int_equal(status(state), 406);
	assert_false(ex->res.public_ping);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		MCP_TEST(test_liveness_ping_is_answered_whatever_accept_says),
		MCP_TEST(test_without_credentials_only_a_lone_ping_is_served),
		MCP_TEST(test_without_credentials_a_failing_ping_gets_the_same_refusal),
		MCP_TEST(test_liveness_ping_keeps_the_envelope_rules),
		MCP_TEST(test_liveness_without_ping_only_serves_everything),
		MCP_TEST(test_ping_without_liveness_keeps_the_accept_rule),
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
