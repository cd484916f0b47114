/*
 * sigv4_canonical: the canonical request of AWS Signature Version 4, the
 * text whose hash is signed (sigv4.c signs it; nothing else calls this).
 *
 *   method            as given (a token)
 *   canonical path    S3: the path as sent, which must already be in AWS's
 *                     encoding; others: empty, "." and ".." segments
 *                     resolved, each segment percent-encoded again
 *   canonical query   the query decoded as sent, each name and value
 *                     encoded (RFC 3986 unreserved kept, %XX in upper
 *                     case), sorted by name then value, '=' always present
 *   headers           lower-case names, sorted; values trimmed with each
 *                     run of spaces and tabs made one space; a repeated
 *                     name's values joined with ',' in the order given
 *   signed headers    the names joined with ';'
 *   payload hash
 *
 * Hop-by-hop and proxy headers (Connection, TE, User-Agent, Proxy-*, ...)
 * are sent but not signed, as the AWS SDKs do.
 */
#ifndef MCPD_EGRESS_SIGV4_CANONICAL_H
#define MCPD_EGRESS_SIGV4_CANONICAL_H

#include <stdbool.h>
#include <stddef.h>

#include "egress/sigv4.h"

struct sigv4_canonical {
	char *request;		/* the canonical request; holds the session token */
	char *signed_headers;	/* "host;x-amz-date;..." */
};

/**
 * Builds the canonical request of `req`, signing the headers the signer
 * adds (`added`: host, x-amz-date, ...) with the request's own, and ending
 * with `payload_hash`.  Returns 0, or -1 with a reason in err[errlen] that
 * names no header value; *out is then empty.
 */
int sigv4_canonical_build(const struct sigv4_request *req, const struct sigv4_header *added,
    size_t added_count, bool s3, const char *payload_hash, struct sigv4_canonical *out,
    char *err, size_t errlen);

/** Wipes and frees what sigv4_canonical_build made, and empties *c. */
void sigv4_canonical_free(struct sigv4_canonical *c);

/** Wipes a string that may hold a secret (a session token, a signature), then frees it; NULL is fine. */
void sigv4_free_wiped(char *s);

#endif
