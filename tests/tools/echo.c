/* Runs in: workers, after the sandbox (test builds only). */
/* echo (test builds only): the engine's string tool; answers "echo: <text>". */
#include "worker/tool.h"

static int
echo(struct mcpd_call *call)
{
	return mcpd_return_stringf(call, "echo: %s", mcpd_arg_string(call, "text"));
}

MCPD_TOOL(
	.title = "Echo",
	.description = "Says the text back (test builds only)",
	MCPD_PARAMS(MCPD_STRING("text", "Any text")),
	MCPD_RETURNS(MCPD_TYPE_STRING),
	.annotations = {.read_only = true, .idempotent = true},
	.run = echo,
);
