/*
 * decide_fixture: what the decide tests share: a process table filled by
 * hand (nothing forks) with every slot served by one ready child, and the
 * wait statuses waitpid would report.  Include it after <cmocka.h>.
 */
#ifndef MCPD_TESTS_UNIT_SUPERVISOR_DECIDE_FIXTURE_H
#define MCPD_TESTS_UNIT_SUPERVISOR_DECIDE_FIXTURE_H

#include <string.h>
#include <sys/wait.h>

#include "supervisor/decide.h"

/* Wait statuses as waitpid reports them. */
#define EXITED(code) W_EXITCODE(code, 0)
#define KILLED_BY(sig) W_EXITCODE(0, sig)

#define WORKERS 4
#define FETCHER_SLOT WORKERS
#define METRICS_SLOT (WORKERS + 1)
#define NSLOTS (WORKERS + 2)
#define T0 1000000	/* an arbitrary monotonic start, in ms */

static struct proctab pt;
static struct slot_state slots[NSLOTS];
static int reload_slot;
static pid_t next_pid;

static inline struct proc *
add_proc(int slot, enum proc_state state, bool successor)
{
	struct proc *p = &pt.procs[pt.nprocs++];

	*p = (struct proc){.pid = next_pid++, .slot = slot, .state = state, .ready_fd = -1, .egress_fd = -1,
	    .successor = successor, .started_ms = T0};
	/* As the supervisor hands them out; the fetcher and metrics process write no worker block. */
	p->counters_block = slot < WORKERS ? decide_worker_counters_block(&slots[slot], slot, successor) : -1;
	return p;
}

/* Whether any process in the table other than `p` writes counters block `block`. */
static inline bool
block_held_by_another(const struct proc *p, int block)
{
	for (int i = 0; i < pt.nprocs; i++)
		if (&pt.procs[i] != p && pt.procs[i].counters_block == block)
			return true;
	return false;
}

/* Every slot served by one ready child, no reload running. */
static inline int
setup(void **state)
{
	(void)state;
	memset(&pt, 0, sizeof(pt));
	memset(slots, 0, sizeof(slots));
	reload_slot = -1;
	next_pid = 100;
	for (int s = 0; s < NSLOTS; s++) {
		add_proc(s, PROC_READY, false);
		slots[s].served = true;
	}
	return 0;
}

/* A child that lives `uptime` ms and exits with `status`; returns the delay. */
static inline uint64_t
exit_after(struct slot_state *s, uint64_t uptime, int status)
{
	return decide_schedule_respawn(s, T0, status, T0 + uptime);
}

#endif
