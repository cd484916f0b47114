/* Runs in: the metrics process (configured before its sandbox, answered after). See scrape.h. */
#include "metrics/scrape.h"

#include <string.h>
#include <time.h>

#include "common/framing.h"
#include "common/metrics.h"
#include "metrics/answer_deadline.h"

static h2o_globalconf_t scrape_conf;
static const union counters_block *scrape_blocks;
static const struct counters_tools *scrape_tools;
static const struct config *scrape_cfg;

static int
respond(h2o_req_t *req, int status, const char *reason, const char *type, const char *body, size_t len)
{
	req->res.status = status;
	req->res.reason = reason;
	req->res.content_length = len;
	if (req->conn->ctx->shutdown_requested)
		req->http1_is_persistent = 0;
	h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, type, strlen(type));
	answer_deadline_track(req);
	h2o_send_inline(req, body, len);
	return 0;
}

/* The same framing rules as the main port: a scrape target is still an HTTP server. */
static bool
badly_framed(h2o_req_t *req)
{
	const char *head;
	size_t len;

	if (framing_raw_head(req, &head, &len) && framing_head_problem(head, len, req->version >= 0x101) == NULL)
		return false;
	req->http1_is_persistent = 0;
	respond(req, 400, "Bad Request", "text/plain; charset=utf-8", H2O_STRLIT("bad request\n"));
	return true;
}

static int
on_req_metrics(h2o_handler_t *self, h2o_req_t *req)
{
	struct metrics_totals totals;
	struct strbuf sb;

	(void)self;
	if (badly_framed(req))
		return 0;
	if (!h2o_memis(req->path_normalized.base, req->path_normalized.len, H2O_STRLIT("/metrics")))
		return respond(req, 404, "Not Found", "text/plain; charset=utf-8", H2O_STRLIT("only /metrics is served here\n"));
	if (!h2o_memis(req->method.base, req->method.len, H2O_STRLIT("GET")) &&
	    !h2o_memis(req->method.base, req->method.len, H2O_STRLIT("HEAD"))) {
		h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_ALLOW, NULL, H2O_STRLIT("GET, HEAD"));
		return respond(req, 405, "Method Not Allowed", "text/plain; charset=utf-8", H2O_STRLIT("GET /metrics\n"));
	}
	metrics_sum(scrape_blocks, scrape_cfg->workers, &totals);
	strbuf_init(&sb);
	metrics_write_prometheus(&sb, &totals, scrape_tools, (int64_t)time(NULL), scrape_cfg->auth == AUTH_JWT);
	if (!strbuf_ok(&sb)) {
		strbuf_free(&sb);
		return respond(req, 500, "Internal Server Error", "text/plain; charset=utf-8", H2O_STRLIT("out of memory\n"));
	}
	respond(req, 200, "OK", METRICS_CONTENT_TYPE, sb.data, sb.len);
	strbuf_free(&sb);
	return 0;
}

h2o_hostconf_t **
scrape_configure(const struct config *cfg, const union counters_block *blocks,
    const struct counters_tools *tools)
{
	h2o_hostconf_t *host;
	h2o_pathconf_t *path;
	h2o_handler_t *handler;

	scrape_cfg = cfg;
	scrape_blocks = blocks;
	scrape_tools = tools;
	h2o_config_init(&scrape_conf);
	scrape_conf.server_name = h2o_iovec_init(H2O_STRLIT("mcpd"));
	/*
	 * The main port's limits, narrowed to a scrape: no request has a body
	 * (h2o answers 413 from Content-Length, or at a chunked body's first
	 * bytes, before reading it), a connection idle or sending its request
	 * is closed after --idle-timeout, and HTTP/1.1 only: h2o 2.2.5's HTTP/2,
	 * by prior knowledge or h2c Upgrade, predates fixes such as rapid reset.
	 */
	scrape_conf.max_request_entity_size = 0;
	scrape_conf.http1.req_timeout = cfg->idle_timeout * 1000ULL;
	scrape_conf.http1.upgrade_to_http2 = 0;
	host = h2o_config_register_host(&scrape_conf, h2o_iovec_init(H2O_STRLIT("default")), 65535);
	/* Every path reaches the handler, which answers 404 for all but /metrics. */
	path = h2o_config_register_path(host, "/", 0);
	handler = h2o_create_handler(path, sizeof(*handler));
	handler->on_req = on_req_metrics;
	return scrape_conf.hosts;
}

h2o_globalconf_t *
scrape_globalconf(void)
{
	return &scrape_conf;
}
