/* Runs in: workers, after the sandbox (test builds only). */
/*
 * http_fanout (test builds only): several outbound requests at once, one
 * per URL, answered when the last comes back: the statuses in the order
 * of the URLs, a failed request as its outcome.  It shows that a call
 * waits on all its requests and that each continuation sees its own.
 */
#include <stdio.h>
#include <string.h>

#include "worker/tool.h"

#define MAX_URLS 16

/* What the call keeps between continuations, in its scratch memory. */
struct fanout {
	size_t expected, answered;
	char results[MAX_URLS][40];
};

struct slot {
	struct fanout *fanout;
	size_t index;
};

static int
one_answered(struct mcpd_call *call, const struct mcpd_response *response)
{
	struct slot *slot = response->data;
	struct fanout *f = slot->fanout;
	char text[MAX_URLS * 41] = "";
	size_t len = 0;

	if (response->error != NULL)
		snprintf(f->results[slot->index], sizeof(f->results[0]), "%s", response->outcome);
	else
		snprintf(f->results[slot->index], sizeof(f->results[0]), "%d", response->status);
	if (++f->answered < f->expected)
		return MCPD_PENDING;
	for (size_t i = 0; i < f->expected; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len, "%s%s", i ? "," : "", f->results[i]);
	return mcpd_return_string(call, text, len);
}

static int
fan_out(struct mcpd_call *call)
{
	const struct mcpd_value *urls = mcpd_arg(call, "urls");
	struct fanout *f = mcpd_alloc(call, sizeof(*f));
	struct slot *slots = mcpd_alloc(call, urls->count * sizeof(*slots));

	if (urls->count == 0)
		return mcpd_error(call, "no URL to fetch");
	if (f == NULL || slots == NULL)
		return mcpd_error(call, "out of memory");
	*f = (struct fanout){.expected = urls->count};
	for (size_t i = 0; i < urls->count; i++) {
		struct mcpd_request request = {.url = urls->items[i].string};

		slots[i] = (struct slot){f, i};
		mcpd_fetch(call, &request, one_answered, &slots[i]);
	}
	return MCPD_PENDING;
}

MCPD_TOOL(
	.description = "Fetch several URLs at once and list their statuses",
	MCPD_PARAMS(MCPD_STRING("urls", "URLs the operator allows", MCPD_ARRAY(MAX_URLS))),
	MCPD_RETURNS(MCPD_TYPE_STRING),
	.annotations = {.read_only = true, .open_world = true},
	MCPD_EGRESS_OPERATOR,
	.run = fan_out,
);
