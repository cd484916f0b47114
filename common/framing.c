/* Runs in: workers and the metrics process, after the sandbox. */
/*
 * framing: RFC 9112 framing checks on the raw request head.  Runs in both
 * HTTP servers (every worker, and the metrics process on --metrics-listen),
 * on the request path, after the sandbox is in place.
 */
#include "common/framing.h"

#include <string.h>
#include <strings.h>

#include "common/h2o_private.h"

/* Header lines of a head that decide how its body is framed, counted. */
struct framing_counts {
	unsigned content_length;
	unsigned transfer_encoding;
	unsigned host;
};

static bool
name_is(const char *name, size_t len, const char *lowercase)
{
	return strlen(lowercase) == len && strncasecmp(name, lowercase, len) == 0;
}

static void
count_header(struct framing_counts *c, const char *line, size_t len)
{
	const char *colon = memchr(line, ':', len);
	size_t namelen;

	/* A line that starts with white space continues the previous one. */
	if (colon == NULL || len == 0 || line[0] == ' ' || line[0] == '\t')
		return;
	namelen = (size_t)(colon - line);
	if (name_is(line, namelen, "content-length"))
		c->content_length++;
	else if (name_is(line, namelen, "transfer-encoding"))
		c->transfer_encoding++;
	else if (name_is(line, namelen, "host"))
		c->host++;
}

/* Counts the framing headers of `head`, up to its blank line. */
static void
count_headers(const char *head, size_t len, struct framing_counts *c)
{
	const char *p = head, *end = head + len;
	bool request_line = true;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t linelen = (size_t)((nl ? nl : end) - p);

		if (linelen > 0 && p[linelen - 1] == '\r')
			linelen--;
		if (linelen == 0 && !request_line)
			return;	/* the blank line: the body starts after it */
		if (!request_line)
			count_header(c, p, linelen);
		request_line = false;
		p = nl ? nl + 1 : end;
	}
}

bool
framing_head_chunked(const char *head, size_t len)
{
	struct framing_counts c = {0};

	count_headers(head, len, &c);
	return c.transfer_encoding > 0;
}

const char *
framing_head_problem(const char *head, size_t len, bool http11)
{
	struct framing_counts c = {0};

	count_headers(head, len, &c);
	if (c.content_length > 1)
		return "more than one Content-Length header";
	if (c.transfer_encoding > 1)
		return "more than one Transfer-Encoding header";
	if (c.content_length > 0 && c.transfer_encoding > 0)
		return "Content-Length together with Transfer-Encoding";
	if (c.host > 1)
		return "more than one Host header";
	if (http11 && c.host == 0)
		return "no Host header (HTTP/1.1 requires one)";
	return NULL;
}

size_t
framing_head_length(const char *p, size_t len)
{
	for (const char *nl = memchr(p, '\n', len); nl != NULL;
	    nl = memchr(nl + 1, '\n', len - (size_t)(nl + 1 - p))) {
		const char *next = nl + 1, *end = p + len;

		if (next < end && *next == '\n')
			return (size_t)(next + 1 - p);
		if (next + 1 < end && next[0] == '\r' && next[1] == '\n')
			return (size_t)(next + 2 - p);
	}
	return 0;
}

h2o_socket_t *
framing_socket(h2o_req_t *req)
{
	const struct h2o_private_http1_conn *conn = (const void *)req->conn;

	/* A socket that does not point back at its connection: not the layout we know. */
	if (conn->sock == NULL || conn->sock->data != (void *)req->conn)
		return NULL;
	return conn->sock;
}

bool
framing_raw_head(h2o_req_t *req, const char **head, size_t *len)
{
	h2o_socket_t *sock = framing_socket(req);
	h2o_buffer_t *in;

	if (sock == NULL || sock->input == NULL)
		return false;
	/* h2o consumes a request's bytes only once it has been answered. */
	in = sock->input;
	*head = in->bytes;
	*len = framing_head_length(in->bytes, in->size);
	return *len > req->input.method.len &&
	    memcmp(in->bytes, req->input.method.base, req->input.method.len) == 0 &&
	    in->bytes[req->input.method.len] == ' ';
}

bool
framing_absolute_target(h2o_iovec_t target, h2o_iovec_t *authority, h2o_iovec_t *path)
{
	size_t skip;
	const char *start, *end = target.base + target.len;

	if (target.len > 7 && strncasecmp(target.base, "http://", 7) == 0)
		skip = 7;
	else if (target.len > 8 && strncasecmp(target.base, "https://", 8) == 0)
		skip = 8;
	else
		return false;
	start = target.base + skip;
	authority->base = (char *)start;
	while (start < end && *start != '/' && *start != '?')
		start++;
	authority->len = (size_t)(start - authority->base);
	if (authority->len == 0)
		return false;
	if (start == end) {
		*path = h2o_iovec_init(H2O_STRLIT("/"));
		return true;
	}
	/* A query right after the authority ("http://h?q") is not served: no route has one. */
	*path = h2o_iovec_init(start, (size_t)(end - start));
	return *start == '/';
}
