/*
 * http: the h2o configuration of a worker: which paths exist and the
 * handlers that answer them.
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
