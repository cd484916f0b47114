/* Runs in: workers, after the sandbox. */
/*
 * mcp: the JSON-RPC envelope.  Parses the body, tells the wire of each message
 * (spec-notes §1.5: a `_meta` protocol-version claim makes it 2026-07-28,
 * anything else is the 2025 wire), applies that wire's header rules, calls the
 * method and wraps its result or error.
 */
#include "worker/mcp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/base64.h"
#include "worker/mcp_wait.h"
#include "worker/own_counters.h"
#include "worker/rpc.h"
#include "worker/tool_engine.h"

#define META_PROTOCOL_VERSION "io.modelcontextprotocol/protocolVersion"
#define META_CLIENT_CAPABILITIES "io.modelcontextprotocol/clientCapabilities"
#define META_SERVER_INFO "io.modelcontextprotocol/serverInfo"

/* What answering one message produced. */
struct reply {
	int status;		/* HTTP status this message asks for */
	bool has_body;		/* false for notifications and posted responses */
	bool is_error;		/* the answer is a JSON-RPC error */
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
	return methods_init();
}

void
mcp_response_free(struct mcp_response *res)
{
	free(res->body);
	res->body = NULL;
	if (res->wait != NULL)
		mcp_wait_cancel(res->wait);
	res->wait = NULL;
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
	rpc_method_fn fn = call->method_has_nul ? NULL : methods_find(call->method, call->wire_2026);
	struct rpc_error err = {0};
	struct strbuf result;
	size_t mark = out->len;
	int rc = -1;

	strbuf_init(&result);
	if (fn == NULL) {
		/* 2026-07-28 gives unknown methods their own status (spec-notes §1.2). */
		rpc_fail(&err, call->wire_2026 ? 404 : 200, RPC_METHOD_NOT_FOUND,
		    "Method not found: %.100s", call->method);
	} else if ((rc = fn(call, &result, &err)) >= 0) {
		strbuf_puts(out, "{\"jsonrpc\":\"2.0\",\"id\":");
		write_id(out, env->doc, id);
		strbuf_puts(out, ",\"result\":{");
		strbuf_append(out, result.data ? result.data : "", result.len);
		/* A waiting tool call's result goes here once it completes (mcp_wait.h). */
		if (rc == RPC_PENDING && mcp_wait_add(&env->res->wait, out->len, call->pending, call->pending_tool,
		    call->version) < 0)
			rpc_fail(&err, 500, RPC_INTERNAL_ERROR, "out of memory");
		if (call->wire_2026)
			write_server_meta(out);
		strbuf_puts(out, "}}");
		reply->status = 200;
	}
	if (err.code != 0 && rc == RPC_PENDING)
		out->len = mark;
	if (!strbuf_ok(&result)) {
		out->len = mark;
		rpc_fail(&err, 500, RPC_INTERNAL_ERROR, "out of memory");
	}
	if (err.code != 0) {
		write_error(out, env->doc, id, &err);
		reply->status = err.http_status;
		reply->is_error = true;
	}
	strbuf_free(&result);
	strbuf_free(&err.data);
	reply->has_body = true;
}

/* Strips the optional whitespace (SP, HTAB) around a header value. */
static struct header_value
header_trimmed(struct header_value h)
{
	while (h.len > 0 && (h.base[0] == ' ' || h.base[0] == '\t'))
		h.base++, h.len--;
	while (h.len > 0 && (h.base[h.len - 1] == ' ' || h.base[h.len - 1] == '\t'))
		h.len--;
	return h;
}

enum header_match { HEADER_ABSENT, HEADER_EQUAL, HEADER_DIFFERENT, HEADER_BAD_ENCODING };

/*
 * Compares an Mcp-Method / Mcp-Name value with the body's.  A value a client
 * could not send as plain visible ASCII arrives as `=?base64?...?=`: canonical
 * padded base64 of UTF-8 (2026-07-28 streamable-http §Value Encoding).
 */
static enum header_match
header_match(struct header_value raw, const char *expected)
{
	static const char prefix[] = "=?base64?", suffix[] = "?=";
	const size_t plen = sizeof(prefix) - 1, slen = sizeof(suffix) - 1;
	struct header_value h = header_trimmed(raw);
	unsigned char decoded[1024];
	size_t decoded_len;

	if (h.base == NULL)
		return HEADER_ABSENT;
	if (h.len < plen + slen || memcmp(h.base, prefix, plen) != 0 ||
	    memcmp(h.base + h.len - slen, suffix, slen) != 0)
		return header_equals(h, expected) ? HEADER_EQUAL : HEADER_DIFFERENT;
	/* Canonical only; a value that decodes past the buffer is refused too. */
	if (base64_decode_padded(h.base + plen, h.len - plen - slen, decoded, sizeof(decoded),
	    &decoded_len) < 0 || !utf8_valid((const char *)decoded, decoded_len))
		return HEADER_BAD_ENCODING;
	return decoded_len == strlen(expected) && memcmp(decoded, expected, decoded_len) == 0 ?
	    HEADER_EQUAL : HEADER_DIFFERENT;
}

static int
unsupported_version(struct rpc_error *err, const char *requested)
{
	strbuf_printf(&err->data, "{\"supported\":[\"%s\"],\"requested\":",
	    proto_names[PROTO_2026_07_28]);
	strbuf_json_string(&err->data, requested, strlen(requested));
	strbuf_putc(&err->data, '}');
	return rpc_fail(err, 400, RPC_UNSUPPORTED_VERSION, "Unsupported protocol version: %.64s",
	    requested);
}

/* The requests whose target the Mcp-Name header repeats, and where it is. */
static const struct {
	const char *method;
	const char *param;
} named_methods[] = {
	{"tools/call", "name"},
	{"prompts/get", "name"},
	{"resources/read", "uri"},
};

static const cJSON *
named_target(const char *method, const cJSON *params)
{
	for (size_t i = 0; i < sizeof(named_methods) / sizeof(named_methods[0]); i++)
		if (strcmp(method, named_methods[i].method) == 0)
			return cJSON_GetObjectItemCaseSensitive(params, named_methods[i].param);
	return NULL;
}

static int
header_problem(enum header_match m, const char *header, const char *body_field,
    struct rpc_error *err)
{
	switch (m) {
	case HEADER_EQUAL:
		return 0;
	case HEADER_ABSENT:
		return rpc_fail(err, 400, RPC_HEADER_MISMATCH, "Bad Request: missing %s header", header);
	case HEADER_BAD_ENCODING:
		return rpc_fail(err, 400, RPC_HEADER_MISMATCH,
		    "Bad Request: invalid Base64 sentinel value in %s", header);
	case HEADER_DIFFERENT:
		break;
	}
	return rpc_fail(err, 400, RPC_HEADER_MISMATCH,
	    "Bad Request: the %s header does not match %s", header, body_field);
}

/*
 * Compares a header with a body string by its whole length: a body value
 * holding U+0000 (which cJSON cuts short) equals no header value.
 */
static enum header_match
header_match_body(struct header_value raw, const char *value, bool has_nul)
{
	enum header_match m = header_match(raw, value);

	return has_nul && m == HEADER_EQUAL ? HEADER_DIFFERENT : m;
}

/* Mcp-Method on every request, Mcp-Name where the body names a target. */
static int
check_standard_headers(struct envelope *env, const struct rpc_call *call, struct rpc_error *err)
{
	const cJSON *target = named_target(call->method, call->params);

	if (header_problem(header_match_body(env->req->method, call->method, call->method_has_nul),
	    "Mcp-Method", "the method", err) < 0)
		return -1;
	if (!cJSON_IsString(target))
		return 0;	/* the method's own parameter check reports it */
	return header_problem(header_match_body(env->req->name, target->valuestring,
	    json_doc_string_has_nul(env->doc, target)), "Mcp-Name", "the request's name or uri", err);
}

/*
 * The 2026-07-28 checks, in the order the conformance suite and the SDK
 * agree on: envelope, header/body agreement, version, required headers.
 * Notifications skip the standard headers.  Returns 0 or -1 with err.
 */
static int
check_wire_2026(struct envelope *env, const cJSON *meta, const struct rpc_call *call,
    bool is_notification, struct rpc_error *err)
{
	const cJSON *claim = cJSON_GetObjectItemCaseSensitive(meta, META_PROTOCOL_VERSION);
	const cJSON *caps = cJSON_GetObjectItemCaseSensitive(meta, META_CLIENT_CAPABILITIES);
	struct header_value header = header_trimmed(env->req->protocol_version);
	enum proto version;

	if (!cJSON_IsString(claim))
		return rpc_fail(err, 400, RPC_INVALID_PARAMS,
		    "Invalid params: _meta " META_PROTOCOL_VERSION " must be a string");
	if (!cJSON_IsObject(caps))
		return rpc_fail(err, 400, RPC_INVALID_PARAMS,
		    "Invalid params: _meta must carry " META_CLIENT_CAPABILITIES " (an object)");
	if (header.base != NULL && !header_equals(header, claim->valuestring))
		return rpc_fail(err, 400, RPC_HEADER_MISMATCH,
		    "Bad Request: the MCP-Protocol-Version header and params._meta name different versions");
	if (proto_parse(claim->valuestring, strlen(claim->valuestring), &version) < 0 ||
	    version < PROTO_FIRST_2026)
		return unsupported_version(err, claim->valuestring);
	if (header.base == NULL)
		return rpc_fail(err, 400, RPC_HEADER_MISMATCH,
		    "Bad Request: missing MCP-Protocol-Version header");
	if (is_notification)
		return 0;
	return check_standard_headers(env, call, err);
}

/* The 2025 transports require clients to accept both reply formats. */
static int
not_acceptable(struct rpc_error *err)
{
	return rpc_fail(err, 406, RPC_TRANSPORT_ERROR,
	    "Not Acceptable: the client must accept application/json and text/event-stream");
}

/*
 * The 2025 wire.  MCP-Protocol-Version came with 2025-06-18; without it the
 * server assumes 2025-03-26 (2025-06-18 transports §Protocol Version Header).
 * 2025-wire refusals never use -32020..-32022: clients read those as proof of
 * the 2026 wire.
 */
static int
check_wire_2025(struct envelope *env, const char *method, const cJSON *params,
    enum proto *version, struct rpc_error *err)
{
	struct header_value h = header_trimmed(env->req->protocol_version);

	if (!env->req->accepts_json_and_sse)
		return not_acceptable(err);
	*version = PROTO_2025_03_26;
	if (h.base != NULL && proto_parse(h.base, h.len, version) < 0)
		return rpc_fail(err, 400, RPC_TRANSPORT_ERROR,
		    "Bad Request: unsupported MCP-Protocol-Version %.*s (supported: 2025-03-26, "
		    "2025-06-18, 2025-11-25, 2026-07-28)", (int)(h.len > 32 ? 32 : h.len), h.base);
	if (*version >= PROTO_FIRST_2026)
		return rpc_fail(err, 400, RPC_INVALID_PARAMS,
		    "Invalid params: MCP-Protocol-Version %s needs params._meta with "
		    META_PROTOCOL_VERSION " and " META_CLIENT_CAPABILITIES, proto_names[*version]);
	if (strcmp(method, "initialize") == 0) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(params, "protocolVersion");

		*version = PROTO_LATEST_2025;
		if (cJSON_IsString(v) && proto_parse(v->valuestring, strlen(v->valuestring), version) == 0 &&
		    *version >= PROTO_FIRST_2026)
			*version = PROTO_LATEST_2025;
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
	reply->is_error = true;
	strbuf_free(&err->data);
}

/*
 * Checks the JSON-RPC 2.0 shape of a message whose id the caller already
 * judged (id_ok).  Returns NULL when it is a request, a notification or a
 * response, else what is wrong with it.
 */
static const char *
envelope_problem(const cJSON *msg, bool id_ok)
{
	const cJSON *jsonrpc = cJSON_GetObjectItemCaseSensitive(msg, "jsonrpc");
	const cJSON *method = cJSON_GetObjectItemCaseSensitive(msg, "method");
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(msg, "id");

	if (!cJSON_IsObject(msg) || !cJSON_IsString(jsonrpc) || strcmp(jsonrpc->valuestring, "2.0") != 0)
		return "Invalid Request: not a JSON-RPC 2.0 message";
	if (method == NULL) {
		bool result = cJSON_GetObjectItemCaseSensitive(msg, "result") != NULL;
		bool error = cJSON_GetObjectItemCaseSensitive(msg, "error") != NULL;

		/* A response has exactly one of them (JSON-RPC 2.0 §5). */
		if (result && error)
			return "Invalid Request: a response cannot have both result and error";
		if (id_ok && (result || error))
			return NULL;
		return "Invalid Request: no method";
	}
	if (!cJSON_IsString(method))
		return "Invalid Request: method must be a string";
	if (id != NULL && !id_ok)
		return "Invalid Request: id must be a string or an integer";
	return NULL;
}

/* Applies the header and version rules of the message's wire. */
static int
check_wire(struct envelope *env, struct rpc_call *call, bool in_batch, bool is_notification,
    struct rpc_error *err)
{
	const cJSON *meta = cJSON_GetObjectItemCaseSensitive(call->params, "_meta");

	call->wire_2026 = cJSON_GetObjectItemCaseSensitive(meta, META_PROTOCOL_VERSION) != NULL;
	if (!call->wire_2026)
		return check_wire_2025(env, call->method, call->params, &call->version, err);
	call->version = PROTO_2026_07_28;
	if (in_batch)
		return rpc_fail(err, 400, RPC_INVALID_REQUEST,
		    "Invalid Request: 2026-07-28 messages cannot be batched");
	return check_wire_2026(env, meta, call, is_notification, err);
}

/* Answers one JSON-RPC message (a request, notification or response). */
static void
handle_message(struct envelope *env, const cJSON *msg, bool in_batch, struct strbuf *out,
    struct reply *reply)
{
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(msg, "id");
	const cJSON *method = cJSON_GetObjectItemCaseSensitive(msg, "method");
	bool id_ok = id_valid(env->doc, id);
	const char *problem = envelope_problem(msg, id_ok);
	struct rpc_error err = {0};
	struct rpc_call call = {.doc = env->doc, .tool = env->res->tool,
	    .tool_cap = sizeof(env->res->tool), .tokens_verified = env->req->tokens_verified,
	    .identity = env->req->identity, .res = env->res};

	if (!id_ok)
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
	/* cJSON ends the name at a U+0000: no method has one, so it matches none. */
	call.method_has_nul = json_doc_string_has_nul(env->doc, method);
	call.params = cJSON_GetObjectItemCaseSensitive(msg, "params");
	/* Real senders write "params": null for none; JSON-RPC lets it be left out. */
	if (cJSON_IsNull(call.params))
		call.params = NULL;
	str_copy_truncated(env->res->rpc_method, sizeof(env->res->rpc_method), call.method);
	counter_add(&own_counters->rpc_method[call.method_has_nul ? METHOD_OTHER :
	    counters_method_of(call.method)], 1);
	if (call.params != NULL && !cJSON_IsObject(call.params) && !cJSON_IsArray(call.params)) {
		/* JSON-RPC 2.0 §4.2: params, when present, are a structured value; "x" makes no Request. */
		rpc_fail(&err, 400, RPC_INVALID_REQUEST, "Invalid Request: params must be a structured value "
		    "(an object)");
		reply_with_error(env, id, &err, out, reply);
	} else if (call.params != NULL && !cJSON_IsObject(call.params)) {
		/* A well-formed request whose params are by position: MCP names them. */
		rpc_fail(&err, 400, RPC_INVALID_PARAMS, "Invalid params: params must be an object");
		reply_with_error(env, id, &err, out, reply);
	} else if (check_wire(env, &call, in_batch, id == NULL, &err) < 0) {
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

/*
 * The first member of a batch that calls a tool the caller lacks a scope
 * for, or NULL.  Checked before any member runs: the refusal makes the
 * whole answer 403, and a client that steps up and retries must not run
 * the other members twice.
 */
static const cJSON *
batch_scope_refusal(const struct envelope *env)
{
	const cJSON *msg;

	if (!env->req->tokens_verified)
		return NULL;
	cJSON_ArrayForEach(msg, env->doc->root) {
		const cJSON *method = cJSON_GetObjectItemCaseSensitive(msg, "method");
		const cJSON *params = cJSON_GetObjectItemCaseSensitive(msg, "params");
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(params, "name");
		const struct mcpd_tool *tool;

		if (!cJSON_IsString(method) || strcmp(method->valuestring, "tools/call") != 0 ||
		    json_doc_string_has_nul(env->doc, method) || !cJSON_IsObject(params) || !cJSON_IsString(name) ||
		    json_doc_string_has_nul(env->doc, name))
			continue;
		tool = tools_find(name->valuestring, strlen(name->valuestring));
		if (tool != NULL && tools_missing_scope(tool, env->req->identity != NULL ?
		    env->req->identity->scope : NULL) != NULL)
			return msg;
	}
	return NULL;
}

/* JSON-RPC batches exist only in 2025-03-26 (removed by 2025-06-18). */
static void
handle_batch(struct envelope *env, struct strbuf *out, struct reply *reply)
{
	struct header_value h = env->req->protocol_version;
	const cJSON *msg;
	struct rpc_error err = {0};
	bool any = false;

	if (!env->req->accepts_json_and_sse) {
		not_acceptable(&err);
		reply_with_error(env, NULL, &err, out, reply);
		return;
	}
	if ((h.base != NULL && !header_equals(h, "2025-03-26")) || env->doc->root->child == NULL) {
		rpc_fail(&err, 400, RPC_INVALID_REQUEST, h.base != NULL && !header_equals(h, "2025-03-26") ?
		    "Invalid Request: batches are not allowed after protocol version 2025-03-26" :
		    "Invalid Request: empty batch");
		reply_with_error(env, NULL, &err, out, reply);
		return;
	}
	strbuf_putc(out, '[');
	if ((msg = batch_scope_refusal(env)) != NULL) {
		/* Only the refused member is answered (403, mcp.h's scope_refused); nothing ran. */
		struct reply one = {0};
		size_t start = out->len;

		handle_message(env, msg, true, out, &one);
		if (env->res->scope_refused != NULL) {
			strbuf_putc(out, ']');
			*reply = (struct reply){.status = one.status, .has_body = true};
			return;
		}
		/* That member failed a check before its scope (it runs no tool): the batch runs as usual. */
		out->len = start;
	}
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

/*
 * True when the body is one JSON-RPC request (an id, not a batch or a
 * notification) whose method is exactly "ping", U+0000 and all.
 */
static bool
is_lone_ping(const struct json_doc *doc)
{
	const cJSON *method = cJSON_GetObjectItemCaseSensitive(doc->root, "method");

	return cJSON_IsObject(doc->root) && cJSON_IsString(method) &&
	    strcmp(method->valuestring, "ping") == 0 && !json_doc_string_has_nul(doc, method) &&
	    id_valid(doc, cJSON_GetObjectItemCaseSensitive(doc->root, "id"));
}

void
mcp_handle(const struct mcp_request *req, struct mcp_response *res)
{
	struct json_doc doc;
	struct mcp_request as_served = *req;
	struct envelope env = {.req = &as_served, .doc = &doc, .res = res};
	struct reply reply = {0};
	struct strbuf out;
	bool parsed, names_ok;

	memset(res, 0, sizeof(*res));
	/* Without credentials, nothing larger than a ping is even parsed. */
	if (req->lone_ping_only && req->body_len > MCP_PING_MAX_BODY) {
		res->needs_credentials = true;
		return;
	}
	parsed = json_doc_parse(&doc, req->body, req->body_len) == 0;
	names_ok = parsed && !json_doc_member_name_has_nul(&doc);
	if (names_ok && req->liveness_ping && is_lone_ping(&doc)) {
		/* The probe's own rules: whatever Accept says, the answer is JSON. */
		as_served.accepts_json_and_sse = true;
		res->public_ping = true;
	} else if (req->lone_ping_only) {
		json_doc_free(&doc);
		res->needs_credentials = true;
		return;
	}
	strbuf_init(&out);
	if (!parsed || !names_ok) {
		struct rpc_error err = {0};

		if (!parsed && doc.out_of_memory)
			rpc_fail(&err, 500, RPC_INTERNAL_ERROR,
			    "Internal error: out of memory reading the request");
		else if (!parsed)
			rpc_fail(&err, 400, RPC_PARSE_ERROR, "Parse error: the body is not valid JSON");
		else
			rpc_fail(&err, 400, RPC_INVALID_REQUEST,
			    "Invalid Request: a member name holds U+0000");
		reply_with_error(&env, NULL, &err, &out, &reply);
	} else if (cJSON_IsArray(doc.root)) {
		str_copy_truncated(res->rpc_method, sizeof(res->rpc_method), "batch");
		handle_batch(&env, &out, &reply);
	} else {
		handle_message(&env, doc.root, false, &out, &reply);
	}
	json_doc_free(&doc);
	/*
	 * Without credentials only the probe's own answer goes out: a ping-like
	 * body that fails a check (a header, the envelope, the wire) is 401 like
	 * anything else, so that no version list or error detail is served to
	 * anyone who asks.
	 */
	if (req->lone_ping_only && (reply.is_error || reply.status != 200 || !reply.has_body)) {
		strbuf_free(&out);
		res->public_ping = false;
		res->needs_credentials = true;
		res->rpc_method[0] = res->tool[0] = '\0';
		return;
	}
	res->status = reply.status;
	if (!reply.has_body) {
		strbuf_free(&out);
		return;
	}
	res->body = strbuf_detach(&out, &res->body_len);
	if (res->body == NULL && res->wait != NULL) {
		mcp_wait_cancel(res->wait);
		res->wait = NULL;
	}
	if (res->body == NULL) {
		static const char oom[] = "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":"
		    "{\"code\":-32603,\"message\":\"out of memory\"}}";

		res->status = 500;
		res->body = strdup(oom);
		res->body_len = res->body ? sizeof(oom) - 1 : 0;
	}
}
