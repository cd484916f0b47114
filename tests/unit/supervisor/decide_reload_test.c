/*
 * Unit tests for supervisor/decide.c, the reload (SIGHUP): how it hands
 * every worker slot over to a successor exactly once, what a successor's
 * death or readiness does, and which counters block each process writes.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "tests/unit/supervisor/decide_fixture.h"

/*
 * A successor that dies before it serves aborts the reload, whatever its
 * status (a sandbox failure included: the old worker still serves), and the
 * old worker keeps its slot, its counters block and its backoff.
 */
static void
a_successor_that_dies_before_ready_aborts_the_reload(void **state)
{
	static const int statuses[] = {KILLED_BY(SIGSEGV), EXITED(0), EXITED(1), EXITED(CHILD_EXIT_CONFIG)};
	struct proc *old = &pt.procs[2];
	pid_t old_pid = old->pid;

	(void)state;
	reload_slot = 2;
	for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
		struct proc *successor = add_proc(2, PROC_STARTING, true);

		assert_int_equal(decide_reload_step(&pt, WORKERS, &reload_slot), RELOAD_WAIT);
		assert_int_equal(decide_on_reap(successor, &slots[2], statuses[i], false), REAP_ABORT_RELOAD);
		assert_int_equal(decide_on_reap(successor, &slots[2], statuses[i], true), REAP_ABORT_RELOAD);
		proctab_remove(&pt, successor);
	}
	assert_int_equal(proctab_slot_owner(&pt, 2)->pid, old_pid);
	assert_int_equal(proctab_slot_owner(&pt, 2)->state, PROC_READY);
	assert_int_equal(slots[2].counters_copy, 0);
	assert_int_equal(slots[2].quick_exits, 0);
	assert_false(slots[2].respawn_pending);
}

/* A SIGHUP before the first worker served: its successor's sandbox failure does not stop mcpd. */
static void
a_successor_sandbox_failure_before_the_slot_served_aborts_the_reload(void **state)
{
	struct proc *successor;

	(void)state;
	pt.procs[0].state = PROC_STARTING;
	slots[0].served = false;
	reload_slot = 0;
	assert_int_equal(decide_reload_step(&pt, WORKERS, &reload_slot), RELOAD_START);
	successor = add_proc(0, PROC_STARTING, true);
	assert_int_equal(decide_on_reap(successor, &slots[0], EXITED(CHILD_EXIT_CONFIG), false),
	    REAP_ABORT_RELOAD);
}

static void
a_reload_begins_once_and_not_while_stopping(void **state)
{
	(void)state;
	assert_int_equal(decide_begin_reload(&reload_slot, true), RELOAD_IGNORED);
	assert_int_equal(reload_slot, -1);
	assert_int_equal(decide_begin_reload(&reload_slot, false), RELOAD_BEGUN);
	assert_int_equal(reload_slot, 0);
	reload_slot = 3;
	assert_int_equal(decide_begin_reload(&reload_slot, false), RELOAD_BUSY);
	assert_int_equal(reload_slot, 3);
}

static struct proc *
find_successor(void)
{
	for (int i = 0; i < pt.nprocs; i++)
		if (pt.procs[i].successor)
			return &pt.procs[i];
	return NULL;
}

/*
 * Runs a reload to its end as the supervisor would: start a successor when
 * told to, let it serve, count which slots were started and retired.  The
 * retired children stay in the table until the end (draining) unless
 * `reap_retired`.  A SIGHUP arrives in the middle.
 */
static void
run_reload(int started[NSLOTS], int retired[NSLOTS], pid_t owner_before[NSLOTS], bool reap_retired)
{
	enum reload_move move;
	int steps = 0;

	for (int s = 0; s < NSLOTS; s++)
		owner_before[s] = proctab_slot_owner(&pt, s) != NULL ? proctab_slot_owner(&pt, s)->pid : -1;
	assert_int_equal(decide_begin_reload(&reload_slot, false), RELOAD_BEGUN);
	while ((move = decide_reload_step(&pt, WORKERS, &reload_slot)) != RELOAD_DONE) {
		struct proc *successor, *old;

		assert_int_equal(move, RELOAD_START);
		assert_true(++steps <= NSLOTS);
		successor = add_proc(reload_slot, PROC_STARTING, true);
		started[successor->slot]++;
		/* One at a time: nothing more starts until this one serves. */
		assert_int_equal(decide_reload_step(&pt, WORKERS, &reload_slot), RELOAD_WAIT);
		if (steps == 2)
			assert_int_equal(decide_begin_reload(&reload_slot, false), RELOAD_BUSY);
		old = decide_on_ready(&pt, successor, &slots[successor->slot], &reload_slot, false);
		assert_non_null(old);
		assert_int_equal(old->pid, owner_before[successor->slot]);
		assert_int_equal(old->state, PROC_RETIRING);
		retired[old->slot]++;
		assert_int_equal(proctab_slot_owner(&pt, successor->slot), successor);
		if (reap_retired) {
			assert_int_equal(decide_on_reap(old, &slots[old->slot], EXITED(0), false), REAP_FORGET);
			proctab_remove(&pt, old);
		}
	}
	assert_int_equal(reload_slot, -1);
}

static void
a_reload_hands_every_worker_slot_over_exactly_once(void **state)
{
	int started[NSLOTS] = {0}, retired[NSLOTS] = {0};
	pid_t owner_before[NSLOTS];

	(void)state;
	run_reload(started, retired, owner_before, false);
	for (int s = 0; s < WORKERS; s++) {
		struct proc *owner = proctab_slot_owner(&pt, s);

		assert_int_equal(started[s], 1);
		assert_int_equal(retired[s], 1);
		assert_non_null(owner);
		assert_int_not_equal(owner->pid, owner_before[s]);
		assert_false(owner->successor);
		assert_int_equal(owner->state, PROC_READY);
		assert_int_equal(slots[s].counters_copy, 1);
	}
	/* The fetcher and the metrics process are not workers: a reload leaves them. */
	for (int s = WORKERS; s < NSLOTS; s++) {
		assert_int_equal(started[s], 0);
		assert_int_equal(retired[s], 0);
		assert_int_equal(proctab_slot_owner(&pt, s)->pid, owner_before[s]);
		assert_int_equal(slots[s].counters_copy, 0);
	}
	assert_null(find_successor());
	assert_int_equal(pt.nprocs, NSLOTS + WORKERS);	/* the retired ones still drain */
}

/* Reaping retired children moves rows around the table; the hand-over does not notice. */
static void
a_reload_survives_retired_children_being_reaped(void **state)
{
	int started[NSLOTS] = {0}, retired[NSLOTS] = {0};
	pid_t owner_before[NSLOTS];

	(void)state;
	run_reload(started, retired, owner_before, true);
	for (int s = 0; s < WORKERS; s++) {
		assert_int_equal(started[s], 1);
		assert_int_equal(retired[s], 1);
	}
	assert_int_equal(pt.nprocs, NSLOTS);
	/* A second reload hands every slot over once more, back to the first counters copy. */
	memset(started, 0, sizeof(started));
	memset(retired, 0, sizeof(retired));
	run_reload(started, retired, owner_before, true);
	for (int s = 0; s < WORKERS; s++) {
		assert_int_equal(started[s], 1);
		assert_int_equal(slots[s].counters_copy, 0);
	}
}

/* A slot whose worker died waits for its respawn, which runs the new code anyway. */
static void
a_reload_skips_a_slot_without_an_owner(void **state)
{
	enum reload_move move;

	(void)state;
	proctab_remove(&pt, proctab_slot_owner(&pt, 0));
	proctab_remove(&pt, proctab_slot_owner(&pt, 2));
	assert_int_equal(decide_begin_reload(&reload_slot, false), RELOAD_BEGUN);
	assert_int_equal(decide_reload_step(&pt, WORKERS, &reload_slot), RELOAD_START);
	assert_int_equal(reload_slot, 1);
	decide_on_ready(&pt, add_proc(1, PROC_STARTING, true), &slots[1], &reload_slot, false);
	assert_int_equal(reload_slot, 2);
	move = decide_reload_step(&pt, WORKERS, &reload_slot);
	assert_int_equal(move, RELOAD_START);
	assert_int_equal(reload_slot, 3);
	decide_on_ready(&pt, add_proc(3, PROC_STARTING, true), &slots[3], &reload_slot, false);
	assert_int_equal(decide_reload_step(&pt, WORKERS, &reload_slot), RELOAD_DONE);
	assert_int_equal(reload_slot, -1);
}

/* Reaping another slot's child moves the successor to a row before its old worker's. */
static void
a_successor_moved_ahead_of_its_old_worker_still_retires_it(void **state)
{
	struct proc *successor, *old;
	pid_t old_pid = pt.procs[2].pid, successor_pid;

	(void)state;
	reload_slot = 2;
	successor_pid = add_proc(2, PROC_STARTING, true)->pid;
	proctab_remove(&pt, &pt.procs[0]);	/* slot 0's worker died */
	successor = proctab_find(&pt, successor_pid);
	assert_ptr_equal(successor, &pt.procs[0]);
	assert_int_equal(proctab_slot_owner(&pt, 2)->pid, old_pid);
	old = decide_on_ready(&pt, successor, &slots[2], &reload_slot, false);
	assert_non_null(old);
	assert_int_equal(old->pid, old_pid);
	assert_int_equal(old->state, PROC_RETIRING);
	assert_ptr_equal(proctab_slot_owner(&pt, 2), successor);
}

static void
a_first_ready_only_marks_the_slot_served(void **state)
{
	struct proc *p = add_proc(1, PROC_STARTING, false);

	(void)state;
	slots[1].served = false;
	assert_null(decide_on_ready(&pt, p, &slots[1], &reload_slot, false));
	assert_int_equal(p->state, PROC_READY);
	assert_true(slots[1].served);
	assert_int_equal(slots[1].counters_copy, 0);
	assert_int_equal(reload_slot, -1);
}

/* The old worker died while its successor started: there is nothing to retire. */
static void
a_successor_whose_old_worker_died_just_takes_over(void **state)
{
	struct proc *successor;
	pid_t pid;

	(void)state;
	reload_slot = 1;
	proctab_remove(&pt, proctab_slot_owner(&pt, 1));
	successor = add_proc(1, PROC_STARTING, true);
	pid = successor->pid;
	assert_null(decide_on_ready(&pt, successor, &slots[1], &reload_slot, false));
	assert_int_equal(proctab_slot_owner(&pt, 1)->pid, pid);
	assert_int_equal(slots[1].counters_copy, 1);
	assert_int_equal(reload_slot, 2);
}

/*
 * Slot reuse: a worker that replaces a dead one continues the slot's
 * counters block; a successor writes the other block, which its slot keeps
 * once it took over, so the next replacement continues that one.
 */
static void
counters_blocks_across_respawns_and_reloads(void **state)
{
	struct proc *successor;

	(void)state;
	assert_int_equal(decide_worker_counters_block(&slots[3], 3, false), COUNTERS_WORKER_BLOCK(3, 0));
	assert_int_equal(decide_worker_counters_block(&slots[3], 3, true), COUNTERS_WORKER_BLOCK(3, 1));
	exit_after(&slots[3], 60000, KILLED_BY(SIGSEGV));
	assert_int_equal(decide_worker_counters_block(&slots[3], 3, false), COUNTERS_WORKER_BLOCK(3, 0));
	reload_slot = 3;
	successor = add_proc(3, PROC_STARTING, true);
	assert_non_null(decide_on_ready(&pt, successor, &slots[3], &reload_slot, false));
	assert_int_equal(decide_worker_counters_block(&slots[3], 3, false), COUNTERS_WORKER_BLOCK(3, 1));
	assert_int_equal(decide_worker_counters_block(&slots[3], 3, true), COUNTERS_WORKER_BLOCK(3, 0));
	/* Another slot's blocks are its own. */
	assert_int_equal(decide_worker_counters_block(&slots[0], 0, false), COUNTERS_WORKER_BLOCK(0, 0));
}

/*
 * SIGTERM came while a successor started (stopping clears the reload); its
 * ready byte is read afterwards.  It takes nothing over, the reload does not
 * come back to life (which would start another successor while stopping),
 * and it is returned to be stopped like every other child.
 */
static void
a_successor_ready_during_shutdown_is_stopped_and_nothing_moves_on(void **state)
{
	struct proc *successor;
	pid_t owner_pid = pt.procs[2].pid;

	(void)state;
	reload_slot = 2;
	successor = add_proc(2, PROC_STARTING, true);
	reload_slot = -1;	/* what stop_children does */
	assert_ptr_equal(decide_on_ready(&pt, successor, &slots[2], &reload_slot, true), successor);
	assert_int_equal(reload_slot, -1);
	assert_int_equal(successor->state, PROC_RETIRING);
	assert_false(successor->successor);
	assert_int_equal(proctab_slot_owner(&pt, 2)->pid, owner_pid);
	assert_int_equal(slots[2].counters_copy, 0);
	/* Reaped while stopping, it is only forgotten: no respawn, no reload_aborted. */
	assert_int_equal(decide_on_reap(successor, &slots[2], EXITED(0), true), REAP_FORGET);
}

/*
 * The old worker dies (a quick exit: a backoff respawn is pending) while its
 * successor starts, and the successor serves within that delay: it owns the
 * slot, so the respawn must not start a second owner writing its block.
 */
static void
a_successor_taking_over_cancels_the_pending_respawn(void **state)
{
	struct proc *old = &pt.procs[1], *successor;
	uint64_t died = T0 + 10, next = UINT64_MAX;
	pid_t successor_pid;

	(void)state;
	reload_slot = 1;
	successor_pid = add_proc(1, PROC_STARTING, true)->pid;
	assert_int_equal(decide_on_reap(old, &slots[1], KILLED_BY(SIGSEGV), false), REAP_RESPAWN);
	assert_int_equal(decide_schedule_respawn(&slots[1], old->started_ms, KILLED_BY(SIGSEGV), died),
	    BACKOFF_FIRST_MS);
	proctab_remove(&pt, old);
	successor = proctab_find(&pt, successor_pid);
	assert_null(decide_on_ready(&pt, successor, &slots[1], &reload_slot, false));
	assert_ptr_equal(proctab_slot_owner(&pt, 1), successor);
	assert_false(slots[1].respawn_pending);
	assert_false(decide_respawn_due(&slots[1], died + BACKOFF_FIRST_MS, &next));
	assert_int_equal(next, UINT64_MAX);
}

/*
 * A second reload reaches slot 0 while the worker the first one retired
 * there still drains.  The successor would get that worker's counters block
 * (a slot has two), so slot 0 waits until the drained worker was reaped; no
 * successor ever gets a block a living process writes.
 */
static void
a_second_reload_waits_for_the_slot_s_retired_worker(void **state)
{
	int started[NSLOTS] = {0}, retired[NSLOTS] = {0};
	pid_t owner_before[NSLOTS];
	struct proc *draining, *successor;

	(void)state;
	run_reload(started, retired, owner_before, false);
	assert_int_equal(decide_begin_reload(&reload_slot, false), RELOAD_BEGUN);
	assert_int_equal(decide_reload_step(&pt, WORKERS, &reload_slot), RELOAD_WAIT);
	assert_int_equal(reload_slot, 0);
	draining = proctab_find(&pt, owner_before[0]);
	assert_non_null(draining);
	assert_int_equal(draining->state, PROC_RETIRING);
	assert_int_equal(draining->counters_block, decide_worker_counters_block(&slots[0], 0, true));
	assert_int_equal(decide_on_reap(draining, &slots[0], EXITED(0), false), REAP_FORGET);
	proctab_remove(&pt, draining);
	assert_int_equal(decide_reload_step(&pt, WORKERS, &reload_slot), RELOAD_START);
	assert_int_equal(reload_slot, 0);
	successor = add_proc(0, PROC_STARTING, true);
	assert_false(block_held_by_another(successor, successor->counters_block));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(a_successor_that_dies_before_ready_aborts_the_reload, setup),
		cmocka_unit_test_setup(a_successor_sandbox_failure_before_the_slot_served_aborts_the_reload, setup),
		cmocka_unit_test_setup(a_reload_begins_once_and_not_while_stopping, setup),
		cmocka_unit_test_setup(a_reload_hands_every_worker_slot_over_exactly_once, setup),
		cmocka_unit_test_setup(a_reload_survives_retired_children_being_reaped, setup),
		cmocka_unit_test_setup(a_reload_skips_a_slot_without_an_owner, setup),
		cmocka_unit_test_setup(a_successor_moved_ahead_of_its_old_worker_still_retires_it, setup),
		cmocka_unit_test_setup(a_first_ready_only_marks_the_slot_served, setup),
		cmocka_unit_test_setup(a_successor_whose_old_worker_died_just_takes_over, setup),
		cmocka_unit_test_setup(counters_blocks_across_respawns_and_reloads, setup),
		cmocka_unit_test_setup(a_successor_ready_during_shutdown_is_stopped_and_nothing_moves_on, setup),
		cmocka_unit_test_setup(a_successor_taking_over_cancels_the_pending_respawn, setup),
		cmocka_unit_test_setup(a_second_reload_waits_for_the_slot_s_retired_worker, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
