/*
 * Fuzz driver for worker/jwt.c: jwt_verify on attacker-controlled tokens.
 *
 * Input: one control byte, then the data.
 *   bit 0 = 0  the data is a bearer token, verified as sent.  A fuzzer never
 *              forges an RS256 signature, so this reaches the split, the
 *              base64url and header checks, the key lookup, the pinned
 *              algorithm and the signature length, never the claims.
 *   bit 0 = 1  the data is "<header JSON>\n<payload JSON>" (no newline: all
 *              header, empty payload).  The driver encodes both, signs them
 *              with the key of kid "k1" and verifies the token, so every
 *              claim check runs.
 *   bits 1-2   the rule set: 0 allowed client only, 1 client and audience,
 *              2 client and two required scopes, 3 audience only, no skew.
 * The key (RSA-2048, kid "k1", RS256) is generated once; kid "k2" names the
 * same key pinned to PS256, to reach the algorithm mismatch.
 *
 * Besides the sanitizers, the driver checks what a verdict promises: no
 * token it did not sign passes the signature, and a passing token has the
 * issuer, a live exp and a token_use the rules accept.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <sodium.h>

#include "worker/jwt.h"
#include "tests/fuzz/fuzz_check.h"

#define NOW 1800000000LL
#define ISSUER "https://issuer.example"

static struct jwt_key keys[2];

static struct strlist none;
static struct strlist clients = {.items = {(char *)"fuzz-client"}, .n = 1};
static struct strlist audiences = {.items = {(char *)"https://mcp.example/mcp"}, .n = 1};
static struct strlist scopes = {.items = {(char *)"mcp:read", (char *)"mcp:write"}, .n = 2};

static const struct jwt_rules rule_sets[4] = {
	{.issuer = ISSUER, .clients = &clients, .audiences = &none, .scopes = &none, .skew = 60},
	{.issuer = ISSUER, .clients = &clients, .audiences = &audiences, .scopes = &none, .skew = 60},
	{.issuer = ISSUER, .clients = &clients, .audiences = &none, .scopes = &scopes, .skew = 60},
	{.issuer = ISSUER, .clients = &none, .audiences = &audiences, .scopes = &none, .skew = 0},
};

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	EVP_PKEY *pkey;

	(void)argc, (void)argv;
	if (sodium_init() < 0 || (pkey = EVP_RSA_gen(2048)) == NULL)
		abort();
	keys[0] = (struct jwt_key){.kid = "k1", .alg = "RS256", .pkey = pkey};
	keys[1] = (struct jwt_key){.kid = "k2", .alg = "PS256", .pkey = pkey};
	return 0;
}

static const struct jwt_key *
lookup(void *ctx, const char *kid, size_t len)
{
	(void)ctx;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strlen(keys[i].kid) == len && memcmp(keys[i].kid, kid, len) == 0)
			return &keys[i];
	return NULL;
}

/* Appends base64url (unpadded) of in[0..n) at *out, advancing it. */
static void
put_b64url(char **out, const unsigned char *in, size_t n)
{
	size_t cap = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);

	sodium_bin2base64(*out, cap, in, n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	*out += strlen(*out);
}

/* header.payload.signature over the given JSON texts; malloc'd, *len set. */
static char *
sign_token(const uint8_t *header, size_t hlen, const uint8_t *payload, size_t plen, size_t *len)
{
	unsigned char sig[512];
	size_t siglen = sizeof(sig);
	size_t cap = sodium_base64_ENCODED_LEN(hlen, sodium_base64_VARIANT_URLSAFE_NO_PADDING) +
	    sodium_base64_ENCODED_LEN(plen, sodium_base64_VARIANT_URLSAFE_NO_PADDING) +
	    sodium_base64_ENCODED_LEN(sizeof(sig), sodium_base64_VARIANT_URLSAFE_NO_PADDING) + 2;
	char *token = malloc(cap), *p = token;
	EVP_MD_CTX *md = EVP_MD_CTX_new();

	if (token == NULL || md == NULL)
		abort();
	put_b64url(&p, header, hlen);
	*p++ = '.';
	put_b64url(&p, payload, plen);
	if (EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, keys[0].pkey) != 1 ||
	    EVP_DigestSign(md, sig, &siglen, (unsigned char *)token, (size_t)(p - token)) != 1)
		abort();
	EVP_MD_CTX_free(md);
	*p++ = '.';
	put_b64url(&p, sig, siglen);
	*len = (size_t)(p - token);
	return token;
}

static const char *
string_of(const cJSON *obj, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* A token that passed the signature: re-read what jwt.c must have checked. */
static void
check_accepted(const uint8_t *header, size_t hlen, const uint8_t *payload, size_t plen,
    const struct jwt_rules *rules, const struct jwt_result *res)
{
	cJSON *h = cJSON_ParseWithLength((const char *)header, hlen);
	cJSON *p = cJSON_ParseWithLength((const char *)payload, plen);
	const cJSON *exp = cJSON_GetObjectItemCaseSensitive(p, "exp");
	const char *alg = string_of(h, "alg"), *kid = string_of(h, "kid");
	const char *iss = string_of(p, "iss"), *use = string_of(p, "token_use");

	FUZZ_CHECK(cJSON_IsObject(h) && cJSON_IsObject(p));
	FUZZ_CHECK(alg != NULL && kid != NULL && strcmp(alg, "RS256") == 0 && strcmp(kid, "k1") == 0);
	FUZZ_CHECK(iss != NULL && strcmp(iss, rules->issuer) == 0);
	FUZZ_CHECK(cJSON_IsNumber(exp) && isfinite(exp->valuedouble) &&
	    (double)NOW < exp->valuedouble + rules->skew);
	FUZZ_CHECK(use != NULL && (strcmp(use, "access") == 0 || strcmp(use, "id") == 0));
	if (res->status == JWT_VALID)
		FUZZ_CHECK(res->exp >= NOW - (int64_t)rules->skew);
	cJSON_Delete(h);
	cJSON_Delete(p);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct jwt_rules *rules;
	struct jwt_result res;
	const uint8_t *header, *payload, *nl;
	size_t hlen, plen, len;
	char *token;

	if (size < 1)
		return 0;
	rules = &rule_sets[(data[0] >> 1) & 3];
	if ((data[0] & 1) == 0) {
		token = malloc(size - 1 ? size - 1 : 1);
		if (token == NULL)
			abort();
		memcpy(token, data + 1, size - 1);
		jwt_verify(token, size - 1, lookup, NULL, rules, NOW, &res);
		FUZZ_CHECK(res.reason != NULL);
		/* Only the driver holds the private key. */
		FUZZ_CHECK(res.status == JWT_INVALID || res.status == JWT_UNKNOWN_KID);
		FUZZ_CHECK(res.identity.sub == NULL && res.identity.scope == NULL);
		free(token);
		return 0;
	}
	header = data + 1;
	nl = memchr(header, '\n', size - 1);
	hlen = nl ? (size_t)(nl - header) : size - 1;
	payload = nl ? nl + 1 : data + size;
	plen = (size_t)(data + size - payload);
	token = sign_token(header, hlen, payload, plen, &len);
	jwt_verify(token, len, lookup, NULL, rules, NOW, &res);
	FUZZ_CHECK(res.reason != NULL);
	if (res.status == JWT_VALID || res.status == JWT_INSUFFICIENT_SCOPE)
		check_accepted(header, hlen, payload, plen, rules, &res);
	/* Only a valid token carries an identity, and then a whole one. */
	FUZZ_CHECK(res.status == JWT_VALID ? (res.identity.sub == NULL) == (res.identity.scope == NULL) :
	    res.identity.sub == NULL);
	jwt_identity_free(&res.identity);
	free(token);
	return 0;
}
