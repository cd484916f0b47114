/*
 * outflow: the answers a worker has made that clients have not taken yet.
 *
 * h2o 2.2.5 keeps an answer in memory until the client has read it and has
 * no write timeout, so clients that send large requests and never read
 * would grow a worker without bound.  This module counts the bytes of large
 * answers still in flight, tells the HTTP layer when a worker holds too many
 * (it then refuses large requests with 503), ends connections whose answer
 * has not moved for --idle-timeout, and gives freed memory back to the
 * system once the backlog is gone.
 */
#ifndef MCPD_WORKER_OUTFLOW_H
#define MCPD_WORKER_OUTFLOW_H

#include <stdbool.h>
#include <stddef.h>

#include <h2o.h>

/* Answers smaller than this fit in socket buffers and are not tracked. */
#define OUTFLOW_TRACK_MIN (64 * 1024)

/** Sets the limits: bytes in flight, seconds an answer may go without moving. */
void outflow_init(h2o_loop_t *loop, size_t max_pending, unsigned stall_seconds);
/**
 * True when a request of `request_bytes` must wait (503): the answers in
 * flight total more than the limit and this request is large enough to make
 * a large answer (our answers are at most about twice the request and a few
 * hundred bytes).  Small requests are always served.
 */
bool outflow_refuses(size_t request_bytes);
/** Bytes of tracked answers in flight. */
size_t outflow_pending(void);
/**
 * Tracks an answer of `bytes` to `req` (on connection socket `sock`) until
 * the request is disposed of; answers under OUTFLOW_TRACK_MIN are ignored.
 */
void outflow_track(h2o_req_t *req, h2o_socket_t *sock, size_t bytes);

#endif
