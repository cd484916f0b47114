/* Runs in: the metrics process: set up before its sandbox, serving inside it. */
#define _GNU_SOURCE
/*
 * metrics_process: runs in the metrics child; sandboxed (metrics_policy)
 * before it accepts a scrape.  See metrics_process.h.
 */
#include "metrics/metrics_process.h"

#include <time.h>
#include <unistd.h>

#include <h2o.h>

#include "common/counters.h"
#include "common/log.h"
#include "metrics/admission.h"
#include "metrics/answer_deadline.h"
#include "metrics/scrape.h"
#include "metrics/seccomp.h"

static struct {
	h2o_context_t ctx;
	h2o_accept_ctx_t accept_ctx;
	h2o_socket_t *signals;
	bool stopping;
} metrics;

static void
on_signal(h2o_socket_t *sock, const char *err)
{
	if (err != NULL)
		return;
	if (child_signals_stop(h2o_socket_get_fd(sock)))
		metrics.stopping = true;
}

/* SIGTERM and SIGINT through a signalfd in the loop; SIGHUP is the supervisor's. */
static int
watch_signals(void)
{
	int fd = child_signals_open();

	if (fd < 0)
		return -1;
	metrics.signals = h2o_evloop_socket_create(metrics.ctx.loop, fd, H2O_SOCKET_FLAG_DONT_READ);
	h2o_socket_read_start(metrics.signals, on_signal);
	return 0;
}

int
metrics_main(const struct child_args *args)
{
	const union counters_block *blocks = counters_map_readonly(args->counters_fd, args->cfg->workers);

	close(args->counters_fd);
	if (blocks == NULL) {
		log_errno("metrics_setup_failed", "cannot map the shared counters");
		return CHILD_EXIT_CONFIG;
	}
	tzset();
	metrics.accept_ctx.hosts = scrape_configure(args->cfg, blocks, args->tools);
	h2o_context_init(&metrics.ctx, h2o_evloop_create(), scrape_globalconf());
	metrics.accept_ctx.ctx = &metrics.ctx;
	answer_deadline_init(metrics.ctx.loop, args->cfg->idle_timeout);
	if (watch_signals() < 0 || admission_start(&metrics.accept_ctx, args->metrics_fd) < 0) {
		log_errno("metrics_setup_failed", "cannot start the event loop");
		return CHILD_EXIT_CONFIG;
	}
	if (sandbox_enter(&metrics_policy, args->cfg, args->supervisor_pid) < 0)
		return CHILD_EXIT_CONFIG;
	/* A failure is logged; serving does not depend on the supervisor hearing of it. */
	child_ready("metrics", args->ready_fd);
	/* A scrape is a few milliseconds: stopping does not wait for one. */
	while (!metrics.stopping)
		h2o_evloop_run(metrics.ctx.loop, INT32_MAX);
	counters_unmap(blocks, args->cfg->workers);
	return 0;
}
