/* Runs in: the supervisor, every --metrics-emf seconds and once at exit. See emf.h. */
#include "supervisor/emf.h"

#include <stdio.h>
#include <string.h>

/* A bucket's value in milliseconds: its upper bound; the last (above 1 s) reads as 1 s. */
static double
bucket_ms(size_t b)
{
	if (b >= N_DURATION_BUCKETS - 1)
		b = N_DURATION_BUCKETS - 2;
	return (double)counters_duration_bounds_us[b] / 1000.0;
}

static uint64_t
delta(uint64_t now, uint64_t prev)
{
	return now > prev ? now - prev : 0;
}

size_t
emf_latency_values(const uint64_t d[N_DURATION_BUCKETS], double out[EMF_MAX_VALUES])
{
	uint64_t total = 0, seen = 0;
	size_t n = 0, b = 0;

	for (size_t i = 0; i < N_DURATION_BUCKETS; i++)
		total += d[i];
	if (total <= EMF_MAX_VALUES) {
		for (size_t i = 0; i < N_DURATION_BUCKETS; i++)
			for (uint64_t k = 0; k < d[i]; k++)
				out[n++] = bucket_ms(i);
		return n;
	}
	/* The value below which (q + 1/2) / 100 of the interval's requests fall, q = 0..99. */
	for (size_t q = 0; q < EMF_MAX_VALUES; q++) {
		uint64_t rank = (total * (2 * q + 1)) / (2 * EMF_MAX_VALUES);

		while (b < N_DURATION_BUCKETS - 1 && seen + d[b] <= rank)
			seen += d[b++];
		out[n++] = bucket_ms(b);
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

/* The whole server: requests, their durations, bytes, refusals, tool calls, crashes. */
static int
write_service(struct doc *d, const struct metrics_totals *prev, const struct metrics_totals *now,
    emf_sink sink, void *ctx)
{
	uint64_t buckets[N_DURATION_BUCKETS];
	double values[EMF_MAX_VALUES];
	size_t n;

	for (size_t b = 0; b < N_DURATION_BUCKETS; b++)
		buckets[b] = delta(now->duration_bucket[b], prev->duration_bucket[b]);
	n = emf_latency_values(buckets, values);
	doc_begin(d, NULL);
	doc_define(d, "Requests", "Count");
	if (n > 0)
		doc_define(d, "Latency", "Milliseconds");
	doc_define(d, "BytesReceived", "Bytes");
	doc_define(d, "BytesSent", "Bytes");
	doc_define(d, "AuthRefusals", "Count");
	doc_define(d, "ToolCalls", "Count");
	doc_define(d, "ToolErrors", "Count");
	doc_define(d, "ChildCrashes", "Count");
	doc_members(d, NULL, NULL);
	doc_count(d, "Requests", sum_delta(now->http_status, prev->http_status, N_STATUS));
	if (n > 0) {
		strbuf_puts(&d->sb, ",\"Latency\":[");
		for (size_t i = 0; i < n; i++)
			strbuf_printf(&d->sb, "%s%g", i ? "," : "", values[i]);
		strbuf_putc(&d->sb, ']');
	}
	doc_count(d, "BytesReceived", delta(now->bytes_received, prev->bytes_received));
	doc_count(d, "BytesSent", delta(now->bytes_sent, prev->bytes_sent));
	doc_count(d, "AuthRefusals", sum_delta(now->auth_refusals, prev->auth_refusals, N_REFUSAL));
	doc_count(d, "ToolCalls", sum_delta(now->tool_calls, prev->tool_calls, COUNTERS_MAX_TOOLS + 1));
	doc_count(d, "ToolErrors", sum_delta(now->tool_errors, prev->tool_errors, COUNTERS_MAX_TOOLS + 1));
	doc_count(d, "ChildCrashes", delta(crashes(now), crashes(prev)));
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

/* Calls and errors by tool, for the tools called in the interval. */
static int
write_tools(struct doc *d, const struct metrics_totals *prev, const struct metrics_totals *now,
    const struct counters_tools *tools, emf_sink sink, void *ctx)
{
	int docs = 0;

	for (size_t i = 0; i <= COUNTERS_MAX_TOOLS; i++) {
		uint64_t calls = delta(now->tool_calls[i], prev->tool_calls[i]);
		const char *name = i == COUNTERS_MAX_TOOLS ? METRICS_UNKNOWN_TOOL : i < tools->count ?
		    tools->names[i] : NULL;

		if (calls == 0 || name == NULL)
			continue;
		doc_begin(d, "Tool");
		doc_define(d, "ToolCalls", "Count");
		doc_define(d, "ToolErrors", "Count");
		doc_members(d, "Tool", name);
		doc_count(d, "ToolCalls", calls);
		doc_count(d, "ToolErrors", delta(now->tool_errors[i], prev->tool_errors[i]));
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
