/*
 * Unit tests for egress/address.c, the SSRF defence: the class of every
 * range, each spelling of an IP address in a URL's host (the metadata
 * service's above all), the rule for a connection (address_may_connect,
 * what libcurl's open-socket callback asks), and the decision before any
 * DNS (address_admit_url).  Table-driven: each row is one case, named in
 * the failure message.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <cmocka.h>

#include "egress/address.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* "1.2.3.4" or "::1" and a port as a socket address; fails the test otherwise. */
static socklen_t
sockaddr_of(const char *text, uint16_t port, struct sockaddr_storage *ss)
{
	struct sockaddr_in in = {.sin_family = AF_INET, .sin_port = htons(port)};
	struct sockaddr_in6 in6 = {.sin6_family = AF_INET6, .sin6_port = htons(port)};

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, text, &in.sin_addr) == 1) {
		memcpy(ss, &in, sizeof(in));
		return sizeof(in);
	}
	if (inet_pton(AF_INET6, text, &in6.sin6_addr) == 1) {
		memcpy(ss, &in6, sizeof(in6));
		return sizeof(in6);
	}
	fail_msg("test address \"%s\" does not parse", text);
	return 0;
}

struct class_case {
	const char *address;
	enum address_class cls;
	const char *block;	/* the deciding range */
	const char *carrier;	/* NULL: none */
};

static const struct class_case classes[] = {
	{"8.8.8.8", ADDRESS_PUBLIC, "0.0.0.0/0", NULL},
	{"1.0.0.0", ADDRESS_PUBLIC, "0.0.0.0/0", NULL},
	{"0.0.0.0", ADDRESS_UNSPECIFIED, "0.0.0.0/32", NULL},
	{"0.1.2.3", ADDRESS_RESERVED, "0.0.0.0/8", NULL},
	{"0.255.255.255", ADDRESS_RESERVED, "0.0.0.0/8", NULL},
	{"9.255.255.255", ADDRESS_PUBLIC, "0.0.0.0/0", NULL},
	{"10.0.0.0", ADDRESS_PRIVATE, "10.0.0.0/8", NULL},
	{"10.255.255.255", ADDRESS_PRIVATE, "10.0.0.0/8", NULL},
	{"11.0.0.0", ADDRESS_PUBLIC, "0.0.0.0/0", NULL},
	{"100.63.255.255", ADDRESS_PUBLIC, "0.0.0.0/0", NULL},
	{"100.64.0.0", ADDRESS_PRIVATE, "100.64.0.0/10", NULL},
	{"100.127.255.255", ADDRESS_PRIVATE, "100.64.0.0/10", NULL},
	{"100.128.0.0", ADDRESS_PUBLIC, "0.0.0.0/0", NULL},
	{"100.100.100.200", ADDRESS_METADATA, "100.100.100.200/32", NULL},
	{"126.255.255.255", ADDRESS_PUBLIC, "0.0.0.0/0", NULL},
	{"127.0.0.0", ADDRESS_LOOPBACK, "127.0.0.0/8", NULL},
	{"127.0.0.1", ADDRESS_LOOPBACK, "127.0.0.0/8", NULL},
	{"127.255.255.255", ADDRESS_LOOPBACK, "127.0.0.0/8", NULL},
	{"128.0.0.0", ADDRESS_PUBLIC, "0.0.0.0/0", NULL},
	{"168.63.129.16", ADDRESS_METADATA, "168.63.129.16/32", NULL},
	{"169.253.255.255", ADDRESS_PUBLIC, "0.0.0.0/0", NULL},
	{"169.254.0.1", ADDRESS_LINK_LOCAL, "169.254.0.0/16", NULL},
	{"169.254.169.253", ADDRESS_LINK_LOCAL, "169.254.0.0/16", NULL},
	{"169.254.169.254", ADDRESS_METADATA, "169.254.169.254/32", NULL},
	{"169.254.169.255", ADDRESS_LINK_LOCAL, "169.254.0.0/16", NULL},
	{"169.254.170.2", ADDRESS_METADATA, "169.254.170.2/32", NULL},
	{"169.254.170.23", ADDRESS_METADATA, "169.254.170.23/32", NULL},
	{"169.254.255.255", ADDRESS_LINK_LOCAL, "169.254.0.0/16", NULL},
	{"169.255.0.0", ADDRESS_PUBLIC, "0.0.0.0/0", NULL},
	{"172.15.255.255", ADDRESS_PUBLIC, "0.0.0.0/0", NULL},
	{"172.16.0.0", ADDRESS_PRIVATE, "172.16.0.0/12", NULL},
	{"172.31.255.255", ADDRESS_PRIVATE, "172.16.0.0/12", NULL},
	{"172.32.0.0", ADDRESS_PUBLIC, "0.0.0.0/0", NULL},
	{"192.0.0.8", ADDRESS_RESERVED, "192.0.0.0/24", NULL},
	{"192.0.2.1", ADDRESS_DOCUMENTATION, "192.0.2.0/24", NULL},
	{"192.88.99.1", ADDRESS_RESERVED, "192.88.99.0/24", NULL},
	{"192.167.255.255", ADDRESS_PUBLIC, "0.0.0.0/0", NULL},
	{"192.168.0.1", ADDRESS_PRIVATE, "192.168.0.0/16", NULL},
	{"192.168.255.255", ADDRESS_PRIVATE, "192.168.0.0/16", NULL},
	{"192.169.0.0", ADDRESS_PUBLIC, "0.0.0.0/0", NULL},
	{"198.17.255.255", ADDRESS_PUBLIC, "0.0.0.0/0", NULL},
	{"198.18.0.0", ADDRESS_PRIVATE, "198.18.0.0/15", NULL},
	{"198.19.255.255", ADDRESS_PRIVATE, "198.18.0.0/15", NULL},
	{"198.20.0.0", ADDRESS_PUBLIC, "0.0.0.0/0", NULL},
	{"198.51.100.1", ADDRESS_DOCUMENTATION, "198.51.100.0/24", NULL},
	{"203.0.113.1", ADDRESS_DOCUMENTATION, "203.0.113.0/24", NULL},
	{"223.255.255.255", ADDRESS_PUBLIC, "0.0.0.0/0", NULL},
	{"224.0.0.1", ADDRESS_MULTICAST, "224.0.0.0/4", NULL},
	{"239.255.255.255", ADDRESS_MULTICAST, "224.0.0.0/4", NULL},
	{"240.0.0.1", ADDRESS_RESERVED, "240.0.0.0/4", NULL},
	{"255.255.255.254", ADDRESS_RESERVED, "240.0.0.0/4", NULL},
	{"255.255.255.255", ADDRESS_BROADCAST, "255.255.255.255/32", NULL},
	{"2606:4700::1111", ADDRESS_PUBLIC, "2000::/3", NULL},
	{"3ffe:ffff::1", ADDRESS_PUBLIC, "2000::/3", NULL},
	{"::", ADDRESS_UNSPECIFIED, "::/128", NULL},
	{"::1", ADDRESS_LOOPBACK, "::1/128", NULL},
	{"::2", ADDRESS_RESERVED, "0.0.0.0/8", "IPv4-compatible"},
	{"::ffff:8.8.8.8", ADDRESS_PUBLIC, "0.0.0.0/0", "IPv4-mapped"},
	{"::ffff:10.0.0.1", ADDRESS_PRIVATE, "10.0.0.0/8", "IPv4-mapped"},
	{"::ffff:0:10.0.0.1", ADDRESS_PRIVATE, "10.0.0.0/8", "IPv4-translated"},
	{"::10.0.0.1", ADDRESS_PRIVATE, "10.0.0.0/8", "IPv4-compatible"},
	{"64:ff9b::808:808", ADDRESS_PUBLIC, "0.0.0.0/0", "NAT64"},
	{"64:ff9b::a00:1", ADDRESS_PRIVATE, "10.0.0.0/8", "NAT64"},
	{"64:ff9b:1::1", ADDRESS_RESERVED, "64:ff9b:1::/48", NULL},
	{"2002:808:808::1", ADDRESS_PUBLIC, "0.0.0.0/0", "6to4"},
	{"2002:a00:1::", ADDRESS_PRIVATE, "10.0.0.0/8", "6to4"},
	{"100::1", ADDRESS_RESERVED, "100::/64", NULL},
	{"2001::1", ADDRESS_RESERVED, "2001::/23", NULL},
	{"2001:db8::1", ADDRESS_DOCUMENTATION, "2001:db8::/32", NULL},
	{"3fff::1", ADDRESS_DOCUMENTATION, "3fff::/20", NULL},
	{"fc00::1", ADDRESS_UNIQUE_LOCAL, "fc00::/7", NULL},
	{"fdff:ffff::1", ADDRESS_UNIQUE_LOCAL, "fc00::/7", NULL},
	{"fd00:ec2::253", ADDRESS_UNIQUE_LOCAL, "fc00::/7", NULL},
	{"fd00:ec2::254", ADDRESS_METADATA, "fd00:ec2::254/128", NULL},
	{"fd00:ec2::23", ADDRESS_METADATA, "fd00:ec2::23/128", NULL},
	{"fe80::1", ADDRESS_LINK_LOCAL, "fe80::/10", NULL},
	{"febf::1", ADDRESS_LINK_LOCAL, "fe80::/10", NULL},
	{"fec0::1", ADDRESS_PRIVATE, "fec0::/10", NULL},
	{"ff02::1", ADDRESS_MULTICAST, "ff00::/8", NULL},
	{"4000::1", ADDRESS_RESERVED, "::/0", NULL},
};

static void
test_classes(void **state)
{
	(void)state;
	for (size_t i = 0; i < N(classes); i++) {
		const struct class_case *c = &classes[i];
		struct sockaddr_storage ss;
		socklen_t len = sockaddr_of(c->address, 443, &ss);
		struct address_why why;
		enum address_class got = address_classify((struct sockaddr *)&ss, len, &why);

		if (got != c->cls || strcmp(why.block, c->block) != 0)
			fail_msg("%s is %s (%s), expected %s (%s)", c->address, address_class_name(got), why.block,
			    address_class_name(c->cls), c->block);
		if ((why.carrier == NULL) != (c->carrier == NULL) ||
		    (c->carrier != NULL && strcmp(why.carrier, c->carrier) != 0))
			fail_msg("%s: carried by %s, expected %s", c->address, why.carrier ? why.carrier : "nothing",
			    c->carrier ? c->carrier : "nothing");
	}
}

static void
test_class_edges(void **state)
{
	struct sockaddr_un un = {.sun_family = AF_UNIX};
	struct sockaddr_storage ss;
	socklen_t len = sockaddr_of("8.8.8.8", 443, &ss);

	(void)state;
	assert_int_equal(address_classify((struct sockaddr *)&un, sizeof(un), NULL), ADDRESS_RESERVED);
	assert_int_equal(address_classify((struct sockaddr *)&ss, len - 1, NULL), ADDRESS_RESERVED);
	assert_int_equal(address_classify((struct sockaddr *)&ss, len, NULL), ADDRESS_PUBLIC);
	for (int c = ADDRESS_PUBLIC; c <= ADDRESS_METADATA; c++)
		assert_string_not_equal(address_class_name((enum address_class)c), "unknown");
	assert_string_equal(address_class_name((enum address_class)99), "unknown");
}

/* Every spelling of the metadata services a client library might accept. */
static const char *const metadata_spellings[] = {
	"169.254.169.254",
	"169.254.169.254.",		/* trailing dot */
	"2852039166",			/* one decimal number */
	"0xa9fea9fe",			/* one hex number */
	"0XA9FEA9FE",			/* upper-case hex */
	"0xA9fEa9Fe",
	"0x00000000a9fea9fe",		/* hex with leading zeros */
	"025177524776",			/* one octal number */
	"0251.0376.0251.0376",		/* octal parts */
	"00251.000376.0251.0000376",	/* octal with more leading zeros */
	"0xa9.0xfe.0xa9.0xfe",		/* hex parts */
	"0XA9.0XFE.0XA9.0XFE",
	"0xa9.254.0251.0xfe",		/* mixed */
	"169.254.43518",		/* a.b.c: c is 16 bits */
	"169.16689662",			/* a.b: b is 24 bits */
	"0251.0xfe.43518",
	"0xa9.0xfea9fe",
	"[::ffff:169.254.169.254]",	/* IPv4-mapped */
	"[::ffff:a9fe:a9fe]",
	"[::FFFF:A9FE:A9FE]",
	"[0:0:0:0:0:ffff:a9fe:a9fe]",
	"[0000:0000:0000:0000:0000:FFFF:A9FE:A9FE]",
	"[::ffff:0:a9fe:a9fe]",		/* IPv4-translated */
	"[::169.254.169.254]",		/* IPv4-compatible */
	"[::a9fe:a9fe]",
	"[64:ff9b::a9fe:a9fe]",		/* NAT64 */
	"[64:ff9b::169.254.169.254]",
	"[0064:FF9B:0000::A9FE:A9FE]",
	"[2002:a9fe:a9fe::]",		/* 6to4 */
	"[2002:A9FE:A9FE:1234::1]",
	"[fd00:ec2::254]",		/* EC2's IPv6 endpoint */
	"[FD00:EC2::254]",
	"[fd00:0ec2:0000:0000:0000:0000:0000:0254]",
	"169.254.170.2",		/* ECS task credentials */
	"169.254.0xaa02",
	"[fd00:ec2::23]",		/* EKS Pod Identity */
};

static void
test_metadata_spellings(void **state)
{
	static const struct egress_tool fetch = {"fetch", NULL, true};
	struct egress_allow ops;
	char err[200];

	(void)state;
	/* Even a list that names the metadata service literally opens nothing. */
	assert_int_equal(egress_allow_parse("169.254.169.254:*,[fd00:ec2::254]:*,fetch=*.*:*", &ops, err,
	    sizeof(err)), 0);
	for (size_t i = 0; i < N(metadata_spellings); i++) {
		const char *host = metadata_spellings[i];
		struct sockaddr_storage ss;
		socklen_t len;
		struct egress_pattern admitted;
		char why[300] = "";

		if (address_parse_host(host, strlen(host), &ss, &len) != ADDRESS_HOST_IP)
			fail_msg("\"%s\" is not read as an IP address", host);
		if (address_classify((struct sockaddr *)&ss, len, NULL) != ADDRESS_METADATA)
			fail_msg("\"%s\" is not the metadata service", host);
		if (address_admit_url(&fetch, &ops, host, strlen(host), 80, &admitted, why, sizeof(why)))
			fail_msg("\"%s\" admitted", host);
		if (strstr(why, "is a cloud metadata service") == NULL || strstr(why, "no tool may reach it") == NULL)
			fail_msg("\"%s\": reason \"%s\"", host, why);
	}
	egress_allow_free(&ops);
}

/* A URL's host, what it is, and its canonical spelling. */
struct host_case {
	const char *host;
	enum address_host kind;
	const char *canonical;	/* for NAME and IP */
};

static const struct host_case hosts[] = {
	{"example.com", ADDRESS_HOST_NAME, "example.com"},
	{"EXAMPLE.com.", ADDRESS_HOST_NAME, "example.com"},
	{"a-b_c.example", ADDRESS_HOST_NAME, "a-b_c.example"},
	{"1.2.3.com", ADDRESS_HOST_NAME, "1.2.3.com"},
	{"0x7f.example.com", ADDRESS_HOST_NAME, "0x7f.example.com"},
	{"example.0x7g", ADDRESS_HOST_NAME, "example.0x7g"},
	{"cafe", ADDRESS_HOST_NAME, "cafe"},
	{"localhost", ADDRESS_HOST_NAME, "localhost"},
	{"LocalHost.", ADDRESS_HOST_NAME, "localhost"},
	{"a.b.c.1x", ADDRESS_HOST_NAME, "a.b.c.1x"},
	{"1.2.3.4", ADDRESS_HOST_IP, "1.2.3.4"},
	{"1.2.3", ADDRESS_HOST_IP, "1.2.0.3"},
	{"1.2", ADDRESS_HOST_IP, "1.0.0.2"},
	{"4294967295", ADDRESS_HOST_IP, "255.255.255.255"},
	{"0", ADDRESS_HOST_IP, "0.0.0.0"},
	{"0x", ADDRESS_HOST_IP, "0.0.0.0"},
	{"0.0", ADDRESS_HOST_IP, "0.0.0.0"},
	{"2130706433", ADDRESS_HOST_IP, "127.0.0.1"},
	{"0x7f000001", ADDRESS_HOST_IP, "127.0.0.1"},
	{"0177.0.0.1", ADDRESS_HOST_IP, "127.0.0.1"},
	{"127.1", ADDRESS_HOST_IP, "127.0.0.1"},
	{"127.0.1", ADDRESS_HOST_IP, "127.0.0.1"},
	{"0x7f.1", ADDRESS_HOST_IP, "127.0.0.1"},
	{"127.0.0.1.", ADDRESS_HOST_IP, "127.0.0.1"},
	{"010.0.0.1", ADDRESS_HOST_IP, "8.0.0.1"},
	{"example.0x10", ADDRESS_HOST_BAD, NULL},
	{"[::1]", ADDRESS_HOST_IP, "[::1]"},
	{"[::FFFF:A9FE:A9FE]", ADDRESS_HOST_IP, "[::ffff:169.254.169.254]"},
	{"[2606:4700:0:0::1111]", ADDRESS_HOST_IP, "[2606:4700::1111]"},
	{"", ADDRESS_HOST_BAD, NULL},
	{".", ADDRESS_HOST_BAD, NULL},
	{"..", ADDRESS_HOST_BAD, NULL},
	{"a..b", ADDRESS_HOST_BAD, NULL},
	{"example.com..", ADDRESS_HOST_BAD, NULL},
	{".example.com", ADDRESS_HOST_BAD, NULL},
	{"exa mple.com", ADDRESS_HOST_BAD, NULL},
	{"ex%41mple.com", ADDRESS_HOST_BAD, NULL},
	{"%31%36%39.254.169.254", ADDRESS_HOST_BAD, NULL},	/* libcurl decodes it */
	{"169.254.169.254%2f", ADDRESS_HOST_BAD, NULL},
	{"\xef\xbc\x91\xef\xbc\x96\xef\xbc\x99.254.169.254", ADDRESS_HOST_BAD, NULL},	/* full-width digits map to ASCII */
	{"169.254.169.254\n", ADDRESS_HOST_BAD, NULL},
	{"169.254.169.254 ", ADDRESS_HOST_BAD, NULL},
	{"[fe80::1%25eth0]", ADDRESS_HOST_BAD, NULL},
	{"[fe80::1%eth0]", ADDRESS_HOST_BAD, NULL},
	{"::1", ADDRESS_HOST_BAD, NULL},
	{"[::1", ADDRESS_HOST_BAD, NULL},
	{"[]", ADDRESS_HOST_BAD, NULL},
	{"[::1]:80", ADDRESS_HOST_BAD, NULL},
	{"[::ffff:0251.0376.0251.0376]", ADDRESS_HOST_BAD, NULL},
	{"[0xa9fea9fe]", ADDRESS_HOST_BAD, NULL},
	{"1.2.3.4.5", ADDRESS_HOST_BAD, NULL},
	{"256.1.1.1", ADDRESS_HOST_BAD, NULL},
	{"1.2.3.256", ADDRESS_HOST_BAD, NULL},
	{"1.2.65536", ADDRESS_HOST_BAD, NULL},
	{"1.16777216", ADDRESS_HOST_BAD, NULL},
	{"4294967296", ADDRESS_HOST_BAD, NULL},
	{"0x100000000", ADDRESS_HOST_BAD, NULL},
	{"99999999999999999999999", ADDRESS_HOST_BAD, NULL},
	{"08", ADDRESS_HOST_BAD, NULL},
	{"09.1.1.1", ADDRESS_HOST_BAD, NULL},
	{"0x1g", ADDRESS_HOST_NAME, "0x1g"},
	{"1..2", ADDRESS_HOST_BAD, NULL},
	{"user@169.254.169.254", ADDRESS_HOST_BAD, NULL},
	{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com", ADDRESS_HOST_BAD, NULL},
};

static void
test_hosts(void **state)
{
	(void)state;
	for (size_t i = 0; i < N(hosts); i++) {
		const struct host_case *c = &hosts[i];
		struct sockaddr_storage ss;
		socklen_t len;
		char canonical[300];
		enum address_host got = address_parse_host(c->host, strlen(c->host), &ss, &len);
		int rc = address_canonical_host(c->host, strlen(c->host), canonical, sizeof(canonical));

		if (got != c->kind)
			fail_msg("\"%s\" is read as %d, expected %d", c->host, got, c->kind);
		if (c->kind == ADDRESS_HOST_BAD && rc != -1)
			fail_msg("\"%s\" has a canonical form \"%s\"", c->host, canonical);
		if (c->kind != ADDRESS_HOST_BAD && (rc != 0 || strcmp(canonical, c->canonical) != 0))
			fail_msg("\"%s\" is canonically \"%s\", expected \"%s\"", c->host, rc == 0 ? canonical : "-",
			    c->canonical);
	}
}

/* The longest name resolvers take, the buffer the canonical form needs. */
static void
test_host_lengths(void **state)
{
	char name[300], out[300];
	struct sockaddr_storage ss;
	socklen_t len;

	(void)state;
	memset(name, 'a', sizeof(name));
	for (size_t i = 63; i < sizeof(name); i += 64)
		name[i] = '.';
	assert_int_equal(address_parse_host(name, 253, &ss, &len), ADDRESS_HOST_NAME);
	assert_int_equal(address_parse_host(name, 254, &ss, &len), ADDRESS_HOST_BAD);
	assert_int_equal(address_canonical_host(name, 253, out, 254), 0);
	assert_int_equal(address_canonical_host(name, 253, out, 253), -1);
	assert_int_equal(address_canonical_host("[::ffff:1.2.3.4]", 16, out, 10), -1);
	assert_int_equal(address_canonical_host("1.2.3.4", 7, out, 8), 0);
	assert_int_equal(address_canonical_host("1.2.3.4", 7, out, 7), -1);
}

/* The admitting pattern (NULL: none), the address connected to, the verdict. */
struct connect_case {
	const char *admitting;
	const char *address;
	uint16_t port;
	bool allowed;
	const char *reason;	/* part of the refusal */
};

static const struct connect_case connects[] = {
	{"api.example.com", "93.184.216.34", 443, true, NULL},
	{"api.example.com", "2606:2800:220:1::1", 443, true, NULL},
	{"api.example.com", "::ffff:93.184.216.34", 443, true, NULL},
	{"api.example.com", "93.184.216.34", 8443, false, "address 93.184.216.34 port 8443: the request was admitted for port 443"},
	{"api.example.com:*", "93.184.216.34", 8443, true, NULL},
	{NULL, "93.184.216.34", 443, false, "address 93.184.216.34: no allowlist entry admitted the request"},
	/* A name that resolves to a non-public address (DNS rebinding). */
	{"api.example.com", "127.0.0.1", 443, false,
	    "address 127.0.0.1 is loopback (127.0.0.0/8): only an allowlist entry naming 127.0.0.1 or localhost reaches it"},
	{"api.example.com", "127.8.9.10", 443, false, "is loopback"},
	{"api.example.com", "::1", 443, false, "address ::1 is loopback (::1/128)"},
	{"api.example.com", "::ffff:127.0.0.1", 443, false, "carried by IPv4-mapped"},
	{"api.example.com", "10.0.0.5", 443, false,
	    "address 10.0.0.5 is private (10.0.0.0/8): only an allowlist entry naming 10.0.0.5 reaches it"},
	{"api.example.com", "172.16.0.1", 443, false, "is private"},
	{"api.example.com", "192.168.1.1", 443, false, "is private"},
	{"api.example.com", "100.64.0.1", 443, false, "is private (100.64.0.0/10)"},
	{"api.example.com", "198.18.0.1", 443, false, "is private (198.18.0.0/15)"},
	{"api.example.com", "169.254.1.1", 443, false, "is link-local"},
	{"api.example.com", "fe80::1", 443, false, "is link-local"},
	{"api.example.com", "fd12::1", 443, false, "is unique-local"},
	{"api.example.com", "192.0.2.1", 443, false, "is documentation"},
	{"api.example.com", "240.0.0.1", 443, false, "is reserved"},
	{"api.example.com", "64:ff9b::a00:5", 443, false, "(10.0.0.0/8 carried by NAT64)"},
	{"api.example.com", "2002:7f00:1::", 443, false, "is loopback (127.0.0.0/8 carried by 6to4)"},
	/* Never, whatever admitted the request. */
	{"api.example.com", "169.254.169.254", 80, false,
	    "address 169.254.169.254 is a cloud metadata service (169.254.169.254/32): no tool may reach it"},
	{"169.254.169.254:*", "169.254.169.254", 80, false, "no tool may reach it"},
	{"[::ffff:169.254.169.254]:*", "::ffff:169.254.169.254", 80, false, "no tool may reach it"},
	{"[fd00:ec2::254]:*", "fd00:ec2::254", 80, false, "is a cloud metadata service (fd00:ec2::254/128)"},
	{NULL, "169.254.169.254", 80, false, "no tool may reach it"},
	{"0.0.0.0:*", "0.0.0.0", 80, false, "address 0.0.0.0 is unspecified (0.0.0.0/32): no tool may reach it"},
	{"[::]:*", "::", 80, false, "is unspecified (::/128): no tool may reach it"},
	{"api.example.com", "::ffff:0.0.0.0", 443, false, "is unspecified"},
	{"224.0.0.1:*", "224.0.0.1", 80, false, "is multicast"},
	{"[ff02::1]:*", "ff02::1", 80, false, "is multicast"},
	{"255.255.255.255:*", "255.255.255.255", 80, false, "is broadcast"},
	/* An entry that names the address opens it; only that address. */
	{"10.0.0.5:8080", "10.0.0.5", 8080, true, NULL},
	{"10.0.0.5:8080", "::ffff:10.0.0.5", 8080, true, NULL},
	{"[::ffff:10.0.0.5]:8080", "10.0.0.5", 8080, true, NULL},
	{"10.0.0.5:8080", "10.0.0.6", 8080, false, "only an allowlist entry naming 10.0.0.6"},
	{"10.0.0.5:8080", "64:ff9b::a00:5", 8080, false, "carried by NAT64"},
	{"10.0.0.5:8080", "2002:a00:5::", 8080, false, "carried by 6to4"},
	{"10.0.0.5:8080", "10.0.0.5", 8081, false, "admitted for port 8080"},
	{"[fd00::1]", "fd00::1", 443, true, NULL},
	{"[fd00::1]", "fd00::2", 443, false, "is unique-local"},
	{"169.254.10.10:*", "169.254.10.10", 80, true, NULL},
	{"192.0.2.1:*", "192.0.2.1", 80, true, NULL},
	{"240.0.0.1:*", "240.0.0.1", 80, true, NULL},
	{"127.0.0.1:8080", "127.0.0.1", 8080, true, NULL},
	{"127.0.0.1:8080", "::1", 8080, false, "is loopback"},
	{"[::1]:8080", "::1", 8080, true, NULL},
	{"[::1]:8080", "127.0.0.1", 8080, false, "is loopback"},
	/* localhost opens the loopback addresses, not routes to them elsewhere. */
	{"localhost:8080", "127.0.0.1", 8080, true, NULL},
	{"localhost:8080", "127.0.0.2", 8080, true, NULL},
	{"localhost:8080", "::1", 8080, true, NULL},
	{"localhost:8080", "::ffff:127.0.0.1", 8080, true, NULL},
	{"localhost:8080", "64:ff9b::7f00:1", 8080, false, "carried by NAT64"},
	{"localhost:8080", "2002:7f00:1::", 8080, false, "carried by 6to4"},
	{"localhost:8080", "::127.0.0.1", 8080, false, "carried by IPv4-compatible"},
	{"localhost:8080", "10.0.0.1", 8080, false, "is private"},
	{"a.localhost:8080", "127.0.0.1", 8080, false, "is loopback"},
};

static void
test_connects(void **state)
{
	(void)state;
	for (size_t i = 0; i < N(connects); i++) {
		const struct connect_case *c = &connects[i];
		struct egress_pattern p;
		struct sockaddr_storage ss;
		socklen_t len = sockaddr_of(c->address, c->port, &ss);
		char why[300] = "";
		bool allowed;

		if (c->admitting != NULL &&
		    egress_pattern_parse(c->admitting, strlen(c->admitting), &p, why, sizeof(why)) != 0)
			fail_msg("pattern \"%s\" refused: %s", c->admitting, why);
		allowed = address_may_connect(c->admitting ? &p : NULL, (struct sockaddr *)&ss, len, why, sizeof(why));
		if (allowed != c->allowed)
			fail_msg("%s to %s port %u: %s (%s)", c->admitting ? c->admitting : "nothing", c->address, c->port,
			    allowed ? "allowed" : "refused", why);
		if (!allowed && strstr(why, c->reason) == NULL)
			fail_msg("%s to %s: reason \"%s\" does not say \"%s\"", c->admitting ? c->admitting : "nothing",
			    c->address, why, c->reason);
	}
}

static void
test_connect_needs_an_ip_address(void **state)
{
	struct sockaddr_un un = {.sun_family = AF_UNIX};
	struct sockaddr_storage ss;
	socklen_t len = sockaddr_of("8.8.8.8", 443, &ss);
	struct egress_pattern p;
	char why[200];

	(void)state;
	assert_int_equal(egress_pattern_parse("*.*:*", 5, &p, why, sizeof(why)), 0);
	assert_false(address_may_connect(&p, (struct sockaddr *)&un, sizeof(un), why, sizeof(why)));
	assert_string_equal(why, "not an IPv4 or IPv6 address");
	assert_false(address_may_connect(&p, (struct sockaddr *)&ss, len - 1, why, sizeof(why)));
	assert_string_equal(why, "not an IPv4 or IPv6 address");
}

/* address_admit_url: a tool, the operator's list, a URL's host and port. */
struct url_case {
	const char *ops;
	const char *host;
	uint16_t port;
	bool allowed;
	const char *expect;	/* the admitting pattern, or part of the reason */
};

static const struct url_case urls[] = {
	{"docs.example.com", "docs.example.com", 443, true, "docs.example.com:443"},
	{"docs.example.com", "DOCS.example.com.", 443, true, "docs.example.com:443"},
	{"docs.example.com", "evil.example.com", 443, false, "not among its destinations"},
	{"docs.example.com", "docs.example.com", 80, false, "allowed on other ports only"},
	/* Literal hosts are checked against their class before any DNS. */
	{"*.*:*", "127.0.0.1", 80, false, "not among its destinations"},
	{"10.0.0.5:*", "10.0.0.5", 80, true, "10.0.0.5:*"},
	{"10.0.0.5:*", "167772165", 80, true, "10.0.0.5:*"},
	{"10.0.0.5:*", "012.0.0.5", 80, true, "10.0.0.5:*"},
	{"10.0.0.5:*", "10.5", 80, true, "10.0.0.5:*"},
	{"10.0.0.5:*", "[::ffff:10.0.0.5]", 80, true, "10.0.0.5:*"},
	{"10.0.0.5:*", "10.0.0.6", 80, false, "not among its destinations"},
	{"localhost:*", "localhost", 8080, true, "localhost:*"},
	{"localhost:*", "127.0.0.1", 8080, false, "not among its destinations"},
	{"localhost:*", "127.1", 8080, false, "not among its destinations"},
	{"localhost:*", "0", 8080, false, "address 0.0.0.0 is unspecified"},
	{"localhost:*", "0.0.0.0", 8080, false, "is unspecified"},
	{"localhost:*", "[::]", 8080, false, "is unspecified"},
	{"127.0.0.1:*", "2130706433", 8080, true, "127.0.0.1:*"},
	{"127.0.0.1:*", "0x7f.1", 8080, true, "127.0.0.1:*"},
	{"93.184.216.34", "93.184.216.34", 443, true, "93.184.216.34:443"},
	{"*.*:*", "http://x", 80, false, "host \"http://x\" is neither a DNS name nor an IP address"},
	{"*.*:*", "ex%41mple.com", 80, false, "is neither a DNS name nor an IP address"},
	{"*.*:*", "[fe80::1%25eth0]", 80, false, "is neither a DNS name nor an IP address"},
	{"*.*:*", "a\nb", 80, false, "host \"a?b\" is neither"},
	{"*.*:*", "example.com", 0, false, "port 0"},
};

static void
test_admit_url(void **state)
{
	static const struct egress_tool fetch = {"fetch", NULL, true};

	(void)state;
	for (size_t i = 0; i < N(urls); i++) {
		const struct url_case *c = &urls[i];
		struct egress_allow ops;
		struct egress_pattern admitted;
		char err[200], why[300] = "", text[EGRESS_PATTERN_TEXT_MAX];
		bool allowed;

		if (egress_allow_parse(c->ops, &ops, err, sizeof(err)) != 0)
			fail_msg("list \"%s\" refused: %s", c->ops, err);
		allowed = address_admit_url(&fetch, &ops, c->host, strlen(c->host), c->port, &admitted, why, sizeof(why));
		if (allowed != c->allowed)
			fail_msg("%s:%u under \"%s\": %s (%s)", c->host, c->port, c->ops, allowed ? "allowed" : "refused", why);
		if (allowed && strcmp(egress_pattern_format(&admitted, text, sizeof(text)), c->expect) != 0)
			fail_msg("%s: admitted by \"%s\", expected \"%s\"", c->host, text, c->expect);
		if (!allowed && strstr(why, c->expect) == NULL)
			fail_msg("%s: reason \"%s\" does not say \"%s\"", c->host, why, c->expect);
		egress_allow_free(&ops);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classes),
		cmocka_unit_test(test_class_edges),
		cmocka_unit_test(test_metadata_spellings),
		cmocka_unit_test(test_hosts),
		cmocka_unit_test(test_host_lengths),
		cmocka_unit_test(test_connects),
		cmocka_unit_test(test_connect_needs_an_ip_address),
		cmocka_unit_test(test_admit_url),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
