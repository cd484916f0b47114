/*
 * Unit tests for worker/mcp.c: the 2026-07-28 wire's headers: Mcp-Method and
 * Mcp-Name must match the body (also in their strict base64 form),
 * MCP-Protocol-Version must match the claimed version, and the _meta claim
 * must be well-formed.
 */
#include "tests/unit/worker/mcp_exchange.h"

/* tools/call params of the test tools: base64("sum") has no padding, base64("echo") two characters of it. */
#define SUM_CALL "\"name\":\"sum\",\"arguments\":{\"a\":1,\"b\":2},"
#define ECHO_CALL "\"name\":\"echo\",\"arguments\":{\"text\":\"x\"},"

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
	const char *body = body_2026(state, "1", "tools/call", SUM_CALL);

	assert_2026_refused(state, body, V2026, "tools/call", NULL, 400, -32020);
	body = body_2026(state, "1", "tools/call", SUM_CALL);
	assert_2026_refused(state, body, V2026, "tools/call", "echo", 400, -32020);
	body = body_2026(state, "1", "tools/call", SUM_CALL);
	assert_2026_refused(state, body, V2026, "tools/call", "sum2", 400, -32020);
}

static void
test_2026_name_header_base64_form(void **state)
{
	/* base64("sum") */
	const cJSON *result = assert_result(send_2026(state, "tools/call", SUM_CALL, "=?base64?c3Vt?="));

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
	const char *body = body_2026(state, "1", "tools/call", ECHO_CALL);

	assert_2026_refused(state, body, V2026, "tools/call", "=?base64?!!!?=", 400, -32020);
	body = body_2026(state, "1", "tools/call", ECHO_CALL);
	/* base64("sum"): well-formed but another name. */
	assert_2026_refused(state, body, V2026, "tools/call", "=?base64?c3Vt?=", 400, -32020);
	body = body_2026(state, "1", "tools/call", ECHO_CALL);
	/* base64("echo") unpadded: not the canonical form. */
	assert_2026_refused(state, body, V2026, "tools/call", "=?base64?ZWNobw?=", 400, -32020);
	body = body_2026(state, "1", "tools/call", ECHO_CALL);
	/* base64 of the byte 0xff: not UTF-8. */
	assert_2026_refused(state, body, V2026, "tools/call", "=?base64?/w==?=", 400, -32020);
}

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

	/* base64("echo") is "ZWNobw==". */
	static const struct {
		const char *header, *reason;
	} refused[] = {
		{"=?base64?ZWNob\x80==?=", "invalid Base64"},
		{"=?base64?\xc3\xa9Nobw==?=", "invalid Base64"},
		/* Set bits left over in the last character: decodes to the same bytes. */
		{"=?base64?ZWNobx==?=", "invalid Base64"},
		{"=?base64?ZWNobz==?=", "invalid Base64"},
		/* Padding missing, short, too long, or in the middle. */
		{"=?base64?ZWNobw?=", "invalid Base64"},
		{"=?base64?ZWNobw=?=", "invalid Base64"},
		{"=?base64?ZWNobw===?=", "invalid Base64"},
		{"=?base64?ZWN=obw=?=", "invalid Base64"},
		/* Well-formed, another name: base64("sum"). */
		{"=?base64?c3Vt?=", "does not match"},
		/* Well-formed base64 of the byte 0xff: not UTF-8. */
		{"=?base64?/w==?=", "invalid Base64"},
	};
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		assert_header_refused(state, ECHO_CALL, "tools/call", refused[i].header, refused[i].reason);

	/* Mcp-Method too: base64("tools/call") is "dG9vbHMvY2FsbA==". */
	msg = post(state, body_2026(state, "1", "tools/call", ECHO_CALL), V2026,
	    "=?base64?dG9vbHMvY2FsbA==?=", "echo");
	assert_int_equal(status(state), 200);
	assert_string_equal(content_text(assert_result(msg)), "echo: x");
	assert_header_refused(state, ECHO_CALL, "=?base64?dG9vbHMvY2FsbB==?=", "echo",
	    "invalid Base64");
	assert_header_refused(state, ECHO_CALL, "=?base64?dG9vbHMvY2FsbA?=", "echo",
	    "invalid Base64");
	assert_header_refused(state, ECHO_CALL, "=?base64?dG9vbHMvY2Fsb\xff==?=", "echo",
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
	assert_header_refused(state, SUM_CALL, "tools/call", name, "does not match");
	/* 1025 bytes: too long for the buffer. */
	strcpy(p, "YWE=?=");
	assert_header_refused(state, SUM_CALL, "tools/call", name, "invalid Base64");
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
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
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
