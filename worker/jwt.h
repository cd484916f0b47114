/*
 * jwt: verification of one JWT access token (RFC 7519) against keys the
 * caller supplies.  Pure: no clock, no I/O and no shared state but the
 * SHA-256 implementation it fetches once, so it can be unit-tested and
 * fuzzed directly.
 *
 * The algorithm is pinned per key: the token's "alg" must equal the key's,
 * and the only verification routine is RSA PKCS#1 v1.5 with SHA-256.  An
 * HS256 token can therefore never be checked with a public key as an HMAC
 * secret, and "none" never verifies.  jku, x5u, x5c and jwk headers are
 * ignored: keys come only from the caller.
 */
#ifndef MCPD_WORKER_JWT_H
#define MCPD_WORKER_JWT_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "common/config.h"
#include "common/counters.h"

#define JWT_MAX_LEN 8192	/* AgentCore caps a header value at 4 KiB anyway */

struct jwt_key {
	const char *kid;
	const char *alg;	/* the pinned algorithm name, "RS256" */
	EVP_PKEY *pkey;		/* owned by the caller */
	EVP_PKEY_CTX *verify_ctx;	/* NULL, or made by jwt_key_prepare */
};

/**
 * Readies `key` (pkey set, verify_ctx NULL or already prepared) for
 * jwt_verify once, instead of on every token: binds pkey to a verification
 * context set for PKCS#1 v1.5 with SHA-256, so that a verification no longer
 * looks the algorithms up in OpenSSL's providers.  Returns 0, or -1 with
 * verify_ctx NULL: the key still verifies, only slower.  The first call
 * fetches SHA-256 from the providers: make it before a sandbox forbids file
 * access, in case OpenSSL still has to load its configuration.  Not
 * thread-safe (a worker is one thread).
 */
int jwt_key_prepare(struct jwt_key *key);

/**
 * Frees what jwt_key_prepare made, not pkey; a no-op on an unprepared key.
 * The context holds its own reference to pkey, so it may come before or
 * after EVP_PKEY_free(pkey).
 */
void jwt_key_release(struct jwt_key *key);

/* Finds the key for a kid, or NULL. */
typedef const struct jwt_key *(*jwt_key_lookup)(void *ctx, const char *kid, size_t kid_len);

/* What a token must say to be accepted: the rules of this deployment. */
struct jwt_rules {
	const char *issuer;
	const struct strlist *clients;		/* client_id of access tokens */
	const struct strlist *audiences;	/* aud */
	const struct strlist *scopes;		/* all required */
	unsigned skew;				/* seconds */
};

enum jwt_status {
	JWT_VALID,
	JWT_INVALID,		/* 401 invalid_token */
	JWT_UNKNOWN_KID,	/* 401 invalid_token; the caller may refresh keys */
	JWT_INSUFFICIENT_SCOPE,	/* 403 insufficient_scope */
};

/* Who a valid token speaks for: claims copied out for tools (malloc'd; "" when absent). */
struct jwt_identity {
	char *sub;
	char *username;
	char *client_id;
	char *scope;		/* space-separated */
};

struct jwt_result {
	enum jwt_status status;
	enum counters_refusal refusal;	/* when not valid: the reason's category, for metrics */
	const char *reason;	/* short, static, safe to log and to send */
	int64_t exp;		/* when valid: the token's expiry (unix seconds) */
	struct jwt_identity identity;	/* when valid; the caller frees it with jwt_identity_free */
};

/**
 * Verifies `token` at time `now` (unix seconds) against `rules`.  A valid
 * result owns its identity (all NULL when memory ran out); others own nothing.
 */
void jwt_verify(const char *token, size_t len, jwt_key_lookup lookup, void *ctx,
    const struct jwt_rules *rules, int64_t now, struct jwt_result *out);
/** Frees an identity's strings and sets them NULL. */
void jwt_identity_free(struct jwt_identity *id);

#endif
