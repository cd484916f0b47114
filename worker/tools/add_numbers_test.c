/* add_numbers: exact 64-bit sums; an overflow is a tool error. */
#include "tests/unit/tool_test.h"

static void
test_add_numbers(void **state)
{
	(void)state;
	assert_tool_result("add_numbers", "{\"a\":5,\"b\":3}", "{\"result\":8}");
	assert_tool_result("add_numbers", "{\"a\":9007199254740993,\"b\":0}", "{\"result\":9007199254740993}");
	assert_tool_error("add_numbers", "{\"a\":9223372036854775807,\"b\":1}", "does not fit in a 64-bit integer");
	assert_tool_error("add_numbers", "{\"a\":1}", "missing required argument 'b'");
}

TOOL_TESTS(cmocka_unit_test(test_add_numbers))
