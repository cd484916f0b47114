/*
 * decide: the supervisor's decisions about its children, as pure functions
 * over the process table and the per-slot state: how long a slot waits
 * before it is refilled, what an exit means (respawn, abort a reload, give
 * up on mcpd, or nothing), and how a reload (SIGHUP) hands each worker slot
 * over to a successor.  No fork, no signals, no clock, no I/O: supervisor.c
 * reads the clock, passes `now` in and carries out what is decided here.
 */
#ifndef MCPD_SUPERVISOR_DECIDE_H
#define MCPD_SUPERVISOR_DECIDE_H

#include <stdbool.h>
#include <stdint.h>

#include "common/counters.h"
#include "supervisor/proctab.h"

/* A child that dies sooner than this after starting counts as a crash loop. */
#define QUICK_EXIT_MS 1000
#define BACKOFF_FIRST_MS 100
#define BACKOFF_MAX_MS 30000
/* How long a slot waits when fork itself failed. */
#define SPAWN_RETRY_MS 1000

/* What the supervisor remembers of a slot across the processes that fill it. */
struct slot_state {
	unsigned quick_exits;	/* consecutive exits within QUICK_EXIT_MS */
	bool respawn_pending;
	uint64_t respawn_at;
	bool served;		/* a process of this slot has reported ready */
	int counters_copy;	/* which of the slot's two counter blocks its owner writes */
};

/* What the supervisor does once a child was reaped (its row is then forgotten). */
enum reap_action {
	REAP_FORGET,		/* nothing more: it was retiring, or mcpd is stopping */
	REAP_RESPAWN,		/* refill the slot, after decide_schedule_respawn's delay */
	REAP_ABORT_RELOAD,	/* a reload's successor died before serving: keep the old child */
	REAP_FAIL_FAST,		/* it could not start and a restart cannot fix that: stop mcpd */
};

/* A reload's next move. */
enum reload_move {
	RELOAD_WAIT,		/* a successor is still starting */
	RELOAD_START,		/* start a successor for *reload_slot */
	RELOAD_DONE,		/* every worker slot was handed over; *reload_slot is -1 */
};

/* What a SIGHUP does. */
enum reload_begin {
	RELOAD_BEGUN,		/* a reload starts at slot 0 */
	RELOAD_BUSY,		/* a reload already runs: it is not restarted */
	RELOAD_IGNORED,		/* mcpd is stopping */
};

/** How a wait status counts: killed by a signal, exit 0, CHILD_EXIT_CONFIG, or another exit status. */
enum counters_exit decide_exit_cause(int status);
/** What to do after `p`, of slot state `s`, exited with wait status `status`. */
enum reap_action decide_on_reap(const struct proc *p, const struct slot_state *s, int status,
    bool stopping);
/**
 * Counts an exit of a child of `s` started at `started_ms` and sets when the
 * slot is refilled; returns the delay from `now`: none after a healthy run,
 * else BACKOFF_FIRST_MS doubling with each quick exit in a row, up to
 * BACKOFF_MAX_MS.  A CHILD_EXIT_CONFIG exit counts as quick however late.
 */
uint64_t decide_schedule_respawn(struct slot_state *s, uint64_t started_ms, int status, uint64_t now);
/** Sets `s` to be refilled SPAWN_RETRY_MS after `now`, fork having failed. */
void decide_spawn_failed(struct slot_state *s, uint64_t now);
/** True when `s` is due for a respawn at `now` (no longer pending then); else lowers *next to its pending time. */
bool decide_respawn_due(struct slot_state *s, uint64_t now, uint64_t *next);
/** The counters block of worker `slot` for its owner, or for a reload's successor (the other one). */
int decide_worker_counters_block(const struct slot_state *s, int slot, bool successor);
/** Starts a reload at slot 0 in *reload_slot (-1 when none runs), unless one runs or mcpd is stopping. */
enum reload_begin decide_begin_reload(int *reload_slot, bool stopping);
/**
 * The next move of the reload at *reload_slot (>= 0) over worker slots
 * [0, workers): waits while any successor starts, skips slots with no owner
 * (a respawn refills them anyway), ends past the last one.
 *
 * A slot has two counters blocks: its owner writes one, a successor gets
 * the other.  A worker an earlier reload retired writes that other block
 * until it exits, and the supervisor clears a worker's gauges (accepting,
 * open connections) when it is reaped.  So the rule: no block is handed to
 * a new process while a living one holds it; a reload waits at a slot
 * while a worker it retired there still drains (at most --shutdown-timeout),
 * and goes on once that worker was reaped.
 */
enum reload_move decide_reload_step(struct proctab *pt, int workers, int *reload_slot);
/**
 * Records that `p`, of slot state `s`, serves.  A reload's successor then
 * owns its slot: the slot's counters copy becomes the successor's, a respawn
 * pending for an owner that died meanwhile is cancelled (it would start a
 * second owner on the same block), the reload moves on to the next slot,
 * and the previous owner, marked retiring, is returned for the caller to
 * stop.  NULL when there is none to stop.
 * While `stopping`, a successor takes nothing over and the reload does not
 * move on: the successor itself is returned, marked retiring, to be stopped.
 */
struct proc *decide_on_ready(struct proctab *pt, struct proc *p, struct slot_state *s, int *reload_slot,
    bool stopping);

#endif
