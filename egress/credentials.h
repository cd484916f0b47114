/*
 * credentials: the pure parts of the AWS credential chain and endpoint rule
 * (docs/egress-design.md, "AWS credentials and endpoints"): reading the
 * instance metadata service's credentials document, when to refresh what
 * it gave, and where a request for an AWS service goes when
 * AWS_ENDPOINT_URL_<SERVICE> or AWS_ENDPOINT_URL is set.  egress/imds.c
 * fetches; egress/sign.c signs.
 */
#ifndef MCPD_EGRESS_CREDENTIALS_H
#define MCPD_EGRESS_CREDENTIALS_H

#include <stddef.h>
#include <time.h>

#include "common/aws_env.h"

/* Refresh this long before expiry, when the lifetime allows (as the SDKs do). */
#define CREDENTIALS_REFRESH_AHEAD_S 300

struct aws_credentials {
	char *access_key_id;
	char *secret_access_key;
	char *session_token;	/* NULL without one */
	time_t expiration;	/* 0: never (the environment's) */
};

/**
 * Reads IMDS's credentials document: {"Code": "Success", "AccessKeyId",
 * "SecretAccessKey", "Token", "Expiration": "YYYY-MM-DDTHH:MM:SSZ"}.
 * Returns 0 with *out filled (free with credentials_clear), or -1 with what
 * is wrong in err; err never quotes a value.
 */
int credentials_parse_imds(const char *json, size_t len, struct aws_credentials *out, char *err,
    size_t errlen);
/** "YYYY-MM-DDTHH:MM:SSZ" (fractional seconds allowed) as Unix seconds; -1 if malformed. */
int credentials_parse_time(const char *text, time_t *out);
/**
 * When credentials fetched at `fetched` and expiring at `expiration` are
 * refreshed: CREDENTIALS_REFRESH_AHEAD_S before expiry, or at half their
 * life when that is shorter than twice that margin.
 */
time_t credentials_refresh_at(time_t fetched, time_t expiration);
/** Wipes and frees the strings; c is empty after. */
void credentials_clear(struct aws_credentials *c);

/** The service's variable, AWS_ENDPOINT_URL_<SERVICE>: upper-cased, ' ' and '-' to '_'. */
void credentials_endpoint_variable(const char *service, char *out, size_t outlen);
/**
 * The URL a request for `service` in `region` goes to.  When the URL's
 * host is the service's default, <service>.<region>.amazonaws.com, and
 * AWS_ENDPOINT_URL_<SERVICE> or else AWS_ENDPOINT_URL is set, *out is the
 * URL with its scheme, host and port replaced by the endpoint's (path and
 * query as they were); otherwise *out is NULL.  Returns 0, or -1 with why
 * (the endpoint is not an http(s) URL of a bare origin, no memory).
 * Free *out with free().
 */
int credentials_endpoint_url(const struct aws_env *env, const char *service, const char *region,
    const char *url, char **out, char *why, size_t whylen);

#endif
