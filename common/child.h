/*
 * child: the contract between the supervisor and every process it forks.
 *
 * Each role (worker, fetcher, metrics) is one row: a name and an entry
 * point.  The supervisor fills a child_args with exactly the descriptors
 * that role needs (the rest are -1 and closed in the child), forks, and the
 * child calls the entry, whose return value becomes its exit status.  A
 * role's folder (worker/, fetcher/) includes this header and nothing of
 * supervisor/; the supervisor includes each role's entry header.
 */
#ifndef MCPD_COMMON_CHILD_H
#define MCPD_COMMON_CHILD_H

#include <sys/types.h>

#include "common/config.h"
#include "common/counters.h"

/* What a child process is given; fds it does not get are -1. */
struct child_args {
	const struct config *cfg;
	int listen_fd;	/* the shared listener (workers only) */
	int keyset_fd;	/* the key-set memfd (when tokens are verified) */
	int refresh_fd;	/* eventfd: workers ask the fetcher for fresh keys */
	int ready_fd;	/* the child writes one byte here once it serves */
	int counters_fd;	/* the shared counters region (every child) */
	int metrics_fd;	/* the --metrics-listen listener (the metrics process only) */
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

#endif
