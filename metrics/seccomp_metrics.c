/* Runs in: the metrics process (its policy, installed by sandbox_enter). */
/*
 * The metrics process's seccomp policy: answering GET /metrics on the
 * inherited --metrics-listen socket with the same HTTP stack as the
 * workers, and nothing else.  It runs the workers' event loop, so its rows
 * are theirs, each with the reason it holds here; it has its own table so
 * that either can narrow without widening the other.  Anything not listed
 * kills the process (SIGSYS); the supervisor replaces it.
 */
#include <errno.h>

#include "metrics/seccomp.h"

static const struct sandbox_rule metrics_rules[] = {
	/* Event loop: h2o's epoll loop, the metrics listener, scrapers' connections. */
	SANDBOX_ALLOW_X86_64(epoll_wait, "h2o event loop"),
	SANDBOX_ALLOW(epoll_pwait, "h2o event loop (arm64 has only epoll_pwait)"),
	SANDBOX_ALLOW(epoll_ctl, "h2o event loop registrations"),
	SANDBOX_ALLOW(accept4, "accepting scrapers on the metrics listener"),
	SANDBOX_ALLOW(read, "request bytes, signalfd, h2o's wake-up pipe"),
	SANDBOX_ALLOW(writev, "responses"),
	SANDBOX_ALLOW(close, "finished connections"),
	SANDBOX_ALLOW(setsockopt, "TCP_NODELAY on accepted connections"),
	SANDBOX_ALLOW(getsockopt, "socket state queried by h2o; TCP_INFO before ending a connection"),
	SANDBOX_ALLOW(fcntl, "O_NONBLOCK on accepted connections"),
	SANDBOX_ALLOW(shutdown, "closing connections, and ending idle or stalled ones"),
	/* Logging: one write(2) per JSON line. */
	SANDBOX_ALLOW(write, "log lines on stdout"),
	/* Memory: the allocator, h2o buffers; never executable. */
	SANDBOX_ALLOW(brk, "malloc"),
	SANDBOX_ALLOW_IF(mmap, SANDBOX_NO_EXEC, "large allocations and h2o buffers, never executable"),
	SANDBOX_ALLOW_IF(mprotect, SANDBOX_NO_EXEC, "allocator arenas, never executable"),
	SANDBOX_ALLOW(munmap, "freeing large allocations"),
	SANDBOX_ALLOW(mremap, "growing large buffers"),
	SANDBOX_ALLOW(madvise, "allocator trimming"),
	SANDBOX_ALLOW(futex, "locks inside the allocator and the libraries h2o links"),
	/* Time and randomness (vDSO fallbacks). */
	SANDBOX_ALLOW(clock_gettime, "timers, log timestamps and the key set's age (vDSO fallback)"),
	SANDBOX_ALLOW(gettimeofday, "request timestamps (vDSO fallback)"),
	SANDBOX_ALLOW(getrandom, "seeding inside the libraries h2o links"),
	SANDBOX_ALLOW(getpid, "pid in diagnostics"),
	/* Signals and exit. */
	SANDBOX_ALLOW(rt_sigreturn, "return from signal handlers"),
	SANDBOX_ALLOW(exit, "thread exit"),
	SANDBOX_ALLOW(exit_group, "process exit"),
#ifndef MCPD_SANITIZE
	/* Harmless probes get EACCES instead of a kill: no file is ever opened. */
	SANDBOX_DENY(openat, EACCES, "libc probes; the metrics process never opens files once sandboxed"),
	SANDBOX_DENY_X86_64(open, EACCES, "libc probes"),
	SANDBOX_DENY(newfstatat, EACCES, "libc probes"),
	SANDBOX_DENY_X86_64(stat, EACCES, "libc probes"),
#else
	SANITIZER_RULES
#endif
};

/* A few scrapers' connections (at most METRICS_MAX_CONNECTIONS), not thousands of clients'. */
const struct sandbox_policy metrics_policy = {
	.role = "metrics",
	.rules = metrics_rules,
	.nrules = sizeof(metrics_rules) / sizeof(metrics_rules[0]),
	.max_files = 256,
	.no_threads = true,
};
