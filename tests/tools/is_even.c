/* Runs in: workers, after the sandbox (test builds only). */
/* is_even (test builds only): a single boolean result. */
#include "worker/tool.h"

static int
is_even(struct mcpd_call *call)
{
	return mcpd_return_boolean(call, mcpd_arg_integer(call, "n") % 2 == 0);
}

MCPD_TOOL(
	.description = "Whether an integer is even (test builds only)",
	MCPD_PARAMS(MCPD_INTEGER("n", "Any 64-bit integer")),
	MCPD_RETURNS(MCPD_TYPE_BOOLEAN),
	.annotations = {.read_only = true, .idempotent = true},
	.run = is_even,
);
