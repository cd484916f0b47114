/*
 * Unit tests for worker/jwt.c: signature, pinned algorithm, claims.
 * Tokens are signed here with a fresh RSA key through OpenSSL.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <sodium.h>

#include "worker/jwt.h"

#define NOW 1800000000LL
#define ISSUER "https://issuer.example"

static EVP_PKEY *signing_key;
static EVP_PKEY *other_key;
static struct jwt_key keys[1];
static struct strlist clients, audiences, scopes, none;
static struct jwt_policy policy;

static const struct jwt_key *
lookup(void *ctx, const char *kid, size_t len)
{
	(void)ctx;
	if (strlen(keys[0].kid) == len && memcmp(keys[0].kid, kid, len) == 0)
		return &keys[0];
	return NULL;
}

static void
b64url(const unsigned char *in, size_t n, char *out, size_t cap)
{
	sodium_bin2base64(out, cap, in, n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

/* header.payload.signature, signed with `key` by RS256 (or HS256 with `hmac`). */
static char *
make_token(const char *header, const char *payload, EVP_PKEY *key, const unsigned char *hmac, size_t hmac_len)
{
	static char token[16384];
	unsigned char sig[1024];
	size_t siglen = sizeof(sig);
	char h[4096], p[8192], s[2048];

	b64url((const unsigned char *)header, strlen(header), h, sizeof(h));
	b64url((const unsigned char *)payload, strlen(payload), p, sizeof(p));
	snprintf(token, sizeof(token), "%s.%s", h, p);
	if (hmac != NULL) {
		unsigned int n = 0;

		HMAC(EVP_sha256(), hmac, (int)hmac_len, (unsigned char *)token, strlen(token), sig, &n);
		siglen = n;
	} else if (key != NULL) {
		EVP_MD_CTX *md = EVP_MD_CTX_new();

		assert_int_equal(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key), 1);
		assert_int_equal(EVP_DigestSign(md, sig, &siglen, (unsigned char *)token, strlen(token)), 1);
		EVP_MD_CTX_free(md);
	} else {
		siglen = 0;
	}
	b64url(sig, siglen, s, sizeof(s));
	strcat(token, ".");
	strcat(token, s);
	return token;
}

static char *
signed_token(const char *payload)
{
	return make_token("{\"alg\":\"RS256\",\"kid\":\"k1\"}", payload, signing_key, NULL, 0);
}

static struct jwt_result
verify(const char *token)
{
	struct jwt_result r;

	jwt_verify(token, strlen(token), lookup, NULL, &policy, NOW, &r);
	return r;
}

static void
expect(const char *token, enum jwt_status status, const char *reason)
{
	struct jwt_result r = verify(token);

	if (r.status != status || (reason != NULL && strstr(r.reason, reason) == NULL))
		fail_msg("expected status %d (%s), got %d (%s)", status, reason ? reason : "-", r.status, r.reason);
}

#define ACCESS(extra) "{\"iss\":\"" ISSUER "\",\"exp\":1800000600,\"iat\":1800000000," \
	"\"token_use\":\"access\",\"client_id\":\"c1\",\"scope\":\"mcp/tools openid\"" extra "}"

static int
setup(void **state)
{
	(void)state;
	if (sodium_init() < 0)
		return -1;
	signing_key = EVP_RSA_gen(2048);
	other_key = EVP_RSA_gen(2048);
	keys[0] = (struct jwt_key){.kid = "k1", .alg = "RS256", .pkey = signing_key};
	clients.items[0] = "c1";
	clients.n = 1;
	audiences.items[0] = "aud1";
	audiences.n = 1;
	scopes.items[0] = "mcp/tools";
	scopes.n = 1;
	policy = (struct jwt_policy){.issuer = ISSUER, .clients = &clients, .audiences = &none,
	    .scopes = &none, .skew = 60};
	return signing_key != NULL && other_key != NULL ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	EVP_PKEY_free(signing_key);
	EVP_PKEY_free(other_key);
	return 0;
}

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
	policy.audiences = &audiences;
	expect(signed_token("{\"iss\":\"" ISSUER "\",\"exp\":1800000600,\"token_use\":\"id\",\"aud\":\"aud1\"}"),
	    JWT_VALID, NULL);
	expect(signed_token("{\"iss\":\"" ISSUER "\",\"exp\":1800000600,\"token_use\":\"id\",\"aud\":[\"x\",\"aud1\"]}"),
	    JWT_VALID, NULL);
	expect(signed_token("{\"iss\":\"" ISSUER "\",\"exp\":1800000600,\"token_use\":\"id\",\"aud\":\"x\"}"),
	    JWT_INVALID, "audience");
	/* An access token that names an audience must name an allowed one. */
	expect(signed_token(ACCESS(",\"aud\":\"x\"")), JWT_INVALID, "audience");
	policy.audiences = &none;
}

static void
test_required_scopes(void **state)
{
	(void)state;
	policy.scopes = &scopes;
	expect(signed_token(ACCESS("")), JWT_VALID, NULL);
	expect(signed_token("{\"iss\":\"" ISSUER "\",\"exp\":1800000600,\"token_use\":\"access\",\"client_id\":\"c1\","
	    "\"scope\":\"mcp/toolsx openid\"}"), JWT_INSUFFICIENT_SCOPE, NULL);
	expect(signed_token("{\"iss\":\"" ISSUER "\",\"exp\":1800000600,\"token_use\":\"access\",\"client_id\":\"c1\"}"),
	    JWT_INSUFFICIENT_SCOPE, NULL);
	policy.scopes = &none;
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

static void
test_duplicate_claims_refused(void **state)
{
	(void)state;
	expect(signed_token(ACCESS(",\"client_id\":\"c2\"")), JWT_INVALID, "malformed");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_access_token),
		cmocka_unit_test(test_alg_none_and_hs256_with_public_pem_are_refused),
		cmocka_unit_test(test_signature_must_match),
		cmocka_unit_test(test_unknown_kid),
		cmocka_unit_test(test_header_rules),
		cmocka_unit_test(test_malformed_shapes),
		cmocka_unit_test(test_times_with_skew),
		cmocka_unit_test(test_issuer_and_recipient),
		cmocka_unit_test(test_required_scopes),
		cmocka_unit_test(test_duplicate_claims_refused),
		cmocka_unit_test(test_nul_in_strings_refused),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
