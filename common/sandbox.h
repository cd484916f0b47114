/*
 * sandbox: how a child process narrows itself before it does its job.
 *
 * The steps, in order (STYLE.md 8, OpenSSH's child): resource limits, drop
 * to the unprivileged user when started as root, no_new_privs, then a
 * seccomp filter that kills the process on any system call its policy does
 * not list.  The policies themselves are tables beside the roles that use
 * them (worker/seccomp_worker.c, supervisor/seccomp_fetcher.c).
 */
#ifndef MCPD_COMMON_SANDBOX_H
#define MCPD_COMMON_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <seccomp.h>
#include <sys/mman.h>

#include "common/config.h"

/* One row of a policy: a syscall, what happens to it, and why it is there. */
struct sandbox_rule {
	int syscall;
	const char *name;
	uint32_t action;		/* SCMP_ACT_ALLOW or SCMP_ACT_ERRNO(e) */
	unsigned argc;			/* 0 or 1 argument comparison */
	struct scmp_arg_cmp arg;
	const char *reason;		/* the group's one-line reason */
};

#define SANDBOX_ALLOW(sys, why) {SCMP_SYS(sys), #sys, SCMP_ACT_ALLOW, 0, {0}, why}
#define SANDBOX_ALLOW_IF(sys, cmp, why) {SCMP_SYS(sys), #sys, SCMP_ACT_ALLOW, 1, cmp, why}
/* mmap/mprotect argument rule: never executable memory. */
#define SANDBOX_NO_EXEC SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0)
#define SANDBOX_DENY(sys, err, why) {SCMP_SYS(sys), #sys, SCMP_ACT_ERRNO(err), 0, {0}, why}

struct sandbox_policy {
	const char *role;
	const struct sandbox_rule *rules;
	size_t nrules;
	uint64_t max_files;	/* RLIMIT_NOFILE */
	bool no_threads;	/* RLIMIT_NPROC 0: the process may not even start threads */
};

/**
 * Applies every step.  Returns 0 when the process is sandboxed, or when a
 * step failed and --sandbox best-effort allows going on (logged); -1 when a
 * step failed and the default strict mode refuses to serve unsandboxed.
 */
int sandbox_enter(const struct sandbox_policy *policy, const struct config *cfg);

/** Number of distinct allowed syscalls of a policy (for logs and docs). */
size_t sandbox_allowed_count(const struct sandbox_policy *policy);

#endif
