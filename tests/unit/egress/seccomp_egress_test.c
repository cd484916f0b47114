/*
 * Unit tests for egress/seccomp_egress.c, the egress's policy:
 * every row exists exactly on the architectures it is marked for, and each
 * x86_64-only row has its aarch64 replacement (tests/unit/seccomp_rows.h
 * says why).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "egress/seccomp.h"
#include "tests/unit/seccomp_rows.h"

static void
test_egress_policy_rows(void **state)
{
	(void)state;
	check_policy(&egress_policy);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_egress_policy_rows),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
