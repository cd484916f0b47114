/*
 * child: the contract between the supervisor and every process it forks.
 *
 * Each role (worker, fetcher, metrics) is one row: a name and an entry
 * point.  The supervisor fills a child_args with exactly the descriptors
 * that role needs (the rest are -1 and closed in the child), forks, and the
 * child calls the entry, whose return value becomes its exit status.  A
 * role's folder (worker/, fetcher/, metrics/) includes this header and
 * nothing of supervisor/; the supervisor includes each role's entry header.
 *
 * Every child keeps the same two promises, with the helpers below: it
 * leaves stopping to the supervisor (child_signals_open: SIGTERM or SIGINT
 * asks it to stop, the terminal's SIGHUP does not), and once it serves,
 * sandboxed, it says so with one byte on ready_fd (child_ready).
 */
#ifndef MCPD_COMMON_CHILD_H
#define MCPD_COMMON_CHILD_H

#include <stdbool.h>
#include <sys/types.h>

#include "common/config.h"
#include "common/counters.h"
#include "common/egress_allow.h"

/* What a child process is given; fds it does not get are -1. */
struct child_args {
	const struct config *cfg;
	int listen_fd;	/* the shared listener (workers only) */
	int keyset_fd;	/* the key-set memfd (when tokens are verified) */
	int refresh_fd;	/* eventfd: workers ask the fetcher for fresh keys */
	int ready_fd;	/* the child writes one byte here once it serves */
	int counters_fd;	/* the shared counters region (every child) */
	int client_limits_fd;	/* the per-client limits table, common/client_limits.h (workers only, when on) */
	int metrics_fd;	/* the --metrics-listen listener (the metrics process only) */
	/* AF_UNIX SOCK_SEQPACKET from the supervisor (the egress only): each message is
	 * one worker connection (SCM_RIGHTS) and the worker's slot (int32, 4 bytes). */
	int egress_control_fd;
	int aws_env_fd;	/* the sealed AWS_* variables, common/aws_env.h (the egress only) */
	/* AF_UNIX SOCK_SEQPACKET from the supervisor (workers only): each message is one
	 * connection to the egress (SCM_RIGHTS), a new one after every egress start. */
	int egress_link_fd;
	const struct egress_tools *egress_tools;	/* what the tools declared (the egress only) */
	const struct counters_tools *tools;	/* the tool labels (the metrics process only) */
	int slot;
	int counters_block;	/* the child's own block of the counters region */
	pid_t supervisor_pid;	/* its parent, recorded before fork: see sandbox_enter */
};

/*
 * The exit statuses a child may use.  Unless mcpd is stopping or the child
 * was retired, the supervisor refills its slot whatever the status, with a
 * growing delay when it exits soon after starting.  CONFIG says a restart
 * cannot help (a bad setting, a sandbox this kernel will not install): a
 * child that exits so before its slot ever served stops mcpd instead of
 * restarting forever.
 */
#define CHILD_EXIT_OK 0
#define CHILD_EXIT_FAILED 1
#define CHILD_EXIT_CONFIG 2

/** A role's entry point; its return value is the child's exit status. */
typedef int (*child_entry)(const struct child_args *args);

/* One row per kind of child (relayd's procs[], nginx's processes). */
struct role {
	const char *name;
	child_entry entry;
};

/**
 * Tells the supervisor the child serves: one byte on `ready_fd`, which is
 * then closed.  A signal that interrupts the write does not lose the byte;
 * a write that fails is logged as "<role>_ready_failed".  Returns 0, or -1
 * when the byte was not written (the child may go on serving: the
 * supervisor only learns nothing of it).
 */
int child_ready(const char *role, int ready_fd);

/**
 * Sets up a child's signals before its sandbox: SIGPIPE ignored (a write to
 * a peer that left fails with EPIPE; h2o writes with writev, without
 * MSG_NOSIGNAL), SIGHUP ignored (the supervisor, not the terminal, decides
 * when a child stops), SIGTERM and SIGINT blocked and delivered through the
 * returned signalfd (non-blocking, close-on-exec) for the child's loop to
 * read with child_signals_stop.  Returns the fd, or -1 with errno.
 */
int child_signals_open(void);

/**
 * Reads every signal waiting on `sigfd`; true when one of them asks the
 * child to stop (SIGTERM or SIGINT).
 */
bool child_signals_stop(int sigfd);

#endif
