/*
 * mcp: the JSON-RPC envelope.  Parses the body, tells the era of each message
 * (spec-notes §1.5: a `_meta` protocol-version claim makes it 2026-07-28,
 * anything else is the 2025 wire), applies that era's header rules, calls the
 * method and wraps its result or error.
 */
#include "worker/mcp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "worker/rpc.h"

#define META_PROTOCOL_VERSION "io.modelcontextprotocol/protocolVersion"
#define META_CLIENT_CAPABILITIES "io.modelcontextprotocol/clientCapabilities"
#define META_SERVER_INFO "io.modelcontextprotocol/serverInfo"

/* What answering one message produced. */
struct reply {
	int status;		/* HTTP status this message asks for */
	bool has_body;		/* false for notifications and posted responses */
};

/* Per-request context shared by the helpers below. */
struct envelope {
	const struct mcp_request *req;
	const struct json_doc *doc;
	struct mcp_response *res;
};

int
mcp_init(void)
{
	if (sodium_init() < 0)
		return -1;
	return methods_init();
}

void
mcp_response_free(struct mcp_response *res)
{
	free(res->body);
	res->body = NULL;
}

static bool
header_equals(struct header_value h, const char *s)
{
	return h.base != NULL && h.len == strlen(s) && memcmp(h.base, s, h.len) == 0;
}

/* A usable id is a string or an integer (MCP forbids null). */
static bool
id_valid(const struct json_doc *doc, const cJSON *id)
{
	int64_t ignored;

	if (cJSON_IsString(id))
		return true;
	return cJSON_IsNumber(id) && json_doc_int64(doc, id, &ignored) == JSON_INT_OK;
}

static void
write_id(struct strbuf *sb, const struct json_doc *doc, const cJSON *id)
{
	int64_t n;

	if (cJSON_IsString(id))
		strbuf_json_string(sb, id->valuestring, strlen(id->valuestring));
	else if (cJSON_IsNumber(id) && json_doc_int64(doc, id, &n) == JSON_INT_OK)
		strbuf_int(sb, n);
	else
		strbuf_puts(sb, "null");
}

static void
write_error(struct strbuf *out, const struct json_doc *doc, const cJSON *id,
    const struct rpc_error *err)
{
	strbuf_puts(out, "{\"jsonrpc\":\"2.0\",\"id\":");
	write_id(out, doc, id);
	strbuf_printf(out, ",\"error\":{\"code\":%d,\"message\":", err->code);
	strbuf_json_string(out, err->message, strlen(err->message));
	if (err->data.len > 0) {
		strbuf_puts(out, ",\"data\":");
		strbuf_append(out, err->data.data, err->data.len);
	}
	strbuf_puts(out, "}}");
}

static void
write_server_meta(struct strbuf *out)
{
	strbuf_puts(out, ",\"resultType\":\"complete\",\"_meta\":{\"" META_SERVER_INFO
	    "\":{\"name\":\"mcpd\",\"version\":\"" MCPD_VERSION "\"}}");
}

/* Runs the method and writes the response object for one request. */
static void
answer_request(struct envelope *env, struct rpc_call *call, const cJSON *id,
    struct strbuf *out, struct reply *reply)
{
	rpc_method_fn fn = methods_find(call->method, call->modern);
	struct rpc_error err = {0};
	struct strbuf result;
	size_t mark = out->len;

	strbuf_init(&result);
	if (fn == NULL) {
		/* 2026-07-28 gives unknown methods their own status (spec-notes §1.2). */
		rpc_fail(&err, call->modern ? 404 : 200, RPC_METHOD_NOT_FOUND,
		    "Method not found: %.100s", call->method);
	} else if (fn(call, &result, &err) == 0) {
		strbuf_puts(out, "{\"jsonrpc\":\"2.0\",\"id\":");
		write_id(out, env->doc, id);
		strbuf_puts(out, ",\"result\":{");
		strbuf_append(out, result.data ? result.data : "", result.len);
		if (call->modern)
			write_server_meta(out);
		strbuf_puts(out, "}}");
		reply->status = 200;
	}
	if (!strbuf_ok(&result)) {
		out->len = mark;
		rpc_fail(&err, 500, RPC_INTERNAL_ERROR, "out of memory");
	}
	if (err.code != 0) {
		write_error(out, env->doc, id, &err);
		reply->status = err.http_status;
	}
	strbuf_free(&result);
	strbuf_free(&err.data);
	reply->has_body = true;
}

/* Decodes the `=?base64?...?=` form a client uses for non-ASCII header values. */
static bool
header_matches(struct header_value h, const char *expected)
{
	static const char prefix[] = "=?base64?", suffix[] = "?=";
	unsigned char decoded[512];
	size_t decoded_len;
	const char *b64;
	size_t b64_len;

	if (h.base == NULL)
		return false;
	if (h.len < sizeof(prefix) + sizeof(suffix) - 2 || memcmp(h.base, prefix, sizeof(prefix) - 1) != 0 ||
	    memcmp(h.base + h.len - 2, suffix, 2) != 0)
		return header_equals(h, expected);
	b64 = h.base + sizeof(prefix) - 1;
	b64_len = h.len - (sizeof(prefix) - 1) - 2;
	if (sodium_base642bin(decoded, sizeof(decoded), b64, b64_len, NULL, &decoded_len, NULL,
	    sodium_base64_VARIANT_ORIGINAL) != 0)
		return false;
	return decoded_len == strlen(expected) && memcmp(decoded, expected, decoded_len) == 0;
}

/*
 * The 2026-07-28 checks, in the order of spec-notes §1.3.  Returns 0 when the
 * request may be dispatched, or -1 with err filled.
 */
static int
check_modern(struct envelope *env, const cJSON *meta, const char *method,
    const cJSON *params, struct rpc_error *err)
{
	const cJSON *claim = cJSON_GetObjectItemCaseSensitive(meta, META_PROTOCOL_VERSION);
	const cJSON *caps = cJSON_GetObjectItemCaseSensitive(meta, META_CLIENT_CAPABILITIES);
	enum proto version;

	if (!cJSON_IsString(claim) ||
	    proto_parse(claim->valuestring, strlen(claim->valuestring), &version) < 0 ||
	    version < PROTO_FIRST_MODERN) {
		strbuf_printf(&err->data, "{\"supported\":[\"%s\"],\"requested\":",
		    proto_names[PROTO_2026_07_28]);
		if (cJSON_IsString(claim))
			strbuf_json_string(&err->data, claim->valuestring, strlen(claim->valuestring));
		else
			strbuf_puts(&err->data, "null");
		strbuf_putc(&err->data, '}');
		return rpc_fail(err, 400, RPC_UNSUPPORTED_VERSION, "Unsupported protocol version");
	}
	if (!header_equals(env->req->protocol_version, claim->valuestring))
		return rpc_fail(err, 400, RPC_HEADER_MISMATCH,
		    "MCP-Protocol-Version header must be present and equal %s", claim->valuestring);
	if (!cJSON_IsObject(caps))
		return rpc_fail(err, 400, RPC_INVALID_PARAMS,
		    "params._meta must carry " META_CLIENT_CAPABILITIES);
	if (!header_matches(env->req->method, method))
		return rpc_fail(err, 400, RPC_HEADER_MISMATCH,
		    "Mcp-Method header must be present and equal the request's method");
	if (strcmp(method, "tools/call") == 0) {
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(params, "name");

		if (cJSON_IsString(name) && !header_matches(env->req->name, name->valuestring))
			return rpc_fail(err, 400, RPC_HEADER_MISMATCH,
			    "Mcp-Name header must be present and equal params.name");
	}
	return 0;
}

/*
 * The 2025 wire.  MCP-Protocol-Version came with 2025-06-18; without it the
 * server assumes 2025-03-26 (2025-06-18 transports §Protocol Version Header).
 */
static int
check_legacy(struct envelope *env, const char *method, const cJSON *params,
    enum proto *version, struct rpc_error *err)
{
	struct header_value h = env->req->protocol_version;

	*version = PROTO_2025_03_26;
	if (h.base != NULL && (proto_parse(h.base, h.len, version) < 0 || *version >= PROTO_FIRST_MODERN))
		return rpc_fail(err, 400, RPC_TRANSPORT_ERROR,
		    "Bad Request: unsupported MCP-Protocol-Version (supported: 2025-03-26, "
		    "2025-06-18, 2025-11-25; 2026-07-28 requests carry params._meta)");
	if (strcmp(method, "initialize") == 0) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(params, "protocolVersion");

		*version = PROTO_LATEST_LEGACY;
		if (cJSON_IsString(v) && proto_parse(v->valuestring, strlen(v->valuestring), version) == 0 &&
		    *version >= PROTO_FIRST_MODERN)
			*version = PROTO_LATEST_LEGACY;
	}
	return 0;
}

static void
reply_with_error(struct envelope *env, const cJSON *id, struct rpc_error *err,
    struct strbuf *out, struct reply *reply)
{
	write_error(out, env->doc, id, err);
	reply->status = err->http_status;
	reply->has_body = true;
	strbuf_free(&err->data);
}

/*
 * Checks the JSON-RPC 2.0 shape of a message.  Returns NULL when it is a
 * request, a notification or a response, else what is wrong with it.
 */
static const char *
envelope_problem(const struct json_doc *doc, const cJSON *msg)
{
	const cJSON *jsonrpc = cJSON_GetObjectItemCaseSensitive(msg, "jsonrpc");
	const cJSON *method = cJSON_GetObjectItemCaseSensitive(msg, "method");
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(msg, "id");
	const cJSON *params = cJSON_GetObjectItemCaseSensitive(msg, "params");

	if (!cJSON_IsObject(msg) || !cJSON_IsString(jsonrpc) || strcmp(jsonrpc->valuestring, "2.0") != 0)
		return "Invalid Request: not a JSON-RPC 2.0 message";
	if (method == NULL) {
		if (id_valid(doc, id) && (cJSON_HasObjectItem(msg, "result") || cJSON_HasObjectItem(msg, "error")))
			return NULL;
		return "Invalid Request: no method";
	}
	if (!cJSON_IsString(method))
		return "Invalid Request: method must be a string";
	if (id != NULL && !id_valid(doc, id))
		return "Invalid Request: id must be a string or an integer";
	if (params != NULL && !cJSON_IsObject(params))
		return "Invalid Request: params must be an object";
	return NULL;
}

/* Applies the header and version rules of the message's era. */
static int
check_era(struct envelope *env, struct rpc_call *call, bool in_batch, struct rpc_error *err)
{
	const cJSON *meta = cJSON_GetObjectItemCaseSensitive(call->params, "_meta");

	call->modern = cJSON_HasObjectItem(meta, META_PROTOCOL_VERSION);
	if (!call->modern)
		return check_legacy(env, call->method, call->params, &call->version, err);
	call->version = PROTO_2026_07_28;
	if (in_batch)
		return rpc_fail(err, 400, RPC_INVALID_REQUEST,
		    "Invalid Request: 2026-07-28 messages cannot be batched");
	return check_modern(env, meta, call->method, call->params, err);
}

/* Answers one JSON-RPC message (a request, notification or response). */
static void
handle_message(struct envelope *env, const cJSON *msg, bool in_batch, struct strbuf *out,
    struct reply *reply)
{
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(msg, "id");
	const cJSON *method = cJSON_GetObjectItemCaseSensitive(msg, "method");
	const char *problem = envelope_problem(env->doc, msg);
	struct rpc_error err = {0};
	struct rpc_call call = {.doc = env->doc, .tool = env->res->tool,
	    .tool_cap = sizeof(env->res->tool)};

	if (!id_valid(env->doc, id))
		id = NULL;
	if (problem != NULL) {
		rpc_fail(&err, 400, RPC_INVALID_REQUEST, "%s", problem);
		reply_with_error(env, id, &err, out, reply);
		return;
	}
	if (method == NULL) {
		/* A client's response to us: we never ask, so there is nothing to do. */
		*reply = (struct reply){.status = 202};
		return;
	}
	call.method = method->valuestring;
	call.params = cJSON_GetObjectItemCaseSensitive(msg, "params");
	snprintf(env->res->rpc_method, sizeof(env->res->rpc_method), "%s", call.method);
	if (check_era(env, &call, in_batch, &err) < 0) {
		reply_with_error(env, id, &err, out, reply);
	} else if (id == NULL) {
		*reply = (struct reply){.status = 202};	/* a notification */
	} else if (in_batch && strcmp(call.method, "initialize") == 0) {
		rpc_fail(&err, 400, RPC_INVALID_REQUEST, "Invalid Request: initialize cannot be batched");
		reply_with_error(env, id, &err, out, reply);
	} else {
		answer_request(env, &call, id, out, reply);
	}
}

/* JSON-RPC batches exist only in 2025-03-26 (removed by 2025-06-18). */
static void
handle_batch(struct envelope *env, struct strbuf *out, struct reply *reply)
{
	struct header_value h = env->req->protocol_version;
	const cJSON *msg;
	struct rpc_error err = {0};
	bool any = false;

	if ((h.base != NULL && !header_equals(h, "2025-03-26")) || cJSON_GetArraySize(env->doc->root) == 0) {
		rpc_fail(&err, 400, RPC_INVALID_REQUEST, h.base != NULL && !header_equals(h, "2025-03-26") ?
		    "Invalid Request: batches are not allowed after protocol version 2025-03-26" :
		    "Invalid Request: empty batch");
		reply_with_error(env, NULL, &err, out, reply);
		return;
	}
	strbuf_putc(out, '[');
	cJSON_ArrayForEach(msg, env->doc->root) {
		struct reply one = {0};
		size_t mark = out->len;

		if (any)
			strbuf_putc(out, ',');
		handle_message(env, msg, true, out, &one);
		if (one.has_body)
			any = true;
		else
			out->len = mark;
	}
	strbuf_putc(out, ']');
	*reply = (struct reply){.status = any ? 200 : 202, .has_body = any};
}

void
mcp_handle(const struct mcp_request *req, struct mcp_response *res)
{
	struct json_doc doc;
	struct envelope env = {.req = req, .doc = &doc, .res = res};
	struct reply reply = {0};
	struct strbuf out;

	memset(res, 0, sizeof(*res));
	strbuf_init(&out);
	if (json_doc_parse(&doc, req->body, req->body_len) < 0) {
		struct rpc_error err = {0};

		rpc_fail(&err, 400, RPC_PARSE_ERROR, "Parse error: the body is not valid JSON");
		reply_with_error(&env, NULL, &err, &out, &reply);
	} else if (cJSON_IsArray(doc.root)) {
		snprintf(res->rpc_method, sizeof(res->rpc_method), "batch");
		handle_batch(&env, &out, &reply);
	} else {
		handle_message(&env, doc.root, false, &out, &reply);
	}
	json_doc_free(&doc);
	res->status = reply.status;
	if (!reply.has_body) {
		strbuf_free(&out);
		return;
	}
	res->body = strbuf_detach(&out, &res->body_len);
	if (res->body == NULL) {
		static const char oom[] = "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":"
		    "{\"code\":-32603,\"message\":\"out of memory\"}}";

		res->status = 500;
		res->body = strdup(oom);
		res->body_len = res->body ? sizeof(oom) - 1 : 0;
	}
}
