/*
 * http_limits: the per-client limits on the request path
 * (--client-rate-limit, --client-concurrency).  A request whose token was
 * verified is admitted against its client's entry of the shared table
 * (common/client_limits.h) before any MCP work; one past a limit gets 429
 * with Retry-After and a JSON-RPC error, is counted by reason and its log
 * line names the client.  An admitted request counts as in flight until h2o
 * disposes of it, that is once its answer has gone out or its connection
 * has closed, however long its tool calls waited.
 */
#ifndef MCPD_WORKER_HTTP_LIMITS_H
#define MCPD_WORKER_HTTP_LIMITS_H

#include <stdbool.h>

#include <h2o.h>

#include "common/config.h"
#include "worker/tool.h"

/**
 * Maps the shared table from `fd` (and closes it) for the worker of counters
 * block `block`; nothing when `fd` is -1 (the limits are off).  Before the
 * sandbox.  Returns 0, or -1 with errno.
 */
int http_limits_init(const struct config *cfg, int fd, int block);
/**
 * Admits a request of the verified `identity` (NULL: no token was verified,
 * nothing to limit).  Returns true when it was refused and answered.
 */
bool http_limits_refused(h2o_req_t *req, const struct mcpd_identity *identity);
/** Unmaps the table. */
void http_limits_shutdown(void);

#endif
