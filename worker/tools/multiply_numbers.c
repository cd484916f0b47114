/* Runs in: workers, after the sandbox. */
/* multiply_numbers: the product of two 64-bit integers, refused when it overflows. */
#include "worker/tool.h"

static int
multiply(struct mcpd_call *call)
{
	int64_t a = mcpd_arg_integer(call, "a"), b = mcpd_arg_integer(call, "b"), product;

	if (__builtin_mul_overflow(a, b, &product))
		return mcpd_error(call, "the product of %lld and %lld does not fit in a 64-bit integer",
		    (long long)a, (long long)b);
	return mcpd_return_integer(call, product);
}

MCPD_TOOL(
	.title = "Multiply Numbers",
	.description = "Multiply two numbers together",
	MCPD_PARAMS(MCPD_INTEGER("a", "First number"), MCPD_INTEGER("b", "Second number")),
	MCPD_RETURNS(MCPD_TYPE_INTEGER),
	.annotations = {.read_only = true, .idempotent = true},
	.run = multiply,
);
