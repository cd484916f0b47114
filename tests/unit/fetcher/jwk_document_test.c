/*
 * Unit tests for fetcher/jwk.c, the document: what is not a JWKS is
 * refused whole with a reason, and garbage input or deep nesting neither
 * crashes the parser nor yields a key that breaks the set's rules.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "tests/unit/fetcher/jwk_fixture.h"

/* --- documents that are not a JWKS --- */

static void
test_not_a_jwks(void **state)
{
	static const char bad_utf8[] = "{\"keys\":[],\"x\":\"\xff\"}";
	static const char with_nul[] = "{\"keys\":[]}\0junk";
	char *big;

	(void)state;
	assert_not_jwks("not json", 8);
	assert_not_jwks("", 0);
	assert_not_jwks("{}", 2);
	assert_not_jwks("[]", 2);
	assert_not_jwks("null", 4);
	assert_not_jwks("{\"keys\":{}}", 11);
	assert_not_jwks("{\"keys\":\"x\"}", 12);
	assert_not_jwks("{\"Keys\":[]}", 11);
	assert_not_jwks("{\"keys\":[],\"keys\":[]}", 21);
	assert_not_jwks("{\"keys\":[]} x", 13);
	assert_not_jwks("{\"keys\":[", 9);
	assert_not_jwks(bad_utf8, sizeof(bad_utf8) - 1);
	assert_not_jwks(with_nul, sizeof(with_nul) - 1);
	assert_not_jwks(NULL, 10);
	assert_int_equal(jwk_parse_set("nope", 4, &res.ks, NULL, NULL, NULL, 0), -1);

	assert_int_equal(parse("{\"keys\":[]}"), 0);
	assert_int_equal(parse(" {\"other\":1, \"keys\": [ ] } \n"), 0);

	/* 64 KiB is the most accepted, valid JSON or not. */
	big = malloc(65537);
	assert_non_null(big);
	memset(big, ' ', 65537);
	memcpy(big, "{\"keys\":[]}", 11);
	assert_int_equal(parse_len(big, 65536), 0);
	assert_not_jwks(big, 65537);
	assert_non_null(strstr(res.why, "64 KiB"));
	free(big);
}

/* --- garbage --- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint32_t
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 16);
}

/* Whatever the input, the result is -1 or a set of well-formed keys. */
static void
assert_sane(const char *doc, size_t len)
{
	int ret = parse_len(doc, len);

	assert_true(ret >= -1 && ret <= KEYSET_MAX_KEYS);
	for (int i = 0; i < ret; i++) {
		const struct keyset_key *k = &res.ks.keys[i];
		size_t klen = strnlen(k->kid, sizeof(k->kid));

		assert_true(klen > 0 && klen < sizeof(k->kid));
		assert_int_equal(k->alg, KEYSET_ALG_RS256);
		assert_true(k->n_len >= 256 && k->n_len <= KEYSET_MODULUS_MAX);
		assert_true(k->e_len >= 1 && k->e_len <= 4);
		assert_int_not_equal(k->n[0], 0);
	}
}

static void
test_garbage_does_not_crash(void **state)
{
	static const char seed[] = JWKS(RSA_KEY("a", N2048, ",\"use\":\"sig\"") "," RSA_KEY("b", N1024, "") ","
	    "{\"kty\":\"EC\",\"kid\":\"c\",\"x\":\"AQAB\"}," RSA_KEY("d\\u0041", N4096, ",\"key_ops\":[\"verify\"]"));
	static const char special[] = "{}[]\",:\\0u -_=AQ\x00\xff\xc3";
	char *buf = malloc(sizeof(seed));
	unsigned long kept = 0, rejected = 0;

	(void)state;
	assert_non_null(buf);
	/* Every prefix. */
	for (size_t len = 0; len < sizeof(seed); len++) {
		memcpy(buf, seed, len);
		assert_sane(buf, len);
	}
	/* Random mutations of the seed. */
	for (int i = 0; i < 4000; i++) {
		size_t len = sizeof(seed) - 1;
		int edits = 1 + (int)(rng() % 8);

		memcpy(buf, seed, len);
		for (int j = 0; j < edits; j++) {
			size_t at = rng() % len;

			buf[at] = rng() % 2 ? (char)rng() : special[rng() % (sizeof(special) - 1)];
		}
		if (rng() % 4 == 0)
			len = rng() % (len + 1);
		assert_sane(buf, len);
		if (res.ret > 0)
			kept++;
		else if (res.ret < 0)
			rejected++;
	}
	/* Random bytes and JSON-ish tokens. */
	for (int i = 0; i < 2000; i++) {
		size_t len = rng() % 512;

		for (size_t j = 0; j < len; j++)
			buf[j] = i % 2 ? (char)rng() : special[rng() % (sizeof(special) - 1)];
		assert_sane(buf, len);
	}
	print_message("jwk garbage test: %lu mutated documents kept keys, %lu were not a JWKS\n", kept, rejected);
	free(buf);
}

/* Deep nesting is refused by the parser, not by the stack. */
static void
test_deep_nesting(void **state)
{
	static char doc[60000];
	size_t n = 20000;

	(void)state;
	memcpy(doc, "{\"keys\":[", 9);
	memset(doc + 9, '[', n);
	memset(doc + 9 + n, ']', n);
	memcpy(doc + 9 + 2 * n, "]}", 2);
	assert_not_jwks(doc, 9 + 2 * n + 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_not_a_jwks),
		cmocka_unit_test(test_garbage_does_not_crash),
		cmocka_unit_test(test_deep_nesting),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
