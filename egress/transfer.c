/* Runs in: the egress process. */
#define _GNU_SOURCE
/*
 * transfer: one outbound request as a libcurl easy handle on the shared
 * multi handle.  Its destination is decided twice: the URL's host and port
 * before any DNS (address_admit_url), then every address libcurl is about
 * to connect to (CURLOPT_OPENSOCKETFUNCTION) and, for a reused connection,
 * the address it is connected to (CURLOPT_PREREQFUNCTION), each with
 * address_may_connect.  finish.c ends it.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "common/clock.h"
#include "egress/address.h"
#include "egress/state.h"

/* Headers a tool may not set: the egress and libcurl own the message's framing and Host. */
static const char *const reserved_headers[] = {
	"host", "content-length", "transfer-encoding", "connection", "te", "upgrade", "keep-alive",
	"proxy-connection", "trailer",
};

/* Headers libcurl adds unasked; removed unless the tool sets them, so that what it sends is exact. */
static const char *const curl_defaults[] = {"Accept", "Content-Type", "Expect"};

struct transfer *
transfer_find(struct peer *p, uint32_t id)
{
	for (struct transfer *t = p->transfers; t != NULL; t = t->next)
		if (t->id == id)
			return t;
	return NULL;
}

static char *
dup_span(struct egress_wire_span s)
{
	return strndup(s.base ? s.base : "", s.len);
}

static int
copy_request(struct transfer *t, const struct egress_wire_request *r)
{
	t->tool = dup_span(r->tool_name);
	t->method = dup_span(r->method);
	t->url = dup_span(r->url);
	t->body = r->body.len ? malloc(r->body.len) : NULL;
	t->headers = calloc(r->n_headers + 1, sizeof(*t->headers));
	if (!t->tool || !t->method || !t->url || !t->headers || (r->body.len && !t->body))
		return -1;
	if (r->body.len)
		memcpy(t->body, r->body.base, r->body.len);
	t->body_len = r->body.len;
	for (size_t i = 0; i < r->n_headers; i++) {
		t->n_headers = i + 1;
		t->headers[i].name = dup_span(r->headers[i].name);
		t->headers[i].value = dup_span(r->headers[i].value);
		if (!t->headers[i].name || !t->headers[i].value)
			return -1;
	}
	if (r->aws_service.len && !(t->aws_service = dup_span(r->aws_service)))
		return -1;
	if (r->aws_region.len && !(t->aws_region = dup_span(r->aws_region)))
		return -1;
	return 0;
}

/* An AWS request to its service's default host goes to AWS_ENDPOINT_URL[_<SERVICE>] when set. */
static int
apply_endpoint(struct transfer *t, char *why, size_t whylen)
{
	const char *region = t->aws_region ? t->aws_region : aws_env_get(&t->eg->aws, "AWS_REGION");
	char *url = NULL;

	if (t->aws_service == NULL ||
	    credentials_endpoint_url(&t->eg->aws, t->aws_service, region, t->url, &url, why, whylen) < 0)
		return t->aws_service == NULL ? 0 : -1;
	if (url != NULL) {
		free(t->url);
		t->url = url;
	}
	return 0;
}

/* An HTTP method is a token (RFC 9110 5.6.2): nothing libcurl could put on the wire otherwise. */
static bool
is_token(struct egress_wire_span s)
{
	static const char extra[] = "!#$%&'*+-.^_`|~";

	for (size_t i = 0; i < s.len; i++) {
		char c = s.base[i];

		if (!(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') && !(c >= '0' && c <= '9') &&
		    (c == '\0' || strchr(extra, c) == NULL))
			return false;
	}
	return s.len > 0;
}

void
transfer_start(struct peer *p, const struct egress_wire_message *msg)
{
	const struct egress_wire_request *r = &msg->request;
	struct transfer *t;
	char why[300];

	if (p->in_flight >= EGRESS_MAX_IN_FLIGHT) {
		peer_fail(p, msg->id, EGRESS_WIRE_OUTCOME_EGRESS_BUSY, "%d requests already in flight for this worker",
		    EGRESS_MAX_IN_FLIGHT);
		return;
	}
	if (!is_token(r->method)) {
		peer_fail(p, msg->id, EGRESS_WIRE_OUTCOME_BAD_REQUEST, "the method is not an HTTP token");
		return;
	}
	if (transfer_find(p, msg->id) != NULL) {
		peer_fail(p, msg->id, EGRESS_WIRE_OUTCOME_BAD_REQUEST, "request id %u is already in flight", msg->id);
		return;
	}
	if ((t = calloc(1, sizeof(*t))) == NULL) {
		peer_fail(p, msg->id, EGRESS_WIRE_OUTCOME_INTERNAL, "the egress has no memory for the request");
		return;
	}
	*t = (struct transfer){.eg = p->eg, .peer = p, .id = msg->id, .next = p->transfers,
	    .response_cap = r->response_cap, .header_cap = r->header_cap, .follow = r->follow_redirects,
	    .started_ms = now_ms()};
	t->deadline_at_ms = t->started_ms + r->deadline_ms;
	strbuf_init(&t->body_in);
	strbuf_init(&t->header_block);
	if (p->transfers != NULL)
		p->transfers->prev = t;
	p->transfers = t;
	p->in_flight++;
	if (copy_request(t, r) < 0) {
		transfer_fail(t, EGRESS_WIRE_OUTCOME_INTERNAL, "the egress has no memory for the request");
		return;
	}
	if (apply_endpoint(t, why, sizeof(why)) < 0) {
		transfer_fail(t, EGRESS_WIRE_OUTCOME_BAD_REQUEST, why);
		return;
	}
	transfer_launch(t);
}

/* The tool's declared destinations; a tool the table lacks declared none. */
static struct egress_tool
tool_of(const struct transfer *t)
{
	const struct egress_tools *table = t->eg->options->tools;

	for (size_t i = 0; table != NULL && i < table->n; i++)
		if (strcmp(table->tools[i].name, t->tool) == 0)
			return table->tools[i];
	return (struct egress_tool){.name = t->tool};
}

/* Reads the hop's URL: scheme, canonical host, port, path and query; the URL to send in *out. */
static int
read_url(struct transfer *t, char **out, char *why, size_t whylen)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL;
	int rc = -1;

	if (u == NULL) {
		snprintf(why, whylen, "no memory");
		return -1;
	}
	if (curl_url_set(u, CURLUPART_URL, t->url, CURLU_PATH_AS_IS | CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK)
		snprintf(why, whylen, "the URL is malformed");
	else if (strcasecmp(scheme, "http") != 0 && strcasecmp(scheme, "https") != 0)
		snprintf(why, whylen, "scheme \"%.16s\" is not http or https", scheme);
	else if (address_canonical_host(host, strlen(host), t->host, sizeof(t->host)) < 0)
		snprintf(why, whylen, "host \"%.64s\" is not a host name or an IP address", host);
	else if (curl_url_set(u, CURLUPART_HOST, t->host, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_PATH, &t->path, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_URL, out, 0) == CURLUE_OK) {
		if (curl_url_get(u, CURLUPART_QUERY, &t->query, 0) != CURLUE_OK)
			t->query = NULL;
		t->port = (uint16_t)atoi(port);
		if (t->port == (strcasecmp(scheme, "https") == 0 ? 443 : 80))
			snprintf(t->host_header, sizeof(t->host_header), "%s", t->host);
		else
			snprintf(t->host_header, sizeof(t->host_header), "%s:%u", t->host, t->port);
		rc = 0;
	} else
		snprintf(why, whylen, "the URL cannot be rebuilt with its canonical host");
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return rc;
}

static size_t
on_body(char *data, size_t size, size_t nmemb, void *user)
{
	struct transfer *t = user;
	size_t n = size * nmemb;

	if (t->body_in.len + n > t->response_cap) {
		t->too_large = true;
		snprintf(t->too_large_why, sizeof(t->too_large_why), "the response body is over the %u bytes the "
		    "tool takes", t->response_cap);
		return 0;
	}
	strbuf_append(&t->body_in, data, n);
	if (!strbuf_ok(&t->body_in)) {
		t->no_memory = true;
		return 0;
	}
	return n;
}

/* The wire's rule for a header: a name without ':' or blanks, no control character, ASCII. */
static bool
wire_takes(const char *s, size_t n, bool is_name)
{
	if (is_name && n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x7f || (c < 0x20 && (is_name || c != '\t')) || (is_name && (c == ':' || c == ' ')))
			return false;
	}
	return true;
}

static void
keep_header(struct transfer *t, const char *line, size_t n)
{
	const char *colon = memchr(line, ':', n), *v, *end = line + n;

	while (end > line && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t'))
		end--;
	if (colon == NULL || colon > end)
		return;
	for (v = colon + 1; v < end && (*v == ' ' || *v == '\t'); v++)
		;
	/* A header the wire would refuse is dropped: the rest of the answer still goes. */
	if (!wire_takes(line, (size_t)(colon - line), true) || !wire_takes(v, (size_t)(end - v), false))
		return;
	strbuf_append(&t->header_block, line, (size_t)(colon - line));
	strbuf_putc(&t->header_block, '\0');
	strbuf_append(&t->header_block, v, (size_t)(end - v));
	strbuf_putc(&t->header_block, '\0');
}

static size_t
on_header(char *data, size_t size, size_t nmemb, void *user)
{
	struct transfer *t = user;
	size_t n = size * nmemb;

	if (n >= 5 && memcmp(data, "HTTP/", 5) == 0) {
		/* A new response (after a 1xx): only the last one's headers are kept. */
		t->header_block.len = 0;
		t->header_bytes = 0;
		return n;
	}
	t->header_bytes += n;
	if (t->header_bytes > t->header_cap) {
		t->too_large = true;
		snprintf(t->too_large_why, sizeof(t->too_large_why), "the response headers are over the %u bytes "
		    "the tool takes", t->header_cap);
		return 0;
	}
	keep_header(t, data, n);
	if (!strbuf_ok(&t->header_block)) {
		t->no_memory = true;
		return 0;
	}
	return n;
}

static bool
may_connect(struct transfer *t, const struct sockaddr *sa, socklen_t len)
{
	char why[200];

	if (address_may_connect(&t->admitted, sa, len, why, sizeof(why)))
		return true;
	t->refused = true;
	snprintf(t->refused_why, sizeof(t->refused_why), "%s", why);
	return false;
}

/* Every new connection: the address libcurl resolved and is about to connect to. */
static curl_socket_t
on_open_socket(void *user, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct transfer *t = user;

	if (purpose != CURLSOCKTYPE_IPCXN || !may_connect(t, &a->addr, a->addrlen))
		return CURL_SOCKET_BAD;
	return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

/* Every request, on a new or a reused connection: the address it goes to. */
static int
on_prereq(void *user, char *ip, char *local_ip, int port, int local_port)
{
	struct transfer *t = user;
	struct sockaddr_storage ss = {0};
	struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
	socklen_t len = sizeof(*v6);

	(void)local_ip;
	(void)local_port;
	if (inet_pton(AF_INET, ip, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)port);
		len = sizeof(*v4);
	} else if (inet_pton(AF_INET6, ip, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)port);
	}
	return may_connect(t, (struct sockaddr *)&ss, len) ? CURL_PREREQFUNC_OK : CURL_PREREQFUNC_ABORT;
}

static bool
tool_sets(const struct transfer *t, const char *name)
{
	for (size_t i = 0; i < t->n_headers; i++)
		if (strcasecmp(t->headers[i].name, name) == 0)
			return true;
	return false;
}

static int
add_line(struct transfer *t, const char *name, const char *value)
{
	char *line = NULL;
	struct curl_slist *l;

	/* "Name;" sends an empty value; "Name:" would remove the header. */
	if (asprintf(&line, value == NULL ? "%s:" : *value ? "%s: %s" : "%s;", name, value) < 0)
		return -1;
	l = curl_slist_append(t->headers_out, line);
	free(line);
	if (l == NULL)
		return -1;
	t->headers_out = l;
	return 0;
}

static int
build_headers(struct transfer *t, char *why, size_t whylen)
{
	for (size_t i = 0; i < t->n_headers; i++) {
		for (size_t r = 0; r < sizeof(reserved_headers) / sizeof(reserved_headers[0]); r++)
			if (strcasecmp(t->headers[i].name, reserved_headers[r]) == 0) {
				snprintf(why, whylen, "header %s is set by the egress, not by a tool", reserved_headers[r]);
				return -1;
			}
		if (add_line(t, t->headers[i].name, t->headers[i].value) < 0)
			goto no_memory;
	}
	for (size_t d = 0; d < sizeof(curl_defaults) / sizeof(curl_defaults[0]); d++)
		if (!tool_sets(t, curl_defaults[d]) && add_line(t, curl_defaults[d], NULL) < 0)
			goto no_memory;
	return 0;
no_memory:
	snprintf(why, whylen, "no memory for the request's headers");
	return -1;
}

static void
set_method(CURL *e, const struct transfer *t)
{
	if (strcmp(t->method, "HEAD") == 0)
		curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
	else if (strcmp(t->method, "GET") != 0 || t->body_len > 0)
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, t->method);
	if (t->body_len > 0 || strcmp(t->method, "POST") == 0 || strcmp(t->method, "PUT") == 0 ||
	    strcmp(t->method, "PATCH") == 0) {
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)t->body_len);
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, t->body ? t->body : "");
	}
}

static void
configure(CURL *e, struct transfer *t, const char *url, long timeout_ms)
{
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_PRIVATE, t);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->errbuf);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	/* The address checked must be the one connected to: no proxy, no redirect by libcurl. */
	curl_easy_setopt(e, CURLOPT_PROXY, "");
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, on_open_socket);
	curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, t);
	curl_easy_setopt(e, CURLOPT_PREREQFUNCTION, on_prereq);
	curl_easy_setopt(e, CURLOPT_PREREQDATA, t);
	curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
	curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
	/* An S3 key may hold "..": the path goes as signed. */
	curl_easy_setopt(e, CURLOPT_PATH_AS_IS, 1L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
	/* The operator's bundle replaces the system's, directory of hashed certificates included. */
	if (t->eg->ca_bundle.data != NULL) {
		curl_easy_setopt(e, CURLOPT_CAINFO_BLOB, &t->eg->ca_bundle);
		curl_easy_setopt(e, CURLOPT_CAINFO, NULL);
		curl_easy_setopt(e, CURLOPT_CAPATH, NULL);
	}
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
	curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)t->response_cap);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, t);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, t);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers_out);
	set_method(e, t);
}

/* The hop's destination, before any DNS; fills t->admitted.  -1 after answering. */
static int
admit(struct transfer *t, char **url)
{
	struct egress_tool tool = tool_of(t);
	char why[300];

	if (read_url(t, url, why, sizeof(why)) < 0) {
		transfer_fail(t, EGRESS_WIRE_OUTCOME_BAD_REQUEST, why);
		return -1;
	}
	if (!address_admit_url(&tool, &t->eg->cfg->egress_allow, t->host, strlen(t->host), t->port, &t->admitted,
	    why, sizeof(why))) {
		char msg[640];	/* room for the longest host and reason: never cut */

		snprintf(msg, sizeof(msg), "%s%.255s:%u refused: %.299s", t->hops ? "redirect to " : "", t->host,
		    t->port, why);
		transfer_fail(t, EGRESS_WIRE_OUTCOME_REFUSED_DESTINATION, msg);
		return -1;
	}
	return 0;
}

int
transfer_launch(struct transfer *t)
{
	char why[300];
	char *url = NULL;
	uint64_t now = now_ms();
	enum egress_wire_outcome outcome = EGRESS_WIRE_OUTCOME_BAD_REQUEST;

	/* Parked until the credentials are fetched: imds.c launches it again. */
	if (t->aws_service != NULL && imds_hold(t))
		return 0;
	if (admit(t, &url) < 0) {
		curl_free(url);
		return -1;
	}
	if (now >= t->deadline_at_ms) {
		curl_free(url);
		transfer_fail(t, EGRESS_WIRE_OUTCOME_TIMEOUT, "the deadline passed before the request could start");
		return -1;
	}
	if (build_headers(t, why, sizeof(why)) < 0 || (t->aws_service && sign_transfer(t, why, sizeof(why)) < 0))
		goto fail;
	outcome = EGRESS_WIRE_OUTCOME_INTERNAL;
	snprintf(why, sizeof(why), "libcurl cannot start the request");
	if ((t->easy = curl_easy_init()) == NULL)
		goto fail;
	configure(t->easy, t, url, (long)(t->deadline_at_ms - now));
	if (curl_multi_add_handle(t->eg->multi, t->easy) != CURLM_OK)
		goto fail;
	curl_free(url);
	return 0;
fail:
	curl_free(url);
	transfer_fail(t, outcome, why);
	return -1;
}

/* What one hop holds: freed before the next hop and at the end. */
void
transfer_end_hop(struct transfer *t)
{
	if (t->easy != NULL) {
		curl_multi_remove_handle(t->eg->multi, t->easy);
		curl_easy_cleanup(t->easy);
		t->easy = NULL;
	}
	curl_slist_free_all(t->headers_out);
	t->headers_out = NULL;
	curl_free(t->path);
	curl_free(t->query);
	t->path = t->query = NULL;
	t->body_in.len = 0;
	t->header_block.len = 0;
	t->header_bytes = 0;
	t->refused = t->too_large = t->no_memory = false;
	t->errbuf[0] = '\0';
}

void
transfer_free(struct transfer *t)
{
	struct peer *p = t->peer;

	transfer_end_hop(t);
	if (t->prev != NULL)
		t->prev->next = t->next;
	else
		p->transfers = t->next;
	if (t->next != NULL)
		t->next->prev = t->prev;
	p->in_flight--;
	for (size_t i = 0; i < t->n_headers; i++) {
		free(t->headers[i].name);
		free(t->headers[i].value);
	}
	free(t->headers);
	free(t->tool);
	free(t->method);
	free(t->url);
	free(t->body);
	free(t->aws_service);
	free(t->aws_region);
	strbuf_free(&t->body_in);
	strbuf_free(&t->header_block);
	free(t);
}
