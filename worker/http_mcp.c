/* Runs in: workers, after the sandbox. See http_mcp.h. */
#include "worker/http_mcp.h"

#include <stdio.h>
#include <string.h>

#include "worker/auth.h"
#include "worker/http_limits.h"
#include "worker/http_log.h"
#include "worker/http_oauth.h"
#include "worker/http_respond.h"
#include "worker/http_wait.h"
#include "worker/mcp.h"
#include "worker/membudget.h"
#include "worker/outflow.h"
#include "worker/transport.h"

static const struct config *mcp_cfg;

int
http_mcp_init(const struct config *cfg)
{
	mcp_cfg = cfg;
	return mcp_init();
}

static struct header_value
header(h2o_req_t *req, const h2o_token_t *token)
{
	ssize_t i = h2o_find_header(&req->headers, token, -1);

	if (i < 0)
		return (struct header_value){NULL, 0};
	return (struct header_value){req->headers.entries[i].value.base, req->headers.entries[i].value.len};
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
	http_respond(req, status, "text/event-stream", buf, total);
}

/* Sends a JSON-RPC answer in the negotiated format: JSON unless Accept prefers SSE. */
static void
send_answer(h2o_req_t *req, int status, enum reply_format format, const char *body, size_t len)
{
	if (format == REPLY_SSE && status == 200)
		respond_sse(req, status, body, len);
	else
		http_respond(req, status, "application/json", body, len);
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
			http_oauth_refuse_without_credentials(req);
		else
			http_respond_rpc_error(req, 415, -32000,
			    "Unsupported Media Type: Content-Type must be application/json");
		return;
	}
	mcp_handle(&in, &out);
	if (out.needs_credentials) {
		http_oauth_refuse_without_credentials(req);
		return;
	}
	if (out.scope_refused != NULL) {
		http_oauth_refuse_step_up(req, &out);
		mcp_response_free(&out);
		return;
	}
	http_log_note(req, NOTE_RPC_METHOD, out.rpc_method);
	http_log_note(req, NOTE_TOOL, out.tool);
	/*
	 * The format stays negotiated: JSON unless Accept prefers SSE.  The
	 * probe's answer is JSON whatever Accept says: one fixed answer.
	 */
	if (out.public_ping) {
		http_log_note(req, NOTE_PUBLIC, "public_ping");
		format = REPLY_JSON;
	}
	if (out.body == NULL)
		http_respond(req, out.status, NULL, "", 0);
	else if (out.wait != NULL)
		http_wait_hold(req, &out, format, send_answer);
	else
		send_answer(req, out.status, format, out.body, out.body_len);
	mcp_response_free(&out);
}

/* The worker holds too much for other clients: answers not read, or bodies being read. */
static void
respond_busy(h2o_req_t *req)
{
	bool answers = outflow_refuses(req->entity.len);

	http_log_note(req, NOTE_REFUSED, answers ? "too many answers waiting for slow clients" :
	    "over --max-buffered");
	h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_RETRY_AFTER, NULL, H2O_STRLIT("1"));
	http_respond_rpc_error(req, 503, -32000, answers ?
	    "Service Unavailable: too many answers are waiting for slow clients; retry later" :
	    "Service Unavailable: the server holds too much for other clients; retry later");
}

/* Answers a request that repeats a one-value header. */
static void
refuse_repeated_header(h2o_req_t *req, enum mcp_header which)
{
	char message[96];

	snprintf(message, sizeof(message), "more than one %s header", mcp_header_names[which]);
	http_log_note(req, NOTE_REFUSED, message);
	if (which == MH_AUTHORIZATION && auth_enabled()) {
		http_oauth_refuse_repeated_authorization(req);
	} else if (which == MH_ORIGIN) {
		http_respond_rpc_error(req, 403, -32000, "Forbidden: more than one Origin header");
	} else {
		snprintf(message, sizeof(message), "Bad Request: more than one %s header",
		    mcp_header_names[which]);
		http_respond_rpc_error(req, 400, -32000, message);
	}
}

void
http_mcp_serve(h2o_req_t *req)
{
	bool post = h2o_memis(req->method.base, req->method.len, H2O_STRLIT("POST"));
	struct mcp_headers hs;
	const struct mcpd_identity *identity = NULL;
	bool anonymous;

	collect_mcp_headers(req, &hs);
	if (hs.repeated >= 0) {
		refuse_repeated_header(req, hs.repeated);
		return;
	}
	if (!transport_origin_allowed(mcp_cfg, hs.v[MH_ORIGIN])) {
		http_respond_rpc_error(req, 403, -32000, "Forbidden: Origin not allowed");
		return;
	}
	/* A POST without any Authorization header may be a liveness ping. */
	anonymous = post && mcp_cfg->public_ping && hs.v[MH_AUTHORIZATION].base == NULL;
	/* Answers clients have not read, or bodies, fill the worker: large requests wait. */
	if (post && (outflow_refuses(req->entity.len) || membudget_refuses(req->entity.len))) {
		respond_busy(req);
		return;
	}
	/* An anonymous POST is judged once its body is read: a ping or a 401. */
	if (!(anonymous && auth_enabled()) && http_oauth_refused(req, hs.v[MH_AUTHORIZATION], &identity))
		return;
	/* A verified client within its limits, or 429; the token-less liveness ping is never limited. */
	if (http_limits_refused(req, identity))
		return;
	if (post) {
		handle_mcp_post(req, &hs, anonymous, identity);
		return;
	}
	/* Stateless: no server-initiated stream to GET, no session to DELETE. */
	h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_ALLOW, NULL, H2O_STRLIT("POST"));
	http_respond_rpc_error(req, 405, -32000, "Method Not Allowed: this server is stateless; use POST");
}
