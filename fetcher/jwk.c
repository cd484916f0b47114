/* Runs in: the fetcher, after the sandbox. */
/*
 * jwk: JWKS document -> keyset keys.
 *
 * The document comes from the network, so every field is checked and every
 * key that is not plainly an RS256 signing key is dropped with a reason the
 * fetcher can log.  The kept keys get alg pinned to RS256 here: the verifier
 * never takes the algorithm from a token header (RFC 8725 §2.1, §3.1).
 */
#include "fetcher/jwk.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cJSON.h>

#include "common/base64.h"
#include "common/fail.h"
#include "common/json.h"

/* Largest document accepted; a real JWKS with a few keys is ~2 KiB. */
#define JWK_MAX_DOCUMENT (64 * 1024)
/* Public exponent: at most 32 bits once leading zeros are gone. */
#define JWK_EXPONENT_MAX_BYTES 4
/* Leading zero bytes tolerated in an encoded modulus or exponent. */
#define JWK_LEADING_ZEROS_MAX 8
#define JWK_REASON_MAX 160

/* Members read from a key; each must appear at most once. */
static const char *const jwk_members[] = {"kty", "use", "alg", "key_ops", "kid", "n", "e"};

/* One key while it is being checked; reason is set when it is skipped. */
struct jwk_ctx {
	const cJSON *obj;
	const struct json_doc *doc;
	char kid[KEYSET_KID_MAX];	/* "" until the kid passed its checks */
	char reason[JWK_REASON_MAX];
};

static bool
reject(struct jwk_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Records why the key is skipped; returns false for `return reject(...)`. */
static bool
reject(struct jwk_ctx *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(c->reason, sizeof(c->reason), fmt, ap);
	va_end(ap);
	return false;
}

/* Printable ASCII: safe to compare, to log and to quote in a reason. */
static bool
printable(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			return false;
	return true;
}

/* A document value for a reason: quoted if short and printable. */
static const char *
shown(const char *s, char *buf, size_t buflen)
{
	size_t len = strlen(s);

	if (len > 24 || !printable(s, len))
		return "(unprintable or long)";
	(void)snprintf(buf, buflen, "\"%s\"", s);
	return buf;
}

static const cJSON *
member(const cJSON *obj, const char *name)
{
	return cJSON_GetObjectItemCaseSensitive(obj, name);
}

/*
 * cJSON returns the first of duplicate names; another reader of the same
 * JSON may take the last.  A key whose fields are ambiguous is not used.
 */
static bool
check_duplicates(struct jwk_ctx *c)
{
	for (size_t m = 0; m < sizeof(jwk_members) / sizeof(jwk_members[0]); m++) {
		int seen = 0;

		for (const cJSON *it = c->obj->child; it != NULL; it = it->next)
			if (it->string != NULL && strcmp(it->string, jwk_members[m]) == 0)
				seen++;
		if (seen > 1) {
			/* Which of the kids would be the key's is the question. */
			if (strcmp(jwk_members[m], "kid") == 0)
				c->kid[0] = '\0';
			return reject(c, "member \"%s\" appears %d times", jwk_members[m], seen);
		}
	}
	return true;
}

/* The kid is a lookup key and goes into logs: 1..127 printable bytes. */
static bool
check_kid(struct jwk_ctx *c)
{
	const cJSON *kid = member(c->obj, "kid");
	size_t len;

	if (kid == NULL)
		return reject(c, "no kid");
	if (!cJSON_IsString(kid) || kid->valuestring == NULL)
		return reject(c, "kid is not a string");
	len = strlen(kid->valuestring);
	if (len == 0 || len >= KEYSET_KID_MAX)
		return reject(c, "kid of %zu bytes is not 1..%d", len, KEYSET_KID_MAX - 1);
	if (!printable(kid->valuestring, len))
		return reject(c, "kid has bytes outside printable ASCII");
	memcpy(c->kid, kid->valuestring, len + 1);
	return true;
}

/* An optional string member must be absent or exactly `want`. */
static bool
check_optional(struct jwk_ctx *c, const char *name, const char *want)
{
	const cJSON *v = member(c->obj, name);
	char buf[32];

	if (v == NULL)
		return true;
	if (!cJSON_IsString(v) || v->valuestring == NULL)
		return reject(c, "%s is not a string", name);
	if (strcmp(v->valuestring, want) != 0)
		return reject(c, "%s %s is not \"%s\"", name, shown(v->valuestring, buf, sizeof(buf)), want);
	return true;
}

/* key_ops (RFC 7517 §4.3), when present, must allow "verify". */
static bool
check_key_ops(struct jwk_ctx *c)
{
	const cJSON *ops = member(c->obj, "key_ops");
	const cJSON *op;

	if (ops == NULL)
		return true;
	if (!cJSON_IsArray(ops))
		return reject(c, "key_ops is not an array");
	cJSON_ArrayForEach(op, ops)
		if (cJSON_IsString(op) && op->valuestring != NULL && strcmp(op->valuestring, "verify") == 0)
			return true;
	return reject(c, "key_ops does not include \"verify\"");
}

static bool
check_kind(struct jwk_ctx *c)
{
	const cJSON *kty = member(c->obj, "kty");
	char buf[32];

	if (kty == NULL)
		return reject(c, "no kty");
	if (!cJSON_IsString(kty) || kty->valuestring == NULL)
		return reject(c, "kty is not a string");
	if (strcmp(kty->valuestring, "RSA") != 0)
		return reject(c, "kty %s is not \"RSA\"", shown(kty->valuestring, buf, sizeof(buf)));
	return check_optional(c, "use", "sig") && check_optional(c, "alg", "RS256") && check_key_ops(c);
}

/* Length of the unpadded base64url text of `bytes` bytes. */
static size_t
b64url_len(size_t bytes)
{
	return bytes / 3 * 4 + (bytes % 3 == 0 ? 0 : bytes % 3 + 1);
}

/*
 * Decodes base64url member `name` (no padding, canonical) into out[0..max)
 * with leading zero bytes removed; *len gets the remaining length.
 */
static bool
decode_member(struct jwk_ctx *c, const char *name, uint8_t *out, size_t max, size_t *len)
{
	uint8_t buf[KEYSET_MODULUS_MAX + JWK_LEADING_ZEROS_MAX];
	const cJSON *v = member(c->obj, name);
	size_t b64len, binlen, skip = 0;

	if (v == NULL)
		return reject(c, "no %s", name);
	if (!cJSON_IsString(v) || v->valuestring == NULL)
		return reject(c, "%s is not a string", name);
	/* cJSON ends the text at an escaped NUL, which would hide what follows it. */
	if (json_doc_string_has_nul(c->doc, v))
		return reject(c, "%s is not unpadded base64url", name);
	b64len = strlen(v->valuestring);
	/* Longer than the unpadded text of max bytes and the tolerated zeros. */
	if (b64len > b64url_len(max + JWK_LEADING_ZEROS_MAX))
		return reject(c, "%s is longer than %zu bytes", name, max);
	if (base64url_decode(v->valuestring, b64len, buf, sizeof(buf), &binlen) < 0)
		return reject(c, "%s is not unpadded base64url", name);
	while (skip < binlen && buf[skip] == 0)
		skip++;
	if (binlen - skip > max)
		return reject(c, "%s is longer than %zu bytes", name, max);
	memcpy(out, buf + skip, binlen - skip);
	*len = binlen - skip;
	return true;
}

/* Bits of a big-endian number without leading zero bytes. */
static unsigned
bit_length(const uint8_t *b, size_t len)
{
	unsigned bits;

	if (len == 0)
		return 0;
	bits = (unsigned)(len - 1) * 8;
	for (uint8_t top = b[0]; top != 0; top >>= 1)
		bits++;
	return bits;
}

static bool
check_modulus(struct jwk_ctx *c, struct keyset_key *k)
{
	size_t len;
	unsigned bits;

	if (!decode_member(c, "n", k->n, sizeof(k->n), &len))
		return false;
	k->n_len = (uint32_t)len;
	bits = bit_length(k->n, len);
	if (bits < JWK_MIN_RSA_BITS)
		return reject(c, "RSA modulus of %u bits is below %d", bits, JWK_MIN_RSA_BITS);
	/* A product of two odd primes is odd; an even one is not an RSA key. */
	if ((k->n[len - 1] & 1) == 0)
		return reject(c, "RSA modulus is even");
	return true;
}

static bool
check_exponent(struct jwk_ctx *c, struct keyset_key *k)
{
	uint8_t e[JWK_EXPONENT_MAX_BYTES];
	size_t len;

	if (!decode_member(c, "e", e, sizeof(e), &len))
		return false;
	/* Odd and at least 3: e = 1 would make every "signature" verify. */
	if (len == 0 || (e[len - 1] & 1) == 0 || (len == 1 && e[0] < 3))
		return reject(c, "RSA exponent is not odd and at least 3");
	memcpy(k->e, e, len);
	k->e_len = (uint32_t)len;
	return true;
}

/*
 * cJSON stops a string at an escaped \u0000, so "a\u0000b" reads as "a".
 * Checked last (it rescans the document) and only for keys otherwise kept.
 */
static bool
check_kid_nul(struct jwk_ctx *c)
{
	if (json_doc_string_has_nul(c->doc, member(c->obj, "kid"))) {
		c->kid[0] = '\0';
		return reject(c, "kid has bytes outside printable ASCII");
	}
	return true;
}

/* Fills *k from the key object, or returns false with c->reason set. */
static bool
jwk_parse_key(struct jwk_ctx *c, struct keyset_key *k)
{
	if (!cJSON_IsObject(c->obj))
		return reject(c, "not a JSON object");
	if (!check_kid(c) || !check_duplicates(c) || !check_kind(c) || !check_modulus(c, k) ||
	    !check_exponent(c, k) || !check_kid_nul(c))
		return false;
	memcpy(k->kid, c->kid, sizeof(k->kid));
	k->alg = KEYSET_ALG_RS256;
	return true;
}

/* Takes key c->obj into ks unless it is invalid, a duplicate or one too many. */
static void
jwk_take(struct jwk_ctx *c, struct keyset *ks, jwk_skip_fn skip, void *ctx)
{
	struct keyset_key k;
	bool ok;

	memset(&k, 0, sizeof(k));
	ok = jwk_parse_key(c, &k);
	if (ok && keyset_find(ks, k.kid, strlen(k.kid)) != NULL)
		ok = reject(c, "duplicate kid, the first is kept");
	else if (ok && ks->nkeys >= KEYSET_MAX_KEYS)
		ok = reject(c, "more than %d usable keys", KEYSET_MAX_KEYS);
	if (ok)
		ks->keys[ks->nkeys++] = k;
	else if (skip != NULL)
		skip(ctx, c->kid, c->reason);
}

/* The "keys" array of the document, or NULL with *why set. */
static const cJSON *
keys_array(const cJSON *root, char *why, size_t whylen)
{
	const cJSON *keys = NULL;
	int seen = 0;

	if (!cJSON_IsObject(root)) {
		(void)fail_because(why, whylen, "JWKS is not a JSON object");
		return NULL;
	}
	for (const cJSON *it = root->child; it != NULL; it = it->next)
		if (it->string != NULL && strcmp(it->string, "keys") == 0 && seen++ == 0)
			keys = it;
	if (seen > 1) {
		(void)fail_because(why, whylen, "JWKS has more than one \"keys\" member");
		return NULL;
	}
	if (!cJSON_IsArray(keys)) {
		(void)fail_because(why, whylen, "JWKS has no \"keys\" array");
		return NULL;
	}
	return keys;
}

int
jwk_parse_set(const char *json, size_t len, struct keyset *ks, jwk_skip_fn skip, void *ctx,
    char *why, size_t whylen)
{
	struct json_doc doc;
	const cJSON *keys, *key;

	ks->nkeys = 0;
	memset(ks->keys, 0, sizeof(ks->keys));
	if (json == NULL || len > JWK_MAX_DOCUMENT) {
		return fail_because(why, whylen, "JWKS document is missing or larger than 64 KiB");
	}
	if (json_doc_parse(&doc, json, len) == -1) {
		json_doc_free(&doc);
		return fail_because(why, whylen, "JWKS is not valid JSON");
	}
	keys = keys_array(doc.root, why, whylen);
	if (keys == NULL) {
		json_doc_free(&doc);
		return -1;
	}
	cJSON_ArrayForEach(key, keys) {
		struct jwk_ctx c = {.obj = key, .doc = &doc};

		jwk_take(&c, ks, skip, ctx);
	}
	json_doc_free(&doc);
	return (int)ks->nkeys;
}
