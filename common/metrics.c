/* Runs in: the metrics process (a scrape, after its sandbox) and the supervisor (EMF sums). */
/*
 * metrics: runs in the metrics process (a scrape of /metrics, after the
 * sandbox) and in the supervisor (EMF).  Reads the region only; writes
 * nothing to it.
 */
#include "common/metrics.h"

#include <stdio.h>
#include <string.h>

static void
add_all(uint64_t *dst, const uint64_t *src, size_t n)
{
	for (size_t i = 0; i < n; i++)
		dst[i] += counter_get(&src[i]);
}

static void
add_worker(struct metrics_totals *t, const struct worker_counters *w, int slot)
{
	add_all(t->http_status, w->http_status, N_STATUS);
	add_all(t->rpc_method, w->rpc_method, N_METHOD);
	add_all(t->tool_calls, w->tool_calls, COUNTERS_MAX_TOOLS + 1);
	add_all(t->tool_errors, w->tool_errors, COUNTERS_MAX_TOOLS + 1);
	add_all(t->duration_bucket, w->duration_bucket, N_DURATION_BUCKETS);
	add_all(&t->duration_sum_us, &w->duration_sum_us, 1);
	add_all(&t->bytes_received, &w->bytes_received, 1);
	add_all(&t->bytes_sent, &w->bytes_sent, 1);
	add_all(t->auth_refusals, w->auth_refusals, N_REFUSAL);
	add_all(t->client_limited, w->client_limited, N_LIMITED);
	add_all(&t->client_limit_takeovers, &w->client_limit_takeovers, 1);
	add_all(&t->egress.requests[0][0], &w->egress.requests[0][0],
	    (COUNTERS_MAX_TOOLS + 1) * EGRESS_WIRE_OUTCOME_COUNT);
	add_all(t->egress.duration_bucket, w->egress.duration_bucket, N_EGRESS_DURATION_BUCKETS);
	add_all(&t->egress.duration_sum_us, &w->egress.duration_sum_us, 1);
	add_all(&t->open_connections[slot], &w->gate.open_connections, 1);
	add_all(&t->accepted[slot], &w->gate.accepted, 1);
	for (size_t b = 0; b < N_DURATION_BUCKETS; b++)
		t->requests[slot] += counter_get(&w->duration_bucket[b]);
}

void
metrics_sum(const union counters_block *blocks, int workers, struct metrics_totals *t)
{
	const struct fetcher_counters *f = &blocks[COUNTERS_FETCHER_BLOCK].fetcher;
	const struct supervisor_counters *s = &blocks[COUNTERS_SUPERVISOR_BLOCK].supervisor;

	memset(t, 0, sizeof(*t));
	t->workers = workers;
	for (int slot = 0; slot < workers; slot++)
		for (int k = 0; k < 2; k++)
			add_worker(t, &blocks[COUNTERS_WORKER_BLOCK(slot, k)].worker, slot);
	t->fetcher.fetches_ok = counter_get(&f->fetches_ok);
	add_all(t->fetcher.fetch_failures, f->fetch_failures, N_FETCH_FAILURE);
	t->fetcher.keyset_generation = counter_get(&f->keyset_generation);
	t->fetcher.keyset_published_at = __atomic_load_n(&f->keyset_published_at, __ATOMIC_RELAXED);
	add_all(t->supervisor.starts, s->starts, N_ROLE);
	add_all(&t->supervisor.exits[0][0], &s->exits[0][0], N_ROLE * N_EXIT);
}

uint64_t
metrics_requests(const struct metrics_totals *t)
{
	uint64_t n = 0;

	for (size_t b = 0; b < N_DURATION_BUCKETS; b++)
		n += t->duration_bucket[b];
	return n;
}

void
metrics_label_value(struct strbuf *sb, const char *s)
{
	strbuf_putc(sb, '"');
	for (; *s != '\0'; s++) {
		if (*s == '\\' || *s == '"')
			strbuf_putc(sb, '\\');
		if (*s == '\n')
			strbuf_puts(sb, "\\n");
		else
			strbuf_putc(sb, *s);
	}
	strbuf_putc(sb, '"');
}

static void
family(struct strbuf *sb, const char *name, const char *type, const char *help)
{
	strbuf_printf(sb, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* One sample: name{label="value"} v (no braces when label is NULL). */
static void
sample(struct strbuf *sb, const char *name, const char *label, const char *value, uint64_t v)
{
	strbuf_puts(sb, name);
	if (label != NULL) {
		strbuf_printf(sb, "{%s=", label);
		metrics_label_value(sb, value);
		strbuf_putc(sb, '}');
	}
	strbuf_printf(sb, " %llu\n", (unsigned long long)v);
}

/* One sample with two labels: name{label1="value1",label2="value2"} v. */
static void
sample2(struct strbuf *sb, const char *name, const char *label1, const char *value1, const char *label2,
    const char *value2, uint64_t v)
{
	strbuf_printf(sb, "%s{%s=", name, label1);
	metrics_label_value(sb, value1);
	strbuf_printf(sb, ",%s=", label2);
	metrics_label_value(sb, value2);
	strbuf_printf(sb, "} %llu\n", (unsigned long long)v);
}

/* A counter family with one label over a fixed set of values. */
static void
labelled(struct strbuf *sb, const char *name, const char *type, const char *help, const char *label,
    const char *const *values, const uint64_t *v, size_t n)
{
	family(sb, name, type, help);
	for (size_t i = 0; i < n; i++)
		sample(sb, name, label, values[i], v[i]);
}

static void
write_http(struct strbuf *sb, const struct metrics_totals *t)
{
	const char *name = "mcpd_http_requests_total";
	char code[8];

	family(sb, name, "counter", "HTTP requests answered, by status code (\"other\": a code not listed).");
	for (size_t i = 0; i < N_STATUS; i++) {
		if (i == STATUS_OTHER)
			strcpy(code, "other");
		else
			snprintf(code, sizeof(code), "%d", counters_status_codes[i]);
		sample(sb, name, "code", code, t->http_status[i]);
	}
	family(sb, "mcpd_http_received_bytes_total", "counter", "Bytes of request bodies received.");
	sample(sb, "mcpd_http_received_bytes_total", NULL, NULL, t->bytes_received);
	family(sb, "mcpd_http_sent_bytes_total", "counter", "Bytes of response bodies sent.");
	sample(sb, "mcpd_http_sent_bytes_total", NULL, NULL, t->bytes_sent);
}

/* A histogram of n per-bucket counts under n - 1 bounds (microseconds) and +Inf. */
static void
histogram(struct strbuf *sb, const char *name, const char *help, const uint64_t *bucket,
    const uint64_t *bounds_us, size_t n, uint64_t sum_us)
{
	uint64_t cumulative = 0;

	family(sb, name, "histogram", help);
	for (size_t b = 0; b < n; b++) {
		cumulative += bucket[b];
		if (b + 1 < n)
			strbuf_printf(sb, "%s_bucket{le=\"%g\"} %llu\n", name, (double)bounds_us[b] / 1e6,
			    (unsigned long long)cumulative);
		else
			strbuf_printf(sb, "%s_bucket{le=\"+Inf\"} %llu\n", name, (unsigned long long)cumulative);
	}
	strbuf_printf(sb, "%s_sum %.6f\n%s_count %llu\n", name, (double)sum_us / 1e6, name,
	    (unsigned long long)cumulative);
}

static void
write_duration(struct strbuf *sb, const struct metrics_totals *t)
{
	histogram(sb, "mcpd_http_request_duration_seconds",
	    "Time from a request's first byte to its answer's last, in seconds.", t->duration_bucket,
	    counters_duration_bounds_us, N_DURATION_BUCKETS, t->duration_sum_us);
}

static void
write_tools(struct strbuf *sb, const struct metrics_totals *t, const struct counters_tools *tools)
{
	static const char *const names[] = {"mcpd_tool_calls_total", "mcpd_tool_errors_total"};
	static const char *const helps[] = {
		"tools/call requests, by tool (\"" METRICS_UNKNOWN_TOOL "\": a name no tool has).",
		"Tool calls answered with isError: true, by tool.",
	};

	for (int m = 0; m < 2; m++) {
		const uint64_t *v = m == 0 ? t->tool_calls : t->tool_errors;

		family(sb, names[m], "counter", helps[m]);
		for (size_t i = 0; i < tools->count; i++)
			sample(sb, names[m], "tool", tools->names[i], v[i]);
		sample(sb, names[m], "tool", METRICS_UNKNOWN_TOOL, v[COUNTERS_MAX_TOOLS]);
	}
}

static bool
egress_tool_counted(const struct metrics_totals *t, size_t tool)
{
	for (size_t o = 0; o < EGRESS_WIRE_OUTCOME_COUNT; o++)
		if (t->egress.requests[tool][o] != 0)
			return true;
	return false;
}

/* Outbound requests by tool and outcome, for the tools that made any (metrics.h says why). */
static void
write_egress(struct strbuf *sb, const struct metrics_totals *t, const struct counters_tools *tools)
{
	const char *name = "mcpd_egress_requests_total";

	family(sb, name, "counter", "Requests tools made through the egress process, by tool and outcome "
	    "(\"ok\": answered, whatever the status); only tools that made any.");
	for (size_t i = 0; i <= COUNTERS_MAX_TOOLS; i++) {
		const char *tool = i == COUNTERS_MAX_TOOLS ? METRICS_UNKNOWN_TOOL : i < tools->count ?
		    tools->names[i] : NULL;

		if (tool == NULL || !egress_tool_counted(t, i))
			continue;
		for (size_t o = 0; o < EGRESS_WIRE_OUTCOME_COUNT; o++)
			sample2(sb, name, "tool", tool, "outcome", egress_wire_outcome_name((enum egress_wire_outcome)o),
			    t->egress.requests[i][o]);
	}
	histogram(sb, "mcpd_egress_request_duration_seconds",
	    "Time from a worker's request to the egress process to its answer, in seconds, any outcome.",
	    t->egress.duration_bucket, counters_egress_duration_bounds_us, N_EGRESS_DURATION_BUCKETS,
	    t->egress.duration_sum_us);
}

/* The per-client limits, by reason only: a client id as a label would let clients grow the series. */
static void
write_client_limits(struct strbuf *sb, const struct metrics_totals *t)
{
	labelled(sb, "mcpd_client_limited_total", "counter", "Requests refused with 429 by the per-client "
	    "limits, by reason (rate, concurrency, table_full: no room for a new client).", "reason",
	    counters_limited_names, t->client_limited, N_LIMITED);
	family(sb, "mcpd_client_limit_takeovers_total", "counter", "New clients that took over the entry of a "
	    "client whose bucket was not yet full (its debt forgotten): the limits table is crowded.");
	sample(sb, "mcpd_client_limit_takeovers_total", NULL, NULL, t->client_limit_takeovers);
}

/* A family with one sample per worker slot. */
static void
by_slot(struct strbuf *sb, const char *name, const char *type, const char *help, const uint64_t *v, int workers)
{
	char slot[16];

	family(sb, name, type, help);
	for (int s = 0; s < workers; s++) {
		snprintf(slot, sizeof(slot), "%d", s);
		sample(sb, name, "slot", slot, v[s]);
	}
}

/* How the work is spread over the workers (worker/spread.h). */
static void
write_workers(struct strbuf *sb, const struct metrics_totals *t)
{
	by_slot(sb, "mcpd_open_connections", "gauge", "Connections a worker holds open now, by worker slot.",
	    t->open_connections, t->workers);
	by_slot(sb, "mcpd_connections_accepted_total", "counter", "Connections accepted, by worker slot.",
	    t->accepted, t->workers);
	by_slot(sb, "mcpd_worker_requests_total", "counter", "HTTP requests answered, by worker slot.",
	    t->requests, t->workers);
}

static void
write_children(struct strbuf *sb, const struct metrics_totals *t)
{
	const char *name = "mcpd_child_exits_total";

	labelled(sb, "mcpd_child_starts_total", "counter", "Child processes started, by role.", "role",
	    counters_role_names, t->supervisor.starts, N_ROLE);
	family(sb, name, "counter", "Child processes that ended, by role and cause "
	    "(clean, error, config: could not start, crash: killed by a signal).");
	for (size_t r = 0; r < N_ROLE; r++)
		for (size_t c = 0; c < N_EXIT; c++)
			sample2(sb, name, "role", counters_role_names[r], "cause", counters_exit_names[c],
			    t->supervisor.exits[r][c]);
}

static void
write_keys(struct strbuf *sb, const struct metrics_totals *t, int64_t now)
{
	const struct fetcher_counters *f = &t->fetcher;

	family(sb, "mcpd_jwks_fetches_total", "counter", "Key-set refreshes that published a key set.");
	sample(sb, "mcpd_jwks_fetches_total", NULL, NULL, f->fetches_ok);
	labelled(sb, "mcpd_jwks_fetch_failures_total", "counter", "Key-set refreshes that failed, by cause.",
	    "cause", counters_fetch_failure_names, f->fetch_failures, N_FETCH_FAILURE);
	family(sb, "mcpd_keyset_generation", "gauge", "Generation of the key set in use (0: none yet).");
	sample(sb, "mcpd_keyset_generation", NULL, NULL, f->keyset_generation);
	if (f->keyset_published_at <= 0)
		return;	/* no age before the first key set */
	family(sb, "mcpd_keyset_age_seconds", "gauge", "Seconds since the key set in use was fetched.");
	sample(sb, "mcpd_keyset_age_seconds", NULL, NULL,
	    now > f->keyset_published_at ? (uint64_t)(now - f->keyset_published_at) : 0);
}

void
metrics_write_prometheus(struct strbuf *sb, const struct metrics_totals *t,
    const struct counters_tools *tools, int64_t now, bool tokens_verified)
{
	family(sb, "mcpd_build_info", "gauge", "The running mcpd (always 1), labelled with its version.");
	sample(sb, "mcpd_build_info", "version", MCPD_VERSION, 1);
	write_http(sb, t);
	write_duration(sb, t);
	labelled(sb, "mcpd_rpc_requests_total", "counter", "JSON-RPC messages with a method, by method "
	    "(batch members each; \"notifications\": any notifications/..., \"other\": a method mcpd does not serve).",
	    "method", counters_method_names, t->rpc_method, N_METHOD);
	write_tools(sb, t, tools);
	write_egress(sb, t, tools);
	labelled(sb, "mcpd_auth_refusals_total", "counter", "Requests refused for their credentials, by reason.",
	    "reason", counters_refusal_names, t->auth_refusals, N_REFUSAL);
	write_client_limits(sb, t);
	write_workers(sb, t);
	write_children(sb, t);
	if (tokens_verified)
		write_keys(sb, t, now);
}
