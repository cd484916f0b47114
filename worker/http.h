/*
 * http: the h2o configuration of a worker: which paths exist, the checks
 * every request passes before routing (head size, RFC 9112 framing), and
 * the small handlers (/ping, the RFC 9728 metadata).  The rest of the HTTP
 * code: http_mcp.c (the /mcp endpoint), http_oauth.c (the token check and
 * its refusals), http_log.c (the access log), http_respond.c (sending).
 */
#ifndef MCPD_WORKER_HTTP_H
#define MCPD_WORKER_HTTP_H

#include <h2o.h>

#include "common/config.h"

/**
 * Fills `globalconf` with the server's settings and paths.  Call once per
 * worker, before h2o_context_init.  Returns 0 or -1.
 */
int http_configure(h2o_globalconf_t *globalconf, const struct config *cfg);

#endif
