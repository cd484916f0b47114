/*
 * counters: what mcpd counts, and the shared memory it counts in.
 *
 * The supervisor creates one region (a sealed memfd) before it starts any
 * child.  It holds one block of COUNTERS_BLOCK_SIZE bytes per process role
 * and slot:
 *
 *	block 0			the supervisor's (child starts and exits)
 *	block 1			the JWKS fetcher's (fetches, key-set generation)
 *	block 2 + 2*slot + k	worker slot `slot`, k = 0 or 1
 *
 * Each block has one writer, the process the supervisor gave it to, so a
 * counter is a plain load and store: no atomic read-modify-write is shared
 * between processes.  A worker slot has two blocks because during a reload
 * the old worker and its successor run side by side; a worker that replaces
 * a dead one takes over the dead one's block and goes on counting from its
 * values, so a sum over all blocks never goes down.
 *
 * Every worker reads every worker block (the accept gate and /metrics);
 * the supervisor reads them all (EMF).  Nothing in the region is a secret
 * or trusted for a security decision: a reader treats each value as a
 * number that may be wrong, never as an index or a size.
 */
#ifndef MCPD_COMMON_COUNTERS_H
#define MCPD_COMMON_COUNTERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/egress_wire.h"

/*
 * 16 KiB a block (four 4 KiB pages).  A worker's counters fitted in one
 * page until it counted its tools' outbound requests by tool and outcome:
 * (64 + 1) x 13 x 8 = 6,760 bytes more.  They went into the worker's own
 * block, which grew, rather than into blocks of their own: with one block
 * per worker, every counter it has follows the supervisor's one decision
 * for its slot (a dead worker's replacement continues its block, a reload's
 * successor takes the other) with no second index to keep in step, and a
 * worker still writes exactly one block.  The price: the supervisor's and
 * the fetcher's blocks grew too, though they use a few hundred bytes, and
 * the region is 16 KiB x 2 x (workers + 1), 288 KiB for 8 workers.  16 KiB
 * rather than the 12 KiB that would do leaves room to count more without
 * moving every block again.
 */
#define COUNTERS_BLOCK_SIZE 16384
/* Tools the label set can name; the rest of a registry would count as unknown. */
#define COUNTERS_MAX_TOOLS 64

/* HTTP statuses counted by code; anything else counts under "other". */
#define COUNTERS_STATUS_CODES \
	X(200) X(202) X(204) X(400) X(401) X(403) X(404) X(405) X(406) X(408) X(409) \
	X(411) X(413) X(414) X(415) X(417) X(429) X(431) X(500) X(501) X(503) X(505)
enum counters_status {
#define X(code) STATUS_##code,
	COUNTERS_STATUS_CODES
#undef X
	STATUS_OTHER,
	N_STATUS
};

/* JSON-RPC methods, a fixed label set: every method mcpd serves, then the rest. */
enum counters_method {
	METHOD_INITIALIZE, METHOD_PING, METHOD_TOOLS_LIST, METHOD_TOOLS_CALL, METHOD_PROMPTS_LIST,
	METHOD_PROMPTS_GET, METHOD_RESOURCES_LIST, METHOD_RESOURCE_TEMPLATES_LIST,
	METHOD_RESOURCES_READ, METHOD_SERVER_DISCOVER,
	METHOD_NOTIFICATION,	/* any notifications/... */
	METHOD_OTHER,		/* a method mcpd does not serve */
	N_METHOD
};

/* Why a request was refused for its credentials. */
enum counters_refusal {
	REFUSAL_NO_TOKEN, REFUSAL_MALFORMED, REFUSAL_UNKNOWN_KID, REFUSAL_ALGORITHM,
	REFUSAL_BAD_SIGNATURE, REFUSAL_EXPIRED, REFUSAL_NOT_YET_VALID, REFUSAL_TOKEN_USE,
	REFUSAL_WRONG_CLIENT, REFUSAL_WRONG_AUDIENCE, REFUSAL_WRONG_ISSUER,
	REFUSAL_INSUFFICIENT_SCOPE,	/* a scope every token needs */
	REFUSAL_TOOL_SCOPE,		/* a scope the called tool needs (step-up) */
	REFUSAL_KEYS_NOT_LOADED,	/* 503 before the first key set */
	N_REFUSAL
};

/* Why a verified client's request was refused by --client-rate-limit or --client-concurrency. */
enum counters_limited {
	LIMITED_RATE,		/* its bucket was empty */
	LIMITED_CONCURRENCY,	/* it had its cap in flight */
	LIMITED_TABLE_FULL,	/* no entry for a new client (common/client_limits.h) */
	N_LIMITED
};

/* Why a JWKS refresh failed. */
enum counters_fetch_failure {
	FETCH_DISCOVERY_UNREACHABLE, FETCH_DISCOVERY_INVALID, FETCH_JWKS_UNREACHABLE,
	FETCH_JWKS_INVALID, FETCH_PUBLISH, N_FETCH_FAILURE
};

enum counters_role { ROLE_WORKER, ROLE_FETCHER, ROLE_METRICS, ROLE_EGRESS, N_ROLE };

/* How a child ended. */
enum counters_exit {
	EXIT_CLEAN,	/* status 0: drained on request */
	EXIT_ERROR,	/* another exit status */
	EXIT_CONFIG,	/* could not start (configuration or sandbox) */
	EXIT_CRASH,	/* killed by a signal it did not ask for (SIGSEGV, SIGSYS, SIGKILL, ...) */
	N_EXIT
};

/* Request duration buckets, upper bounds in microseconds; the last is +Inf. */
#define COUNTERS_DURATION_BOUNDS_US \
	50, 100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000
#define N_DURATION_BUCKETS 15

/*
 * Outbound request duration buckets, upper bounds in microseconds; the last
 * is +Inf.  From the worker's REQUEST to the egress's answer: a loopback
 * upstream answers within a millisecond, a slow API in seconds, and a tool
 * may wait up to 300 s (mcpd_request.timeout_ms), so 1 ms to 60 s.
 */
#define COUNTERS_EGRESS_DURATION_BOUNDS_US \
	1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000, 2500000, 5000000, \
	10000000, 30000000, 60000000
#define N_EGRESS_DURATION_BUCKETS 16

/* The line every worker's accept gate reads of every other worker. */
struct counters_gate {
	uint32_t accepting;		/* 1 while this worker takes new connections */
	uint32_t reserved;
	uint64_t open_connections;	/* gauge */
	uint64_t accepted;		/* connections taken, ever */
};

/*
 * A worker's tools' requests through the egress process, each counted once
 * when its answer (or the reason there is none) reached the worker
 * (worker/own_counters.h: egress_counted).  The histogram holds every
 * request of the table, whatever its outcome.
 */
struct counters_egress {
	/* By registry index (last row: unknown), then enum egress_wire_outcome. */
	uint64_t requests[COUNTERS_MAX_TOOLS + 1][EGRESS_WIRE_OUTCOME_COUNT];
	uint64_t duration_bucket[N_EGRESS_DURATION_BUCKETS];	/* per bucket, not cumulative */
	uint64_t duration_sum_us;
};

struct worker_counters {
	struct counters_gate gate __attribute__((aligned(64)));
	uint64_t http_status[N_STATUS] __attribute__((aligned(64)));
	uint64_t rpc_method[N_METHOD];
	uint64_t tool_calls[COUNTERS_MAX_TOOLS + 1];	/* by registry index; last: unknown */
	uint64_t tool_errors[COUNTERS_MAX_TOOLS + 1];	/* calls answered isError: true */
	uint64_t duration_bucket[N_DURATION_BUCKETS];	/* per bucket, not cumulative */
	uint64_t duration_sum_us;
	uint64_t bytes_received;	/* request bodies */
	uint64_t bytes_sent;		/* response bodies */
	uint64_t auth_refusals[N_REFUSAL];
	uint64_t client_limited[N_LIMITED];	/* by reason; never by client */
	uint64_t client_limit_takeovers;	/* a new client took an entry that still held another's debt */
	struct counters_egress egress __attribute__((aligned(64)));
};

struct fetcher_counters {
	uint64_t fetches_ok;
	uint64_t fetch_failures[N_FETCH_FAILURE];
	uint64_t keyset_generation;
	int64_t keyset_published_at;	/* unix seconds; 0 before the first */
};

struct supervisor_counters {
	uint64_t starts[N_ROLE];
	uint64_t exits[N_ROLE][N_EXIT];
};

/*
 * The tools the label set names, in the order the workers count them (the
 * index into tool_calls and tool_errors is the tool's place in the worker's
 * registry).  common/ does not know the tools: the supervisor fills this
 * once at start-up from the worker's registry (worker_counted_tools) and
 * hands it to the metrics process and to EMF.
 */
struct counters_tools {
	const char *names[COUNTERS_MAX_TOOLS];
	size_t count;
};

union counters_block {
	struct worker_counters worker;
	struct fetcher_counters fetcher;
	struct supervisor_counters supervisor;
	unsigned char page[COUNTERS_BLOCK_SIZE];
};

_Static_assert(sizeof(struct worker_counters) <= COUNTERS_BLOCK_SIZE, "worker counters outgrew a block");

#define COUNTERS_SUPERVISOR_BLOCK 0
#define COUNTERS_FETCHER_BLOCK 1
/** The block index of worker slot `slot`, copy k (0 or 1). */
#define COUNTERS_WORKER_BLOCK(slot, k) (2 + 2 * (slot) + (k))
/** Blocks in a region for `workers` worker slots. */
#define COUNTERS_BLOCKS(workers) (2 + 2 * (size_t)(workers))

/** Adds n to a counter of the caller's own block (single writer). */
static inline void
counter_add(uint64_t *c, uint64_t n)
{
	__atomic_store_n(c, __atomic_load_n(c, __ATOMIC_RELAXED) + n, __ATOMIC_RELAXED);
}

/** Sets a gauge of the caller's own block. */
static inline void
counter_set(uint64_t *c, uint64_t v)
{
	__atomic_store_n(c, v, __ATOMIC_RELAXED);
}

/** Reads a counter of any block. */
static inline uint64_t
counter_get(const uint64_t *c)
{
	return __atomic_load_n(c, __ATOMIC_RELAXED);
}

/**
 * Creates the region for `workers` worker slots, zeroed and sealed against
 * resizing.  Returns its fd (close-on-exec; children inherit it through
 * fork), or -1 with errno.
 */
int counters_region_create(int workers);
/**
 * Maps a region of `workers` slots (read and write: each process writes its
 * own block).  Returns the first block, or NULL with errno.
 */
union counters_block *counters_map(int fd, int workers);
/**
 * Maps a region read-only through a fresh read-only open of the memfd, so
 * that no mprotect can make it writable (the metrics process only reads).
 * Returns the first block, or NULL with errno.
 */
const union counters_block *counters_map_readonly(int fd, int workers);
void counters_unmap(const union counters_block *blocks, int workers);

/** The label of each enum value, as the exposition writes it. */
extern const char *const counters_method_names[N_METHOD];
extern const char *const counters_refusal_names[N_REFUSAL];
extern const char *const counters_limited_names[N_LIMITED];
extern const char *const counters_fetch_failure_names[N_FETCH_FAILURE];
extern const char *const counters_role_names[N_ROLE];
extern const char *const counters_exit_names[N_EXIT];
/** The HTTP status code of each counted status (0 for STATUS_OTHER). */
extern const int counters_status_codes[N_STATUS];
extern const uint64_t counters_duration_bounds_us[N_DURATION_BUCKETS - 1];
extern const uint64_t counters_egress_duration_bounds_us[N_EGRESS_DURATION_BUCKETS - 1];

/** The counted status of an HTTP status code. */
enum counters_status counters_status_of(int code);
/** The label of a JSON-RPC method name. */
enum counters_method counters_method_of(const char *method);
/** The duration bucket of a duration in microseconds. */
size_t counters_bucket_of(uint64_t us);
/** The outbound request duration bucket of a duration in microseconds. */
size_t counters_egress_bucket_of(uint64_t us);

#endif
