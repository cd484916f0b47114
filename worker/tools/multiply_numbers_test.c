/* multiply_numbers: exact 64-bit products; an overflow is a tool error. */
#include "tests/unit/tool_test.h"

static void
test_multiply_numbers(void **state)
{
	(void)state;
	assert_tool_result("multiply_numbers", "{\"a\":4,\"b\":7}", "{\"result\":28}");
	assert_tool_result("multiply_numbers", "{\"a\":-3037000499,\"b\":3037000499}", "{\"result\":-9223372030926249001}");
	assert_tool_error("multiply_numbers", "{\"a\":-9223372036854775808,\"b\":-1}", "does not fit in a 64-bit integer");
}

TOOL_TESTS(cmocka_unit_test(test_multiply_numbers))
