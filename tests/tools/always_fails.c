/* Runs in: workers, after the sandbox (test builds only). */
/* always_fails (test builds only): a tool error with the caller's reason. */
#include "worker/tool.h"

static int
fail(struct mcpd_call *call)
{
	return mcpd_error(call, "failed as asked: %s", mcpd_arg_string(call, "reason"));
}

MCPD_TOOL(
	.description = "Always returns a tool error (test builds only)",
	MCPD_PARAMS(MCPD_STRING("reason", "Said in the error", MCPD_DEFAULT_STRING("no reason"))),
	MCPD_RETURNS(MCPD_TYPE_STRING),
	.annotations = {.read_only = true, .idempotent = true},
	.run = fail,
);
