/* Runs in: workers, after the sandbox. */
/* subtract_numbers: the difference of two 64-bit integers, refused when it overflows. */
#include "worker/tool.h"

static int
subtract(struct mcpd_call *call)
{
	int64_t a = mcpd_arg_integer(call, "a"), b = mcpd_arg_integer(call, "b"), difference;

	if (__builtin_sub_overflow(a, b, &difference))
		return mcpd_error(call, "%lld - %lld does not fit in a 64-bit integer", (long long)a, (long long)b);
	return mcpd_return_integer(call, difference);
}

MCPD_TOOL(
	.title = "Subtract Numbers",
	.description = "Subtract the second number from the first",
	MCPD_PARAMS(MCPD_INTEGER("a", "First number"), MCPD_INTEGER("b", "Second number")),
	MCPD_RETURNS(MCPD_TYPE_INTEGER),
	.annotations = {.read_only = true, .idempotent = true},
	.run = subtract,
);
