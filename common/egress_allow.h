/*
 * egress_allow: which tool may reach which host and port.  A tool declares
 * its destinations as HOST[:PORT] patterns; the operator adds to them, or
 * narrows them, with --egress-allow / MCPD_EGRESS_ALLOW.  The supervisor
 * parses the operator's list at start-up (a bad one stops mcpd); the egress
 * process decides each request with it.  Whether the address a name
 * resolves to may be reached is egress/address.c's question, asked after
 * this one.
 *
 * Patterns.  HOST[:PORT], where
 *   - HOST is a DNS name of labels of letters, digits, '-' and '_' (1 to 63
 *     each, 253 in all), compared case-insensitively, one trailing dot
 *     ignored; a label "*" stands for exactly one label, anywhere
 *     (*.s3.*.amazonaws.com): *.example.com matches a.example.com but not
 *     example.com, a.b.example.com or evil-example.com.  "*" alone is
 *     refused: it would match only one-label names, never "everything".
 *   - or an IP address: IPv4 as four decimal numbers (10.0.0.5), IPv6 in
 *     brackets ([fd00::1]), no zone id.  An IP address, and localhost, are
 *     exact entries: no wildcard may stand with them (10.0.0.*, *.localhost).
 *     An IPv4-mapped IPv6 address ([::ffff:10.0.0.5]) is that IPv4 address.
 *   - PORT is 1..65535, or "*" for any port; without it, 443.
 *
 * The operator's list.  Comma-separated entries, blanks around each
 * ignored, at most EGRESS_ALLOW_MAX_ENTRIES:
 *   HOST[:PORT]         for every tool that takes operator destinations
 *                       (declared with MCPD_EGRESS_OPERATOR, like fetch);
 *   TOOL=HOST[:PORT]    for that tool only, whatever it declares;
 *   TOOL=-HOST[:PORT]   narrows TOOL's own declared list: a destination this
 *                       pattern matches is no longer admitted by any of the
 *                       tool's declared patterns (so -*.s3.us-east-1.amazonaws.com
 *                       carves one region out of a declared *.s3.*.amazonaws.com).
 *                       It never removes the operator's own entries.
 * TOOL is a tool's name, 1 to 64 of [a-z0-9_].
 *
 * The decision.  A request of a tool to HOST:PORT is allowed when one of the
 * tool's declared patterns matches it and no removal of that tool does, or
 * else when one of the operator's entries for the tool (TOOL=, or unprefixed
 * when the tool takes operator destinations) matches it.  The pattern that
 * admitted it goes with the request: egress/address.c lets a connection to
 * a loopback, private or other non-public address through only when that
 * pattern names the address itself (or localhost, for loopback).
 */
#ifndef MCPD_COMMON_EGRESS_ALLOW_H
#define MCPD_COMMON_EGRESS_ALLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EGRESS_ALLOW_MAX_ENTRIES 256
#define EGRESS_TOOL_NAME_MAX 64
#define EGRESS_HOST_MAX 253
#define EGRESS_DEFAULT_PORT 443
/* Room for any pattern as egress_pattern_format writes it. */
#define EGRESS_PATTERN_TEXT_MAX (EGRESS_HOST_MAX + 2 + 6 + 1)

enum egress_host_kind {
	EGRESS_HOST_NAME,	/* DNS labels; in a pattern, "*" stands for one label */
	EGRESS_HOST_IPV4,
	EGRESS_HOST_IPV6,
};

/* A HOST[:PORT] pattern, or a destination (a URL's host and port, no wildcard). */
struct egress_pattern {
	enum egress_host_kind kind;
	/* Lower case without the trailing dot; an IP address as inet_ntop writes
	 * it (IPv6 without brackets). */
	char host[EGRESS_HOST_MAX + 1];
	/* An IP address as IPv6 bytes, IPv4 as ::ffff:a.b.c.d, so that both
	 * spellings of one IPv4 address compare equal. */
	unsigned char addr[16];
	uint16_t port;		/* 0: any port */
};

struct egress_entry {
	char tool[EGRESS_TOOL_NAME_MAX + 1];	/* "": for tools that take operator destinations */
	bool removes;		/* TOOL=-HOST[:PORT] */
	struct egress_pattern pattern;
};

/* The operator's list, parsed; zeroed means empty. */
struct egress_allow {
	struct egress_entry *entries;
	size_t n;
};

/* What a tool declares about its destinations. */
struct egress_tool {
	const char *name;		/* never NULL */
	const char *const *destinations;	/* HOST[:PORT] patterns, NULL-terminated; NULL: none */
	bool takes_operator;	/* unprefixed --egress-allow entries apply to it */
};

/*
 * The tools' own declared destinations, by name: what each tool declares
 * with MCPD_EGRESS(...) / MCPD_EGRESS_OPERATOR (worker/tool.h), gathered by
 * the supervisor from the worker's registry and handed to the egress.  A
 * REQUEST names its tool; a tool missing from the table declared nothing
 * and takes no unprefixed operator entry, so only TOOL=HOST entries of
 * --egress-allow admit it.
 */
struct egress_tools {
	const struct egress_tool *tools;
	size_t n;
};

/**
 * Parses one HOST[:PORT] pattern of `len` bytes.  Returns 0, or -1 with what
 * is wrong in `why` ("empty DNS label").
 */
int egress_pattern_parse(const char *text, size_t len, struct egress_pattern *out, char *why, size_t whylen);
/**
 * Reads a URL's host (a name, a dotted-quad IPv4 address, an IPv6 address
 * with or without brackets) and port (1..65535) as a destination.  Other
 * spellings of an IP address (2852039166, 0xa9fea9fe, 127.1) are refused:
 * egress/address.c rewrites them first.  Returns 0, or -1 with `why`.
 */
int egress_destination_parse(const char *host, uint16_t port, struct egress_pattern *out, char *why, size_t whylen);
/** True when pattern p matches destination d (host and port). */
bool egress_pattern_matches(const struct egress_pattern *p, const struct egress_pattern *d);
/** True when p is exactly the name localhost. */
bool egress_pattern_is_localhost(const struct egress_pattern *p);
/** Writes p as HOST:PORT ("*" for any port, IPv6 in brackets) into buf. */
const char *egress_pattern_format(const struct egress_pattern *p, char *buf, size_t len);

/**
 * Parses the operator's list into `out` (owned: egress_allow_free).  Returns
 * 0, or -1 with a one-line reason naming the entry in `err`:
 * entry 3 "api..example.com": empty DNS label
 */
int egress_allow_parse(const char *text, struct egress_allow *out, char *err, size_t errlen);
/** Releases what egress_allow_parse allocated; the list is empty after. */
void egress_allow_free(struct egress_allow *list);

/**
 * Decides whether `tool` may reach host:port (as egress_destination_parse
 * reads them) under the operator's list `ops` (NULL: none).  True with the
 * pattern that admitted the request in `admitted`; false with a one-line
 * reason in `why`.  Never allocates.
 */
bool egress_allow_decide(const struct egress_tool *tool, const struct egress_allow *ops, const char *host,
    uint16_t port, struct egress_pattern *admitted, char *why, size_t whylen);

#endif
