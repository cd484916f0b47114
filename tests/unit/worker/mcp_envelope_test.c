/*
 * Unit tests for worker/mcp.c: the JSON-RPC envelope on the 2025 wire
 * (notifications, posted responses, parse errors, invalid requests, ids,
 * unknown methods, the version and Accept headers), "params": null and
 * params of other types in both eras, and names compared by their whole
 * length (a U+0000 inside cuts nothing short).
 */
#include "tests/unit/worker/mcp_exchange.h"

/* ------------------------------------------------------------------ */
/* 2025 wire: envelopes                                                */

static void
test_notification_is_202_without_body(void **state)
{
	assert_null(send_2025(state, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}",
	    NULL));
	assert_no_body(state, 202);
	assert_null(send_2025(state, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\","
	    "\"params\":{\"requestId\":1}}", "2025-11-25"));
	assert_no_body(state, 202);
	assert_null(send_2025(state, "{\"jsonrpc\":\"2.0\",\"method\":\"no/such/notification\"}", NULL));
	assert_no_body(state, 202);
}

static void
test_posted_response_is_202_without_body(void **state)
{
	assert_null(send_2025(state, "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}", NULL));
	assert_no_body(state, 202);
	assert_null(send_2025(state, "{\"jsonrpc\":\"2.0\",\"id\":\"x\",\"error\":"
	    "{\"code\":-1,\"message\":\"no\"}}", "2025-06-18"));
	assert_no_body(state, 202);
}

static void
assert_parse_error(void **state, const char *body)
{
	const cJSON *msg = send_2025(state, body, NULL);

	assert_int_equal(status(state), 400);
	assert_error(msg, -32700);
	assert_id_null(msg);
}

static void
test_parse_error_is_400_with_null_id(void **state)
{
	assert_parse_error(state, "");
	assert_parse_error(state, "{");
	assert_parse_error(state, "not json");
	assert_parse_error(state, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"} x");
	assert_parse_error(state, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"p\xffng\"}");
}

static void
assert_invalid_request(void **state, const char *body)
{
	const cJSON *msg = send_2025(state, body, NULL);

	assert_int_equal(status(state), 400);
	assert_error(msg, -32600);
}

static void
test_invalid_request_echoes_readable_id(void **state)
{
	assert_invalid_request(state, "{\"id\":5,\"method\":\"ping\"}");
	assert_id_int(((struct exchange *)*state)->json, 5);
	assert_invalid_request(state, "{\"jsonrpc\":\"1.0\",\"id\":\"abc\",\"method\":\"ping\"}");
	assert_id_string(((struct exchange *)*state)->json, "abc");
	assert_invalid_request(state, "{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":5}");
	assert_id_int(((struct exchange *)*state)->json, 6);
	assert_invalid_request(state, "{\"jsonrpc\":\"2.0\",\"id\":8}");
	assert_id_int(((struct exchange *)*state)->json, 8);
	assert_invalid_request(state, "{\"jsonrpc\":2.0,\"id\":9,\"method\":\"ping\"}");
	assert_id_int(((struct exchange *)*state)->json, 9);
}

static void
test_invalid_request_unreadable_id_is_null(void **state)
{
	static const char *const bodies[] = {
		"{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"ping\"}",
		"{\"jsonrpc\":\"2.0\",\"id\":1.5,\"method\":\"ping\"}",
		"{\"jsonrpc\":\"2.0\",\"id\":{},\"method\":\"ping\"}",
		"{\"jsonrpc\":\"2.0\",\"id\":[1],\"method\":\"ping\"}",
		"{\"jsonrpc\":\"2.0\",\"id\":true,\"method\":\"ping\"}",
		"{\"jsonrpc\":\"2.0\",\"id\":1e30,\"method\":\"ping\"}",
		"\"ping\"",
		"42",
		"null",
	};

	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		assert_invalid_request(state, bodies[i]);
		assert_id_null(((struct exchange *)*state)->json);
	}
}

static void
test_ids_are_echoed_exactly(void **state)
{
	const cJSON *msg;

	send_2025(state, "{\"jsonrpc\":\"2.0\",\"id\":9007199254740993,\"method\":\"ping\"}", NULL);
	assert_non_null(strstr(raw(state), "\"id\":9007199254740993,"));
	send_2025(state, "{\"jsonrpc\":\"2.0\",\"id\":-9223372036854775808,\"method\":\"ping\"}", NULL);
	assert_non_null(strstr(raw(state), "\"id\":-9223372036854775808,"));
	msg = send_2025(state, "{\"jsonrpc\":\"2.0\",\"id\":\"a\\\"b\xc3\xab\\u0001\",\"method\":\"ping\"}",
	    NULL);
	assert_id_string(msg, "a\"b\xc3\xab\x01");
	msg = send_2025(state, "{\"jsonrpc\":\"2.0\",\"id\":\"\",\"method\":\"ping\"}", NULL);
	assert_id_string(msg, "");
	msg = send_2025(state, "{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"ping\"}", NULL);
	assert_id_int(msg, 0);
}

static void
test_unknown_method_2025_is_200_method_not_found(void **state)
{
	const cJSON *msg = send_2025(state, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"no/such/method\"}",
	    "2025-11-25");

	assert_int_equal(status(state), 200);
	assert_error(msg, -32601);
	assert_id_int(msg, 3);
	msg = send_2025(state, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"server/discover\"}", NULL);
	assert_int_equal(status(state), 200);
	assert_error(msg, -32601);
}

static void
test_unsupported_header_version_2025_is_400(void **state)
{
	static const char *const versions[] = {"2099-01-01", "2024-11-05", V2026, ""};

	for (size_t i = 0; i < 4; i++) {
		const cJSON *msg = send_2025(state, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}",
		    versions[i]);
		int code = (int)member(member(msg, "error"), "code")->valuedouble;

		assert_int_equal(status(state), 400);
		assert_id_int(msg, 1);
		/* 2025-wire 400s stay out of the 2026 range (spec-notes §1.5). */
		assert_false(code >= -32022 && code <= -32020);
	}
}

static void
test_2025_ignores_mcp_method_and_name_headers(void **state)
{
	const cJSON *msg = post(state, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}",
	    "2025-11-25", "tools/call", "nothing");

	assert_int_equal(status(state), 200);
	assert_result(msg);
}

/*
 * JSON member names are case-sensitive: a _meta key that only looks like
 * the protocol-version claim in another case is no claim, so this is a
 * plain 2025 ping.
 */
static void
test_meta_key_in_other_case_is_not_a_claim(void **state)
{
	const cJSON *msg = send_2025(state, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\","
	    "\"params\":{\"_meta\":{\"IO.ModelContextProtocol/ProtocolVersion\":\"2026-07-28\"}}}",
	    NULL);

	assert_int_equal(status(state), 200);
	assert_result(msg);
}

static void
test_2025_needs_accept_of_both_formats(void **state)
{
	struct exchange *ex = *state;
	const cJSON *msg;

	ex->refuse_accept = true;
	msg = send_2025(state, "{\"jsonrpc\":\"2.0\",\"id\":11,\"method\":\"ping\"}", "2025-11-25");
	assert_int_equal(status(state), 406);
	assert_error(msg, -32000);
	assert_id_int(msg, 11);
}

/* ------------------------------------------------------------------ */
/* "params": null reads as absent params                               */

/* A request body with params given as `params` (NULL: left out). */
static const char *
request_with_params(char *buf, size_t cap, const char *method, const char *params)
{
	snprintf(buf, cap, "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"%s\"%s%s}", method,
	    params ? ",\"params\":" : "", params ? params : "");
	return buf;
}

/* Answers `body` and returns a copy of the status and raw response. */
static char *
answer_of(void **state, const char *body, const char *version, const char *method, int *http)
{
	post(state, body, version, method, NULL);
	*http = status(state);
	return strdup(raw(state) ? raw(state) : "");
}

static void
test_params_null_is_absent_params_in_both_eras(void **state)
{
	static const char *const methods[] = {
		"initialize", "ping", "tools/list", "tools/call", "prompts/list", "resources/list",
		"resources/templates/list", "prompts/get", "resources/read", "server/discover", "no/such",
	};
	static const char *const versions[] = {NULL, "2025-03-26", "2025-06-18", "2025-11-25", V2026};
	char absent_body[256], null_body[256];

	for (size_t m = 0; m < sizeof(methods) / sizeof(methods[0]); m++) {
		for (size_t v = 0; v < sizeof(versions) / sizeof(versions[0]); v++) {
			int absent_status, null_status;
			char *absent = answer_of(state, request_with_params(absent_body, sizeof(absent_body),
			    methods[m], NULL), versions[v], methods[m], &absent_status);
			char *null = answer_of(state, request_with_params(null_body, sizeof(null_body),
			    methods[m], "null"), versions[v], methods[m], &null_status);

			if (absent_status != null_status || strcmp(absent, null) != 0)
				fail_msg("%s at %s: params absent gave %d %s, params null %d %s", methods[m],
				    versions[v] ? versions[v] : "(no header)", absent_status, absent,
				    null_status, null);
			free(absent);
			free(null);
		}
	}
}

static void
test_params_null_ping_is_answered(void **state)
{
	send_2025(state, "{\"jsonrpc\":\"2.0\",\"method\":\"ping\",\"params\":null,\"id\":4}", NULL);
	assert_int_equal(status(state), 200);
	assert_string_equal(raw(state), "{\"jsonrpc\":\"2.0\",\"id\":4,\"result\":{}}");
}

static void
test_params_null_inside_a_batch(void **state)
{
	const cJSON *msg = send_2025(state, "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"params\":null},"
	    "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\",\"params\":null}]", "2025-03-26");

	assert_int_equal(status(state), 200);
	assert_int_equal(cJSON_GetArraySize(msg), 2);
	assert_result(cJSON_GetArrayItem(msg, 0));
	assert_int_equal(cJSON_GetArraySize(member(assert_result(cJSON_GetArrayItem(msg, 1)), "tools")),
	    registered_tools());
	/* Batches keep their per-version rule. */
	send_2025(state, "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"params\":null}]", "2025-06-18");
	assert_int_equal(status(state), 400);
}

static void
assert_batch_elements_get_invalid_params(void **state)
{
	const cJSON *msg = send_2025(state, "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"params\":[]},"
	    "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"ping\"}]", NULL);

	assert_int_equal(cJSON_GetArraySize(msg), 2);
	assert_error(cJSON_GetArrayItem(msg, 0), -32602);
	assert_result(cJSON_GetArrayItem(msg, 1));
}

/*
 * JSON-RPC 2.0 §4.2: params, when present, are a structured value.  By
 * position (an array) the request is well-formed but MCP names its params:
 * invalid params.  A number, string or boolean makes no Request at all.
 */
static void
test_params_of_other_types_are_refused(void **state)
{
	static const struct {
		const char *params;
		int code;
	} bad[] = {{"[]", -32602}, {"[1,2]", -32602}, {"1", -32600}, {"\"x\"", -32600}, {"true", -32600},
	    {"false", -32600}};
	static const char *const methods[] = {"ping", "tools/list", "tools/call", "initialize"};
	char body[256];

	for (size_t m = 0; m < sizeof(methods) / sizeof(methods[0]); m++) {
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			const cJSON *msg = send_2025(state, request_with_params(body, sizeof(body), methods[m],
			    bad[i].params), NULL);

			assert_error(msg, bad[i].code);
			assert_id_int(msg, 7);
			assert_int_equal(status(state), 400);
		}
	}
	/* Inside a batch, each element gets its own error. */
	assert_batch_elements_get_invalid_params(state);
}

/* ------------------------------------------------------------------ */
/* Names compared by their whole length                                */

static void
test_method_holding_nul_is_unknown(void **state)
{
	const cJSON *msg = send_2025(state, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\\u0000x\"}",
	    "2025-11-25");

	assert_error(msg, -32601);
	assert_int_equal(status(state), 200);
	msg = send_2025(state, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\\u0000\"}", NULL);
	assert_error(msg, -32601);
}

static void
test_tool_name_holding_nul_is_unknown(void **state)
{
	const cJSON *msg = send_2025(state, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\","
	    "\"params\":{\"name\":\"sum\\u0000x\",\"arguments\":{\"a\":1,\"b\":2}}}", "2025-11-25");

	assert_error(msg, -32602);
	assert_true(strstr(member(member(msg, "error"), "message")->valuestring, "Unknown tool") != NULL);
}

static void
test_2026_headers_do_not_match_a_name_cut_at_nul(void **state)
{
	const cJSON *msg;
	const char *body;

	/* The body's method holds U+0000: the Mcp-Method header names another. */
	body = body_2026(state, "1", "tools/call\\u0000x",
	    "\"name\":\"sum\",\"arguments\":{\"a\":1,\"b\":2},");
	msg = post(state, body, V2026, "tools/call", "sum");
	assert_int_equal(status(state), 400);
	assert_error(msg, -32020);
	/* The same for the tool name and Mcp-Name. */
	body = body_2026(state, "1", "tools/call",
	    "\"name\":\"sum\\u0000x\",\"arguments\":{\"a\":1,\"b\":2},");
	msg = post(state, body, V2026, "tools/call", "sum");
	assert_int_equal(status(state), 400);
	assert_error(msg, -32020);
}

static void
test_member_name_holding_nul_is_invalid_request(void **state)
{
	static const char *const bodies[] = {
		"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\\u0000x\":\"tools/list\"}",
		"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"sum\","
		    "\"arguments\":{\"a\\u0000x\":1,\"b\":2}}}",
		"[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"params\":{\"\\u0000\":1}}]",
	};

	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		const cJSON *msg = send_2025(state, bodies[i], NULL);

		assert_error(msg, -32600);
		assert_id_null(msg);
		assert_int_equal(status(state), 400);
	}
	/* U+0000 in a value, or an escaped backslash before "u0000", is no such name. */
	assert_result(send_2025(state, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\","
	    "\"params\":{\"_meta\":{\"x\\\\u0000\":\"\\u0000\"}}}", NULL));
}

static void
test_response_with_result_and_error_is_invalid(void **state)
{
	const cJSON *msg = send_2025(state, "{\"jsonrpc\":\"2.0\",\"id\":3,\"result\":{},"
	    "\"error\":{\"code\":1,\"message\":\"x\"}}", NULL);

	assert_int_equal(status(state), 400);
	assert_error(msg, -32600);
	assert_id_int(msg, 3);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		MCP_TEST(test_notification_is_202_without_body),
		MCP_TEST(test_posted_response_is_202_without_body),
		MCP_TEST(test_parse_error_is_400_with_null_id),
		MCP_TEST(test_invalid_request_echoes_readable_id),
		MCP_TEST(test_invalid_request_unreadable_id_is_null),
		MCP_TEST(test_ids_are_echoed_exactly),
		MCP_TEST(test_unknown_method_2025_is_200_method_not_found),
		MCP_TEST(test_unsupported_header_version_2025_is_400),
		MCP_TEST(test_2025_ignores_mcp_method_and_name_headers),
		MCP_TEST(test_meta_key_in_other_case_is_not_a_claim),
		MCP_TEST(test_2025_needs_accept_of_both_formats),
		MCP_TEST(test_params_null_is_absent_params_in_both_eras),
		MCP_TEST(test_params_null_ping_is_answered),
		MCP_TEST(test_params_null_inside_a_batch),
		MCP_TEST(test_params_of_other_types_are_refused),
		MCP_TEST(test_method_holding_nul_is_unknown),
		MCP_TEST(test_tool_name_holding_nul_is_unknown),
		MCP_TEST(test_2026_headers_do_not_match_a_name_cut_at_nul),
		MCP_TEST(test_member_name_holding_nul_is_invalid_request),
		MCP_TEST(test_response_with_result_and_error_is_invalid),
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
