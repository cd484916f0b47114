/* Runs in: workers, after the sandbox (test builds only). */
/* sum (test builds only): the engine's integer tool; an overflow is a tool error. */
#include "worker/tool.h"

static int
sum(struct mcpd_call *call)
{
	int64_t a = mcpd_arg_integer(call, "a"), b = mcpd_arg_integer(call, "b"), total;

	if (__builtin_add_overflow(a, b, &total))
		return mcpd_error(call, "%lld + %lld does not fit in a 64-bit integer", (long long)a, (long long)b);
	return mcpd_return_integer(call, total);
}

MCPD_TOOL(
	.title = "Sum",
	.description = "The sum of two integers (test builds only)",
	MCPD_PARAMS(MCPD_INTEGER("a", "First integer"), MCPD_INTEGER("b", "Second integer")),
	MCPD_RETURNS(MCPD_TYPE_INTEGER),
	.annotations = {.read_only = true, .idempotent = true},
	.run = sum,
);
