/* Runs in: the supervisor (creates it, reclaims a dead worker's share), workers (sandboxed). */
#define _GNU_SOURCE	/* memfd_create, F_ADD_SEALS */
/*
 * client_limits: the shared table of per-client limits.  See client_limits.h
 * for the design; this file holds the layout, the lookup and the two
 * counts.  Everything shared is an atomic of a fixed-size entry: the
 * processes map the region at different addresses, and several workers
 * touch one entry at once.
 */
#include "common/client_limits.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#define LIMITS_MAGIC 0x4c44504dU	/* "MPDL" little-endian */
#define LIMITS_LAYOUT_VERSION 1U
#define LIMITS_SEALS (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL)
/* Times an admission starts over after losing its entry to another client mid-way. */
#define ADMIT_TRIES 4
#define NS_PER_S 1000000000ULL

/* Lock-free atomics only: an address-based lock table would be per process. */
_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "atomic int must be lock-free");
_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2, "atomic 64-bit integers must be lock-free");
_Static_assert((CLIENT_LIMITS_SLOTS & (CLIENT_LIMITS_SLOTS - 1)) == 0, "the slot count is a power of two");

struct limits_header {
	uint32_t magic;
	uint32_t version;
	uint32_t columns;
	uint32_t slots;
	uint8_t hash_key[crypto_shorthash_KEYBYTES];
} __attribute__((aligned(64)));

/* An entry's counts; a line of its own, so that two busy clients never share one. */
struct limits_state {
	_Atomic uint64_t tat;		/* the bucket's time, ns; at or before now: full */
	_Atomic uint32_t in_flight;	/* the sum of every column's share */
} __attribute__((aligned(64)));

struct client_limits {
	struct limits_header hdr;
	/* The client of each entry, its keyed hash (0: never used): a group is one line, looked up in one read. */
	_Atomic uint64_t clients[CLIENT_LIMITS_SLOTS] __attribute__((aligned(64)));
	struct limits_state state[CLIENT_LIMITS_SLOTS];
	/* One column per worker counters block, written only by its worker (and by the supervisor once it is gone). */
	_Atomic uint32_t held[][CLIENT_LIMITS_SLOTS];
};

_Static_assert(CLIENT_LIMITS_GROUP * sizeof(uint64_t) == 64, "a group of client hashes is one cache line");

bool
client_limits_wanted(const struct config *cfg)
{
	return cfg->client_rate_limit.rate_milli > 0 || cfg->client_concurrency > 0;
}

void
client_limits_policy_of(const struct config *cfg, struct client_limits_policy *policy)
{
	uint64_t milli = cfg->client_rate_limit.rate_milli;

	*policy = (struct client_limits_policy){.concurrency = cfg->client_concurrency};
	if (milli == 0)
		return;
	/* RATE requests a second is one every 10^9 / RATE ns, and RATE = milli / 1000. */
	policy->interval_ns = 1000 * NS_PER_S / milli;
	policy->tolerance_ns = cfg->client_rate_limit.burst * policy->interval_ns;
}

size_t
client_limits_size(int columns)
{
	return sizeof(struct client_limits) + (size_t)columns * sizeof(((struct client_limits *)NULL)->held[0]);
}

static int
close_keeping_errno(int fd)
{
	int saved = errno;

	close(fd);
	errno = saved;
	return -1;
}

/* Writes the header through a short-lived mapping; the rest starts zeroed. */
static int
write_header(int fd, int columns)
{
	struct limits_header *hdr = mmap(NULL, sizeof(*hdr), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	if (hdr == MAP_FAILED)
		return -1;
	*hdr = (struct limits_header){.magic = LIMITS_MAGIC, .version = LIMITS_LAYOUT_VERSION,
	    .columns = (uint32_t)columns, .slots = CLIENT_LIMITS_SLOTS};
	randombytes_buf(hdr->hash_key, sizeof(hdr->hash_key));
	munmap(hdr, sizeof(*hdr));
	return 0;
}

int
client_limits_create(int columns)
{
	int fd;

	if (columns < 1 || sodium_init() < 0) {
		errno = columns < 1 ? EINVAL : EIO;
		return -1;
	}
	fd = memfd_create("mcpd-client-limits", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -1;
	/* Sealed: no process can shrink it under another's mapping (SIGBUS). */
	if (ftruncate(fd, (off_t)client_limits_size(columns)) < 0 || write_header(fd, columns) < 0 ||
	    fcntl(fd, F_ADD_SEALS, LIMITS_SEALS) < 0)
		return close_keeping_errno(fd);
	return fd;
}

struct client_limits *
client_limits_map(int fd, int columns)
{
	struct stat st;
	struct client_limits *t;

	if (columns < 1) {
		errno = EINVAL;
		return NULL;
	}
	if (fstat(fd, &st) < 0)
		return NULL;
	if ((size_t)st.st_size != client_limits_size(columns) || fcntl(fd, F_GET_SEALS) != LIMITS_SEALS) {
		errno = EINVAL;
		return NULL;
	}
	t = mmap(NULL, client_limits_size(columns), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (t == MAP_FAILED)
		return NULL;
	if (t->hdr.magic != LIMITS_MAGIC || t->hdr.version != LIMITS_LAYOUT_VERSION ||
	    t->hdr.columns != (uint32_t)columns || t->hdr.slots != CLIENT_LIMITS_SLOTS) {
		munmap(t, client_limits_size(columns));
		errno = EINVAL;
		return NULL;
	}
	return t;
}

void
client_limits_unmap(struct client_limits *t, int columns)
{
	if (t != NULL)
		munmap(t, client_limits_size(columns));
}

/* The client's keyed hash; never 0, which marks an entry never used. */
static uint64_t
client_hash(const struct client_limits *t, const char *client, size_t len)
{
	unsigned char out[crypto_shorthash_BYTES];
	uint64_t h;

	/* SipHash-2-4 cannot fail. */
	(void)crypto_shorthash(out, (const unsigned char *)client, len, t->hdr.hash_key);
	memcpy(&h, out, sizeof(h));
	return h != 0 ? h : 1;
}

static uint32_t
load32(_Atomic uint32_t *v)
{
	return atomic_load_explicit(v, memory_order_relaxed);
}

/* What a look at the client's two groups found. */
struct candidates {
	int found;		/* the client's entry, or -1 */
	int never_used;		/* an entry no client ever had, in the emptier group, or -1 */
	int oldest;		/* the entry with nothing in flight and the oldest bucket, or -1 */
	uint64_t oldest_client, oldest_tat;
};

/* The first entry of the client's group `which` (0 or 1): two independent parts of its hash. */
static int
group_of(uint64_t h, int which)
{
	uint64_t bits = which == 0 ? h : h >> 32;

	return (int)(bits % (CLIENT_LIMITS_SLOTS / CLIENT_LIMITS_GROUP)) * CLIENT_LIMITS_GROUP;
}

/* Looks for the client in one group; notes its never-used entries and the best one to take over. */
static int
look_in(struct client_limits *t, uint64_t h, int first, struct candidates *c, int *unused, int *unused_count)
{
	for (int s = first; s < first + CLIENT_LIMITS_GROUP; s++) {
		uint64_t client = atomic_load_explicit(&t->clients[s], memory_order_acquire), tat;

		if (client == h)
			return s;
		if (client == 0) {
			if ((*unused_count)++ == 0)
				*unused = s;
			continue;
		}
		tat = atomic_load_explicit(&t->state[s].tat, memory_order_relaxed);
		if (load32(&t->state[s].in_flight) == 0 && tat < c->oldest_tat) {
			c->oldest = s;
			c->oldest_client = client;
			c->oldest_tat = tat;
		}
	}
	return -1;
}

/*
 * Two groups of CLIENT_LIMITS_GROUP entries per client, and a new client
 * goes to the emptier (the "power of two choices"): a table of 4096 then
 * first has a group full at about three quarters full, where one group per
 * client fills one at about a quarter.
 */
static void
look(struct client_limits *t, uint64_t h, struct candidates *c)
{
	int unused[2] = {-1, -1}, count[2] = {0, 0};

	*c = (struct candidates){.found = -1, .never_used = -1, .oldest = -1, .oldest_tat = UINT64_MAX};
	for (int g = 0; g < 2 && c->found < 0; g++)
		c->found = look_in(t, h, group_of(h, g), c, &unused[g], &count[g]);
	if (c->found < 0)
		c->never_used = count[1] > count[0] ? unused[1] : unused[0];
}

/*
 * The client's entry: the one it has, else one never used, else the one
 * with the oldest bucket and nothing in flight.  -1 when its groups hold
 * only entries with requests in flight.
 */
static int
entry_of(struct client_limits *t, uint64_t h, uint64_t now, bool *took_over)
{
	struct candidates c;

	for (int tries = 0; tries < ADMIT_TRIES; tries++) {
		uint64_t expected = 0;

		look(t, h, &c);
		if (c.found >= 0)
			return c.found;
		/* Workers look in the same order: two claiming for one client race for one entry. */
		if (c.never_used >= 0) {
			if (atomic_compare_exchange_strong(&t->clients[c.never_used], &expected, h))
				return c.never_used;
			continue;
		}
		if (c.oldest < 0)
			return -1;
		expected = c.oldest_client;
		if (!atomic_compare_exchange_strong(&t->clients[c.oldest], &expected, h))
			continue;
		/* A bucket not yet full held the previous client's debt, which the new one must not inherit. */
		if (c.oldest_tat > now) {
			atomic_store_explicit(&t->state[c.oldest].tat, 0, memory_order_relaxed);
			*took_over = true;
		}
		return c.oldest;
	}
	return -1;
}

bool
client_limits_bucket_take(uint64_t tat, uint64_t now, const struct client_limits_policy *policy,
    uint64_t *next, uint64_t *wait_ns)
{
	uint64_t from = tat > now ? tat : now;

	*next = from + policy->interval_ns;
	if (*next - now <= policy->tolerance_ns)
		return true;
	*wait_ns = *next - now - policy->tolerance_ns;
	return false;
}

/* Takes a token from the entry's bucket; false, with the wait, when it is empty. */
static bool
take_token(struct limits_state *e, uint64_t now, const struct client_limits_policy *policy, uint64_t *wait_ns)
{
	uint64_t tat = atomic_load_explicit(&e->tat, memory_order_relaxed), next;

	do {
		if (!client_limits_bucket_take(tat, now, policy, &next, wait_ns))
			return false;
	} while (!atomic_compare_exchange_weak_explicit(&e->tat, &tat, next, memory_order_relaxed,
	    memory_order_relaxed));
	return true;
}

/* One more in flight, below the cap; false at the cap. */
static bool
add_in_flight(struct limits_state *e, uint32_t cap)
{
	uint32_t n = load32(&e->in_flight);

	do {
		if (n >= cap)
			return false;
	} while (!atomic_compare_exchange_weak_explicit(&e->in_flight, &n, n + 1, memory_order_relaxed,
	    memory_order_relaxed));
	return true;
}

/* Takes n off, never below 0 (see client_limits_reclaim for when it would go below). */
static void
sub_in_flight(struct limits_state *e, uint32_t n)
{
	uint32_t v = load32(&e->in_flight);

	while (!atomic_compare_exchange_weak_explicit(&e->in_flight, &v, v > n ? v - n : 0,
	    memory_order_relaxed, memory_order_relaxed))
		;
}

/* This worker's share of entry s, changed by d (one writer: a plain store). */
static void
held_add(struct client_limits *t, uint32_t column, int s, int32_t d)
{
	_Atomic uint32_t *v = &t->held[column][s];

	atomic_store_explicit(v, (uint32_t)((int64_t)load32(v) + d), memory_order_relaxed);
}

static uint64_t
whole_seconds(uint64_t ns)
{
	uint64_t s = (ns + NS_PER_S - 1) / NS_PER_S;

	return s > 0 ? s : 1;
}

/*
 * One try at entry s: the cap first, so that a request refused for it
 * spends no token, then the bucket.  The worker's share is raised before
 * the entry's count, so that a worker killed between the two leaves the
 * count low for a while (reclaim takes off one too many, and the floor at
 * 0 holds) rather than high for good.
 */
static enum client_limits_verdict
admit_at(struct client_limits *t, const struct client_limits_policy *policy, uint32_t column, int s,
    uint64_t now, struct client_limits_result *r)
{
	struct limits_state *e = &t->state[s];
	uint64_t wait_ns = 0;

	if (policy->concurrency > 0) {
		held_add(t, column, s, 1);
		if (!add_in_flight(e, policy->concurrency)) {
			held_add(t, column, s, -1);
			r->retry_after_s = 1;
			return CLIENT_LIMITS_CONCURRENCY;
		}
		r->lease = (struct client_lease){.entry = s, .column = column};
	}
	if (policy->interval_ns > 0 && !take_token(e, now, policy, &wait_ns)) {
		client_limits_release(t, &r->lease);
		r->retry_after_s = whole_seconds(wait_ns);
		return CLIENT_LIMITS_RATE;
	}
	return CLIENT_LIMITS_PASS;
}

void
client_limits_admit(struct client_limits *t, const struct client_limits_policy *policy,
    uint32_t column, const char *client, size_t len, uint64_t now_ns, struct client_limits_result *r)
{
	uint64_t h = client_hash(t, client, len);

	*r = (struct client_limits_result){.verdict = CLIENT_LIMITS_TABLE_FULL, .retry_after_s = 1,
	    .lease = {.entry = -1}};
	for (int tries = 0; tries < ADMIT_TRIES; tries++) {
		int s = entry_of(t, h, now_ns, &r->took_over);

		if (s < 0)
			return;
		r->verdict = admit_at(t, policy, column, s, now_ns, r);
		/* Still ours: another client taking the entry over meanwhile would have counted us on its own. */
		if (atomic_load_explicit(&t->clients[s], memory_order_acquire) == h)
			return;
		client_limits_release(t, &r->lease);
		r->verdict = CLIENT_LIMITS_TABLE_FULL;
	}
}

void
client_limits_release(struct client_limits *t, struct client_lease *lease)
{
	if (lease->entry < 0)
		return;
	held_add(t, lease->column, lease->entry, -1);
	sub_in_flight(&t->state[lease->entry], 1);
	lease->entry = -1;
}

uint64_t
client_limits_reclaim(struct client_limits *t, int columns, uint32_t column)
{
	uint64_t total = 0;

	/* The caller's count, not the header's: a worker can write the header. */
	if (column >= (uint32_t)columns)
		return 0;
	for (int s = 0; s < CLIENT_LIMITS_SLOTS; s++) {
		uint32_t n = load32(&t->held[column][s]);

		if (n == 0)
			continue;
		sub_in_flight(&t->state[s], n);
		atomic_store_explicit(&t->held[column][s], 0, memory_order_relaxed);
		total += n;
	}
	return total;
}
