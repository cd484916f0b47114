/* Runs in: the egress process. */
#define _GNU_SOURCE
/*
 * sign: SigV4 for a transfer whose request names an AWS service.  The
 * credentials are the chain's (imds.c): the AWS_* variables the supervisor
 * sealed for the egress (common/aws_env.h), else the instance metadata
 * service's.  The Host header is set here to exactly what was signed, and the path and
 * query go as signed (CURLOPT_PATH_AS_IS).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "egress/sigv4.h"
#include "egress/state.h"

static int
append(struct transfer *t, const char *name, const char *value)
{
	char *line = NULL;
	struct curl_slist *l;

	if (asprintf(&line, "%s: %s", name, value) < 0)
		return -1;
	l = curl_slist_append(t->headers_out, line);
	/* The line may hold a secret (a session token): wipe it before freeing. */
	explicit_bzero(line, strlen(line));
	free(line);
	if (l == NULL)
		return -1;
	t->headers_out = l;
	return 0;
}

int
sign_transfer(struct transfer *t, char *why, size_t whylen)
{
	const struct aws_env *env = &t->eg->aws;
	struct sigv4_credentials cred = {0};
	const char *region = t->aws_region ? t->aws_region : aws_env_get(env, "AWS_REGION");
	struct sigv4_header *headers = calloc(t->n_headers + 1, sizeof(*headers));
	struct sigv4_signed out = {0};
	struct sigv4_request req = {.method = t->method, .host = t->host_header,
	    .path = t->path, .query = t->query, .headers = headers,
	    .header_count = t->n_headers, .payload = SIGV4_PAYLOAD_BYTES, .body = t->body,
	    .body_len = t->body_len, .service = t->aws_service, .region = region, .time = time(NULL)};
	char err[200];
	int rc = -1;

	if (headers == NULL) {
		snprintf(why, whylen, "no memory to sign the request");
		return -1;
	}
	for (size_t i = 0; i < t->n_headers; i++)
		headers[i] = (struct sigv4_header){t->headers[i].name, t->headers[i].value};
	if (imds_credentials(t->eg, &cred, why, whylen) < 0)
		;	/* why says so */
	else if (region == NULL)
		snprintf(why, whylen, "no AWS region: the request names none and AWS_REGION is not set");
	else if (sigv4_sign(&req, &cred, &out, err, sizeof(err)) < 0)
		snprintf(why, whylen, "cannot sign the request: %s", err);
	else if (append(t, "Host", t->host_header) < 0)
		snprintf(why, whylen, "no memory to sign the request");
	else {
		rc = 0;
		for (size_t i = 0; i < out.add_count && rc == 0; i++)
			rc = append(t, out.add[i].name, out.add[i].value);
		if (rc < 0)
			snprintf(why, whylen, "no memory to sign the request");
	}
	sigv4_signed_free(&out);
	free(headers);
	return rc;
}
