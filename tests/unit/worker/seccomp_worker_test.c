/*
 * Unit tests for worker/seccomp_worker.c, the workers' policy:
 * every row exists exactly on the architectures it is marked for, each
 * x86_64-only row has its aarch64 replacement (tests/unit/seccomp_rows.h
 * says why), and sockets only arrive, never are made.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "worker/seccomp.h"
#include "tests/unit/seccomp_rows.h"

static void
test_worker_policy_rows(void **state)
{
	(void)state;
	check_policy(&worker_policy);
}

/*
 * A worker reaches the egress only over a connection the supervisor hands
 * it (SCM_RIGHTS): it may receive one, and never make a socket of its own.
 */
static void
test_worker_receives_but_never_makes_sockets(void **state)
{
	static const char *const never[] = {"socket", "socketpair", "connect", "bind", "listen"};
	const struct sandbox_rule *recv = find_row(&worker_policy, "recvmsg");

	(void)state;
	assert_non_null(recv);
	assert_int_equal(recv->action, SCMP_ACT_ALLOW);
	assert_int_equal(recv->argc, 0);
	for (size_t i = 0; i < sizeof(never) / sizeof(never[0]); i++)
		if (find_row(&worker_policy, never[i]) != NULL)
			fail_msg("the worker's policy lists %s", never[i]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_worker_policy_rows),
		cmocka_unit_test(test_worker_receives_but_never_makes_sockets),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
