/* Runs in: workers (keyed before the sandbox, used inside it). See token_cache.h. */
#include "worker/token_cache.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

_Static_assert(TOKEN_CACHE_KEY_BYTES == crypto_shorthash_KEYBYTES, "the slot hash's key size");

int
token_cache_init(struct token_cache *c, const unsigned char key[TOKEN_CACHE_KEY_BYTES],
    size_t capacity, unsigned skew)
{
	if (capacity == 0 || capacity > TOKEN_CACHE_SLOTS || (capacity & (capacity - 1)) != 0) {
		errno = EINVAL;
		return -1;
	}
	token_cache_free(c);
	c->mask = capacity - 1;
	c->skew = skew;
	memcpy(c->index_key, key, TOKEN_CACHE_KEY_BYTES);
	return 0;
}

static size_t
slot_index(const struct token_cache *c, const char *token, size_t len)
{
	size_t tail = len < TOKEN_INDEX_TAIL ? len : TOKEN_INDEX_TAIL;
	unsigned char h[crypto_shorthash_BYTES];
	uint64_t index;

	crypto_shorthash(h, (const unsigned char *)token + len - tail, tail, c->index_key);
	memcpy(&index, h, sizeof(index));
	return (size_t)(index & c->mask);
}

/*
 * Compares in time that depends only on n, so a client cannot learn a
 * cached token byte by byte from how fast its guesses are refused.
 */
static bool
same_bytes(const char *a, const char *b, size_t n)
{
	uint64_t diff = 0, x, y;
	size_t i = 0;

	for (; i + sizeof(x) <= n; i += sizeof(x)) {
		memcpy(&x, a + i, sizeof(x));
		memcpy(&y, b + i, sizeof(y));
		diff |= x ^ y;
	}
	for (; i < n; i++)
		diff |= (uint64_t)(unsigned char)(a[i] ^ b[i]);
	return diff == 0;
}

/* The identity a slot holds, or NULL when memory ran out copying it. */
static const struct mcpd_identity *
slot_identity(const struct cached_token *e)
{
	return e->id.sub != NULL ? &e->view : NULL;
}

bool
token_cache_lookup(const struct token_cache *c, const char *token, size_t len,
    uint64_t generation, int64_t now, const struct mcpd_identity **identity)
{
	const struct cached_token *e = &c->slots[slot_index(c, token, len)];

	if (e->token == NULL || e->generation != generation || e->len != len ||
	    !same_bytes(e->token, token, len) || now >= e->exp + c->skew)
		return false;
	*identity = slot_identity(e);
	return true;
}

static void
forget(struct cached_token *e)
{
	free(e->token);
	jwt_identity_free(&e->id);
	*e = (struct cached_token){0};
}

const struct mcpd_identity *
token_cache_insert(struct token_cache *c, const char *token, size_t len,
    uint64_t generation, int64_t exp, struct jwt_identity *id)
{
	struct cached_token *e = &c->slots[slot_index(c, token, len)];
	/* A token of the same length reuses the copy already there. */
	char *copy = e->token != NULL && e->len == len ? e->token : NULL;

	if (copy == NULL) {
		forget(e);
		copy = malloc(len);
	} else {
		jwt_identity_free(&e->id);
	}
	*e = (struct cached_token){.token = copy, .len = copy != NULL ? len : 0, .exp = exp,
	    .generation = generation};
	if (copy != NULL)
		memcpy(copy, token, len);
	e->id = *id;
	*id = (struct jwt_identity){0};
	e->view = (struct mcpd_identity){.sub = e->id.sub, .username = e->id.username,
	    .client_id = e->id.client_id, .scope = e->id.scope, .expires_at = exp};
	return slot_identity(e);
}

void
token_cache_free(struct token_cache *c)
{
	for (size_t i = 0; i <= c->mask; i++)
		forget(&c->slots[i]);
}
