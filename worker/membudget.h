/*
 * membudget: one ceiling on what a worker buffers for its clients.
 *
 * h2o 2.2.5 reads a whole request body into the connection's input buffer
 * before a handler sees it, keeps pipelined requests there behind an answer
 * in flight, and keeps answers until clients read them.  Clients that send
 * bodies and never finish them would grow a worker without bound, however
 * many connections each client opens.  This module counts, on every read,
 * the input buffer of every HTTP/1 connection (a body, once its head is
 * complete, counted whole: as the buffer it will need), adds the answers
 * outflow counts, and holds the sum under --max-buffered:
 *
 *  - a body over 16 KiB without an Authorization header, on a server that
 *    verifies tokens, is answered 401 and its connection ended on the read
 *    that completes its head: it would only ever get a 401 once read;
 *  - a body over 32 KiB that does not fit is answered 503 with Retry-After
 *    on that same read, and its connection ended; one that fits is
 *    admitted and read to its end (its arrival adds nothing more);
 *  - over the budget, a connection whose head is still arriving stops
 *    being read (the kernel's window holds the client back) until the sum
 *    falls under three quarters of it; small requests that arrive whole
 *    are served as ever;
 *  - when the sum falls from high to low, freed memory goes back to the
 *    system (malloc_trim), so a worker does not keep an attack's peak.
 */
#ifndef MCPD_WORKER_MEMBUDGET_H
#define MCPD_WORKER_MEMBUDGET_H

#include <stdbool.h>
#include <stddef.h>

#include <h2o.h>

/* Bodies larger than this are refused while over the budget (as outflow does). */
#define MEMBUDGET_LARGE_BODY (32 * 1024)
/* Token-less bodies larger than this are refused at once (the health probe is far smaller). */
#define MEMBUDGET_ANONYMOUS_BODY (16 * 1024)

/** Sets the budget, in bytes per worker, and starts the timer. */
void membudget_init(h2o_context_t *ctx, size_t budget);
/**
 * Watches a connection h2o has just accepted (call right after h2o_accept).
 * Returns what membudget_closed takes when the socket closes (NULL: not
 * watched, which membudget_closed accepts).
 */
void *membudget_watch(h2o_socket_t *sock);
/** The socket of a watched connection is being closed (from its on_close callback). */
void membudget_closed(void *watched);
/** True when a request with a body of `body_bytes` must get 503: the worker is over its budget. */
bool membudget_refuses(size_t body_bytes);
/** Bytes buffered for clients: input buffers and answers in flight. */
size_t membudget_buffered(void);

#endif
