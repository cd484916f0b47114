/* Runs in: workers, after the sandbox. See http_oauth.h. */
#include "worker/http_oauth.h"

#include <stdio.h>

#include "common/strbuf.h"
#include "worker/auth.h"
#include "worker/http_log.h"
#include "worker/http_respond.h"
#include "worker/oauth.h"
#include "worker/own_counters.h"
#include "worker/tool_engine.h"

static const struct config *oauth_cfg;

void
http_oauth_init(const struct config *cfg)
{
	oauth_cfg = cfg;
}

void
http_oauth_urls(h2o_req_t *req, struct http_oauth_urls *urls)
{
	oauth_resource_url(oauth_cfg, (struct header_value){req->authority.base, req->authority.len},
	    urls->resource, sizeof(urls->resource));
	oauth_metadata_url(urls->resource, urls->metadata, sizeof(urls->metadata));
}

/* Adds the WWW-Authenticate header, unless building it ran out of memory. */
static void
add_challenge(h2o_req_t *req, const struct strbuf *challenge)
{
	if (strbuf_ok(challenge))
		h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_WWW_AUTHENTICATE, NULL,
		    h2o_strdup(&req->pool, challenge->data, challenge->len).base, challenge->len);
}

/* Answers a refused request as RFC 6750 says; the reason goes to the log. */
static void
respond_unauthorized(h2o_req_t *req, const struct auth_verdict *v)
{
	static const char *const errors[] = {
		[AUTH_NO_TOKEN] = "unauthorized", [AUTH_BAD_TOKEN] = "invalid_token",
		[AUTH_NO_SCOPE] = "insufficient_scope",
	};
	struct http_oauth_urls urls;
	struct strbuf challenge;
	char body[256];
	int n;

	if (v->refusal < N_REFUSAL)
		counter_add(&own_counters->auth_refusals[v->refusal], 1);
	http_oauth_urls(req, &urls);
	strbuf_init(&challenge);
	oauth_challenge(&challenge, v, urls.metadata, &oauth_cfg->required_scopes);
	add_challenge(req, &challenge);
	strbuf_free(&challenge);
	n = snprintf(body, sizeof(body), "{\"error\":\"%s\",\"error_description\":\"%s\"}",
	    errors[v->status], v->reason);
	http_respond(req, v->status == AUTH_NO_SCOPE ? 403 : 401, "application/json", body, (size_t)n);
}

void
http_oauth_refuse_not_ready(h2o_req_t *req)
{
	static const char body[] = "{\"error\":\"temporarily_unavailable\","
	    "\"error_description\":\"signing keys not loaded yet\"}";

	counter_add(&own_counters->auth_refusals[REFUSAL_KEYS_NOT_LOADED], 1);
	h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_RETRY_AFTER, NULL, H2O_STRLIT("1"));
	http_respond(req, 503, "application/json", body, sizeof(body) - 1);
}

void
http_oauth_refuse_without_credentials(h2o_req_t *req)
{
	struct auth_verdict v = {.status = AUTH_NO_TOKEN, .refusal = REFUSAL_NO_TOKEN, .reason = "no bearer token"};

	http_log_note(req, NOTE_AUTH, v.reason);
	respond_unauthorized(req, &v);
}

void
http_oauth_refuse_repeated_authorization(h2o_req_t *req)
{
	struct auth_verdict v = {.status = AUTH_BAD_TOKEN, .refusal = REFUSAL_MALFORMED,
	    .reason = "more than one Authorization header"};

	respond_unauthorized(req, &v);
}

/*
 * A tools/call whose tool needs scopes the token lacks: 403 with the scopes
 * to ask for (RFC 6750 §3.1; the MCP authorization spec's step-up), and the
 * JSON-RPC error as the body.
 */
void
http_oauth_refuse_step_up(h2o_req_t *req, const struct mcp_response *out)
{
	struct http_oauth_urls urls;
	struct strbuf challenge;
	char reason[160];

	counter_add(&own_counters->auth_refusals[REFUSAL_TOOL_SCOPE], 1);
	snprintf(reason, sizeof(reason), "tool %s needs scope %s", out->scope_refused->name,
	    out->missing_scope);
	http_log_note(req, NOTE_AUTH, reason);
	http_log_note(req, NOTE_TOOL, out->tool);
	http_oauth_urls(req, &urls);
	strbuf_init(&challenge);
	strbuf_puts(&challenge, "Bearer error=\"insufficient_scope\", scope=\"");
	tools_write_scopes(&challenge, out->scope_refused);
	strbuf_printf(&challenge, "\", resource_metadata=\"%s\"", urls.metadata);
	add_challenge(req, &challenge);
	strbuf_free(&challenge);
	http_respond(req, 403, "application/json", out->body, out->body_len);
}

bool
http_oauth_refused(h2o_req_t *req, struct header_value authorization, const struct mcpd_identity **identity)
{
	struct auth_verdict v;

	auth_check(authorization, &v);
	*identity = v.identity;
	if (v.status == AUTH_PASS)
		return false;
	http_log_note(req, NOTE_AUTH, v.reason);
	if (v.status == AUTH_NOT_READY)
		http_oauth_refuse_not_ready(req);
	else
		respond_unauthorized(req, &v);
	return true;
}
