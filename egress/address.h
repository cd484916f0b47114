/*
 * address: which addresses a tool's connection may reach (the SSRF
 * defence), and what a URL's host means when it is an IP address.
 *
 * The egress decides a request in three steps:
 *   1. address_admit_url, before any DNS: the host read as every resolver
 *      and client library might read it (2852039166, 0xa9fea9fe, 0251.0376.
 *      0251.0376, 169.254.43518 and [::ffff:a9fe:a9fe] are all
 *      169.254.169.254), then the allowlist (common/egress_allow.h) with the
 *      host in canonical form, then, for an IP host, step 3 on that address;
 *   2. libcurl resolves a name and, for each address it is about to
 *      connect to, calls CURLOPT_OPENSOCKETFUNCTION;
 *   3. there, address_may_connect: the address's class against the pattern
 *      that admitted the request.  Checking the address libcurl really
 *      connects to is what defeats DNS rebinding and redirects.
 *
 * The rule of step 3: a public address is reachable; the metadata services,
 * unspecified, multicast and broadcast addresses never are (0.0.0.0 and
 * [::] reach the local host); any other class (loopback, link-local,
 * private, unique-local, reserved, documentation) only when the admitting
 * pattern names that very address, or is localhost and the address is
 * loopback.  IPv6 that carries an IPv4 address (IPv4-mapped ::ffff:0:0/96,
 * IPv4-translated ::ffff:0:0:0/96, IPv4-compatible ::/96, NAT64
 * 64:ff9b::/96, 6to4 2002::/16) is classified by the IPv4 address.
 */
#ifndef MCPD_EGRESS_ADDRESS_H
#define MCPD_EGRESS_ADDRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "common/egress_allow.h"

enum address_class {
	ADDRESS_PUBLIC,
	ADDRESS_LOOPBACK,	/* 127.0.0.0/8, ::1 */
	ADDRESS_LINK_LOCAL,	/* 169.254.0.0/16, fe80::/10 */
	ADDRESS_PRIVATE,	/* 10/8, 172.16/12, 192.168/16, 100.64/10, 198.18/15, fec0::/10 */
	ADDRESS_UNIQUE_LOCAL,	/* fc00::/7 */
	ADDRESS_UNSPECIFIED,	/* 0.0.0.0, :: */
	ADDRESS_MULTICAST,	/* 224.0.0.0/4, ff00::/8 */
	ADDRESS_BROADCAST,	/* 255.255.255.255 */
	ADDRESS_RESERVED,	/* 0/8, 240/4, 192.0.0/24, IPv6 outside 2000::/3, ... */
	ADDRESS_DOCUMENTATION,	/* 192.0.2/24, 198.51.100/24, 203.0.113/24, 2001:db8::/32, 3fff::/20 */
	ADDRESS_METADATA,	/* cloud metadata and credential services: 169.254.169.254, fd00:ec2::254, ... */
};

/* Why an address is in its class. */
struct address_why {
	const char *block;	/* the range that decided, such as "10.0.0.0/8" */
	const char *carrier;	/* NULL, or the IPv6 form that carried the IPv4 address ("NAT64") */
};

/** The class of an AF_INET or AF_INET6 address (any other family, or a
 *  length too short for it, is ADDRESS_RESERVED).  `why` may be NULL. */
enum address_class address_classify(const struct sockaddr *sa, socklen_t len, struct address_why *why);
/** "loopback", "link-local", ... */
const char *address_class_name(enum address_class c);

enum address_host {
	ADDRESS_HOST_NAME,	/* a DNS name, to resolve */
	ADDRESS_HOST_IP,	/* an IP address in one of its spellings */
	ADDRESS_HOST_BAD,	/* neither: refuse it */
};

/**
 * Reads a URL's host as a resolver would: an IPv4 address in any inet_aton
 * form (1 to 4 parts, each decimal, 0x hex or 0 octal, a trailing dot
 * allowed), an IPv6 address in brackets (no zone id), or a name of letters,
 * digits, '-', '_' and dots.  A host whose last label is a number but that
 * is no address, and anything holding '%', ':' outside brackets, blanks or
 * non-ASCII bytes (which some clients decode or map to digits), is BAD.
 * For ADDRESS_HOST_IP the address is in *ss and its length in *sslen.
 */
enum address_host address_parse_host(const char *host, size_t len, struct sockaddr_storage *ss, socklen_t *sslen);
/**
 * The host in the one spelling common/egress_allow.c compares: an IP
 * address as inet_ntop writes it (IPv6 in brackets), a name lower-cased
 * without its trailing dot.  Returns 0, or -1 for a BAD host or a short buffer.
 */
int address_canonical_host(const char *host, size_t len, char *out, size_t outlen);

/**
 * Step 3, for libcurl's open-socket callback: may a connection of the
 * request that `admitting` admitted (NULL: none did) go to `sa`?  The port
 * must be the pattern's too, unless it allows any.  True, or false with a
 * one-line reason in `why`.  Never allocates.
 */
bool address_may_connect(const struct egress_pattern *admitting, const struct sockaddr *sa, socklen_t len,
    char *why, size_t whylen);

/**
 * Steps 1 and, for an IP host, 3: whether `tool` may send a request to
 * host:port at all, decided before any DNS.  True with the admitting pattern
 * in `admitted` (keep it for address_may_connect), or false with `why`.
 */
bool address_admit_url(const struct egress_tool *tool, const struct egress_allow *ops, const char *host,
    size_t len, uint16_t port, struct egress_pattern *admitted, char *why, size_t whylen);

#endif
