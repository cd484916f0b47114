/*
 * Unit tests for worker/jwt.c, verifying tokens: signature, pinned
 * algorithm, claims, and that the strict base64url decoder is the one in
 * use (the decoder itself: tests/unit/common/base64_test.c).  Every test
 * runs twice: once with the key as a caller that never calls
 * jwt_key_prepare leaves it, once prepared.  Preparing keys:
 * jwt_key_test.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "tests/unit/worker/jwt_fixture.h"

static void
test_valid_access_token(void **state)
{
	struct jwt_result r;

	(void)state;
	r = verify(signed_token(ACCESS("")));
	assert_int_equal(r.status, JWT_VALID);
	assert_int_equal(r.exp, 1800000600);
}

static void
test_identity_of_a_valid_token(void **state)
{
	const char *token = signed_token(ACCESS(",\"sub\":\"u-1\",\"username\":\"alice\""));
	struct jwt_result r;

	(void)state;
	jwt_verify(token, strlen(token), lookup, NULL, &rules, NOW, &r);
	assert_int_equal(r.status, JWT_VALID);
	assert_string_equal(r.identity.sub, "u-1");
	assert_string_equal(r.identity.username, "alice");
	assert_string_equal(r.identity.client_id, "c1");
	assert_string_equal(r.identity.scope, "mcp/tools openid");
	jwt_identity_free(&r.identity);
	assert_null(r.identity.sub);
	/* Absent claims read as empty; a refused token carries no identity. */
	token = signed_token("{\"iss\":\"" ISSUER "\",\"exp\":1800000600,\"token_use\":\"access\",\"client_id\":\"c1\"}");
	jwt_verify(token, strlen(token), lookup, NULL, &rules, NOW, &r);
	assert_int_equal(r.status, JWT_VALID);
	assert_string_equal(r.identity.sub, "");
	assert_string_equal(r.identity.scope, "");
	jwt_identity_free(&r.identity);
	token = signed_token("{\"iss\":\"elsewhere\",\"exp\":1800000600,\"token_use\":\"access\",\"client_id\":\"c1\",\"sub\":\"x\"}");
	jwt_verify(token, strlen(token), lookup, NULL, &rules, NOW, &r);
	assert_int_equal(r.status, JWT_INVALID);
	assert_null(r.identity.sub);
}

static void
test_alg_none_and_hs256_with_public_pem_are_refused(void **state)
{
	unsigned char *pem = NULL;
	BIO *bio = BIO_new(BIO_s_mem());
	long n;

	(void)state;
	expect(make_token("{\"alg\":\"none\",\"kid\":\"k1\"}", ACCESS(""), NULL, NULL, 0), JWT_INVALID, NULL);
	/* The classic confusion: HMAC keyed with the RSA public key's PEM. */
	assert_int_equal(PEM_write_bio_PUBKEY(bio, signing_key), 1);
	n = BIO_get_mem_data(bio, (char **)&pem);
	expect(make_token("{\"alg\":\"HS256\",\"kid\":\"k1\"}", ACCESS(""), NULL, pem, (size_t)n),
	    JWT_INVALID, "algorithm not allowed");
	BIO_free(bio);
	expect(make_token("{\"alg\":\"rs256\",\"kid\":\"k1\"}", ACCESS(""), signing_key, NULL, 0),
	    JWT_INVALID, "algorithm not allowed");
	expect(make_token("{\"alg\":\"RS512\",\"kid\":\"k1\"}", ACCESS(""), signing_key, NULL, 0),
	    JWT_INVALID, "algorithm not allowed");
}

static void
test_signature_must_match(void **state)
{
	char original[16384], tampered[16384];
	size_t n;

	(void)state;
	expect(make_token("{\"alg\":\"RS256\",\"kid\":\"k1\"}", ACCESS(""), other_key, NULL, 0),
	    JWT_INVALID, "signature");
	strcpy(original, signed_token(ACCESS("")));
	/* One flipped signature character. */
	strcpy(tampered, original);
	n = strlen(tampered);
	tampered[n - 5] = tampered[n - 5] == 'A' ? 'B' : 'A';
	expect(tampered, JWT_INVALID, NULL);
	/* Other claims under the original signature. */
	strcpy(tampered, signed_token(ACCESS(",\"x\":1")));
	strcpy(strrchr(tampered, '.'), strrchr(original, '.'));
	expect(tampered, JWT_INVALID, "signature");
}

static void
test_unknown_kid(void **state)
{
	(void)state;
	expect(make_token("{\"alg\":\"RS256\",\"kid\":\"k9\"}", ACCESS(""), signing_key, NULL, 0),
	    JWT_UNKNOWN_KID, NULL);
	expect(make_token("{\"alg\":\"RS256\"}", ACCESS(""), signing_key, NULL, 0), JWT_INVALID, "kid");
}

static void
test_header_rules(void **state)
{
	(void)state;
	expect(make_token("{\"alg\":\"RS256\",\"kid\":\"k1\",\"crit\":[\"b64\"]}", ACCESS(""), signing_key, NULL, 0),
	    JWT_INVALID, "crit");
	expect(make_token("{\"alg\":\"RS256\",\"kid\":\"k1\",\"alg\":\"none\"}", ACCESS(""), signing_key, NULL, 0),
	    JWT_INVALID, "malformed");
	expect(make_token("{\"alg\":\"RS256\",\"kid\":\"k1\",\"typ\":\"at+jwt\"}", ACCESS(""), signing_key, NULL, 0),
	    JWT_VALID, NULL);
	expect(make_token("{\"alg\":\"RS256\",\"kid\":\"k1\",\"typ\":\"JOSE+JSON\"}", ACCESS(""), signing_key, NULL, 0),
	    JWT_INVALID, "type");
	/* jku/x5u/jwk are ignored: the key still comes from our table. */
	expect(make_token("{\"alg\":\"RS256\",\"kid\":\"k1\",\"jku\":\"http://evil/jwks\"}", ACCESS(""),
	    other_key, NULL, 0), JWT_INVALID, "signature");
}

static void
test_malformed_shapes(void **state)
{
	char big[JWT_MAX_LEN + 2];

	(void)state;
	expect("abc", JWT_INVALID, "three");
	expect("a.b", JWT_INVALID, "three");
	expect("a.b.c.d", JWT_INVALID, "three");
	expect("..", JWT_INVALID, "three");
	expect("eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0=.e30.AA", JWT_INVALID, "header");
	expect("eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.e30.A+A", JWT_INVALID, "signature");
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	expect(big, JWT_INVALID, "too large");
}

static void
test_times_with_skew(void **state)
{
	(void)state;
	expect(signed_token("{\"iss\":\"" ISSUER "\",\"exp\":1799999000,\"token_use\":\"access\",\"client_id\":\"c1\"}"),
	    JWT_INVALID, "expired");
	expect(signed_token("{\"iss\":\"" ISSUER "\",\"exp\":1799999970,\"token_use\":\"access\",\"client_id\":\"c1\"}"),
	    JWT_VALID, NULL);
	expect(signed_token("{\"iss\":\"" ISSUER "\",\"token_use\":\"access\",\"client_id\":\"c1\"}"),
	    JWT_INVALID, "exp");
	expect(signed_token(ACCESS(",\"nbf\":1800000100")), JWT_INVALID, "not yet valid");
	expect(signed_token(ACCESS(",\"nbf\":1800000030")), JWT_VALID, NULL);
	expect(signed_token("{\"iss\":\"" ISSUER "\",\"exp\":1800000600,\"iat\":1800000500,"
	    "\"token_use\":\"access\",\"client_id\":\"c1\"}"), JWT_INVALID, "future");
	expect(signed_token(ACCESS(",\"nbf\":\"soon\"")), JWT_INVALID, "not yet valid");
}

static void
test_issuer_and_recipient(void **state)
{
	(void)state;
	expect(signed_token("{\"iss\":\"https://evil.example\",\"exp\":1800000600,\"token_use\":\"access\",\"client_id\":\"c1\"}"),
	    JWT_INVALID, "issuer");
	expect(signed_token("{\"iss\":\"" ISSUER "\",\"exp\":1800000600,\"client_id\":\"c1\"}"),
	    JWT_INVALID, "token_use");
	expect(signed_token("{\"iss\":\"" ISSUER "\",\"exp\":1800000600,\"token_use\":\"access\",\"client_id\":\"c2\"}"),
	    JWT_INVALID, "client");
	expect(signed_token("{\"iss\":\"" ISSUER "\",\"exp\":1800000600,\"token_use\":\"id\",\"aud\":\"c1\"}"),
	    JWT_INVALID, "ID tokens");
	expect(signed_token("{\"iss\":\"" ISSUER "\",\"exp\":1800000600,\"token_use\":\"refresh\",\"client_id\":\"c1\"}"),
	    JWT_INVALID, "token_use");
	rules.audiences = &audiences;
	expect(signed_token("{\"iss\":\"" ISSUER "\",\"exp\":1800000600,\"token_use\":\"id\",\"aud\":\"aud1\"}"),
	    JWT_VALID, NULL);
	expect(signed_token("{\"iss\":\"" ISSUER "\",\"exp\":1800000600,\"token_use\":\"id\",\"aud\":[\"x\",\"aud1\"]}"),
	    JWT_VALID, NULL);
	expect(signed_token("{\"iss\":\"" ISSUER "\",\"exp\":1800000600,\"token_use\":\"id\",\"aud\":\"x\"}"),
	    JWT_INVALID, "audience");
	/* An access token that names an audience must name an allowed one. */
	expect(signed_token(ACCESS(",\"aud\":\"x\"")), JWT_INVALID, "audience");
	rules.audiences = &none;
}

static void
test_required_scopes(void **state)
{
	(void)state;
	rules.scopes = &scopes;
	expect(signed_token(ACCESS("")), JWT_VALID, NULL);
	expect(signed_token("{\"iss\":\"" ISSUER "\",\"exp\":1800000600,\"token_use\":\"access\",\"client_id\":\"c1\","
	    "\"scope\":\"mcp/toolsx openid\"}"), JWT_INSUFFICIENT_SCOPE, NULL);
	expect(signed_token("{\"iss\":\"" ISSUER "\",\"exp\":1800000600,\"token_use\":\"access\",\"client_id\":\"c1\"}"),
	    JWT_INSUFFICIENT_SCOPE, NULL);
	rules.scopes = &none;
}

/* cJSON cuts strings at U+0000; such values must not pass for their prefix. */
static void
test_nul_in_strings_refused(void **state)
{
	(void)state;
	expect(make_token("{\"alg\":\"RS256\",\"kid\":\"k1\\u0000x\"}", ACCESS(""), signing_key, NULL, 0),
	    JWT_INVALID, "kid");
	expect(signed_token("{\"iss\":\"" ISSUER "\\u0000evil\",\"exp\":1800000600,\"token_use\":\"access\","
	    "\"client_id\":\"c1\"}"), JWT_INVALID, "issuer");
	expect(signed_token("{\"iss\":\"" ISSUER "\",\"exp\":1800000600,\"token_use\":\"access\","
	    "\"client_id\":\"c1\\u0000x\"}"), JWT_INVALID, "client");
}

/*
 * RFC 7519 compares claim names whole; cJSON cuts a name at U+0000, so
 * "scope\u0000x" would be read as "scope" and grant what it names.  A
 * name holding U+0000, in the claims or the header, makes the token
 * malformed, whichever claim it imitates.
 */
static void
test_nul_in_claim_names_refused(void **state)
{
	(void)state;
	rules.scopes = &scopes;
	expect(signed_token("{\"iss\":\"" ISSUER "\",\"exp\":1800000600,\"token_use\":\"access\","
	    "\"client_id\":\"c1\",\"scope\\u0000x\":\"mcp/tools\"}"), JWT_INVALID, "malformed");
	rules.scopes = &none;
	expect(signed_token("{\"iss\\u0000x\":\"" ISSUER "\",\"exp\":1800000600,\"token_use\":\"access\","
	    "\"client_id\":\"c1\"}"), JWT_INVALID, "malformed");
	expect(signed_token("{\"iss\":\"" ISSUER "\",\"exp\\u0000x\":1800000600,\"token_use\":\"access\","
	    "\"client_id\":\"c1\"}"), JWT_INVALID, "malformed");
	expect(signed_token("{\"iss\":\"" ISSUER "\",\"exp\":1800000600,\"token_use\\u0000x\":\"access\","
	    "\"client_id\":\"c1\"}"), JWT_INVALID, "malformed");
	expect(signed_token("{\"iss\":\"" ISSUER "\",\"exp\":1800000600,\"token_use\":\"access\","
	    "\"client_id\\u0000x\":\"c1\"}"), JWT_INVALID, "malformed");
	expect(signed_token(ACCESS(",\"note\\u0000\":1")), JWT_INVALID, "malformed");
	expect(make_token("{\"alg\":\"RS256\",\"kid\":\"k1\",\"x\\u0000\":1}", ACCESS(""), signing_key, NULL, 0),
	    JWT_INVALID, NULL);
	/* Text that only looks like the escape is an ordinary name. */
	expect(signed_token(ACCESS(",\"note\\\\u0000\":1")), JWT_VALID, NULL);
}

static void
test_duplicate_claims_refused(void **state)
{
	(void)state;
	expect(signed_token(ACCESS(",\"client_id\":\"c2\"")), JWT_INVALID, "malformed");
}

/*
 * An aud value holding U+0000 does not pass for its prefix.  Text that only
 * looks like the escape, or a NUL in a claim nobody reads, changes nothing.
 */
static void
test_nul_in_audience_refused(void **state)
{
	(void)state;
	rules.audiences = &audiences;
	expect(signed_token("{\"iss\":\"" ISSUER "\",\"exp\":1800000600,\"token_use\":\"id\",\"aud\":\"aud1\\u0000x\"}"),
	    JWT_INVALID, "audience");
	expect(signed_token("{\"iss\":\"" ISSUER "\",\"exp\":1800000600,\"token_use\":\"id\","
	    "\"aud\":[\"x\",\"aud1\\u0000\"]}"), JWT_INVALID, "audience");
	rules.audiences = &none;
	expect(signed_token(ACCESS(",\"note\":\"\\\\u0000\"")), JWT_VALID, NULL);
	expect(signed_token(ACCESS(",\"note\":\"\\u0000\"")), JWT_VALID, NULL);
}

static void
test_claim_types(void **state)
{
	(void)state;
	expect(signed_token("{\"iss\":\"" ISSUER "\",\"exp\":\"1800000600\",\"token_use\":\"access\",\"client_id\":\"c1\"}"),
	    JWT_INVALID, "exp");
	expect(signed_token("{\"iss\":\"" ISSUER "\",\"exp\":null,\"token_use\":\"access\",\"client_id\":\"c1\"}"),
	    JWT_INVALID, "exp");
	expect(signed_token(ACCESS(",\"nbf\":null")), JWT_INVALID, "not yet valid");
	expect(signed_token("{\"iss\":\"" ISSUER "\",\"exp\":1800000600,\"iat\":\"then\",\"token_use\":\"access\","
	    "\"client_id\":\"c1\"}"), JWT_INVALID, "future");
	/* Names that share a first character are not duplicates. */
	expect(signed_token(ACCESS(",\"cx\":1,\"c\":2")), JWT_VALID, NULL);
}

/* Replaces the signature of `token` (in place) with base64url of sig[0..n). */
static void
set_signature(char *token, const unsigned char *sig, size_t n)
{
	char *dot = strrchr(token, '.');

	b64url(sig, n, dot + 1, 2048);
}

/*
 * The signature of an RSA-2048 key is 256 bytes: 342 characters, the last
 * of which carries 4 unused bits.  Setting them changes the text, not the
 * decoded bytes, so only the decoder's strictness can refuse the token.
 */
static void
test_noncanonical_signature_refused(void **state)
{
	char token[16384], *last;
	size_t n;

	(void)state;
	strcpy(token, signed_token(ACCESS("")));
	n = strlen(strrchr(token, '.') + 1);
	assert_int_equal(n, 342);
	expect(token, JWT_VALID, NULL);
	/* The last character is one of A Q g w (0, 16, 32, 48); the next one
	 * in the alphabet has the same 2 used bits and a set unused bit. */
	last = token + strlen(token) - 1;
	assert_non_null(strchr("AQgw", *last));
	*last = (char)(*last + 1);
	expect(token, JWT_INVALID, "malformed signature");
	/* Padding, as base64 (not base64url) would add it. */
	strcpy(token, signed_token(ACCESS("")));
	strcat(token, "==");
	expect(token, JWT_INVALID, "malformed signature");
}

/* The signature must be exactly as long as the key's modulus. */
static void
test_signature_length(void **state)
{
	static const size_t wrong[] = {1, 128, 254, 255, 257, 258, 512};
	unsigned char sig[512] = {1};
	char token[16384];

	(void)state;
	strcpy(token, signed_token(ACCESS("")));
	for (size_t i = 0; i < sizeof(wrong) / sizeof(wrong[0]); i++) {
		set_signature(token, sig, wrong[i]);
		expect(token, JWT_INVALID, "malformed signature");
	}
	set_signature(token, sig, 256);
	expect(token, JWT_INVALID, "signature verification failed");
}

/*
 * libsodium 1.0.18's decoder took every byte from 0x80 up for '_', so a
 * token with such a byte where its signature has '_' passed as well.
 */
static void
test_high_bytes_in_signature_refused(void **state)
{
	char token[16384], payload[512], *underscore = NULL;

	(void)state;
	/* A signature holds '_' with probability 1 - (63/64)^342 > 99%. */
	for (int i = 0; i < 20 && underscore == NULL; i++) {
		snprintf(payload, sizeof(payload), ACCESS(",\"n\":%d"), i);
		strcpy(token, signed_token(payload));
		underscore = strchr(strrchr(token, '.'), '_');
	}
	assert_non_null(underscore);
	expect(token, JWT_VALID, NULL);
	for (int c = 0x80; c <= 0xff; c++) {
		*underscore = (char)c;
		expect(token, JWT_INVALID, "malformed signature");
	}
}

/*
 * One prepared context serves every verification: its state after a good,
 * a forged or a malformed signature must not change the next verdict.
 */
static void
test_verdicts_do_not_carry_over(void **state)
{
	char good[16384], forged[16384], wrong_key[16384], huge[16384], *sig;
	unsigned char ones[256];

	(void)state;
	strcpy(good, signed_token(ACCESS("")));
	strcpy(forged, good);
	sig = strrchr(forged, '.') + 10;	/* inside a full group: other bytes */
	*sig = *sig == 'A' ? 'B' : 'A';
	strcpy(wrong_key, make_token("{\"alg\":\"RS256\",\"kid\":\"k1\"}", ACCESS(""), other_key, NULL, 0));
	/* A "signature" larger than the modulus: OpenSSL fails before padding. */
	memset(ones, 0xff, sizeof(ones));
	strcpy(huge, good);
	set_signature(huge, ones, sizeof(ones));
	for (int i = 0; i < 50; i++) {
		expect(good, JWT_VALID, NULL);
		expect(good, JWT_VALID, NULL);
		expect(forged, JWT_INVALID, "signature verification failed");
		expect(good, JWT_VALID, NULL);
		expect(wrong_key, JWT_INVALID, "signature verification failed");
		expect(wrong_key, JWT_INVALID, "signature verification failed");
		expect(good, JWT_VALID, NULL);
		expect(huge, JWT_INVALID, "signature verification failed");
	}
	expect(good, JWT_VALID, NULL);
}

/* A refused signature leaves no error behind in OpenSSL's queue. */
static void
test_refusal_clears_openssl_errors(void **state)
{
	(void)state;
	ERR_clear_error();
	expect(make_token("{\"alg\":\"RS256\",\"kid\":\"k1\"}", ACCESS(""), other_key, NULL, 0),
	    JWT_INVALID, "signature");
	assert_int_equal(ERR_peek_error(), 0);
}

/* Every test of a token, run with the key unprepared and prepared. */
#define TOKEN_TESTS \
	cmocka_unit_test(test_valid_access_token), \
	cmocka_unit_test(test_identity_of_a_valid_token), \
	cmocka_unit_test(test_alg_none_and_hs256_with_public_pem_are_refused), \
	cmocka_unit_test(test_signature_must_match), \
	cmocka_unit_test(test_unknown_kid), \
	cmocka_unit_test(test_header_rules), \
	cmocka_unit_test(test_malformed_shapes), \
	cmocka_unit_test(test_times_with_skew), \
	cmocka_unit_test(test_issuer_and_recipient), \
	cmocka_unit_test(test_required_scopes), \
	cmocka_unit_test(test_nul_in_claim_names_refused), \
	cmocka_unit_test(test_duplicate_claims_refused), \
	cmocka_unit_test(test_nul_in_strings_refused), \
	cmocka_unit_test(test_nul_in_audience_refused), \
	cmocka_unit_test(test_claim_types), \
	cmocka_unit_test(test_noncanonical_signature_refused), \
	cmocka_unit_test(test_high_bytes_in_signature_refused), \
	cmocka_unit_test(test_signature_length), \
	cmocka_unit_test(test_verdicts_do_not_carry_over), \
	cmocka_unit_test(test_refusal_clears_openssl_errors)

int
main(void)
{
	const struct CMUnitTest tests[] = {TOKEN_TESTS};
	int failed = 0;

	failed += cmocka_run_group_tests_name("unprepared key", tests, setup, teardown);
	failed += cmocka_run_group_tests_name("prepared key", tests, setup_prepared, teardown);
	return failed;
}
