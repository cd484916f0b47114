/*
 * tool_engine: what the rest of the worker asks of the tools.  Tools are
 * written against worker/tool.h (the author's API), one file each in
 * worker/tools/ (and tests/tools/ in test builds); the build lists them in
 * a generated registry.  tools/list and tools/call are both derived from
 * their descriptions: the JSON Schemas, argument checks, results.
 *
 *   tool_registry.c  the registry: lookups, scopes, the start-up check
 *   tool_check.c     the rules a description must keep
 *   tool_schema.c    tools/list: each tool's JSON Schemas
 *   tool_call.c      one call: arguments read, the tool run, the outcome settled
 *   tool_args.c      reading and checking the arguments; mcpd_arg_*
 *   tool_result.c    mcpd_return_*, mcpd_set_*, mcpd_error
 */
#ifndef MCPD_WORKER_TOOL_ENGINE_H
#define MCPD_WORKER_TOOL_ENGINE_H

#include <stdbool.h>
#include <stddef.h>

#include "common/json.h"
#include "common/strbuf.h"
#include "worker/tool.h"

/* Limits a tool's description must keep (checked by tools_check_registry). */
#define TOOL_MAX_PARAMS 16
#define TOOL_MAX_FIELDS 16
#define TOOL_ERROR_MAX 256

/* Which Tool fields a protocol version knows. */
#define TOOLS_LIST_TITLE	(1u << 0)	/* title and outputSchema: 2025-06-18 on */

/**
 * Checks every registered tool's description once at start-up (names,
 * limits, defaults that meet their own rules) and every argument use of
 * the tool files (mcpd_arg_*: the name declared, the type the same).
 * Returns 0, or -1 with what is wrong in err.
 */
int tools_check_registry(char *err, size_t errlen);
/** How many tools the registry holds. */
size_t tools_count(void);
/** The name of the tool at position `i` of the registry (its metrics label), or NULL past its end. */
const char *tools_name(size_t i);
/** The i-th tool of the registry, or NULL past the end. */
const struct mcpd_tool *tools_at(size_t i);
/** Checks one tool's description (what tools_check_registry does for each). */
int tools_check(const struct mcpd_tool *tool, char *err, size_t errlen);
/** A tool's position in the registry, which is its metrics label (common/counters.h). */
size_t tools_index(const struct mcpd_tool *tool);
/** Finds a tool by exact name, or NULL. */
const struct mcpd_tool *tools_find(const char *name, size_t len);
/** Appends the JSON array of every tool, with the fields `features` allows. */
void tools_write_list(struct strbuf *sb, unsigned features);
/**
 * The first of the tool's scopes that `granted` (space-separated) lacks, or
 * NULL when it has them all or the tool needs none.
 */
const char *tools_missing_scope(const struct mcpd_tool *tool, const char *granted);
/** Appends the shortest JSON number text that reads back as `v` (finite). */
void tools_write_number(struct strbuf *sb, double v);
/** "integer", "number", "boolean" or "string": the JSON Schema name of a type. */
const char *tools_type_name(enum mcpd_type type);
/** The tool's scopes, space-separated, for a WWW-Authenticate challenge. */
void tools_write_scopes(struct strbuf *sb, const struct mcpd_tool *tool);

/* What the call is made in. */
struct tools_context {
	const struct mcpd_identity *identity;	/* NULL without token verification */
	const char *protocol_version;
};

struct tool_outcome {
	bool is_error;
	struct strbuf text;		/* the text content, or the error message */
	struct strbuf structured;	/* the structuredContent object when !is_error */
};

struct tool_pending;

/* tools_call's answers. */
#define TOOLS_DONE 0
#define TOOLS_PENDING 1

/**
 * Checks `arguments` (an object, or NULL when absent) against the tool's
 * parameters and runs it.  Bad arguments and tool failures become a tool
 * error in the outcome.  Returns TOOLS_DONE with the outcome filled,
 * TOOLS_PENDING when the tool waits on outbound requests (*pending is the
 * call: tools_pending_watch it at once, before the loop runs again), or -1
 * only when memory ran out.  Free an outcome with tools_outcome_free.
 */
int tools_call(const struct mcpd_tool *tool, const struct json_doc *doc, const cJSON *arguments,
    const struct tools_context *ctx, struct tool_outcome *out, struct tool_pending **pending);

/* Gets a pending call's outcome, which it then owns (tools_outcome_free). */
typedef void (*tools_done_fn)(void *owner, struct tool_outcome *out);

/** Says who gets the pending call's outcome; the call is freed after done returns. */
void tools_pending_watch(struct tool_pending *pending, tools_done_fn done, void *owner);
/** Drops a pending call whose caller is gone: its requests are cancelled, done is never called. */
void tools_pending_cancel(struct tool_pending *pending);
/** Calls waiting on outbound requests now (for tests and metrics). */
size_t tools_pending_count(void);
/** The default response cap of mcpd_fetch (--egress-max-response) and the AWS region ("" when none). */
void tools_fetch_configure(size_t max_response, const char *aws_region);

void tools_outcome_free(struct tool_outcome *out);

/**
 * Checks one argument use against `tool` and remembers the parameter's
 * position in it.  Returns 0, or -1 with the file, line and what is wrong.
 */
int tools_check_arg_use(const struct mcpd_tool *tool, struct mcpd_arg_use *use, char *err, size_t errlen);

#endif
