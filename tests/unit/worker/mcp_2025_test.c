/*
 * Unit tests for worker/mcp.c (with worker/methods.c behind it): the 2025
 * wire's methods: initialize, ping, tools/list, tools/call, and the empty
 * prompts and resources.
 */
#include "tests/unit/worker/mcp_exchange.h"

static void
assert_initialize_answers(void **state, const char *requested, const char *answered)
{
	char body[512];
	const cJSON *result, *info;

	snprintf(body, sizeof(body), "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\","
	    "\"params\":{\"protocolVersion\":\"%s\",\"capabilities\":{},"
	    "\"clientInfo\":{\"name\":\"t\",\"version\":\"1\"}}}", requested);
	result = assert_result(send_2025(state, body, NULL));
	assert_int_equal(status(state), 200);
	assert_id_int(((struct exchange *)*state)->json, 1);
	assert_string_member(result, "protocolVersion", answered);
	assert_true(cJSON_IsObject(member(member(result, "capabilities"), "tools")));
	info = member(result, "serverInfo");
	assert_string_member(info, "name", "mcpd");
	assert_string_member(info, "version", MCPD_VERSION);
	assert_2025_result_fields(result);
}

static void
test_initialize_echoes_each_served_version(void **state)
{
	assert_initialize_answers(state, "2025-03-26", "2025-03-26");
	assert_initialize_answers(state, "2025-06-18", "2025-06-18");
	assert_initialize_answers(state, "2025-11-25", "2025-11-25");
}

static void
test_initialize_unknown_version_gets_latest_2025(void **state)
{
	assert_initialize_answers(state, "2024-11-05", "2025-11-25");
	assert_initialize_answers(state, "1999-01-01", "2025-11-25");
	assert_initialize_answers(state, "", "2025-11-25");
	/* 2026-07-28 has no initialize; a 2025-style handshake gets 2025-11-25. */
	assert_initialize_answers(state, V2026, "2025-11-25");
}

static void
test_initialize_server_title_from_2025_06_18(void **state)
{
	const cJSON *info;

	assert_initialize_answers(state, "2025-03-26", "2025-03-26");
	info = member(member(((struct exchange *)*state)->json, "result"), "serverInfo");
	assert_no_member(info, "title");
	assert_initialize_answers(state, "2025-06-18", "2025-06-18");
	info = member(member(((struct exchange *)*state)->json, "result"), "serverInfo");
	assert_true(cJSON_IsString(member(info, "title")));
}

static void
test_initialize_without_version_is_invalid_params(void **state)
{
	const cJSON *msg = send_2025(state,
	    "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"initialize\",\"params\":{}}", NULL);

	assert_error(msg, -32602);
	assert_id_int(msg, 4);
	msg = send_2025(state, "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"initialize\","
	    "\"params\":{\"protocolVersion\":20250618}}", NULL);
	assert_error(msg, -32602);
	assert_id_int(msg, 5);
}

static void
test_ping_returns_empty_result(void **state)
{
	const cJSON *msg = send_2025(state, "{\"jsonrpc\":\"2.0\",\"id\":\"p1\",\"method\":\"ping\"}", NULL);

	assert_int_equal(status(state), 200);
	assert_id_string(msg, "p1");
	assert_int_equal(cJSON_GetArraySize(assert_result(msg)), 0);
	msg = send_2025(state, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"ping\",\"params\":{}}",
	    "2025-11-25");
	assert_int_equal(status(state), 200);
	assert_int_equal(cJSON_GetArraySize(assert_result(msg)), 0);
}

static const cJSON *
tools_2025(void **state, const char *version)
{
	const cJSON *result = assert_result(send_2025(state, tools_list_body, version));
	const cJSON *tools = member(result, "tools");

	assert_int_equal(status(state), 200);
	assert_true(cJSON_IsArray(tools));
	assert_int_equal(cJSON_GetArraySize(tools), registered_tools());
	assert_2025_result_fields(result);
	assert_no_member(result, "ttlMs");
	assert_no_member(result, "cacheScope");
	return tools;
}

static void
test_tools_list_2025_03_26_has_no_title_or_output_schema(void **state)
{
	const cJSON *tool;

	cJSON_ArrayForEach(tool, tools_2025(state, NULL)) {
		assert_true(cJSON_IsString(member(tool, "name")));
		assert_true(cJSON_IsObject(member(tool, "inputSchema")));
		assert_no_member(tool, "title");
		assert_no_member(tool, "outputSchema");
	}
	cJSON_ArrayForEach(tool, tools_2025(state, "2025-03-26")) {
		assert_no_member(tool, "title");
		assert_no_member(tool, "outputSchema");
	}
}

static void
test_tools_list_title_and_output_schema_from_2025_06_18(void **state)
{
	static const char *const versions[] = {"2025-06-18", "2025-11-25"};
	const cJSON *tool;

	for (size_t i = 0; i < 2; i++) {
		cJSON_ArrayForEach(tool, tools_2025(state, versions[i])) {
			assert_true(cJSON_IsString(member(tool, "title")));
			assert_true(cJSON_IsObject(member(tool, "outputSchema")));
		}
	}
}

static void
test_tools_list_rejects_cursor(void **state)
{
	const cJSON *msg = send_2025(state, "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"tools/list\","
	    "\"params\":{\"cursor\":\"abc\"}}", NULL);

	assert_error(msg, -32602);
	assert_id_int(msg, 9);
}

static const cJSON *
call_2025(void **state, const char *name, const char *args, const char *version)
{
	char body[1024];

	snprintf(body, sizeof(body), "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\","
	    "\"params\":{\"name\":\"%s\",\"arguments\":%s}}", name, args);
	return send_2025(state, body, version);
}

static void
test_tools_call_2025_03_26_has_no_structured_content(void **state)
{
	const cJSON *result = assert_result(call_2025(state, "sum", "{\"a\":2,\"b\":3}", NULL));

	assert_int_equal(status(state), 200);
	assert_string_equal(content_text(result), "5");
	assert_true(cJSON_IsFalse(member(result, "isError")));
	assert_no_member(result, "structuredContent");
	assert_2025_result_fields(result);
}

static void
test_tools_call_structured_content_from_2025_06_18(void **state)
{
	static const char *const versions[] = {"2025-06-18", "2025-11-25"};

	for (size_t i = 0; i < 2; i++) {
		const cJSON *result = assert_result(call_2025(state, "sum",
		    "{\"a\":40,\"b\":2}", versions[i]));
		const cJSON *structured = member(result, "structuredContent");

		assert_string_equal(content_text(result), "42");
		assert_int_equal((int)member(structured, "result")->valuedouble, 42);
		assert_true(cJSON_IsFalse(member(result, "isError")));
	}
}

static void
test_tools_call_string_keeps_utf8(void **state)
{
	const cJSON *result = assert_result(call_2025(state, "echo",
	    "{\"text\":\"Zo\xc3\xab \xf0\x9f\x8e\x89\"}", "2025-11-25"));

	assert_string_equal(content_text(result), "echo: Zo\xc3\xab \xf0\x9f\x8e\x89");
	assert_string_member(member(result, "structuredContent"), "result",
	    "echo: Zo\xc3\xab \xf0\x9f\x8e\x89");
}

static void
test_tools_call_big_integers_are_exact(void **state)
{
	const cJSON *result = assert_result(call_2025(state, "sum",
	    "{\"a\":9007199254740993,\"b\":0}", "2025-06-18"));

	assert_string_equal(content_text(result), "9007199254740993");
	/* cJSON would round the number; the raw bytes must be exact. */
	assert_non_null(strstr(raw(state), "\"structuredContent\":{\"result\":9007199254740993}"));
}

static void
test_tools_call_tool_error_is_in_band(void **state)
{
	const cJSON *result = assert_result(call_2025(state, "sum",
	    "{\"a\":9223372036854775807,\"b\":1}", "2025-11-25"));

	assert_int_equal(status(state), 200);
	assert_true(cJSON_IsTrue(member(result, "isError")));
	assert_non_null(strstr(content_text(result), "does not fit"));
	assert_no_member(result, "structuredContent");
	result = assert_result(call_2025(state, "sum", "{\"a\":\"1\",\"b\":2}", NULL));
	assert_true(cJSON_IsTrue(member(result, "isError")));
	assert_non_null(strstr(content_text(result), "argument 'a'"));
}

static void
test_tools_call_unknown_tool_is_invalid_params(void **state)
{
	const cJSON *msg = call_2025(state, "no_such_tool", "{}", NULL);
	const cJSON *error = assert_error(msg, -32602);

	assert_int_equal(status(state), 200);
	assert_id_int(msg, 1);
	assert_non_null(strstr(member(error, "message")->valuestring, "no_such_tool"));
}

static void
test_tools_call_bad_params_are_invalid_params(void **state)
{
	const cJSON *msg;

	msg = send_2025(state, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\","
	    "\"params\":{\"name\":5}}", NULL);
	assert_error(msg, -32602);
	msg = send_2025(state, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\"}", NULL);
	assert_error(msg, -32602);
	msg = call_2025(state, "sum", "[1,2]", NULL);
	assert_error(msg, -32602);
	assert_id_int(msg, 1);
}

static void
test_tools_call_without_arguments_is_tool_error(void **state)
{
	const cJSON *result = assert_result(send_2025(state, "{\"jsonrpc\":\"2.0\",\"id\":1,"
	    "\"method\":\"tools/call\",\"params\":{\"name\":\"echo\"}}", NULL));

	assert_true(cJSON_IsTrue(member(result, "isError")));
	assert_non_null(strstr(content_text(result), "missing required argument 'text'"));
}

static void
test_log_fields_are_filled(void **state)
{
	struct exchange *ex = *state;

	call_2025(state, "sum", "{\"a\":1,\"b\":2}", NULL);
	assert_string_equal(ex->res.rpc_method, "tools/call");
	assert_string_equal(ex->res.tool, "sum");
}

static void
assert_empty_list(void **state, const char *method, const char *key)
{
	char body[256];
	const cJSON *result;

	snprintf(body, sizeof(body), "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"%s\"}", method);
	result = assert_result(send_2025(state, body, "2025-11-25"));
	assert_int_equal(status(state), 200);
	assert_true(cJSON_IsArray(member(result, key)));
	assert_int_equal(cJSON_GetArraySize(member(result, key)), 0);
	assert_2025_result_fields(result);
}

static void
test_prompts_and_resources_lists_are_empty(void **state)
{
	assert_empty_list(state, "prompts/list", "prompts");
	assert_empty_list(state, "resources/list", "resources");
	assert_empty_list(state, "resources/templates/list", "resourceTemplates");
}

static void
test_prompts_get_and_resources_read_find_nothing(void **state)
{
	const cJSON *msg;

	msg = send_2025(state, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"prompts/get\","
	    "\"params\":{\"name\":\"x\"}}", NULL);
	assert_int_equal(status(state), 200);
	assert_error(msg, -32602);
	msg = send_2025(state, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"resources/read\","
	    "\"params\":{\"uri\":\"file:///x\"}}", NULL);
	assert_int_equal(status(state), 200);
	assert_error(msg, -32002);
	assert_id_int(msg, 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		MCP_TEST(test_initialize_echoes_each_served_version),
		MCP_TEST(test_initialize_unknown_version_gets_latest_2025),
		MCP_TEST(test_initialize_server_title_from_2025_06_18),
		MCP_TEST(test_initialize_without_version_is_invalid_params),
		MCP_TEST(test_ping_returns_empty_result),
		MCP_TEST(test_tools_list_2025_03_26_has_no_title_or_output_schema),
		MCP_TEST(test_tools_list_title_and_output_schema_from_2025_06_18),
		MCP_TEST(test_tools_list_rejects_cursor),
		MCP_TEST(test_tools_call_2025_03_26_has_no_structured_content),
		MCP_TEST(test_tools_call_structured_content_from_2025_06_18),
		MCP_TEST(test_tools_call_string_keeps_utf8),
		MCP_TEST(test_tools_call_big_integers_are_exact),
		MCP_TEST(test_tools_call_tool_error_is_in_band),
		MCP_TEST(test_tools_call_unknown_tool_is_invalid_params),
		MCP_TEST(test_tools_call_bad_params_are_invalid_params),
		MCP_TEST(test_tools_call_without_arguments_is_tool_error),
		MCP_TEST(test_log_fields_are_filled),
		MCP_TEST(test_prompts_and_resources_lists_are_empty),
		MCP_TEST(test_prompts_get_and_resources_read_find_nothing),
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
