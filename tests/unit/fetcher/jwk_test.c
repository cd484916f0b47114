/*
 * Unit tests for fetcher/jwk.c: which keys of a JWKS are kept, which are
 * skipped and why, documents that are not a JWKS, and garbage input.
 *
 * The moduli are real keys made with `openssl genrsa`; n is their base64url
 * encoding as an issuer would publish it.
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

#include "fetcher/jwk.h"

/* openssl genrsa 2048: n starts a6c9d603, ends 62a4f2eb. */
#define N2048 "psnWA8xVcB11zLijg26HbZytrJSvKbQcpgbAfTbh2TCPgm73wyclBCB7vswDfIiECaWc-T6rrS-01Qj95n1ipkn-ScwWUdgY-_uSYTEpNmDbDqJtTtRYznEAwr_rLC9-3PAoVT3BQvm6EqR6WClOyS75OgfBtANtFnsUO47HHjH3odEZyW0tJAEL89ISbLNf14D6Bq3_vxpltoG6zIcQ9sA00j_pjeD0ZnBCbxvunSCPZFgvdAvKZjymTZ5ySt1ymgWt2IeDJtJr69RfW0XHKqESn1sqS_5uo6JNkzB2QraRJWQT_5zpR_jNhOhLYzlte235fM_H4tG_rAdnYqTy6w"
/* openssl genrsa 1024. */
#define N1024 "usx5YYnUYByasAqhoDOlFAjkNcMpbrvZJAjHlGyJgSJrMpRaJuTodB-58PPflTtRHQGxnUpBWCcj7jiYagiPSfMDin9PdoINKew9P-AoUxECMyOaqwzUGSWPtUgjXlkJVBe0QgNJ24A9XpmDpzTkIBIYuHHXYMot4h5TSgfwvnE"
/* openssl genrsa 4096: n starts c647e3ca, ends 6c1aade1. */
#define N4096 "xkfjyk7zfxcCPCx8ooyJs_oq7_PXYcUxWIWOxqwqjyzdIPT_h9OYVn4utKzTMS8e1mOkdM5rxqNWNHwv6pCkR-tOJSQ0C2F4j18eHzLoVltef6hYrBgpFJRpcYaQNEIeNNQydAPMY5joXNaeAo7tkAojLkzCpLJyvWIHlvBMCPA755MX_D-JmO4GRdM3sDc1gcAqCC2eY0tzITWlQg75LvzbpQn94RwdIxmnanyR_Uv-87-3FNjCtQDRcert5nuIBx5_XCXSPPHhZocqTmRARRKz98JjQjG7KZAi66M_hrzF5P43ywUHfLIq5MKN5JUCvHoC_zzNN9dl8R1H7kzJcnHk4QlauZH-XZSlHRNGpIx6ifKd6mHEru3Lub4-FUR0DiFeBT73A-djKCJmxG-XWEQttj2sRyTOXo1fVQaSQN5UazpL1whgNx_cOeyWM53_h-xlH49tB7zdo2czGqmWZlfTuOpSUAKRo3-D4X4EaS3z0nHVJj-kRQl-Ul36sJ6p6HCXfjpQrJMdG7d6XQfKl_yBq-dPtd_vMZW8d96Gk5L0YbsVV_f3-Yh9C-DCJomMwgN-ttaxRSYm9zZM0Tr-P7mzNjpJGqa2XNELpDgqi3b5NRIgUblrMk6UyULQwqWcJ4u69L9yqKwf_tTW66Y9juCi01N6Gl5COQ8Sq2wareE"

/* A key object with the given kid, modulus and extra members. */
#define RSA_KEY(kid, n, extra) "{\"kty\":\"RSA\",\"kid\":\"" kid "\",\"n\":\"" n "\",\"e\":\"AQAB\"" extra "}"
#define JWKS(keys) "{\"keys\":[" keys "]}"

#define MAX_SKIPS 64

struct skips {
	int count;
	char kid[MAX_SKIPS][KEYSET_KID_MAX];
	char reason[MAX_SKIPS][256];
};

static void
on_skip(void *ctx, const char *kid, const char *reason)
{
	struct skips *s = ctx;

	assert_non_null(kid);
	assert_non_null(reason);
	assert_true(strlen(reason) > 0);
	if (s->count < MAX_SKIPS) {
		(void)snprintf(s->kid[s->count], sizeof(s->kid[0]), "%s", kid);
		(void)snprintf(s->reason[s->count], sizeof(s->reason[0]), "%s", reason);
	}
	s->count++;
}

/* One parse with everything recorded; ks and skips are static (large). */
struct result {
	int ret;
	struct keyset ks;
	struct skips skips;
	char why[128];
};

static struct result res;

static int
parse_len(const char *doc, size_t len)
{
	memset(&res, 0, sizeof(res));
	res.ret = jwk_parse_set(doc, len, &res.ks, on_skip, &res.skips, res.why, sizeof(res.why));
	if (res.ret >= 0)
		assert_int_equal(res.ret, res.ks.nkeys);
	return res.ret;
}

static int
parse(const char *doc)
{
	return parse_len(doc, strlen(doc));
}

/* Asserts that `doc` keeps nothing and skips one key for `why` (a substring). */
static void
assert_skipped(const char *doc, const char *kid, const char *why)
{
	assert_int_equal(parse(doc), 0);
	assert_int_equal(res.skips.count, 1);
	assert_string_equal(res.skips.kid[0], kid);
	if (strstr(res.skips.reason[0], why) == NULL)
		fail_msg("reason \"%s\" does not mention \"%s\"", res.skips.reason[0], why);
}

static void
assert_not_jwks(const char *doc, size_t len)
{
	assert_int_equal(parse_len(doc, len), -1);
	assert_true(strlen(res.why) > 0);
	assert_int_equal(res.skips.count, 0);
}

static void
decode(const char *b64, uint8_t *out, size_t max, size_t *len)
{
	assert_int_equal(sodium_base642bin(out, max, b64, strlen(b64), NULL, len, NULL,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING), 0);
}

static void
encode(const uint8_t *bin, size_t len, char *out, size_t max)
{
	assert_non_null(sodium_bin2base64(out, max, bin, len, sodium_base64_VARIANT_URLSAFE_NO_PADDING));
}

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
		cmocka_unit_test(test_not_a_jwks),
		cmocka_unit_test(test_garbage_does_not_crash),
		cmocka_unit_test(test_deep_nesting),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
