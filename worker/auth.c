/* Runs in: workers: keys and cache set up before the sandbox, tokens checked inside it. */
#include "worker/auth.h"

#include <errno.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <sodium.h>

#include "common/keyset.h"
#include "common/log.h"
#include "worker/jwt.h"
#include "worker/token_cache.h"

/* The keys of one generation, ready for OpenSSL. */
struct key_table {
	uint64_t generation;
	struct keyset set;
	struct jwt_key keys[KEYSET_MAX_KEYS];
	size_t n;
};

static const struct config *auth_cfg;
static struct keyset_region *auth_region;
static int auth_refresh_fd = -1;
static struct key_table auth_keys;
/* Verified tokens remembered per worker (token_cache.h). */
static struct token_cache verified_tokens;

int
auth_init(const struct config *cfg, int keyset_fd, int refresh_fd)
{
	unsigned char cache_index_key[TOKEN_CACHE_KEY_BYTES];

	auth_cfg = cfg;
	if (cfg->auth != AUTH_JWT)
		return 0;
	if (sodium_init() < 0)
		return -1;
	randombytes_buf(cache_index_key, sizeof(cache_index_key));
	if (token_cache_init(&verified_tokens, cache_index_key, TOKEN_CACHE_SLOTS, cfg->clock_skew) < 0)
		return -1;
	auth_region = keyset_map(keyset_fd, false);
	if (auth_region == NULL)
		return -1;
	close(keyset_fd);
	auth_refresh_fd = refresh_fd;
	return 0;
}

bool
auth_enabled(void)
{
	return auth_region != NULL;
}

bool
auth_ready(void)
{
	return auth_region == NULL || keyset_generation(auth_region) != 0;
}

static EVP_PKEY *
rsa_public_key(const struct keyset_key *k)
{
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	BIGNUM *n = BN_bin2bn(k->n, (int)k->n_len, NULL), *e = BN_bin2bn(k->e, (int)k->e_len, NULL);
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pkey = NULL;

	if (bld == NULL || n == NULL || e == NULL ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
	    (ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
		pkey = NULL;
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(n);
	BN_free(e);
	return pkey;
}

static void
clear_table(void)
{
	for (size_t i = 0; i < auth_keys.n; i++) {
		jwt_key_release(&auth_keys.keys[i]);
		EVP_PKEY_free(auth_keys.keys[i].pkey);
	}
	auth_keys.n = 0;
}

/*
 * Rebuilds the key table when the fetcher published a new generation.  A
 * torn or corrupt read keeps the previous keys; the next request retries.
 */
static void
refresh_keys(void)
{
	uint64_t generation = keyset_generation(auth_region);
	enum keyset_read rc;

	if (generation == auth_keys.generation)
		return;
	rc = keyset_snapshot(auth_region, &auth_keys.set, &generation);
	if (rc != KEYSET_OK) {
		if (rc != KEYSET_EMPTY)
			log_msg(LOG_WARN, "keyset_unreadable", "key set generation %llu could not be "
			    "read (%s); keeping the previous keys", (unsigned long long)generation,
			    rc == KEYSET_CORRUPT ? "corrupt" : "busy");
		return;
	}
	clear_table();
	for (uint32_t i = 0; i < auth_keys.set.nkeys; i++) {
		const struct keyset_key *k = &auth_keys.set.keys[i];
		EVP_PKEY *pkey = k->alg == KEYSET_ALG_RS256 ? rsa_public_key(k) : NULL;

		if (pkey == NULL)
			continue;
		auth_keys.keys[auth_keys.n++] = (struct jwt_key){.kid = k->kid, .alg = "RS256", .pkey = pkey};
		/* Without a prepared context the key still verifies, only slower. */
		if (jwt_key_prepare(&auth_keys.keys[auth_keys.n - 1]) < 0)
			log_msg(LOG_WARN, "key_prepare_failed", "key %s: no prepared verification "
			    "context; verifying without one", k->kid);
	}
	auth_keys.generation = generation;
}

void
auth_prewarm(void)
{
	/*
	 * OpenSSL loads its configuration and providers on first use, which
	 * opens files; do it now, before the sandbox forbids that.  Any odd
	 * modulus with its top bit set makes a usable dummy public key.
	 */
	struct keyset_key dummy = {.alg = KEYSET_ALG_RS256, .n_len = 256, .e_len = 3, .e = {1, 0, 1}};
	unsigned char sig[256] = {0};
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	struct jwt_key key = {0};
	EVP_PKEY *pkey;

	memset(dummy.n, 0xC5, sizeof(dummy.n[0]) * 256);
	pkey = rsa_public_key(&dummy);
	if (md != NULL && pkey != NULL && EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pkey) == 1)
		(void)EVP_DigestVerify(md, sig, sizeof(sig), sig, 1);
	/* The prepared path fetches SHA-256 and the RSA code once, also before the sandbox. */
	key.pkey = pkey;
	if (pkey != NULL && jwt_key_prepare(&key) == 0)
		jwt_key_release(&key);
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(pkey);
}

const char *
auth_issuer(void)
{
	if (auth_region == NULL)
		return NULL;
	refresh_keys();
	return auth_keys.generation != 0 ? auth_keys.set.issuer : NULL;
}

static const struct jwt_key *
lookup_key(void *ctx, const char *kid, size_t len)
{
	(void)ctx;
	for (size_t i = 0; i < auth_keys.n; i++)
		if (strlen(auth_keys.keys[i].kid) == len && memcmp(auth_keys.keys[i].kid, kid, len) == 0)
			return &auth_keys.keys[i];
	return NULL;
}

/* Tells the fetcher a kid was unknown; it decides whether to refetch. */
static void
request_refresh(void)
{
	uint64_t one = 1;

	if (write(auth_refresh_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_errno("refresh_request_failed", "cannot signal the fetcher");
}

/* Splits "Bearer <token>"; the scheme is case-insensitive (RFC 7235 §2.1). */
static bool
bearer_token(struct header_value h, const char **token, size_t *len)
{
	if (h.base == NULL || h.len < 7 || strncasecmp(h.base, "Bearer ", 7) != 0)
		return false;
	*token = h.base + 7;
	*len = h.len - 7;
	while (*len > 0 && **token == ' ')
		(*token)++, (*len)--;
	while (*len > 0 && (*token)[*len - 1] == ' ')
		(*len)--;
	return true;
}

static void
verdict(struct auth_verdict *v, enum auth_status status, enum counters_refusal refusal, const char *reason)
{
	v->status = status;
	v->refusal = refusal;
	v->reason = reason;
	v->identity = NULL;
}

void
auth_check(struct header_value authorization, struct auth_verdict *v)
{
	struct jwt_rules rules;
	struct jwt_result result;
	const struct mcpd_identity *identity;
	int64_t now = (int64_t)time(NULL);
	const char *token;
	size_t len;

	if (auth_region == NULL)
		return verdict(v, AUTH_PASS, N_REFUSAL, "authentication off");
	/* No credentials is a 401 whether or not keys are loaded yet. */
	if (!bearer_token(authorization, &token, &len))
		return verdict(v, AUTH_NO_TOKEN, REFUSAL_NO_TOKEN, "no bearer token");
	refresh_keys();
	if (auth_keys.generation == 0)
		return verdict(v, AUTH_NOT_READY, REFUSAL_KEYS_NOT_LOADED, "signing keys not loaded yet");
	if (len == 0 || len > JWT_MAX_LEN)
		return verdict(v, AUTH_BAD_TOKEN, REFUSAL_MALFORMED, len == 0 ? "empty bearer token" : "token too large");
	if (token_cache_lookup(&verified_tokens, token, len, auth_keys.generation, now, &identity)) {
		verdict(v, AUTH_PASS, N_REFUSAL, "valid (cached)");
		v->identity = identity;
		return;
	}
	rules = (struct jwt_rules){
		.issuer = auth_keys.set.issuer, .clients = &auth_cfg->allowed_clients,
		.audiences = &auth_cfg->allowed_audiences, .scopes = &auth_cfg->required_scopes,
		.skew = auth_cfg->clock_skew,
	};
	jwt_verify(token, len, lookup_key, NULL, &rules, now, &result);
	switch (result.status) {
	case JWT_VALID:
		identity = token_cache_insert(&verified_tokens, token, len, auth_keys.generation, result.exp,
		    &result.identity);
		verdict(v, AUTH_PASS, N_REFUSAL, result.reason);
		v->identity = identity;
		return;
	case JWT_UNKNOWN_KID:
		request_refresh();
		return verdict(v, AUTH_BAD_TOKEN, result.refusal, result.reason);
	case JWT_INSUFFICIENT_SCOPE:
		return verdict(v, AUTH_NO_SCOPE, result.refusal, result.reason);
	case JWT_INVALID:
		break;
	}
	verdict(v, AUTH_BAD_TOKEN, result.refusal, result.reason);
}

void
auth_shutdown(void)
{
	token_cache_free(&verified_tokens);
	clear_table();
	auth_keys.generation = 0;
	if (auth_region != NULL)
		keyset_unmap(auth_region);
	auth_region = NULL;
}
