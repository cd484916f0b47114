/* Runs in: the fetcher, after the sandbox. */
#define _GNU_SOURCE
#include "fetcher/http_get.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

struct transfer {
	struct strbuf *body;
	long max_age;
	bool too_large;
};

static size_t
on_body(char *data, size_t size, size_t nmemb, void *user)
{
	struct transfer *t = user;
	size_t n = size * nmemb;

	if (t->body->len + n > HTTP_GET_MAX_BODY) {
		t->too_large = true;
		return 0;	/* aborts the transfer */
	}
	strbuf_append(t->body, data, n);
	return strbuf_ok(t->body) ? n : 0;
}

/* Reads max-age from a Cache-Control header line, if there is one. */
static size_t
on_header(char *data, size_t size, size_t nmemb, void *user)
{
	struct transfer *t = user;
	size_t n = size * nmemb;
	char line[512];
	const char *p;

	if (n < 14 || strncasecmp(data, "cache-control:", 14) != 0 || n >= sizeof(line))
		return n;
	memcpy(line, data, n);
	line[n] = '\0';
	p = strcasestr(line, "max-age=");
	if (p != NULL)
		t->max_age = strtol(p + 8, NULL, 10);
	if (strcasestr(line, "no-store") != NULL || strcasestr(line, "no-cache") != NULL)
		t->max_age = 0;
	return n;
}

static void
configure(CURL *curl, const char *url, bool insecure_ok, struct transfer *t, char *errbuf)
{
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, insecure_ok ? "https,http,file" : "https");
	/* A redirect could lead anywhere (another host, a file): never follow. */
	curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)HTTP_GET_TIMEOUT_MS);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, (long)HTTP_GET_TIMEOUT_MS);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)HTTP_GET_MAX_BODY);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "mcpd-jwks-fetcher/" MCPD_VERSION);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, t);
	curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(curl, CURLOPT_HEADERDATA, t);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
}

int
http_get(const char *url, bool insecure_ok, struct http_get_result *res, char *why, size_t whylen)
{
	char errbuf[CURL_ERROR_SIZE] = "";
	struct transfer t = {.body = &res->body, .max_age = -1};
	CURL *curl = curl_easy_init();
	CURLcode rc;

	strbuf_init(&res->body);
	res->status = 0;
	res->max_age = -1;
	if (curl == NULL) {
		snprintf(why, whylen, "cannot start libcurl");
		return -1;
	}
	configure(curl, url, insecure_ok, &t, errbuf);
	rc = curl_easy_perform(curl);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &res->status);
	curl_easy_cleanup(curl);
	if (t.too_large)
		snprintf(why, whylen, "%s: answer larger than %d bytes", url, HTTP_GET_MAX_BODY);
	else if (rc != CURLE_OK)
		snprintf(why, whylen, "%s: %s", url, errbuf[0] ? errbuf : curl_easy_strerror(rc));
	else if (strncmp(url, "file:", 5) != 0 && (res->status < 200 || res->status > 299))
		snprintf(why, whylen, "%s: HTTP status %ld%s", url, res->status,
		    res->status >= 300 && res->status < 400 ? " (redirects are not followed)" : "");
	else {
		res->max_age = t.max_age;
		return 0;
	}
	strbuf_free(&res->body);
	return -1;
}
