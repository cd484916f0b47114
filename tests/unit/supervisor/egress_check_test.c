/*
 * Unit tests for supervisor/egress_check.c: the operator's --egress-allow
 * against the tools of a build.  A TOOL= entry must name a tool that makes
 * outbound requests (the first one that does not stops mcpd, with the
 * entry and why); entries without TOOL= admit nothing when no tool takes
 * the operator's destinations (counted for the warning).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "supervisor/egress_check.h"

static const char *const api_destinations[] = {"api.example.com", NULL};

/* A build of four tools: two that compute, one with its own destinations, one that takes the operator's. */
static const struct counters_tools build_tools = {
	.names = {"add_numbers", "greet_user", "weather", "fetch"}, .count = 4,
};
static const struct egress_tool declaring[] = {
	{.name = "weather", .destinations = api_destinations},
	{.name = "fetch", .takes_operator = true},
};
static const struct egress_tools declared_both = {.tools = declaring, .n = 2};
static const struct egress_tools declared_own_only = {.tools = declaring, .n = 1};
static const struct egress_tools declared_none = {.tools = NULL, .n = 0};

/* Checks `list` against the build; returns what egress_check_tool_entries returned, err in err. */
static int
check(const char *list, const struct egress_tools *declared, char *err, size_t errlen)
{
	struct egress_allow ops;
	int rc;

	err[0] = '\0';
	assert_int_equal(egress_allow_parse(list, &ops, err, errlen), 0);
	rc = egress_check_tool_entries(&ops, &build_tools, declared, err, errlen);
	egress_allow_free(&ops);
	return rc;
}

static void
entries_for_tools_that_fetch_pass(void **state)
{
	char err[256];

	(void)state;
	assert_int_equal(check("weather=api.weather.gov, fetch=docs.example.com:8443, weather=-api.example.com, "
	    "docs.example.com", &declared_both, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	/* Unprefixed entries are never this check's business, whatever the tools. */
	assert_int_equal(check("docs.example.com,10.0.0.5:*", &declared_none, err, sizeof(err)), 0);
}

static void
an_entry_for_a_tool_that_makes_no_request_stops_mcpd(void **state)
{
	char err[256];

	(void)state;
	assert_int_equal(check("weather=api.weather.gov,add_numbers=api.example.com", &declared_both, err,
	    sizeof(err)), -1);
	assert_string_equal(err, "--egress-allow entry 2 \"add_numbers=api.example.com:443\": the tool add_numbers "
	    "makes no outbound requests (it declares no MCPD_EGRESS)");
	/* A removal too: it would narrow a list the tool does not have. */
	assert_int_equal(check("greet_user=-[fd00::1]:*", &declared_both, err, sizeof(err)), -1);
	assert_string_equal(err, "--egress-allow entry 1 \"greet_user=-[fd00::1]:*\": the tool greet_user "
	    "makes no outbound requests (it declares no MCPD_EGRESS)");
	/* With no tool that fetches, any TOOL= entry is refused. */
	assert_int_equal(check("weather=api.weather.gov", &declared_none, err, sizeof(err)), -1);
	assert_string_equal(err, "--egress-allow entry 1 \"weather=api.weather.gov:443\": the tool weather "
	    "makes no outbound requests (it declares no MCPD_EGRESS)");
}

static void
an_entry_for_no_tool_at_all_stops_mcpd(void **state)
{
	char err[256];

	(void)state;
	assert_int_equal(check("docs.example.com,wether=api.weather.gov:8080,nosuch=x.example", &declared_both,
	    err, sizeof(err)), -1);
	assert_string_equal(err, "--egress-allow entry 2 \"wether=api.weather.gov:8080\": no tool of this build "
	    "is named wether");
	assert_null(strchr(err, '\n'));
}

/* Counts entries without TOOL= against `declared`; *first as found. */
static size_t
unused(const char *list, const struct egress_tools *declared, size_t *first)
{
	struct egress_allow ops;
	char err[128];
	size_t n;

	assert_int_equal(egress_allow_parse(list, &ops, err, sizeof(err)), 0);
	n = egress_check_unused_entries(&ops, declared, first);
	egress_allow_free(&ops);
	return n;
}

static void
unprefixed_entries_are_unused_only_when_no_tool_takes_them(void **state)
{
	size_t first = 99;

	(void)state;
	/* fetch takes the operator's destinations: every entry may admit something. */
	assert_int_equal(unused("docs.example.com,weather=api.weather.gov", &declared_both, &first), 0);
	assert_int_equal(first, 99);
	/* Only weather fetches, with its own list: the unprefixed entries admit nothing. */
	assert_int_equal(unused("weather=api.weather.gov,docs.example.com,weather=-x.example,10.0.0.5",
	    &declared_own_only, &first), 2);
	assert_int_equal(first, 1);
	assert_int_equal(unused("docs.example.com", &declared_none, &first), 1);
	assert_int_equal(first, 0);
	first = 99;
	assert_int_equal(unused("weather=api.weather.gov", &declared_own_only, &first), 0);
	assert_int_equal(first, 99);
}

/* An empty list (no --egress-allow) passes every check, whatever the tools. */
static void
no_list_passes(void **state)
{
	const struct egress_allow none = {0};
	size_t first = 0;
	char err[64] = "";

	(void)state;
	assert_int_equal(egress_check_tool_entries(&none, &build_tools, &declared_none, err, sizeof(err)), 0);
	assert_int_equal(egress_check_unused_entries(&none, &declared_none, &first), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(entries_for_tools_that_fetch_pass),
		cmocka_unit_test(an_entry_for_a_tool_that_makes_no_request_stops_mcpd),
		cmocka_unit_test(an_entry_for_no_tool_at_all_stops_mcpd),
		cmocka_unit_test(unprefixed_entries_are_unused_only_when_no_tool_takes_them),
		cmocka_unit_test(no_list_passes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
