/*
 * scrape: the --metrics-listen listener's one path, GET /metrics, answered
 * with the sum of every block of the shared counters (common/metrics.h).
 * Served by the metrics process (metrics_process.h).
 */
#ifndef MCPD_METRICS_SCRAPE_H
#define MCPD_METRICS_SCRAPE_H

#include <h2o.h>

#include "common/config.h"
#include "common/counters.h"

/**
 * Builds the metrics listener's configuration over the region `blocks`,
 * whose tool counters name `tools` (call once, before h2o_context_init with
 * scrape_globalconf()).  Returns the hosts to accept its connections with.
 */
h2o_hostconf_t **scrape_configure(const struct config *cfg, const union counters_block *blocks,
    const struct counters_tools *tools);
/** The configuration scrape_configure built. */
h2o_globalconf_t *scrape_globalconf(void);

#endif
