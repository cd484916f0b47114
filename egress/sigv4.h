/*
 * sigv4: AWS Signature Version 4 (header form) for one HTTP request.
 *
 * mcpd signs itself, with libsodium's SHA-256 and HMAC-SHA-256, because
 * libcurl 7.88's CURLOPT_AWS_SIGV4 signs the query and the path without
 * canonical encoding.  The result is the same as AWS's own JavaScript signer
 * (@smithy/signature-v4) configured as the AWS SDK configures it per service;
 * tests/unit/egress/sigv4_test.c runs AWS's test suite and
 * tests/node/sigv4-smithy.test.mjs compares with smithy on random requests.
 * egress/sigv4_canonical.c builds the canonical request; this file hashes
 * and signs it.
 *
 * What the caller gives is what goes on the wire:
 *   - host: the Host header libcurl will send, name[:port];
 *   - path: the URL's path as sent (percent-encoded or not), "" for "/";
 *   - query: the URL's query as sent, without the '?';
 *   - headers: the request's own headers, each as sent.
 * The signer owns Host (the `host` field), Authorization, X-Amz-Date,
 * X-Amz-Security-Token, X-Amz-Content-Sha256 and Date: a header list that
 * names one of them is refused rather than signed twice.
 *
 * Per service, as the SDKs do:
 *   - S3 (s3, s3-object-lambda, s3-outposts): the path is signed as it is
 *     sent, neither normalised nor encoded again (an object key may hold
 *     "//" or ".."), so it must already be percent-encoded as AWS encodes it
 *     (only A-Z a-z 0-9 - . _ ~ / and %XX in upper case); the request gets
 *     X-Amz-Content-Sha256 and may leave its payload unsigned.
 *   - Every other service: "." and ".." segments and empty segments are
 *     removed, then each segment is percent-encoded again ("double
 *     encoding"); the payload is always signed.
 *
 * The clock is never read here: the caller passes the signing time.
 */
#ifndef MCPD_EGRESS_SIGV4_H
#define MCPD_EGRESS_SIGV4_H

#include <stddef.h>
#include <stdint.h>

struct sigv4_header {
	const char *name;
	const char *value;
};

enum sigv4_payload {
	SIGV4_PAYLOAD_BYTES,	/* body[0..body_len) is hashed here */
	SIGV4_PAYLOAD_HASH,	/* payload_sha256: the body's SHA-256, 64 lower-case hex digits */
	SIGV4_PAYLOAD_UNSIGNED,	/* UNSIGNED-PAYLOAD: S3 only */
};

struct sigv4_credentials {
	const char *access_key_id;
	const char *secret_access_key;
	const char *session_token;	/* NULL or "" without one */
};

struct sigv4_request {
	const char *method;
	const char *host;
	const char *path;
	const char *query;		/* NULL or "" without one */
	const struct sigv4_header *headers;
	size_t header_count;
	enum sigv4_payload payload;
	const void *body;
	size_t body_len;
	const char *payload_sha256;
	const char *service;
	const char *region;
	int64_t time;			/* the signing time, Unix seconds */
};

#define SIGV4_MAX_ADDED 4

/*
 * What signing adds.  `add` lists the headers to put on the request, in
 * order (X-Amz-Date, X-Amz-Security-Token when there is a session token,
 * X-Amz-Content-Sha256 for S3, Authorization); their values point into this
 * structure.  The other members name the same values one by one, and the
 * canonical request and string to sign are kept for tests and debugging.
 * The canonical request holds the session token: sigv4_signed_free wipes
 * every buffer before freeing it.
 */
struct sigv4_signed {
	struct sigv4_header add[SIGV4_MAX_ADDED];
	size_t add_count;
	char amz_date[17];		/* YYYYMMDD'T'HHMMSS'Z' */
	char content_sha256[65];	/* "" unless the service takes the header */
	char *security_token;		/* NULL without a session token */
	char *authorization;
	char *canonical_request;
	char *string_to_sign;
};

/**
 * Signs `req` with `cred`.  Returns 0 and fills *out, to be released with
 * sigv4_signed_free; or returns -1 with a reason in err[errlen] (never a
 * secret or a header value) and *out empty, which sigv4_signed_free also
 * accepts.  Nothing of the secret outlives the call.
 */
int sigv4_sign(const struct sigv4_request *req, const struct sigv4_credentials *cred,
    struct sigv4_signed *out, char *err, size_t errlen);

/** Wipes and frees what sigv4_sign put in *s, and empties it. */
void sigv4_signed_free(struct sigv4_signed *s);

#endif
