/* Runs in: workers, after the sandbox. */
/* greet_user: a greeting for the name given. */
#include "worker/tool.h"

static int
greet(struct mcpd_call *call)
{
	return mcpd_return_stringf(call, "Hello, %s! Nice to meet you.", mcpd_arg_string(call, "name"));
}

MCPD_TOOL(
	.title = "Greet User",
	.description = "Greet a user by name",
	MCPD_PARAMS(MCPD_STRING("name", "Name of the person to greet")),
	MCPD_RETURNS(MCPD_TYPE_STRING),
	.annotations = {.read_only = true, .idempotent = true},
	.run = greet,
);
