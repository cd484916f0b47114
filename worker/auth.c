#include "worker/auth.h"

#include <errno.h>
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

/* Verified tokens remembered per worker (direct-mapped by hash). */
#define TOKEN_CACHE_SLOTS 1024

struct cached_token {
	unsigned char hash[crypto_generichash_BYTES];
	int64_t exp;
	uint64_t generation;	/* 0 = empty */
};

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
static struct key_table table;
static struct cached_token cache[TOKEN_CACHE_SLOTS];

int
auth_init(const struct config *cfg, int keyset_fd, int refresh_fd)
{
	auth_cfg = cfg;
	if (cfg->auth != AUTH_JWT)
		return 0;
	if (sodium_init() < 0)
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
	for (size_t i = 0; i < table.n; i++)
		EVP_PKEY_free(table.keys[i].pkey);
	table.n = 0;
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

	if (generation == table.generation)
		return;
	rc = keyset_snapshot(auth_region, &table.set, &generation);
	if (rc != KEYSET_OK) {
		if (rc != KEYSET_EMPTY)
			log_msg(LOG_WARN, "keyset_unreadable", "key set generation %llu could not be "
			    "read (%s); keeping the previous keys", (unsigned long long)generation,
			    rc == KEYSET_CORRUPT ? "corrupt" : "busy");
		return;
	}
	clear_table();
	for (uint32_t i = 0; i < table.set.nkeys; i++) {
		const struct keyset_key *k = &table.set.keys[i];
		EVP_PKEY *pkey = k->alg == KEYSET_ALG_RS256 ? rsa_public_key(k) : NULL;

		if (pkey == NULL)
			continue;
		table.keys[table.n++] = (struct jwt_key){.kid = k->kid, .alg = "RS256", .pkey = pkey};
	}
	table.generation = generation;
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
	EVP_PKEY *pkey;

	memset(dummy.n, 0xC5, sizeof(dummy.n[0]) * 256);
	pkey = rsa_public_key(&dummy);
	if (md != NULL && pkey != NULL && EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pkey) == 1)
		(void)EVP_DigestVerify(md, sig, sizeof(sig), sig, 1);
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(pkey);
}

const char *
auth_issuer(void)
{
	if (auth_region == NULL)
		return NULL;
	refresh_keys();
	return table.generation != 0 ? table.set.issuer : NULL;
}

static const struct jwt_key *
lookup_key(void *ctx, const char *kid, size_t len)
{
	(void)ctx;
	for (size_t i = 0; i < table.n; i++)
		if (strlen(table.keys[i].kid) == len && memcmp(table.keys[i].kid, kid, len) == 0)
			return &table.keys[i];
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

static struct cached_token *
cache_slot(const unsigned char *hash)
{
	uint32_t index;

	memcpy(&index, hash, sizeof(index));
	return &cache[index % TOKEN_CACHE_SLOTS];
}

static bool
cache_hit(const unsigned char *hash, int64_t now)
{
	const struct cached_token *c = cache_slot(hash);

	return c->generation == table.generation &&
	    sodium_memcmp(c->hash, hash, sizeof(c->hash)) == 0 && now < c->exp + auth_cfg->clock_skew;
}

static void
remember(const unsigned char *hash, int64_t exp)
{
	struct cached_token *c = cache_slot(hash);

	memcpy(c->hash, hash, sizeof(c->hash));
	c->exp = exp;
	c->generation = table.generation;
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
verdict(struct auth_verdict *v, enum auth_status status, const char *reason)
{
	v->status = status;
	v->reason = reason;
}

void
auth_check(struct header_value authorization, struct auth_verdict *v)
{
	struct jwt_policy policy;
	struct jwt_result result;
	unsigned char hash[crypto_generichash_BYTES];
	int64_t now = (int64_t)time(NULL);
	const char *token;
	size_t len;

	if (auth_region == NULL)
		return verdict(v, AUTH_PASS, "authentication off");
	refresh_keys();
	if (table.generation == 0)
		return verdict(v, AUTH_NOT_READY, "signing keys not loaded yet");
	if (!bearer_token(authorization, &token, &len))
		return verdict(v, AUTH_NO_TOKEN, "no bearer token");
	if (len == 0 || len > JWT_MAX_LEN)
		return verdict(v, AUTH_BAD_TOKEN, len == 0 ? "empty bearer token" : "token too large");
	crypto_generichash(hash, sizeof(hash), (const unsigned char *)token, len, NULL, 0);
	if (cache_hit(hash, now))
		return verdict(v, AUTH_PASS, "valid (cached)");
	policy = (struct jwt_policy){
		.issuer = table.set.issuer, .clients = &auth_cfg->allowed_clients,
		.audiences = &auth_cfg->allowed_audiences, .scopes = &auth_cfg->required_scopes,
		.skew = auth_cfg->clock_skew,
	};
	jwt_verify(token, len, lookup_key, NULL, &policy, now, &result);
	switch (result.status) {
	case JWT_VALID:
		remember(hash, result.exp);
		return verdict(v, AUTH_PASS, result.reason);
	case JWT_UNKNOWN_KID:
		request_refresh();
		return verdict(v, AUTH_BAD_TOKEN, result.reason);
	case JWT_INSUFFICIENT_SCOPE:
		return verdict(v, AUTH_NO_SCOPE, result.reason);
	case JWT_INVALID:
		break;
	}
	verdict(v, AUTH_BAD_TOKEN, result.reason);
}
