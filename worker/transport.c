/* Runs in: workers, after the sandbox. */
#include "worker/transport.h"

#include <string.h>
#include <strings.h>

static bool
span_equals_ci(const char *s, size_t n, const char *lit)
{
	return strlen(lit) == n && strncasecmp(s, lit, n) == 0;
}

static void
trim(const char **s, size_t *n)
{
	while (*n > 0 && (**s == ' ' || **s == '\t'))
		(*s)++, (*n)--;
	while (*n > 0 && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t'))
		(*n)--;
}

/* An optional ":port" after an origin's host: 1 to 5 digits, up to 65535. */
static bool
port_suffix_ok(const char *p, size_t n)
{
	unsigned long port = 0;

	if (n == 0)
		return true;
	if (p[0] != ':' || n < 2 || n > 6)
		return false;
	for (size_t i = 1; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return false;
		port = port * 10 + (unsigned long)(p[i] - '0');
	}
	return port <= 65535;
}

/*
 * True only for "http" or "https", "://", a host that is exactly localhost,
 * 127.0.0.1 or [::1], an optional port and nothing else: a prefix match
 * would let "http://localhost.evil.example" or "http://[::1].evil.example"
 * pass the DNS-rebinding check.
 */
static bool
is_loopback_origin(const char *o, size_t n)
{
	static const char *const hosts[] = {"localhost", "127.0.0.1", "[::1]"};
	size_t skip;

	if (n > 7 && strncasecmp(o, "http://", 7) == 0)
		skip = 7;
	else if (n > 8 && strncasecmp(o, "https://", 8) == 0)
		skip = 8;
	else
		return false;
	o += skip;
	n -= skip;
	for (size_t i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
		size_t len = strlen(hosts[i]);

		if (n >= len && strncasecmp(o, hosts[i], len) == 0 && port_suffix_ok(o + len, n - len))
			return true;
	}
	return false;
}

bool
transport_origin_allowed(const struct config *cfg, struct header_value origin)
{
	if (origin.base == NULL || cfg->allow_any_origin)
		return true;
	if (cfg->n_allowed_origins == 0)
		return is_loopback_origin(origin.base, origin.len);
	/* Scheme and host compare without case (RFC 6454 §6.1). */
	for (size_t i = 0; i < cfg->n_allowed_origins; i++)
		if (span_equals_ci(origin.base, origin.len, cfg->allowed_origins[i]))
			return true;
	return false;
}

/* Quality of one media range ("type/sub;q=0.5"), 0..1000. */
static int
range_quality(const char *s, size_t n)
{
	const char *semi = memchr(s, ';', n);

	while (semi != NULL) {
		const char *p = semi + 1, *next;
		size_t len;

		next = memchr(p, ';', (size_t)(s + n - p));
		len = (size_t)((next ? next : s + n) - p);
		trim(&p, &len);
		if (len >= 2 && (p[0] == 'q' || p[0] == 'Q') && p[1] == '=') {
			int q = 0, scale = 1000;

			if (len > 2 && p[2] == '1')
				return 1000;
			for (size_t i = 4; i < len && i < 7; i++) {
				scale /= 10;
				if (p[i] >= '0' && p[i] <= '9')
					q += (p[i] - '0') * scale;
			}
			return q;
		}
		semi = next;
	}
	return 1000;
}

/*
 * How specifically a media range names `type` ("type/subtype"): 3 for the
 * type itself, 2 for a "type/" wildcard, 1 for the any-type wildcard, 0 when
 * it does not match.
 */
static int
range_specificity(const char *range, size_t len, const char *type, size_t typelen)
{
	if (len == typelen && strncasecmp(range, type, typelen) == 0)
		return 3;
	if (len >= 2 && range[len - 1] == '*' && range[len - 2] == '/' &&
	    strncasecmp(range, type, len - 1) == 0)
		return 2;
	return span_equals_ci(range, len, "*/*") ? 1 : 0;
}

/*
 * The quality Accept gives a media type: that of the most specific range
 * matching it (RFC 9110 §12.5.1), so an explicit q=0 beats a wildcard.
 */
static int
accept_quality(struct header_value accept, const char *type, size_t typelen)
{
	const char *p = accept.base, *end = accept.base + accept.len;
	int best_specificity = 0, quality = 0;

	while (p < end) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		size_t len = (size_t)((comma ? comma : end) - p), rangelen;
		const char *range = p, *semi;
		int specificity, q;

		trim(&range, &len);
		semi = memchr(range, ';', len);
		rangelen = semi ? (size_t)(semi - range) : len;
		while (rangelen > 0 && (range[rangelen - 1] == ' ' || range[rangelen - 1] == '\t'))
			rangelen--;
		specificity = range_specificity(range, rangelen, type, typelen);
		q = range_quality(range, len);
		if (specificity > best_specificity || (specificity == best_specificity && specificity > 0 && q > quality)) {
			best_specificity = specificity;
			quality = q;
		}
		p = comma ? comma + 1 : end;
	}
	return quality;
}

bool
transport_negotiate(struct header_value accept, enum reply_format *format)
{
	int json, sse;

	*format = REPLY_JSON;
	if (accept.base == NULL)
		return false;
	json = accept_quality(accept, "application/json", 16);
	sse = accept_quality(accept, "text/event-stream", 17);
	if (sse > json)
		*format = REPLY_SSE;
	return json > 0 && sse > 0;
}

bool
transport_is_json(struct header_value content_type)
{
	const char *s = content_type.base;
	size_t n = content_type.len;
	const char *semi;

	if (s == NULL)
		return false;
	semi = memchr(s, ';', n);
	if (semi != NULL)
		n = (size_t)(semi - s);
	trim(&s, &n);
	return span_equals_ci(s, n, "application/json");
}
