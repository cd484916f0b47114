/* Runs in: the egress process (its policy, installed by sandbox_enter). */
/*
 * The egress's seccomp policy: outbound HTTP(S) with DNS and the CA bundle,
 * worker connections handed over the control socket, epoll with a
 * signalfd and a timerfd, read-only files, libcurl's resolver threads; no
 * listening socket, no process creation, no executable memory, no file it
 * could write.  Like the fetcher's, with the event loop's calls added.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <sched.h>
#include <stddef.h>

#include "egress/seccomp.h"

/* Opening is allowed read-only: no create, truncate, append or write. */
#define READ_ONLY_MASK (O_ACCMODE | O_CREAT | O_TRUNC | O_APPEND)
#define OPENAT_READ_ONLY SCMP_A2(SCMP_CMP_MASKED_EQ, READ_ONLY_MASK, O_RDONLY)
#define OPEN_READ_ONLY SCMP_A1(SCMP_CMP_MASKED_EQ, READ_ONLY_MASK, O_RDONLY)
/* Threads (libcurl's resolver), never new processes. */
#define THREADS_ONLY SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD)

static const struct sandbox_rule egress_rules[] = {
	/* The loop: epoll over the signalfd, the timerfd, the control socket and every socket. */
	SANDBOX_ALLOW_X86_64(epoll_wait, "the event loop"),
	SANDBOX_ALLOW(epoll_pwait, "the event loop (arm64 has only epoll_pwait)"),
	SANDBOX_ALLOW(epoll_ctl, "watching sockets as libcurl and workers ask"),
	SANDBOX_ALLOW(timerfd_settime, "libcurl's timer"),
	SANDBOX_ALLOW_X86_64(poll, "libcurl's checks of a connection; draining at stop"),
	SANDBOX_ALLOW(ppoll, "the same (arm64 has only ppoll)"),
	SANDBOX_ALLOW(read, "signalfd, timerfd, sockets, files"),
	SANDBOX_ALLOW(write, "log lines, sockets"),
	SANDBOX_ALLOW(writev, "sockets"),
	SANDBOX_ALLOW(close, "sockets and files"),
	/* Worker connections arrive as descriptors on the control socket. */
	SANDBOX_ALLOW(recvmsg, "worker connections (SCM_RIGHTS) and DNS"),
	/* Outbound HTTP(S) and DNS. */
	SANDBOX_ALLOW(socket, "outbound connections and DNS queries"),
	SANDBOX_ALLOW(connect, "outbound connections and DNS queries"),
	SANDBOX_ALLOW(getsockopt, "connection state"),
	SANDBOX_ALLOW(setsockopt, "socket options set by libcurl"),
	SANDBOX_ALLOW(getsockname, "libcurl connection info"),
	SANDBOX_ALLOW(getpeername, "libcurl connection info"),
	SANDBOX_ALLOW(sendto, "HTTP and DNS"),
	SANDBOX_ALLOW(recvfrom, "HTTP and DNS"),
	SANDBOX_ALLOW(sendmsg, "DNS"),
	SANDBOX_ALLOW(sendmmsg, "DNS (glibc sends A and AAAA together)"),
	SANDBOX_ALLOW(shutdown, "closing connections"),
	SANDBOX_ALLOW(ioctl, "FIONREAD in the resolver"),
	SANDBOX_ALLOW(fcntl, "non-blocking sockets"),
	SANDBOX_ALLOW(socketpair, "libcurl's wake-up pair"),
	SANDBOX_ALLOW(pipe2, "libcurl's wake-up pipe"),
	SANDBOX_ALLOW(eventfd2, "libcurl's wake-up eventfd"),
	SANDBOX_ALLOW(uname, "libcurl and OpenSSL"),
	/* Files, read-only: CA bundle, resolv.conf, hosts. */
	SANDBOX_ALLOW_IF(openat, OPENAT_READ_ONLY, "CA bundle, resolver files; read-only"),
	SANDBOX_ALLOW_IF_X86_64(open, OPEN_READ_ONLY, "same; read-only"),
	SANDBOX_ALLOW(newfstatat, "file sizes"),
	SANDBOX_ALLOW_X86_64(stat, "file sizes"),
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
	SANDBOX_ALLOW(getrandom, "TLS"),
	SANDBOX_ALLOW(getpid, "libcurl and OpenSSL"),
	SANDBOX_ALLOW(exit, "thread exit"),
	SANDBOX_ALLOW(exit_group, "process exit"),
#ifdef MCPD_SANITIZE
	SANITIZER_RULES
#endif
};

const struct sandbox_policy egress_policy = {
	.role = "egress",
	.rules = egress_rules,
	.nrules = sizeof(egress_rules) / sizeof(egress_rules[0]),
	/* Workers' connections, upstream connections and resolver sockets. */
	.max_files = 4096,
};

void
egress_prewarm(void)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;

	if (getaddrinfo("localhost", "443", &hints, &res) == 0)
		freeaddrinfo(res);
}
