/*
 * token_cache: the tokens a worker has verified, so that a repeated token
 * does not pay for RSA again.
 *
 * Direct-mapped: a token has one slot, and a newer token for the same slot
 * replaces the one there.  An entry keeps its own copy of the token and a hit
 * needs the whole token to match, compared in constant time, so the cache can
 * never vouch for a token it did not verify, nor tell a client how much of a
 * guess was right.  The slot is picked from the token's last
 * TOKEN_INDEX_TAIL bytes (the signature, unpredictable without the issuer's
 * key) through a keyed hash, which costs far less than hashing the whole
 * token.  Memory: one copy (about 1 KiB for Cognito) per distinct verified
 * token.  An entry counts only for the key-set generation it was verified
 * under, and until its expiry plus the allowed clock skew.
 */
#ifndef MCPD_WORKER_TOKEN_CACHE_H
#define MCPD_WORKER_TOKEN_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "worker/jwt.h"
#include "worker/tool.h"

#define TOKEN_CACHE_SLOTS 1024	/* the most a cache holds, and what a worker's holds */
#define TOKEN_INDEX_TAIL 32	/* bytes of the token's end that pick its slot */
#define TOKEN_CACHE_KEY_BYTES 16	/* the slot hash's key (crypto_shorthash_KEYBYTES) */

/* One slot; only token_cache.c looks inside. */
struct cached_token {
	char *token;		/* malloc'd copy, NULL = empty */
	size_t len;
	int64_t exp;
	uint64_t generation;
	struct jwt_identity id;		/* the token's claims for tools, owned */
	struct mcpd_identity view;	/* what tools see of id */
};

struct token_cache {
	size_t mask;		/* slots in use - 1 (a power of two) */
	int64_t skew;		/* seconds a token stays valid past its exp */
	unsigned char index_key[TOKEN_CACHE_KEY_BYTES];
	struct cached_token slots[TOKEN_CACHE_SLOTS];
};

/**
 * Empties `c` (zeroed, or initialized before) and sets it to use `capacity`
 * slots (a power of two, at most TOKEN_CACHE_SLOTS), picked with `key`
 * (secret and random in a worker), and to keep a token `skew` seconds past
 * its exp.  Returns 0, or -1 (EINVAL) for a bad capacity, `c` untouched.
 * Allocates nothing.
 */
int token_cache_init(struct token_cache *c, const unsigned char key[TOKEN_CACHE_KEY_BYTES],
    size_t capacity, unsigned skew);
/**
 * True when `token` was verified under key-set `generation` and is still
 * valid at `now` (unix seconds): before exp + skew.  *identity is then its
 * claims (NULL when memory ran out copying them), valid until the next
 * insert or free.  Allocates nothing.
 */
bool token_cache_lookup(const struct token_cache *c, const char *token, size_t len,
    uint64_t generation, int64_t now, const struct mcpd_identity **identity);
/**
 * Remembers a token verified under `generation`, valid until `exp`, in its
 * slot (replacing whatever was there), and takes ownership of *id.  Returns
 * the identity tools see (NULL when *id holds none), valid like a lookup's.
 * Without memory for the copy the token is just not remembered, but the
 * identity is still kept for the request being answered.
 */
const struct mcpd_identity *token_cache_insert(struct token_cache *c, const char *token, size_t len,
    uint64_t generation, int64_t exp, struct jwt_identity *id);
/** Frees every entry; `c` is then empty, with the same capacity, key and skew. */
void token_cache_free(struct token_cache *c);

#endif
