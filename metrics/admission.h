/*
 * admission: which connections the metrics listener takes.
 *
 * The metrics process has 256 descriptors (its sandbox) and serves a few
 * scrapers, so it holds at most METRICS_MAX_CONNECTIONS connections.  When
 * it holds that many, or accept(2) finds no free descriptor, a new
 * connection takes the place of the one that has waited longest: first
 * the connection idle (or still sending its request) the longest, else
 * the one whose answer has gone untaken longest (a second at least), so
 * idle or stalled connections cannot keep a fresh scrape out.  The listener
 * then rests until that connection has closed, or for ADMISSION_PAUSE_MS
 * when there is none to end, rather than waking again and again on a
 * connection it cannot take.  Both conditions are logged at most once
 * every 5 s, with counts.
 */
#ifndef MCPD_METRICS_ADMISSION_H
#define MCPD_METRICS_ADMISSION_H

#include <h2o.h>

#define METRICS_MAX_CONNECTIONS 64
#define ADMISSION_PAUSE_MS 100

/** Starts accepting on `listen_fd` into `accept_ctx`; -1 on failure. */
int admission_start(h2o_accept_ctx_t *accept_ctx, int listen_fd);

#endif
