/*
 * client_limits: per-client rate limits and concurrency caps, one table
 * every worker shares (--client-rate-limit, --client-concurrency).
 *
 * The supervisor creates the region (a sealed memfd) before it forks, with
 * a random SipHash key in its header, and hands it to the workers only.  A
 * client is the keyed hash of its token's client_id (or sub): without the
 * key nobody can choose client ids that collide or that crowd one part of
 * the table.  The table is bounded: CLIENT_LIMITS_SLOTS entries in groups
 * of CLIENT_LIMITS_GROUP, and a client lives in one of two groups its hash
 * picks (no deletion; an entry is reused, below).
 *
 *	header		magic, layout version, columns, the hash key
 *	clients		each entry's client hash: a group is one cache line
 *	state		each entry's bucket time and requests in flight, a line each
 *	held		one column per worker counters block: what that worker
 *			holds in flight, by entry
 *
 * The rate limit is a token bucket written as one number (GCRA, the
 * "theoretical arrival time"): a client may run ahead of now by at most
 * burst intervals, each request moves its time one interval on, and a
 * time at or before now is a full bucket.  One compare-and-swap admits a
 * request, whatever worker serves it.
 *
 * In flight counts from admission to the request's end.  A worker that dies
 * never ends its requests, so each worker also keeps its own share by entry
 * in its column (one writer: plain stores), and the supervisor, once it has
 * reaped the worker, takes that share off the entries and zeroes the column
 * (client_limits_reclaim) before another worker may use that block.
 *
 * An entry whose bucket is full and that has nothing in flight holds no
 * state, and is taken over by a new client at once.  When its two groups
 * hold none such, the new client takes over the entry with the oldest bucket
 * among those with nothing in flight: that client's debt is forgotten (its
 * limit loosens, never tightens) and the takeover is counted.  When every
 * entry of both groups has requests in flight, the new client is refused
 * (CLIENT_LIMITS_TABLE_FULL).  Races between workers over one entry can
 * cost a client one token, or count one request on the wrong entry while it
 * runs; they never leak an in-flight count.
 */
#ifndef MCPD_COMMON_CLIENT_LIMITS_H
#define MCPD_COMMON_CLIENT_LIMITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/config.h"

#define CLIENT_LIMITS_SLOTS 4096
#define CLIENT_LIMITS_GROUP 8	/* entries a client may live in, twice */

/* What the table enforces, from the configuration. */
struct client_limits_policy {
	uint64_t interval_ns;	/* one request per interval; 0: no rate limit */
	uint64_t tolerance_ns;	/* burst x interval: how far past now a client may run */
	uint32_t concurrency;	/* requests in flight per client; 0: no cap */
};

enum client_limits_verdict {
	CLIENT_LIMITS_PASS,
	CLIENT_LIMITS_RATE,		/* the bucket is empty */
	CLIENT_LIMITS_CONCURRENCY,	/* the client has its cap in flight */
	CLIENT_LIMITS_TABLE_FULL,	/* no entry for a new client: each of its groups' has requests in flight */
};

/* What an admitted request holds until it ends. */
struct client_lease {
	int32_t entry;		/* -1: nothing (no concurrency cap, or not admitted) */
	uint32_t column;
};

struct client_limits_result {
	enum client_limits_verdict verdict;
	uint64_t retry_after_s;	/* when refused: whole seconds, at least 1 */
	bool took_over;		/* the client's entry pushed out another's unspent state */
	struct client_lease lease;
};

struct client_limits;	/* the mapped region; layout private to client_limits.c */

/** True when the configuration asks for either limit. */
bool client_limits_wanted(const struct config *cfg);
/** The policy of --client-rate-limit and --client-concurrency. */
void client_limits_policy_of(const struct config *cfg, struct client_limits_policy *policy);

/** Bytes of the region for `columns` worker blocks. */
size_t client_limits_size(int columns);
/**
 * Creates the region for `columns` worker blocks, with a fresh hash key,
 * sealed against resizing.  Returns its fd (close-on-exec), or -1 with
 * errno.
 */
int client_limits_create(int columns);
/**
 * Maps a region of `columns` columns read and write.  Returns NULL with
 * errno: EINVAL when `fd` is no such region.
 */
struct client_limits *client_limits_map(int fd, int columns);
void client_limits_unmap(struct client_limits *t, int columns);

/**
 * Admits one request of `client` (its client_id or sub, `len` bytes) at
 * `now_ns` (CLOCK_MONOTONIC), served by the worker of `column`.  On
 * CLIENT_LIMITS_PASS with a concurrency cap, result->lease holds the entry
 * until client_limits_release.  No allocation, no system call.
 */
void client_limits_admit(struct client_limits *t, const struct client_limits_policy *policy,
    uint32_t column, const char *client, size_t len, uint64_t now_ns, struct client_limits_result *result);
/** Ends an admitted request: its in-flight count goes (nothing for an empty lease). */
void client_limits_release(struct client_limits *t, struct client_lease *lease);
/**
 * Takes the share of the worker of `column` (of the region's `columns`),
 * which is gone (reaped), off every entry and zeroes its column.  Returns
 * how many requests it still held.
 */
uint64_t client_limits_reclaim(struct client_limits *t, int columns, uint32_t column);

/**
 * The bucket's arithmetic: a request at `now` against time `tat`.  True,
 * with the new time in *next, when it may pass; false, with how long until
 * it could in *wait_ns, when the bucket is empty.
 */
bool client_limits_bucket_take(uint64_t tat, uint64_t now, const struct client_limits_policy *policy,
    uint64_t *next, uint64_t *wait_ns);

#endif
