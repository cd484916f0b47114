/*
 * report: what the supervisor says of the counters on its own, on a timer:
 * an EMF document set every --metrics-emf seconds (and a last one when mcpd
 * stops, so that the intervals add up to everything served), and a log line
 * a minute with each worker's open connections and requests.
 */
#ifndef MCPD_SUPERVISOR_REPORT_H
#define MCPD_SUPERVISOR_REPORT_H

#include <stdint.h>

#include "common/config.h"
#include "common/counters.h"

/* How often the per-worker line is logged. */
#define REPORT_WORKERS_INTERVAL_MS 60000

/**
 * Starts the timers, over the region `blocks` whose tool counters name
 * `tools`; `now` is monotonic milliseconds.
 */
void report_init(const struct config *cfg, const union counters_block *blocks,
    const struct counters_tools *tools, uint64_t now);
/** Writes what is due at `now`; returns the next deadline (monotonic ms). */
uint64_t report_run(uint64_t now);
/** Writes the last EMF interval (everything not yet reported). */
void report_finish(void);

#endif
