/*
 * egress_links: the sockets that join the workers to the egress process
 * (docs/egress-design.md).
 *
 * Each egress start gets a fresh control socket, and each worker start,
 * while mcpd has an egress, a link socket: both AF_UNIX SOCK_SEQPACKET,
 * the child's end in its child_args, the supervisor's in the child's row
 * (proc.egress_fd).  A worker's connection to the egress is one
 * socketpair(AF_UNIX, SOCK_STREAM): one end goes down the control socket
 * with the worker's slot, the other down the worker's link; the supervisor
 * keeps neither.  A worker gets a connection when it starts, if an egress
 * runs, and every worker gets a new one when the egress starts, its old
 * one having ended with the old egress.  A worker never creates a socket.
 *
 * Sends never block the supervisor.  A control socket without room (the
 * egress has not read what came before, e.g. every worker's connection at
 * once after a restart) leaves the worker owed a connection, given when
 * the socket is writable again; any other failure is one log line,
 * egress_link_failed with the worker's slot, and that worker has no egress
 * until the next egress start.
 */
#ifndef MCPD_SUPERVISOR_EGRESS_LINKS_H
#define MCPD_SUPERVISOR_EGRESS_LINKS_H

#include <stdint.h>

#include "common/child.h"
#include "supervisor/proctab.h"

/* What the supervisor knows of its egress. */
struct egress_links {
	int slot;		/* the egress's slot; -1: no tool may fetch, so there is none */
	uint32_t generation;	/* egress starts so far: sent with each worker's connection */
};

/**
 * Opens a control or link socket: ends[0] for the supervisor, ends[1] for
 * the child, both close-on-exec.  Returns 0, or -1 with errno.
 */
int egress_channel_open(int ends[2]);

/** The egress serving (or starting to), or NULL. */
struct proc *egress_links_egress(const struct egress_links *links, struct proctab *pt);

/**
 * After a fork of a child given `args` (its egress socket's end, if any, in
 * egress_control_fd or egress_link_fd): closes the child's end here and
 * keeps `supervisor_end` in the row of `p`, or closes it when the fork
 * failed (p NULL; errno is kept for the caller's log line).
 */
void egress_links_keep(struct proc *p, const struct child_args *args, int supervisor_end);

/**
 * Connects a child just started (after its "started" line, so that the log
 * tells the story in order): a new egress to every worker, a new worker to
 * the egress if one runs; nothing for other roles.
 */
void egress_links_connect(struct egress_links *links, struct proctab *pt, struct proc *p);

/** The egress when a worker is owed a connection (poll its control socket for room), else NULL. */
struct proc *egress_links_awaited(const struct egress_links *links, struct proctab *pt);

/** The egress's control socket has room again: gives the owed connections, while it lasts. */
void egress_links_give_owed(const struct egress_links *links, struct proctab *pt, const struct proc *egress);

#endif
