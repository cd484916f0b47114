#include "worker/jwt.h"

#include <math.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "common/json.h"

#define JWT_MAX_HEADER 1024	/* decoded bytes */
#define JWT_MAX_PAYLOAD 6144
#define JWT_MAX_SIGNATURE 1024	/* RSA-8192 */
#define JWT_MAX_MEMBERS 64

/* The three segments of a compact JWS, as they appear in the token. */
struct segments {
	const char *part[3];
	size_t len[3];
};

static int
fail(struct jwt_result *out, enum jwt_status status, const char *reason)
{
	out->status = status;
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

/* Strict base64url without padding (RFC 7515 §2); -1 on any other form. */
static int
b64url_decode(const char *s, size_t n, unsigned char *out, size_t cap, size_t *outlen)
{
	const char *end;

	if (sodium_base642bin(out, cap, s, n, NULL, outlen, &end,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 || end != s + n)
		return -1;
	return 0;
}

/* Parses a decoded segment as a JSON object with unique member names. */
static int
parse_object(const unsigned char *json, size_t len, struct json_doc *doc)
{
	int members = 0;

	if (json_doc_parse(doc, (const char *)json, len) < 0)
		return -1;
	if (!cJSON_IsObject(doc->root))
		goto bad;
	/* Duplicate names are ambiguous (RFC 7515 §4, RFC 7519 §4): refuse them. */
	for (const cJSON *a = doc->root->child; a != NULL; a = a->next) {
		if (++members > JWT_MAX_MEMBERS)
			goto bad;
		for (const cJSON *b = a->next; b != NULL; b = b->next)
			if (strcmp(a->string, b->string) == 0)
				goto bad;
	}
	return 0;
bad:
	json_doc_free(doc);
	return -1;
}

/*
 * A string member, or NULL.  A string holding U+0000 counts as absent: cJSON
 * would cut it at the NUL, so "k1\u0000x" must not pass for "k1".
 */
static const char *
string_member(const struct json_doc *doc, const cJSON *obj, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);

	if (!cJSON_IsString(v) || json_doc_string_has_nul(doc, v))
		return NULL;
	return v->valuestring;
}

/* Reads the header, picks the key and checks the pinned algorithm. */
static const struct jwt_key *
check_header(const struct segments *seg, jwt_key_lookup lookup, void *ctx, struct jwt_result *out)
{
	unsigned char raw[JWT_MAX_HEADER];
	const struct jwt_key *key = NULL;
	struct json_doc doc;
	const char *alg, *kid, *typ;
	size_t n;

	if (b64url_decode(seg->part[0], seg->len[0], raw, sizeof(raw), &n) < 0 ||
	    parse_object(raw, n, &doc) < 0) {
		fail(out, JWT_INVALID, "malformed token header");
		return NULL;
	}
	alg = string_member(&doc, doc.root, "alg");
	kid = string_member(&doc, doc.root, "kid");
	typ = string_member(&doc, doc.root, "typ");
	if (alg == NULL || kid == NULL)
		fail(out, JWT_INVALID, "token header lacks alg or kid");
	else if (cJSON_GetObjectItemCaseSensitive(doc.root, "crit") != NULL)
		fail(out, JWT_INVALID, "token header has crit extensions");
	else if (typ != NULL && strcasecmp(typ, "JWT") != 0 && strcasecmp(typ, "at+jwt") != 0)
		fail(out, JWT_INVALID, "token type is not JWT");
	else if ((key = lookup(ctx, kid, strlen(kid))) == NULL)
		fail(out, JWT_UNKNOWN_KID, "unknown signing key");
	else if (strcmp(alg, key->alg) != 0) {
		fail(out, JWT_INVALID, "algorithm not allowed for this key");
		key = NULL;
	}
	json_doc_free(&doc);
	return key;
}

/* RSA PKCS#1 v1.5 + SHA-256 over "header.payload": the only routine there is. */
static int
check_signature(const struct segments *seg, const struct jwt_key *key, struct jwt_result *out)
{
	unsigned char sig[JWT_MAX_SIGNATURE];
	EVP_MD_CTX *md;
	size_t n;
	int ok;

	if (b64url_decode(seg->part[2], seg->len[2], sig, sizeof(sig), &n) < 0 ||
	    (int)n != EVP_PKEY_get_size(key->pkey))
		return fail(out, JWT_INVALID, "malformed signature");
	md = EVP_MD_CTX_new();
	if (md == NULL)
		return fail(out, JWT_INVALID, "out of memory");
	ok = EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key->pkey) == 1 &&
	    EVP_DigestVerify(md, sig, n, (const unsigned char *)seg->part[0],
	    seg->len[0] + 1 + seg->len[1]) == 1;
	EVP_MD_CTX_free(md);
	return ok ? 0 : fail(out, JWT_INVALID, "signature verification failed");
}

static bool
number_member(const cJSON *obj, const char *name, double *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);

	if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
		return false;
	*out = v->valuedouble;
	return true;
}

/* exp (required), nbf and iat, each with the configured leeway. */
static int
check_times(const cJSON *claims, const struct jwt_policy *p, int64_t now, struct jwt_result *out)
{
	double exp, nbf, iat;

	if (cJSON_GetObjectItemCaseSensitive(claims, "exp") == NULL || !number_member(claims, "exp", &exp))
		return fail(out, JWT_INVALID, "token has no valid exp");
	if ((double)now >= exp + p->skew)
		return fail(out, JWT_INVALID, "token expired");
	if (cJSON_GetObjectItemCaseSensitive(claims, "nbf") != NULL &&
	    (!number_member(claims, "nbf", &nbf) || (double)now + p->skew < nbf))
		return fail(out, JWT_INVALID, "token not yet valid");
	if (cJSON_GetObjectItemCaseSensitive(claims, "iat") != NULL &&
	    (!number_member(claims, "iat", &iat) || iat > (double)now + p->skew))
		return fail(out, JWT_INVALID, "token issued in the future");
	out->exp = exp > (double)INT64_MAX / 2 ? INT64_MAX / 2 : (int64_t)exp;
	return 0;
}

/* aud may be a string or an array of strings; one allowed value suffices. */
static bool
audience_allowed(const struct json_doc *doc, const cJSON *claims, const struct strlist *allowed)
{
	const cJSON *aud = cJSON_GetObjectItemCaseSensitive(claims, "aud"), *v;
	const char *one = string_member(doc, claims, "aud");

	if (one != NULL)
		return strlist_contains(allowed, one, strlen(one));
	if (!cJSON_IsArray(aud))
		return false;
	cJSON_ArrayForEach(v, aud)
		if (cJSON_IsString(v) && !json_doc_string_has_nul(doc, v) &&
		    strlist_contains(allowed, v->valuestring, strlen(v->valuestring)))
			return true;
	return false;
}

/*
 * Whom the token was issued to.  Cognito access tokens name their app client
 * in client_id and carry no aud; ID tokens name it in aud (spec-notes §4).
 * ID tokens pass only where audiences are configured.
 */
static int
check_recipient(const struct json_doc *doc, const cJSON *claims, const struct jwt_policy *p,
    struct jwt_result *out)
{
	const char *use = string_member(doc, claims, "token_use"), *client;
	bool has_aud = cJSON_GetObjectItemCaseSensitive(claims, "aud") != NULL;

	if (use == NULL)
		return fail(out, JWT_INVALID, "token has no token_use");
	if (strcmp(use, "id") == 0) {
		if (p->audiences->n == 0)
			return fail(out, JWT_INVALID, "ID tokens are not accepted; send an access token");
		return audience_allowed(doc, claims, p->audiences) ? 0 :
		    fail(out, JWT_INVALID, "token audience not allowed");
	}
	if (strcmp(use, "access") != 0)
		return fail(out, JWT_INVALID, "token_use is neither access nor id");
	if (p->clients->n > 0) {
		client = string_member(doc, claims, "client_id");
		if (client == NULL || !strlist_contains(p->clients, client, strlen(client)))
			return fail(out, JWT_INVALID, "client not allowed");
	}
	if (p->audiences->n > 0 && (has_aud || p->clients->n == 0) && !audience_allowed(doc, claims, p->audiences))
		return fail(out, JWT_INVALID, "token audience not allowed");
	return 0;
}

static bool
scope_granted(const char *granted, const char *want)
{
	size_t n = strlen(want);

	for (const char *p = granted; *p != '\0';) {
		size_t len = strcspn(p, " ");

		if (len == n && memcmp(p, want, n) == 0)
			return true;
		p += len;
		p += strspn(p, " ");
	}
	return false;
}

static int
check_claims(const struct segments *seg, const struct jwt_policy *p, int64_t now, struct jwt_result *out)
{
	unsigned char raw[JWT_MAX_PAYLOAD];
	struct json_doc doc;
	const char *iss, *scope;
	size_t n;
	int rc = -1;

	if (b64url_decode(seg->part[1], seg->len[1], raw, sizeof(raw), &n) < 0 ||
	    parse_object(raw, n, &doc) < 0)
		return fail(out, JWT_INVALID, "malformed token payload");
	iss = string_member(&doc, doc.root, "iss");
	scope = string_member(&doc, doc.root, "scope");
	if (iss == NULL || strcmp(iss, p->issuer) != 0)
		fail(out, JWT_INVALID, "wrong issuer");
	else if (check_times(doc.root, p, now, out) == 0 && check_recipient(&doc, doc.root, p, out) == 0) {
		rc = 0;
		for (size_t i = 0; i < p->scopes->n && rc == 0; i++)
			if (scope == NULL || !scope_granted(scope, p->scopes->items[i]))
				rc = fail(out, JWT_INSUFFICIENT_SCOPE, "token lacks a required scope");
	}
	json_doc_free(&doc);
	return rc;
}

void
jwt_verify(const char *token, size_t len, jwt_key_lookup lookup, void *ctx,
    const struct jwt_policy *policy, int64_t now, struct jwt_result *out)
{
	const struct jwt_key *key;
	struct segments seg;

	*out = (struct jwt_result){.status = JWT_VALID, .reason = "valid"};
	if (len > JWT_MAX_LEN) {
		fail(out, JWT_INVALID, "token too large");
		return;
	}
	if (split(token, len, &seg) < 0) {
		fail(out, JWT_INVALID, "malformed token: expected three base64url segments");
		return;
	}
	/* The signature is checked before any claim is believed. */
	key = check_header(&seg, lookup, ctx, out);
	if (key == NULL || check_signature(&seg, key, out) < 0)
		return;
	check_claims(&seg, policy, now, out);
}
