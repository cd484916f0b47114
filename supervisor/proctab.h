/*
 * proctab: the table of child processes, and the mechanics of starting one.
 *
 * What to do (when to start, restart or stop a child) is decided in decide.c,
 * and supervisor.c carries it out; this file only forks, records and looks up.
 */
#ifndef MCPD_SUPERVISOR_PROCTAB_H
#define MCPD_SUPERVISOR_PROCTAB_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/child.h"
#include "common/clock.h"
#include "common/config.h"

enum proc_state {
	PROC_STARTING,	/* forked, not yet serving */
	PROC_READY,	/* serving */
	PROC_RETIRING,	/* told to stop; its slot has a successor or none */
};

struct proc {
	const struct role *role;
	pid_t pid;
	int slot;
	int counters_block;	/* its block of the counters region */
	enum proc_state state;
	int ready_fd;		/* read end of the readiness pipe, -1 once read */
	/* The supervisor's end of the child's egress socket: a worker's link, the
	 * egress's control socket (supervisor/egress_links.h); -1 when none. */
	int egress_fd;
	bool egress_owed;	/* a worker whose connection waits for room on the egress's control socket */
	bool successor;		/* started by a reload to replace its slot's owner */
	uint64_t started_ms;	/* monotonic */
	uint64_t kill_at_ms;	/* retired by a reload: SIGKILL then if still here; 0: none */
};

/* Every worker and a reload successor, the fetcher, the metrics process and the egress. */
#define PROCTAB_MAX (2 * CONFIG_MAX_WORKERS + 4)

struct proctab {
	struct proc procs[PROCTAB_MAX];
	int nprocs;
};

/**
 * Forks a child of `role` for `slot`, handing it the fds in `args` (whose
 * slot, ready_fd and supervisor_pid are filled in here); the row's
 * egress_fd is -1 for the caller to set.  The child keeps only stdio and
 * those fds, unblocks signals and runs the role's entry; it never returns
 * here.  Returns the new row, or NULL (errno set).
 */
struct proc *proctab_spawn(struct proctab *pt, const struct role *role, int slot,
    const struct child_args *args);
/** Finds the row of a pid, or NULL. */
struct proc *proctab_find(struct proctab *pt, pid_t pid);
/** Forgets a row (after its process was reaped), closing its pipe and its egress socket. */
void proctab_remove(struct proctab *pt, struct proc *p);
/** The process serving (or starting to serve) a slot, not counting a
 *  reload's successor, or NULL. */
struct proc *proctab_slot_owner(struct proctab *pt, int slot);
/** Sends sig to every child. */
void proctab_signal_all(struct proctab *pt, int sig);

#endif
