/* Runs in: workers, after the sandbox. */
#include "worker/jwt.h"

#include <math.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/rsa.h>

#include "common/base64.h"
#include "common/json.h"
#include "worker/scope.h"

#define JWT_MAX_HEADER 1024	/* decoded bytes */
#define JWT_MAX_PAYLOAD 6144
#define JWT_MAX_SIGNATURE 1024	/* RSA-8192 */
#define JWT_MAX_MEMBERS 64

/* The three segments of a compact JWS, as they appear in the token. */
struct segments {
	const char *part[3];
	size_t len[3];
};

/* The decoded header or payload, parsed. */
struct segment_json {
	struct json_doc doc;
	bool may_hold_nul;	/* see may_hold_nul() */
};

static int
fail(struct jwt_result *out, enum jwt_status status, enum counters_refusal refusal, const char *reason)
{
	out->status = status;
	out->refusal = refusal;
	out->reason = reason;
	return -1;
}

static int
split(const char *token, size_t len, struct segments *seg)
{
	const char *start = token, *end = token + len;

	for (int i = 0; i < 3; i++) {
		const char *dot = i < 2 ? memchr(start, '.', (size_t)(end - start)) : end;

		if (dot == NULL || dot == start)
			return -1;
		seg->part[i] = start;
		seg->len[i] = (size_t)(dot - start);
		start = dot + 1;
	}
	return memchr(seg->part[2], '.', seg->len[2]) == NULL ? 0 : -1;
}

/*
 * True when JSON text may hold U+0000 in a string: only the escape \u0000
 * can put it there (raw control characters are not JSON).  Most tokens have
 * none, which spares a search of the source text for every string read.
 */
static bool
may_hold_nul(const unsigned char *json, size_t len)
{
	const unsigned char *p = json, *end = json + len;

	for (; (p = memchr(p, '\\', (size_t)(end - p))) != NULL; p++)
		if (end - p >= 6 && memcmp(p, "\\u0000", 6) == 0)
			return true;
	return false;
}

/* Parses a decoded segment as a JSON object with unique member names. */
static int
parse_object(const unsigned char *json, size_t len, struct segment_json *seg)
{
	int members = 0;

	if (json_doc_parse(&seg->doc, (const char *)json, len) < 0)
		return -1;
	if (!cJSON_IsObject(seg->doc.root))
		goto bad;
	/* Duplicate names are ambiguous (RFC 7515 §4, RFC 7519 §4): refuse them. */
	for (const cJSON *a = seg->doc.root->child; a != NULL; a = a->next) {
		if (++members > JWT_MAX_MEMBERS)
			goto bad;
		for (const cJSON *b = a->next; b != NULL; b = b->next)
			if (a->string[0] == b->string[0] && strcmp(a->string, b->string) == 0)
				goto bad;
	}
	seg->may_hold_nul = may_hold_nul(json, len);
	/*
	 * RFC 7519 compares claim names whole, but cJSON cuts a name at U+0000:
	 * "scope\u0000x" would be read as "scope".  Such a token is malformed.
	 */
	if (seg->may_hold_nul && json_doc_member_name_has_nul(&seg->doc))
		goto bad;
	return 0;
bad:
	json_doc_free(&seg->doc);
	return -1;
}

/*
 * The text of a string value, or NULL.  A string holding U+0000 counts as
 * absent: cJSON would cut it at the NUL, so "k1\u0000x" must not pass for
 * "k1".
 */
static const char *
string_value(const struct segment_json *seg, const cJSON *v)
{
	if (!cJSON_IsString(v) || (seg->may_hold_nul && json_doc_string_has_nul(&seg->doc, v)))
		return NULL;
	return v->valuestring;
}

static const char *
string_member(const struct segment_json *seg, const char *name)
{
	return string_value(seg, cJSON_GetObjectItemCaseSensitive(seg->doc.root, name));
}

/* Reads the header, picks the key and checks the pinned algorithm. */
static const struct jwt_key *
check_header(const struct segments *seg, jwt_key_lookup lookup, void *ctx, struct jwt_result *out)
{
	unsigned char raw[JWT_MAX_HEADER];
	const struct jwt_key *key = NULL;
	struct segment_json header;
	const char *alg, *kid, *typ;
	size_t n;

	if (base64url_decode(seg->part[0], seg->len[0], raw, sizeof(raw), &n) < 0 ||
	    parse_object(raw, n, &header) < 0) {
		fail(out, JWT_INVALID, REFUSAL_MALFORMED, "malformed token header");
		return NULL;
	}
	alg = string_member(&header, "alg");
	kid = string_member(&header, "kid");
	typ = string_member(&header, "typ");
	if (alg == NULL || kid == NULL)
		fail(out, JWT_INVALID, REFUSAL_MALFORMED, "token header lacks alg or kid");
	else if (cJSON_GetObjectItemCaseSensitive(header.doc.root, "crit") != NULL)
		fail(out, JWT_INVALID, REFUSAL_MALFORMED, "token header has crit extensions");
	else if (typ != NULL && strcasecmp(typ, "JWT") != 0 && strcasecmp(typ, "at+jwt") != 0)
		fail(out, JWT_INVALID, REFUSAL_MALFORMED, "token type is not JWT");
	else if ((key = lookup(ctx, kid, strlen(kid))) == NULL)
		fail(out, JWT_UNKNOWN_KID, REFUSAL_UNKNOWN_KID, "unknown signing key");
	else if (strcmp(alg, key->alg) != 0) {
		fail(out, JWT_INVALID, REFUSAL_ALGORITHM, "algorithm not allowed for this key");
		key = NULL;
	}
	json_doc_free(&header.doc);
	return key;
}

/* SHA-256, fetched from the providers once for the whole process. */
static EVP_MD *sha256;

int
jwt_key_prepare(struct jwt_key *key)
{
	EVP_PKEY_CTX *ctx;

	jwt_key_release(key);
	if (sha256 == NULL && (sha256 = EVP_MD_fetch(NULL, "SHA256", NULL)) == NULL)
		return -1;
	ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key->pkey, NULL);
	if (ctx == NULL || EVP_PKEY_verify_init(ctx) != 1 ||
	    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) <= 0 ||
	    EVP_PKEY_CTX_set_signature_md(ctx, sha256) <= 0) {
		EVP_PKEY_CTX_free(ctx);
		return -1;
	}
	key->verify_ctx = ctx;
	return 0;
}

void
jwt_key_release(struct jwt_key *key)
{
	EVP_PKEY_CTX_free(key->verify_ctx);
	key->verify_ctx = NULL;
}

/*
 * With a prepared key: hash, then one RSA public operation.  The context
 * keeps no state between EVP_PKEY_verify calls (the provider's one-shot
 * verify only reads its key, padding and digest), so one context serves
 * every token.
 */
static bool
verify_prepared(const struct jwt_key *key, const unsigned char *msg, size_t len,
    const unsigned char *sig, size_t siglen)
{
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int n;

	return EVP_Digest(msg, len, digest, &n, sha256, NULL) == 1 &&
	    EVP_PKEY_verify(key->verify_ctx, sig, siglen, digest, n) == 1;
}

/* Without: OpenSSL looks the algorithms up again on every call. */
static bool
verify_unprepared(const struct jwt_key *key, const unsigned char *msg, size_t len,
    const unsigned char *sig, size_t siglen)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	bool ok;

	ok = md != NULL && EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key->pkey) == 1 &&
	    EVP_DigestVerify(md, sig, siglen, msg, len) == 1;
	EVP_MD_CTX_free(md);
	return ok;
}

/* RSA PKCS#1 v1.5 + SHA-256 over "header.payload": the only routine there is. */
static int
check_signature(const struct segments *seg, const struct jwt_key *key, struct jwt_result *out)
{
	const unsigned char *msg = (const unsigned char *)seg->part[0];
	size_t len = seg->len[0] + 1 + seg->len[1], n;
	unsigned char sig[JWT_MAX_SIGNATURE];
	bool ok;

	if (base64url_decode(seg->part[2], seg->len[2], sig, sizeof(sig), &n) < 0 ||
	    (int)n != EVP_PKEY_get_size(key->pkey))
		return fail(out, JWT_INVALID, REFUSAL_MALFORMED, "malformed signature");
	ok = key->verify_ctx != NULL ? verify_prepared(key, msg, len, sig, n) :
	    verify_unprepared(key, msg, len, sig, n);
	if (ok)
		return 0;
	/* A forged token must not leave its errors for the next OpenSSL caller. */
	ERR_clear_error();
	return fail(out, JWT_INVALID, REFUSAL_BAD_SIGNATURE, "signature verification failed");
}

/* A numeric claim: 1 when a finite number, 0 when absent, -1 otherwise. */
static int
number_member(const cJSON *obj, const char *name, double *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);

	if (v == NULL)
		return 0;
	if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
		return -1;
	*out = v->valuedouble;
	return 1;
}

/* exp (required), nbf and iat, each with the configured leeway. */
static int
check_times(const cJSON *claims, const struct jwt_rules *p, int64_t now, struct jwt_result *out)
{
	double exp, nbf, iat;
	int has;

	if (number_member(claims, "exp", &exp) != 1)
		return fail(out, JWT_INVALID, REFUSAL_MALFORMED, "token has no valid exp");
	if ((double)now >= exp + p->skew)
		return fail(out, JWT_INVALID, REFUSAL_EXPIRED, "token expired");
	if ((has = number_member(claims, "nbf", &nbf)) < 0 || (has > 0 && (double)now + p->skew < nbf))
		return fail(out, JWT_INVALID, REFUSAL_NOT_YET_VALID, "token not yet valid");
	if ((has = number_member(claims, "iat", &iat)) < 0 || (has > 0 && iat > (double)now + p->skew))
		return fail(out, JWT_INVALID, REFUSAL_NOT_YET_VALID, "token issued in the future");
	out->exp = exp > (double)INT64_MAX / 2 ? INT64_MAX / 2 : (int64_t)exp;
	return 0;
}

static bool
string_allowed(const struct segment_json *claims, const cJSON *v, const struct strlist *allowed)
{
	const char *s = string_value(claims, v);

	return s != NULL && strlist_contains(allowed, s, strlen(s));
}

/* aud may be a string or an array of strings; one allowed value suffices. */
static bool
audience_allowed(const struct segment_json *claims, const cJSON *aud, const struct strlist *allowed)
{
	const cJSON *v;

	if (cJSON_IsString(aud))
		return string_allowed(claims, aud, allowed);
	if (!cJSON_IsArray(aud))
		return false;
	cJSON_ArrayForEach(v, aud)
		if (string_allowed(claims, v, allowed))
			return true;
	return false;
}

/*
 * Whom the token was issued to.  Cognito access tokens name their app client
 * in client_id and carry no aud; ID tokens name it in aud (spec-notes §4).
 * ID tokens pass only where audiences are configured.
 */
static int
check_recipient(const struct segment_json *claims, const struct jwt_rules *p, struct jwt_result *out)
{
	const char *use = string_member(claims, "token_use"), *client;
	const cJSON *aud = cJSON_GetObjectItemCaseSensitive(claims->doc.root, "aud");

	if (use == NULL)
		return fail(out, JWT_INVALID, REFUSAL_TOKEN_USE, "token has no token_use");
	if (strcmp(use, "id") == 0) {
		if (p->audiences->n == 0)
			return fail(out, JWT_INVALID, REFUSAL_TOKEN_USE, "ID tokens are not accepted; send an access token");
		return audience_allowed(claims, aud, p->audiences) ? 0 :
		    fail(out, JWT_INVALID, REFUSAL_WRONG_AUDIENCE, "token audience not allowed");
	}
	if (strcmp(use, "access") != 0)
		return fail(out, JWT_INVALID, REFUSAL_TOKEN_USE, "token_use is neither access nor id");
	if (p->clients->n > 0) {
		client = string_member(claims, "client_id");
		if (client == NULL || !strlist_contains(p->clients, client, strlen(client)))
			return fail(out, JWT_INVALID, REFUSAL_WRONG_CLIENT, "client not allowed");
	}
	if (p->audiences->n > 0 && (aud != NULL || p->clients->n == 0) &&
	    !audience_allowed(claims, aud, p->audiences))
		return fail(out, JWT_INVALID, REFUSAL_WRONG_AUDIENCE, "token audience not allowed");
	return 0;
}

static void copy_identity(const struct segment_json *claims, struct jwt_identity *id);

static int
check_claims(const struct segments *seg, const struct jwt_rules *p, int64_t now, struct jwt_result *out)
{
	unsigned char raw[JWT_MAX_PAYLOAD];
	struct segment_json claims;
	const char *iss, *scope;
	size_t n;
	int rc = -1;

	if (base64url_decode(seg->part[1], seg->len[1], raw, sizeof(raw), &n) < 0 ||
	    parse_object(raw, n, &claims) < 0)
		return fail(out, JWT_INVALID, REFUSAL_MALFORMED, "malformed token payload");
	iss = string_member(&claims, "iss");
	scope = string_member(&claims, "scope");
	if (iss == NULL || strcmp(iss, p->issuer) != 0)
		fail(out, JWT_INVALID, REFUSAL_WRONG_ISSUER, "wrong issuer");
	else if (check_times(claims.doc.root, p, now, out) == 0 && check_recipient(&claims, p, out) == 0) {
		rc = 0;
		for (size_t i = 0; i < p->scopes->n && rc == 0; i++)
			if (scope == NULL || !scope_list_has(scope, p->scopes->items[i]))
				rc = fail(out, JWT_INSUFFICIENT_SCOPE, REFUSAL_INSUFFICIENT_SCOPE, "token lacks a required scope");
	}
	if (rc == 0)
		copy_identity(&claims, &out->identity);
	json_doc_free(&claims.doc);
	return rc;
}

static char *
copy_claim(const struct segment_json *claims, const char *name)
{
	const char *v = string_member(claims, name);

	return strdup(v != NULL ? v : "");
}

/* All or nothing: an identity with a claim missing for lack of memory would mislead. */
static void
copy_identity(const struct segment_json *claims, struct jwt_identity *id)
{
	id->sub = copy_claim(claims, "sub");
	id->username = copy_claim(claims, "username");
	id->client_id = copy_claim(claims, "client_id");
	id->scope = copy_claim(claims, "scope");
	if (id->sub == NULL || id->username == NULL || id->client_id == NULL || id->scope == NULL)
		jwt_identity_free(id);
}

void
jwt_identity_free(struct jwt_identity *id)
{
	free(id->sub);
	free(id->username);
	free(id->client_id);
	free(id->scope);
	*id = (struct jwt_identity){0};
}

void
jwt_verify(const char *token, size_t len, jwt_key_lookup lookup, void *ctx,
    const struct jwt_rules *rules, int64_t now, struct jwt_result *out)
{
	const struct jwt_key *key;
	struct segments seg;

	*out = (struct jwt_result){.status = JWT_VALID, .reason = "valid"};
	if (len > JWT_MAX_LEN) {
		fail(out, JWT_INVALID, REFUSAL_MALFORMED, "token too large");
		return;
	}
	if (split(token, len, &seg) < 0) {
		fail(out, JWT_INVALID, REFUSAL_MALFORMED, "malformed token: expected three base64url segments");
		return;
	}
	/* The signature is checked before any claim is believed. */
	key = check_header(&seg, lookup, ctx, out);
	if (key == NULL || check_signature(&seg, key, out) < 0)
		return;
	check_claims(&seg, rules, now, out);
}
