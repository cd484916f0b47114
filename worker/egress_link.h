/*
 * egress_link: this worker's connection to the egress process, which makes
 * every outbound request of the tools (docs/egress-design.md).
 *
 * The supervisor hands the worker one connection (an AF_UNIX stream socket)
 * over the link socket args->egress_link_fd, and a fresh one after every
 * egress start.  Frames are common/egress_wire.h's; both sides send HELLO
 * first.  Requests get ids from a table of --egress-max-in-flight entries;
 * each entry remembers who waits for the answer.  When the connection ends
 * (the egress died or stopped) every request in flight is answered
 * egress_restarted at once: nothing waits for an answer that cannot come.
 *
 * Everything runs on the worker's h2o loop; nothing here blocks.
 */
#ifndef MCPD_WORKER_EGRESS_LINK_H
#define MCPD_WORKER_EGRESS_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <h2o.h>

#include "common/config.h"
#include "common/egress_wire.h"

/* What became of a request. */
struct egress_link_answer {
	enum egress_wire_outcome outcome;		/* OK: `response` is set */
	const struct egress_wire_response *response;	/* valid during the callback only */
	const char *message;				/* !OK: one line, NUL-terminated */
	uint16_t status;				/* !OK: the upstream's, or 0 */
	uint64_t duration_us;				/* from sending to answer */
};

/* Called once per request with its answer (unless it was cancelled). */
typedef void (*egress_link_done)(void *owner, const struct egress_link_answer *answer);

/**
 * Watches the link socket on `loop` (before the sandbox: nothing is read
 * yet).  link_fd -1: this worker has no egress (no tool may fetch), and
 * every request fails at once.  Returns 0, or -1 with errno.
 */
int egress_link_init(h2o_loop_t *loop, int link_fd, const struct config *cfg);

/**
 * Sends a request.  Returns its id (not 0), whose answer reaches done(owner)
 * later, or 0 when it cannot be sent: then *outcome and msg say why
 * (egress_restarted: no connection; egress_busy: the in-flight table is
 * full; bad_request: the request breaks the wire's rules) and done is
 * never called.
 */
uint32_t egress_link_send(const struct egress_wire_request *request, egress_link_done done, void *owner,
    enum egress_wire_outcome *outcome, char *msg, size_t msglen);

/**
 * Forgets a request in flight and tells the egress to drop it; done is not
 * called.  Returns the microseconds since it was sent (0: no such request).
 */
uint64_t egress_link_cancel(uint32_t id);

/** Requests in flight now. */
size_t egress_link_in_flight(void);

/** Closes everything (at worker exit); requests in flight are answered egress_restarted. */
void egress_link_close(void);

#endif
