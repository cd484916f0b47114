/* Runs in: workers, after the sandbox. */
/* add_numbers: the sum of two 64-bit integers, refused when it overflows. */
#include "worker/tool.h"

static int
add(struct mcpd_call *call)
{
	int64_t a = mcpd_arg_integer(call, "a"), b = mcpd_arg_integer(call, "b"), sum;

	if (__builtin_add_overflow(a, b, &sum))
		return mcpd_error(call, "the sum of %lld and %lld does not fit in a 64-bit integer",
		    (long long)a, (long long)b);
	return mcpd_return_integer(call, sum);
}

MCPD_TOOL(
	.title = "Add Numbers",
	.description = "Add two numbers together",
	MCPD_PARAMS(MCPD_INTEGER("a", "First number"), MCPD_INTEGER("b", "Second number")),
	MCPD_RETURNS(MCPD_TYPE_INTEGER),
	.annotations = {.read_only = true, .idempotent = true},
	.run = add,
);
