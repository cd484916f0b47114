/*
 * emf: one interval of the counters as CloudWatch Embedded Metric Format
 * documents, one JSON object per line.  On AgentCore Runtime a container's
 * stdout goes to CloudWatch Logs, which turns each such line into metrics
 * with no agent and no permission beyond writing logs.
 *
 * An interval writes one document for the whole server (dimension set []),
 * one per status class that answered requests (["StatusClass"]) and one per
 * tool that was called or made outbound requests (["Tool"]).  Each line is at most EMF_LINE_MAX bytes,
 * so that one write(2) puts it on a shared pipe whole, between the workers'
 * log lines.
 */
#ifndef MCPD_SUPERVISOR_EMF_H
#define MCPD_SUPERVISOR_EMF_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "common/metrics.h"

#define EMF_LINE_MAX PIPE_BUF
/* EMF takes at most 100 values for one metric in one document. */
#define EMF_MAX_VALUES 100

typedef void (*emf_sink)(const char *line, size_t len, void *ctx);

/**
 * Writes the documents for the change from `prev` to `now` (each ending in
 * a newline) to `sink`, stamped `timestamp_ms` (Unix milliseconds) and
 * filed under `namespace`; a tool's "Tool" dimension is its name in
 * `tools`.  Returns the number of documents, or -1 when one would not fit
 * EMF_LINE_MAX (nothing more is written then).
 */
int emf_write_interval(const struct metrics_totals *prev, const struct metrics_totals *now,
    const struct counters_tools *tools, const char *namespace, int64_t timestamp_ms, emf_sink sink,
    void *ctx);

/* A histogram's shape: `buckets` per-bucket counts under buckets - 1 bounds and +Inf. */
struct emf_histogram {
	const uint64_t *bounds_us;
	size_t buckets;
};

/* The requests served (Latency) and the tools' outbound requests (EgressLatency). */
extern const struct emf_histogram emf_http_histogram;
extern const struct emf_histogram emf_egress_histogram;

/**
 * The interval's durations in milliseconds as at most EMF_MAX_VALUES
 * values, from histogram h's per-bucket counts `delta`: each request's
 * bucket bound when they fit (above the last bound reads as the last),
 * else evenly spaced quantiles.  Returns how many values were written to
 * `out`.
 */
size_t emf_latency_values(const struct emf_histogram *h, const uint64_t *delta, double out[EMF_MAX_VALUES]);

#endif
