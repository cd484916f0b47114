/* Runs in: the supervisor (forks), and each child between fork and its entry. */
#define _GNU_SOURCE
#include "supervisor/proctab.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"

static int
compare_ints(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

/* Closes every fd above stderr except those in keep[] (-1 entries ignored),
 * so no child inherits another child's pipe or the supervisor's signalfd. */
static void
close_fds_except(int *keep, size_t n)
{
	unsigned next = 3;

	qsort(keep, n, sizeof(keep[0]), compare_ints);
	for (size_t i = 0; i < n; i++) {
		if (keep[i] < (int)next)
			continue;
		if ((unsigned)keep[i] > next)
			close_range(next, (unsigned)keep[i] - 1, 0);
		next = (unsigned)keep[i] + 1;
	}
	close_range(next, ~0U, 0);
}

static void
reset_signals(void)
{
	sigset_t none;

	for (int sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

static void
run_child(const struct role *role, const struct child_args *args)
{
	int keep[] = {args->listen_fd, args->keyset_fd, args->refresh_fd, args->ready_fd,
	    args->counters_fd, args->metrics_fd, args->egress_control_fd, args->aws_env_fd,
	    args->egress_link_fd, args->client_limits_fd};

	close_fds_except(keep, sizeof(keep) / sizeof(keep[0]));
	reset_signals();
	log_set_role(role->name);
	/* exit, not _exit: LeakSanitizer checks the child at exit in ASan builds. */
	exit(role->entry(args));
}

struct proc *
proctab_spawn(struct proctab *pt, const struct role *role, int slot, const struct child_args *args)
{
	struct child_args mine = *args;
	struct proc *p;
	int pipefd[2];
	pid_t pid;

	if (pt->nprocs == PROCTAB_MAX) {
		errno = EAGAIN;
		return NULL;
	}
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return NULL;
	/* Before fork: the child compares it with getppid() to notice it was orphaned. */
	mine.supervisor_pid = getpid();
	pid = fork();
	if (pid < 0) {
		int saved = errno;

		close(pipefd[0]);
		close(pipefd[1]);
		errno = saved;
		return NULL;
	}
	if (pid == 0) {
		close(pipefd[0]);
		mine.slot = slot;
		mine.ready_fd = pipefd[1];
		run_child(role, &mine);
	}
	close(pipefd[1]);
	p = &pt->procs[pt->nprocs++];
	*p = (struct proc){
		.role = role, .pid = pid, .slot = slot, .counters_block = args->counters_block,
		.state = PROC_STARTING,
		.ready_fd = pipefd[0], .egress_fd = -1, .started_ms = now_ms(),
	};
	return p;
}

struct proc *
proctab_find(struct proctab *pt, pid_t pid)
{
	for (int i = 0; i < pt->nprocs; i++)
		if (pt->procs[i].pid == pid)
			return &pt->procs[i];
	return NULL;
}

void
proctab_remove(struct proctab *pt, struct proc *p)
{
	if (p->ready_fd >= 0)
		close(p->ready_fd);
	if (p->egress_fd >= 0)
		close(p->egress_fd);
	*p = pt->procs[--pt->nprocs];
}

struct proc *
proctab_slot_owner(struct proctab *pt, int slot)
{
	for (int i = 0; i < pt->nprocs; i++)
		if (pt->procs[i].slot == slot && pt->procs[i].state != PROC_RETIRING &&
		    !pt->procs[i].successor)
			return &pt->procs[i];
	return NULL;
}

void
proctab_signal_all(struct proctab *pt, int sig)
{
	for (int i = 0; i < pt->nprocs; i++)
		if (kill(pt->procs[i].pid, sig) < 0 && errno != ESRCH)
			log_errno("signal_failed", "cannot signal pid %d", (int)pt->procs[i].pid);
}
