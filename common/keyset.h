/*
 * keyset: the verified signing keys, shared between processes.
 *
 * One memfd region, written only by the JWKS fetcher and mapped read-only by
 * every worker.  It holds a header and two slots; the writer fills the slot
 * that is not active, then switches the active index, so readers never block
 * the writer and never see a half-written set.  Each slot carries a sequence
 * number (odd while being written, 0 when never written) and a libsodium
 * generic hash of its payload, so a reader refuses a torn or corrupt copy.
 *
 * Offsets and fixed-size arrays only: no pointers cross processes.
 */
#ifndef MCPD_COMMON_KEYSET_H
#define MCPD_COMMON_KEYSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KEYSET_MAX_KEYS 16
#define KEYSET_KID_MAX 128		/* bytes, NUL included */
#define KEYSET_ISSUER_MAX 512		/* bytes, NUL included */
#define KEYSET_MODULUS_MAX 1024		/* bytes: RSA keys up to 8192 bits */
#define KEYSET_EXPONENT_MAX 8

/* The one algorithm a key may verify; pinned when the key is accepted. */
enum keyset_alg {
	KEYSET_ALG_NONE = 0,
	KEYSET_ALG_RS256 = 1,
};

struct keyset_key {
	char kid[KEYSET_KID_MAX];
	uint32_t alg;			/* enum keyset_alg */
	uint32_t n_len;			/* big-endian modulus bytes */
	uint32_t e_len;			/* big-endian public exponent bytes */
	uint8_t n[KEYSET_MODULUS_MAX];
	uint8_t e[KEYSET_EXPONENT_MAX];
};

/* A complete, verified key set: the payload of a slot, and a reader's copy. */
struct keyset {
	char issuer[KEYSET_ISSUER_MAX];	/* the discovery document's issuer */
	int64_t fetched_at;		/* unix seconds */
	int64_t expires_at;		/* unix seconds: when the fetcher plans to refresh */
	uint32_t nkeys;
	struct keyset_key keys[KEYSET_MAX_KEYS];
};

struct keyset_region;	/* the mapped region; layout private to keyset.c */

/** Bytes of the region (header and both slots). */
size_t keyset_region_size(void);

/**
 * Creates the region as a sealed memfd (it can neither grow nor shrink, so
 * no mapping can fault) and returns its fd, or -1 with errno.  Like
 * keyset_map, it calls sodium_init() (idempotent): call either before a
 * sandbox, and the other functions need no set-up of their own.
 */
int keyset_region_create(void);

/**
 * Maps the region.  A writable mapping is for the fetcher.  A read-only one
 * is made from a fresh read-only open of the memfd, so the mapping can never
 * be made writable by mprotect.  Returns NULL with errno on failure: EINVAL
 * when `fd` is not a region from keyset_region_create (size, seals, magic
 * or layout version differ).
 */
struct keyset_region *keyset_map(int fd, bool writable);
void keyset_unmap(struct keyset_region *r);

/**
 * Publishes `ks` (writer only).  Returns the new generation (>= 1), or 0
 * without publishing anything when `ks` breaks a bound that readers check
 * (nkeys, n_len or e_len too large, issuer or kid not NUL-terminated).
 */
uint64_t keyset_publish(struct keyset_region *r, const struct keyset *ks);

/**
 * The generation of the active set: 0 while nothing was ever published.
 * One atomic load, cheap enough for every request.
 */
uint64_t keyset_generation(const struct keyset_region *r);

enum keyset_read {
	KEYSET_OK,
	KEYSET_EMPTY,	/* nothing published yet */
	KEYSET_CORRUPT,	/* checksum or layout mismatch */
	KEYSET_BUSY,	/* torn on every bounded retry */
};

/**
 * Copies the active set into *out (and its generation, when `generation` is
 * not NULL).  Never blocks: a writer in the way costs a bounded number of
 * retries, then KEYSET_BUSY.  *out is undefined unless KEYSET_OK.
 */
enum keyset_read keyset_snapshot(const struct keyset_region *r, struct keyset *out, uint64_t *generation);

/** Finds a key by kid in a snapshot, or NULL. */
const struct keyset_key *keyset_find(const struct keyset *ks, const char *kid, size_t kid_len);

#endif
