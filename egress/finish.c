/* Runs in: the egress process. */
#define _GNU_SOURCE
/*
 * finish: the end of a transfer's hop.  A redirect the request asked to
 * follow starts the next hop (decided like the first); anything else is
 * answered, RESPONSE or FAILURE with the outcome libcurl's result maps to,
 * and logged as one line that names the tool, method, host and outcome
 * and never a header value or the URL's query (either may hold a key).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/clock.h"
#include "common/log.h"
#include "egress/state.h"

/* Headers that must not follow a request to another origin. */
static const char *const credential_headers[] = {"authorization", "cookie", "proxy-authorization"};

static void
log_transfer(const struct transfer *t, enum egress_wire_outcome outcome, long status)
{
	struct logline line;
	char host[EGRESS_HOST_MAX + 10];

	snprintf(host, sizeof(host), "%s:%u", t->host[0] ? t->host : "-", t->port);
	logline_begin(&line, outcome == EGRESS_WIRE_OUTCOME_OK ? LOG_INFO : LOG_WARN, "egress_request");
	logline_int(&line, "worker", t->peer->slot);
	logline_str(&line, "tool", t->tool ? t->tool : "");
	logline_str(&line, "method", t->method ? t->method : "");
	logline_str(&line, "host", host);
	logline_str(&line, "outcome", egress_wire_outcome_name(outcome));
	logline_int(&line, "status", status);
	logline_int(&line, "bytes", (long long)t->body_in.len);
	logline_int(&line, "hops", t->hops);
	logline_int(&line, "duration_ms", (long long)(now_ms() - t->started_ms));
	logline_emit(&line);
}

void
transfer_fail(struct transfer *t, enum egress_wire_outcome outcome, const char *why)
{
	log_transfer(t, outcome, 0);
	peer_fail(t->peer, t->id, outcome, "%s", why);
	transfer_free(t);
}

void
transfer_drop(struct transfer *t)
{
	log_transfer(t, EGRESS_WIRE_OUTCOME_CANCELLED, 0);
	transfer_free(t);
}

static enum egress_wire_outcome
outcome_of(const struct transfer *t, CURLcode rc)
{
	if (t->refused)
		return EGRESS_WIRE_OUTCOME_REFUSED_DESTINATION;
	if (t->too_large || rc == CURLE_FILESIZE_EXCEEDED)
		return EGRESS_WIRE_OUTCOME_TOO_LARGE;
	switch (rc) {
	case CURLE_COULDNT_RESOLVE_HOST:
		return EGRESS_WIRE_OUTCOME_DNS_FAILURE;
	case CURLE_OPERATION_TIMEDOUT:
		return EGRESS_WIRE_OUTCOME_TIMEOUT;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_SHUTDOWN_FAILED:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_USE_SSL_FAILED:
		return EGRESS_WIRE_OUTCOME_TLS_FAILED;
	/* The connection failed, or the upstream did not speak HTTP on it. */
	case CURLE_COULDNT_CONNECT:
	case CURLE_WEIRD_SERVER_REPLY:
	case CURLE_GOT_NOTHING:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_UNSUPPORTED_PROTOCOL:
		return EGRESS_WIRE_OUTCOME_CONNECT_FAILED;
	case CURLE_URL_MALFORMAT:
	case CURLE_BAD_FUNCTION_ARGUMENT:
		return EGRESS_WIRE_OUTCOME_BAD_REQUEST;
	default:
		return EGRESS_WIRE_OUTCOME_INTERNAL;
	}
}

static void
fail_with(struct transfer *t, CURLcode rc)
{
	enum egress_wire_outcome outcome = outcome_of(t, rc);
	char why[600];

	if (t->refused)
		snprintf(why, sizeof(why), "%s:%u refused: %s", t->host, t->port, t->refused_why);
	else if (t->too_large)
		snprintf(why, sizeof(why), "%s:%u: %s", t->host, t->port, t->too_large_why);
	else if (rc == CURLE_FILESIZE_EXCEEDED)
		snprintf(why, sizeof(why), "%s:%u: the response body is over the %u bytes the tool takes", t->host,
		    t->port, t->response_cap);
	else if (t->no_memory)
		snprintf(why, sizeof(why), "%s:%u: the egress has no memory for the response", t->host, t->port);
	else
		snprintf(why, sizeof(why), "%s:%u: %s", t->host, t->port,
		    t->errbuf[0] ? t->errbuf : curl_easy_strerror(rc));
	if (t->no_memory)
		outcome = EGRESS_WIRE_OUTCOME_INTERNAL;
	transfer_fail(t, outcome, why);
}

static void
remote_address(CURL *e, char *out, size_t len)
{
	char *ip = NULL;
	long port = 0;

	out[0] = '\0';
	if (curl_easy_getinfo(e, CURLINFO_PRIMARY_IP, &ip) != CURLE_OK || ip == NULL || ip[0] == '\0' ||
	    curl_easy_getinfo(e, CURLINFO_PRIMARY_PORT, &port) != CURLE_OK)
		return;
	snprintf(out, len, strchr(ip, ':') ? "[%s]:%ld" : "%s:%ld", ip, port);
}

static int
answer(struct transfer *t, long status)
{
	struct egress_wire_message msg = {.type = EGRESS_WIRE_RESPONSE, .id = t->id};
	struct egress_wire_header *headers;
	size_t n = 0;
	char remote[80];

	for (size_t off = 0; off < t->header_block.len; off += strlen(t->header_block.data + off) + 1)
		n++;
	if ((headers = calloc(n / 2 + 1, sizeof(*headers))) == NULL)
		return -1;
	n = 0;
	for (size_t off = 0; off < t->header_block.len; n++) {
		const char *name = t->header_block.data + off, *value = name + strlen(name) + 1;

		headers[n].name = (struct egress_wire_span){name, strlen(name)};
		headers[n].value = (struct egress_wire_span){value, strlen(value)};
		off = (size_t)(value + strlen(value) + 1 - t->header_block.data);
	}
	remote_address(t->easy, remote, sizeof(remote));
	msg.response = (struct egress_wire_response){.status = (uint16_t)status, .headers = headers,
	    .n_headers = n, .body = {t->body_in.data, t->body_in.len}, .remote_address = {remote, strlen(remote)}};
	log_transfer(t, EGRESS_WIRE_OUTCOME_OK, status);
	peer_send(t->peer, &msg);
	free(headers);
	transfer_free(t);
	return 0;
}

static bool
same_origin(const char *a, const char *b)
{
	CURLU *ua = curl_url(), *ub = curl_url();
	char *pa = NULL, *pb = NULL;
	bool same = false;

	if (ua && ub && curl_url_set(ua, CURLUPART_URL, a, 0) == CURLUE_OK &&
	    curl_url_set(ub, CURLUPART_URL, b, 0) == CURLUE_OK) {
		curl_url_set(ua, CURLUPART_PATH, "/", 0);
		curl_url_set(ub, CURLUPART_PATH, "/", 0);
		curl_url_set(ua, CURLUPART_QUERY, NULL, 0);
		curl_url_set(ub, CURLUPART_QUERY, NULL, 0);
		same = curl_url_get(ua, CURLUPART_URL, &pa, CURLU_DEFAULT_PORT) == CURLUE_OK &&
		    curl_url_get(ub, CURLUPART_URL, &pb, CURLU_DEFAULT_PORT) == CURLUE_OK && strcasecmp(pa, pb) == 0;
	}
	curl_free(pa);
	curl_free(pb);
	curl_url_cleanup(ua);
	curl_url_cleanup(ub);
	return same;
}

/* Credentials stay with their origin. */
static void
drop_credentials(struct transfer *t)
{
	size_t kept = 0;

	for (size_t i = 0; i < t->n_headers; i++) {
		bool drop = false;

		for (size_t c = 0; c < sizeof(credential_headers) / sizeof(credential_headers[0]); c++)
			drop = drop || strcasecmp(t->headers[i].name, credential_headers[c]) == 0;
		if (drop) {
			free(t->headers[i].name);
			free(t->headers[i].value);
		} else
			t->headers[kept++] = t->headers[i];
	}
	t->n_headers = kept;
}

/* 303, and 301/302 after a POST, become a GET without a body, as browsers and libcurl do. */
static int
become_get(struct transfer *t, long status)
{
	char *get;

	if (!(status == 303 || ((status == 301 || status == 302) && strcmp(t->method, "POST") == 0)) ||
	    strcmp(t->method, "HEAD") == 0)
		return 0;
	if ((get = strdup("GET")) == NULL)
		return -1;
	free(t->method);
	t->method = get;
	free(t->body);
	t->body = NULL;
	t->body_len = 0;
	return 0;
}

/* Starts the next hop when t asked to follow and may; true when it did (or answered). */
static bool
follow(struct transfer *t, long status)
{
	char *location = NULL, *next;

	if (!t->follow || t->aws_service != NULL || t->hops >= EGRESS_MAX_REDIRECTS ||
	    !(status == 301 || status == 302 || status == 303 || status == 307 || status == 308) ||
	    curl_easy_getinfo(t->easy, CURLINFO_REDIRECT_URL, &location) != CURLE_OK || location == NULL)
		return false;
	if ((next = strdup(location)) == NULL || become_get(t, status) < 0) {
		free(next);
		transfer_fail(t, EGRESS_WIRE_OUTCOME_INTERNAL, "no memory to follow a redirect");
		return true;
	}
	if (!same_origin(t->url, next))
		drop_credentials(t);
	free(t->url);
	t->url = next;
	t->hops++;
	transfer_end_hop(t);
	transfer_launch(t);
	return true;
}

void
transfer_finished(struct transfer *t, CURLcode rc)
{
	long status = 0;

	curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
	if (rc != CURLE_OK || t->refused || t->too_large || t->no_memory) {
		fail_with(t, rc);
		return;
	}
	if (status < 100 || status > 999) {
		transfer_fail(t, EGRESS_WIRE_OUTCOME_CONNECT_FAILED, "the upstream answered no HTTP status");
		return;
	}
	if (follow(t, status))
		return;
	if (answer(t, status) < 0)
		transfer_fail(t, EGRESS_WIRE_OUTCOME_INTERNAL, "no memory for the response");
}
