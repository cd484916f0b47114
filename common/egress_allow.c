/* Runs in: the supervisor (the flag, at start-up) and the egress process. See egress_allow.h. */
#include "common/egress_allow.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fail.h"

static char
lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool
is_label_char(char c)
{
	return (c >= 'a' && c <= 'z') || is_digit(c) || c == '-' || c == '_';
}

/* Copies s[0..n) into out for a message: at most 80 bytes, anything that is
 * not printable ASCII as '?', so that the reason stays one readable line. */
static const char *
printable(const char *s, size_t n, char *out, size_t cap)
{
	size_t k = 0;

	for (size_t i = 0; i < n && k + 4 < cap && i < 80; i++)
		out[k++] = s[i] >= ' ' && s[i] <= '~' ? s[i] : '?';
	if (n > 80 && k + 4 <= cap) {
		memcpy(out + k, "...", 3);
		k += 3;
	}
	out[k] = '\0';
	return out;
}

/* WHATWG URL's "ends in a number": a last label of digits, or of 0x and hex
 * digits, makes browsers and libcurl read the host as an IPv4 address. */
static bool
label_is_number(const char *s, size_t n)
{
	size_t i = 0;
	bool hex = n >= 2 && s[0] == '0' && lower(s[1]) == 'x';

	if (n == 0)
		return false;
	for (i = hex ? 2 : 0; i < n; i++)
		if (!(is_digit(s[i]) || (hex && lower(s[i]) >= 'a' && lower(s[i]) <= 'f')))
			return false;
	return true;
}

/* An IPv4 address written as IPv4-mapped IPv6 bytes. */
static void
map_ipv4(const unsigned char v4[4], unsigned char addr[16])
{
	memset(addr, 0, 10);
	addr[10] = addr[11] = 0xff;
	memcpy(addr + 12, v4, 4);
}

/* Inside brackets: an IPv6 address, no zone id, no wildcard. */
static int
parse_ipv6(const char *s, size_t n, struct egress_pattern *out, char *why, size_t whylen)
{
	char text[64];

	if (memchr(s, '%', n) != NULL)
		return fail_because(why, whylen, "zone ids (%%) are not allowed");
	if (memchr(s, '*', n) != NULL)
		return fail_because(why, whylen, "wildcards are not allowed in IP addresses");
	if (n >= sizeof(text))
		return fail_because(why, whylen, "not an IPv6 address");
	memcpy(text, s, n);
	text[n] = '\0';
	if (inet_pton(AF_INET6, text, out->addr) != 1)
		return fail_because(why, whylen, "not an IPv6 address");
	out->kind = EGRESS_HOST_IPV6;
	if (inet_ntop(AF_INET6, out->addr, out->host, sizeof(out->host)) == NULL)
		return fail_because(why, whylen, "not an IPv6 address");
	return 0;
}

/* A host whose last label is a number: only a.b.c.d in decimal is taken. */
static int
parse_ipv4(const char *s, size_t n, size_t wildcards, struct egress_pattern *out, char *why, size_t whylen)
{
	unsigned char v4[4];
	char text[16];

	if (wildcards > 0)
		return fail_because(why, whylen, "wildcards are not allowed in IP addresses");
	if (n >= sizeof(text))
		goto bad;
	memcpy(text, s, n);
	text[n] = '\0';
	/* glibc's inet_pton takes exactly four decimal numbers, no leading zeros. */
	if (inet_pton(AF_INET, text, v4) != 1)
		goto bad;
	out->kind = EGRESS_HOST_IPV4;
	memcpy(out->host, text, n + 1);
	map_ipv4(v4, out->addr);
	return 0;
bad:
	return fail_because(why, whylen, "an IPv4 address is four decimal numbers 0 to 255 without "
	    "leading zeros, such as 10.0.0.5");
}

/* One label of a name: "*" (counted in *wildcards when allowed), or 1 to 63
 * letters, digits, '-' and '_', not starting or ending with '-'. */
static int
check_label(const char *s, size_t n, bool allow_wildcard, size_t *wildcards, char *why, size_t whylen)
{
	if (n == 0)
		return fail_because(why, whylen, "empty DNS label");
	if (n > 63)
		return fail_because(why, whylen, "DNS label longer than 63 characters");
	if (n == 1 && s[0] == '*') {
		if (!allow_wildcard)
			return fail_because(why, whylen, "a destination has no wildcard");
		(*wildcards)++;
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '*')
			return fail_because(why, whylen, "'*' must be a whole label, such as *.example.com");
		if (is_label_char(lower(s[i])))
			continue;
		if (s[i] > ' ' && s[i] <= '~')
			return fail_because(why, whylen, "'%c' is not allowed in a host name", s[i]);
		return fail_because(why, whylen, "a host name holds only letters, digits, '-', '_' and '.'");
	}
	if (s[0] == '-' || s[n - 1] == '-')
		return fail_because(why, whylen, "a DNS label cannot start or end with '-'");
	return 0;
}

/* The rules a name with wildcards must keep, beyond its labels. */
static int
check_wildcards(const char *host, size_t labels, size_t wildcards, size_t numbers, char *why, size_t whylen)
{
	if (wildcards == 0)
		return 0;
	if (labels == 1)
		return fail_because(why, whylen, "'*' alone matches only one-label names: name the domain, "
		    "such as *.example.com");
	if (numbers > 0 && numbers + wildcards == labels)
		return fail_because(why, whylen, "wildcards are not allowed in IP addresses");
	for (const char *label = host; label != NULL; label = strchr(label, '.')) {
		label += label[0] == '.';
		if (strncmp(label, "localhost", 9) == 0 && (label[9] == '.' || label[9] == '\0'))
			return fail_because(why, whylen, "localhost is an exact entry: no wildcard may stand with it");
	}
	return 0;
}

/* A DNS name or an IPv4 address, without brackets or port. */
static int
parse_name(const char *s, size_t n, bool allow_wildcard, struct egress_pattern *out, char *why, size_t whylen)
{
	size_t labels = 0, wildcards = 0, numbers = 0, start = 0;

	if (n > 1 && s[n - 1] == '.')
		n--;	/* the root's dot: "example.com." is "example.com" */
	if (n == 0 || (n == 1 && s[0] == '.'))
		return fail_because(why, whylen, "empty host");
	if (n > EGRESS_HOST_MAX)
		return fail_because(why, whylen, "host name longer than %d characters", EGRESS_HOST_MAX);
	for (size_t i = 0; i <= n; i++) {
		if (i < n && s[i] != '.')
			continue;
		if (check_label(s + start, i - start, allow_wildcard, &wildcards, why, whylen) < 0)
			return -1;
		labels++;
		numbers += label_is_number(s + start, i - start);
		if (i == n && label_is_number(s + start, i - start))
			return parse_ipv4(s, n, wildcards, out, why, whylen);
		start = i + 1;
	}
	for (size_t i = 0; i < n; i++)
		out->host[i] = lower(s[i]);
	out->host[n] = '\0';
	out->kind = EGRESS_HOST_NAME;
	return check_wildcards(out->host, labels, wildcards, numbers, why, whylen);
}

static int
parse_port(const char *s, size_t n, uint16_t *port, char *why, size_t whylen)
{
	unsigned long v = 0;

	if (n == 0)
		return fail_because(why, whylen, "empty port");
	if (n == 1 && s[0] == '*') {
		*port = 0;
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		if (!is_digit(s[i]) || i >= 5)
			goto bad;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v == 0 || v > 65535)
		goto bad;
	*port = (uint16_t)v;
	return 0;
bad:
	return fail_because(why, whylen, "a port is 1 to 65535, or * for any");
}

/* Splits "HOST:PORT" (HOST may be "[IPv6]"); sets *host_len and the port. */
static int
split_port(const char *s, size_t n, size_t *host_len, struct egress_pattern *out, char *why, size_t whylen)
{
	const char *colon;

	if (n > 0 && s[0] == '[') {
		const char *close = memchr(s, ']', n);

		if (close == NULL)
			return fail_because(why, whylen, "'[' without ']'");
		colon = close + 1;
		if (colon < s + n && *colon != ':')
			return fail_because(why, whylen, "after ']' comes the end or :PORT");
	} else {
		colon = memchr(s, ':', n);
		if (colon != NULL && memchr(colon + 1, ':', n - (size_t)(colon + 1 - s)) != NULL)
			return fail_because(why, whylen, "an IPv6 address needs brackets, such as [::1]:443");
	}
	*host_len = colon != NULL && colon < s + n ? (size_t)(colon - s) : n;
	if (*host_len == n)
		return 0;
	return parse_port(colon + 1, n - *host_len - 1, &out->port, why, whylen);
}

int
egress_pattern_parse(const char *text, size_t len, struct egress_pattern *out, char *why, size_t whylen)
{
	size_t host_len = 0;

	memset(out, 0, sizeof(*out));
	out->port = EGRESS_DEFAULT_PORT;
	if (split_port(text, len, &host_len, out, why, whylen) < 0)
		return -1;
	if (host_len == 0)
		return fail_because(why, whylen, "empty host");
	if (text[0] == '[')
		return parse_ipv6(text + 1, host_len - 2, out, why, whylen);
	return parse_name(text, host_len, true, out, why, whylen);
}

int
egress_destination_parse(const char *host, uint16_t port, struct egress_pattern *out, char *why, size_t whylen)
{
	size_t n = strlen(host);

	memset(out, 0, sizeof(*out));
	if (port == 0)
		return fail_because(why, whylen, "port 0");
	out->port = port;
	if (n >= 2 && host[0] == '[' && host[n - 1] == ']')
		return parse_ipv6(host + 1, n - 2, out, why, whylen);
	if (memchr(host, ':', n) != NULL)
		return parse_ipv6(host, n, out, why, whylen);
	return parse_name(host, n, false, out, why, whylen);
}

/* Label by label; "*" in the pattern takes exactly one label of the name. */
static bool
name_matches(const char *pattern, const char *name)
{
	for (;;) {
		size_t pn = strcspn(pattern, "."), nn = strcspn(name, ".");

		if (nn == 0 || (!(pn == 1 && pattern[0] == '*') && (pn != nn || memcmp(pattern, name, pn) != 0)))
			return false;
		pattern += pn;
		name += nn;
		if (*pattern == '\0' || *name == '\0')
			return *pattern == *name;
		pattern++;
		name++;
	}
}

static bool
host_matches(const struct egress_pattern *p, const struct egress_pattern *d)
{
	if (p->kind == EGRESS_HOST_NAME || d->kind == EGRESS_HOST_NAME)
		return p->kind == d->kind && name_matches(p->host, d->host);
	return memcmp(p->addr, d->addr, sizeof(p->addr)) == 0;
}

bool
egress_pattern_matches(const struct egress_pattern *p, const struct egress_pattern *d)
{
	return (p->port == 0 || p->port == d->port) && host_matches(p, d);
}

bool
egress_pattern_is_localhost(const struct egress_pattern *p)
{
	return p->kind == EGRESS_HOST_NAME && strcmp(p->host, "localhost") == 0;
}

const char *
egress_pattern_format(const struct egress_pattern *p, char *buf, size_t len)
{
	char port[8] = "*";
	bool brackets = p->kind == EGRESS_HOST_IPV6;

	if (p->port != 0)
		snprintf(port, sizeof(port), "%u", (unsigned)p->port);
	snprintf(buf, len, "%s%s%s:%s", brackets ? "[" : "", p->host, brackets ? "]" : "", port);
	return buf;
}

static bool
tool_name_ok(const char *s, size_t n)
{
	if (n == 0 || n > EGRESS_TOOL_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || is_digit(s[i]) || s[i] == '_'))
			return false;
	return true;
}

/* [TOOL=][-]HOST[:PORT] */
static int
parse_entry(const char *s, size_t n, struct egress_entry *e, char *why, size_t whylen)
{
	const char *eq = memchr(s, '=', n);

	if (n == 0)
		return fail_because(why, whylen, "empty entry");
	if (eq == NULL && s[0] == '-')
		return fail_because(why, whylen, "a removal names the tool whose list it narrows: TOOL=-HOST");
	if (eq != NULL) {
		size_t tn = (size_t)(eq - s);

		if (!tool_name_ok(s, tn))
			return fail_because(why, whylen, "a tool name is 1 to %d of [a-z0-9_]", EGRESS_TOOL_NAME_MAX);
		memcpy(e->tool, s, tn);
		e->tool[tn] = '\0';
		n -= tn + 1;
		s = eq + 1;
		e->removes = n > 0 && s[0] == '-';
		if (e->removes) {
			s++;
			n--;
		}
	}
	return egress_pattern_parse(s, n, &e->pattern, why, whylen);
}

/* Entry [*s, *s + *n) of a list, without the blanks around it; advances past its comma. */
static void
next_entry(const char **p, const char **s, size_t *n)
{
	size_t len = strcspn(*p, ",");

	*s = *p;
	*p += len + ((*p)[len] == ',');
	while (len > 0 && ((*s)[0] == ' ' || (*s)[0] == '\t')) {
		(*s)++;
		len--;
	}
	while (len > 0 && ((*s)[len - 1] == ' ' || (*s)[len - 1] == '\t'))
		len--;
	*n = len;
}

int
egress_allow_parse(const char *text, struct egress_allow *out, char *err, size_t errlen)
{
	size_t count = 1;
	const char *p = text;

	memset(out, 0, sizeof(*out));
	for (const char *c = text; *c != '\0'; c++)
		count += *c == ',';
	if (count > EGRESS_ALLOW_MAX_ENTRIES)
		return fail_because(err, errlen, "%zu entries: at most %d", count, EGRESS_ALLOW_MAX_ENTRIES);
	out->entries = calloc(count, sizeof(*out->entries));
	if (out->entries == NULL)
		return fail_because(err, errlen, "out of memory for %zu entries", count);
	for (size_t i = 0; i < count; i++) {
		char why[128], shown[96];
		const char *s;
		size_t n;

		next_entry(&p, &s, &n);
		if (parse_entry(s, n, &out->entries[i], why, sizeof(why)) < 0) {
			egress_allow_free(out);
			return fail_because(err, errlen, "entry %zu \"%s\": %s", i + 1,
			    printable(s, n, shown, sizeof(shown)), why);
		}
		out->n++;
	}
	return 0;
}

void
egress_allow_free(struct egress_allow *list)
{
	free(list->entries);
	list->entries = NULL;
	list->n = 0;
}

/* What came close to admitting a refused destination, for the reason. */
struct near_miss {
	bool other_port;			/* a pattern named the host, not the port */
	const struct egress_entry *removal;	/* a removal took it out of the declared list */
};

static bool
entry_is_for(const struct egress_entry *e, const struct egress_tool *tool)
{
	if (e->tool[0] == '\0')
		return tool->takes_operator;
	return strcmp(e->tool, tool->name) == 0;
}

static const struct egress_entry *
removal_of(const struct egress_tool *tool, const struct egress_allow *ops, const struct egress_pattern *d)
{
	for (size_t i = 0; ops != NULL && i < ops->n; i++)
		if (ops->entries[i].removes && entry_is_for(&ops->entries[i], tool) &&
		    egress_pattern_matches(&ops->entries[i].pattern, d))
			return &ops->entries[i];
	return NULL;
}

/* The tool's own patterns, minus the operator's removals.  Returns 1 when one
 * admits d, 0 when none does, -1 when any declared pattern is malformed:
 * every one is read, so that a broken declaration fails every request. */
static int
admit_declared(const struct egress_tool *tool, const struct egress_allow *ops, const struct egress_pattern *d,
    struct egress_pattern *admitted, struct near_miss *miss, char *why, size_t whylen)
{
	bool found = false;

	for (size_t i = 0; tool->destinations != NULL && tool->destinations[i] != NULL; i++) {
		const char *text = tool->destinations[i];
		struct egress_pattern p;
		char reason[128], shown[96];

		if (egress_pattern_parse(text, strlen(text), &p, reason, sizeof(reason)) < 0)
			return fail_because(why, whylen, "tool %s declares a malformed destination \"%s\": %s",
			    tool->name, printable(text, strlen(text), shown, sizeof(shown)), reason);
		if (found || !host_matches(&p, d))
			continue;
		if (!egress_pattern_matches(&p, d)) {
			miss->other_port = true;
			continue;
		}
		*admitted = p;
		found = true;
	}
	if (!found)
		return 0;
	miss->removal = removal_of(tool, ops, d);
	return miss->removal == NULL;
}

static bool
admit_operator(const struct egress_tool *tool, const struct egress_allow *ops, const struct egress_pattern *d,
    struct egress_pattern *admitted, struct near_miss *miss)
{
	for (size_t i = 0; ops != NULL && i < ops->n; i++) {
		const struct egress_entry *e = &ops->entries[i];

		if (e->removes || !entry_is_for(e, tool) || !host_matches(&e->pattern, d))
			continue;
		if (!egress_pattern_matches(&e->pattern, d)) {
			miss->other_port = true;
			continue;
		}
		*admitted = e->pattern;
		return true;
	}
	return false;
}

bool
egress_allow_decide(const struct egress_tool *tool, const struct egress_allow *ops, const char *host,
    uint16_t port, struct egress_pattern *admitted, char *why, size_t whylen)
{
	struct egress_pattern d;
	struct near_miss miss = {0};
	char reason[128], shown[96], dest[EGRESS_PATTERN_TEXT_MAX], removal[EGRESS_PATTERN_TEXT_MAX];
	int declared;

	if (egress_destination_parse(host, port, &d, reason, sizeof(reason)) < 0) {
		fail_because(why, whylen, "destination \"%s\": %s", printable(host, strlen(host), shown,
		    sizeof(shown)), reason);
		return false;
	}
	declared = admit_declared(tool, ops, &d, admitted, &miss, why, whylen);
	if (declared != 0)
		return declared > 0;
	if (admit_operator(tool, ops, &d, admitted, &miss))
		return true;
	egress_pattern_format(&d, dest, sizeof(dest));
	if (miss.removal != NULL)
		fail_because(why, whylen, "tool %s may not reach %s: --egress-allow removes it (%s=-%s)", tool->name,
		    dest, tool->name, egress_pattern_format(&miss.removal->pattern, removal, sizeof(removal)));
	else if (miss.other_port)
		fail_because(why, whylen, "tool %s may not reach %s: that host is allowed on other ports only",
		    tool->name, dest);
	else
		fail_because(why, whylen, "tool %s may not reach %s: not among its destinations", tool->name, dest);
	return false;
}
