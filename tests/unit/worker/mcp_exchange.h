/*
 * mcp_exchange.h: what the unit tests of worker/mcp.c share (one file per
 * concern: worker/mcp_*_test.c).  A test POSTs a body, with the MCP headers
 * it chooses, through mcp_handle exactly as the HTTP layer does, and checks
 * the answer parsed with cJSON; raw bytes are only compared where exactness
 * is the point.  Its state is a fresh struct exchange, freed by the teardown
 * even when the test fails:
 *
 *     static void
 *     test_ping(void **state)
 *     {
 *             assert_result(send_2025(state, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}", NULL));
 *     }
 *
 *     ... const struct CMUnitTest tests[] = {MCP_TEST(test_ping)};
 *     return cmocka_run_group_tests(tests, group_setup, NULL);
 *
 * The tools called are the test tools of tests/tools/ (sum, echo, ...), so
 * that the tests hold whatever tools a fork keeps in worker/tools/.
 */
#ifndef MCPD_TESTS_UNIT_WORKER_MCP_EXCHANGE_H
#define MCPD_TESTS_UNIT_WORKER_MCP_EXCHANGE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cJSON.h>

#include "worker/mcp.h"
#include "worker/tool_engine.h"

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
	const struct mcpd_identity *caller;	/* a verified token's identity; NULL: --auth none */
	char body[8192];	/* request bodies built by the helpers */
};

static inline int
group_setup(void **state)
{
	(void)state;
	return mcp_init();
}

static inline int
setup(void **state)
{
	struct exchange *ex = calloc(1, sizeof(*ex));

	*state = ex;
	return ex == NULL ? -1 : 0;
}

static inline void
exchange_clear(struct exchange *ex)
{
	cJSON_Delete(ex->json);
	ex->json = NULL;
	mcp_response_free(&ex->res);
}

static inline int
teardown(void **state)
{
	exchange_clear(*state);
	free(*state);
	return 0;
}

static inline struct header_value
hv(const char *s)
{
	return (struct header_value){s, s ? strlen(s) : 0};
}

/*
 * POSTs `body` with the given MCP headers (NULL = absent).  Returns the
 * parsed response body, or NULL when the response has none.
 */
static inline const cJSON *
post(void **state, const char *body, const char *version, const char *method, const char *name)
{
	struct exchange *ex = *state;
	struct mcp_request req = {
		.body = body, .body_len = strlen(body),
		.protocol_version = hv(version), .method = hv(method), .name = hv(name),
		.accepts_json_and_sse = !ex->refuse_accept,
		.liveness_ping = ex->liveness, .lone_ping_only = ex->ping_only,
		.tokens_verified = ex->caller != NULL, .identity = ex->caller,
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

static inline const cJSON *
send_2025(void **state, const char *body, const char *version)
{
	return post(state, body, version, NULL, NULL);
}

/*
 * Builds a 2026-07-28 request: `extra` goes into params before _meta
 * (empty or ending in a comma).
 */
static inline const char *
body_2026(void **state, const char *id, const char *method, const char *extra)
{
	struct exchange *ex = *state;

	snprintf(ex->body, sizeof(ex->body), "{\"jsonrpc\":\"2.0\",%s%s%s\"method\":\"%s\","
	    "\"params\":{%s" META_2026 "}}", id ? "\"id\":" : "", id ? id : "", id ? "," : "",
	    method, extra);
	return ex->body;
}

/* A well-formed 2026-07-28 request with all the headers it needs. */
static inline const cJSON *
send_2026(void **state, const char *method, const char *extra, const char *name_header)
{
	const char *body = body_2026(state, "1", method, extra);

	return post(state, body, V2026, method, name_header);
}

/* How many tools this build has: its reference tools and, in test builds, the test tools. */
static inline int
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
	assert_true(n >= 1);
	return n;
}

static inline int
status(void **state)
{
	return ((struct exchange *)*state)->res.status;
}

static inline const char *
raw(void **state)
{
	return ((struct exchange *)*state)->res.body;
}

static inline const cJSON *
member(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (v == NULL)
		fail_msg("missing member \"%s\"", key);
	return v;
}

static inline void
assert_no_member(const cJSON *obj, const char *key)
{
	if (cJSON_GetObjectItemCaseSensitive(obj, key) != NULL)
		fail_msg("unexpected member \"%s\"", key);
}

static inline void
assert_string_member(const cJSON *obj, const char *key, const char *expected)
{
	const cJSON *v = member(obj, key);

	if (!cJSON_IsString(v))
		fail_msg("member \"%s\" is not a string", key);
	assert_string_equal(v->valuestring, expected);
}

static inline void
assert_jsonrpc(const cJSON *msg)
{
	assert_non_null(msg);
	assert_true(cJSON_IsObject(msg));
	assert_string_member(msg, "jsonrpc", "2.0");
}

/* The error object of a response; checks there is no result beside it. */
static inline const cJSON *
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

static inline const cJSON *
assert_result(const cJSON *msg)
{
	assert_jsonrpc(msg);
	if (cJSON_GetObjectItemCaseSensitive(msg, "error") != NULL)
		fail_msg("unexpected error response");
	assert_true(cJSON_IsObject(member(msg, "result")));
	return member(msg, "result");
}

static inline void
assert_id_null(const cJSON *msg)
{
	assert_true(cJSON_IsNull(member(msg, "id")));
}

static inline void
assert_id_int(const cJSON *msg, int expected)
{
	const cJSON *id = member(msg, "id");

	assert_true(cJSON_IsNumber(id));
	assert_int_equal((int)id->valuedouble, expected);
}

static inline void
assert_id_string(const cJSON *msg, const char *expected)
{
	assert_string_member(msg, "id", expected);
}

/* What every 2026-07-28 result carries. */
static inline void
assert_2026_result_fields(const cJSON *result)
{
	const cJSON *info;

	assert_string_member(result, "resultType", "complete");
	info = member(member(result, "_meta"), META_SERVER_INFO);
	assert_string_member(info, "name", "mcpd");
	assert_string_member(info, "version", MCPD_VERSION);
}

static inline void
assert_2025_result_fields(const cJSON *result)
{
	assert_no_member(result, "resultType");
	assert_no_member(result, "_meta");
}

static inline void
assert_no_body(void **state, int expected_status)
{
	struct exchange *ex = *state;

	assert_int_equal(ex->res.status, expected_status);
	assert_null(ex->res.body);
	assert_int_equal(ex->res.body_len, 0);
}

static const char tools_list_body[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}";

static inline const char *
content_text(const cJSON *result)
{
	const cJSON *content = member(result, "content"), *first;

	assert_int_equal(cJSON_GetArraySize(content), 1);
	first = cJSON_GetArrayItem(content, 0);
	assert_string_member(first, "type", "text");
	return member(first, "text")->valuestring;
}

static inline void
assert_2026_refused(void **state, const char *body, const char *version,
    const char *method, const char *name, int http, int code)
{
	const cJSON *msg = post(state, body, version, method, name);

	assert_int_equal(status(state), http);
	assert_error(msg, code);
	assert_id_int(msg, 1);
}

#define MCP_TEST(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

#endif
