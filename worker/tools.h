/*
 * tools: the tool table.  One row per tool describes its name, texts,
 * parameters and handler; tools/list and tools/call are both derived from it,
 * so adding a tool is one row and one function.
 */
#ifndef MCPD_WORKER_TOOLS_H
#define MCPD_WORKER_TOOLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/json.h"
#include "common/strbuf.h"

enum tool_type { TOOL_INTEGER, TOOL_STRING };

/* A parameter or result value. Strings point into the request or a strbuf. */
struct tool_value {
	enum tool_type type;
	int64_t integer;
	const char *string;
	size_t len;
};

struct tool_param {
	const char *name;
	enum tool_type type;
	const char *description;
};

#define TOOL_MAX_PARAMS 4
#define TOOL_ERROR_MAX 256

/*
 * A handler reads its validated arguments (in the table's order) and sets
 * *result, using `scratch` for any string it builds.  It returns 0, or -1
 * with a message for the caller in err (a tool error, not a protocol error).
 */
typedef int (*tool_handler)(const struct tool_value *args, struct tool_value *result,
    struct strbuf *scratch, char *err, size_t errlen);

struct tool {
	const char *name;
	const char *title;
	const char *description;
	struct tool_param params[TOOL_MAX_PARAMS];
	size_t nparams;
	enum tool_type result_type;
	bool read_only;		/* annotation hints, see ToolAnnotations */
	bool idempotent;
	tool_handler run;
};

/* Which Tool fields a protocol version knows. */
#define TOOLS_LIST_TITLE	(1u << 0)	/* title and outputSchema: 2025-06-18 on */

/** Finds a tool by exact name, or NULL. */
const struct tool *tools_find(const char *name, size_t len);
/** Appends the JSON array of every tool, with the fields `features` allows. */
void tools_write_list(struct strbuf *sb, unsigned features);

struct tool_outcome {
	bool is_error;
	struct strbuf text;		/* the result as text, or the error message */
	struct strbuf structured;	/* {"result": ...} when !is_error */
};

/**
 * Validates `arguments` (an object, or NULL when absent) against the tool's
 * parameters and runs it.  Bad arguments and handler failures become a tool
 * error in the outcome.  Returns -1 only when memory ran out.
 * Free the outcome with tools_outcome_free.
 */
int tools_call(const struct tool *tool, const struct json_doc *doc, const cJSON *arguments,
    struct tool_outcome *out);
void tools_outcome_free(struct tool_outcome *out);

#endif
