/*
 * jwk_fixture: what the jwk tests share: real RSA moduli as an issuer
 * publishes them, key and JWKS literals, and one jwk_parse_set with every
 * kept key, skipped key and reason recorded.  Include it after <cmocka.h>.
 *
 * The moduli are real keys made with `openssl genrsa`; n is their base64url
 * encoding as an issuer would publish it.
 */
#ifndef MCPD_TESTS_UNIT_FETCHER_JWK_FIXTURE_H
#define MCPD_TESTS_UNIT_FETCHER_JWK_FIXTURE_H

#include <stdio.h>
#include <string.h>

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

static inline void
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

static inline int
parse_len(const char *doc, size_t len)
{
	memset(&res, 0, sizeof(res));
	res.ret = jwk_parse_set(doc, len, &res.ks, on_skip, &res.skips, res.why, sizeof(res.why));
	if (res.ret >= 0)
		assert_int_equal(res.ret, res.ks.nkeys);
	return res.ret;
}

static inline int
parse(const char *doc)
{
	return parse_len(doc, strlen(doc));
}

/* Asserts that `doc` keeps nothing and skips one key for `why` (a substring). */
static inline void
assert_skipped(const char *doc, const char *kid, const char *why)
{
	assert_int_equal(parse(doc), 0);
	assert_int_equal(res.skips.count, 1);
	assert_string_equal(res.skips.kid[0], kid);
	if (strstr(res.skips.reason[0], why) == NULL)
		fail_msg("reason \"%s\" does not mention \"%s\"", res.skips.reason[0], why);
}

static inline void
assert_not_jwks(const char *doc, size_t len)
{
	assert_int_equal(parse_len(doc, len), -1);
	assert_true(strlen(res.why) > 0);
	assert_int_equal(res.skips.count, 0);
}

static inline void
decode(const char *b64, uint8_t *out, size_t max, size_t *len)
{
	assert_int_equal(sodium_base642bin(out, max, b64, strlen(b64), NULL, len, NULL,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING), 0);
}

static inline void
encode(const uint8_t *bin, size_t len, char *out, size_t max)
{
	assert_non_null(sodium_bin2base64(out, max, bin, len, sodium_base64_VARIANT_URLSAFE_NO_PADDING));
}

#endif
