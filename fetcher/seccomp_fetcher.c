/* Runs in: the fetcher (its policy, installed by sandbox_enter). */
/*
 * The JWKS fetcher's seccomp policy: outbound HTTPS with DNS and the CA
 * bundle, read-only file access, resolver threads; no listening socket, no
 * process creation, no executable memory, no file it could write.  Wider
 * than the worker's, and kept apart from it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>

#include "fetcher/seccomp.h"

/* Opening is allowed read-only: no create, truncate, append or write. */
#define READ_ONLY_MASK (O_ACCMODE | O_CREAT | O_TRUNC | O_APPEND)
#define OPENAT_READ_ONLY SCMP_A2(SCMP_CMP_MASKED_EQ, READ_ONLY_MASK, O_RDONLY)
#define OPEN_READ_ONLY SCMP_A1(SCMP_CMP_MASKED_EQ, READ_ONLY_MASK, O_RDONLY)
/* Threads (libcurl's resolver), never new processes. */
#define THREADS_ONLY SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD)

static const struct sandbox_rule fetcher_rules[] = {
	/* Waiting: signals, refresh requests, timers. */
	SANDBOX_ALLOW_X86_64(poll, "waiting for signals, refresh requests and sockets"),
	SANDBOX_ALLOW(ppoll, "waiting (arm64 has only ppoll)"),
	SANDBOX_ALLOW(read, "signalfd, eventfd, sockets, files"),
	SANDBOX_ALLOW(write, "log lines, sockets"),
	SANDBOX_ALLOW(close, "sockets and files"),
	/* Outbound HTTPS and DNS. */
	SANDBOX_ALLOW(socket, "outbound connections and DNS queries"),
	SANDBOX_ALLOW(connect, "outbound connections and DNS queries"),
	SANDBOX_ALLOW(getsockopt, "connection state"),
	SANDBOX_ALLOW(setsockopt, "socket options set by libcurl"),
	SANDBOX_ALLOW(getsockname, "libcurl connection info"),
	SANDBOX_ALLOW(getpeername, "libcurl connection info"),
	SANDBOX_ALLOW(sendto, "HTTP and DNS"),
	SANDBOX_ALLOW(recvfrom, "HTTP and DNS"),
	SANDBOX_ALLOW(sendmsg, "DNS"),
	SANDBOX_ALLOW(recvmsg, "DNS"),
	SANDBOX_ALLOW(sendmmsg, "DNS (glibc sends A and AAAA together)"),
	SANDBOX_ALLOW(ioctl, "FIONREAD in the resolver"),
	SANDBOX_ALLOW(fcntl, "non-blocking sockets"),
	SANDBOX_ALLOW(socketpair, "libcurl's wake-up pair"),
	SANDBOX_ALLOW(pipe2, "libcurl's wake-up pipe"),
	SANDBOX_ALLOW(eventfd2, "libcurl's wake-up eventfd"),
	SANDBOX_ALLOW(uname, "libcurl and OpenSSL"),
	/* Files, read-only: CA bundle, resolv.conf, hosts, file:// issuers. */
	SANDBOX_ALLOW_IF(openat, OPENAT_READ_ONLY, "CA bundle, resolver files, file issuers; read-only"),
	SANDBOX_ALLOW_IF_X86_64(open, OPEN_READ_ONLY, "same; read-only"),
	SANDBOX_ALLOW(newfstatat, "file sizes"),
	SANDBOX_ALLOW(fstat, "file sizes"),
	SANDBOX_ALLOW(statx, "file sizes"),
	SANDBOX_ALLOW(lseek, "reading files"),
	SANDBOX_ALLOW_X86_64(access, "libcurl checks the CA bundle"),
	SANDBOX_ALLOW(faccessat, "libcurl checks the CA bundle"),
	SANDBOX_ALLOW(faccessat2, "libcurl checks the CA bundle"),
	SANDBOX_ALLOW(getdents64, "CA directory listing"),
	SANDBOX_ALLOW(getuid, "libcurl's home directory lookup"),
	SANDBOX_ALLOW(geteuid, "libcurl's home directory lookup"),
	/* Resolver threads. */
	SANDBOX_ALLOW_IF(clone, THREADS_ONLY, "libcurl's threaded resolver; threads only"),
	SANDBOX_DENY(clone3, ENOSYS, "its flags cannot be filtered: glibc falls back to clone"),
	SANDBOX_ALLOW(set_robust_list, "thread start"),
	SANDBOX_ALLOW(rseq, "thread start"),
	SANDBOX_ALLOW(gettid, "threads"),
	SANDBOX_ALLOW(rt_sigprocmask, "threads block signals"),
	SANDBOX_ALLOW(rt_sigaction, "libcurl ignores SIGPIPE"),
	SANDBOX_ALLOW(rt_sigreturn, "return from signal handlers"),
	/* Memory, never executable. */
	SANDBOX_ALLOW(brk, "malloc"),
	SANDBOX_ALLOW_IF(mmap, SANDBOX_NO_EXEC, "allocations and thread stacks, never executable"),
	SANDBOX_ALLOW_IF(mprotect, SANDBOX_NO_EXEC, "thread stack guards, never executable"),
	SANDBOX_ALLOW(munmap, "freeing"),
	SANDBOX_ALLOW(mremap, "growing buffers"),
	SANDBOX_ALLOW(madvise, "thread stacks"),
	SANDBOX_ALLOW(futex, "thread synchronisation"),
	/* Time, randomness, exit. */
	SANDBOX_ALLOW(clock_gettime, "timeouts (vDSO fallback)"),
	SANDBOX_ALLOW(gettimeofday, "timeouts (vDSO fallback)"),
	SANDBOX_ALLOW(clock_nanosleep, "libcurl back-off sleeps"),
	SANDBOX_ALLOW(nanosleep, "libcurl back-off sleeps"),
	SANDBOX_ALLOW(getrandom, "TLS and retry jitter"),
	SANDBOX_ALLOW(getpid, "libcurl and OpenSSL"),
	SANDBOX_ALLOW(exit, "thread exit"),
	SANDBOX_ALLOW(exit_group, "process exit"),
#ifdef MCPD_SANITIZE
	SANITIZER_RULES
#endif
};

const struct sandbox_policy fetcher_policy = {
	.role = "fetcher",
	.rules = fetcher_rules,
	.nrules = sizeof(fetcher_rules) / sizeof(fetcher_rules[0]),
	.max_files = 256,
};
