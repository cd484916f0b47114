/*
 * http_get: one bounded GET with libcurl, for the fetcher.
 */
#ifndef MCPD_FETCHER_HTTP_GET_H
#define MCPD_FETCHER_HTTP_GET_H

#include <stdbool.h>
#include <stddef.h>

#include "common/strbuf.h"

#define HTTP_GET_MAX_BODY (256 * 1024)
#define HTTP_GET_TIMEOUT_MS 5000

struct http_get_result {
	struct strbuf body;
	long status;
	long max_age;		/* from Cache-Control, -1 when absent */
};

/**
 * GETs `url` without following redirects, with a total timeout and a body
 * limit.  `insecure_ok` also allows http and file URLs.  Returns 0 with a
 * 2xx answer in *res (free res->body), or -1 with a one-line reason in why.
 */
int http_get(const char *url, bool insecure_ok, struct http_get_result *res, char *why, size_t whylen);

#endif
