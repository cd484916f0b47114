/*
 * Unit tests for worker/tool_check.c: descriptions a tool author could get
 * wrong are refused at start-up with a message naming the tool and the rule,
 * and every tool this build has passes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "worker/tool_engine.h"

static int
run(struct mcpd_call *call)
{
	return mcpd_return_integer(call, 0);
}

static void
assert_refused(const struct mcpd_tool *t, const char *expected)
{
	char err[256] = "";

	if (tools_check(t, err, sizeof(err)) == 0)
		fail_msg("%s was accepted", t->name ? t->name : "(unnamed)");
	if (strstr(err, expected) == NULL)
		fail_msg("message \"%s\" lacks \"%s\"", err, expected);
}

static void
test_every_built_in_tool_passes(void **state)
{
	char err[256] = "";

	(void)state;
	if (tools_check_registry(err, sizeof(err)) < 0)
		fail_msg("%s", err);
}

static void
test_names(void **state)
{
	(void)state;
	assert_refused(&(struct mcpd_tool){.name = "Bad-Name", .description = "d", .run = run}, "[a-z0-9_]");
	assert_refused(&(struct mcpd_tool){.name = "", .description = "d", .run = run}, "[a-z0-9_]");
	assert_refused(&(struct mcpd_tool){.name = "t", .run = run}, "tool t needs a description and a run function");
	assert_refused(&(struct mcpd_tool){.name = "t", .description = "d",
	    MCPD_PARAMS(MCPD_INTEGER("a", "x"), MCPD_STRING("a", "y")), .run = run}, "two parameters are named a");
	assert_refused(&(struct mcpd_tool){.name = "t", .description = "d",
	    MCPD_PARAMS(MCPD_INTEGER("A b", "x")), .run = run}, "parameter 0 needs a name");
}

static void
test_rules_that_belong_to_other_types(void **state)
{
	(void)state;
	assert_refused(&(struct mcpd_tool){.name = "t", .description = "d",
	    MCPD_PARAMS(MCPD_STRING("s", "x", MCPD_MIN(1))), .run = run}, "minimum and maximum apply to integers only");
	assert_refused(&(struct mcpd_tool){.name = "t", .description = "d",
	    MCPD_PARAMS(MCPD_INTEGER("n", "x", MCPD_MAX_LENGTH(3))), .run = run}, "maxLength and enum apply to strings only");
	assert_refused(&(struct mcpd_tool){.name = "t", .description = "d",
	    MCPD_PARAMS(MCPD_INTEGER("n", "x", MCPD_MIN(5), MCPD_MAX(4))), .run = run}, "minimum is above its maximum");
	assert_refused(&(struct mcpd_tool){.name = "t", .description = "d",
	    MCPD_PARAMS(MCPD_INTEGER("n", "x", .max_items = 3)), .run = run}, "maxItems applies to arrays only");
}

static void
test_defaults_must_meet_their_rules(void **state)
{
	(void)state;
	assert_refused(&(struct mcpd_tool){.name = "t", .description = "d",
	    MCPD_PARAMS(MCPD_INTEGER("n", "x", MCPD_MAX(3), MCPD_DEFAULT_INTEGER(4))), .run = run},
	    "parameter n: its default breaks its minimum or maximum");
	assert_refused(&(struct mcpd_tool){.name = "t", .description = "d",
	    MCPD_PARAMS(MCPD_STRING("s", "x", MCPD_ENUM("a", "b"), MCPD_DEFAULT_STRING("c"))), .run = run},
	    "its default is not one of its enum values");
	assert_refused(&(struct mcpd_tool){.name = "t", .description = "d",
	    MCPD_PARAMS(MCPD_STRING("s", "x", MCPD_MAX_LENGTH(2), MCPD_DEFAULT_STRING("abc"))), .run = run},
	    "its default is longer than its maxLength");
	assert_refused(&(struct mcpd_tool){.name = "t", .description = "d",
	    MCPD_PARAMS(MCPD_NUMBER("x", "x", MCPD_DEFAULT_NUMBER(1.0 / 0.0))), .run = run},
	    "its default is not a finite number");
	assert_refused(&(struct mcpd_tool){.name = "t", .description = "d",
	    MCPD_PARAMS(MCPD_INTEGER("xs", "x", MCPD_ARRAY(2), MCPD_DEFAULT_INTEGER(1))), .run = run},
	    "arrays take no default");
}

static void
test_results_and_scopes(void **state)
{
	(void)state;
	assert_refused(&(struct mcpd_tool){.name = "t", .description = "d",
	    MCPD_RETURNS_OBJECT(MCPD_FIELD("a", MCPD_TYPE_INTEGER, "x"), MCPD_FIELD("a", MCPD_TYPE_STRING, "y")),
	    .run = run}, "two result fields are named a");
	assert_refused(&(struct mcpd_tool){.name = "t", .description = "d",
	    MCPD_RETURNS_OBJECT(MCPD_FIELD("a", MCPD_TYPE_INTEGER, NULL)), .run = run}, "result field 0 needs");
	assert_refused(&(struct mcpd_tool){.name = "t", .description = "d", MCPD_SCOPES("a b"), .run = run},
	    "scope \"a b\" must be printable ASCII without spaces");
	assert_refused(&(struct mcpd_tool){.name = "t", .description = "d", MCPD_SCOPES("q\"x"), .run = run},
	    "must be printable ASCII");
	assert_refused(&(struct mcpd_tool){.name = "t", .description = "d", MCPD_SCOPES(""), .run = run},
	    "must be printable ASCII");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_built_in_tool_passes),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_rules_that_belong_to_other_types),
		cmocka_unit_test(test_defaults_must_meet_their_rules),
		cmocka_unit_test(test_results_and_scopes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
