/* Runs in: workers, after the sandbox (test builds only). */
/*
 * reach_declared (test builds only): declares an outbound destination, so
 * a test build runs the egress process (tests/integration/72-egress-supervised),
 * and answers with the destinations it declares.  It makes no request.
 */
#include <string.h>

#include "worker/tool.h"

/* This file's tool, defined by MCPD_TOOL below: run reads its own declaration. */
extern const struct mcpd_tool MCPD_TOOL_SYMBOL(MCPD_TOOL_NAME);

static int
reach_declared(struct mcpd_call *call)
{
	const char *const *destinations = MCPD_TOOL_SYMBOL(MCPD_TOOL_NAME).egress;
	size_t len = 0, at = 0;
	char *list;

	for (size_t i = 0; destinations[i] != NULL; i++)
		len += strlen(destinations[i]) + 1;
	list = mcpd_alloc(call, len + 1);
	if (list == NULL)
		return mcpd_error(call, "out of memory");
	for (size_t i = 0; destinations[i] != NULL; i++) {
		size_t n = strlen(destinations[i]);

		if (i > 0)
			list[at++] = ',';
		memcpy(list + at, destinations[i], n);
		at += n;
	}
	return mcpd_return_string(call, list, at);
}

MCPD_TOOL(
	.title = "Reach Declared",
	.description = "The destinations this tool declares for outbound requests, comma-separated "
	    "(test builds only; it makes none)",
	MCPD_EGRESS("127.0.0.1:*"),
	MCPD_RETURNS(MCPD_TYPE_STRING),
	.annotations = {.read_only = true, .idempotent = true},
	.run = reach_declared,
);
