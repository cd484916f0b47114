/*
 * Unit tests for common/egress_allow.c: the HOST[:PORT] patterns, the
 * operator's --egress-allow list and its one-line errors, how wildcards,
 * ports, case and trailing dots match, and the decision for a tool with
 * its declared list, the TOOL= and TOOL=- entries.  Table-driven: each row
 * is one case, named in the failure message.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/egress_allow.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* A pattern and what it parses to. */
struct good_pattern {
	const char *text;
	const char *expect;	/* as egress_pattern_format writes it */
	enum egress_host_kind kind;
};

/* A pattern, or a destination, and part of the reason it is refused. */
struct bad_pattern {
	const char *text;
	const char *reason;
};

static const struct good_pattern good_patterns[] = {
	{"api.example.com", "api.example.com:443", EGRESS_HOST_NAME},
	{"API.Example.COM.", "api.example.com:443", EGRESS_HOST_NAME},
	{"api.example.com:8443", "api.example.com:8443", EGRESS_HOST_NAME},
	{"api.example.com:*", "api.example.com:*", EGRESS_HOST_NAME},
	{"api.example.com:1", "api.example.com:1", EGRESS_HOST_NAME},
	{"api.example.com:65535", "api.example.com:65535", EGRESS_HOST_NAME},
	{"*.s3.*.amazonaws.com", "*.s3.*.amazonaws.com:443", EGRESS_HOST_NAME},
	{"example.*", "example.*:443", EGRESS_HOST_NAME},
	{"*.*", "*.*:443", EGRESS_HOST_NAME},
	{"a_b-c.example.com", "a_b-c.example.com:443", EGRESS_HOST_NAME},
	{"xn--bcher-kva.example", "xn--bcher-kva.example:443", EGRESS_HOST_NAME},
	{"1.2.3.example", "1.2.3.example:443", EGRESS_HOST_NAME},
	{"localhost", "localhost:443", EGRESS_HOST_NAME},
	{"LOCALHOST.:8080", "localhost:8080", EGRESS_HOST_NAME},
	{"10.0.0.5", "10.0.0.5:443", EGRESS_HOST_IPV4},
	{"10.0.0.5:8080", "10.0.0.5:8080", EGRESS_HOST_IPV4},
	{"10.0.0.5.", "10.0.0.5:443", EGRESS_HOST_IPV4},
	{"[::1]:8443", "[::1]:8443", EGRESS_HOST_IPV6},
	{"[FD00:0::1]", "[fd00::1]:443", EGRESS_HOST_IPV6},
	{"[::ffff:10.0.0.5]:*", "[::ffff:10.0.0.5]:*", EGRESS_HOST_IPV6},
};

static const struct bad_pattern bad_patterns[] = {
	{"", "empty host"},
	{".", "empty host"},
	{":443", "empty host"},
	{"api..example.com", "empty DNS label"},
	{".example.com", "empty DNS label"},
	{"example.com..", "empty DNS label"},
	{"api.example.com:", "empty port"},
	{"api.example.com:0", "a port is 1 to 65535, or * for any"},
	{"api.example.com:65536", "a port is 1 to 65535"},
	{"api.example.com:123456", "a port is 1 to 65535"},
	{"api.example.com:-1", "a port is 1 to 65535"},
	{"api.example.com:+443", "a port is 1 to 65535"},
	{"api.example.com:44a", "a port is 1 to 65535"},
	{"api.example.com:**", "a port is 1 to 65535"},
	{"api.*ample.com", "'*' must be a whole label"},
	{"*api.example.com", "'*' must be a whole label"},
	{"**.example.com", "'*' must be a whole label"},
	{"*", "'*' alone matches only one-label names"},
	{"*:443", "'*' alone"},
	{"*.localhost", "localhost is an exact entry"},
	{"localhost.*", "localhost is an exact entry"},
	{"a.localhost.*", "localhost is an exact entry"},
	{"10.0.0.*", "wildcards are not allowed in IP addresses"},
	{"*.0.0.1", "wildcards are not allowed in IP addresses"},
	{"*.*.*.1", "wildcards are not allowed in IP addresses"},
	{"[*::1]", "wildcards are not allowed in IP addresses"},
	{"[fe80::1%eth0]", "zone ids"},
	{"[fe80::1%25eth0]:443", "zone ids"},
	{"[::1", "'[' without ']'"},
	{"[::1]x", "after ']'"},
	{"[::1]:", "empty port"},
	{"[]", "not an IPv6 address"},
	{"[example.com]", "not an IPv6 address"},
	{"[1.2.3.4]", "not an IPv6 address"},
	{"::1", "an IPv6 address needs brackets"},
	{"fd00::1:443", "an IPv6 address needs brackets"},
	{"2852039166", "an IPv4 address is four decimal numbers"},
	{"0xa9fea9fe", "an IPv4 address is four decimal numbers"},
	{"127.1", "an IPv4 address is four decimal numbers"},
	{"010.0.0.1", "an IPv4 address is four decimal numbers"},
	{"0x7f.0.0.1", "an IPv4 address is four decimal numbers"},
	{"256.1.1.1", "an IPv4 address is four decimal numbers"},
	{"1.2.3.4.5", "an IPv4 address is four decimal numbers"},
	{"example.0x10", "an IPv4 address is four decimal numbers"},
	{"exa mple.com", "a host name holds only letters"},
	{"ex/ample.com", "'/' is not allowed in a host name"},
	{"user@example.com", "'@' is not allowed in a host name"},
	{"ex%41mple.com", "'%' is not allowed in a host name"},
	{"\xc3\xa9.example.com", "a host name holds only letters"},
	{"-api.example.com", "cannot start or end with '-'"},
	{"api-.example.com", "cannot start or end with '-'"},
	{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com", "longer than 63"},
};

static void
test_good_patterns(void **state)
{
	(void)state;
	for (size_t i = 0; i < N(good_patterns); i++) {
		const struct good_pattern *c = &good_patterns[i];
		struct egress_pattern p;
		char why[160], text[EGRESS_PATTERN_TEXT_MAX];

		if (egress_pattern_parse(c->text, strlen(c->text), &p, why, sizeof(why)) != 0)
			fail_msg("pattern \"%s\" refused: %s", c->text, why);
		if (strcmp(egress_pattern_format(&p, text, sizeof(text)), c->expect) != 0 || p.kind != c->kind)
			fail_msg("pattern \"%s\" reads as \"%s\" (kind %d), not \"%s\"", c->text, text, p.kind, c->expect);
	}
}

static void
test_bad_patterns(void **state)
{
	(void)state;
	for (size_t i = 0; i < N(bad_patterns); i++) {
		const struct bad_pattern *c = &bad_patterns[i];
		struct egress_pattern p;
		char why[160] = "";

		if (egress_pattern_parse(c->text, strlen(c->text), &p, why, sizeof(why)) != -1)
			fail_msg("pattern \"%s\" accepted", c->text);
		if (strstr(why, c->reason) == NULL || strchr(why, '\n') != NULL)
			fail_msg("pattern \"%s\": reason \"%s\" does not say \"%s\"", c->text, why, c->reason);
	}
}

/* The longest name is 253 characters: 63 * 4 with three dots, one cut. */
static void
test_name_length(void **state)
{
	char name[300], why[160];
	struct egress_pattern p;
	size_t n = 0;

	(void)state;
	for (int l = 0; l < 4; l++) {
		memset(name + n, 'a', 63);
		n += 63;
		name[n++] = '.';
	}
	name[n - 1] = '\0';	/* 255 characters */
	assert_int_equal(egress_pattern_parse(name, 255, &p, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "longer than 253"));
	assert_int_equal(egress_pattern_parse(name + 2, 253, &p, why, sizeof(why)), 0);
	name[255] = '.';	/* a trailing dot is not counted */
	name[256] = '\0';
	assert_int_equal(egress_pattern_parse(name + 2, 254, &p, why, sizeof(why)), 0);
	assert_int_equal(strlen(p.host), 253);
}

/* A list and the entries it parses to. */
static void
test_list_forms(void **state)
{
	struct egress_allow list;
	char err[200], text[EGRESS_PATTERN_TEXT_MAX];

	(void)state;
	assert_int_equal(egress_allow_parse(" docs.example.com ,weather=*.weather.gov:*,\ts3=-*.s3.us-west-2.amazonaws.com",
	    &list, err, sizeof(err)), 0);
	assert_int_equal(list.n, 3);
	assert_string_equal(list.entries[0].tool, "");
	assert_false(list.entries[0].removes);
	assert_string_equal(egress_pattern_format(&list.entries[0].pattern, text, sizeof(text)), "docs.example.com:443");
	assert_string_equal(list.entries[1].tool, "weather");
	assert_false(list.entries[1].removes);
	assert_string_equal(egress_pattern_format(&list.entries[1].pattern, text, sizeof(text)), "*.weather.gov:*");
	assert_string_equal(list.entries[2].tool, "s3");
	assert_true(list.entries[2].removes);
	assert_string_equal(egress_pattern_format(&list.entries[2].pattern, text, sizeof(text)),
	    "*.s3.us-west-2.amazonaws.com:443");
	egress_allow_free(&list);
	assert_null(list.entries);
	assert_int_equal(list.n, 0);
	egress_allow_free(&list);	/* twice is harmless */
}

struct list_case {
	const char *text;
	const char *err;	/* the whole message */
};

static const struct list_case bad_lists[] = {
	{"x.com,y.com,api..example.com", "entry 3 \"api..example.com\": empty DNS label"},
	{"", "entry 1 \"\": empty entry"},
	{"a.com,,b.com", "entry 2 \"\": empty entry"},
	{"a.com,", "entry 2 \"\": empty entry"},
	{",a.com", "entry 1 \"\": empty entry"},
	{"a.com, ,b.com", "entry 2 \"\": empty entry"},
	{"Fetch=a.com", "entry 1 \"Fetch=a.com\": a tool name is 1 to 64 of [a-z0-9_]"},
	{"=a.com", "entry 1 \"=a.com\": a tool name is 1 to 64 of [a-z0-9_]"},
	{"fe-tch=a.com", "entry 1 \"fe-tch=a.com\": a tool name is 1 to 64 of [a-z0-9_]"},
	{"fetch tool=a.com", "entry 1 \"fetch tool=a.com\": a tool name is 1 to 64 of [a-z0-9_]"},
	{"a.com,aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa=b.com",
	    "entry 2 \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa=b.com\": "
	    "a tool name is 1 to 64 of [a-z0-9_]"},
	{"-a.com", "entry 1 \"-a.com\": a removal names the tool whose list it narrows: TOOL=-HOST"},
	{"fetch=", "entry 1 \"fetch=\": empty host"},
	{"fetch=-", "entry 1 \"fetch=-\": empty host"},
	{"fetch=--a.com", "entry 1 \"fetch=--a.com\": a DNS label cannot start or end with '-'"},
	{"fetch=a.com=b", "entry 1 \"fetch=a.com=b\": '=' is not allowed in a host name"},
	{"fetch=a.com:0", "entry 1 \"fetch=a.com:0\": a port is 1 to 65535, or * for any"},
	{"a.com:99999", "entry 1 \"a.com:99999\": a port is 1 to 65535, or * for any"},
	{"fetch=10.0.0.*", "entry 1 \"fetch=10.0.0.*\": wildcards are not allowed in IP addresses"},
	{"fetch=-*.localhost", "entry 1 \"fetch=-*.localhost\": localhost is an exact entry: no wildcard may stand with it"},
	{"a\nb.com", "entry 1 \"a?b.com\": a host name holds only letters, digits, '-', '_' and '.'"},
	{"a.com;b.com", "entry 1 \"a.com;b.com\": ';' is not allowed in a host name"},
	{"a.com b.com", "entry 1 \"a.com b.com\": a host name holds only letters, digits, '-', '_' and '.'"},
};

static void
test_bad_lists(void **state)
{
	(void)state;
	for (size_t i = 0; i < N(bad_lists); i++) {
		struct egress_allow list = {.n = 99};
		char err[300] = "";

		if (egress_allow_parse(bad_lists[i].text, &list, err, sizeof(err)) != -1)
			fail_msg("list \"%s\" accepted", bad_lists[i].text);
		if (strcmp(err, bad_lists[i].err) != 0)
			fail_msg("list \"%s\": error \"%s\", expected \"%s\"", bad_lists[i].text, err, bad_lists[i].err);
		assert_null(list.entries);
		assert_int_equal(list.n, 0);
	}
}

/* At most EGRESS_ALLOW_MAX_ENTRIES entries; a long entry is cut in the message. */
static void
test_list_limits(void **state)
{
	char text[8192], err[300];
	struct egress_allow list;
	size_t len = 0;

	(void)state;
	for (int i = 0; i < EGRESS_ALLOW_MAX_ENTRIES; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len, "%sh%d.example", i ? "," : "", i);
	assert_int_equal(egress_allow_parse(text, &list, err, sizeof(err)), 0);
	assert_int_equal(list.n, EGRESS_ALLOW_MAX_ENTRIES);
	egress_allow_free(&list);
	snprintf(text + len, sizeof(text) - len, ",one.more");
	assert_int_equal(egress_allow_parse(text, &list, err, sizeof(err)), -1);
	assert_string_equal(err, "257 entries: at most 256");
	memset(text, 'a', 200);
	strcpy(text + 200, "..com");
	assert_int_equal(egress_allow_parse(text, &list, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "aaaa...\": "));
	assert_true(strlen(err) < 140);
}

/* A pattern, a destination (host, port) and whether they match. */
struct match_case {
	const char *pattern;
	const char *host;
	uint16_t port;
	bool match;
};

static const struct match_case matches[] = {
	/* "*" is exactly one label, not zero and not two. */
	{"*.example.com", "a.example.com", 443, true},
	{"*.example.com", "example.com", 443, false},
	{"*.example.com", "a.b.example.com", 443, false},
	{"*.example.com", "evil-example.com", 443, false},
	{"*.example.com", "aexample.com", 443, false},
	{"*.example.com", "a.example.com.evil.net", 443, false},
	{"*.example.com", "a.example.co", 443, false},
	{"*.example.com", "A.EXAMPLE.COM.", 443, true},
	{"*.example.com", "xn--bcher-kva.example.com", 443, true},
	{"*.s3.*.amazonaws.com", "bucket.s3.us-east-1.amazonaws.com", 443, true},
	{"*.s3.*.amazonaws.com", "bucket.s3.amazonaws.com", 443, false},
	{"*.s3.*.amazonaws.com", "bucket.s3.a.b.amazonaws.com", 443, false},
	{"*.s3.*.amazonaws.com", "s3.us-east-1.amazonaws.com", 443, false},
	{"*.s3.*.amazonaws.com", "bucket.s4.us-east-1.amazonaws.com", 443, false},
	{"api.*.example.com", "api.eu.example.com", 443, true},
	{"api.*.example.com", "api.example.com", 443, false},
	{"example.*", "example.com", 443, true},
	{"example.*", "example.co.uk", 443, false},
	{"*.*", "a.b", 443, true},
	{"*.*", "a", 443, false},
	{"*.*", "a.b.c", 443, false},
	/* Case and the trailing dot, on both sides. */
	{"API.Example.COM.", "api.example.com", 443, true},
	{"api.example.com", "API.EXAMPLE.COM.", 443, true},
	{"api.example.com", "api.example.com.evil.net", 443, false},
	{"api.example.com", "xapi.example.com", 443, false},
	{"api.example.com", "api.example.co", 443, false},
	/* Ports: 443 unless written, * for any. */
	{"api.example.com", "api.example.com", 8443, false},
	{"api.example.com", "api.example.com", 80, false},
	{"api.example.com:8443", "api.example.com", 443, false},
	{"api.example.com:8443", "api.example.com", 8443, true},
	{"api.example.com:*", "api.example.com", 1, true},
	{"api.example.com:*", "api.example.com", 65535, true},
	/* IP addresses match by value, never a name pattern. */
	{"10.0.0.5", "10.0.0.5", 443, true},
	{"10.0.0.5", "10.0.0.6", 443, false},
	{"10.0.0.5", "10.0.0.5.", 443, true},
	{"[::ffff:10.0.0.5]", "10.0.0.5", 443, true},
	{"10.0.0.5", "[::ffff:10.0.0.5]", 443, true},
	{"10.0.0.5", "::ffff:a00:5", 443, true},
	{"10.0.0.5", "[64:ff9b::a00:5]", 443, false},
	{"[::1]", "::1", 443, true},
	{"[::1]", "[0:0:0:0:0:0:0:1]", 443, true},
	{"[::1]", "127.0.0.1", 443, false},
	{"[FD00::1]", "[fd00:0:0::1]", 443, true},
	{"*.*.*.*", "10.0.0.5", 443, false},
	{"*.*", "[::1]", 443, false},
	{"localhost", "localhost", 443, true},
	{"localhost", "LOCALHOST.", 443, true},
	{"localhost", "127.0.0.1", 443, false},
	{"localhost", "a.localhost", 443, false},
	{"127.0.0.1", "localhost", 443, false},
};

static void
test_matching(void **state)
{
	(void)state;
	for (size_t i = 0; i < N(matches); i++) {
		const struct match_case *c = &matches[i];
		struct egress_pattern p, d;
		char why[160];

		if (egress_pattern_parse(c->pattern, strlen(c->pattern), &p, why, sizeof(why)) != 0)
			fail_msg("pattern \"%s\" refused: %s", c->pattern, why);
		if (egress_destination_parse(c->host, c->port, &d, why, sizeof(why)) != 0)
			fail_msg("destination \"%s\" refused: %s", c->host, why);
		if (egress_pattern_matches(&p, &d) != c->match)
			fail_msg("\"%s\" %s %s:%u", c->pattern, c->match ? "does not match" : "matches", c->host, c->port);
	}
}

/* Destinations: a URL's host in canonical form; anything else is refused. */
static const struct bad_pattern bad_destinations[] = {
	{"2852039166", "four decimal numbers"},
	{"0xa9fea9fe", "four decimal numbers"},
	{"0251.0376.0251.0376", "four decimal numbers"},
	{"169.254.43518", "four decimal numbers"},
	{"127.1", "four decimal numbers"},
	{"0", "four decimal numbers"},
	{"*.example.com", "a destination has no wildcard"},
	{"*", "a destination has no wildcard"},
	{"[fe80::1%25eth0]", "zone ids"},
	{"fe80::1%eth0", "zone ids"},
	{"", "empty host"},
	{"exa mple.com", "a host name holds only letters"},
	{"example.com:443", "not an IPv6 address"},
	{"a..b", "empty DNS label"},
};

static void
test_destinations(void **state)
{
	struct egress_pattern d;
	char why[160], text[EGRESS_PATTERN_TEXT_MAX];

	(void)state;
	for (size_t i = 0; i < N(bad_destinations); i++) {
		const struct bad_pattern *c = &bad_destinations[i];

		if (egress_destination_parse(c->text, 443, &d, why, sizeof(why)) != -1)
			fail_msg("destination \"%s\" accepted", c->text);
		if (strstr(why, c->reason) == NULL)
			fail_msg("destination \"%s\": reason \"%s\" does not say \"%s\"", c->text, why, c->reason);
	}
	assert_int_equal(egress_destination_parse("example.com", 0, &d, why, sizeof(why)), -1);
	assert_string_equal(why, "port 0");
	assert_int_equal(egress_destination_parse("API.Example.com.", 8443, &d, why, sizeof(why)), 0);
	assert_string_equal(egress_pattern_format(&d, text, sizeof(text)), "api.example.com:8443");
	assert_int_equal(egress_destination_parse("169.254.169.254.", 80, &d, why, sizeof(why)), 0);
	assert_string_equal(egress_pattern_format(&d, text, sizeof(text)), "169.254.169.254:80");
	assert_int_equal(egress_destination_parse("[FD00:EC2::254]", 80, &d, why, sizeof(why)), 0);
	assert_string_equal(egress_pattern_format(&d, text, sizeof(text)), "[fd00:ec2::254]:80");
	assert_true(egress_pattern_is_localhost(&(struct egress_pattern){.kind = EGRESS_HOST_NAME, .host = "localhost"}));
	assert_false(egress_pattern_is_localhost(&(struct egress_pattern){.kind = EGRESS_HOST_NAME, .host = "a.localhost"}));
}

/* Formatting and parsing again gives the same pattern. */
static void
test_format_round_trip(void **state)
{
	(void)state;
	for (size_t i = 0; i < N(good_patterns); i++) {
		struct egress_pattern p, again;
		char why[160], text[EGRESS_PATTERN_TEXT_MAX];

		assert_int_equal(egress_pattern_parse(good_patterns[i].text, strlen(good_patterns[i].text), &p, why,
		    sizeof(why)), 0);
		egress_pattern_format(&p, text, sizeof(text));
		assert_int_equal(egress_pattern_parse(text, strlen(text), &again, why, sizeof(why)), 0);
		if (memcmp(&p, &again, sizeof(p)) != 0)
			fail_msg("\"%s\" formats as \"%s\", which parses differently", good_patterns[i].text, text);
	}
}

/* The tools of the decision cases. */
static const char *const weather_destinations[] = {"api.weather.gov", "*.tile.weather.gov:*", NULL};
static const char *const s3_destinations[] = {"*.s3.*.amazonaws.com", NULL};
static const char *const broken_destinations[] = {"ok.example.com", "api..example.com", NULL};
static const struct egress_tool weather = {"weather", weather_destinations, false};
static const struct egress_tool s3 = {"s3", s3_destinations, false};
static const struct egress_tool fetch = {"fetch", NULL, true};
static const struct egress_tool broken = {"broken", broken_destinations, true};

/* Under the operator's list ops, may tool reach host:port?  expect is the
 * admitting pattern when allowed, else part of the reason. */
struct decide_case {
	const char *ops;
	const struct egress_tool *tool;
	const char *host;
	uint16_t port;
	bool allowed;
	const char *expect;
};

static const struct decide_case decisions[] = {
	/* A tool's own list. */
	{"", &weather, "api.weather.gov", 443, true, "api.weather.gov:443"},
	{"", &weather, "API.Weather.GOV.", 443, true, "api.weather.gov:443"},
	{"", &weather, "api.weather.gov", 8443, false,
	    "tool weather may not reach api.weather.gov:8443: that host is allowed on other ports only"},
	{"", &weather, "x.tile.weather.gov", 8080, true, "*.tile.weather.gov:*"},
	{"", &weather, "tile.weather.gov", 443, false,
	    "tool weather may not reach tile.weather.gov:443: not among its destinations"},
	{"", &weather, "a.b.tile.weather.gov", 443, false, "not among its destinations"},
	{"", &weather, "evil.com", 443, false, "not among its destinations"},
	{"", &fetch, "api.weather.gov", 443, false,
	    "tool fetch may not reach api.weather.gov:443: not among its destinations"},
	/* Unprefixed entries: only for tools that take operator destinations. */
	{"docs.example.com", &fetch, "docs.example.com", 443, true, "docs.example.com:443"},
	{"docs.example.com", &fetch, "Docs.Example.Com.", 443, true, "docs.example.com:443"},
	{"docs.example.com", &fetch, "docs.example.com", 80, false, "allowed on other ports only"},
	{"docs.example.com", &weather, "docs.example.com", 443, false, "not among its destinations"},
	{"*.example.com", &fetch, "example.com", 443, false, "not among its destinations"},
	{"*.example.com", &fetch, "evil-example.com", 443, false, "not among its destinations"},
	{"*.example.com", &fetch, "a.example.com", 443, true, "*.example.com:443"},
	/* TOOL= entries: for that tool only, whether or not it takes the operator's. */
	{"weather=alerts.weather.gov", &weather, "alerts.weather.gov", 443, true, "alerts.weather.gov:443"},
	{"weather=alerts.weather.gov", &fetch, "alerts.weather.gov", 443, false, "not among its destinations"},
	{"fetch=alerts.weather.gov:*", &fetch, "alerts.weather.gov", 9000, true, "alerts.weather.gov:*"},
	/* TOOL=- entries narrow the tool's own list, wholly or in part. */
	{"weather=-api.weather.gov", &weather, "api.weather.gov", 443, false,
	    "tool weather may not reach api.weather.gov:443: --egress-allow removes it (weather=-api.weather.gov:443)"},
	{"weather=-API.WEATHER.GOV.", &weather, "api.weather.gov", 443, false, "removes it"},
	{"weather=-api.weather.gov", &weather, "x.tile.weather.gov", 443, true, "*.tile.weather.gov:*"},
	{"weather=-api.weather.gov:8443", &weather, "api.weather.gov", 443, true, "api.weather.gov:443"},
	{"weather=-*.tile.weather.gov:8080", &weather, "a.tile.weather.gov", 8080, false, "removes it"},
	{"weather=-*.tile.weather.gov:8080", &weather, "a.tile.weather.gov", 9090, true, "*.tile.weather.gov:*"},
	{"weather=-*.tile.weather.gov:*", &weather, "a.tile.weather.gov", 9090, false, "removes it"},
	{"fetch=-api.weather.gov", &weather, "api.weather.gov", 443, true, "api.weather.gov:443"},
	{"s3=-*.s3.us-west-2.amazonaws.com", &s3, "b.s3.us-west-2.amazonaws.com", 443, false, "removes it"},
	{"s3=-*.s3.us-west-2.amazonaws.com", &s3, "b.s3.us-east-1.amazonaws.com", 443, true, "*.s3.*.amazonaws.com:443"},
	/* A removal never removes the operator's own entries. */
	{"weather=-api.weather.gov,weather=api.weather.gov", &weather, "api.weather.gov", 443, true, "api.weather.gov:443"},
	{"fetch=-docs.example.com,docs.example.com", &fetch, "docs.example.com", 443, true, "docs.example.com:443"},
	/* IP addresses and localhost: exact entries. */
	{"10.0.0.5:8080", &fetch, "10.0.0.5", 8080, true, "10.0.0.5:8080"},
	{"10.0.0.5:8080", &fetch, "[::ffff:10.0.0.5]", 8080, true, "10.0.0.5:8080"},
	{"10.0.0.5:8080", &fetch, "10.0.0.5", 443, false, "allowed on other ports only"},
	{"10.0.0.5:8080", &fetch, "10.0.0.6", 8080, false, "not among its destinations"},
	{"10.0.0.5:8080", &fetch, "167772165", 8080, false, "destination \"167772165\": an IPv4 address is four decimal"},
	{"localhost:8080", &fetch, "localhost", 8080, true, "localhost:8080"},
	{"localhost:8080", &fetch, "LOCALHOST.", 8080, true, "localhost:8080"},
	{"localhost:8080", &fetch, "127.0.0.1", 8080, false, "not among its destinations"},
	{"[::1]:8443", &fetch, "[::1]", 8443, true, "[::1]:8443"},
	/* Hosts that are not destinations. */
	{"*.*", &fetch, "2852039166", 80, false, "destination \"2852039166\": an IPv4 address is four decimal numbers"},
	{"*.*", &fetch, "0xa9fea9fe", 80, false, "four decimal numbers"},
	{"*.*", &fetch, "a.b", 0, false, "destination \"a.b\": port 0"},
	{"*.*", &fetch, "ex\001.com", 443, false, "destination \"ex?.com\": a host name holds only"},
	/* A malformed declared pattern refuses every request of its tool. */
	{"ok.example.com", &broken, "ok.example.com", 443, false,
	    "tool broken declares a malformed destination \"api..example.com\": empty DNS label"},
	{"", &broken, "elsewhere.example.com", 443, false, "declares a malformed destination"},
};

static void
test_decisions(void **state)
{
	(void)state;
	for (size_t i = 0; i < N(decisions); i++) {
		const struct decide_case *c = &decisions[i];
		struct egress_allow ops = {0};
		struct egress_pattern admitted;
		char err[200], why[300] = "", text[EGRESS_PATTERN_TEXT_MAX];
		bool allowed;

		if (c->ops[0] != '\0' && egress_allow_parse(c->ops, &ops, err, sizeof(err)) != 0)
			fail_msg("case %zu: list \"%s\" refused: %s", i, c->ops, err);
		allowed = egress_allow_decide(c->tool, c->ops[0] != '\0' ? &ops : NULL, c->host, c->port, &admitted,
		    why, sizeof(why));
		if (allowed != c->allowed)
			fail_msg("case %zu: %s to %s:%u under \"%s\": %s (%s)", i, c->tool->name, c->host, c->port, c->ops,
			    allowed ? "allowed" : "refused", why);
		if (allowed && strcmp(egress_pattern_format(&admitted, text, sizeof(text)), c->expect) != 0)
			fail_msg("case %zu: admitted by \"%s\", expected \"%s\"", i, text, c->expect);
		if (!allowed && (strstr(why, c->expect) == NULL || strchr(why, '\n') != NULL))
			fail_msg("case %zu: reason \"%s\" does not say \"%s\"", i, why, c->expect);
		egress_allow_free(&ops);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_patterns),
		cmocka_unit_test(test_bad_patterns),
		cmocka_unit_test(test_name_length),
		cmocka_unit_test(test_list_forms),
		cmocka_unit_test(test_bad_lists),
		cmocka_unit_test(test_list_limits),
		cmocka_unit_test(test_matching),
		cmocka_unit_test(test_destinations),
		cmocka_unit_test(test_format_round_trip),
		cmocka_unit_test(test_decisions),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
