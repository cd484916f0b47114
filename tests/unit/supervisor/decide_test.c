/*
 * Unit tests for supervisor/decide.c, exits and respawns: what a wait
 * status counts as, the respawn backoff, and what an exit means for its
 * slot (respawn, stop mcpd, or nothing).  The reload hand-over:
 * decide_reload_test.c.
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

static void
wait_statuses_are_what_waitpid_reports(void **state)
{
	(void)state;
	assert_true(WIFEXITED(EXITED(CHILD_EXIT_CONFIG)));
	assert_int_equal(WEXITSTATUS(EXITED(CHILD_EXIT_CONFIG)), CHILD_EXIT_CONFIG);
	assert_true(WIFSIGNALED(KILLED_BY(SIGSEGV)));
	assert_int_equal(WTERMSIG(KILLED_BY(SIGSEGV)), SIGSEGV);
}

static void
exit_causes(void **state)
{
	(void)state;
	assert_int_equal(decide_exit_cause(EXITED(0)), EXIT_CLEAN);
	assert_int_equal(decide_exit_cause(EXITED(1)), EXIT_ERROR);
	assert_int_equal(decide_exit_cause(EXITED(3)), EXIT_ERROR);
	assert_int_equal(decide_exit_cause(EXITED(CHILD_EXIT_CONFIG)), EXIT_CONFIG);
	assert_int_equal(decide_exit_cause(KILLED_BY(SIGSEGV)), EXIT_CRASH);
	assert_int_equal(decide_exit_cause(KILLED_BY(SIGSYS)), EXIT_CRASH);	/* seccomp's kill */
	assert_int_equal(decide_exit_cause(KILLED_BY(SIGKILL)), EXIT_CRASH);
	/* A signal that happens to be number 2 is still a crash, not a config exit. */
	assert_int_equal(decide_exit_cause(KILLED_BY(CHILD_EXIT_CONFIG)), EXIT_CRASH);
}

static void
backoff_doubles_with_each_quick_exit_and_is_capped(void **state)
{
	static const uint64_t expected[] = {100, 200, 400, 800, 1600, 3200, 6400, 12800, 25600,
	    BACKOFF_MAX_MS, BACKOFF_MAX_MS};
	struct slot_state *s = &slots[0];

	(void)state;
	for (size_t i = 0; i < sizeof(expected) / sizeof(expected[0]); i++) {
		assert_int_equal(exit_after(s, 10, KILLED_BY(SIGSEGV)), expected[i]);
		assert_int_equal(s->quick_exits, i + 1);
		assert_true(s->respawn_pending);
		assert_int_equal(s->respawn_at, T0 + 10 + expected[i]);
	}
	/* However long the crash loop, the shift never overflows the cap. */
	for (int i = 0; i < 100; i++)
		assert_int_equal(exit_after(s, 10, KILLED_BY(SIGSEGV)), BACKOFF_MAX_MS);
}

static void
a_healthy_run_resets_the_backoff(void **state)
{
	struct slot_state *s = &slots[0];

	(void)state;
	for (int i = 0; i < 5; i++)
		exit_after(s, 10, KILLED_BY(SIGSEGV));
	assert_int_equal(s->quick_exits, 5);
	assert_int_equal(exit_after(s, QUICK_EXIT_MS, KILLED_BY(SIGSEGV)), 0);
	assert_int_equal(s->quick_exits, 0);
	assert_true(s->respawn_pending);
	assert_int_equal(s->respawn_at, T0 + QUICK_EXIT_MS);
	/* The next crash loop starts over at the first step. */
	assert_int_equal(exit_after(s, 10, KILLED_BY(SIGSEGV)), BACKOFF_FIRST_MS);
}

static void
quick_means_less_than_quick_exit_ms(void **state)
{
	(void)state;
	assert_int_equal(exit_after(&slots[0], QUICK_EXIT_MS - 1, EXITED(0)), BACKOFF_FIRST_MS);
	assert_int_equal(exit_after(&slots[1], QUICK_EXIT_MS, EXITED(0)), 0);
}

/* After a healthy run, a crash, a clean exit or an error is refilled at once; a sandbox failure is not. */
static void
exit_statuses_after_a_healthy_run(void **state)
{
	(void)state;
	assert_int_equal(exit_after(&slots[0], 60000, KILLED_BY(SIGSEGV)), 0);
	assert_int_equal(exit_after(&slots[1], 60000, EXITED(0)), 0);
	assert_int_equal(exit_after(&slots[2], 60000, EXITED(1)), 0);
	assert_int_equal(exit_after(&slots[3], 60000, EXITED(CHILD_EXIT_CONFIG)), BACKOFF_FIRST_MS);
	assert_int_equal(slots[3].quick_exits, 1);
	assert_int_equal(exit_after(&slots[3], 60000, EXITED(CHILD_EXIT_CONFIG)), 2 * BACKOFF_FIRST_MS);
}

static void
a_failed_fork_retries_after_a_second(void **state)
{
	(void)state;
	decide_spawn_failed(&slots[2], T0);
	assert_true(slots[2].respawn_pending);
	assert_int_equal(slots[2].respawn_at, T0 + SPAWN_RETRY_MS);
	assert_int_equal(slots[2].quick_exits, 0);
}

static void
a_respawn_is_due_at_its_time_and_only_once(void **state)
{
	struct slot_state *s = &slots[0];
	uint64_t next = UINT64_MAX;

	(void)state;
	assert_false(decide_respawn_due(s, T0, &next));	/* nothing pending */
	assert_int_equal(next, UINT64_MAX);
	decide_spawn_failed(s, T0);
	assert_false(decide_respawn_due(s, T0 + SPAWN_RETRY_MS - 1, &next));
	assert_int_equal(next, T0 + SPAWN_RETRY_MS);
	assert_true(s->respawn_pending);
	next = T0 + 5;	/* an earlier deadline elsewhere stays */
	assert_false(decide_respawn_due(s, T0, &next));
	assert_int_equal(next, T0 + 5);
	assert_true(decide_respawn_due(s, T0 + SPAWN_RETRY_MS, &next));
	assert_false(s->respawn_pending);
	assert_false(decide_respawn_due(s, T0 + SPAWN_RETRY_MS + 1, &next));
}

/* A child that never served exits with the config status: mcpd stops instead of looping. */
static void
a_sandbox_failure_before_the_slot_served_stops_mcpd(void **state)
{
	struct proc *p = add_proc(0, PROC_STARTING, false);

	(void)state;
	slots[0].served = false;
	assert_int_equal(decide_on_reap(p, &slots[0], EXITED(CHILD_EXIT_CONFIG), false), REAP_FAIL_FAST);
	/* Any other status from the same child is worth a restart. */
	assert_int_equal(decide_on_reap(p, &slots[0], KILLED_BY(SIGSYS), false), REAP_RESPAWN);
	assert_int_equal(decide_on_reap(p, &slots[0], EXITED(1), false), REAP_RESPAWN);
	assert_int_equal(decide_on_reap(p, &slots[0], EXITED(0), false), REAP_RESPAWN);
	/* While mcpd stops anyway, nothing more is done. */
	assert_int_equal(decide_on_reap(p, &slots[0], EXITED(CHILD_EXIT_CONFIG), true), REAP_FORGET);
}

static void
a_sandbox_failure_after_the_slot_served_is_retried(void **state)
{
	struct proc *p = add_proc(0, PROC_STARTING, false);

	(void)state;
	assert_true(slots[0].served);
	assert_int_equal(decide_on_reap(p, &slots[0], EXITED(CHILD_EXIT_CONFIG), false), REAP_RESPAWN);
	/* A child that served itself and then exits so is retried too. */
	slots[0].served = false;
	p->state = PROC_READY;
	assert_int_equal(decide_on_reap(p, &slots[0], EXITED(CHILD_EXIT_CONFIG), false), REAP_RESPAWN);
}

static void
crashes_and_clean_exits_of_an_owner_respawn(void **state)
{
	struct proc *p = &pt.procs[1];

	(void)state;
	assert_int_equal(decide_on_reap(p, &slots[1], KILLED_BY(SIGSEGV), false), REAP_RESPAWN);
	assert_int_equal(decide_on_reap(p, &slots[1], EXITED(0), false), REAP_RESPAWN);
	assert_int_equal(decide_on_reap(p, &slots[1], EXITED(1), false), REAP_RESPAWN);
}

static void
a_retiring_child_or_a_stop_is_not_respawned(void **state)
{
	struct proc *p = &pt.procs[1];

	(void)state;
	assert_int_equal(decide_on_reap(p, &slots[1], KILLED_BY(SIGSEGV), true), REAP_FORGET);
	assert_int_equal(decide_on_reap(p, &slots[1], EXITED(0), true), REAP_FORGET);
	p->state = PROC_RETIRING;
	assert_int_equal(decide_on_reap(p, &slots[1], EXITED(0), false), REAP_FORGET);
	assert_int_equal(decide_on_reap(p, &slots[1], KILLED_BY(SIGKILL), false), REAP_FORGET);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(wait_statuses_are_what_waitpid_reports, setup),
		cmocka_unit_test_setup(exit_causes, setup),
		cmocka_unit_test_setup(backoff_doubles_with_each_quick_exit_and_is_capped, setup),
		cmocka_unit_test_setup(a_healthy_run_resets_the_backoff, setup),
		cmocka_unit_test_setup(quick_means_less_than_quick_exit_ms, setup),
		cmocka_unit_test_setup(exit_statuses_after_a_healthy_run, setup),
		cmocka_unit_test_setup(a_failed_fork_retries_after_a_second, setup),
		cmocka_unit_test_setup(a_respawn_is_due_at_its_time_and_only_once, setup),
		cmocka_unit_test_setup(a_sandbox_failure_before_the_slot_served_stops_mcpd, setup),
		cmocka_unit_test_setup(a_sandbox_failure_after_the_slot_served_is_retried, setup),
		cmocka_unit_test_setup(crashes_and_clean_exits_of_an_owner_respawn, setup),
		cmocka_unit_test_setup(a_retiring_child_or_a_stop_is_not_respawned, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
