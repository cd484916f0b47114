/* Runs in: workers and the supervisor (checked at start); lookups in workers after the sandbox. */
/*
 * tool_registry: the tools this build serves, one per file of worker/tools/
 * (and tests/tools/ in test builds).  The build writes tool_files.h, one
 * MCPD_TOOL_FILE(name) line per file, so adding a file is all it takes to
 * add a tool; the tool's name is the file's.  The registry is checked once
 * at start-up: every description, and every argument lookup in the files.
 */
#include <stdio.h>
#include <string.h>

#include "common/counters.h"
#include "worker/scope.h"
#include "worker/tool_engine.h"
#include "worker/worker.h"

#define MCPD_TOOL_FILE(name) extern const struct mcpd_tool tool_##name;
#include "tool_files.h"
#undef MCPD_TOOL_FILE

/* Each entry with the name its file gives it, to check the tool agrees. */
struct registry_entry {
	const char *file_name;
	const struct mcpd_tool *tool;
};

#define MCPD_TOOL_FILE(name) {#name, &tool_##name},
static const struct registry_entry registry[] = {
#include "tool_files.h"
};
#undef MCPD_TOOL_FILE
#define N_TOOLS (sizeof(registry) / sizeof(registry[0]))

_Static_assert(N_TOOLS <= COUNTERS_MAX_TOOLS, "more tools than the metrics label set holds");

/* Every mcpd_arg_* use of every tool file (tool.h's MCPD_ARG_USE_); weak: a build may have none. */
extern struct mcpd_arg_use __start_mcpd_arg_uses[] __attribute__((weak));
extern struct mcpd_arg_use __stop_mcpd_arg_uses[] __attribute__((weak));

size_t
tools_count(void)
{
	return N_TOOLS;
}

const struct mcpd_tool *
tools_at(size_t i)
{
	return i < N_TOOLS ? registry[i].tool : NULL;
}

const char *
tools_name(size_t i)
{
	return i < N_TOOLS ? registry[i].file_name : NULL;
}

size_t
tools_index(const struct mcpd_tool *tool)
{
	for (size_t i = 0; i < N_TOOLS; i++)
		if (registry[i].tool == tool)
			return i;
	return COUNTERS_MAX_TOOLS;
}

const struct mcpd_tool *
tools_find(const char *name, size_t len)
{
	for (size_t i = 0; i < N_TOOLS; i++)
		if (strlen(registry[i].file_name) == len && memcmp(registry[i].file_name, name, len) == 0)
			return registry[i].tool;
	return NULL;
}

const char *
tools_missing_scope(const struct mcpd_tool *tool, const char *granted)
{
	for (size_t i = 0; tool->scopes != NULL && tool->scopes[i] != NULL; i++)
		if (granted == NULL || !scope_list_has(granted, tool->scopes[i]))
			return tool->scopes[i];
	return NULL;
}

void
tools_write_scopes(struct strbuf *sb, const struct mcpd_tool *tool)
{
	for (size_t i = 0; tool->scopes != NULL && tool->scopes[i] != NULL; i++) {
		if (i > 0)
			strbuf_putc(sb, ' ');
		strbuf_puts(sb, tool->scopes[i]);
	}
}

/*
 * Every argument use of a registered tool's file names one of its
 * parameters with its type.  Uses of tools outside the registry (a unit
 * test's own) are checked when they are first met (mcpd_arg_value).
 */
static int
check_arg_uses(char *err, size_t errlen)
{
	for (struct mcpd_arg_use *use = __start_mcpd_arg_uses; use < __stop_mcpd_arg_uses; use++) {
		const struct mcpd_tool *tool = tools_find(use->tool, strlen(use->tool));

		if (tool != NULL && tools_check_arg_use(tool, use, err, errlen) < 0)
			return -1;
	}
	return 0;
}

int
tools_check_registry(char *err, size_t errlen)
{
	for (size_t i = 0; i < N_TOOLS; i++) {
		const struct mcpd_tool *t = registry[i].tool;

		if (t->name == NULL || strcmp(t->name, registry[i].file_name) != 0) {
			snprintf(err, errlen, "the tool of %s.c is named \"%s\": a tool's name is its file's "
			    "(leave .name out)", registry[i].file_name, t->name != NULL ? t->name : "(none)");
			return -1;
		}
		if (tools_check(t, err, errlen) < 0)
			return -1;
	}
	return check_arg_uses(err, errlen);
}

int
worker_check_tools(char *err, size_t errlen)
{
	return tools_check_registry(err, errlen);
}
