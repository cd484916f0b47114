/*
 * Unit tests for worker/mcp.c (with worker/methods.c behind it): the
 * 2026-07-28 wire's methods and results: tools, server/discover, removed and
 * unknown methods, notifications, cache hints.
 */
#include "tests/unit/worker/mcp_exchange.h"

static void
test_2026_tools_list(void **state)
{
	const cJSON *result = assert_result(send_2026(state, "tools/list", "", NULL));
	const cJSON *tools = member(result, "tools"), *tool;

	assert_int_equal(status(state), 200);
	assert_id_int(((struct exchange *)*state)->json, 1);
	assert_int_equal(cJSON_GetArraySize(tools), registered_tools());
	cJSON_ArrayForEach(tool, tools) {
		assert_true(cJSON_IsString(member(tool, "title")));
		assert_true(cJSON_IsObject(member(tool, "outputSchema")));
	}
	assert_2026_result_fields(result);
	assert_true(cJSON_IsNumber(member(result, "ttlMs")));
	assert_true(member(result, "ttlMs")->valuedouble >= 0);
	assert_true(strcmp(member(result, "cacheScope")->valuestring, "public") == 0 ||
	    strcmp(member(result, "cacheScope")->valuestring, "private") == 0);
}

static void
test_2026_tools_call(void **state)
{
	const cJSON *result = assert_result(send_2026(state, "tools/call",
	    "\"name\":\"sum\",\"arguments\":{\"a\":40,\"b\":2},", "sum"));

	assert_int_equal(status(state), 200);
	assert_string_equal(content_text(result), "42");
	assert_int_equal((int)member(member(result, "structuredContent"), "result")->valuedouble, 42);
	assert_true(cJSON_IsFalse(member(result, "isError")));
	assert_2026_result_fields(result);
}

static void
test_2026_tools_call_tool_error(void **state)
{
	const cJSON *result = assert_result(send_2026(state, "tools/call",
	    "\"name\":\"sum\",\"arguments\":{\"a\":-9223372036854775808,\"b\":-1},", "sum"));

	assert_int_equal(status(state), 200);
	assert_true(cJSON_IsTrue(member(result, "isError")));
	assert_non_null(strstr(content_text(result), "does not fit"));
	assert_2026_result_fields(result);
}

static void
test_2026_unknown_tool_is_in_band_invalid_params(void **state)
{
	const cJSON *msg = send_2026(state, "tools/call", "\"name\":\"nope\",\"arguments\":{},", "nope");

	assert_int_equal(status(state), 200);
	assert_error(msg, -32602);
	assert_id_int(msg, 1);
}

static void
test_server_discover(void **state)
{
	const cJSON *result = assert_result(send_2026(state, "server/discover", "", NULL));
	const cJSON *versions = member(result, "supportedVersions"), *v;
	bool found = false;

	assert_int_equal(status(state), 200);
	assert_true(cJSON_IsArray(versions));
	cJSON_ArrayForEach(v, versions)
		found = found || (cJSON_IsString(v) && strcmp(v->valuestring, V2026) == 0);
	assert_true(found);
	assert_true(cJSON_IsObject(member(member(result, "capabilities"), "tools")));
	assert_true(cJSON_IsNumber(member(result, "ttlMs")));
	assert_true(cJSON_IsString(member(result, "cacheScope")));
	assert_2026_result_fields(result);
}

static void
test_2026_unknown_method_is_404(void **state)
{
	const cJSON *msg = send_2026(state, "no/such/method", "", NULL);

	assert_int_equal(status(state), 404);
	assert_error(msg, -32601);
	assert_id_int(msg, 1);
}

static void
test_2026_removed_methods_are_404(void **state)
{
	static const char *const removed[] = {"initialize", "ping", "logging/setLevel"};

	for (size_t i = 0; i < 3; i++) {
		const cJSON *msg = send_2026(state, removed[i], "", NULL);

		assert_int_equal(status(state), 404);
		assert_error(msg, -32601);
	}
}

static void
test_2026_notification_is_202(void **state)
{
	const char *body = body_2026(state, NULL, "notifications/cancelled", "");

	assert_null(post(state, body, V2026, "notifications/cancelled", NULL));
	assert_no_body(state, 202);
}

static void
test_2026_notification_needs_no_method_header(void **state)
{
	const char *body = body_2026(state, NULL, "notifications/cancelled", "");

	assert_null(post(state, body, V2026, NULL, NULL));
	assert_no_body(state, 202);
}

static void
test_2026_does_not_check_accept(void **state)
{
	struct exchange *ex = *state;

	ex->refuse_accept = true;
	assert_result(send_2026(state, "tools/list", "", NULL));
	assert_int_equal(status(state), 200);
}

static void
test_2026_header_whitespace_is_trimmed(void **state)
{
	const char *body = body_2026(state, "1", "tools/call",
	    "\"name\":\"sum\",\"arguments\":{\"a\":1,\"b\":2},");

	assert_result(post(state, body, " " V2026 "\t", " tools/call ", "\tsum "));
	assert_int_equal(status(state), 200);
}

static void
test_2026_empty_lists_carry_cache_hints(void **state)
{
	static const char *const methods[] = {"prompts/list", "resources/list",
	    "resources/templates/list"};

	for (size_t i = 0; i < 3; i++) {
		const cJSON *result = assert_result(send_2026(state, methods[i], "", NULL));

		assert_int_equal(status(state), 200);
		assert_true(cJSON_IsNumber(member(result, "ttlMs")));
		assert_true(cJSON_IsString(member(result, "cacheScope")));
		assert_2026_result_fields(result);
	}
}

static void
test_2026_resource_not_found_is_invalid_params(void **state)
{
	const char *body = body_2026(state, "1", "resources/read", "\"uri\":\"file:///x\",");
	const cJSON *msg = post(state, body, V2026, "resources/read", "file:///x");

	assert_int_equal(status(state), 200);
	/* -32002 is retired on the 2026 wire (spec-notes §1.6). */
	assert_error(msg, -32602);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		MCP_TEST(test_2026_tools_list),
		MCP_TEST(test_2026_tools_call),
		MCP_TEST(test_2026_tools_call_tool_error),
		MCP_TEST(test_2026_unknown_tool_is_in_band_invalid_params),
		MCP_TEST(test_server_discover),
		MCP_TEST(test_2026_unknown_method_is_404),
		MCP_TEST(test_2026_removed_methods_are_404),
		MCP_TEST(test_2026_notification_is_202),
		MCP_TEST(test_2026_notification_needs_no_method_header),
		MCP_TEST(test_2026_does_not_check_accept),
		MCP_TEST(test_2026_header_whitespace_is_trimmed),
		MCP_TEST(test_2026_empty_lists_carry_cache_hints),
		MCP_TEST(test_2026_resource_not_found_is_invalid_params),
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
