/*
 * seccomp: the seccomp policies of mcpd's children.
 */
#ifndef MCPD_WORKER_SECCOMP_H
#define MCPD_WORKER_SECCOMP_H

#include "common/sandbox.h"

extern const struct sandbox_policy worker_policy;
extern const struct sandbox_policy metrics_policy;
extern const struct sandbox_policy fetcher_policy;

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

#endif
