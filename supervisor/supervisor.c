/* Runs in: the supervisor, unsandboxed: it binds, forks, reaps and respawns. */
#define _GNU_SOURCE
#include "supervisor/supervisor.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/counters.h"
#include "common/keyset.h"
#include "common/log.h"
#include "supervisor/decide.h"
#include "supervisor/egress_links.h"
#include "supervisor/limits.h"
#include "supervisor/proctab.h"
#include "supervisor/report.h"
#include "supervisor/roles.h"
#include "worker/worker.h"

/* Extra time after --shutdown-timeout for children to exit before SIGKILL. */
#define KILL_GRACE_MS 2000

struct supervisor {
	const struct config *cfg;
	struct child_args args;	/* fds every child may be handed */
	int nslots;		/* workers, then the fetcher, the metrics process and the egress when asked for */
	const struct role *slot_roles[CONFIG_MAX_WORKERS + 3];
	int sigfd;
	struct proctab pt;
	struct slot_state slots[CONFIG_MAX_WORKERS + 3];
	union counters_block *counters;	/* the shared counters region */
	struct counters_tools tools;	/* what the tool counters are labelled */
	struct egress_tools egress_tools;	/* what the tools declare about their destinations */
	struct egress_links egress;	/* its slot (-1: none) and the sockets to it */
	bool egress_told_to_stop;	/* stopping: the workers are gone and the egress got SIGTERM */
	bool stopping;
	uint64_t kill_at;
	int reload_slot;	/* next slot a reload replaces, -1 when none runs */
	int exit_code;		/* what supervisor_run returns once everything stopped */
};

static int
open_signalfd(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	/* Blocked signals wait in the signalfd: no handler races with the loop. */
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -1;
	signal(SIGPIPE, SIG_IGN);
	return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

static const struct role *
role_of_slot(const struct supervisor *sv, int slot)
{
	return sv->slot_roles[slot];
}

static void
add_slot(struct supervisor *sv, const struct role *role)
{
	sv->slot_roles[sv->nslots++] = role;
}

/* Logs "<role>_<what>", e.g. worker_started or fetcher_ready. */
static void
log_child_event(enum log_level level, const char *what, const struct proc *p)
{
	struct logline line;
	char event[48];

	snprintf(event, sizeof(event), "%s_%s", p->role->name, what);
	logline_begin(&line, level, event);
	logline_str(&line, "child", p->role->name);
	logline_int(&line, "slot", p->slot);
	logline_int(&line, "child_pid", p->pid);
	logline_emit(&line);
}

static int
counters_block_of(const struct supervisor *sv, int slot, bool successor)
{
	const struct role *role = role_of_slot(sv, slot);

	if (role == &fetcher_role)
		return COUNTERS_FETCHER_BLOCK;
	/* The metrics process writes no block (its mapping is read-only); the egress maps none. */
	if (role == &metrics_role || role == &egress_role)
		return COUNTERS_SUPERVISOR_BLOCK;
	return decide_worker_counters_block(&sv->slots[slot], slot, successor);
}

/* Each child gets only what its role uses (roles.c), and its own counters block. */
static struct child_args
args_for(const struct supervisor *sv, const struct role *role, int slot, bool successor)
{
	struct child_args args = role_args(&sv->args, role);

	args.counters_block = counters_block_of(sv, slot, successor);
	return args;
}

static void
spawn_slot(struct supervisor *sv, int slot, bool successor)
{
	const struct role *role = role_of_slot(sv, slot);
	struct child_args args = args_for(sv, role, slot, successor);
	struct proc *p = NULL;
	int egress_end;

	/* Once stopping, nothing new is forked: it would get no SIGTERM and no listener. */
	if (sv->stopping)
		return;
	if (role_open_egress_channel(role, sv->egress.slot >= 0, &args, &egress_end) == 0)
		p = proctab_spawn(&sv->pt, role, slot, &args);
	egress_links_keep(p, &args, egress_end);
	if (p != NULL)
		counter_add(&sv->counters[COUNTERS_SUPERVISOR_BLOCK].supervisor.starts[role_counted(p->role)], 1);

	if (p == NULL && successor) {
		log_errno("reload_aborted", "cannot start a replacement for worker slot %d", slot);
		sv->reload_slot = -1;
		return;
	}
	if (p == NULL) {
		log_errno("spawn_failed", "cannot start %s for slot %d; retrying in 1 s", role->name, slot);
		decide_spawn_failed(&sv->slots[slot], now_ms());
		return;
	}
	p->successor = successor;
	log_child_event(LOG_INFO, "started", p);
	egress_links_connect(&sv->egress, &sv->pt, p);
}

/* Chooses when a slot whose worker died is refilled. */
static void
schedule_respawn(struct supervisor *sv, const struct proc *p, int status)
{
	struct slot_state *s = &sv->slots[p->slot];
	uint64_t delay = decide_schedule_respawn(s, p->started_ms, status, now_ms());

	if (s->quick_exits > 0) {
		char event[48];

		snprintf(event, sizeof(event), "%s_backoff", p->role->name);
		log_msg(LOG_WARN, event, "%s slot %d exited %u time(s) in a row within %d ms of starting; "
		    "restarting in %llu ms", p->role->name, p->slot, s->quick_exits, QUICK_EXIT_MS,
		    (unsigned long long)delay);
	}
}

static void
log_exit(const struct proc *p, int status)
{
	struct logline line;
	bool clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;
	char event[48];

	snprintf(event, sizeof(event), "%s_exited", p->role->name);
	logline_begin(&line, clean ? LOG_INFO : LOG_WARN, event);
	logline_str(&line, "child", p->role->name);
	logline_int(&line, "slot", p->slot);
	logline_int(&line, "child_pid", p->pid);
	if (WIFEXITED(status)) {
		logline_int(&line, "exit_code", WEXITSTATUS(status));
	} else if (WIFSIGNALED(status)) {
		logline_int(&line, "signal", WTERMSIG(status));
		logline_str(&line, "signal_name", sigabbrev_np(WTERMSIG(status)) ?: "?");
		if (WCOREDUMP(status))
			logline_str(&line, "core", "dumped");
	}
	logline_int(&line, "uptime_ms", (long long)(now_ms() - p->started_ms));
	logline_emit(&line);
}

static void stop_children(struct supervisor *sv);

static void
fail_fast(struct supervisor *sv, const struct proc *p)
{
	log_msg(LOG_ERROR, "startup_failed", "%s slot %d could not start and a restart cannot fix it "
	    "(exit status %d; the %s's own line above names the step): stopping mcpd. Where the kernel "
	    "or the container runtime cannot install the sandbox (seccomp under qemu-user, or "
	    "forbidden by the runtime), run with --sandbox best-effort (MCPD_SANDBOX=best-effort)",
	    p->role->name, p->slot, CHILD_EXIT_CONFIG, p->role->name);
	sv->exit_code = 1;
	stop_children(sv);
}

/*
 * Counts the exit.  A dead worker's connections died with it: its block
 * stops counting as open and accepting (the one write the supervisor makes
 * to a worker's block, once its writer is gone), and its requests stop
 * counting against their clients' limits.
 */
static void
count_exit(struct supervisor *sv, const struct proc *p, int status)
{
	struct counters_gate *gate = &sv->counters[p->counters_block].worker.gate;

	counter_add(&sv->counters[COUNTERS_SUPERVISOR_BLOCK].supervisor.exits[role_counted(p->role)][decide_exit_cause(status)], 1);
	if (p->role != &worker_role)
		return;
	__atomic_store_n(&gate->accepting, 0, __ATOMIC_RELAXED);
	counter_set(&gate->open_connections, 0);
	limits_worker_gone(p);
}

static void
on_child_exit(struct supervisor *sv, struct proc *p, int status)
{
	log_exit(p, status);
	count_exit(sv, p, status);
	switch (decide_on_reap(p, &sv->slots[p->slot], status, sv->stopping)) {
	case REAP_FAIL_FAST:
		fail_fast(sv, p);
		break;
	case REAP_ABORT_RELOAD:
		log_msg(LOG_WARN, "reload_aborted",
		    "replacement for worker slot %d died before serving; keeping the old worker",
		    p->slot);
		sv->reload_slot = -1;
		break;
	case REAP_RESPAWN:
		schedule_respawn(sv, p, status);
		break;
	case REAP_FORGET:
		break;
	}
	proctab_remove(&sv->pt, p);
}

static void
reap_children(struct supervisor *sv)
{
	struct proc *p;
	pid_t pid;
	int status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		p = proctab_find(&sv->pt, pid);
		if (p != NULL)
			on_child_exit(sv, p, status);
	}
}

static void
begin_stop(struct supervisor *sv, int sig)
{
	if (sv->stopping) {
		log_msg(LOG_WARN, "shutdown_forced", "second %s: killing workers now",
		    sigabbrev_np(sig));
		proctab_signal_all(&sv->pt, SIGKILL);
		return;
	}
	log_msg(LOG_INFO, "shutdown", "SIG%s: draining in-flight requests for up to %u s",
	    sigabbrev_np(sig), sv->cfg->shutdown_timeout);
	stop_children(sv);
}

/* Stops accepting and tells every child to finish; the loop ends when they have. */
static void
stop_children(struct supervisor *sv)
{
	sv->stopping = true;
	sv->reload_slot = -1;
	/* Our copy of the listener would keep queueing connections nobody serves. */
	close(sv->args.listen_fd);
	sv->args.listen_fd = -1;
	if (sv->args.metrics_fd >= 0)
		close(sv->args.metrics_fd);
	sv->args.metrics_fd = -1;
	/* The egress goes on serving the draining workers' calls: stop_egress_last. */
	for (int i = 0; i < sv->pt.nprocs; i++) {
		const struct proc *p = &sv->pt.procs[i];

		if (p->role != &egress_role && kill(p->pid, SIGTERM) < 0 && errno != ESRCH)
			log_errno("signal_failed", "cannot signal pid %d", (int)p->pid);
	}
	sv->kill_at = now_ms() + sv->cfg->shutdown_timeout * 1000ULL + KILL_GRACE_MS;
}

static void
begin_reload(struct supervisor *sv)
{
	switch (decide_begin_reload(&sv->reload_slot, sv->stopping)) {
	case RELOAD_IGNORED:
		break;
	case RELOAD_BUSY:
		log_msg(LOG_INFO, "reload_busy", "SIGHUP: a reload is already replacing workers");
		break;
	case RELOAD_BEGUN:
		log_msg(LOG_INFO, "reload", "SIGHUP: replacing workers one at a time");
		break;
	}
}

/* Stopping: once no worker is left to call it, the egress is told to stop too. */
static void
stop_egress_last(struct supervisor *sv)
{
	struct proc *egress = egress_links_egress(&sv->egress, &sv->pt);

	if (sv->egress_told_to_stop || egress == NULL)
		return;
	for (int i = 0; i < sv->pt.nprocs; i++)
		if (sv->pt.procs[i].role == &worker_role)
			return;
	sv->egress_told_to_stop = true;
	if (kill(egress->pid, SIGTERM) < 0 && errno != ESRCH)
		log_errno("signal_failed", "cannot signal the egress, pid %d", (int)egress->pid);
}

/* Starts the next successor once the previous one serves. */
static void
reload_step(struct supervisor *sv)
{
	switch (decide_reload_step(&sv->pt, sv->cfg->workers, &sv->reload_slot)) {
	case RELOAD_WAIT:
		break;
	case RELOAD_DONE:
		log_msg(LOG_INFO, "reload_done", "every worker was replaced");
		break;
	case RELOAD_START:
		spawn_slot(sv, sv->reload_slot, true);
		break;
	}
}

static void
on_ready(struct supervisor *sv, struct proc *p)
{
	struct proc *retired;
	char byte;
	ssize_t n = read(p->ready_fd, &byte, 1);

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	close(p->ready_fd);
	p->ready_fd = -1;
	if (n != 1)
		return;	/* Died before serving; reaping tells the rest. */
	retired = decide_on_ready(&sv->pt, p, &sv->slots[p->slot], &sv->reload_slot, sv->stopping);
	log_child_event(LOG_INFO, "ready", p);
	if (retired == NULL)
		return;
	/*
	 * A retired worker gets the drain a shutdown gives it; one that never
	 * exits (stopped, stuck) must not hold up every later reload.
	 */
	retired->kill_at_ms = now_ms() + sv->cfg->shutdown_timeout * 1000ULL + KILL_GRACE_MS;
	if (kill(retired->pid, SIGTERM) < 0 && errno != ESRCH)
		log_errno("signal_failed", "cannot retire pid %d", (int)retired->pid);
}

/* SIGKILLs retired workers past their drain; returns the next such deadline, or UINT64_MAX. */
static uint64_t
kill_overdue_retired(struct supervisor *sv, uint64_t now)
{
	uint64_t next = UINT64_MAX;

	for (int i = 0; i < sv->pt.nprocs; i++) {
		struct proc *p = &sv->pt.procs[i];

		if (p->state != PROC_RETIRING || p->kill_at_ms == 0)
			continue;
		if (now < p->kill_at_ms) {
			next = p->kill_at_ms < next ? p->kill_at_ms : next;
			continue;
		}
		log_msg(LOG_WARN, "retire_timeout", "retired %s pid %d did not exit within --shutdown-timeout "
		    "(%u s); sending SIGKILL", p->role->name, (int)p->pid, sv->cfg->shutdown_timeout);
		if (kill(p->pid, SIGKILL) < 0 && errno != ESRCH)
			log_errno("signal_failed", "cannot kill pid %d", (int)p->pid);
		p->kill_at_ms = 0;
	}
	return next;
}

static void
read_signals(struct supervisor *sv)
{
	struct signalfd_siginfo si;

	while (read(sv->sigfd, &si, sizeof(si)) == sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGCHLD:
			reap_children(sv);
			break;
		case SIGTERM:
		case SIGINT:
			begin_stop(sv, (int)si.ssi_signo);
			break;
		case SIGHUP:
			begin_reload(sv);
			break;
		}
	}
}

/* Starts due respawns; returns the poll timeout until the next deadline. */
static int
run_timers(struct supervisor *sv)
{
	uint64_t now = now_ms(), next = UINT64_MAX, due;

	for (int s = 0; s < sv->nslots && !sv->stopping; s++) {
		if (decide_respawn_due(&sv->slots[s], now, &next))
			spawn_slot(sv, s, false);
	}
	due = report_run(now);
	if (due < next)
		next = due;
	due = kill_overdue_retired(sv, now);
	if (due < next)
		next = due;
	if (sv->stopping) {
		stop_egress_last(sv);
		if (now >= sv->kill_at) {
			log_msg(LOG_WARN, "shutdown_timeout", "workers still running; sending SIGKILL");
			proctab_signal_all(&sv->pt, SIGKILL);
			sv->kill_at = now + 1000;
		}
		if (sv->kill_at < next)
			next = sv->kill_at;
	}
	if (next == UINT64_MAX)
		return -1;
	now = now_ms();
	return next <= now ? 0 : (int)(next - now);
}

static void
poll_once(struct supervisor *sv, int timeout)
{
	struct pollfd fds[2 + PROCTAB_MAX];
	struct proc *owners[2 + PROCTAB_MAX];
	/* Polled for room only while a worker is owed a connection: it is writable nearly always. */
	struct proc *egress = egress_links_awaited(&sv->egress, &sv->pt);
	nfds_t n = 0;

	fds[n++] = (struct pollfd){.fd = sv->sigfd, .events = POLLIN};
	fds[n++] = (struct pollfd){.fd = egress != NULL ? egress->egress_fd : -1, .events = POLLOUT};
	for (int i = 0; i < sv->pt.nprocs; i++) {
		if (sv->pt.procs[i].ready_fd < 0)
			continue;
		owners[n] = &sv->pt.procs[i];
		fds[n++] = (struct pollfd){.fd = sv->pt.procs[i].ready_fd, .events = POLLIN};
	}
	if (poll(fds, n, timeout) < 0) {
		if (errno != EINTR)
			log_errno("poll_failed", "supervisor poll");
		return;
	}
	/* Readiness and links first: reaping may move rows and invalidate owners[] and egress. */
	for (nfds_t i = 2; i < n; i++)
		if (fds[i].revents != 0)
			on_ready(sv, owners[i]);
	if (fds[1].revents & POLLOUT)
		egress_links_give_owed(&sv->egress, &sv->pt, egress);
	if (fds[0].revents & POLLIN)
		read_signals(sv);
}

/*
 * With token verification on, the supervisor owns the key-set region (the
 * fetcher writes it, workers read it) and the eventfd workers use to ask for
 * a refresh; it only hands them to children.
 */
static int
create_auth_channels(struct supervisor *sv)
{
	sv->args.keyset_fd = keyset_region_create();
	if (sv->args.keyset_fd < 0) {
		log_errno("keyset_failed", "cannot create the shared key-set region");
		return -1;
	}
	sv->args.refresh_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (sv->args.refresh_fd < 0) {
		log_errno("eventfd_failed", "cannot create the key refresh channel");
		return -1;
	}
	return 0;
}

/* The counters region: created and mapped here, inherited by every child. */
static int
create_counters(struct supervisor *sv)
{
	sv->args.counters_fd = counters_region_create(sv->cfg->workers);
	if (sv->args.counters_fd < 0) {
		log_errno("counters_failed", "cannot create the shared counters region");
		return -1;
	}
	sv->counters = counters_map(sv->args.counters_fd, sv->cfg->workers);
	if (sv->counters == NULL) {
		log_errno("counters_failed", "cannot map the shared counters region");
		return -1;
	}
	/* Children map the region themselves, each as its role needs (the metrics process read-only). */
	if (madvise(sv->counters, COUNTERS_BLOCKS(sv->cfg->workers) * COUNTERS_BLOCK_SIZE, MADV_DONTFORK) < 0) {
		log_errno("counters_failed", "cannot keep the counters mapping from children");
		return -1;
	}
	return 0;
}

int
supervisor_run(const struct config *cfg, const struct listeners *listeners, int aws_env_fd)
{
	static struct supervisor sv;

	sv = (struct supervisor){
		.cfg = cfg, .reload_slot = -1, .egress = {.slot = -1},
		.args = {.cfg = cfg, .listen_fd = listeners->mcp_fd, .metrics_fd = listeners->metrics_fd,
		    .keyset_fd = -1, .refresh_fd = -1, .counters_fd = -1, .client_limits_fd = -1,
		    .aws_env_fd = aws_env_fd,
		    .egress_control_fd = -1, .egress_link_fd = -1},
	};
	sv.sigfd = open_signalfd();
	if (sv.sigfd < 0) {
		log_errno("signalfd_failed", "cannot set up signal handling");
		return 1;
	}
	if (create_counters(&sv) < 0 || limits_create(cfg, &sv.args.client_limits_fd) < 0)
		return 1;
	/* The tool labels come from the worker's registry; children inherit them through fork. */
	worker_counted_tools(&sv.tools);
	sv.args.tools = &sv.tools;
	report_init(cfg, sv.counters, &sv.tools, now_ms());
	for (int w = 0; w < cfg->workers; w++)
		add_slot(&sv, &worker_role);
	if (cfg->auth == AUTH_JWT) {
		if (create_auth_channels(&sv) < 0)
			return 1;
		add_slot(&sv, &fetcher_role);
	}
	if (listeners->metrics_fd >= 0)
		add_slot(&sv, &metrics_role);
	/* The egress exists only for tools that may fetch; its table, like the labels, is inherited. */
	if (worker_egress_tools(&sv.egress_tools) > 0) {
		sv.args.egress_tools = &sv.egress_tools;
		sv.egress.slot = sv.nslots;
		add_slot(&sv, &egress_role);
	}
	for (int s = 0; s < sv.nslots; s++)
		spawn_slot(&sv, s, false);
	while (!sv.stopping || sv.pt.nprocs > 0) {
		int timeout = run_timers(&sv);

		if (sv.reload_slot >= 0)
			reload_step(&sv);
		poll_once(&sv, timeout);
	}
	report_finish();
	log_msg(sv.exit_code == 0 ? LOG_INFO : LOG_ERROR, "stopped", "all workers exited");
	close(sv.sigfd);
	counters_unmap(sv.counters, cfg->workers);
	close(sv.args.counters_fd);
	limits_destroy(sv.args.client_limits_fd);
	return sv.exit_code;
}
