/*
 * metrics_process: the child that serves --metrics-listen.  It maps the
 * counters read-only, answers GET /metrics (scrape.h) and does nothing
 * else.  A process of its own rather than the workers because
 *   - it holds no MCP listener, key set or token cache, so a fault in the
 *     metrics path (reachable by whoever reaches its address) reaches none
 *     of them, and hostile scrapers exhaust only its own limits
 *     (admission.h, answer_deadline.h);
 *   - it is idle between scrapes, so the scheduler runs it as soon as a
 *     scrape arrives, however busy the workers are: a scrape does not wait
 *     behind MCP requests, and scrapes never slow MCP requests.
 */
#ifndef MCPD_METRICS_METRICS_PROCESS_H
#define MCPD_METRICS_METRICS_PROCESS_H

#include "common/child.h"

/** Entry point of the forked metrics process; returns its exit status. */
int metrics_main(const struct child_args *args);

#endif
