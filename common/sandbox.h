/*
 * sandbox: how a child process narrows itself before it does its job.
 *
 * The steps, in order (STYLE.md 8, OpenSSH's child): resource limits, drop
 * to the unprivileged user when started as root, SIGTERM on the
 * supervisor's death, no_new_privs, then a seccomp filter that kills the
 * process on any system call its policy does not list.  The policies
 * themselves are tables beside the roles that use them
 * (worker/seccomp_worker.c, fetcher/seccomp_fetcher.c,
 * metrics/seccomp_metrics.c).
 */
#ifndef MCPD_COMMON_SANDBOX_H
#define MCPD_COMMON_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <seccomp.h>
#include <sys/mman.h>
#include <sys/types.h>

#include "common/config.h"

/*
 * Architectures a row's syscall exists on.  mcpd ships for x86_64 and
 * aarch64 (AgentCore).  aarch64 uses the generic syscall table, which lacks
 * the legacy x86_64 calls (open, stat, poll, epoll_wait, access, ...): its
 * libc makes the *at and p* forms instead, and the tables list those too.
 * Each policy's unit test (tests/unit/<role>/seccomp_<role>_test.c, with
 * tests/unit/seccomp_rows.h) resolves every row on both architectures and
 * holds each marking to the truth.
 */
#define SANDBOX_ON_X86_64 (1u << 0)
#define SANDBOX_ON_AARCH64 (1u << 1)
#define SANDBOX_ON_ALL (SANDBOX_ON_X86_64 | SANDBOX_ON_AARCH64)

/* One row of a policy: a syscall, what happens to it, and why it is there. */
struct sandbox_rule {
	int syscall;			/* negative (libseccomp's pseudo number) where it does not exist */
	const char *name;
	uint32_t action;		/* SCMP_ACT_ALLOW or SCMP_ACT_ERRNO(e) */
	unsigned argc;			/* 0 or 1 argument comparison */
	struct scmp_arg_cmp arg;
	const char *reason;		/* the group's one-line reason */
	unsigned arches;		/* SANDBOX_ON_*: where the syscall exists */
};

#define SANDBOX_ROW(arches, sys, action, argc, cmp, why) \
	{SCMP_SYS(sys), #sys, action, argc, cmp, why, arches}
#define SANDBOX_ALLOW(sys, why) SANDBOX_ROW(SANDBOX_ON_ALL, sys, SCMP_ACT_ALLOW, 0, {0}, why)
#define SANDBOX_ALLOW_IF(sys, cmp, why) SANDBOX_ROW(SANDBOX_ON_ALL, sys, SCMP_ACT_ALLOW, 1, cmp, why)
#define SANDBOX_DENY(sys, err, why) SANDBOX_ROW(SANDBOX_ON_ALL, sys, SCMP_ACT_ERRNO(err), 0, {0}, why)
/* The same rows for the legacy calls that only x86_64 has. */
#define SANDBOX_ALLOW_X86_64(sys, why) SANDBOX_ROW(SANDBOX_ON_X86_64, sys, SCMP_ACT_ALLOW, 0, {0}, why)
#define SANDBOX_ALLOW_IF_X86_64(sys, cmp, why) SANDBOX_ROW(SANDBOX_ON_X86_64, sys, SCMP_ACT_ALLOW, 1, cmp, why)
#define SANDBOX_DENY_X86_64(sys, err, why) SANDBOX_ROW(SANDBOX_ON_X86_64, sys, SCMP_ACT_ERRNO(err), 0, {0}, why)
/* mmap/mprotect argument rule: never executable memory. */
#define SANDBOX_NO_EXEC SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0)

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
 *
 * Once its credentials are final (changing them clears the setting), the
 * process also asks for SIGTERM when `supervisor_pid`, its parent, dies,
 * so it drains and exits rather than serve with nobody to respawn it; if
 * that parent is already gone, it sends itself SIGTERM at once.
 */
int sandbox_enter(const struct sandbox_policy *policy, const struct config *cfg,
    pid_t supervisor_pid);

/*
 * Sanitizer builds only (MCPD_SANITIZE): the ASan/LSan runtime reports
 * errors and checks for leaks at exit with calls the release policies never
 * allow (LeakSanitizer stops the world with a ptrace-ing thread).  Release
 * builds never contain these rows.
 */
#define SANITIZER_RULES \
	SANDBOX_ALLOW(sigaltstack, "sanitizer runtime"), \
	SANDBOX_ALLOW(rt_sigaction, "sanitizer runtime"), \
	SANDBOX_ALLOW(rt_sigprocmask, "sanitizer runtime"), \
	SANDBOX_ALLOW(gettid, "sanitizer runtime"), \
	SANDBOX_ALLOW(tgkill, "sanitizer runtime"), \
	SANDBOX_ALLOW_X86_64(readlink, "sanitizer runtime"), \
	SANDBOX_ALLOW(readlinkat, "sanitizer runtime (aarch64 has only readlinkat)"), \
	SANDBOX_ALLOW(clone, "LeakSanitizer's tracer thread"), \
	SANDBOX_ALLOW(ptrace, "LeakSanitizer stops the world"), \
	SANDBOX_ALLOW(wait4, "LeakSanitizer"), \
	SANDBOX_ALLOW(waitid, "LeakSanitizer"), \
	SANDBOX_ALLOW(sched_yield, "LeakSanitizer"), \
	SANDBOX_ALLOW(prctl, "LeakSanitizer"), \
	SANDBOX_ALLOW(sched_getaffinity, "sanitizer runtime"), \
	SANDBOX_ALLOW(prlimit64, "sanitizer runtime"), \
	SANDBOX_ALLOW(getrlimit, "sanitizer runtime"), \
	SANDBOX_ALLOW(set_robust_list, "sanitizer runtime"), \
	SANDBOX_ALLOW(rseq, "sanitizer runtime"), \
	SANDBOX_ALLOW(pipe2, "sanitizer runtime"), \
	SANDBOX_ALLOW_X86_64(dup2, "sanitizer runtime"), \
	SANDBOX_ALLOW(dup3, "sanitizer runtime"), \
	SANDBOX_ALLOW(lseek, "sanitizer runtime"), \
	SANDBOX_ALLOW(fstat, "sanitizer runtime"), \
	SANDBOX_ALLOW(uname, "sanitizer runtime"), \
	SANDBOX_ALLOW(sysinfo, "sanitizer runtime"), \
	SANDBOX_ALLOW(mprotect, "sanitizer runtime"), \
	SANDBOX_ALLOW(mmap, "sanitizer runtime"), \
	SANDBOX_ALLOW(openat, "LeakSanitizer reads /proc/self/maps"), \
	SANDBOX_ALLOW_X86_64(open, "LeakSanitizer reads /proc/self/maps"), \
	SANDBOX_ALLOW(newfstatat, "sanitizer runtime"), \
	SANDBOX_ALLOW_X86_64(stat, "sanitizer runtime"), \
	SANDBOX_ALLOW(getdents64, "LeakSanitizer lists /proc/self/task"), \
	SANDBOX_ALLOW_X86_64(getdents, "LeakSanitizer lists /proc/self/task"), \
	SANDBOX_ALLOW(getppid, "LeakSanitizer's tracer checks its parent"), \
	SANDBOX_ALLOW(kill, "LeakSanitizer"), \
	SANDBOX_ALLOW(tkill, "LeakSanitizer"),

/** Number of distinct allowed syscalls of a policy (for logs and docs). */
size_t sandbox_allowed_count(const struct sandbox_policy *policy);

#endif
