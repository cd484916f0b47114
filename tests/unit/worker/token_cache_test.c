/*
 * Unit tests for worker/token_cache.c: hits and misses, expiry with the
 * clock skew, whole-token matching, replacement, and freeing (the ASan build
 * reports any leak at exit).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "worker/token_cache.h"

#define SKEW 60
#define GEN 7		/* the key-set generation tokens are verified under */
#define NOW 1700000000	/* unix seconds */
#define EXP (NOW + 3600)

static const unsigned char key[TOKEN_CACHE_KEY_BYTES] = {
	0x6d, 0x63, 0x70, 0x64, 0x2d, 0x74, 0x65, 0x73, 0x74, 0x2d, 0x6b, 0x65, 0x79, 0x2d, 0x30, 0x31,
};

static struct token_cache cache;
static const struct mcpd_identity untouched;	/* what a miss must leave in place */

static int
setup(void **state)
{
	(void)state;
	return token_cache_init(&cache, key, TOKEN_CACHE_SLOTS, SKEW);
}

static int
teardown(void **state)
{
	(void)state;
	token_cache_free(&cache);
	return 0;
}

/* Claims as jwt_verify copies them out: malloc'd strings. */
static struct jwt_identity
claims(const char *sub)
{
	struct jwt_identity id = {.sub = strdup(sub), .username = strdup("alice"),
	    .client_id = strdup("client-1"), .scope = strdup("mcp.read mcp.write")};

	assert_non_null(id.sub);
	assert_non_null(id.username);
	assert_non_null(id.client_id);
	assert_non_null(id.scope);
	return id;
}

/* A JWT-shaped token whose signature part ends with `tail` (TOKEN_INDEX_TAIL bytes). */
static const char *
token(char *buf, size_t size, const char *payload, const char *tail)
{
	int n = snprintf(buf, size, "eyJhbGciOiJSUzI1NiJ9.%s.c2lnbmF0dXJl%s", payload, tail);

	assert_true(n > 0 && (size_t)n < size);
	assert_int_equal(strlen(tail), TOKEN_INDEX_TAIL);
	return buf;
}

static const struct mcpd_identity *
insert(const char *t, int64_t exp, const char *sub)
{
	struct jwt_identity id = claims(sub);

	return token_cache_insert(&cache, t, strlen(t), GEN, exp, &id);
}

static bool
hit(const char *t, int64_t now)
{
	const struct mcpd_identity *identity = NULL;

	return token_cache_lookup(&cache, t, strlen(t), GEN, now, &identity);
}

#define TAIL_A "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
#define TAIL_B "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"

static void
init_takes_a_power_of_two_up_to_the_maximum(void **state)
{
	static const size_t bad[] = {0, 3, 1000, 2 * TOKEN_CACHE_SLOTS};
	static const size_t good[] = {1, 2, 64, TOKEN_CACHE_SLOTS};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errno = 0;
		assert_int_equal(token_cache_init(&cache, key, bad[i], SKEW), -1);
		assert_int_equal(errno, EINVAL);
	}
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_int_equal(token_cache_init(&cache, key, good[i], SKEW), 0);
}

static void
a_verified_token_hits_with_its_claims(void **state)
{
	const struct mcpd_identity *inserted, *found = NULL;
	char t[128];

	(void)state;
	token(t, sizeof(t), "eyJzdWIiOiJ1MSJ9", TAIL_A);
	assert_false(hit(t, NOW));
	inserted = insert(t, EXP, "user-1");
	assert_non_null(inserted);
	assert_string_equal(inserted->sub, "user-1");
	assert_string_equal(inserted->username, "alice");
	assert_string_equal(inserted->client_id, "client-1");
	assert_string_equal(inserted->scope, "mcp.read mcp.write");
	assert_int_equal(inserted->expires_at, EXP);
	assert_true(token_cache_lookup(&cache, t, strlen(t), GEN, NOW, &found));
	assert_ptr_equal(found, inserted);	/* the entry's own view: nothing copied */
}

static void
an_unknown_token_misses_and_leaves_the_identity_alone(void **state)
{
	const struct mcpd_identity *found = &untouched;
	char t[128], other[128];

	(void)state;
	insert(token(t, sizeof(t), "eyJzdWIiOiJ1MSJ9", TAIL_A), EXP, "user-1");
	token(other, sizeof(other), "eyJzdWIiOiJ1MiJ9", TAIL_B);
	assert_false(token_cache_lookup(&cache, other, strlen(other), GEN, NOW, &found));
	assert_ptr_equal(found, &untouched);
}

/* Insert takes the claims: the caller's copy is emptied, so it cannot free them twice. */
static void
insert_takes_ownership_of_the_claims(void **state)
{
	struct jwt_identity id = claims("user-1");
	char t[128];

	(void)state;
	token(t, sizeof(t), "eyJzdWIiOiJ1MSJ9", TAIL_A);
	assert_non_null(token_cache_insert(&cache, t, strlen(t), GEN, EXP, &id));
	assert_null(id.sub);
	assert_null(id.username);
	assert_null(id.client_id);
	assert_null(id.scope);
}

/* jwt_verify refuses a token once now >= exp + skew; the cache stops vouching at the same second. */
static void
expiry_is_exp_plus_the_skew(void **state)
{
	char t[128];

	(void)state;
	insert(token(t, sizeof(t), "eyJzdWIiOiJ1MSJ9", TAIL_A), EXP, "user-1");
	assert_true(hit(t, EXP - 1));
	assert_true(hit(t, EXP));
	assert_true(hit(t, EXP + SKEW - 1));
	assert_false(hit(t, EXP + SKEW));
	assert_false(hit(t, EXP + SKEW + 1));
}

static void
without_skew_a_token_expires_at_exp(void **state)
{
	char t[128];

	(void)state;
	assert_int_equal(token_cache_init(&cache, key, TOKEN_CACHE_SLOTS, 0), 0);
	insert(token(t, sizeof(t), "eyJzdWIiOiJ1MSJ9", TAIL_A), EXP, "user-1");
	assert_true(hit(t, EXP - 1));
	assert_false(hit(t, EXP));
}

/* New signing keys: a token is checked again under them before it is trusted. */
static void
an_entry_counts_only_for_its_key_set_generation(void **state)
{
	const struct mcpd_identity *found;
	struct jwt_identity id;
	char t[128];

	(void)state;
	insert(token(t, sizeof(t), "eyJzdWIiOiJ1MSJ9", TAIL_A), EXP, "user-1");
	assert_false(token_cache_lookup(&cache, t, strlen(t), GEN + 1, NOW, &found));
	assert_false(token_cache_lookup(&cache, t, strlen(t), GEN - 1, NOW, &found));
	id = claims("user-1");
	token_cache_insert(&cache, t, strlen(t), GEN + 1, EXP, &id);
	assert_true(token_cache_lookup(&cache, t, strlen(t), GEN + 1, NOW, &found));
	assert_false(hit(t, NOW));
}

/*
 * The tail picks the slot but never decides a hit: a token that ends like a
 * cached one, of the same length or not, is a miss, and being in the same
 * slot it replaces the older one once verified itself.
 */
static void
a_different_token_with_the_same_tail_misses(void **state)
{
	char t[128], same_len[128], longer[128], shorter[128];

	(void)state;
	token(t, sizeof(t), "eyJzdWIiOiJ1MSJ9", TAIL_A);
	token(same_len, sizeof(same_len), "eyJzdWIiOiJ1MiJ9", TAIL_A);
	token(longer, sizeof(longer), "eyJzdWIiOiJ1MTAifQ", TAIL_A);
	token(shorter, sizeof(shorter), "eyJzdWIiOiJ1In0", TAIL_A);
	assert_int_equal(strlen(same_len), strlen(t));
	insert(t, EXP, "user-1");
	assert_false(hit(same_len, NOW));
	assert_false(hit(longer, NOW));
	assert_false(hit(shorter, NOW));
	assert_true(hit(t, NOW));
	assert_string_equal(insert(same_len, EXP, "user-2")->sub, "user-2");
	assert_false(hit(t, NOW));
	assert_true(hit(same_len, NOW));
	insert(longer, EXP, "user-10");
	assert_false(hit(same_len, NOW));
	assert_true(hit(longer, NOW));
}

/* Every byte counts, the ones past the last whole 8-byte word included, and so does the length. */
static void
a_token_differing_in_any_one_byte_or_its_length_misses(void **state)
{
	const struct mcpd_identity *found;
	char t[128], guess[128];
	size_t len;

	(void)state;
	assert_int_equal(token_cache_init(&cache, key, 1, SKEW), 0);	/* every token in one slot */
	token(t, sizeof(t), "eyJzdWIiOiJ1MSJ9x", TAIL_A);
	len = strlen(t);
	assert_int_not_equal(len % 8, 0);
	insert(t, EXP, "user-1");
	for (size_t i = 0; i < len; i++) {
		memcpy(guess, t, len + 1);
		guess[i] ^= 0x01;
		assert_false(hit(guess, NOW));
	}
	/* Its prefixes, and the token with one more byte. */
	for (size_t n = 1; n < len; n++)
		assert_false(token_cache_lookup(&cache, t, n, GEN, NOW, &found));
	memcpy(guess, t, len);
	memcpy(guess + len, "A", 2);
	assert_false(hit(guess, NOW));
	assert_true(hit(t, NOW));
}

static void
short_tokens_use_what_they_have_as_the_tail(void **state)
{
	(void)state;
	insert("abc", EXP, "user-1");
	insert("x", EXP, "user-0");
	assert_true(hit("abc", NOW));
	assert_true(hit("x", NOW));
	assert_false(hit("abd", NOW));
	assert_false(hit("ab", NOW));
	assert_false(hit("y", NOW));
}

/* A full cache holds exactly its capacity; each new token replaces the one in its slot. */
static void
a_full_cache_replaces_and_never_holds_more_than_its_capacity(void **state)
{
	enum { CAPACITY = 4, TOKENS = 64 };
	char t[TOKENS][128], tail[TOKEN_INDEX_TAIL + 1];
	int hits = 0;

	(void)state;
	assert_int_equal(token_cache_init(&cache, key, CAPACITY, SKEW), 0);
	for (int i = 0; i < TOKENS; i++) {
		snprintf(tail, sizeof(tail), "%032d", i);
		insert(token(t[i], sizeof(t[i]), "eyJzdWIiOiJ1MSJ9", tail), EXP, "user");
		assert_true(hit(t[i], NOW));	/* the newest is always kept */
	}
	for (int i = 0; i < TOKENS; i++)
		hits += hit(t[i], NOW);
	assert_int_equal(hits, CAPACITY);
}

static void
one_slot_keeps_only_the_newest(void **state)
{
	char a[128], b[128];

	(void)state;
	assert_int_equal(token_cache_init(&cache, key, 1, SKEW), 0);
	insert(token(a, sizeof(a), "eyJzdWIiOiJ1MSJ9", TAIL_A), EXP, "user-1");
	insert(token(b, sizeof(b), "eyJzdWIiOiJ1MiJ9", TAIL_B), EXP, "user-2");
	assert_false(hit(a, NOW));
	assert_true(hit(b, NOW));
}

/* A valid token whose claims could not be copied still passes, without an identity. */
static void
a_token_without_claims_hits_with_no_identity(void **state)
{
	struct jwt_identity none = {0};
	const struct mcpd_identity *found = &untouched;
	char t[128];

	(void)state;
	token(t, sizeof(t), "eyJzdWIiOiJ1MSJ9", TAIL_A);
	assert_null(token_cache_insert(&cache, t, strlen(t), GEN, EXP, &none));
	assert_true(token_cache_lookup(&cache, t, strlen(t), GEN, NOW, &found));
	assert_null(found);
}

/* Entries replaced and the cache freed (ASan reports a leak of either at exit). */
static void
free_empties_the_cache(void **state)
{
	char t[TOKEN_CACHE_SLOTS / 4][128], tail[TOKEN_INDEX_TAIL + 1];
	size_t n = sizeof(t) / sizeof(t[0]);

	(void)state;
	for (size_t i = 0; i < n; i++) {
		snprintf(tail, sizeof(tail), "%032zu", i);
		insert(token(t[i], sizeof(t[i]), "eyJzdWIiOiJ1MSJ9", tail), EXP, "user");
		/* Verified again: the entry keeps its copy, its claims are replaced. */
		insert(t[i], EXP + 1, "user-again");
	}
	assert_true(hit(t[n - 1], EXP + SKEW));	/* the second exp counts */
	token_cache_free(&cache);
	for (size_t i = 0; i < n; i++)
		assert_false(hit(t[i], NOW));
	/* Still usable, and a second free is harmless. */
	insert(t[0], EXP, "user");
	assert_true(hit(t[0], NOW));
	token_cache_free(&cache);
	token_cache_free(&cache);
	assert_false(hit(t[0], NOW));
}

static void
free_empties_a_one_slot_cache(void **state)
{
	(void)state;
	assert_int_equal(token_cache_init(&cache, key, 1, SKEW), 0);
	insert("abc", EXP, "user-1");
	token_cache_free(&cache);
	assert_false(hit("abc", NOW));
}

/* Init on a used cache forgets what it held (and frees it). */
static void
init_again_empties_the_cache(void **state)
{
	char t[128];

	(void)state;
	insert(token(t, sizeof(t), "eyJzdWIiOiJ1MSJ9", TAIL_A), EXP, "user-1");
	assert_int_equal(token_cache_init(&cache, key, TOKEN_CACHE_SLOTS, SKEW), 0);
	assert_false(hit(t, NOW));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(init_takes_a_power_of_two_up_to_the_maximum, setup, teardown),
		cmocka_unit_test_setup_teardown(a_verified_token_hits_with_its_claims, setup, teardown),
		cmocka_unit_test_setup_teardown(an_unknown_token_misses_and_leaves_the_identity_alone, setup, teardown),
		cmocka_unit_test_setup_teardown(insert_takes_ownership_of_the_claims, setup, teardown),
		cmocka_unit_test_setup_teardown(expiry_is_exp_plus_the_skew, setup, teardown),
		cmocka_unit_test_setup_teardown(without_skew_a_token_expires_at_exp, setup, teardown),
		cmocka_unit_test_setup_teardown(an_entry_counts_only_for_its_key_set_generation, setup, teardown),
		cmocka_unit_test_setup_teardown(a_different_token_with_the_same_tail_misses, setup, teardown),
		cmocka_unit_test_setup_teardown(a_token_differing_in_any_one_byte_or_its_length_misses, setup, teardown),
		cmocka_unit_test_setup_teardown(short_tokens_use_what_they_have_as_the_tail, setup, teardown),
		cmocka_unit_test_setup_teardown(a_full_cache_replaces_and_never_holds_more_than_its_capacity, setup, teardown),
		cmocka_unit_test_setup_teardown(one_slot_keeps_only_the_newest, setup, teardown),
		cmocka_unit_test_setup_teardown(a_token_without_claims_hits_with_no_identity, setup, teardown),
		cmocka_unit_test_setup_teardown(free_empties_the_cache, setup, teardown),
		cmocka_unit_test_setup_teardown(free_empties_a_one_slot_cache, setup, teardown),
		cmocka_unit_test_setup_teardown(init_again_empties_the_cache, setup, teardown),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
