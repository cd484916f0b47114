/* greet_user: the reference greeting, UTF-8 kept, no NUL accepted. */
#include "tests/unit/tool_test.h"

static void
test_greet_user(void **state)
{
	(void)state;
	assert_tool_result("greet_user", "{\"name\":\"Alice\"}", "{\"result\":\"Hello, Alice! Nice to meet you.\"}");
	assert_tool_result("greet_user", "{\"name\":\"Zo\\u00eb\"}", "{\"result\":\"Hello, Zo\xc3\xab! Nice to meet you.\"}");
	assert_tool_error("greet_user", "{\"name\":\"a\\u0000b\"}", "contains a NUL character");
	assert_tool_error("greet_user", "{\"name\":1}", "argument 'name' must be a string, not a number");
}

TOOL_TESTS(cmocka_unit_test(test_greet_user))
