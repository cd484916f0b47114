/* Runs in: workers, after the sandbox. */
/* greet_user: a greeting for the name given. */
#include "worker/tool.h"

static int
greet(struct mcpd_call *call)
{
	const struct mcpd_value *name = &call->args[0];

	return mcpd_return_stringf(call, "Hello, %s! Nice to meet you.", name->string);
}

const struct mcpd_tool tool_greet_user = {
	.name = "greet_user",
	.title = "Greet User",
	.description = "Greet a user by name",
	MCPD_PARAMS(MCPD_STRING("name", "Name of the person to greet")),
	MCPD_RETURNS(MCPD_TYPE_STRING),
	.annotations = {.read_only = true, .idempotent = true},
	.run = greet,
};
