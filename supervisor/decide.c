/* Runs in: the supervisor: when children are refilled, retired or given up on. See decide.h. */
#include "supervisor/decide.h"

#include <sys/wait.h>

static bool
config_exit(int status)
{
	return WIFEXITED(status) && WEXITSTATUS(status) == CHILD_EXIT_CONFIG;
}

enum counters_exit
decide_exit_cause(int status)
{
	if (WIFSIGNALED(status))
		return EXIT_CRASH;
	if (WEXITSTATUS(status) == 0)
		return EXIT_CLEAN;
	return config_exit(status) ? EXIT_CONFIG : EXIT_ERROR;
}

/*
 * A child that exits with CHILD_EXIT_CONFIG before its slot ever served
 * failed for a reason a restart cannot fix (its configuration, or a sandbox
 * this kernel or container will not install): restarting it with backoff
 * forever would leave a container that never exits and never serves.  Once
 * a slot has served, the same status is taken as transient (backoff).
 */
static bool
unfixable_start(const struct proc *p, const struct slot_state *s, int status)
{
	return config_exit(status) && p->state == PROC_STARTING && !p->successor && !s->served;
}

enum reap_action
decide_on_reap(const struct proc *p, const struct slot_state *s, int status, bool stopping)
{
	if (!stopping && unfixable_start(p, s, status))
		return REAP_FAIL_FAST;
	if (p->successor)
		return REAP_ABORT_RELOAD;
	if (p->state != PROC_RETIRING && !stopping)
		return REAP_RESPAWN;
	return REAP_FORGET;
}

static uint64_t
backoff_ms(unsigned quick_exits)
{
	unsigned shift = quick_exits - 1 > 16 ? 16 : quick_exits - 1;
	uint64_t delay = (uint64_t)BACKOFF_FIRST_MS << shift;

	return delay > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : delay;
}

uint64_t
decide_schedule_respawn(struct slot_state *s, uint64_t started_ms, int status, uint64_t now)
{
	uint64_t delay = 0;

	if (now - started_ms < QUICK_EXIT_MS || config_exit(status))
		s->quick_exits++;
	else
		s->quick_exits = 0;
	if (s->quick_exits > 0)
		delay = backoff_ms(s->quick_exits);
	s->respawn_pending = true;
	s->respawn_at = now + delay;
	return delay;
}

void
decide_spawn_failed(struct slot_state *s, uint64_t now)
{
	s->respawn_pending = true;
	s->respawn_at = now + SPAWN_RETRY_MS;
}

bool
decide_respawn_due(struct slot_state *s, uint64_t now, uint64_t *next)
{
	if (!s->respawn_pending)
		return false;
	if (s->respawn_at <= now) {
		s->respawn_pending = false;
		return true;
	}
	if (s->respawn_at < *next)
		*next = s->respawn_at;
	return false;
}

/*
 * A worker that replaces a dead one continues its block; a reload's
 * successor runs beside the worker it replaces, so it takes the other one.
 */
int
decide_worker_counters_block(const struct slot_state *s, int slot, bool successor)
{
	return COUNTERS_WORKER_BLOCK(slot, successor ? 1 - s->counters_copy : s->counters_copy);
}

enum reload_begin
decide_begin_reload(int *reload_slot, bool stopping)
{
	if (stopping)
		return RELOAD_IGNORED;
	if (*reload_slot >= 0)
		return RELOAD_BUSY;
	*reload_slot = 0;
	return RELOAD_BEGUN;
}

static bool
successor_starting(const struct proctab *pt)
{
	for (int i = 0; i < pt->nprocs; i++)
		if (pt->procs[i].successor)
			return true;
	return false;
}

/*
 * A worker retired by the previous reload still drains: it writes the block
 * a successor for its slot would get (a slot has only two).
 */
static bool
retired_worker_runs(const struct proctab *pt, int slot)
{
	for (int i = 0; i < pt->nprocs; i++)
		if (pt->procs[i].slot == slot && pt->procs[i].state == PROC_RETIRING)
			return true;
	return false;
}

/* Workers are replaced one at a time, so at most one successor runs beside them. */
enum reload_move
decide_reload_step(struct proctab *pt, int workers, int *reload_slot)
{
	if (successor_starting(pt))
		return RELOAD_WAIT;
	while (*reload_slot >= 0 && *reload_slot < workers &&
	    proctab_slot_owner(pt, *reload_slot) == NULL)
		(*reload_slot)++;	/* waiting for a respawn anyway */
	if (*reload_slot >= workers) {
		*reload_slot = -1;
		return RELOAD_DONE;
	}
	if (retired_worker_runs(pt, *reload_slot))
		return RELOAD_WAIT;	/* reaping it wakes the loop again */
	return RELOAD_START;
}

/*
 * SIGTERM ended the reload (*reload_slot is -1) while this successor
 * started: it hands nothing over, since moving the reload on would start
 * another successor while stopping, and it is stopped like its peers.
 */
static struct proc *
successor_ready_while_stopping(struct proc *p)
{
	p->successor = false;
	p->state = PROC_RETIRING;
	return p;
}

struct proc *
decide_on_ready(struct proctab *pt, struct proc *p, struct slot_state *s, int *reload_slot,
    bool stopping)
{
	struct proc *old;

	p->state = PROC_READY;
	s->served = true;
	if (!p->successor)
		return NULL;
	if (stopping)
		return successor_ready_while_stopping(p);
	/* Looked up while p is still a successor, so the owner found is never p. */
	old = proctab_slot_owner(pt, p->slot);
	p->successor = false;
	s->counters_copy = 1 - s->counters_copy;
	/* The slot has its owner: a respawn for an owner that died meanwhile would be a second one. */
	s->respawn_pending = false;
	(*reload_slot)++;
	if (old == NULL)
		return NULL;
	old->state = PROC_RETIRING;
	return old;
}
