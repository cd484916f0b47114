/* is_even (test builds only): a single boolean result. */
#include "worker/tool.h"

static int
is_even(struct mcpd_call *call)
{
	return mcpd_return_boolean(call, call->args[0].integer % 2 == 0);
}

const struct mcpd_tool tool_is_even = {
	.name = "is_even",
	.description = "Whether an integer is even (test builds only)",
	MCPD_PARAMS(MCPD_INTEGER("n", "Any 64-bit integer")),
	MCPD_RETURNS(MCPD_TYPE_BOOLEAN),
	.annotations = {.read_only = true, .idempotent = true},
	.run = is_even,
};
