/* Runs in: workers (their policy, installed by sandbox_enter). */
/*
 * The worker's seccomp policy: serving HTTP on an inherited socket and
 * nothing else; it never creates a socket (no socket, connect or bind),
 * and receives its connection to the egress from the supervisor.
 * Measured under the full test suite (strace after the sandbox point);
 * every row says why the syscall is there.  Anything not listed kills the
 * worker (SIGSYS); the supervisor replaces it.
 */
#include <errno.h>

#include "worker/seccomp.h"

static const struct sandbox_rule worker_rules[] = {
	/* Event loop: h2o's epoll loop, the shared listener, connections. */
	SANDBOX_ALLOW_X86_64(epoll_wait, "h2o event loop"),
	SANDBOX_ALLOW(epoll_pwait, "h2o event loop (arm64 has only epoll_pwait)"),
	SANDBOX_ALLOW(epoll_ctl, "h2o event loop registrations"),
	SANDBOX_ALLOW(accept4, "accepting from the shared listening socket"),
	SANDBOX_ALLOW(read, "request bytes, signalfd, h2o's wake-up pipe"),
	SANDBOX_ALLOW(writev, "responses"),
	SANDBOX_ALLOW(close, "finished connections"),
	SANDBOX_ALLOW(setsockopt, "TCP_NODELAY on accepted connections"),
	SANDBOX_ALLOW(getsockopt, "socket state queried by h2o"),
	SANDBOX_ALLOW(fcntl, "O_NONBLOCK on accepted connections"),
	SANDBOX_ALLOW(shutdown, "closing connections"),
	SANDBOX_ALLOW(recvfrom, "peeking whether an HTTP/1 client whose tool call waits has left (http_wait.c); "
	    "dropping a refused body before the close (membudget.c)"),
	SANDBOX_ALLOW(recvmsg, "the connection to the egress, handed over by the supervisor (SCM_RIGHTS)"),
	/* Logging: one write(2) per JSON line; also the refresh eventfd. */
	SANDBOX_ALLOW(write, "log lines on stdout, key refresh requests to the fetcher"),
	/* Memory: the allocator, h2o buffers; never executable. */
	SANDBOX_ALLOW(brk, "malloc"),
	SANDBOX_ALLOW_IF(mmap, SANDBOX_NO_EXEC, "large allocations and h2o buffers, never executable"),
	SANDBOX_ALLOW_IF(mprotect, SANDBOX_NO_EXEC, "allocator arenas, never executable"),
	SANDBOX_ALLOW(munmap, "freeing large allocations"),
	SANDBOX_ALLOW(mremap, "growing large buffers"),
	SANDBOX_ALLOW(madvise, "allocator trimming"),
	SANDBOX_ALLOW(futex, "locks inside OpenSSL and the allocator"),
	/* Time and randomness (vDSO fallbacks). */
	SANDBOX_ALLOW(clock_gettime, "timers and log timestamps (vDSO fallback)"),
	SANDBOX_ALLOW(gettimeofday, "request timestamps (vDSO fallback)"),
	SANDBOX_ALLOW(getrandom, "libsodium and OpenSSL seeding"),
	SANDBOX_ALLOW(getpid, "pid in diagnostics"),
	/* Signals and exit. */
	SANDBOX_ALLOW(rt_sigreturn, "return from signal handlers"),
	SANDBOX_ALLOW(exit, "thread exit"),
	SANDBOX_ALLOW(exit_group, "process exit"),
#ifndef MCPD_SANITIZE
	/* Harmless probes get EACCES instead of a kill: no file is ever opened. */
	SANDBOX_DENY(openat, EACCES, "libc probes; workers never open files once sandboxed"),
	SANDBOX_DENY_X86_64(open, EACCES, "libc probes"),
	SANDBOX_DENY(newfstatat, EACCES, "libc probes"),
	SANDBOX_DENY_X86_64(stat, EACCES, "libc probes"),
#else
	SANITIZER_RULES
#endif
};

const struct sandbox_policy worker_policy = {
	.role = "worker",
	.rules = worker_rules,
	.nrules = sizeof(worker_rules) / sizeof(worker_rules[0]),
	.max_files = 16384,
	.no_threads = true,
};
