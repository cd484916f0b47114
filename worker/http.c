/* Runs in: workers (routes set up before the sandbox, requests served after). */
#include "worker/http.h"

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "common/framing.h"
#include "common/strbuf.h"
#include "worker/auth.h"
#include "worker/http_log.h"
#include "worker/http_mcp.h"
#include "worker/http_oauth.h"
#include "worker/http_respond.h"
#include "worker/oauth.h"

static const struct config *http_cfg;

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
	http_respond(req, 431, "application/json", H2O_STRLIT("{\"error\":\"request headers larger than 16 KiB\"}"));
	return true;
}

/* A 400 that ends the connection: what follows cannot be trusted as a request. */
static void
respond_bad_request_and_close(h2o_req_t *req, const char *reason)
{
	char body[160];
	int n = snprintf(body, sizeof(body), "{\"error\":\"bad request\",\"error_description\":\"%s\"}",
	    reason);

	http_log_note(req, NOTE_REFUSED, reason);
	req->http1_is_persistent = 0;
	http_respond(req, 400, "application/json", body, (size_t)n);
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
on_req_mcp(h2o_handler_t *self, h2o_req_t *req)
{
	(void)self;
	if (refused_before_routing(req))
		return 0;
	if (!path_is_mcp(req))
		return http_respond_not_found(req);
	http_mcp_serve(req);
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
		return http_respond_not_found(req);
	if (!h2o_memis(req->method.base, req->method.len, H2O_STRLIT("GET")) &&
	    !h2o_memis(req->method.base, req->method.len, H2O_STRLIT("HEAD"))) {
		h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_ALLOW, NULL, H2O_STRLIT("GET, HEAD"));
		http_respond(req, 405, "application/json", H2O_STRLIT("{\"error\":\"method not allowed\"}"));
		return 0;
	}
	/* The shape of AgentCore's HTTP-contract health answer. */
	n = snprintf(body, sizeof(body), "{\"status\":\"%s\",\"time_of_last_update\":%lld}",
	    auth_ready() ? "Healthy" : "Unhealthy", (long long)time(NULL));
	http_respond(req, auth_ready() ? 200 : 503, "application/json", body, (size_t)n);
	return 0;
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
	const char *issuer = auth_issuer();
	struct http_oauth_urls urls;
	struct strbuf doc;

	(void)self;
	if (refused_before_routing(req))
		return 0;
	if (!auth_enabled())
		return http_respond_not_found(req);
	http_oauth_urls(req, &urls);
	if (!is_metadata_path(req, urls.metadata))
		return http_respond_not_found(req);
	if (issuer == NULL) {
		http_oauth_refuse_not_ready(req);
		return 0;
	}
	strbuf_init(&doc);
	oauth_metadata_document(&doc, urls.resource, issuer, &http_cfg->required_scopes);
	if (strbuf_ok(&doc))
		http_respond(req, 200, "application/json", doc.data, doc.len);
	else
		http_respond(req, 500, "application/json", H2O_STRLIT("{\"error\":\"out of memory\"}"));
	strbuf_free(&doc);
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
		return http_respond_not_found(req);
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
	return http_respond_not_found(req);
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
	http_log_attach(pathconf);
}

int
http_configure(h2o_globalconf_t *g, const struct config *cfg)
{
	h2o_hostconf_t *host;

	http_cfg = cfg;
	http_oauth_init(cfg);
	if (http_mcp_init(cfg) < 0)
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
	http_log_attach(&host->fallback_path);
	return 0;
}
