/*
 * Unit tests for worker/mcp.c (with worker/methods.c behind it): JSON-RPC
 * envelopes, the 2025 protocol versions and the 2026-07-28 wire, fed through
 * mcp_handle exactly as the HTTP layer does.  Response bodies are parsed
 * with cJSON; raw bytes are only compared where exactness is the point.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cJSON.h>

#include "worker/mcp.h"
#include "worker/tool_engine.h"
#include "tests/unit/address_limit.h"
#include "tests/unit/cpu_ratio.h"

#define V2026 "2026-07-28"
#define META_VERSION "io.modelcontextprotocol/protocolVersion"
#define META_CAPS "io.modelcontextprotocol/clientCapabilities"
#define META_SERVER_INFO "io.modelcontextprotocol/serverInfo"
/* The _meta a 2026-07-28 client puts in every request. */
#define META_2026 "\"_meta\":{\"" META_VERSION "\":\"" V2026 "\",\"" META_CAPS "\":{}}"

/* One request and its answer; freed by the teardown even when a test fails. */
struct exchange {
	struct mcp_response res;
	cJSON *json;		/* the parsed body, NULL when there is none */
	bool refuse_accept;	/* Accept lacks application/json or text/event-stream */
	bool liveness;		/* mcp_request.liveness_ping */
	bool ping_only;		/* mcp_request.lone_ping_only */
	char body[8192];	/* request bodies built by the helpers */
};

static int
group_setup(void **state)
{
	(void)state;
	return mcp_init();
}

static int
setup(void **state)
{
	struct exchange *ex = calloc(1, sizeof(*ex));

	*state = ex;
	return ex == NULL ? -1 : 0;
}

static void
exchange_clear(struct exchange *ex)
{
	cJSON_Delete(ex->json);
	ex->json = NULL;
	mcp_response_free(&ex->res);
}

static int
teardown(void **state)
{
	exchange_clear(*state);
	free(*state);
	return 0;
}

static struct header_value
hv(const char *s)
{
	return (struct header_value){s, s ? strlen(s) : 0};
}

/*
 * POSTs `body` with the given MCP headers (NULL = absent).  Returns the
 * parsed response body, or NULL when the response has none.
 */
static const cJSON *
post(void **state, const char *body, const char *version, const char *method, const char *name)
{
	struct exchange *ex = *state;
	struct mcp_request req = {
		.body = body, .body_len = strlen(body),
		.protocol_version = hv(version), .method = hv(method), .name = hv(name),
		.accepts_json_and_sse = !ex->refuse_accept,
		.liveness_ping = ex->liveness, .lone_ping_only = ex->ping_only,
	};

	exchange_clear(ex);
	mcp_handle(&req, &ex->res);
	if (ex->res.body == NULL) {
		assert_int_equal(ex->res.body_len, 0);
		return NULL;
	}
	assert_int_equal(ex->res.body_len, strlen(ex->res.body));
	ex->json = cJSON_ParseWithLength(ex->res.body, ex->res.body_len);
	if (ex->json == NULL)
		fail_msg("response body is not JSON: %s", ex->res.body);
	return ex->json;
}

static const cJSON *
send_2025(void **state, const char *body, const char *version)
{
	return post(state, body, version, NULL, NULL);
}

/*
 * Builds a 2026-07-28 request: `extra` goes into params before _meta
 * (empty or ending in a comma).
 */
static const char *
body_2026(void **state, const char *id, const char *method, const char *extra)
{
	struct exchange *ex = *state;

	snprintf(ex->body, sizeof(ex->body), "{\"jsonrpc\":\"2.0\",%s%s%s\"method\":\"%s\","
	    "\"params\":{%s" META_2026 "}}", id ? "\"id\":" : "", id ? id : "", id ? "," : "",
	    method, extra);
	return ex->body;
}

/* A well-formed 2026-07-28 request with all the headers it needs. */
static const cJSON *
send_2026(void **state, const char *method, const char *extra, const char *name_header)
{
	const char *body = body_2026(state, "1", method, extra);

	return post(state, body, V2026, method, name_header);
}

static void assert_2026_refused(void **state, const char *body, const char *version,
    const char *method, const char *name, int http, int code);

/* How many tools this build has: the reference three, and the test tools in test builds. */
static int
registered_tools(void)
{
	struct strbuf sb;
	cJSON *list;
	int n;

	strbuf_init(&sb);
	tools_write_list(&sb, 0);
	list = cJSON_ParseWithLength(sb.data, sb.len);
	strbuf_free(&sb);
	assert_non_null(list);
	n = cJSON_GetArraySize(list);
	cJSON_Delete(list);
	assert_true(n >= 3);
	return n;
}

static int
status(void **state)
{
	return ((struct exchange *)*state)->res.status;
}

static const char *
raw(void **state)
{
	return ((struct exchange *)*state)->res.body;
}

static const cJSON *
member(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (v == NULL)
		fail_msg("missing member \"%s\"", key);
	return v;
}

static void
assert_no_member(const cJSON *obj, const char *key)
{
	if (cJSON_GetObjectItemCaseSensitive(obj, key) != NULL)
		fail_msg("unexpected member \"%s\"", key);
}

static void
assert_string_member(const cJSON *obj, const char *key, const char *expected)
{
	const cJSON *v = member(obj, key);

	if (!cJSON_IsString(v))
		fail_msg("member \"%s\" is not a string", key);
	assert_string_equal(v->valuestring, expected);
}

static void
assert_jsonrpc(const cJSON *msg)
{
	assert_non_null(msg);
	assert_true(cJSON_IsObject(msg));
	assert_string_member(msg, "jsonrpc", "2.0");
}

/* The error object of a response; checks there is no result beside it. */
static const cJSON *
assert_error(const cJSON *msg, int code)
{
	const cJSON *error;

	assert_jsonrpc(msg);
	assert_no_member(msg, "result");
	error = member(msg, "error");
	assert_int_equal((int)member(error, "code")->valuedouble, code);
	assert_true(cJSON_IsString(member(error, "message")));
	assert_true(strlen(member(error, "message")->valuestring) > 0);
	return error;
}

static const cJSON *
assert_result(const cJSON *msg)
{
	assert_jsonrpc(msg);
	if (cJSON_GetObjectItemCaseSensitive(msg, "error") != NULL)
		fail_msg("unexpected error response");
	assert_true(cJSON_IsObject(member(msg, "result")));
	return member(msg, "result");
}

static void
assert_id_null(const cJSON *msg)
{
	assert_true(cJSON_IsNull(member(msg, "id")));
}

static void
assert_id_int(const cJSON *msg, int expected)
{
	const cJSON *id = member(msg, "id");

	assert_true(cJSON_IsNumber(id));
	assert_int_equal((int)id->valuedouble, expected);
}

static void
assert_id_string(const cJSON *msg, const char *expected)
{
	assert_string_member(msg, "id", expected);
}

/* What every 2026-07-28 result carries. */
static void
assert_2026_result_fields(const cJSON *result)
{
	const cJSON *info;

	assert_string_member(result, "resultType", "complete");
	info = member(member(result, "_meta"), META_SERVER_INFO);
	assert_string_member(info, "name", "mcpd");
	assert_string_member(info, "version", MCPD_VERSION);
}

static void
assert_2025_result_fields(const cJSON *result)
{
	assert_no_member(result, "resultType");
	assert_no_member(result, "_meta");
}

static void
assert_no_body(void **state, int expected_status)
{
	struct exchange *ex = *state;

	assert_int_equal(ex->res.status, expected_status);
	assert_null(ex->res.body);
	assert_int_equal(ex->res.body_len, 0);
}

/* ------------------------------------------------------------------ */
/* 2025 wire: initialize, ping, tools                                  */

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

static const char tools_list_body[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}";

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

static const char *
content_text(const cJSON *result)
{
	const cJSON *content = member(result, "content"), *first;

	assert_int_equal(cJSON_GetArraySize(content), 1);
	first = cJSON_GetArrayItem(content, 0);
	assert_string_member(first, "type", "text");
	return member(first, "text")->valuestring;
}

static void
test_tools_call_2025_03_26_has_no_structured_content(void **state)
{
	const cJSON *result = assert_result(call_2025(state, "add_numbers",
	    "{\"a\":2,\"b\":3}", NULL));

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
		const cJSON *result = assert_result(call_2025(state, "multiply_numbers",
		    "{\"a\":6,\"b\":7}", versions[i]));
		const cJSON *structured = member(result, "structuredContent");

		assert_string_equal(content_text(result), "42");
		assert_int_equal((int)member(structured, "result")->valuedouble, 42);
		assert_true(cJSON_IsFalse(member(result, "isError")));
	}
}

static void
test_tools_call_greet_user_keeps_utf8(void **state)
{
	const cJSON *result = assert_result(call_2025(state, "greet_user",
	    "{\"name\":\"Zo\xc3\xab \xf0\x9f\x8e\x89\"}", "2025-11-25"));

	assert_string_equal(content_text(result), "Hello, Zo\xc3\xab \xf0\x9f\x8e\x89! Nice to meet you.");
	assert_string_member(member(result, "structuredContent"), "result",
	    "Hello, Zo\xc3\xab \xf0\x9f\x8e\x89! Nice to meet you.");
}

static void
test_tools_call_big_integers_are_exact(void **state)
{
	const cJSON *result = assert_result(call_2025(state, "add_numbers",
	    "{\"a\":9007199254740993,\"b\":0}", "2025-06-18"));

	assert_string_equal(content_text(result), "9007199254740993");
	/* cJSON would round the number; the raw bytes must be exact. */
	assert_non_null(strstr(raw(state), "\"structuredContent\":{\"result\":9007199254740993}"));
}

static void
test_tools_call_tool_error_is_in_band(void **state)
{
	const cJSON *result = assert_result(call_2025(state, "add_numbers",
	    "{\"a\":9223372036854775807,\"b\":1}", "2025-11-25"));

	assert_int_equal(status(state), 200);
	assert_true(cJSON_IsTrue(member(result, "isError")));
	assert_non_null(strstr(content_text(result), "does not fit"));
	assert_no_member(result, "structuredContent");
	result = assert_result(call_2025(state, "add_numbers", "{\"a\":\"1\",\"b\":2}", NULL));
	assert_true(cJSON_IsTrue(member(result, "isError")));
	assert_non_null(strstr(content_text(result), "argument 'a'"));
}

static void
test_tools_call_unknown_tool_is_invalid_params(void **state)
{
	const cJSON *msg = call_2025(state, "divide_numbers", "{}", NULL);
	const cJSON *error = assert_error(msg, -32602);

	assert_int_equal(status(state), 200);
	assert_id_int(msg, 1);
	assert_non_null(strstr(member(error, "message")->valuestring, "divide_numbers"));
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
	msg = call_2025(state, "add_numbers", "[1,2]", NULL);
	assert_error(msg, -32602);
	assert_id_int(msg, 1);
}

static void
test_tools_call_without_arguments_is_tool_error(void **state)
{
	const cJSON *result = assert_result(send_2025(state, "{\"jsonrpc\":\"2.0\",\"id\":1,"
	    "\"method\":\"tools/call\",\"params\":{\"name\":\"greet_user\"}}", NULL));

	assert_true(cJSON_IsTrue(member(result, "isError")));
	assert_non_null(strstr(content_text(result), "missing required argument 'name'"));
}

static void
test_log_fields_are_filled(void **state)
{
	struct exchange *ex = *state;

	call_2025(state, "add_numbers", "{\"a\":1,\"b\":2}", NULL);
	assert_string_equal(ex->res.rpc_method, "tools/call");
	assert_string_equal(ex->res.tool, "add_numbers");
}

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

/* ------------------------------------------------------------------ */
/* 2025-03-26 batches                                                  */

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

/* ------------------------------------------------------------------ */
/* 2026-07-28                                                          */

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
	    "\"name\":\"add_numbers\",\"arguments\":{\"a\":40,\"b\":2},", "add_numbers"));

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
	    "\"name\":\"multiply_numbers\",\"arguments\":{\"a\":-9223372036854775808,\"b\":-1},",
	    "multiply_numbers"));

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
	    "\"name\":\"add_numbers\",\"arguments\":{\"a\":1,\"b\":2},");

	assert_result(post(state, body, " " V2026 "\t", " tools/call ", "\tadd_numbers "));
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

/*
 * Mcp-Name is required on tools/call, resources/read (= params.uri) and
 * prompts/get (= params.name): spec-notes §1.3 step 5.
 */
static void
test_2026_name_header_required_for_prompts_get_and_resources_read(void **state)
{
	const char *body = body_2026(state, "1", "prompts/get", "\"name\":\"x\",");

	assert_2026_refused(state, body, V2026, "prompts/get", NULL, 400, -32020);
	body = body_2026(state, "1", "resources/read", "\"uri\":\"file:///x\",");
	assert_2026_refused(state, body, V2026, "resources/read", "file:///y", 400, -32020);
}

static void
assert_2026_refused(void **state, const char *body, const char *version,
    const char *method, const char *name, int http, int code)
{
	const cJSON *msg = post(state, body, version, method, name);

	assert_int_equal(status(state), http);
	assert_error(msg, code);
	assert_id_int(msg, 1);
}

static void
test_2026_protocol_version_header_missing_or_mismatched(void **state)
{
	const char *body = body_2026(state, "1", "tools/list", "");

	assert_2026_refused(state, body, NULL, "tools/list", NULL, 400, -32020);
	body = body_2026(state, "1", "tools/list", "");
	assert_2026_refused(state, body, "2025-11-25", "tools/list", NULL, 400, -32020);
	body = body_2026(state, "1", "tools/list", "");
	assert_2026_refused(state, body, "2026-07-29", "tools/list", NULL, 400, -32020);
}

static void
test_2026_method_header_missing_or_mismatched(void **state)
{
	const char *body = body_2026(state, "1", "tools/list", "");

	assert_2026_refused(state, body, V2026, NULL, NULL, 400, -32020);
	body = body_2026(state, "1", "tools/list", "");
	assert_2026_refused(state, body, V2026, "tools/call", NULL, 400, -32020);
	body = body_2026(state, "1", "tools/list", "");
	assert_2026_refused(state, body, V2026, "Tools/List", NULL, 400, -32020);
}

static void
test_2026_name_header_missing_or_mismatched(void **state)
{
	static const char extra[] = "\"name\":\"add_numbers\",\"arguments\":{\"a\":1,\"b\":2},";
	const char *body = body_2026(state, "1", "tools/call", extra);

	assert_2026_refused(state, body, V2026, "tools/call", NULL, 400, -32020);
	body = body_2026(state, "1", "tools/call", extra);
	assert_2026_refused(state, body, V2026, "tools/call", "greet_user", 400, -32020);
	body = body_2026(state, "1", "tools/call", extra);
	assert_2026_refused(state, body, V2026, "tools/call", "add_numbers2", 400, -32020);
}

static void
test_2026_name_header_base64_form(void **state)
{
	/* base64("add_numbers") */
	const cJSON *result = assert_result(send_2026(state, "tools/call",
	    "\"name\":\"add_numbers\",\"arguments\":{\"a\":1,\"b\":2},",
	    "=?base64?YWRkX251bWJlcnM=?="));

	assert_int_equal(status(state), 200);
	assert_string_equal(content_text(result), "3");
}

static void
test_2026_name_header_base64_non_ascii(void **state)
{
	/* base64("caf\xc3\xa9"): the headers match, then the tool is unknown. */
	const cJSON *msg = send_2026(state, "tools/call", "\"name\":\"caf\xc3\xa9\",\"arguments\":{},",
	    "=?base64?Y2Fmw6k=?=");

	assert_int_equal(status(state), 200);
	assert_error(msg, -32602);
}

static void
test_2026_name_header_bad_base64(void **state)
{
	static const char extra[] = "\"name\":\"add_numbers\",\"arguments\":{\"a\":1,\"b\":2},";
	const char *body = body_2026(state, "1", "tools/call", extra);

	assert_2026_refused(state, body, V2026, "tools/call", "=?base64?!!!?=", 400, -32020);
	body = body_2026(state, "1", "tools/call", extra);
	/* base64("greet_user"): well-formed but another name. */
	assert_2026_refused(state, body, V2026, "tools/call", "=?base64?Z3JlZXRfdXNlcg==?=",
	    400, -32020);
	body = body_2026(state, "1", "tools/call", extra);
	/* Unpadded: not the canonical form. */
	assert_2026_refused(state, body, V2026, "tools/call", "=?base64?YWRkX251bWJlcnM?=",
	    400, -32020);
	body = body_2026(state, "1", "tools/call", extra);
	/* base64 of the byte 0xff: not UTF-8. */
	assert_2026_refused(state, body, V2026, "tools/call", "=?base64?/w==?=", 400, -32020);
}

#define ADD_CALL "\"name\":\"add_numbers\",\"arguments\":{\"a\":1,\"b\":2},"
#define QQQ_CALL "\"name\":\"???\",\"arguments\":{},"

/*
 * Asserts that a tools/call with params `extra` and these Mcp-Method and
 * Mcp-Name values is refused, and that the message says why: `why` is
 * "invalid Base64" for a badly encoded value, "does not match" for another.
 */
static void
assert_header_refused(void **state, const char *extra, const char *method, const char *name,
    const char *why)
{
	struct exchange *ex = *state;
	const char *body = body_2026(state, "1", "tools/call", extra), *message;

	assert_2026_refused(state, body, V2026, method, name, 400, -32020);
	message = member(member(ex->json, "error"), "message")->valuestring;
	if (strstr(message, why) == NULL)
		fail_msg("Mcp-Method \"%s\", Mcp-Name \"%s\": \"%s\" does not say \"%s\"", method, name,
		    message, why);
}

/*
 * Only canonical padded base64 decodes.  libsodium 1.0.18, which decoded
 * these values before, took every byte from 0x80 up for '/'.
 */
static void
test_2026_base64_header_is_strict(void **state)
{
	char name[32];
	const cJSON *msg;

	/* base64("???") is "Pz8/": the headers match, then the tool is unknown. */
	msg = send_2026(state, "tools/call", QQQ_CALL, "=?base64?Pz8/?=");
	assert_int_equal(status(state), 200);
	assert_error(msg, -32602);
	for (int c = 0x80; c <= 0xff; c++) {
		snprintf(name, sizeof(name), "=?base64?Pz8%c?=", c);
		assert_header_refused(state, QQQ_CALL, "tools/call", name, "invalid Base64");
	}
	/* base64url is another alphabet. */
	assert_header_refused(state, QQQ_CALL, "tools/call", "=?base64?Pz8_?=", "invalid Base64");

	/* base64("add_numbers") is "YWRkX251bWJlcnM=". */
	static const struct {
		const char *header, *reason;
	} refused[] = {
		{"=?base64?YWRkX251bWJlcn\x80=?=", "invalid Base64"},
		{"=?base64?\xc3\xa9RkX251bWJlcnM=?=", "invalid Base64"},
		/* Set bits left over in the last character: decodes to the same bytes. */
		{"=?base64?YWRkX251bWJlcnN=?=", "invalid Base64"},
		{"=?base64?YWRkX251bWJlcnP=?=", "invalid Base64"},
		/* Padding missing, doubled, or in the middle. */
		{"=?base64?YWRkX251bWJlcnM?=", "invalid Base64"},
		{"=?base64?YWRkX251bWJlcnM==?=", "invalid Base64"},
		{"=?base64?YWR=kX251bWJlcnM?=", "invalid Base64"},
		/* Well-formed, another name. */
		{"=?base64?Z3JlZXRfdXNlcg==?=", "does not match"},
		/* Well-formed base64 of the byte 0xff: not UTF-8. */
		{"=?base64?/w==?=", "invalid Base64"},
	};
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		assert_header_refused(state, ADD_CALL, "tools/call", refused[i].header, refused[i].reason);

	/* Mcp-Method too: base64("tools/call") is "dG9vbHMvY2FsbA==". */
	msg = post(state, body_2026(state, "1", "tools/call", ADD_CALL), V2026,
	    "=?base64?dG9vbHMvY2FsbA==?=", "add_numbers");
	assert_int_equal(status(state), 200);
	assert_string_equal(content_text(assert_result(msg)), "3");
	assert_header_refused(state, ADD_CALL, "=?base64?dG9vbHMvY2FsbB==?=", "add_numbers",
	    "invalid Base64");
	assert_header_refused(state, ADD_CALL, "=?base64?dG9vbHMvY2FsbA?=", "add_numbers",
	    "invalid Base64");
	assert_header_refused(state, ADD_CALL, "=?base64?dG9vbHMvY2Fsb\xff==?=", "add_numbers",
	    "invalid Base64");
}

/* A value that decodes to more than 1024 bytes is refused before comparing. */
static void
test_2026_base64_header_length_limit(void **state)
{
	static char name[1500];
	char *p = name;

	/* 1024 bytes "aaa...": decodes, does not match. */
	p += sprintf(p, "=?base64?");
	for (int i = 0; i < 341; i++)
		p += sprintf(p, "YWFh");
	strcpy(p, "YQ==?=");
	assert_header_refused(state, ADD_CALL, "tools/call", name, "does not match");
	/* 1025 bytes: too long for the buffer. */
	strcpy(p, "YWE=?=");
	assert_header_refused(state, ADD_CALL, "tools/call", name, "invalid Base64");
}

static void
assert_unsupported_version(void **state, const char *claim_json, const char *header,
    const char *requested)
{
	struct exchange *ex = *state;
	const cJSON *data, *v;
	bool found = false;

	snprintf(ex->body, sizeof(ex->body), "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\","
	    "\"params\":{\"_meta\":{\"" META_VERSION "\":%s,\"" META_CAPS "\":{}}}}", claim_json);
	data = member(assert_error(post(state, ex->body, header, "tools/list", NULL), -32022), "data");
	assert_int_equal(status(state), 400);
	assert_id_int(ex->json, 1);
	cJSON_ArrayForEach(v, member(data, "supported"))
		found = found || (cJSON_IsString(v) && strcmp(v->valuestring, V2026) == 0);
	assert_true(found);
	assert_string_member(data, "requested", requested);
}

static void
test_2026_unsupported_claimed_version(void **state)
{
	assert_unsupported_version(state, "\"2099-01-01\"", "2099-01-01", "2099-01-01");
	/* A claim naming a 2025 version is not a 2026 request either. */
	assert_unsupported_version(state, "\"2025-11-25\"", "2025-11-25", "2025-11-25");
	assert_unsupported_version(state, "\"\"", "", "");
}

static void
test_2026_claim_must_be_a_string(void **state)
{
	struct exchange *ex = *state;

	snprintf(ex->body, sizeof(ex->body), "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\","
	    "\"params\":{\"_meta\":{\"" META_VERSION "\":20260728,\"" META_CAPS "\":{}}}}");
	assert_2026_refused(state, ex->body, V2026, "tools/list", NULL, 400, -32602);
}

static void
test_2026_missing_client_capabilities(void **state)
{
	struct exchange *ex = *state;

	snprintf(ex->body, sizeof(ex->body), "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\","
	    "\"params\":{\"_meta\":{\"" META_VERSION "\":\"" V2026 "\"}}}");
	assert_2026_refused(state, ex->body, V2026, "tools/list", NULL, 400, -32602);
	snprintf(ex->body, sizeof(ex->body), "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\","
	    "\"params\":{\"_meta\":{\"" META_VERSION "\":\"" V2026 "\",\"" META_CAPS "\":[]}}}");
	assert_2026_refused(state, ex->body, V2026, "tools/list", NULL, 400, -32602);
}

static void
test_2026_error_echoes_string_id(void **state)
{
	const char *body = body_2026(state, "\"req-1\"", "tools/list", "");
	const cJSON *msg = post(state, body, NULL, "tools/list", NULL);

	assert_int_equal(status(state), 400);
	assert_error(msg, -32020);
	assert_id_string(msg, "req-1");
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

/* A request is well-formed whatever its params: params that are no object are invalid params. */
static void
test_params_of_other_types_are_invalid_params(void **state)
{
	static const char *const bad[] = {"[]", "[1,2]", "1", "\"x\"", "true", "false"};
	static const char *const methods[] = {"ping", "tools/list", "tools/call", "initialize"};
	char body[256];

	for (size_t m = 0; m < sizeof(methods) / sizeof(methods[0]); m++) {
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			const cJSON *msg = send_2025(state, request_with_params(body, sizeof(body), methods[m],
			    bad[i]), NULL);

			assert_error(msg, -32602);
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
	    "\"params\":{\"name\":\"add_numbers\\u0000x\",\"arguments\":{\"a\":1,\"b\":2}}}", "2025-11-25");

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
	    "\"name\":\"add_numbers\",\"arguments\":{\"a\":1,\"b\":2},");
	msg = post(state, body, V2026, "tools/call", "add_numbers");
	assert_int_equal(status(state), 400);
	assert_error(msg, -32020);
	/* The same for the tool name and Mcp-Name. */
	body = body_2026(state, "1", "tools/call",
	    "\"name\":\"add_numbers\\u0000x\",\"arguments\":{\"a\":1,\"b\":2},");
	msg = post(state, body, V2026, "tools/call", "add_numbers");
	assert_int_equal(status(state), 400);
	assert_error(msg, -32020);
}

static void
test_member_name_holding_nul_is_invalid_request(void **state)
{
	static const char *const bodies[] = {
		"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\\u0000x\":\"tools/list\"}",
		"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"add_numbers\","
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

/* ------------------------------------------------------------------ */
/* The liveness ping (health probes without a token)                   */

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
	    "\"params\":{\"name\":\"add_numbers\",\"arguments\":{\"a\":1,\"b\":2}}}", "tools/call");
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
test_liveness_ping_keeps_the_envelope_rules(void **state)
{
	struct exchange *ex = *state;
	const cJSON *msg;

	ex->liveness = ex->ping_only = true;
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

#define MCP_TEST(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

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
		MCP_TEST(test_tools_call_greet_user_keeps_utf8),
		MCP_TEST(test_tools_call_big_integers_are_exact),
		MCP_TEST(test_tools_call_tool_error_is_in_band),
		MCP_TEST(test_tools_call_unknown_tool_is_invalid_params),
		MCP_TEST(test_tools_call_bad_params_are_invalid_params),
		MCP_TEST(test_tools_call_without_arguments_is_tool_error),
		MCP_TEST(test_log_fields_are_filled),
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
		MCP_TEST(test_prompts_and_resources_lists_are_empty),
		MCP_TEST(test_prompts_get_and_resources_read_find_nothing),
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
		MCP_TEST(test_2026_name_header_required_for_prompts_get_and_resources_read),
		MCP_TEST(test_2026_protocol_version_header_missing_or_mismatched),
		MCP_TEST(test_2026_method_header_missing_or_mismatched),
		MCP_TEST(test_2026_name_header_missing_or_mismatched),
		MCP_TEST(test_2026_name_header_base64_form),
		MCP_TEST(test_2026_name_header_base64_non_ascii),
		MCP_TEST(test_2026_name_header_bad_base64),
		MCP_TEST(test_2026_base64_header_is_strict),
		MCP_TEST(test_2026_base64_header_length_limit),
		MCP_TEST(test_2026_unsupported_claimed_version),
		MCP_TEST(test_2026_claim_must_be_a_string),
		MCP_TEST(test_2026_missing_client_capabilities),
		MCP_TEST(test_2026_error_echoes_string_id),
		MCP_TEST(test_params_null_is_absent_params_in_both_eras),
		MCP_TEST(test_params_null_ping_is_answered),
		MCP_TEST(test_params_null_inside_a_batch),
		MCP_TEST(test_params_of_other_types_are_invalid_params),
		MCP_TEST(test_method_holding_nul_is_unknown),
		MCP_TEST(test_tool_name_holding_nul_is_unknown),
		MCP_TEST(test_2026_headers_do_not_match_a_name_cut_at_nul),
		MCP_TEST(test_member_name_holding_nul_is_invalid_request),
		MCP_TEST(test_response_with_result_and_error_is_invalid),
		MCP_TEST(test_liveness_ping_is_answered_whatever_accept_says),
		MCP_TEST(test_without_credentials_only_a_lone_ping_is_served),
		MCP_TEST(test_liveness_ping_keeps_the_envelope_rules),
		MCP_TEST(test_liveness_without_ping_only_serves_everything),
		MCP_TEST(test_ping_without_liveness_keeps_the_accept_rule),
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
