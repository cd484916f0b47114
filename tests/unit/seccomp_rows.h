/*
 * seccomp_rows: the checks every seccomp policy's unit test runs on its
 * table, on both architectures mcpd ships for, whatever machine runs the
 * test.  Each role's test (tests/unit/<role>/seccomp_<role>_test.c) checks
 * its own policy; tests/unit/common/sandbox_test.c proves the checks
 * themselves and the sanitizer-build rows.
 *
 * qemu-user cannot load a seccomp filter, so an arm64 image cannot prove its
 * policy by running under emulation.  Instead every row's syscall name is
 * resolved with libseccomp's tables for x86_64 and aarch64: a row must exist
 * exactly on the architectures it is marked for (SANDBOX_ON_*), and every
 * x86_64-only row must have its aarch64 replacement in the same policy with
 * the same action, so that arm64 is not left with a narrower (killing) or
 * wider policy than x86_64.
 *
 * Include after <cmocka.h>.
 */
#ifndef MCPD_TESTS_UNIT_SECCOMP_ROWS_H
#define MCPD_TESTS_UNIT_SECCOMP_ROWS_H

#include <stdint.h>
#include <string.h>

#include <seccomp.h>

#include "common/sandbox.h"

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

/* Every check, on one policy. */
static void
check_policy(const struct sandbox_policy *p)
{
	assert_true(p->nrules > 0);
	assert_int_equal(misplaced_rows(p), 0);
	assert_int_equal(unreplaced_rows(p), 0);
}

#endif
