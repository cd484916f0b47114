/* subtract_numbers: the documented example tool, tested as the documentation shows. */
#include "tests/unit/tool_test.h"

static void
test_subtract(void **state)
{
	(void)state;
	assert_tool_result("subtract_numbers", "{\"a\":5,\"b\":3}", "{\"result\":2}");
	assert_tool_error("subtract_numbers", "{\"a\":-9223372036854775807,\"b\":2}", "does not fit in a 64-bit integer");
	assert_tool_error("subtract_numbers", "{\"a\":1}", "missing required argument 'b'");
}

TOOL_TESTS(cmocka_unit_test(test_subtract))
