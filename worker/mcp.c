/* Runs in: workers, after the sandbox. */
/*
 * mcp: the JSON-RPC envelope.  Parses the body, has each message's wire and
 * header rules checked (mcp_wire.c), calls the method and wraps its result or
 * error; a tools/call that waits leaves room for its result (mcp_wait.c).
 */
#include "worker/mcp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "worker/mcp_wait.h"
#include "worker/mcp_wire.h"
#include "worker/own_counters.h"
#include "worker/rpc.h"
#include "worker/tool_engine.h"


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
	} else if (mcp_wire_check(env->req, &call, in_batch, id == NULL, &err) < 0) {
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
		mcp_wire_not_acceptable(&err);
		reply_with_error(env, NULL, &err, out, reply);
		return;
	}
	if ((h.base != NULL && !mcp_header_equals(h, "2025-03-26")) || env->doc->root->child == NULL) {
		rpc_fail(&err, 400, RPC_INVALID_REQUEST, h.base != NULL && !mcp_header_equals(h, "2025-03-26") ?
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
