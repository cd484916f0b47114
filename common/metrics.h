/*
 * metrics: the counters region summed over its blocks, and written in the
 * Prometheus text exposition format (0.0.4).  The metrics process writes it
 * for a scrape of /metrics; the supervisor sums the same way for EMF
 * (supervisor/emf.h).
 */
#ifndef MCPD_COMMON_METRICS_H
#define MCPD_COMMON_METRICS_H

#include <stdbool.h>
#include <stdint.h>

#include "common/config.h"
#include "common/counters.h"
#include "common/strbuf.h"

#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"
/* The label value of tool calls whose name is not in the registry (no tool's name can be it). */
#define METRICS_UNKNOWN_TOOL "(unknown)"

/* Every counter summed over the blocks that hold it. */
struct metrics_totals {
	uint64_t http_status[N_STATUS];
	uint64_t rpc_method[N_METHOD];
	uint64_t tool_calls[COUNTERS_MAX_TOOLS + 1];
	uint64_t tool_errors[COUNTERS_MAX_TOOLS + 1];
	uint64_t duration_bucket[N_DURATION_BUCKETS];
	uint64_t duration_sum_us;
	uint64_t bytes_received;
	uint64_t bytes_sent;
	uint64_t auth_refusals[N_REFUSAL];
	uint64_t client_limited[N_LIMITED];
	uint64_t client_limit_takeovers;
	struct counters_egress egress;
	int workers;
	uint64_t open_connections[CONFIG_MAX_WORKERS];	/* by slot, both blocks */
	uint64_t accepted[CONFIG_MAX_WORKERS];
	uint64_t requests[CONFIG_MAX_WORKERS];		/* by slot: the histogram's count */
	struct fetcher_counters fetcher;
	struct supervisor_counters supervisor;
};

/** Sums the region of `workers` slots into *t. */
void metrics_sum(const union counters_block *blocks, int workers, struct metrics_totals *t);
/**
 * Writes *t as a Prometheus exposition, with a "tool" label per tool of
 * `tools`.  `now` (unix seconds) dates the key set's age; `tokens_verified`
 * says whether the key-set metrics apply.
 *
 * Every family is always there, with every label value at zero from the
 * start, but one: mcpd_egress_requests_total has rows only for the tools
 * whose outbound requests are not all zero, and then one for each of the
 * EGRESS_WIRE_OUTCOME_COUNT outcomes.  Every tool's every outcome would be
 * 845 rows, almost all of them for tools that never reach out; this way a
 * tool that does has its full set from its first request on (so that rate()
 * sees its first timeout), and the family is at most 13 rows per such tool.
 */
void metrics_write_prometheus(struct strbuf *sb, const struct metrics_totals *t,
    const struct counters_tools *tools, int64_t now, bool tokens_verified);
/** Appends `s` as a label value: backslash, double quote and newline escaped. */
void metrics_label_value(struct strbuf *sb, const char *s);
/** The number of requests the histogram holds (the sum of its buckets). */
uint64_t metrics_requests(const struct metrics_totals *t);

#endif
