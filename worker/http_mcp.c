/* Runs in: workers (routes set up before the sandbox, requests served after). */
#include "worker/http.h"

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "common/framing.h"
#include "common/log.h"
#include "worker/auth.h"
#include "worker/own_counters.h"
#include "worker/mcp.h"
#include "worker/oauth.h"
#include "worker/outflow.h"
#include "worker/tool_engine.h"
#include "worker/transport.h"

static const struct config *http_cfg;

static struct header_value
header(h2o_req_t *req, const h2o_token_t *token)
{
	ssize_t i = h2o_find_header(&req->headers, token, -1);

	if (i < 0)
		return (struct header_value){NULL, 0};
	return (struct header_value){req->headers.entries[i].value.base, req->headers.entries[i].value.len};
}

static struct header_value
header_by_name(h2o_req_t *req, const char *lowercase_name)
{
	ssize_t i = h2o_find_header_by_str(&req->headers, lowercase_name, strlen(lowercase_name), -1);

	if (i < 0)
		return (struct header_value){NULL, 0};
	return (struct header_value){req->headers.entries[i].value.base, req->headers.entries[i].value.len};
}

static const char *
reason_phrase(int status)
{
	switch (status) {
	case 200: return "OK";
	case 202: return "Accepted";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 406: return "Not Acceptable";
	case 413: return "Payload Too Large";
	case 415: return "Unsupported Media Type";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	}
	return "Unknown";
}

/*
 * Log fields gathered while a request is answered ride in req->env as
 * key/value pairs: the log line is written by a logger after the response has
 * gone out, when the handler's locals are long gone.
 */
#define NOTE_RPC_METHOD "mcpd.rpc_method"
#define NOTE_TOOL "mcpd.tool"
#define NOTE_AUTH "mcpd.auth_error"
#define NOTE_PUBLIC "mcpd.auth"
#define NOTE_REFUSED "mcpd.refused"

static void
note_set(h2o_req_t *req, const char *key, const char *value)
{
	if (value == NULL || value[0] == '\0')
		return;
	h2o_vector_reserve(&req->pool, &req->env, req->env.size + 2);
	req->env.entries[req->env.size++] = h2o_iovec_init(key, strlen(key));
	req->env.entries[req->env.size++] = h2o_strdup(&req->pool, value, SIZE_MAX);
}

static void
log_note(struct logline *line, h2o_req_t *req, const char *key, const char *field)
{
	for (size_t i = 0; i + 1 < req->env.size; i += 2)
		if (h2o_memis(req->env.entries[i].base, req->env.entries[i].len, key, strlen(key)))
			logline_strn(line, field, req->env.entries[i + 1].base, req->env.entries[i + 1].len);
}

static void
log_header(struct logline *line, h2o_req_t *req, const char *lowercase_name, const char *field)
{
	struct header_value v = header_by_name(req, lowercase_name);

	if (v.base != NULL)
		logline_strn(line, field, v.base, v.len > 256 ? 256 : v.len);
}

static void
count_request(h2o_req_t *req, long long us)
{
	uint64_t duration = us > 0 ? (uint64_t)us : 0;

	counter_add(&own_counters->http_status[counters_status_of(req->res.status)], 1);
	counter_add(&own_counters->duration_bucket[counters_bucket_of(duration)], 1);
	counter_add(&own_counters->duration_sum_us, duration);
	counter_add(&own_counters->bytes_received, req->entity.base != NULL ? req->entity.len : 0);
	counter_add(&own_counters->bytes_sent, req->bytes_sent);
}

/* Counted, and one line per request, h2o's own refusals (413, ...) included. */
static void
on_log_access(h2o_logger_t *self, h2o_req_t *req)
{
	struct logline line;
	struct timeval now;
	long long us;

	(void)self;
	gettimeofday(&now, NULL);
	us = (now.tv_sec - req->timestamps.request_begin_at.tv_sec) * 1000000LL +
	    (now.tv_usec - req->timestamps.request_begin_at.tv_usec);
	count_request(req, us);
	if (!log_enabled(LOG_INFO))
		return;
	logline_begin(&line, LOG_INFO, "request");
	logline_strn(&line, "http_method", req->method.base, req->method.len);
	logline_strn(&line, "path", req->path_normalized.base, req->path_normalized.len);
	logline_int(&line, "status", req->res.status);
	log_note(&line, req, NOTE_RPC_METHOD, "rpc_method");
	log_note(&line, req, NOTE_TOOL, "tool");
	log_note(&line, req, NOTE_AUTH, "auth_error");
	log_note(&line, req, NOTE_PUBLIC, "auth");
	log_note(&line, req, NOTE_REFUSED, "refused");
	logline_int(&line, "duration_us", us);
	log_header(&line, req, "mcp-session-id", "session_id");
	log_header(&line, req, "x-amzn-bedrock-agentcore-runtime-session-id", "runtime_session_id");
	logline_emit(&line);
}

/*
 * The /mcp request headers that carry one value each.  A second copy is
 * refused, never resolved by taking the first: a proxy that took the last
 * would then check one token or origin while mcpd served another.
 */
enum mcp_header {
	MH_AUTHORIZATION, MH_ORIGIN, MH_CONTENT_TYPE, MH_PROTOCOL_VERSION, MH_METHOD, MH_NAME, MH_COUNT,
};

static const char *const mcp_header_names[MH_COUNT] = {
	"Authorization", "Origin", "Content-Type", "MCP-Protocol-Version", "Mcp-Method", "Mcp-Name",
};

struct mcp_headers {
	struct header_value v[MH_COUNT];
	int repeated;		/* the first header given twice, or -1 */
};

/* Which of them `h` is, or -1; h2o keeps header names in lower case. */
static int
mcp_header_of(const h2o_header_t *h)
{
	/* Origin is no token in h2o 2.2.5; the MCP ones are ours. */
	static const char *const lowercase[] = {
		[MH_ORIGIN] = "origin", [MH_PROTOCOL_VERSION] = "mcp-protocol-version",
		[MH_METHOD] = "mcp-method", [MH_NAME] = "mcp-name",
	};

	if (h2o_iovec_is_token(h->name)) {
		if (h->name == &H2O_TOKEN_AUTHORIZATION->buf)
			return MH_AUTHORIZATION;
		return h->name == &H2O_TOKEN_CONTENT_TYPE->buf ? MH_CONTENT_TYPE : -1;
	}
	for (int i = MH_ORIGIN; i < MH_COUNT; i++)
		if (lowercase[i] != NULL &&
		    h2o_memis(h->name->base, h->name->len, lowercase[i], strlen(lowercase[i])))
			return i;
	return -1;
}


/* One pass over the request's headers. */
static void
collect_mcp_headers(h2o_req_t *req, struct mcp_headers *hs)
{
	*hs = (struct mcp_headers){.repeated = -1};
	for (size_t i = 0; i < req->headers.size; i++) {
		const h2o_header_t *h = &req->headers.entries[i];
		int which = mcp_header_of(h);

		if (which < 0)
			continue;
		if (hs->v[which].base != NULL && hs->repeated < 0)
			hs->repeated = which;
		hs->v[which] = (struct header_value){h->value.base, h->value.len};
	}
}

/* Sends a complete response; the body is copied into the request's pool. */
static void
respond(h2o_req_t *req, int status, const char *content_type, const char *body, size_t len)
{
	req->res.status = status;
	req->res.reason = reason_phrase(status);
	req->res.content_length = len;
	/* Draining: a request parsed before the signal still ends its connection. */
	if (req->conn->ctx->shutdown_requested)
		req->http1_is_persistent = 0;
	if (content_type != NULL)
		h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL,
		    content_type, strlen(content_type));
	outflow_track(req, framing_socket(req), len);
	h2o_send_inline(req, body, len);
}

/* A JSON-RPC error that is not about any one request (id null). */
static void
respond_rpc_error(h2o_req_t *req, int status, int code, const char *message)
{
	char body[256];
	int n = snprintf(body, sizeof(body),
	    "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":%d,\"message\":\"%s\"}}", code, message);

	respond(req, status, "application/json", body, (size_t)n);
}

/*
 * h2o 2.2.5 buffers request heads of up to ~408 KiB.  MCP requests need a
 * few KiB (AgentCore forwards at most 20 headers of 4 KiB), so anything
 * larger is refused before a handler looks at it.
 */
#define MAX_HEADER_BYTES (16 * 1024)

static bool
headers_too_large(h2o_req_t *req)
{
	size_t total = req->path.len;

	for (size_t i = 0; i < req->headers.size; i++)
		total += req->headers.entries[i].name->len + req->headers.entries[i].value.len + 4;
	if (total <= MAX_HEADER_BYTES)
		return false;
	req->http1_is_persistent = 0;
	respond(req, 431, "application/json", H2O_STRLIT("{\"error\":\"request headers larger than 16 KiB\"}"));
	return true;
}

/* A 400 that ends the connection: what follows cannot be trusted as a request. */
static void
respond_bad_request_and_close(h2o_req_t *req, const char *reason)
{
	char body[160];
	int n = snprintf(body, sizeof(body), "{\"error\":\"bad request\",\"error_description\":\"%s\"}",
	    reason);

	note_set(req, NOTE_REFUSED, reason);
	req->http1_is_persistent = 0;
	respond(req, 400, "application/json", body, (size_t)n);
}

/* RFC 9112 framing, checked on the raw head before anything else. */
static bool
framing_refused(h2o_req_t *req)
{
	const char *head, *problem;
	size_t len;

	if (!framing_raw_head(req, &head, &len))
		problem = "request head not found";
	else
		problem = framing_head_problem(head, len, req->version >= 0x101);
	if (problem == NULL)
		return false;
	respond_bad_request_and_close(req, problem);
	return true;
}

/* Checks every route makes first; true when the request was answered. */
static bool
refused_before_routing(h2o_req_t *req)
{
	return headers_too_large(req) || framing_refused(req);
}

static bool
path_is(h2o_req_t *req, const char *path)
{
	return h2o_memis(req->path_normalized.base, req->path_normalized.len, path, strlen(path));
}

/* The MCP endpoint, with or without the trailing slash health probes use. */
static bool
path_is_mcp(h2o_req_t *req)
{
	return path_is(req, "/mcp") || path_is(req, "/mcp/");
}

static int
respond_not_found(h2o_req_t *req)
{
	static const char body[] = "{\"error\":\"not found\"}";

	respond(req, 404, "application/json", body, sizeof(body) - 1);
	return 0;
}

static int
on_req_ping(h2o_handler_t *self, h2o_req_t *req)
{
	char body[96];
	int n;

	(void)self;
	if (refused_before_routing(req))
		return 0;
	if (!path_is(req, "/ping"))
		return respond_not_found(req);
	if (!h2o_memis(req->method.base, req->method.len, H2O_STRLIT("GET")) &&
	    !h2o_memis(req->method.base, req->method.len, H2O_STRLIT("HEAD"))) {
		h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_ALLOW, NULL, H2O_STRLIT("GET, HEAD"));
		respond(req, 405, "application/json", H2O_STRLIT("{\"error\":\"method not allowed\"}"));
		return 0;
	}
	/* The shape of AgentCore's HTTP-contract health answer. */
	n = snprintf(body, sizeof(body), "{\"status\":\"%s\",\"time_of_last_update\":%lld}",
	    auth_ready() ? "Healthy" : "Unhealthy", (long long)time(NULL));
	respond(req, auth_ready() ? 200 : 503, "application/json", body, (size_t)n);
	return 0;
}

/* Frames one JSON-RPC message as a single-event SSE stream. */
static void
respond_sse(h2o_req_t *req, int status, const char *json, size_t len)
{
	static const char prefix[] = "event: message\ndata: ";
	size_t total = sizeof(prefix) - 1 + len + 2;
	char *buf = h2o_mem_alloc_pool(&req->pool, total);

	memcpy(buf, prefix, sizeof(prefix) - 1);
	memcpy(buf + sizeof(prefix) - 1, json, len);
	memcpy(buf + total - 2, "\n\n", 2);
	h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL, H2O_STRLIT("no-cache"));
	h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("x-accel-buffering"), 0, NULL,
	    H2O_STRLIT("no"));
	respond(req, status, "text/event-stream", buf, total);
}

static void
resource_urls(h2o_req_t *req, char *resource, char *metadata, size_t cap)
{
	oauth_resource_url(http_cfg, (struct header_value){req->authority.base, req->authority.len},
	    resource, cap);
	oauth_metadata_url(resource, metadata, cap);
}

/* Answers a refused request as RFC 6750 says; the reason goes to the log. */
static void
respond_unauthorized(h2o_req_t *req, const struct auth_verdict *v)
{
	static const char *const errors[] = {
		[AUTH_NO_TOKEN] = "unauthorized", [AUTH_BAD_TOKEN] = "invalid_token",
		[AUTH_NO_SCOPE] = "insufficient_scope",
	};
	char resource[CONFIG_URL_MAX + 64], metadata[CONFIG_URL_MAX + 128], body[256];
	struct strbuf challenge;
	int n;

	if (v->refusal < N_REFUSAL)
		counter_add(&own_counters->auth_refusals[v->refusal], 1);
	resource_urls(req, resource, metadata, sizeof(metadata));
	strbuf_init(&challenge);
	oauth_challenge(&challenge, v, metadata, &http_cfg->required_scopes);
	if (strbuf_ok(&challenge))
		h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_WWW_AUTHENTICATE, NULL,
		    h2o_strdup(&req->pool, challenge.data, challenge.len).base, challenge.len);
	strbuf_free(&challenge);
	n = snprintf(body, sizeof(body), "{\"error\":\"%s\",\"error_description\":\"%s\"}",
	    errors[v->status], v->reason);
	respond(req, v->status == AUTH_NO_SCOPE ? 403 : 401, "application/json", body, (size_t)n);
}

/* Until the fetcher publishes the first key set, nothing can be verified. */
static void
respond_not_ready(h2o_req_t *req)
{
	static const char body[] = "{\"error\":\"temporarily_unavailable\","
	    "\"error_description\":\"signing keys not loaded yet\"}";

	counter_add(&own_counters->auth_refusals[REFUSAL_KEYS_NOT_LOADED], 1);
	h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_RETRY_AFTER, NULL, H2O_STRLIT("1"));
	respond(req, 503, "application/json", body, sizeof(body) - 1);
}

/* A request without credentials that only a token could make acceptable. */
static void
refuse_without_credentials(h2o_req_t *req)
{
	struct auth_verdict v = {.status = AUTH_NO_TOKEN, .refusal = REFUSAL_NO_TOKEN, .reason = "no bearer token"};

	note_set(req, NOTE_AUTH, v.reason);
	respond_unauthorized(req, &v);
}

/*
 * A tools/call whose tool needs scopes the token lacks: 403 with the scopes
 * to ask for (RFC 6750 §3.1; the MCP authorization spec's step-up), and the
 * JSON-RPC error as the body.
 */
static void
respond_step_up(h2o_req_t *req, const struct mcp_response *out)
{
	char resource[CONFIG_URL_MAX + 64], metadata[CONFIG_URL_MAX + 128], reason[160];
	struct strbuf challenge;

	counter_add(&own_counters->auth_refusals[REFUSAL_TOOL_SCOPE], 1);
	snprintf(reason, sizeof(reason), "tool %s needs scope %s", out->scope_refused->name,
	    out->missing_scope);
	note_set(req, NOTE_AUTH, reason);
	note_set(req, NOTE_TOOL, out->tool);
	resource_urls(req, resource, metadata, sizeof(metadata));
	strbuf_init(&challenge);
	strbuf_puts(&challenge, "Bearer error=\"insufficient_scope\", scope=\"");
	tools_write_scopes(&challenge, out->scope_refused);
	strbuf_printf(&challenge, "\", resource_metadata=\"%s\"", metadata);
	if (strbuf_ok(&challenge))
		h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_WWW_AUTHENTICATE, NULL,
		    h2o_strdup(&req->pool, challenge.data, challenge.len).base, challenge.len);
	strbuf_free(&challenge);
	respond(req, 403, "application/json", out->body, out->body_len);
}

/* Returns true when the request may proceed (`identity` set); otherwise it was answered. */
static bool
authorize(h2o_req_t *req, struct header_value authorization, const struct mcpd_identity **identity)
{
	struct auth_verdict v;

	auth_check(authorization, &v);
	*identity = v.identity;
	if (v.status == AUTH_PASS)
		return true;
	note_set(req, NOTE_AUTH, v.reason);
	if (v.status == AUTH_NOT_READY)
		respond_not_ready(req);
	else
		respond_unauthorized(req, &v);
	return false;
}

/* Answers a POST to /mcp; `anonymous`: no credentials, only a ping may pass. */
static void
handle_mcp_post(h2o_req_t *req, const struct mcp_headers *hs, bool anonymous,
    const struct mcpd_identity *identity)
{
	struct mcp_request in = {
		.body = req->entity.base ? req->entity.base : "",
		.body_len = req->entity.base ? req->entity.len : 0,
		.protocol_version = hs->v[MH_PROTOCOL_VERSION],
		.method = hs->v[MH_METHOD],
		.name = hs->v[MH_NAME],
		.liveness_ping = anonymous,
		.lone_ping_only = anonymous && auth_enabled(),
		.tokens_verified = auth_enabled(),
		.identity = identity,
	};
	struct mcp_response out;
	enum reply_format format;

	/* 406 belongs to the 2025 wire only, so mcp_handle decides it. */
	in.accepts_json_and_sse = transport_negotiate(header(req, H2O_TOKEN_ACCEPT), &format);
	if (!transport_is_json(hs->v[MH_CONTENT_TYPE])) {
		if (in.lone_ping_only)
			refuse_without_credentials(req);
		else
			respond_rpc_error(req, 415, -32000,
			    "Unsupported Media Type: Content-Type must be application/json");
		return;
	}
	mcp_handle(&in, &out);
	if (out.needs_credentials) {
		refuse_without_credentials(req);
		return;
	}
	if (out.scope_refused != NULL) {
		respond_step_up(req, &out);
		mcp_response_free(&out);
		return;
	}
	note_set(req, NOTE_RPC_METHOD, out.rpc_method);
	note_set(req, NOTE_TOOL, out.tool);
	/* The format stays negotiated: JSON unless Accept prefers SSE. */
	if (out.public_ping)
		note_set(req, NOTE_PUBLIC, "public_ping");
	if (out.body == NULL)
		respond(req, out.status, NULL, "", 0);
	else if (format == REPLY_SSE && out.status == 200)
		respond_sse(req, out.status, out.body, out.body_len);
	else
		respond(req, out.status, "application/json", out.body, out.body_len);
	mcp_response_free(&out);
}

/*
 * The paths of the RFC 9728 document: the root, the /mcp-suffixed one, and
 * the one the resource's own URL gives (e.g. .../mcp/ for a --resource-url
 * ending in a slash), which is what challenges point to.
 */
static bool
is_metadata_path(h2o_req_t *req, const char *metadata_url)
{
	const char *authority = strstr(metadata_url, "://");
	const char *path = authority != NULL ? strchr(authority + 3, '/') : NULL;

	return path_is(req, OAUTH_WELL_KNOWN) || path_is(req, OAUTH_WELL_KNOWN "/mcp") ||
	    (path != NULL && path_is(req, path));
}

/* RFC 9728 metadata; no token needed. */
static int
on_req_resource_metadata(h2o_handler_t *self, h2o_req_t *req)
{
	char resource[CONFIG_URL_MAX + 64], metadata[CONFIG_URL_MAX + 128];
	const char *issuer = auth_issuer();
	struct strbuf doc;

	(void)self;
	if (refused_before_routing(req))
		return 0;
	if (!auth_enabled())
		return respond_not_found(req);
	resource_urls(req, resource, metadata, sizeof(metadata));
	if (!is_metadata_path(req, metadata))
		return respond_not_found(req);
	if (issuer == NULL) {
		respond_not_ready(req);
		return 0;
	}
	strbuf_init(&doc);
	oauth_metadata_document(&doc, resource, issuer, &http_cfg->required_scopes);
	if (strbuf_ok(&doc))
		respond(req, 200, "application/json", doc.data, doc.len);
	else
		respond(req, 500, "application/json", H2O_STRLIT("{\"error\":\"out of memory\"}"));
	strbuf_free(&doc);
	return 0;
}

/* The worker holds too many answers its clients have not read yet. */
static void
respond_busy(h2o_req_t *req)
{
	note_set(req, NOTE_REFUSED, "too many answers waiting for slow clients");
	h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_RETRY_AFTER, NULL, H2O_STRLIT("1"));
	respond_rpc_error(req, 503, -32000,
	    "Service Unavailable: too many answers are waiting for slow clients; retry later");
}

/* Answers a request that repeats a one-value header. */
static void
refuse_repeated_header(h2o_req_t *req, enum mcp_header which)
{
	char message[96];

	snprintf(message, sizeof(message), "more than one %s header", mcp_header_names[which]);
	note_set(req, NOTE_REFUSED, message);
	if (which == MH_AUTHORIZATION && auth_enabled()) {
		struct auth_verdict v = {.status = AUTH_BAD_TOKEN, .refusal = REFUSAL_MALFORMED,
		    .reason = "more than one Authorization header"};

		respond_unauthorized(req, &v);
	} else if (which == MH_ORIGIN) {
		respond_rpc_error(req, 403, -32000, "Forbidden: more than one Origin header");
	} else {
		snprintf(message, sizeof(message), "Bad Request: more than one %s header",
		    mcp_header_names[which]);
		respond_rpc_error(req, 400, -32000, message);
	}
}

static int
on_req_mcp(h2o_handler_t *self, h2o_req_t *req)
{
	bool post = h2o_memis(req->method.base, req->method.len, H2O_STRLIT("POST"));
	struct mcp_headers hs;
	const struct mcpd_identity *identity = NULL;
	bool anonymous;

	(void)self;
	if (refused_before_routing(req))
		return 0;
	if (!path_is_mcp(req))
		return respond_not_found(req);
	collect_mcp_headers(req, &hs);
	if (hs.repeated >= 0) {
		refuse_repeated_header(req, hs.repeated);
		return 0;
	}
	if (!transport_origin_allowed(http_cfg, hs.v[MH_ORIGIN])) {
		respond_rpc_error(req, 403, -32000, "Forbidden: Origin not allowed");
		return 0;
	}
	/* A POST without any Authorization header may be a liveness ping. */
	anonymous = post && http_cfg->public_ping && hs.v[MH_AUTHORIZATION].base == NULL;
	/* Answers clients have not read fill the worker: large requests wait. */
	if (post && outflow_refuses(req->entity.len)) {
		respond_busy(req);
		return 0;
	}
	/* An anonymous POST is judged once its body is read: a ping or a 401. */
	if (!(anonymous && auth_enabled()) && !authorize(req, hs.v[MH_AUTHORIZATION], &identity))
		return 0;
	if (post) {
		handle_mcp_post(req, &hs, anonymous, identity);
		return 0;
	}
	/* Stateless: no server-initiated stream to GET, no session to DELETE. */
	h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_ALLOW, NULL, H2O_STRLIT("POST"));
	respond_rpc_error(req, 405, -32000, "Method Not Allowed: this server is stateless; use POST");
	return 0;
}

/*
 * Everything no other path matched, which includes every absolute-form
 * target ("POST http://host:port/mcp HTTP/1.1"): h2o 2.2.5 routes those as a
 * path, but a server MUST accept them (RFC 9112 §3.2.2).  The target's
 * authority replaces Host, and the request is routed by the target's path.
 */
static int
on_req_other(h2o_handler_t *self, h2o_req_t *req)
{
	h2o_iovec_t authority, path;

	if (refused_before_routing(req))
		return 0;
	if (!framing_absolute_target(req->path, &authority, &path))
		return respond_not_found(req);
	req->authority = authority;
	req->path_normalized = h2o_url_normalize_path(&req->pool, path.base, path.len, &req->query_at,
	    &req->norm_indexes);
	if (path_is_mcp(req))
		return on_req_mcp(self, req);
	if (path_is(req, "/ping"))
		return on_req_ping(self, req);
	if (req->path_normalized.len >= strlen(OAUTH_WELL_KNOWN) &&
	    memcmp(req->path_normalized.base, OAUTH_WELL_KNOWN, strlen(OAUTH_WELL_KNOWN)) == 0)
		return on_req_resource_metadata(self, req);
	return respond_not_found(req);
}

#ifdef MCPD_TEST_HOOKS
/*
 * Test builds only: the worker attempts a system call its sandbox forbids,
 * so a test can watch it die by SIGSYS and be replaced.
 */
static int
on_req_forbidden_syscall(h2o_handler_t *self, h2o_req_t *req)
{
	(void)self;
	(void)req;
	(void)socket(AF_INET, SOCK_STREAM, 0);	/* not reached: SIGSYS */
	return -1;
}
#endif

static void
register_path(h2o_hostconf_t *host, const char *path, int (*on_req)(h2o_handler_t *, h2o_req_t *))
{
	h2o_pathconf_t *pathconf = h2o_config_register_path(host, path, 0);
	h2o_handler_t *handler = h2o_create_handler(pathconf, sizeof(*handler));

	handler->on_req = on_req;
	h2o_create_logger(pathconf, sizeof(h2o_logger_t))->log_access = on_log_access;
}

int
http_configure(h2o_globalconf_t *g, const struct config *cfg)
{
	h2o_hostconf_t *host;

	http_cfg = cfg;
	if (mcp_init() < 0)
		return -1;
	h2o_config_init(g);
	g->server_name = h2o_iovec_init(H2O_STRLIT("mcpd"));
	/* h2o answers 413 itself, from Content-Length or while reading chunks. */
	g->max_request_entity_size = cfg->max_body;
	g->http1.req_timeout = cfg->idle_timeout * 1000ULL;
	/* HTTP/1.1 only: 2.2.5's HTTP/2 predates fixes such as rapid reset. */
	g->http1.upgrade_to_http2 = 0;
	host = h2o_config_register_host(g, h2o_iovec_init(H2O_STRLIT("default")), 65535);
	register_path(host, "/mcp", on_req_mcp);
	register_path(host, "/ping", on_req_ping);
	register_path(host, OAUTH_WELL_KNOWN, on_req_resource_metadata);
#ifdef MCPD_TEST_HOOKS
	register_path(host, "/__test/forbidden-syscall", on_req_forbidden_syscall);
#endif
	register_path(host, "/", on_req_other);
	/* Requests h2o refuses before routing (413 and the like) are logged here. */
	h2o_create_logger(&host->fallback_path, sizeof(h2o_logger_t))->log_access = on_log_access;
	return 0;
}
