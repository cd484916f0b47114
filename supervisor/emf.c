/* Runs in: the supervisor, every --metrics-emf seconds and once at exit. See emf.h. */
#include "supervisor/emf.h"

#include <stdio.h>
#include <string.h>

/* A bucket's value in milliseconds: its upper bound; the last (+Inf) reads as the one below. */
static double
bucket_ms(const struct emf_histogram *h, size_t b)
{
	if (b >= h->buckets - 1)
		b = h->buckets - 2;
	return (double)h->bounds_us[b] / 1000.0;
}

static uint64_t
delta(uint64_t now, uint64_t prev)
{
	return now > prev ? now - prev : 0;
}

const struct emf_histogram emf_http_histogram = {
	.bounds_us = counters_duration_bounds_us, .buckets = N_DURATION_BUCKETS,
};
const struct emf_histogram emf_egress_histogram = {
	.bounds_us = counters_egress_duration_bounds_us, .buckets = N_EGRESS_DURATION_BUCKETS,
};

size_t
emf_latency_values(const struct emf_histogram *h, const uint64_t *d, double out[EMF_MAX_VALUES])
{
	uint64_t total = 0, seen = 0;
	size_t n = 0, b = 0;

	for (size_t i = 0; i < h->buckets; i++)
		total += d[i];
	if (total <= EMF_MAX_VALUES) {
		for (size_t i = 0; i < h->buckets; i++)
			for (uint64_t k = 0; k < d[i]; k++)
				out[n++] = bucket_ms(h, i);
		return n;
	}
	/* The value below which (q + 1/2) / 100 of the interval's requests fall, q = 0..99. */
	for (size_t q = 0; q < EMF_MAX_VALUES; q++) {
		uint64_t rank = (total * (2 * q + 1)) / (2 * EMF_MAX_VALUES);

		while (b < h->buckets - 1 && seen + d[b] <= rank)
			seen += d[b++];
		out[n++] = bucket_ms(h, b);
	}
	return n;
}

/* Builds one document in a fixed buffer; `ok` turns false when it would not fit. */
struct doc {
	char buf[EMF_LINE_MAX];
	struct strbuf sb;
	const char *namespace;
	int64_t timestamp_ms;
	int metrics;
};

static void
doc_begin(struct doc *d, const char *dimension)
{
	strbuf_init_fixed(&d->sb, d->buf, sizeof(d->buf));
	d->metrics = 0;
	strbuf_printf(&d->sb, "{\"_aws\":{\"Timestamp\":%lld,\"CloudWatchMetrics\":[{\"Namespace\":",
	    (long long)d->timestamp_ms);
	strbuf_json_string(&d->sb, d->namespace, strlen(d->namespace));
	strbuf_puts(&d->sb, ",\"Dimensions\":[[");
	if (dimension != NULL)
		strbuf_json_string(&d->sb, dimension, strlen(dimension));
	strbuf_puts(&d->sb, "]],\"Metrics\":[");
}

/* The directive's list of metric definitions: name and unit. */
static void
doc_define(struct doc *d, const char *name, const char *unit)
{
	strbuf_printf(&d->sb, "%s{\"Name\":\"%s\",\"Unit\":\"%s\"}", d->metrics++ ? "," : "", name, unit);
}

/* Closes the directive; the target members follow. */
static void
doc_members(struct doc *d, const char *dimension, const char *value)
{
	strbuf_puts(&d->sb, "]}]},\"event\":\"metrics\"");
	if (dimension != NULL) {
		strbuf_printf(&d->sb, ",\"%s\":", dimension);
		strbuf_json_string(&d->sb, value, strlen(value));
	}
}

static void
doc_count(struct doc *d, const char *name, uint64_t v)
{
	strbuf_printf(&d->sb, ",\"%s\":%llu", name, (unsigned long long)v);
}

static int
doc_end(struct doc *d, emf_sink sink, void *ctx)
{
	strbuf_puts(&d->sb, "}\n");
	if (!strbuf_ok(&d->sb))
		return -1;
	sink(d->sb.data, d->sb.len, ctx);
	return 0;
}

static uint64_t
sum_delta(const uint64_t *now, const uint64_t *prev, size_t n)
{
	uint64_t s = 0;

	for (size_t i = 0; i < n; i++)
		s += delta(now[i], prev[i]);
	return s;
}

static uint64_t
crashes(const struct metrics_totals *t)
{
	uint64_t n = 0;

	for (size_t r = 0; r < N_ROLE; r++)
		n += t->supervisor.exits[r][EXIT_CRASH] + t->supervisor.exits[r][EXIT_ERROR];
	return n;
}

/*
 * An outbound request failed unless it was answered (any status) or
 * cancelled: a client that went away, or a tool that finished with what it
 * had, is no failure of the request.
 */
static bool
egress_failed(size_t outcome)
{
	return outcome != EGRESS_WIRE_OUTCOME_OK && outcome != EGRESS_WIRE_OUTCOME_CANCELLED;
}

/* Adds the interval's outbound requests of tool row i, and the failures among them. */
static void
egress_delta(const struct metrics_totals *prev, const struct metrics_totals *now, size_t i,
    uint64_t *requests, uint64_t *failures)
{
	for (size_t o = 0; o < EGRESS_WIRE_OUTCOME_COUNT; o++) {
		uint64_t n = delta(now->egress.requests[i][o], prev->egress.requests[i][o]);

		*requests += n;
		if (egress_failed(o))
			*failures += n;
	}
}

#define MAX_BUCKETS 32
_Static_assert(N_DURATION_BUCKETS <= MAX_BUCKETS && N_EGRESS_DURATION_BUCKETS <= MAX_BUCKETS,
    "a histogram outgrew the interval's bucket array");

/* The interval's durations of histogram h, from its per-bucket counts then and now. */
static size_t
interval_values(const struct emf_histogram *h, const uint64_t *now, const uint64_t *prev,
    double out[EMF_MAX_VALUES])
{
	uint64_t d[MAX_BUCKETS];

	for (size_t b = 0; b < h->buckets; b++)
		d[b] = delta(now[b], prev[b]);
	return emf_latency_values(h, d, out);
}

/* A member holding n values. */
static void
doc_values(struct doc *d, const char *name, const double *values, size_t n)
{
	strbuf_printf(&d->sb, ",\"%s\":[", name);
	for (size_t i = 0; i < n; i++)
		strbuf_printf(&d->sb, "%s%g", i ? "," : "", values[i]);
	strbuf_putc(&d->sb, ']');
}

/*
 * The whole server: requests, their durations, bytes, refusals (for the
 * credentials and by the per-client limits), tool calls,
 * crashes, and the tools' outbound requests.  A latency with no request in
 * the interval is left out: EMF takes no empty list of values.
 */
static int
write_service(struct doc *d, const struct metrics_totals *prev, const struct metrics_totals *now,
    emf_sink sink, void *ctx)
{
	double latency[EMF_MAX_VALUES], egress_latency[EMF_MAX_VALUES];
	size_t n = interval_values(&emf_http_histogram, now->duration_bucket, prev->duration_bucket, latency);
	size_t e = interval_values(&emf_egress_histogram, now->egress.duration_bucket,
	    prev->egress.duration_bucket, egress_latency);
	uint64_t egress = 0, egress_failures = 0;

	for (size_t i = 0; i <= COUNTERS_MAX_TOOLS; i++)
		egress_delta(prev, now, i, &egress, &egress_failures);
	doc_begin(d, NULL);
	doc_define(d, "Requests", "Count");
	if (n > 0)
		doc_define(d, "Latency", "Milliseconds");
	doc_define(d, "BytesReceived", "Bytes");
	doc_define(d, "BytesSent", "Bytes");
	doc_define(d, "AuthRefusals", "Count");
	doc_define(d, "ClientLimited", "Count");
	doc_define(d, "ToolCalls", "Count");
	doc_define(d, "ToolErrors", "Count");
	doc_define(d, "ChildCrashes", "Count");
	doc_define(d, "EgressRequests", "Count");
	doc_define(d, "EgressFailures", "Count");
	if (e > 0)
		doc_define(d, "EgressLatency", "Milliseconds");
	doc_members(d, NULL, NULL);
	doc_count(d, "Requests", sum_delta(now->http_status, prev->http_status, N_STATUS));
	if (n > 0)
		doc_values(d, "Latency", latency, n);
	doc_count(d, "BytesReceived", delta(now->bytes_received, prev->bytes_received));
	doc_count(d, "BytesSent", delta(now->bytes_sent, prev->bytes_sent));
	doc_count(d, "AuthRefusals", sum_delta(now->auth_refusals, prev->auth_refusals, N_REFUSAL));
	doc_count(d, "ClientLimited", sum_delta(now->client_limited, prev->client_limited, N_LIMITED));
	doc_count(d, "ToolCalls", sum_delta(now->tool_calls, prev->tool_calls, COUNTERS_MAX_TOOLS + 1));
	doc_count(d, "ToolErrors", sum_delta(now->tool_errors, prev->tool_errors, COUNTERS_MAX_TOOLS + 1));
	doc_count(d, "ChildCrashes", delta(crashes(now), crashes(prev)));
	doc_count(d, "EgressRequests", egress);
	doc_count(d, "EgressFailures", egress_failures);
	if (e > 0)
		doc_values(d, "EgressLatency", egress_latency, e);
	return doc_end(d, sink, ctx);
}

/* Requests by status class, for the classes that answered any. */
static int
write_status_classes(struct doc *d, const struct metrics_totals *prev, const struct metrics_totals *now,
    emf_sink sink, void *ctx)
{
	static const char *const classes[] = {"1xx", "2xx", "3xx", "4xx", "5xx", "other"};
	uint64_t by_class[6] = {0};
	int docs = 0;

	for (size_t s = 0; s < N_STATUS; s++) {
		int code = counters_status_codes[s];
		size_t c = code >= 100 && code <= 599 ? (size_t)(code / 100 - 1) : 5;

		by_class[c] += delta(now->http_status[s], prev->http_status[s]);
	}
	for (size_t c = 0; c < 6; c++) {
		if (by_class[c] == 0)
			continue;
		doc_begin(d, "StatusClass");
		doc_define(d, "Requests", "Count");
		doc_members(d, "StatusClass", classes[c]);
		doc_count(d, "Requests", by_class[c]);
		if (doc_end(d, sink, ctx) < 0)
			return -1;
		docs++;
	}
	return docs;
}

/*
 * Calls and errors by tool, for the tools called in the interval or whose
 * outbound requests ended in it (a call may span two intervals); the egress
 * metrics only for the latter, so that a tool that never reaches out adds
 * no metric to CloudWatch.
 */
static int
write_tools(struct doc *d, const struct metrics_totals *prev, const struct metrics_totals *now,
    const struct counters_tools *tools, emf_sink sink, void *ctx)
{
	int docs = 0;

	for (size_t i = 0; i <= COUNTERS_MAX_TOOLS; i++) {
		uint64_t calls = delta(now->tool_calls[i], prev->tool_calls[i]), egress = 0, egress_failures = 0;
		const char *name = i == COUNTERS_MAX_TOOLS ? METRICS_UNKNOWN_TOOL : i < tools->count ?
		    tools->names[i] : NULL;

		egress_delta(prev, now, i, &egress, &egress_failures);
		if ((calls == 0 && egress == 0) || name == NULL)
			continue;
		doc_begin(d, "Tool");
		doc_define(d, "ToolCalls", "Count");
		doc_define(d, "ToolErrors", "Count");
		if (egress > 0) {
			doc_define(d, "EgressRequests", "Count");
			doc_define(d, "EgressFailures", "Count");
		}
		doc_members(d, "Tool", name);
		doc_count(d, "ToolCalls", calls);
		doc_count(d, "ToolErrors", delta(now->tool_errors[i], prev->tool_errors[i]));
		if (egress > 0) {
			doc_count(d, "EgressRequests", egress);
			doc_count(d, "EgressFailures", egress_failures);
		}
		if (doc_end(d, sink, ctx) < 0)
			return -1;
		docs++;
	}
	return docs;
}

int
emf_write_interval(const struct metrics_totals *prev, const struct metrics_totals *now,
    const struct counters_tools *tools, const char *namespace, int64_t timestamp_ms, emf_sink sink,
    void *ctx)
{
	static struct doc d;
	int classes, tool_docs;

	d.namespace = namespace;
	d.timestamp_ms = timestamp_ms;
	if (write_service(&d, prev, now, sink, ctx) < 0)
		return -1;
	classes = write_status_classes(&d, prev, now, sink, ctx);
	if (classes < 0)
		return -1;
	tool_docs = write_tools(&d, prev, now, tools, sink, ctx);
	return tool_docs < 0 ? -1 : 1 + classes + tool_docs;
}
