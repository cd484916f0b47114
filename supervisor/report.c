/* Runs in: the supervisor, unsandboxed, between child events. See report.h. */
#include "supervisor/report.h"

#include <stdio.h>
#include <string.h>
#include <sys/time.h>

#include "common/log.h"
#include "common/metrics.h"
#include "supervisor/emf.h"

static struct {
	const struct config *cfg;
	const union counters_block *blocks;
	const struct counters_tools *tools;
	struct metrics_totals emf_prev;		/* the totals the last EMF interval ended at */
	struct metrics_totals workers_prev;	/* the same for the per-worker line */
	uint64_t next_emf_ms;
	uint64_t next_workers_ms;
	struct metrics_totals now;
} report;

static void
write_line(const char *line, size_t len, void *ctx)
{
	(void)ctx;
	log_write_line(line, len);
}

static int64_t
unix_ms(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

static void
write_emf(void)
{
	metrics_sum(report.blocks, report.cfg->workers, &report.now);
	if (emf_write_interval(&report.emf_prev, &report.now, report.tools, report.cfg->metrics_namespace,
	    unix_ms(), write_line, NULL) < 0)
		log_msg(LOG_WARN, "emf_failed", "an EMF document outgrew %d bytes; this interval's "
		    "metrics are counted in the next one", EMF_LINE_MAX);
	else
		report.emf_prev = report.now;
}

/* "a/b/c" of one number per worker slot, into buf. */
static void
per_slot(char *buf, size_t cap, const uint64_t *now, const uint64_t *prev, int workers)
{
	size_t used = 0;

	buf[0] = '\0';
	for (int s = 0; s < workers && used < cap; s++) {
		unsigned long long v = prev != NULL ? now[s] - (prev[s] < now[s] ? prev[s] : now[s]) : now[s];
		int n = snprintf(buf + used, cap - used, "%s%llu", s ? "/" : "", v);

		if (n < 0)
			return;
		used += (size_t)n;
	}
}

/* One line a minute, when anything was served or is open. */
static void
log_workers(void)
{
	struct metrics_totals *t = &report.now, *p = &report.workers_prev;
	char open[1024], requests[1024];
	struct logline line;
	bool quiet = true;

	metrics_sum(report.blocks, report.cfg->workers, t);
	for (int s = 0; s < t->workers; s++)
		if (t->open_connections[s] != 0 || t->requests[s] != p->requests[s])
			quiet = false;
	if (!quiet) {
		per_slot(open, sizeof(open), t->open_connections, NULL, t->workers);
		per_slot(requests, sizeof(requests), t->requests, p->requests, t->workers);
		logline_begin(&line, LOG_INFO, "workers_load");
		logline_str(&line, "open_connections", open);
		logline_str(&line, "requests", requests);
		logline_int(&line, "interval_s", REPORT_WORKERS_INTERVAL_MS / 1000);
		logline_emit(&line);
	}
	*p = *t;
}

void
report_init(const struct config *cfg, const union counters_block *blocks,
    const struct counters_tools *tools, uint64_t now)
{
	memset(&report, 0, sizeof(report));
	report.cfg = cfg;
	report.blocks = blocks;
	report.tools = tools;
	report.next_workers_ms = now + REPORT_WORKERS_INTERVAL_MS;
	report.next_emf_ms = cfg->metrics_emf > 0 ? now + cfg->metrics_emf * 1000ULL : UINT64_MAX;
}

uint64_t
report_run(uint64_t now)
{
	if (now >= report.next_emf_ms) {
		write_emf();
		report.next_emf_ms = now + report.cfg->metrics_emf * 1000ULL;
	}
	if (now >= report.next_workers_ms) {
		if (log_enabled(LOG_INFO))
			log_workers();
		report.next_workers_ms = now + REPORT_WORKERS_INTERVAL_MS;
	}
	return report.next_emf_ms < report.next_workers_ms ? report.next_emf_ms : report.next_workers_ms;
}

void
report_finish(void)
{
	if (report.cfg != NULL && report.cfg->metrics_emf > 0)
		write_emf();
}
