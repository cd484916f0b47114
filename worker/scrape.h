/*
 * scrape: the --metrics-listen listener's one path, GET /metrics, answered
 * by whichever worker accepts the scrape with the sum of every block of the
 * shared counters (common/metrics.h).  Served by the workers because they
 * already run an HTTP server inside their sandbox: a scrape needs no
 * process, socket or privilege the workers do not already have.
 */
#ifndef MCPD_WORKER_SCRAPE_H
#define MCPD_WORKER_SCRAPE_H

#include <h2o.h>

#include "common/config.h"
#include "common/counters.h"

/**
 * Builds the metrics listener's configuration over the region `blocks`.
 * Returns the hosts to accept its connections with, or NULL without
 * --metrics-listen.
 */
h2o_hostconf_t **scrape_configure(const struct config *cfg, const union counters_block *blocks);

#endif
