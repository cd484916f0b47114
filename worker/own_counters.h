/*
 * own_counters: this worker's own block of the shared counters
 * (common/counters.h), the one block it writes.  Until own_counters_attach,
 * and in programs that never attach (unit tests, fuzz drivers), counting
 * goes to a private block, so counting code needs no "is there a region"
 * branch.
 */
#ifndef MCPD_WORKER_OWN_COUNTERS_H
#define MCPD_WORKER_OWN_COUNTERS_H

#include "common/counters.h"

/** The block this worker writes. */
extern struct worker_counters *own_counters;

/** Makes `block` this worker's own: its gauges restart from zero, its counters go on. */
void own_counters_attach(struct worker_counters *block);
/** Goes back to the private block (before the region is unmapped). */
void own_counters_detach(void);

/**
 * Counts one outbound request of a tool, once, when its answer or the
 * reason there is none reaches the worker: in
 * mcpd_egress_requests_total{tool,outcome} and
 * mcpd_egress_request_duration_seconds.  `tool_index` is the tool's
 * registry index (tools_index; COUNTERS_MAX_TOOLS or more counts as
 * unknown); `outcome` is EGRESS_WIRE_OUTCOME_OK for a RESPONSE, whatever
 * its status, else the FAILURE's outcome or the worker's own
 * (egress_restarted, ...), and one out of range counts as internal;
 * `duration_us` runs from when the worker sent the REQUEST, 0 for a request
 * that never left the worker.  Plain stores to this worker's own block: no
 * lock, no allocation, safe on any path.
 */
void egress_counted(size_t tool_index, enum egress_wire_outcome outcome, uint64_t duration_us);

#endif
