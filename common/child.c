/* Runs in: every child: signals set up before its sandbox, readiness told inside it. */
#define _GNU_SOURCE
/*
 * child: what every child does the same way at the edges of its life, so
 * that the worker, the fetcher and the metrics process cannot drift apart.
 * See child.h.
 */
#include "common/child.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "common/log.h"

int
child_ready(const char *role, int ready_fd)
{
	const char byte = 'R';
	char event[48];
	ssize_t n;

	do
		n = write(ready_fd, &byte, 1);
	while (n < 0 && errno == EINTR);
	if (n != 1) {
		snprintf(event, sizeof(event), "%s_ready_failed", role);
		if (n < 0)
			log_errno(event, "cannot tell the supervisor that this %s serves", role);
		else
			log_msg(LOG_ERROR, event, "cannot tell the supervisor that this %s serves: "
			    "the readiness pipe took no byte", role);
	}
	close(ready_fd);
	return n == 1 ? 0 : -1;
}

int
child_signals_open(void)
{
	sigset_t stop;

	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR || signal(SIGHUP, SIG_IGN) == SIG_ERR)
		return -1;
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	/* Blocked, they wait in the signalfd: no handler runs in the middle of the loop's work. */
	if (sigprocmask(SIG_BLOCK, &stop, NULL) < 0)
		return -1;
	return signalfd(-1, &stop, SFD_CLOEXEC | SFD_NONBLOCK);
}

bool
child_signals_stop(int sigfd)
{
	struct signalfd_siginfo si;
	bool stop = false;

	while (read(sigfd, &si, sizeof(si)) == sizeof(si))
		if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
			stop = true;
	return stop;
}
