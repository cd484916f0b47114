/* Runs in: the egress process. */
#include "egress/sigv4_canonical.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "common/fail.h"

/* Headers the signer writes itself (Host from the `host` field). */
static const char *const owned_headers[] = {
	"host", "authorization", "x-amz-date", "x-amz-security-token", "x-amz-content-sha256", "date",
};

/*
 * Headers sent but never signed, as the AWS SDKs leave them out: hop-by-hop
 * headers that a proxy or libcurl itself may rewrite or drop (HTTP/2 has no
 * Connection), and headers that proxies and tracing add or change on the
 * way.  Signing one of them would make a signature that fails for reasons
 * the tool cannot see.  Names starting with proxy- or sec- go with them.
 */
static const char *const unsigned_headers[] = {
	"cache-control", "connection", "expect", "from", "keep-alive", "max-forwards", "pragma",
	"referer", "te", "trailer", "transfer-encoding", "upgrade", "user-agent", "x-amzn-trace-id",
};

/*
 * A growing text buffer that wipes every block it leaves: the canonical
 * request holds the session token, and realloc would leave copies of it in
 * freed memory.
 */
struct wbuf {
	char *data;
	size_t len;
	size_t cap;
	bool failed;
};

static void
wbuf_free(struct wbuf *b)
{
	if (b->data != NULL) {
		sodium_memzero(b->data, b->cap);
		free(b->data);
	}
	memset(b, 0, sizeof(*b));
}

static void
wbuf_append(struct wbuf *b, const char *s, size_t n)
{
	size_t len = b->len, cap = b->cap == 0 ? 128 : b->cap;
	char *p;

	if (b->failed)
		return;
	if (b->cap == 0 || n >= b->cap - len) {
		while (n >= cap - len && cap <= SIZE_MAX / 2)
			cap *= 2;
		if (n >= cap - len || (p = malloc(cap)) == NULL) {
			b->failed = true;
			return;
		}
		if (len > 0)
			memcpy(p, b->data, len);
		wbuf_free(b);
		*b = (struct wbuf){ .data = p, .len = len, .cap = cap };
	}
	memcpy(b->data + len, s, n);
	b->len = len + n;
	b->data[b->len] = '\0';
}

static void
wbuf_puts(struct wbuf *b, const char *s)
{
	wbuf_append(b, s, strlen(s));
}

/* Hands the text to the caller, or NULL (and frees it) if anything failed. */
static char *
wbuf_detach(struct wbuf *b)
{
	char *data = b->data;

	if (b->failed || data == NULL) {
		wbuf_free(b);
		return NULL;
	}
	memset(b, 0, sizeof(*b));
	return data;
}

/* --- Characters --- */

static bool
is_alnum(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* RFC 3986 unreserved: the only bytes the canonical forms keep as they are. */
static bool
is_unreserved(unsigned char c)
{
	return is_alnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

/* RFC 9110 tchar: what a method or a header name is made of. */
static bool
is_tchar(unsigned char c)
{
	return is_alnum(c) || (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static bool
is_control(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

static int
hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static unsigned char
lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 'a' - 'A') : c;
}

/* Compares two ASCII names as their lower-case forms compare. */
static int
lower_cmp(const char *a, const char *b)
{
	unsigned char x, y;

	do {
		x = lower((unsigned char)*a++);
		y = lower((unsigned char)*b++);
	} while (x != '\0' && x == y);
	return x - y;
}

static bool
in_list(const char *name, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (lower_cmp(name, list[i]) == 0)
			return true;
	return false;
}

/* Appends byte c as AWS encodes it: unreserved as is, else %XX in upper case. */
static void
encode_byte(struct wbuf *b, unsigned char c)
{
	static const char hex[] = "0123456789ABCDEF";
	char pct[3] = { '%', hex[c >> 4], hex[c & 15] };

	if (is_unreserved(c))
		wbuf_append(b, (const char *)&c, 1);
	else
		wbuf_append(b, pct, 3);
}

static void
encode(struct wbuf *b, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		encode_byte(b, (unsigned char)s[i]);
}

/* --- Inputs --- */

static bool
is_token(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if (!is_tchar((unsigned char)*s))
			return false;
	return true;
}

/* A header value as HTTP allows it: no control character but tab. */
static bool
is_field_value(const char *s)
{
	for (; *s != '\0'; s++)
		if (is_control((unsigned char)*s) && *s != '\t')
			return false;
	return true;
}

/*
 * The method and the headers: names are tokens, values have no control
 * character but tab, and no name is one the signer adds.
 */
static int
check_headers(const struct sigv4_request *req, const struct sigv4_header *added,
    size_t added_count, char *err, size_t errlen)
{
	const size_t owned = sizeof(owned_headers) / sizeof(owned_headers[0]);

	if (req->method == NULL || !is_token(req->method))
		return fail_because(err, errlen, "no valid method");
	if (req->header_count > 0 && req->headers == NULL)
		return fail_because(err, errlen, "no header list for %zu headers", req->header_count);
	for (size_t i = 0; i < req->header_count; i++) {
		const struct sigv4_header *h = &req->headers[i];

		if (h->name == NULL || h->value == NULL || !is_token(h->name))
			return fail_because(err, errlen, "header %zu has no valid name", i);
		if (in_list(h->name, owned_headers, owned))
			return fail_because(err, errlen, "header %s is the signer's to set", h->name);
		if (!is_field_value(h->value))
			return fail_because(err, errlen, "header %s has a control character", h->name);
	}
	for (size_t i = 0; i < added_count; i++)
		if (!is_field_value(added[i].value))
			return fail_because(err, errlen, "header %s has a control character", added[i].name);
	return 0;
}

/* --- The canonical request --- */

/*
 * S3: the path as sent, which must then be in AWS's encoding already, or
 * the server's canonical form of it would differ from ours.
 */
static int
s3_path(struct wbuf *b, const char *path, char *err, size_t errlen)
{
	for (const char *p = path; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;

		if (is_unreserved(c) || c == '/')
			continue;
		if (c == '%' && hex_value((unsigned char)p[1]) >= 0 && hex_value((unsigned char)p[2]) >= 0 &&
		    !(p[1] >= 'a' && p[1] <= 'f') && !(p[2] >= 'a' && p[2] <= 'f')) {
			p += 2;
			continue;
		}
		return fail_because(err, errlen, "an S3 path must be percent-encoded as AWS encodes it "
		    "(byte %zu is not)", (size_t)(p - path));
	}
	wbuf_puts(b, path);
	return 0;
}

/*
 * Other services: empty and "." segments dropped, ".." removing the segment
 * before it, each segment encoded (again, when the path was sent encoded),
 * and the trailing '/' kept.  Encoded segments hold no '/', so removing a
 * segment is cutting the text back to the last '/'.
 */
static void
normalized_path(struct wbuf *b, const char *path)
{
	size_t base;

	wbuf_puts(b, "/");
	base = b->len;
	for (const char *seg = path; *seg != '\0';) {
		size_t n = strcspn(seg, "/");

		if (n == 2 && seg[0] == '.' && seg[1] == '.') {
			while (!b->failed && b->len > base && b->data[b->len - 1] != '/')
				b->len--;
			if (!b->failed && b->len > base)
				b->len--;
		} else if (n > 0 && !(n == 1 && seg[0] == '.')) {
			if (b->len > base)
				wbuf_puts(b, "/");
			encode(b, seg, n);
		}
		seg += n + (seg[n] == '/');
	}
	if (b->len > base && path[strlen(path) - 1] == '/')
		wbuf_puts(b, "/");
	if (!b->failed)
		b->data[b->len] = '\0';
}

static int
canonical_path(struct wbuf *b, const char *path, bool s3, char *err, size_t errlen)
{
	if (path[0] == '\0')
		path = "/";
	if (path[0] != '/')
		return fail_because(err, errlen, "the path must start with /");
	for (const char *p = path; *p != '\0'; p++)
		if (is_control((unsigned char)*p) || *p == '?' || *p == '#')
			return fail_because(err, errlen, "the path has a control character, '?' or '#'");
	if (s3)
		return s3_path(b, path, err, errlen);
	normalized_path(b, path);
	return 0;
}

struct query_pair {
	char *name;
	char *value;
};

/*
 * Decodes s[0..n) as it was sent and encodes it as AWS does.  A '+' is
 * refused: servers read it as a space or as a plus, so no one signature
 * fits both; the caller writes %20 or %2B.
 */
static char *
requery(const char *s, size_t n, char *err, size_t errlen)
{
	struct wbuf b = { 0 };
	int hi, lo;

	wbuf_append(&b, "", 0);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '%') {
			if (i + 2 >= n || (hi = hex_value((unsigned char)s[i + 1])) < 0 ||
			    (lo = hex_value((unsigned char)s[i + 2])) < 0) {
				fail_because(err, errlen, "the query has a '%%' without two hex digits");
				goto fail;
			}
			c = (unsigned char)(hi << 4 | lo);
			i += 2;
		} else if (c == '+' || c == '#' || is_control(c)) {
			fail_because(err, errlen, "the query has a '+' (write %%20 or %%2B), a '#' "
			    "or a control character");
			goto fail;
		}
		encode_byte(&b, c);
	}
	if (b.failed)
		fail_because(err, errlen, "out of memory");
	return wbuf_detach(&b);
fail:
	wbuf_free(&b);
	return NULL;
}

static int
query_pair_cmp(const void *pa, const void *pb)
{
	const struct query_pair *a = pa, *b = pb;
	int c = strcmp(a->name, b->name);

	return c != 0 ? c : strcmp(a->value, b->value);
}

static void
query_pairs_free(struct query_pair *pairs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(pairs[i].name);
		free(pairs[i].value);
	}
	free(pairs);
}

/*
 * name=value pairs sorted by encoded name, then encoded value; a part
 * without '=' signs as name=, and empty parts ("a=1&&b=2") are skipped.
 */
static int
canonical_query(struct wbuf *b, const char *query, char *err, size_t errlen)
{
	size_t max = 1, n = 0;
	struct query_pair *pairs;

	for (const char *p = query; *p != '\0'; p++)
		max += *p == '&';
	if ((pairs = calloc(max, sizeof(*pairs))) == NULL)
		return fail_because(err, errlen, "out of memory");
	for (const char *part = query; *part != '\0';) {
		size_t len = strcspn(part, "&"), eq = strcspn(part, "=");

		if (len > 0) {
			bool has_eq = eq < len;

			pairs[n].name = requery(part, has_eq ? eq : len, err, errlen);
			if (pairs[n].name != NULL)
				pairs[n].value = has_eq ? requery(part + eq + 1, len - eq - 1, err, errlen)
				    : requery("", 0, err, errlen);
			if (pairs[n++].value == NULL) {
				query_pairs_free(pairs, n);
				return -1;
			}
		}
		part += len + (part[len] == '&');
	}
	qsort(pairs, n, sizeof(*pairs), query_pair_cmp);
	for (size_t i = 0; i < n; i++) {
		wbuf_puts(b, i == 0 ? "" : "&");
		wbuf_puts(b, pairs[i].name);
		wbuf_puts(b, "=");
		wbuf_puts(b, pairs[i].value);
	}
	query_pairs_free(pairs, n);
	return 0;
}

struct header_entry {
	const char *name;
	const char *value;
	size_t order;
};

/* By lower-case name; headers of one name keep the order they were given in. */
static int
header_entry_cmp(const void *pa, const void *pb)
{
	const struct header_entry *a = pa, *b = pb;
	int c = lower_cmp(a->name, b->name);

	return c != 0 ? c : (a->order > b->order) - (a->order < b->order);
}

static bool
has_lower_prefix(const char *name, const char *prefix)
{
	for (; *prefix != '\0'; name++, prefix++)
		if (lower((unsigned char)*name) != (unsigned char)*prefix)
			return false;
	return true;
}

static bool
is_unsigned_header(const char *name)
{
	const size_t n = sizeof(unsigned_headers) / sizeof(unsigned_headers[0]);

	return in_list(name, unsigned_headers, n) || has_lower_prefix(name, "proxy-") ||
	    has_lower_prefix(name, "sec-");
}

/* A value trimmed, with each run of spaces and tabs made one space. */
static void
append_trimmed(struct wbuf *b, const char *v)
{
	bool space = false, any = false;

	for (; *v != '\0'; v++) {
		if (*v == ' ' || *v == '\t') {
			space = any;
			continue;
		}
		if (space)
			wbuf_puts(b, " ");
		wbuf_append(b, v, 1);
		space = false;
		any = true;
	}
}

/*
 * "name:value\n" for each signed header (the values of a repeated name
 * joined with ','), then "\n", and the names joined with ';' into `list`.
 */
static int
canonical_headers(struct wbuf *b, struct wbuf *list, const struct sigv4_header *extra,
    size_t extra_count, const struct sigv4_request *req)
{
	struct header_entry *all;
	size_t n = 0;

	if ((all = calloc(req->header_count + extra_count, sizeof(*all))) == NULL)
		return -1;
	for (size_t i = 0; i < req->header_count; i++) {
		if (is_unsigned_header(req->headers[i].name))
			continue;
		all[n] = (struct header_entry){ req->headers[i].name, req->headers[i].value, n };
		n++;
	}
	for (size_t i = 0; i < extra_count; i++, n++)
		all[n] = (struct header_entry){ extra[i].name, extra[i].value, n };
	qsort(all, n, sizeof(*all), header_entry_cmp);
	for (size_t i = 0; i < n; i++) {
		if (i > 0 && lower_cmp(all[i - 1].name, all[i].name) == 0) {
			wbuf_puts(b, ",");
		} else {
			if (i > 0) {
				wbuf_puts(b, "\n");
				wbuf_puts(list, ";");
			}
			for (const char *p = all[i].name; *p != '\0'; p++) {
				char c = (char)lower((unsigned char)*p);

				wbuf_append(b, &c, 1);
				wbuf_append(list, &c, 1);
			}
			wbuf_puts(b, ":");
		}
		append_trimmed(b, all[i].value);
	}
	free(all);
	wbuf_puts(b, "\n\n");
	return 0;
}


/*
 * method, path, query, headers, signed header names and payload hash, one
 * to a line.
 */
int
sigv4_canonical_build(const struct sigv4_request *req, const struct sigv4_header *added,
    size_t added_count, bool s3, const char *payload_hash, struct sigv4_canonical *out,
    char *err, size_t errlen)
{
	struct wbuf creq = { 0 }, list = { 0 };

	memset(out, 0, sizeof(*out));
	if (check_headers(req, added, added_count, err, errlen) < 0)
		return -1;
	wbuf_puts(&creq, req->method);
	wbuf_puts(&creq, "\n");
	if (canonical_path(&creq, req->path, s3, err, errlen) < 0)
		goto fail;
	wbuf_puts(&creq, "\n");
	if (canonical_query(&creq, req->query == NULL ? "" : req->query, err, errlen) < 0)
		goto fail;
	wbuf_puts(&creq, "\n");
	if (canonical_headers(&creq, &list, added, added_count, req) < 0 || list.failed)
		goto oom;
	wbuf_puts(&creq, list.data);
	wbuf_puts(&creq, "\n");
	wbuf_puts(&creq, payload_hash);
	if ((out->request = wbuf_detach(&creq)) == NULL || (out->signed_headers = wbuf_detach(&list)) == NULL)
		goto oom;
	return 0;
oom:
	fail_because(err, errlen, "out of memory");
fail:
	wbuf_free(&creq);
	wbuf_free(&list);
	sigv4_canonical_free(out);
	return -1;
}

void
sigv4_free_wiped(char *s)
{
	if (s != NULL) {
		sodium_memzero(s, strlen(s));
		free(s);
	}
}

void
sigv4_canonical_free(struct sigv4_canonical *c)
{
	sigv4_free_wiped(c->request);
	sigv4_free_wiped(c->signed_headers);
	c->request = c->signed_headers = NULL;
}
