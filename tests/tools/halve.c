/* Runs in: workers, after the sandbox (test builds only). */
/* halve (test builds only): a single number result. */
#include "worker/tool.h"

static int
halve(struct mcpd_call *call)
{
	return mcpd_return_number(call, mcpd_arg_number(call, "x") / 2);
}

MCPD_TOOL(
	.description = "Half of a number (test builds only)",
	MCPD_PARAMS(MCPD_NUMBER("x", "Any finite number")),
	MCPD_RETURNS(MCPD_TYPE_NUMBER),
	.annotations = {.read_only = true, .idempotent = true},
	.run = halve,
);
