/*
 * Fuzz driver for the destination policy: common/egress_allow.c (the
 * --egress-allow list, patterns, the decision) and egress/address.c (a
 * URL's host read as a resolver would, the address classes, the rule for a
 * connection).
 *
 * Input: one control byte, then lines:
 *
 *	<the operator's list>
 *	<a URL's host>
 *	<declared pattern>...   (up to 8 non-empty lines, the tool's own list)
 *
 * Control bits 0-1 pick the port (443, 80, 8443, 0), bit 2 whether the tool
 * takes operator destinations.  The host is copied into a buffer of its
 * exact size without a NUL, so AddressSanitizer sees address.c read past it.
 *
 * Besides the sanitizers, the driver checks what the code promises: errors
 * are one line; a parsed entry formats to text that parses to the same
 * pattern; a canonical host reads as the same thing again; an admitted
 * request matches its admitting pattern; no request or connection reaches
 * a metadata, unspecified, multicast or broadcast address; a non-public
 * address is reached only through a pattern naming it (or localhost).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/egress_allow.h"
#include "egress/address.h"
#include "tests/fuzz/fuzz_check.h"

#define MAX_DECLARED 8

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_one_line(const char *why)
{
	FUZZ_CHECK(why[0] != '\0');
	FUZZ_CHECK(strchr(why, '\n') == NULL);
}

/* Every entry formats to text that parses back to the same pattern. */
static void
check_list(const char *text)
{
	struct egress_allow list;
	char err[256] = "";

	if (egress_allow_parse(text, &list, err, sizeof(err)) < 0) {
		check_one_line(err);
		FUZZ_CHECK(list.entries == NULL && list.n == 0);
		return;
	}
	FUZZ_CHECK(list.n >= 1 && list.n <= EGRESS_ALLOW_MAX_ENTRIES);
	for (size_t i = 0; i < list.n; i++) {
		struct egress_pattern again;
		char shown[EGRESS_PATTERN_TEXT_MAX], why[160];

		egress_pattern_format(&list.entries[i].pattern, shown, sizeof(shown));
		FUZZ_CHECK(egress_pattern_parse(shown, strlen(shown), &again, why, sizeof(why)) == 0);
		FUZZ_CHECK(memcmp(&again, &list.entries[i].pattern, sizeof(again)) == 0);
	}
	egress_allow_free(&list);
}

static bool
never_reachable(enum address_class c)
{
	return c == ADDRESS_METADATA || c == ADDRESS_UNSPECIFIED || c == ADDRESS_MULTICAST || c == ADDRESS_BROADCAST;
}

/* A canonical host reads as the same kind, and an address as the same address. */
static void
check_host(const char *host, size_t len)
{
	struct sockaddr_storage ss, again;
	socklen_t sslen, againlen;
	char canonical[EGRESS_HOST_MAX + 3];
	enum address_host kind = address_parse_host(host, len, &ss, &sslen);
	int rc = address_canonical_host(host, len, canonical, sizeof(canonical));

	FUZZ_CHECK((kind == ADDRESS_HOST_BAD) == (rc < 0));
	if (rc < 0)
		return;
	FUZZ_CHECK(address_parse_host(canonical, strlen(canonical), &again, &againlen) == kind);
	if (kind == ADDRESS_HOST_IP)
		FUZZ_CHECK(againlen == sslen && memcmp(&again, &ss, sslen) == 0);
}

/* The decision before DNS: an admitted request matches its pattern, and a
 * literal host's address is public or named by that pattern. */
static void
check_decision(const struct egress_tool *tool, const struct egress_allow *ops, const char *host, size_t len,
    uint16_t port)
{
	struct egress_pattern admitted, d;
	struct sockaddr_storage ss;
	socklen_t sslen;
	char why[512] = "", reason[160], canonical[EGRESS_HOST_MAX + 3];
	enum address_class c;

	if (!address_admit_url(tool, ops, host, len, port, &admitted, why, sizeof(why))) {
		check_one_line(why);
		return;
	}
	FUZZ_CHECK(address_canonical_host(host, len, canonical, sizeof(canonical)) == 0);
	FUZZ_CHECK(egress_destination_parse(canonical, port, &d, reason, sizeof(reason)) == 0);
	FUZZ_CHECK(egress_pattern_matches(&admitted, &d));
	if (address_parse_host(host, len, &ss, &sslen) != ADDRESS_HOST_IP)
		return;
	c = address_classify((struct sockaddr *)&ss, sslen, NULL);
	FUZZ_CHECK(!never_reachable(c));
	FUZZ_CHECK(c == ADDRESS_PUBLIC ||
	    (admitted.kind != EGRESS_HOST_NAME && memcmp(admitted.addr, d.addr, sizeof(d.addr)) == 0));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint16_t ports[] = {443, 80, 8443, 0};
	const char *declared[MAX_DECLARED + 1] = {NULL};
	char *text, *list, *host_line, *rest, *host;
	struct egress_tool tool = {.name = "fetch", .destinations = declared};
	struct egress_allow ops = {0};
	size_t n = 0, host_len;
	uint16_t port;

	if (size < 1)
		return 0;
	port = ports[data[0] & 3];
	tool.takes_operator = (data[0] & 4) != 0;
	text = malloc(size);
	FUZZ_CHECK(text != NULL);
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	list = text;
	host_line = strchr(list, '\n');
	host_line = host_line != NULL ? (*host_line = '\0', host_line + 1) : list + strlen(list);
	rest = strchr(host_line, '\n');
	rest = rest != NULL ? (*rest = '\0', rest + 1) : NULL;
	while (rest != NULL && n < MAX_DECLARED) {
		char *line = rest;

		rest = strchr(rest, '\n');
		rest = rest != NULL ? (*rest = '\0', rest + 1) : NULL;
		if (line[0] != '\0')	/* an empty line, such as the last one, declares nothing */
			declared[n++] = line;
	}
	check_list(list);
	host_len = strlen(host_line);
	host = malloc(host_len > 0 ? host_len : 1);
	FUZZ_CHECK(host != NULL);
	memcpy(host, host_line, host_len);
	check_host(host, host_len);
	if (egress_allow_parse(list, &ops, NULL, 0) < 0)
		ops = (struct egress_allow){0};
	check_decision(&tool, &ops, host, host_len, port);
	egress_allow_free(&ops);
	free(host);
	free(text);
	return 0;
}
