/* Runs in: the egress process. */
/*
 * address: the classes of IPv4 and IPv6 addresses, the spellings of an IP
 * address in a URL's host, and the rule that says which connection may go
 * where.  See address.h.
 */
#include "egress/address.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fail.h"

/* Copies s[0..n) into out for a message: at most 80 bytes, anything but
 * printable ASCII as '?', so that a hostile host stays one readable line. */
static const char *
printable(const char *s, size_t n, char *out, size_t cap)
{
	size_t k = 0;

	for (size_t i = 0; i < n && i < 80 && k + 1 < cap; i++)
		out[k++] = s[i] >= ' ' && s[i] <= '~' ? s[i] : '?';
	out[k] = '\0';
	return out;
}

/* A range of addresses and its class; for IPv6 that carries an IPv4
 * address, where that address sits (its class is the IPv4 address's). */
struct block {
	const char *range;	/* "address/bits" */
	enum address_class cls;
	const char *carrier;
	size_t v4_at;
};

/* First match wins: the single addresses before the ranges holding them. */
static const struct block ipv4_blocks[] = {
	{"169.254.169.254/32", .cls = ADDRESS_METADATA},	/* EC2, ECS, GCE, Azure, OCI instance metadata */
	{"169.254.170.2/32", .cls = ADDRESS_METADATA},		/* ECS task role credentials */
	{"169.254.170.23/32", .cls = ADDRESS_METADATA},	/* EKS Pod Identity credentials */
	{"100.100.100.200/32", .cls = ADDRESS_METADATA},	/* Alibaba Cloud instance metadata */
	{"168.63.129.16/32", .cls = ADDRESS_METADATA},		/* Azure WireServer (VM settings) */
	{"0.0.0.0/32", .cls = ADDRESS_UNSPECIFIED},
	{"255.255.255.255/32", .cls = ADDRESS_BROADCAST},
	{"0.0.0.0/8", .cls = ADDRESS_RESERVED},		/* "this network" */
	{"10.0.0.0/8", .cls = ADDRESS_PRIVATE},
	{"100.64.0.0/10", .cls = ADDRESS_PRIVATE},		/* shared address space (carrier-grade NAT) */
	{"127.0.0.0/8", .cls = ADDRESS_LOOPBACK},
	{"169.254.0.0/16", .cls = ADDRESS_LINK_LOCAL},
	{"172.16.0.0/12", .cls = ADDRESS_PRIVATE},
	{"192.0.0.0/24", .cls = ADDRESS_RESERVED},		/* IETF protocol assignments */
	{"192.0.2.0/24", .cls = ADDRESS_DOCUMENTATION},
	{"192.88.99.0/24", .cls = ADDRESS_RESERVED},		/* the former 6to4 relay anycast */
	{"192.168.0.0/16", .cls = ADDRESS_PRIVATE},
	{"198.18.0.0/15", .cls = ADDRESS_PRIVATE},		/* benchmarking */
	{"198.51.100.0/24", .cls = ADDRESS_DOCUMENTATION},
	{"203.0.113.0/24", .cls = ADDRESS_DOCUMENTATION},
	{"224.0.0.0/4", .cls = ADDRESS_MULTICAST},
	{"240.0.0.0/4", .cls = ADDRESS_RESERVED},
	{"0.0.0.0/0", .cls = ADDRESS_PUBLIC},
};

static const struct block ipv6_blocks[] = {
	{"::/128", .cls = ADDRESS_UNSPECIFIED},
	{"::1/128", .cls = ADDRESS_LOOPBACK},
	{"fd00:ec2::254/128", .cls = ADDRESS_METADATA},	/* EC2 instance metadata over IPv6 */
	{"fd00:ec2::23/128", .cls = ADDRESS_METADATA},		/* EKS Pod Identity over IPv6 */
	{"::ffff:0:0/96", .carrier = "IPv4-mapped", .v4_at = 12},
	{"::ffff:0:0:0/96", .carrier = "IPv4-translated", .v4_at = 12},
	{"::/96", .carrier = "IPv4-compatible", .v4_at = 12},
	{"64:ff9b::/96", .carrier = "NAT64", .v4_at = 12},
	{"2002::/16", .carrier = "6to4", .v4_at = 2},
	/* Local-use NAT64: where the IPv4 address sits is each network's choice. */
	{"64:ff9b:1::/48", .cls = ADDRESS_RESERVED},
	{"100::/64", .cls = ADDRESS_RESERVED},			/* discard-only */
	{"2001:db8::/32", .cls = ADDRESS_DOCUMENTATION},
	{"2001::/23", .cls = ADDRESS_RESERVED},		/* IETF protocol assignments, Teredo among them */
	{"3fff::/20", .cls = ADDRESS_DOCUMENTATION},
	{"fc00::/7", .cls = ADDRESS_UNIQUE_LOCAL},
	{"fe80::/10", .cls = ADDRESS_LINK_LOCAL},
	{"fec0::/10", .cls = ADDRESS_PRIVATE},			/* the deprecated site-local range */
	{"ff00::/8", .cls = ADDRESS_MULTICAST},
	{"2000::/3", .cls = ADDRESS_PUBLIC},			/* global unicast */
	{"::/0", .cls = ADDRESS_RESERVED},			/* not yet assigned */
};

/* Whether addr (4 or 16 bytes of family) lies in range "address/bits". */
static bool
in_range(const unsigned char *addr, int family, const char *range)
{
	const char *slash = strchr(range, '/');
	unsigned char net[16];
	char text[48];
	size_t n = (size_t)(slash - range);
	unsigned bits = (unsigned)atoi(slash + 1), full = bits / 8, rest = bits % 8;

	memcpy(text, range, n);
	text[n] = '\0';
	if (inet_pton(family, text, net) != 1 || memcmp(addr, net, full) != 0)
		return false;
	return rest == 0 || ((addr[full] ^ net[full]) & (0xff << (8 - rest)) & 0xff) == 0;
}

static enum address_class
classify_ipv4(const unsigned char v4[4], struct address_why *why)
{
	for (size_t i = 0; i < sizeof(ipv4_blocks) / sizeof(ipv4_blocks[0]); i++) {
		if (in_range(v4, AF_INET, ipv4_blocks[i].range)) {
			why->block = ipv4_blocks[i].range;
			return ipv4_blocks[i].cls;
		}
	}
	return ADDRESS_PUBLIC;	/* NOTREACHED: 0.0.0.0/0 holds every address */
}

static enum address_class
classify_ipv6(const unsigned char v6[16], struct address_why *why)
{
	for (size_t i = 0; i < sizeof(ipv6_blocks) / sizeof(ipv6_blocks[0]); i++) {
		const struct block *b = &ipv6_blocks[i];

		if (!in_range(v6, AF_INET6, b->range))
			continue;
		if (b->carrier == NULL) {
			why->block = b->range;
			return b->cls;
		}
		why->carrier = b->carrier;
		return classify_ipv4(v6 + b->v4_at, why);
	}
	return ADDRESS_RESERVED;	/* NOTREACHED: ::/0 holds every address */
}

/* The address of sa as 16 bytes (IPv4 as IPv4-mapped IPv6) and its port;
 * false for another family or a short length.  memcpy, because libcurl's
 * struct curl_sockaddr declares a struct sockaddr that holds a larger one. */
static bool
read_address(const struct sockaddr *sa, socklen_t len, unsigned char addr[16], uint16_t *port, bool *v4)
{
	struct sockaddr_in in;
	struct sockaddr_in6 in6;

	*v4 = sa->sa_family == AF_INET;
	if (*v4 && len >= (socklen_t)sizeof(in)) {
		memcpy(&in, sa, sizeof(in));
		memset(addr, 0, 10);
		addr[10] = addr[11] = 0xff;
		memcpy(addr + 12, &in.sin_addr, 4);
		*port = ntohs(in.sin_port);
		return true;
	}
	if (sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(in6)) {
		memcpy(&in6, sa, sizeof(in6));
		memcpy(addr, &in6.sin6_addr, 16);
		*port = ntohs(in6.sin6_port);
		return true;
	}
	return false;
}

enum address_class
address_classify(const struct sockaddr *sa, socklen_t len, struct address_why *why)
{
	struct address_why unused;
	unsigned char addr[16];
	uint16_t port;
	bool v4;

	if (why == NULL)
		why = &unused;
	*why = (struct address_why){.block = "not an IP address"};
	if (!read_address(sa, len, addr, &port, &v4))
		return ADDRESS_RESERVED;
	return v4 ? classify_ipv4(addr + 12, why) : classify_ipv6(addr, why);
}

const char *
address_class_name(enum address_class c)
{
	static const char *const names[] = {
		[ADDRESS_PUBLIC] = "public", [ADDRESS_LOOPBACK] = "loopback", [ADDRESS_LINK_LOCAL] = "link-local",
		[ADDRESS_PRIVATE] = "private", [ADDRESS_UNIQUE_LOCAL] = "unique-local",
		[ADDRESS_UNSPECIFIED] = "unspecified", [ADDRESS_MULTICAST] = "multicast",
		[ADDRESS_BROADCAST] = "broadcast", [ADDRESS_RESERVED] = "reserved",
		[ADDRESS_DOCUMENTATION] = "documentation", [ADDRESS_METADATA] = "a cloud metadata service",
	};

	return (size_t)c < sizeof(names) / sizeof(names[0]) && names[c] != NULL ? names[c] : "unknown";
}

/* Classes no allowlist entry opens: the metadata services hold credentials,
 * and a connection to 0.0.0.0 or [::] reaches the local host. */
static bool
never_reachable(enum address_class c)
{
	return c == ADDRESS_METADATA || c == ADDRESS_UNSPECIFIED || c == ADDRESS_MULTICAST ||
	    c == ADDRESS_BROADCAST;
}

/* "10.0.0.0/8", or "169.254.169.254/32 carried by NAT64". */
static const char *
describe(const struct address_why *w, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s", w->block, w->carrier != NULL ? " carried by " : "",
	    w->carrier != NULL ? w->carrier : "");
	return buf;
}

/* Writes why the class of address text is refused; returns false. */
static bool
refuse_class(const char *text, enum address_class c, const struct address_why *w, char *why, size_t whylen)
{
	char range[64];

	if (never_reachable(c))
		fail_because(why, whylen, "address %s is %s (%s): no tool may reach it", text,
		    address_class_name(c), describe(w, range, sizeof(range)));
	else
		fail_because(why, whylen, "address %s is %s (%s): only an allowlist entry naming %s%s reaches it",
		    text, address_class_name(c), describe(w, range, sizeof(range)), text,
		    c == ADDRESS_LOOPBACK ? " or localhost" : "");
	return false;
}

/* Whether the admitting pattern opens address addr of class c. */
static bool
opens(const struct egress_pattern *p, const unsigned char addr[16], enum address_class c, const struct address_why *w)
{
	if (p->kind != EGRESS_HOST_NAME)
		return memcmp(p->addr, addr, 16) == 0;
	/* localhost opens the loopback addresses themselves, not IPv6 routes
	 * (NAT64, 6to4) to an IPv4 loopback address elsewhere. */
	return c == ADDRESS_LOOPBACK && egress_pattern_is_localhost(p) &&
	    (w->carrier == NULL || strcmp(w->carrier, "IPv4-mapped") == 0);
}

bool
address_may_connect(const struct egress_pattern *admitting, const struct sockaddr *sa, socklen_t len,
    char *why, size_t whylen)
{
	struct address_why w;
	unsigned char addr[16];
	char text[INET6_ADDRSTRLEN];
	enum address_class c;
	uint16_t port;
	bool v4;

	if (!read_address(sa, len, addr, &port, &v4) ||
	    inet_ntop(v4 ? AF_INET : AF_INET6, v4 ? addr + 12 : addr, text, sizeof(text)) == NULL) {
		fail_because(why, whylen, "not an IPv4 or IPv6 address");
		return false;
	}
	c = address_classify(sa, len, &w);
	if (never_reachable(c))
		return refuse_class(text, c, &w, why, whylen);
	if (admitting == NULL) {
		fail_because(why, whylen, "address %s: no allowlist entry admitted the request", text);
		return false;
	}
	if (admitting->port != 0 && admitting->port != port) {
		fail_because(why, whylen, "address %s port %u: the request was admitted for port %u", text,
		    (unsigned)port, (unsigned)admitting->port);
		return false;
	}
	if (c == ADDRESS_PUBLIC || opens(admitting, addr, c, &w))
		return true;
	return refuse_class(text, c, &w, why, whylen);
}

/* The value of a hex digit (either case), 16 for anything else. */
static unsigned
digit_value(char c)
{
	if (c >= '0' && c <= '9')
		return (unsigned)(c - '0');
	if (c >= 'a' && c <= 'f')
		return (unsigned)(c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (unsigned)(c - 'A' + 10);
	return 16;
}

/* One part of an inet_aton address: decimal, 0x hex (no digits is 0, as
 * glibc and WHATWG URL read it) or 0-led octal; at most 32 bits. */
static bool
parse_ipv4_part(const char *s, size_t n, uint64_t *out)
{
	unsigned base = 10;
	size_t i = 0;
	uint64_t v = 0;

	if (n == 0)
		return false;
	if (n >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		i = 2;
	} else if (n >= 2 && s[0] == '0') {
		base = 8;
		i = 1;
	}
	for (; i < n; i++) {
		unsigned d = digit_value(s[i]);

		if (d >= base)
			return false;
		v = v * base + d;
		if (v > 0xffffffffULL)
			return false;
	}
	*out = v;
	return true;
}

/* inet_aton's forms: a, a.b (b 24 bits), a.b.c (c 16 bits), a.b.c.d. */
static bool
parse_ipv4_any(const char *s, size_t n, unsigned char v4[4])
{
	uint64_t parts[4], value;
	size_t count = 0, start = 0;

	for (size_t i = 0; i <= n; i++) {
		if (i < n && s[i] != '.')
			continue;
		if (count == 4 || !parse_ipv4_part(s + start, i - start, &parts[count]))
			return false;
		count++;
		start = i + 1;
	}
	value = parts[count - 1];
	if (value >= 1ULL << (8 * (5 - count)))
		return false;
	for (size_t k = 0; k + 1 < count; k++) {
		if (parts[k] > 255)
			return false;
		value |= parts[k] << (8 * (3 - k));
	}
	for (size_t k = 0; k < 4; k++)
		v4[k] = (unsigned char)(value >> (8 * (3 - k)));
	return true;
}

/* WHATWG URL's "ends in a number": such a host is an IPv4 address or nothing. */
static bool
ends_in_number(const char *s, size_t n)
{
	size_t start = n, i;
	bool hex;

	while (start > 0 && s[start - 1] != '.')
		start--;
	hex = n - start >= 2 && s[start] == '0' && (s[start + 1] == 'x' || s[start + 1] == 'X');
	if (start == n)
		return false;
	for (i = start + (hex ? 2 : 0); i < n; i++)
		if (digit_value(s[i]) >= (hex ? 16u : 10u))
			return false;
	return true;
}

/* Labels of 1 to 63 bytes, 253 in all. */
static bool
name_well_formed(const char *s, size_t n)
{
	size_t start = 0;

	if (n == 0 || n > EGRESS_HOST_MAX)
		return false;
	for (size_t i = 0; i <= n; i++) {
		if (i < n && s[i] != '.')
			continue;
		if (i == start || i - start > 63)
			return false;
		start = i + 1;
	}
	return true;
}

static void
set_ipv4(const unsigned char v4[4], struct sockaddr_storage *ss, socklen_t *sslen)
{
	struct sockaddr_in in = {.sin_family = AF_INET};

	memcpy(&in.sin_addr, v4, 4);
	memset(ss, 0, sizeof(*ss));
	memcpy(ss, &in, sizeof(in));
	*sslen = sizeof(in);
}

/* "[IPv6]", without a zone id: "%" is also how a URL escapes bytes. */
static enum address_host
parse_bracketed(const char *host, size_t len, struct sockaddr_storage *ss, socklen_t *sslen)
{
	struct sockaddr_in6 in6 = {.sin6_family = AF_INET6};
	char text[64];
	size_t n = len - 2;

	if (len < 3 || host[len - 1] != ']' || n >= sizeof(text) || memchr(host, '%', len) != NULL)
		return ADDRESS_HOST_BAD;
	memcpy(text, host + 1, n);
	text[n] = '\0';
	if (inet_pton(AF_INET6, text, &in6.sin6_addr) != 1)
		return ADDRESS_HOST_BAD;
	memset(ss, 0, sizeof(*ss));
	memcpy(ss, &in6, sizeof(in6));
	*sslen = sizeof(in6);
	return ADDRESS_HOST_IP;
}

enum address_host
address_parse_host(const char *host, size_t len, struct sockaddr_storage *ss, socklen_t *sslen)
{
	unsigned char v4[4];
	size_t n = len;

	if (len == 0 || len > EGRESS_HOST_MAX + 2)
		return ADDRESS_HOST_BAD;
	if (host[0] == '[')
		return parse_bracketed(host, len, ss, sslen);
	for (size_t i = 0; i < len; i++)
		if (!((host[i] >= 'a' && host[i] <= 'z') || (host[i] >= 'A' && host[i] <= 'Z') ||
		    (host[i] >= '0' && host[i] <= '9') || host[i] == '-' || host[i] == '_' || host[i] == '.'))
			return ADDRESS_HOST_BAD;
	if (n > 1 && host[n - 1] == '.')
		n--;	/* resolvers and WHATWG URL both drop the root's dot */
	if (!ends_in_number(host, n))
		return name_well_formed(host, n) ? ADDRESS_HOST_NAME : ADDRESS_HOST_BAD;
	if (!parse_ipv4_any(host, n, v4))
		return ADDRESS_HOST_BAD;
	set_ipv4(v4, ss, sslen);
	return ADDRESS_HOST_IP;
}

/* An IP address as inet_ntop writes it, IPv6 in brackets. */
static int
format_ip(const struct sockaddr_storage *ss, char *out, size_t outlen)
{
	struct sockaddr_in in;
	struct sockaddr_in6 in6;
	char text[INET6_ADDRSTRLEN];
	int n;

	if (ss->ss_family == AF_INET) {
		memcpy(&in, ss, sizeof(in));
		if (inet_ntop(AF_INET, &in.sin_addr, text, sizeof(text)) == NULL)
			return -1;
		n = snprintf(out, outlen, "%s", text);
	} else {
		memcpy(&in6, ss, sizeof(in6));
		if (inet_ntop(AF_INET6, &in6.sin6_addr, text, sizeof(text)) == NULL)
			return -1;
		n = snprintf(out, outlen, "[%s]", text);
	}
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

int
address_canonical_host(const char *host, size_t len, char *out, size_t outlen)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	size_t n = len;

	switch (address_parse_host(host, len, &ss, &sslen)) {
	case ADDRESS_HOST_IP:
		return format_ip(&ss, out, outlen);
	case ADDRESS_HOST_NAME:
		n -= n > 1 && host[n - 1] == '.';
		if (n >= outlen)
			return -1;
		for (size_t i = 0; i < n; i++)
			out[i] = host[i] >= 'A' && host[i] <= 'Z' ? (char)(host[i] - 'A' + 'a') : host[i];
		out[n] = '\0';
		return 0;
	default:
		return -1;
	}
}

static void
set_port(struct sockaddr_storage *ss, uint16_t port)
{
	struct sockaddr_in in;
	struct sockaddr_in6 in6;

	if (ss->ss_family == AF_INET) {
		memcpy(&in, ss, sizeof(in));
		in.sin_port = htons(port);
		memcpy(ss, &in, sizeof(in));
	} else {
		memcpy(&in6, ss, sizeof(in6));
		in6.sin6_port = htons(port);
		memcpy(ss, &in6, sizeof(in6));
	}
}

bool
address_admit_url(const struct egress_tool *tool, const struct egress_allow *ops, const char *host,
    size_t len, uint16_t port, struct egress_pattern *admitted, char *why, size_t whylen)
{
	struct sockaddr_storage ss;
	struct address_why w;
	socklen_t sslen;
	enum address_host kind = address_parse_host(host, len, &ss, &sslen);
	char canonical[EGRESS_HOST_MAX + 3], shown[96];
	enum address_class c;

	if (kind == ADDRESS_HOST_BAD || address_canonical_host(host, len, canonical, sizeof(canonical)) < 0) {
		fail_because(why, whylen, "host \"%s\" is neither a DNS name nor an IP address",
		    printable(host, len, shown, sizeof(shown)));
		return false;
	}
	if (kind == ADDRESS_HOST_IP) {
		set_port(&ss, port);
		c = address_classify((const struct sockaddr *)&ss, sslen, &w);
		/* Refused whatever the lists say, and said so, before they are read. */
		if (never_reachable(c))
			return refuse_class(canonical, c, &w, why, whylen);
	}
	if (!egress_allow_decide(tool, ops, canonical, port, admitted, why, whylen))
		return false;
	return kind == ADDRESS_HOST_NAME || address_may_connect(admitted, (const struct sockaddr *)&ss, sslen, why,
	    whylen);
}
