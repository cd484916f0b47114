/* Runs in: workers, after the sandbox. */
/*
 * tool_call: one call of a tool.  Reads the arguments (tool_args.c), runs
 * the tool, and settles the outcome from what it returned (tool_result.c).
 * Runs in every worker, on the request path, inside the sandbox.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "worker/tool_internal.h"

void *
mcpd_alloc(struct mcpd_call *call, size_t size)
{
	struct scratch_chunk *c;

	if (size > SIZE_MAX - sizeof(*c))
		return NULL;
	c = malloc(sizeof(*c) + size);
	if (c == NULL)
		return NULL;
	c->next = call->state->scratch;
	call->state->scratch = c;
	return c->data;
}

void
tool_call_fail(struct tool_outcome *out, const struct mcpd_tool *tool, const char *message)
{
	out->is_error = true;
	out->text.len = 0;
	out->structured.len = 0;
	strbuf_printf(&out->text, "%s: %s", tool->name, message);
}

void
tool_call_settle(struct mcpd_call_state *st, int rc)
{
	char message[192];

	if (st->problem[0] != '\0') {
		snprintf(message, sizeof(message), "internal error: the tool %s", st->problem);
		tool_call_fail(st->out, st->tool, message);
	} else if (!st->answered && rc == MCPD_PENDING) {
		tool_call_fail(st->out, st->tool, st->pending == NULL ?
		    "internal error: the tool returned MCPD_PENDING but declares no MCPD_EGRESS" :
		    "internal error: the tool returned MCPD_PENDING with no request in flight");
	} else if (!st->answered) {
		tool_call_fail(st->out, st->tool, "internal error: the tool returned no result");
	} else if (rc != 0 && !st->out->is_error) {
		tool_call_fail(st->out, st->tool, "internal error: the tool failed");
	}
}

void
tool_call_begin(struct mcpd_call_state *st, const struct mcpd_tool *tool, struct mcpd_value *values,
    struct tool_outcome *out)
{
	/* Set member by member: zeroing every field slot would cost more than the call. */
	st->tool = tool;
	st->values = values;
	st->out = out;
	st->answered = false;
	st->problem[0] = '\0';
	st->has_text = false;
	st->scratch = NULL;
	st->pending = NULL;
	memset(st->fields, 0, tool->result.nfields * sizeof(st->fields[0]));
	memset(out, 0, sizeof(*out));
	strbuf_init(&out->text);
	strbuf_init(&out->structured);
	strbuf_init(&st->text);
}

void
tool_call_release(struct mcpd_call_state *st)
{
	strbuf_free(&st->text);
	while (st->scratch != NULL) {
		struct scratch_chunk *next = st->scratch->next;

		free(st->scratch);
		st->scratch = next;
	}
}

int
tools_call(const struct mcpd_tool *tool, const struct json_doc *doc, const cJSON *arguments,
    const struct tools_context *ctx, struct tool_outcome *out, struct tool_pending **pending)
{
	struct mcpd_value values[TOOL_MAX_PARAMS];
	struct mcpd_call_state st;
	struct mcpd_call call = {.identity = ctx->identity,
	    .protocol_version = ctx->protocol_version, .state = &st};
	char err[TOOL_ERROR_MAX];

	*pending = NULL;
	if (tool->egress != NULL || tool->egress_operator)
		return tool_fetch_call(tool, doc, arguments, ctx, out, pending);
	tool_call_begin(&st, tool, values, out);
	if (tool_args_read(&call, doc, arguments, values, err, sizeof(err)) < 0)
		tool_call_fail(out, tool, err);
	else
		tool_call_settle(&st, tool->run(&call));
	tool_call_release(&st);
	if (!strbuf_ok(&out->text) || !strbuf_ok(&out->structured)) {
		tools_outcome_free(out);
		return -1;
	}
	return 0;
}

void
tools_outcome_free(struct tool_outcome *out)
{
	strbuf_free(&out->text);
	strbuf_free(&out->structured);
}
