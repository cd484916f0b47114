/* Runs in: workers: set up before the sandbox, serving inside it. */
#define _GNU_SOURCE
#include "worker/worker.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <h2o.h>

#include "common/clock.h"
#include "common/counters.h"
#include "common/json_arena.h"
#include "common/log.h"
#include "worker/auth.h"
#include "worker/chunked_limit.h"
#include "worker/own_counters.h"
#include "worker/egress_link.h"
#include "worker/http.h"
#include "worker/http_limits.h"
#include "worker/http_wait.h"
#include "worker/membudget.h"
#include "worker/outflow.h"
#include "worker/seccomp.h"
#include "worker/spread.h"
#include "worker/tool_engine.h"

/*
 * One connection per wake-up, and only when spread.c says this worker is not
 * ahead of its peers; the level-triggered loop wakes us again at once if
 * more are waiting.
 */
#define ACCEPTS_PER_WAKEUP 1
/* While draining, a connection quiet this long is closed. */
#define DRAIN_IDLE_MS 500
/*
 * Out of file descriptors, accept(2) fails at once while the connection
 * stays queued, and a level-triggered listener would wake us again at once:
 * the listener rests this long, and the condition is logged at most once
 * per interval with a count.
 */
#define ACCEPT_PAUSE_MS 100
#define ACCEPT_LOG_INTERVAL_MS 5000

struct worker {
	const struct config *cfg;
	h2o_globalconf_t globalconf;
	h2o_context_t ctx;
	h2o_accept_ctx_t accept_ctx;
	h2o_socket_t *listener;
	h2o_socket_t *signals;
	union counters_block *counters;	/* the shared region */
	bool draining;
	uint64_t drain_deadline;
	h2o_timeout_t accept_pause;
	h2o_timeout_entry_t accept_resume;
	h2o_timeout_t spread_pause;
	h2o_timeout_entry_t spread_resume;
	unsigned accept_failures;	/* since the last log line */
	uint64_t accept_logged_ms;
};

static void on_accept(h2o_socket_t *listener, const char *err);

/* Peers read this to decide whether to leave connections to us. */
static void
set_accepting(bool accepting)
{
	__atomic_store_n(&own_counters->gate.accepting, accepting ? 1 : 0, __ATOMIC_RELAXED);
}

static void
resume_accepting(struct worker *w)
{
	if (w->listener == NULL)
		return;
	set_accepting(true);
	h2o_socket_read_start(w->listener, on_accept);
}

static void
on_accept_resume(h2o_timeout_entry_t *entry)
{
	resume_accepting(H2O_STRUCT_FROM_MEMBER(struct worker, accept_resume, entry));
}

static void
on_spread_resume(h2o_timeout_entry_t *entry)
{
	resume_accepting(H2O_STRUCT_FROM_MEMBER(struct worker, spread_resume, entry));
}

/* A peer with fewer connections takes this one; look again in a moment. */
static void
leave_to_peer(struct worker *w)
{
	h2o_socket_read_stop(w->listener);
	if (!h2o_timeout_is_linked(&w->spread_resume))
		h2o_timeout_link(w->ctx.loop, &w->spread_pause, &w->spread_resume);
}

static void
on_connection_closed(void *data)
{
	membudget_closed(data);
	counter_add(&own_counters->gate.open_connections, (uint64_t)-1);
}

/* accept(2) found no free descriptor: rest the listener, keep serving the rest. */
static void
pause_accepting(struct worker *w, int error)
{
	uint64_t now = now_ms();

	w->accept_failures++;
	if (w->accept_logged_ms == 0 || now - w->accept_logged_ms >= ACCEPT_LOG_INTERVAL_MS) {
		log_msg(LOG_WARN, "accept_no_descriptors", "cannot accept connections: %s (%u time(s) "
		    "since the last such line); open connections are still served and new ones wait "
		    "in the queue. Raise the open-file limit: ulimit -n, or the container's nofile",
		    strerror(error), w->accept_failures);
		w->accept_logged_ms = now;
		w->accept_failures = 0;
	}
	/* Peers must not leave connections to a worker that cannot take them. */
	set_accepting(false);
	h2o_socket_read_stop(w->listener);
	if (!h2o_timeout_is_linked(&w->accept_resume))
		h2o_timeout_link(w->ctx.loop, &w->accept_pause, &w->accept_resume);
}

static void
on_accept(h2o_socket_t *listener, const char *err)
{
	struct worker *w = listener->data;
	h2o_socket_t *sock;

	if (err != NULL)
		return;
	for (int i = 0; i < ACCEPTS_PER_WAKEUP; i++) {
		if (spread_should_yield(now_ms())) {
			leave_to_peer(w);
			return;
		}
		sock = h2o_evloop_socket_accept(listener);
		if (sock == NULL) {
			if (errno == EMFILE || errno == ENFILE)
				pause_accepting(w, errno);
			return;
		}
		counter_add(&own_counters->gate.accepted, 1);
		counter_add(&own_counters->gate.open_connections, 1);
		sock->on_close.cb = on_connection_closed;
		h2o_accept(&w->accept_ctx, sock);
		sock->on_close.data = membudget_watch(sock);
	}
}


/*
 * Stop taking connections and let the open ones finish.  h2o 2.2.5 only marks
 * the context (later responses carry Connection: close) and would leave idle
 * keep-alive connections open until the request timeout, so shorten that
 * timeout: idle connections close soon, ones still receiving keep going.
 */
static void
begin_drain(struct worker *w)
{
	if (w->draining)
		return;
	w->draining = true;
	w->drain_deadline = now_ms() + w->cfg->shutdown_timeout * 1000ULL;
	log_msg(LOG_INFO, "worker_draining", "stopped accepting; finishing open connections");
	set_accepting(false);
	h2o_socket_read_stop(w->listener);
	h2o_socket_close(w->listener);
	w->listener = NULL;
	if (h2o_timeout_is_linked(&w->accept_resume))
		h2o_timeout_unlink(&w->accept_resume);
	if (h2o_timeout_is_linked(&w->spread_resume))
		h2o_timeout_unlink(&w->spread_resume);
	h2o_context_request_shutdown(&w->ctx);
	if (w->ctx.http1.req_timeout.timeout > DRAIN_IDLE_MS)
		w->ctx.http1.req_timeout.timeout = DRAIN_IDLE_MS;
}

static void
on_signal(h2o_socket_t *sock, const char *err)
{
	struct worker *w = sock->data;

	if (err != NULL)
		return;
	if (child_signals_stop(h2o_socket_get_fd(sock)))
		begin_drain(w);
	h2o_buffer_consume(&sock->input, sock->input->size);
}

/* SIGTERM and SIGINT (drain) through a signalfd in the event loop. */
static int
watch_signals(struct worker *w)
{
	int fd = child_signals_open();

	if (fd < 0)
		return -1;
	w->signals = h2o_evloop_socket_create(w->ctx.loop, fd, H2O_SOCKET_FLAG_DONT_READ);
	w->signals->data = w;
	h2o_socket_read_start(w->signals, on_signal);
	return 0;
}

static int
start_serving(struct worker *w, const struct child_args *args)
{
	w->listener = h2o_evloop_socket_create(w->ctx.loop, args->listen_fd, H2O_SOCKET_FLAG_DONT_READ);
	if (w->listener == NULL)
		return -1;
	w->listener->data = w;
	h2o_timeout_init(w->ctx.loop, &w->accept_pause, ACCEPT_PAUSE_MS);
	w->accept_resume.cb = on_accept_resume;
	h2o_timeout_init(w->ctx.loop, &w->spread_pause, SPREAD_PAUSE_MS);
	w->spread_resume.cb = on_spread_resume;
	h2o_socket_read_start(w->listener, on_accept);
	return 0;
}

/* This worker's block of the shared counters, and its peers' for the accept gate. */
static int
attach_counters(struct worker *w, const struct child_args *args)
{
	w->counters = counters_map(args->counters_fd, args->cfg->workers);
	close(args->counters_fd);
	if (w->counters == NULL)
		return -1;
	own_counters_attach(&w->counters[args->counters_block].worker);
	spread_init(&w->counters[COUNTERS_WORKER_BLOCK(0, 0)], 2 * (size_t)args->cfg->workers, own_counters);
	return 0;
}

static bool
drained(struct worker *w)
{
	return h2o_linklist_is_empty(&w->ctx.http1._conns) &&
	    h2o_linklist_is_empty(&w->ctx.http2._conns);
}

static void
run_loop(struct worker *w)
{
	while (!w->draining || !drained(w)) {
		int32_t wait = w->draining ? 100 : INT32_MAX;

		h2o_evloop_run(w->ctx.loop, wait);
		log_flush();	/* this turn's request lines, before waiting again */
		if (w->draining && now_ms() >= w->drain_deadline) {
			log_msg(LOG_WARN, "worker_drain_timeout",
			    "connections still open after %u s; closing them",
			    w->cfg->shutdown_timeout);
			return;
		}
	}
}

int
worker_main(const struct child_args *args)
{
	static struct worker w;

	w = (struct worker){.cfg = args->cfg};
	/* A request's JSON tree lives only while the request is handled. */
	json_arena_install();
	/* Read the zone file now; h2o's Date cache would do it on the first request. */
	tzset();
	if (auth_init(args->cfg, args->keyset_fd, args->refresh_fd) < 0) {
		log_errno("worker_setup_failed", "cannot map the shared key set");
		return CHILD_EXIT_CONFIG;
	}
	if (attach_counters(&w, args) < 0) {
		log_errno("worker_setup_failed", "cannot map the shared counters");
		return CHILD_EXIT_CONFIG;
	}
	if (http_limits_init(args->cfg, args->client_limits_fd, args->counters_block) < 0) {
		log_errno("worker_setup_failed", "cannot map the per-client limits table");
		return CHILD_EXIT_CONFIG;
	}
	if (http_configure(&w.globalconf, args->cfg) < 0) {
		log_msg(LOG_ERROR, "worker_setup_failed", "cannot configure the HTTP server");
		return CHILD_EXIT_CONFIG;
	}
	/* The event loop and context are made after fork: an epoll fd must not be shared. */
	h2o_context_init(&w.ctx, h2o_evloop_create(), &w.globalconf);
	outflow_init(w.ctx.loop, args->cfg->max_pending_output, args->cfg->idle_timeout);
	chunked_limit_init(&w.ctx, args->cfg->max_body);
	membudget_init(&w.ctx, args->cfg->max_buffered);
	http_wait_init(w.ctx.loop);
	tools_fetch_configure(args->cfg->egress_max_response, args->cfg->aws_region);
	if (egress_link_init(w.ctx.loop, args->egress_link_fd, args->cfg) < 0) {
		log_errno("worker_setup_failed", "cannot watch the egress link");
		return CHILD_EXIT_CONFIG;
	}
	w.accept_ctx = (h2o_accept_ctx_t){.ctx = &w.ctx, .hosts = w.globalconf.hosts};
	if (watch_signals(&w) < 0 || start_serving(&w, args) < 0) {
		log_errno("worker_setup_failed", "cannot start the event loop");
		return CHILD_EXIT_CONFIG;
	}
	auth_prewarm();
	/* Sandboxed before the first connection is accepted. */
	if (sandbox_enter(&worker_policy, args->cfg, args->supervisor_pid) < 0)
		return CHILD_EXIT_CONFIG;
	/* A failure is logged; serving does not depend on the supervisor hearing of it. */
	child_ready("worker", args->ready_fd);
	set_accepting(true);
	log_set_batching(true);
	run_loop(&w);
	log_set_batching(false);
	egress_link_close();
	http_limits_shutdown();
	auth_shutdown();
	own_counters_detach();
	counters_unmap(w.counters, args->cfg->workers);
	log_msg(LOG_INFO, "worker_stopped", "drained");
	return 0;
}

void
worker_counted_tools(struct counters_tools *tools)
{
	const char *name;

	tools->count = 0;
	while (tools->count < COUNTERS_MAX_TOOLS && (name = tools_name(tools->count)) != NULL)
		tools->names[tools->count++] = name;
}

size_t
worker_egress_tools(struct egress_tools *table)
{
	static struct egress_tool declared[COUNTERS_MAX_TOOLS];
	const struct mcpd_tool *tool;
	size_t n = 0;

	for (size_t i = 0; n < COUNTERS_MAX_TOOLS && (tool = tools_at(i)) != NULL; i++) {
		if (tool->egress == NULL && !tool->egress_operator)
			continue;
		declared[n++] = (struct egress_tool){.name = tool->name, .destinations = tool->egress,
		    .takes_operator = tool->egress_operator};
	}
	*table = (struct egress_tools){.tools = declared, .n = n};
	return n;
}
