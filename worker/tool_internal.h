/*
 * tool_internal: what the tool engine's files share about a call in
 * progress (tool_call.c, tool_args.c, tool_result.c).  Internal to the
 * engine; the rest of the worker uses worker/tool_engine.h.
 */
#ifndef MCPD_WORKER_TOOL_INTERNAL_H
#define MCPD_WORKER_TOOL_INTERNAL_H

#include "worker/tool_engine.h"

/* A field of an object result, as the tool set it. */
struct field_value {
	bool set;
	enum mcpd_type type;
	struct mcpd_value value;
};

struct scratch_chunk {
	struct scratch_chunk *next;
	max_align_t data[];
};

struct mcpd_call_state {
	const struct mcpd_tool *tool;
	const struct mcpd_value *values;	/* one per parameter, in order */
	struct tool_outcome *out;
	bool answered;		/* a result or an error was recorded */
	char problem[128];	/* how the tool misused this API, if it did */
	struct field_value fields[TOOL_MAX_FIELDS];
	struct strbuf text;	/* mcpd_set_text */
	bool has_text;
	struct scratch_chunk *scratch;
	struct tool_pending *pending;	/* a tool that may fetch (tool_fetch.c); NULL: it may not */
};

/**
 * Reads `arguments` (an object, or NULL) into `values`, one per parameter
 * of the call's tool, with defaults for those left out.  Returns 0, or -1
 * with the message for the caller in err.
 */
int tool_args_read(struct mcpd_call *call, const struct json_doc *doc, const cJSON *arguments,
    struct mcpd_value *values, char *err, size_t errlen);

/** Decides the outcome from what the tool recorded and its last return value `rc`. */
void tool_call_settle(struct mcpd_call_state *st, int rc);
/** Starts a call's state for `tool` writing into `out` (emptied). */
void tool_call_begin(struct mcpd_call_state *st, const struct mcpd_tool *tool, struct mcpd_value *values,
    struct tool_outcome *out);
/** Frees what a call's state holds (scratch memory, the text); the outcome stays. */
void tool_call_release(struct mcpd_call_state *st);
/** Fails a call with "<tool>: message", whatever it had recorded. */
void tool_call_fail(struct tool_outcome *out, const struct mcpd_tool *tool, const char *message);

/**
 * tools_call for a tool that may fetch (tool_fetch.c): the same, but it
 * may return TOOLS_PENDING with *pending set instead of an outcome.
 */
int tool_fetch_call(const struct mcpd_tool *tool, const struct json_doc *doc, const cJSON *arguments,
    const struct tools_context *ctx, struct tool_outcome *out, struct tool_pending **pending);

/** Records that the tool used the API in a way its description rules out; returns -1. */
int tool_result_misuse(struct mcpd_call *call, const char *what);

#endif
