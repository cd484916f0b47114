/*
 * Unit tests for fetcher/jwk.c, the keys of a JWKS: which are kept, which
 * are skipped and why (size, kind, kid, duplicates, base64url, exponent,
 * count).  Documents that are not a JWKS, and garbage: jwk_document_test.c.
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

/* --- keys that are kept --- */

static void
test_valid_2048_key(void **state)
{
	static const uint8_t head[] = {0xa6, 0xc9, 0xd6, 0x03}, tail[] = {0x62, 0xa4, 0xf2, 0xeb};
	static const uint8_t e65537[] = {0x01, 0x00, 0x01};
	static const char doc[] = JWKS(RSA_KEY("key-1", N2048, ",\"use\":\"sig\",\"alg\":\"RS256\""));
	struct keyset_key *k;

	(void)state;
	memset(&res, 0, sizeof(res));
	strcpy(res.ks.issuer, "https://issuer.example");
	res.ks.fetched_at = 11;
	res.ks.expires_at = 22;
	res.ret = jwk_parse_set(doc, strlen(doc), &res.ks, on_skip, &res.skips, res.why, sizeof(res.why));
	assert_int_equal(res.ret, 1);
	assert_int_equal(res.skips.count, 0);
	/* Issuer and times belong to the caller. */
	assert_string_equal(res.ks.issuer, "https://issuer.example");
	assert_int_equal(res.ks.fetched_at, 11);
	assert_int_equal(res.ks.expires_at, 22);

	k = &res.ks.keys[0];
	assert_string_equal(k->kid, "key-1");
	assert_int_equal(k->alg, KEYSET_ALG_RS256);
	assert_int_equal(k->n_len, 256);
	assert_memory_equal(k->n, head, sizeof(head));
	assert_memory_equal(k->n + 252, tail, sizeof(tail));
	assert_int_equal(k->e_len, 3);
	assert_memory_equal(k->e, e65537, sizeof(e65537));
}

static void
test_minimal_and_4096_keys(void **state)
{
	static const uint8_t head[] = {0xc6, 0x47, 0xe3, 0xca}, tail[] = {0x6c, 0x1a, 0xad, 0xe1};
	static const char other[] = JWKS(RSA_KEY("c", N2048, ",\"x5c\":[\"abc\"],\"ext\":true"));

	(void)state;
	assert_int_equal(parse(JWKS(RSA_KEY("a", N2048, "") "," RSA_KEY("b", N4096, ",\"key_ops\":[\"verify\"]"))), 2);
	assert_int_equal(res.skips.count, 0);
	assert_int_equal(res.ks.keys[0].alg, KEYSET_ALG_RS256);
	assert_int_equal(res.ks.keys[1].alg, KEYSET_ALG_RS256);
	assert_int_equal(res.ks.keys[1].n_len, 512);
	assert_memory_equal(res.ks.keys[1].n, head, sizeof(head));
	assert_memory_equal(res.ks.keys[1].n + 508, tail, sizeof(tail));
	/* Members we do not use are ignored, skip callback may be NULL. */
	assert_int_equal(jwk_parse_set(other, strlen(other), &res.ks, NULL, NULL, NULL, 0), 1);
}

static void
test_leading_zeros_are_stripped(void **state)
{
	uint8_t n[300];
	size_t len;
	char b64[500], doc[1000];

	(void)state;
	n[0] = 0;
	n[1] = 0;
	decode(N2048, n + 2, sizeof(n) - 2, &len);
	assert_int_equal(len, 256);
	encode(n, len + 2, b64, sizeof(b64));
	(void)snprintf(doc, sizeof(doc), JWKS(RSA_KEY("z", "%s", ",\"e\":\"AAAAAQAB\"")), b64);
	/* The duplicate "e" makes the key ambiguous; without it, it is kept. */
	assert_skipped(doc, "z", "\"e\" appears 2 times");
	(void)snprintf(doc, sizeof(doc), JWKS("{\"kty\":\"RSA\",\"kid\":\"z\",\"n\":\"%s\",\"e\":\"AAAAAQAB\"}"), b64);
	assert_int_equal(parse(doc), 1);
	assert_int_equal(res.ks.keys[0].n_len, 256);
	assert_int_equal(res.ks.keys[0].n[0], 0xa6);
	assert_int_equal(res.ks.keys[0].e_len, 3);
	assert_int_equal(res.ks.keys[0].e[0], 1);
}

/* --- keys that are skipped --- */

static void
test_small_modulus_skipped(void **state)
{
	uint8_t n[300];
	size_t len;
	char b64[500], doc[1000];

	(void)state;
	assert_skipped(JWKS(RSA_KEY("small", N1024, "")), "small", "1024");
	assert_skipped(JWKS(RSA_KEY("small", N1024, "")), "small", "2048");

	/* 2047 bits: the top bit of a 2048-bit modulus cleared. */
	decode(N2048, n, sizeof(n), &len);
	n[0] = 0x7f;
	encode(n, len, b64, sizeof(b64));
	(void)snprintf(doc, sizeof(doc), JWKS(RSA_KEY("k", "%s", "")), b64);
	assert_skipped(doc, "k", "2047 bits");

	/* An even modulus is no RSA key. */
	decode(N2048, n, sizeof(n), &len);
	n[len - 1] &= 0xfe;
	encode(n, len, b64, sizeof(b64));
	(void)snprintf(doc, sizeof(doc), JWKS(RSA_KEY("k", "%s", "")), b64);
	assert_skipped(doc, "k", "even");

	assert_skipped(JWKS(RSA_KEY("k", "", "")), "k", "0 bits");
	assert_skipped(JWKS(RSA_KEY("k", "AAAA", "")), "k", "0 bits");
}

static void
test_large_modulus_skipped(void **state)
{
	static char doc[4000];
	uint8_t n[1100];
	char b64[1600];

	(void)state;
	/* 1025 bytes: one more than KEYSET_MODULUS_MAX. */
	memset(n, 0xab, sizeof(n));
	encode(n, KEYSET_MODULUS_MAX + 1, b64, sizeof(b64));
	(void)snprintf(doc, sizeof(doc), JWKS(RSA_KEY("big", "%s", "")), b64);
	assert_skipped(doc, "big", "longer");
	/* Exactly KEYSET_MODULUS_MAX is kept. */
	encode(n, KEYSET_MODULUS_MAX, b64, sizeof(b64));
	(void)snprintf(doc, sizeof(doc), JWKS(RSA_KEY("big", "%s", "")), b64);
	assert_int_equal(parse(doc), 1);
	assert_int_equal(res.ks.keys[0].n_len, KEYSET_MODULUS_MAX);
}

static void
test_other_key_kinds_skipped(void **state)
{
	(void)state;
	assert_skipped(JWKS("{\"kty\":\"EC\",\"kid\":\"ec\",\"crv\":\"P-256\",\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\",\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\"}"),
	    "ec", "kty \"EC\"");
	assert_skipped(JWKS("{\"kty\":\"oct\",\"kid\":\"hmac\",\"k\":\"c2VjcmV0\",\"alg\":\"HS256\"}"), "hmac",
	    "kty \"oct\"");
	assert_skipped(JWKS(RSA_KEY("enc", N2048, ",\"use\":\"enc\"")), "enc", "use \"enc\"");
	assert_skipped(JWKS(RSA_KEY("hs", N2048, ",\"alg\":\"HS256\"")), "hs", "alg \"HS256\"");
	assert_skipped(JWKS(RSA_KEY("rs512", N2048, ",\"alg\":\"RS512\"")), "rs512", "RS512");
	assert_skipped(JWKS(RSA_KEY("none", N2048, ",\"alg\":\"none\"")), "none", "\"none\"");
	assert_skipped(JWKS(RSA_KEY("ps", N2048, ",\"alg\":\"PS256\"")), "ps", "PS256");
	assert_skipped(JWKS(RSA_KEY("num", N2048, ",\"alg\":256")), "num", "alg is not a string");
	assert_skipped(JWKS(RSA_KEY("use", N2048, ",\"use\":null")), "use", "use is not a string");
	assert_skipped(JWKS(RSA_KEY("ops", N2048, ",\"key_ops\":[\"sign\"]")), "ops", "verify");
	assert_skipped(JWKS(RSA_KEY("ops", N2048, ",\"key_ops\":\"verify\"")), "ops", "not an array");
	assert_skipped(JWKS("{\"kty\":\"rsa\",\"kid\":\"lower\",\"n\":\"" N2048 "\",\"e\":\"AQAB\"}"), "lower", "kty");
	assert_skipped(JWKS("{\"kid\":\"nokty\",\"n\":\"" N2048 "\",\"e\":\"AQAB\"}"), "nokty", "no kty");
	assert_skipped(JWKS("{\"kty\":1,\"kid\":\"k\",\"n\":\"" N2048 "\",\"e\":\"AQAB\"}"), "k", "kty is not");
	/* A long or unprintable value is not copied into the reason. */
	assert_skipped(JWKS(RSA_KEY("long", N2048, ",\"alg\":\"RS256RS256RS256RS256RS256RS256\"")), "long",
	    "(unprintable or long)");
	assert_skipped(JWKS(RSA_KEY("ctl", N2048, ",\"alg\":\"RS\\n256\"")), "ctl", "(unprintable or long)");
}

static void
test_kid_rules(void **state)
{
	char kid[200], doc[1000];

	(void)state;
	assert_skipped(JWKS("{\"kty\":\"RSA\",\"n\":\"" N2048 "\",\"e\":\"AQAB\"}"), "", "no kid");
	assert_skipped(JWKS(RSA_KEY("", N2048, "")), "", "kid of 0 bytes");
	assert_skipped(JWKS("{\"kty\":\"RSA\",\"kid\":7,\"n\":\"" N2048 "\",\"e\":\"AQAB\"}"), "", "not a string");
	assert_skipped(JWKS(RSA_KEY("a\\nb", N2048, "")), "", "printable");
	assert_skipped(JWKS(RSA_KEY("caf\\u00e9", N2048, "")), "", "printable");
	assert_skipped(JWKS(RSA_KEY("a\\u0000b", N2048, "")), "", "printable");
	assert_skipped(JWKS(RSA_KEY("a\\u007f", N2048, "")), "", "printable");

	memset(kid, 'k', 127);
	kid[127] = '\0';
	(void)snprintf(doc, sizeof(doc), JWKS(RSA_KEY("%s", N2048, "")), kid);
	assert_int_equal(parse(doc), 1);
	assert_string_equal(res.ks.keys[0].kid, kid);
	strcat(kid, "k");
	(void)snprintf(doc, sizeof(doc), JWKS(RSA_KEY("%s", N2048, "")), kid);
	assert_skipped(doc, "", "128 bytes");

	/* Escapes that decode to printable text are fine; so are spaces. */
	assert_int_equal(parse(JWKS(RSA_KEY("a\\/b \\u0041", N2048, ""))), 1);
	assert_string_equal(res.ks.keys[0].kid, "a/b A");
}

static void
test_duplicates(void **state)
{
	(void)state;
	assert_int_equal(parse(JWKS(RSA_KEY("same", N2048, "") "," RSA_KEY("same", N4096, "") "," RSA_KEY("other", N4096, ""))), 2);
	assert_int_equal(res.skips.count, 1);
	assert_string_equal(res.skips.kid[0], "same");
	assert_non_null(strstr(res.skips.reason[0], "duplicate kid"));
	assert_int_equal(res.ks.keys[0].n_len, 256);	/* the first one */
	assert_string_equal(res.ks.keys[1].kid, "other");

	/* A skipped key does not claim its kid. */
	assert_int_equal(parse(JWKS(RSA_KEY("x", N1024, "") "," RSA_KEY("x", N2048, ""))), 1);
	assert_int_equal(res.ks.keys[0].n_len, 256);

	/* Duplicate member names: cJSON would take the first, others the last. */
	assert_skipped(JWKS("{\"kty\":\"RSA\",\"kty\":\"oct\",\"kid\":\"d\",\"n\":\"" N2048 "\",\"e\":\"AQAB\"}"), "d",
	    "\"kty\" appears 2 times");
	assert_skipped(JWKS(RSA_KEY("d", N2048, ",\"n\":\"" N1024 "\"")), "d", "\"n\" appears 2 times");
	assert_skipped(JWKS(RSA_KEY("d", N2048, ",\"kid\":\"d2\"")), "", "\"kid\" appears 2 times");
}

static void
test_base64url_rules(void **state)
{
	char std[400];

	(void)state;
	assert_skipped(JWKS(RSA_KEY("pad", N2048 "==", "")), "pad", "base64url");
	assert_skipped(JWKS(RSA_KEY("pad", N2048 "=", "")), "pad", "base64url");
	assert_skipped(JWKS(RSA_KEY("junk", N2048 "!", "")), "junk", "base64url");
	assert_skipped(JWKS(RSA_KEY("space", "psnW A8xV", "")), "space", "base64url");
	/* The last character carries 4 bits that must be zero. */
	assert_skipped(JWKS(RSA_KEY("bits", "psnWA8xVcB11zLijg26HbZytrJSvKbQcpgbAfTbh2TCPgm73wyclBCB7vswDfIiECaWc-T6rrS-01Qj95n1ipkn-ScwWUdgY-_uSYTEpNmDbDqJtTtRYznEAwr_rLC9-3PAoVT3BQvm6EqR6WClOyS75OgfBtANtFnsUO47HHjH3odEZyW0tJAEL89ISbLNf14D6Bq3_vxpltoG6zIcQ9sA00j_pjeD0ZnBCbxvunSCPZFgvdAvKZjymTZ5ySt1ymgWt2IeDJtJr69RfW0XHKqESn1sqS_5uo6JNkzB2QraRJWQT_5zpR_jNhOhLYzlte235fM_H4tG_rAdnYqTy6x", "")),
	    "bits", "base64url");

	/* The standard alphabet (+ and /) is not base64url. */
	strcpy(std, N2048);
	for (char *p = std; *p != '\0'; p++)
		*p = *p == '-' ? '+' : *p == '_' ? '/' : *p;
	assert_string_not_equal(std, N2048);
	{
		char doc[1000];

		(void)snprintf(doc, sizeof(doc), JWKS(RSA_KEY("std", "%s", "")), std);
		assert_skipped(doc, "std", "base64url");
	}

	assert_skipped(JWKS("{\"kty\":\"RSA\",\"kid\":\"k\",\"e\":\"AQAB\"}"), "k", "no n");
	assert_skipped(JWKS("{\"kty\":\"RSA\",\"kid\":\"k\",\"n\":\"" N2048 "\"}"), "k", "no e");
	assert_skipped(JWKS("{\"kty\":\"RSA\",\"kid\":\"k\",\"n\":[],\"e\":\"AQAB\"}"), "k", "n is not a string");
}

/*
 * libsodium 1.0.18's decoder took every byte from 0x80 up for '_': a key
 * with é (two such bytes) where its text has "__" would pass as that key.
 */
static void
test_base64url_high_bytes(void **state)
{
	uint8_t n[300];
	size_t len;
	char b64[500], doc[1000], *under;

	(void)state;
	/* Bytes 3..5 all ones: characters 4..7 are "____". */
	decode(N2048, n, sizeof(n), &len);
	memset(n + 3, 0xff, 3);
	encode(n, len, b64, sizeof(b64));
	under = strstr(b64, "____");
	assert_ptr_equal(under, b64 + 4);
	(void)snprintf(doc, sizeof(doc), JWKS(RSA_KEY("k", "%s", "")), b64);
	assert_int_equal(parse(doc), 1);
	/* As a raw UTF-8 é, and as the escape \u00e9 that decodes to it. */
	(void)snprintf(doc, sizeof(doc), JWKS(RSA_KEY("k", "%.4s\xc3\xa9__%s", "")), b64, under + 4);
	assert_skipped(doc, "k", "n is not unpadded base64url");
	(void)snprintf(doc, sizeof(doc), JWKS(RSA_KEY("k", "%.4s\\u00e9__%s", "")), b64, under + 4);
	assert_skipped(doc, "k", "n is not unpadded base64url");

	/* The same in e: "_____w" is 2^32 - 1. */
#define WITH_E(e) JWKS("{\"kty\":\"RSA\",\"kid\":\"k\",\"n\":\"" N2048 "\",\"e\":\"" e "\"}")
	assert_int_equal(parse(WITH_E("_____w")), 1);
	assert_skipped(WITH_E("\\u00e9\\u00e9_w"), "k", "e is not unpadded base64url");
	assert_skipped(WITH_E("\xc3\xa9\xc3\xa9_w"), "k", "e is not unpadded base64url");
	/* And set bits left over in e's last character: 3 is "Aw", not "Ax". */
	assert_skipped(WITH_E("Ax"), "k", "e is not unpadded base64url");
	/* An escaped NUL must not cut the text short: "AQAB\u0000zz" is not "AQAB". */
	assert_int_equal(parse(WITH_E("AQAB")), 1);
	assert_skipped(WITH_E("AQAB\\u0000zz"), "k", "e is not unpadded base64url");
#undef WITH_E
}

static void
test_exponent_rules(void **state)
{
	(void)state;
#define WITH_E(e) JWKS("{\"kty\":\"RSA\",\"kid\":\"k\",\"n\":\"" N2048 "\",\"e\":\"" e "\"}")
	assert_int_equal(parse(WITH_E("Aw")), 1);		/* 3 */
	assert_int_equal(res.ks.keys[0].e_len, 1);
	assert_int_equal(parse(WITH_E("_____w")), 1);	/* 2^32 - 1 */
	assert_int_equal(res.ks.keys[0].e_len, 4);
	assert_int_equal(parse(WITH_E("AAAAAAAAAAAAAQAB")), 1);	/* 9 leading zero bytes */
	assert_int_equal(res.ks.keys[0].e_len, 3);
	assert_skipped(WITH_E("AQ"), "k", "exponent");		/* 1 */
	assert_skipped(WITH_E("AA"), "k", "exponent");		/* 0 */
	assert_skipped(WITH_E(""), "k", "exponent");
	assert_skipped(WITH_E("AQAA"), "k", "exponent");	/* 65536: even */
	assert_skipped(WITH_E("AQAAAAE"), "k", "longer than 4");	/* 2^32 + 1 */
	assert_skipped(WITH_E("AAAAAAAAAAAAAAAAAAAAAQAB"), "k", "longer");
	assert_skipped(JWKS("{\"kty\":\"RSA\",\"kid\":\"k\",\"n\":\"" N2048 "\",\"e\":65537}"), "k", "e is not a string");
#undef WITH_E
}

static void
test_seventeen_keys_keep_sixteen(void **state)
{
	static char doc[20000];
	size_t off;

	(void)state;
	off = (size_t)snprintf(doc, sizeof(doc), "{\"keys\":[");
	for (int i = 0; i < KEYSET_MAX_KEYS + 1; i++)
		off += (size_t)snprintf(doc + off, sizeof(doc) - off, "%s" RSA_KEY("k%d", N2048, ""),
		    i > 0 ? "," : "", i);
	(void)snprintf(doc + off, sizeof(doc) - off, "]}");
	assert_true(strlen(doc) < sizeof(doc) - 1);

	assert_int_equal(parse(doc), KEYSET_MAX_KEYS);
	assert_int_equal(res.skips.count, 1);
	assert_string_equal(res.skips.kid[0], "k16");
	assert_non_null(strstr(res.skips.reason[0], "16"));
	for (int i = 0; i < KEYSET_MAX_KEYS; i++) {
		char kid[8];

		(void)snprintf(kid, sizeof(kid), "k%d", i);
		assert_string_equal(res.ks.keys[i].kid, kid);
	}
}

static void
test_non_object_elements_skipped(void **state)
{
	(void)state;
	assert_int_equal(parse(JWKS("1,\"x\",null,[],true,{}," RSA_KEY("ok", N2048, ""))), 1);
	assert_int_equal(res.skips.count, 6);
	for (int i = 0; i < 5; i++) {
		assert_string_equal(res.skips.kid[i], "");
		assert_string_equal(res.skips.reason[i], "not a JSON object");
	}
	assert_string_equal(res.skips.reason[5], "no kid");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_2048_key),
		cmocka_unit_test(test_minimal_and_4096_keys),
		cmocka_unit_test(test_leading_zeros_are_stripped),
		cmocka_unit_test(test_small_modulus_skipped),
		cmocka_unit_test(test_large_modulus_skipped),
		cmocka_unit_test(test_other_key_kinds_skipped),
		cmocka_unit_test(test_kid_rules),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_base64url_rules),
		cmocka_unit_test(test_base64url_high_bytes),
		cmocka_unit_test(test_exponent_rules),
		cmocka_unit_test(test_seventeen_keys_keep_sixteen),
		cmocka_unit_test(test_non_object_elements_skipped),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
