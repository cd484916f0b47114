/* Runs in: the egress process. */
#include "egress/sigv4.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "common/fail.h"
#include "egress/sigv4_canonical.h"

#define ALGORITHM "AWS4-HMAC-SHA256"
#define UNSIGNED_PAYLOAD "UNSIGNED-PAYLOAD"
/* 9999-12-31T23:59:59Z: the last second with a four-digit year. */
#define LAST_SIGNABLE_TIME INT64_C(253402300799)

/*
 * The signing names the S3 client uses.  For them the path is signed as
 * sent (an object key may hold "//" or ".."), and the request carries
 * X-Amz-Content-Sha256, which S3 requires and which may say the payload
 * is unsigned.
 */
static const char *const s3_services[] = { "s3", "s3-object-lambda", "s3-outposts" };

static bool
is_s3(const char *service)
{
	for (size_t i = 0; i < sizeof(s3_services) / sizeof(s3_services[0]); i++)
		if (strcmp(service, s3_services[i]) == 0)
			return true;
	return false;
}

/* A part of the credential scope, where a '/' would shift the parts. */
static bool
is_scope_part(const char *s)
{
	if (s == NULL || *s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if (!(*s >= 'A' && *s <= 'Z') && !(*s >= 'a' && *s <= 'z') &&
		    !(*s >= '0' && *s <= '9') && strchr("-._", *s) == NULL)
			return false;
	return true;
}

/* name[:port] as sent in Host: printable, no space, no URL delimiter. */
static bool
is_host(const char *s)
{
	if (s == NULL || *s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if (*s <= ' ' || *s >= 0x7f || strchr("/?#@", *s) != NULL)
			return false;
	return true;
}

static int
check_scope(const struct sigv4_request *req, const struct sigv4_credentials *cred, char *err,
    size_t errlen)
{
	if (!is_host(req->host))
		return fail_because(err, errlen, "no valid host");
	if (req->path == NULL)
		return fail_because(err, errlen, "no path");
	if (!is_scope_part(req->service))
		return fail_because(err, errlen, "no valid service name");
	if (!is_scope_part(req->region))
		return fail_because(err, errlen, "no valid region");
	if (!is_scope_part(cred->access_key_id))
		return fail_because(err, errlen, "no valid access key id");
	if (cred->secret_access_key == NULL || cred->secret_access_key[0] == '\0')
		return fail_because(err, errlen, "no secret access key");
	return 0;
}

static int
payload_hash(const struct sigv4_request *req, bool s3, char hex[65], char *err, size_t errlen)
{
	unsigned char digest[crypto_hash_sha256_BYTES];
	const char *h = req->payload_sha256;

	switch (req->payload) {
	case SIGV4_PAYLOAD_BYTES:
		if (req->body == NULL && req->body_len > 0)
			return fail_because(err, errlen, "no body for %zu bytes", req->body_len);
		if (crypto_hash_sha256(digest, req->body, req->body_len) != 0)
			return fail_because(err, errlen, "cannot hash the body");
		sodium_bin2hex(hex, 65, digest, sizeof(digest));
		return 0;
	case SIGV4_PAYLOAD_HASH:
		if (h == NULL || strlen(h) != 64 || strspn(h, "0123456789abcdef") != 64)
			return fail_because(err, errlen, "the payload hash is not 64 lower-case hex digits");
		memcpy(hex, h, 65);
		return 0;
	case SIGV4_PAYLOAD_UNSIGNED:
		if (!s3)
			return fail_because(err, errlen, "only S3 takes an unsigned payload");
		memcpy(hex, UNSIGNED_PAYLOAD, sizeof(UNSIGNED_PAYLOAD));
		return 0;
	}
	return fail_because(err, errlen, "unknown payload kind %d", (int)req->payload);
}

/* YYYYMMDD'T'HHMMSS'Z' in UTC; gmtime_r reads no time zone file. */
static int
format_date(int64_t t, char out[17], char *err, size_t errlen)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t < 0 || t > LAST_SIGNABLE_TIME || gmtime_r(&tt, &tm) == NULL)
		return fail_because(err, errlen, "the time %lld is outside the years 1970-9999",
		    (long long)t);
	if (snprintf(out, 17, "%04d%02d%02dT%02d%02d%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
	    tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec) != 16)
		return fail_because(err, errlen, "cannot format the time %lld", (long long)t);
	return 0;
}

static int
hmac(unsigned char out[crypto_auth_hmacsha256_BYTES], const unsigned char *key, size_t keylen,
    const char *msg)
{
	crypto_auth_hmacsha256_state st;
	int rc;

	/* The _init API takes a key of any length ("AWS4" + the secret). */
	rc = crypto_auth_hmacsha256_init(&st, key, keylen);
	rc |= crypto_auth_hmacsha256_update(&st, (const unsigned char *)msg, strlen(msg));
	rc |= crypto_auth_hmacsha256_final(&st, out);
	sodium_memzero(&st, sizeof(st));
	return rc == 0 ? 0 : -1;
}

/*
 * The signing key is HMAC("AWS4" + secret, date) chained through region,
 * service and "aws4_request"; the signature is that key's HMAC of the
 * string to sign.  Every key on the way is wiped.
 */
static int
signature(const struct sigv4_credentials *cred, const char *date8, const struct sigv4_request *req,
    const char *string_to_sign, char hex[65])
{
	unsigned char a[crypto_auth_hmacsha256_BYTES], b[crypto_auth_hmacsha256_BYTES];
	size_t len = strlen(cred->secret_access_key) + 4;
	unsigned char *secret;
	int rc;

	if ((secret = malloc(len)) == NULL)
		return -1;
	memcpy(secret, "AWS4", 4);
	memcpy(secret + 4, cred->secret_access_key, len - 4);
	rc = hmac(a, secret, len, date8);
	sodium_memzero(secret, len);
	free(secret);
	rc |= hmac(b, a, sizeof(a), req->region);
	rc |= hmac(a, b, sizeof(b), req->service);
	rc |= hmac(b, a, sizeof(a), "aws4_request");
	rc |= hmac(a, b, sizeof(b), string_to_sign);
	sodium_bin2hex(hex, 65, a, sizeof(a));
	sodium_memzero(a, sizeof(a));
	sodium_memzero(b, sizeof(b));
	return rc;
}

/* A printf into a string of its own size, or NULL. */
static char *
format(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *
format(const char *fmt, ...)
{
	va_list ap;
	int n;
	char *s;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || (s = malloc((size_t)n + 1)) == NULL)
		return NULL;
	va_start(ap, fmt);
	n = vsnprintf(s, (size_t)n + 1, fmt, ap);
	va_end(ap);
	if (n < 0) {
		free(s);
		return NULL;
	}
	return s;
}

/* The headers the signer adds, in the order they go on the request. */
static size_t
added_headers(const struct sigv4_signed *out, struct sigv4_header added[SIGV4_MAX_ADDED])
{
	size_t n = 0;

	added[n++] = (struct sigv4_header){ "X-Amz-Date", out->amz_date };
	if (out->security_token != NULL)
		added[n++] = (struct sigv4_header){ "X-Amz-Security-Token", out->security_token };
	if (out->content_sha256[0] != '\0')
		added[n++] = (struct sigv4_header){ "X-Amz-Content-Sha256", out->content_sha256 };
	return n;
}

/*
 * The string to sign and the Authorization value, from the canonical
 * request: "AWS4-HMAC-SHA256\n<date>\n<scope>\n<hex SHA-256 of it>".
 */
static int
sign_canonical(const struct sigv4_request *req, const struct sigv4_credentials *cred,
    const struct sigv4_canonical *canon, struct sigv4_signed *out)
{
	unsigned char digest[crypto_hash_sha256_BYTES];
	char hash[65], sig[65], date8[9];
	char *scope;
	int rc = -1;

	memcpy(date8, out->amz_date, 8);
	date8[8] = '\0';
	if ((scope = format("%s/%s/%s/aws4_request", date8, req->region, req->service)) == NULL)
		return -1;
	if (crypto_hash_sha256(digest, (const unsigned char *)canon->request,
	    strlen(canon->request)) != 0)
		goto done;
	sodium_bin2hex(hash, sizeof(hash), digest, sizeof(digest));
	out->string_to_sign = format(ALGORITHM "\n%s\n%s\n%s", out->amz_date, scope, hash);
	if (out->string_to_sign == NULL || signature(cred, date8, req, out->string_to_sign, sig) < 0)
		goto done;
	out->authorization = format(ALGORITHM " Credential=%s/%s, SignedHeaders=%s, Signature=%s",
	    cred->access_key_id, scope, canon->signed_headers, sig);
	rc = out->authorization == NULL ? -1 : 0;
done:
	free(scope);
	return rc;
}

int
sigv4_sign(const struct sigv4_request *req, const struct sigv4_credentials *cred,
    struct sigv4_signed *out, char *err, size_t errlen)
{
	struct sigv4_header signed_too[SIGV4_MAX_ADDED + 1];
	struct sigv4_canonical canon = { 0 };
	char payload[65];
	size_t n;
	bool s3;

	memset(out, 0, sizeof(*out));
	if (check_scope(req, cred, err, errlen) < 0)
		return -1;
	s3 = is_s3(req->service);
	if (format_date(req->time, out->amz_date, err, errlen) < 0 ||
	    payload_hash(req, s3, payload, err, errlen) < 0)
		return -1;
	if (s3)
		memcpy(out->content_sha256, payload, sizeof(payload));
	if (cred->session_token != NULL && cred->session_token[0] != '\0' &&
	    (out->security_token = strdup(cred->session_token)) == NULL)
		goto oom;
	/* Host and the headers added here are signed with the request's own. */
	signed_too[0] = (struct sigv4_header){ "host", req->host };
	n = 1 + added_headers(out, signed_too + 1);
	if (sigv4_canonical_build(req, signed_too, n, s3, payload, &canon, err, errlen) < 0)
		goto fail;
	if (sign_canonical(req, cred, &canon, out) < 0)
		goto oom;
	out->canonical_request = canon.request;
	canon.request = NULL;
	sigv4_canonical_free(&canon);
	out->add_count = added_headers(out, out->add);
	out->add[out->add_count++] = (struct sigv4_header){ "Authorization", out->authorization };
	return 0;
oom:
	fail_because(err, errlen, "out of memory");
fail:
	sigv4_canonical_free(&canon);
	sigv4_signed_free(out);
	return -1;
}

void
sigv4_signed_free(struct sigv4_signed *s)
{
	sigv4_free_wiped(s->security_token);
	sigv4_free_wiped(s->authorization);
	sigv4_free_wiped(s->canonical_request);
	sigv4_free_wiped(s->string_to_sign);
	sodium_memzero(s, sizeof(*s));
}
