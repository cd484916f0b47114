/*
 * Unit tests for common/sandbox.h's rows and for the row checks every
 * policy's test runs (tests/unit/seccomp_rows.h): the resolver knows both
 * architectures' tables, the checks catch each kind of mistake, and the rows
 * sanitizer builds add to every policy pass them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <seccomp.h>

#include "common/sandbox.h"
#include "tests/unit/seccomp_rows.h"

/* The sanitizer rows are compiled into the policies only in sanitizer builds. */
static const struct sandbox_rule sanitizer_rows[] = {SANITIZER_RULES};
static const struct sandbox_policy sanitizer_policy = {
	.role = "sanitizer",
	.rules = sanitizer_rows,
	.nrules = sizeof(sanitizer_rows) / sizeof(sanitizer_rows[0]),
};

/* The resolver tells the two apart: the role tests cannot pass vacuously. */
static void
test_resolver_knows_both_tables(void **state)
{
	(void)state;
	assert_true(exists_on(SCMP_ARCH_X86_64, "open"));
	assert_false(exists_on(SCMP_ARCH_AARCH64, "open"));
	assert_true(exists_on(SCMP_ARCH_AARCH64, "openat"));
	assert_int_equal(seccomp_syscall_resolve_name_arch(SCMP_ARCH_AARCH64, "epoll_pwait"), 22);
	assert_int_equal(seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64, "epoll_pwait"), 281);
	assert_int_equal(seccomp_syscall_resolve_name_arch(SCMP_ARCH_AARCH64, "no_such_call"), __NR_SCMP_ERROR);
}

static void
test_sanitizer_rows(void **state)
{
	(void)state;
	check_policy(&sanitizer_policy);
}

/* The checks catch a wrong marking and a missing replacement. */
static void
test_checks_catch_mistakes(void **state)
{
	static const struct sandbox_rule unmarked[] = {SANDBOX_ALLOW(epoll_wait, "wrongly unmarked")};
	static const struct sandbox_rule unreplaced[] = {SANDBOX_ALLOW_X86_64(poll, "no ppoll row")};
	static const struct sandbox_rule other_action[] = {
		SANDBOX_DENY_X86_64(open, 13, "denied here"),
		SANDBOX_ALLOW(openat, "but allowed here"),
	};
	const struct sandbox_policy bad[] = {
		{.role = "unmarked", .rules = unmarked, .nrules = 1},
		{.role = "unreplaced", .rules = unreplaced, .nrules = 1},
		{.role = "other-action", .rules = other_action, .nrules = 2},
	};

	(void)state;
	assert_int_equal(misplaced_rows(&bad[0]), 1);
	assert_int_equal(misplaced_rows(&bad[1]), 0);
	assert_int_equal(unreplaced_rows(&bad[1]), 1);
	assert_int_equal(misplaced_rows(&bad[2]), 0);
	assert_int_equal(unreplaced_rows(&bad[2]), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_resolver_knows_both_tables),
		cmocka_unit_test(test_sanitizer_rows),
		cmocka_unit_test(test_checks_catch_mistakes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
