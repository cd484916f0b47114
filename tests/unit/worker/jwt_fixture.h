/*
 * jwt_fixture: what the jwt tests share: a fresh RSA key "k1" (and another
 * one) made by the setup, the acceptance rules of a typical deployment,
 * tokens signed here through OpenSSL, and verification at a fixed time.
 * Include it after <cmocka.h>.
 */
#ifndef MCPD_TESTS_UNIT_WORKER_JWT_FIXTURE_H
#define MCPD_TESTS_UNIT_WORKER_JWT_FIXTURE_H

#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rsa.h>
#include <sodium.h>

#include "worker/jwt.h"

#define NOW 1800000000LL
#define ISSUER "https://issuer.example"

static EVP_PKEY *signing_key;
static EVP_PKEY *other_key;
static struct jwt_key keys[1];
static struct strlist clients, audiences, scopes, none;
static struct jwt_rules rules;

/* The key of kid "k1": keys[0], or the one `ctx` points to. */
static inline const struct jwt_key *
lookup(void *ctx, const char *kid, size_t len)
{
	const struct jwt_key *key = ctx != NULL ? ctx : &keys[0];

	if (strlen(key->kid) == len && memcmp(key->kid, kid, len) == 0)
		return key;
	return NULL;
}

static inline void
b64url(const unsigned char *in, size_t n, char *out, size_t cap)
{
	sodium_bin2base64(out, cap, in, n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

/* header.payload.signature, signed with `key` by RS256 (or HS256 with `hmac`). */
static inline char *
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

static inline char *
signed_token(const char *payload)
{
	return make_token("{\"alg\":\"RS256\",\"kid\":\"k1\"}", payload, signing_key, NULL, 0);
}

static inline struct jwt_result
verify_with(const char *token, const struct jwt_key *key)
{
	struct jwt_result r;

	jwt_verify(token, strlen(token), lookup, (void *)key, &rules, NOW, &r);
	/* The identity has its own test; the rest look at status and reason. */
	jwt_identity_free(&r.identity);
	return r;
}

static inline struct jwt_result
verify(const char *token)
{
	return verify_with(token, NULL);
}

static inline void
expect(const char *token, enum jwt_status status, const char *reason)
{
	struct jwt_result r = verify(token);

	if (r.status != status || (reason != NULL && strstr(r.reason, reason) == NULL))
		fail_msg("expected status %d (%s), got %d (%s)", status, reason ? reason : "-", r.status, r.reason);
}

#define ACCESS(extra) "{\"iss\":\"" ISSUER "\",\"exp\":1800000600,\"iat\":1800000000," \
	"\"token_use\":\"access\",\"client_id\":\"c1\",\"scope\":\"mcp/tools openid\"" extra "}"

static inline int
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
	rules = (struct jwt_rules){.issuer = ISSUER, .clients = &clients, .audiences = &none,
	    .scopes = &none, .skew = 60};
	return signing_key != NULL && other_key != NULL ? 0 : -1;
}

static inline int
setup_prepared(void **state)
{
	if (setup(state) < 0 || jwt_key_prepare(&keys[0]) < 0)
		return -1;
	return keys[0].verify_ctx != NULL ? 0 : -1;
}

static inline int
teardown(void **state)
{
	(void)state;
	jwt_key_release(&keys[0]);
	EVP_PKEY_free(signing_key);
	EVP_PKEY_free(other_key);
	return 0;
}

#endif
