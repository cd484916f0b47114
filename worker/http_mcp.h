/*
 * http_mcp: the /mcp endpoint over HTTP: the one-value MCP request headers,
 * Origin, back-pressure from slow readers, the token check, Content-Type
 * and Accept, then worker/mcp.c for the JSON-RPC and the reply as JSON or
 * a one-event SSE stream.
 */
#ifndef MCPD_WORKER_HTTP_MCP_H
#define MCPD_WORKER_HTTP_MCP_H

#include <h2o.h>

#include "common/config.h"

/** Keeps `cfg` (origins, --public-ping) and readies worker/mcp.c; returns 0 or -1. */
int http_mcp_init(const struct config *cfg);
/** Answers a request routed to /mcp, whatever its method. */
void http_mcp_serve(h2o_req_t *req);

#endif
