/*
 * spread: which worker takes the next connection.
 *
 * Every worker waits on the one shared listening socket, and the kernel wakes
 * them all for a new connection; h2o 2.2.5 has no EPOLLEXCLUSIVE, and one
 * SO_REUSEPORT socket per worker spreads by a hash of the peer's address,
 * which leaves bursts uneven (docs/architecture.md).  So each worker
 * publishes its open connections in its counter block, and before accepting
 * looks at its peers': when one that is accepting holds more than
 * SPREAD_SLACK fewer, it leaves the connection to that one and rests its
 * listener for SPREAD_PAUSE_MS.  A peer that takes nothing while we rest is
 * busy or stuck, so the next time we take the connection ourselves: a
 * connection waits at most about two pauses, whatever the peers do.
 */
#ifndef MCPD_WORKER_SPREAD_H
#define MCPD_WORKER_SPREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/counters.h"

#define SPREAD_SLACK 1
#define SPREAD_PAUSE_MS 1

/** Reads peers from the worker blocks [first, first + n) of `blocks`; `mine` is skipped. */
void spread_init(const union counters_block *blocks, size_t n, const struct worker_counters *mine);
/** True when this worker should leave the waiting connection to a peer (then rest SPREAD_PAUSE_MS). */
bool spread_should_yield(uint64_t now_ms);

#endif
