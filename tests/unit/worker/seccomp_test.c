/*
 * Unit tests for every seccomp policy (worker/seccomp.h: the worker's and the
 * metrics process's; fetcher/seccomp.h: the fetcher's; common/sandbox.h:
 * the sanitizer-build additions), on both
 * architectures mcpd ships for, whatever machine runs the test.
 *
 * qemu-user cannot load a seccomp filter, so an arm64 image cannot prove its
 * policy by running under emulation.  Instead every row's syscall name is
 * resolved with libseccomp's tables for x86_64 and aarch64: a row must exist
 * exactly on the architectures it is marked for (SANDBOX_ON_*), and every
 * x86_64-only row must have its aarch64 replacement in the same policy with
 * the same action, so that arm64 is not left with a narrower (killing) or
 * wider policy than x86_64.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <seccomp.h>

#include "fetcher/seccomp.h"
#include "worker/seccomp.h"

/* The sanitizer rows are compiled into the policies only in sanitizer builds. */
static const struct sandbox_rule sanitizer_rows[] = {SANITIZER_RULES};
static const struct sandbox_policy sanitizer_policy = {
	.role = "sanitizer",
	.rules = sanitizer_rows,
	.nrules = sizeof(sanitizer_rows) / sizeof(sanitizer_rows[0]),
};

static const struct {
	unsigned mark;
	uint32_t arch;
	const char *name;
} arches[] = {
	{SANDBOX_ON_X86_64, SCMP_ARCH_X86_64, "x86_64"},
	{SANDBOX_ON_AARCH64, SCMP_ARCH_AARCH64, "aarch64"},
};
#define N_ARCHES (sizeof(arches) / sizeof(arches[0]))

/* The call an aarch64 libc makes instead of each legacy x86_64 call. */
static const struct {
	const char *legacy, *generic;
} replacements[] = {
	{"open", "openat"},
	{"stat", "newfstatat"},
	{"access", "faccessat"},
	{"poll", "ppoll"},
	{"epoll_wait", "epoll_pwait"},
	{"getdents", "getdents64"},
	{"readlink", "readlinkat"},
	{"dup2", "dup3"},
};
#define N_REPLACEMENTS (sizeof(replacements) / sizeof(replacements[0]))

/* libseccomp gives a negative (pseudo) number for a name an arch lacks. */
static int
exists_on(uint32_t arch, const char *name)
{
	return seccomp_syscall_resolve_name_arch(arch, name) >= 0;
}

/* The resolver tells the two apart: the test below cannot pass vacuously. */
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

/*
 * Rows that do not exist exactly on the architectures they are marked for
 * (each one printed), or whose number is not this build's for their name.
 */
static int
misplaced_rows(const struct sandbox_policy *p)
{
	int wrong = 0;

	for (size_t i = 0; i < p->nrules; i++) {
		const struct sandbox_rule *r = &p->rules[i];

		if (r->arches == 0 || (r->arches & ~SANDBOX_ON_ALL) != 0 ||
		    r->syscall != seccomp_syscall_resolve_name(r->name)) {
			print_error("%s: row %s: bad marking or number\n", p->role, r->name);
			wrong++;
			continue;
		}
		for (size_t a = 0; a < N_ARCHES; a++) {
			int marked = (r->arches & arches[a].mark) != 0;

			if (marked == exists_on(arches[a].arch, r->name))
				continue;
			print_error("%s: row %s is %s %s, but the syscall %s there\n", p->role, r->name,
			    marked ? "marked for" : "not marked for", arches[a].name,
			    marked ? "does not exist" : "exists");
			wrong++;
		}
	}
	return wrong;
}

static const struct sandbox_rule *
find_row(const struct sandbox_policy *p, const char *name)
{
	for (size_t i = 0; i < p->nrules; i++)
		if (strcmp(p->rules[i].name, name) == 0)
			return &p->rules[i];
	return NULL;
}

/* x86_64-only rows without their aarch64 replacement of the same action. */
static int
unreplaced_rows(const struct sandbox_policy *p)
{
	int wrong = 0;

	for (size_t i = 0; i < p->nrules; i++) {
		const struct sandbox_rule *r = &p->rules[i], *g = NULL;
		const char *generic = NULL;

		if (r->arches == SANDBOX_ON_ALL)
			continue;
		for (size_t k = 0; k < N_REPLACEMENTS && generic == NULL; k++)
			if (strcmp(replacements[k].legacy, r->name) == 0)
				generic = replacements[k].generic;
		if (generic != NULL)
			g = find_row(p, generic);
		if (g == NULL || g->action != r->action || g->arches != SANDBOX_ON_ALL) {
			print_error("%s: x86_64-only row %s has no aarch64 replacement (%s) with the same "
			    "action\n", p->role, r->name, generic != NULL ? generic : "none known");
			wrong++;
		}
	}
	return wrong;
}

static void
check_policy(const struct sandbox_policy *p)
{
	assert_true(p->nrules > 0);
	assert_int_equal(misplaced_rows(p), 0);
	assert_int_equal(unreplaced_rows(p), 0);
}

static void
test_worker_rows(void **state)
{
	(void)state;
	check_policy(&worker_policy);
}

static void
test_fetcher_rows(void **state)
{
	(void)state;
	check_policy(&fetcher_policy);
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
		cmocka_unit_test(test_worker_rows),
		cmocka_unit_test(test_fetcher_rows),
		cmocka_unit_test(test_sanitizer_rows),
		cmocka_unit_test(test_checks_catch_mistakes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
