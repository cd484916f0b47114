/* Runs in: the supervisor, at start-up, before it binds or forks. */
#include "supervisor/egress_check.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "common/fail.h"
#include "common/log.h"
#include "worker/worker.h"

/* An entry as the list would spell it: TOOL=[-]HOST:PORT, or HOST:PORT. */
static const char *
entry_text(const struct egress_entry *e, char *buf, size_t len)
{
	char pattern[EGRESS_PATTERN_TEXT_MAX];

	egress_pattern_format(&e->pattern, pattern, sizeof(pattern));
	snprintf(buf, len, "%s%s%s%s", e->tool, e->tool[0] != '\0' ? "=" : "", e->removes ? "-" : "", pattern);
	return buf;
}

static bool
tool_exists(const struct counters_tools *tools, const char *name)
{
	for (size_t i = 0; i < tools->count; i++)
		if (strcmp(tools->names[i], name) == 0)
			return true;
	return false;
}

static bool
tool_declares(const struct egress_tools *declared, const char *name)
{
	for (size_t i = 0; i < declared->n; i++)
		if (strcmp(declared->tools[i].name, name) == 0)
			return true;
	return false;
}

int
egress_check_tool_entries(const struct egress_allow *ops, const struct counters_tools *tools,
    const struct egress_tools *declared, char *err, size_t errlen)
{
	char text[EGRESS_TOOL_NAME_MAX + 2 + EGRESS_PATTERN_TEXT_MAX];

	for (size_t i = 0; i < ops->n; i++) {
		const struct egress_entry *e = &ops->entries[i];

		if (e->tool[0] == '\0' || tool_declares(declared, e->tool))
			continue;
		entry_text(e, text, sizeof(text));
		if (!tool_exists(tools, e->tool))
			return fail_because(err, errlen, "--egress-allow entry %zu \"%s\": no tool of this "
			    "build is named %s", i + 1, text, e->tool);
		return fail_because(err, errlen, "--egress-allow entry %zu \"%s\": the tool %s makes no "
		    "outbound requests (it declares no MCPD_EGRESS)", i + 1, text, e->tool);
	}
	return 0;
}

size_t
egress_check_unused_entries(const struct egress_allow *ops, const struct egress_tools *declared,
    size_t *first)
{
	size_t unused = 0;

	for (size_t i = 0; i < declared->n; i++)
		if (declared->tools[i].takes_operator)
			return 0;
	for (size_t i = 0; i < ops->n; i++) {
		if (ops->entries[i].tool[0] != '\0')
			continue;
		if (unused++ == 0)
			*first = i;
	}
	return unused;
}

int
egress_check_config(const struct config *cfg, char *err, size_t errlen)
{
	struct counters_tools tools;
	struct egress_tools declared;

	worker_counted_tools(&tools);
	worker_egress_tools(&declared);
	return egress_check_tool_entries(&cfg->egress_allow, &tools, &declared, err, errlen);
}

void
egress_check_warn_unused(const struct config *cfg)
{
	char text[EGRESS_TOOL_NAME_MAX + 2 + EGRESS_PATTERN_TEXT_MAX];
	struct egress_tools declared;
	size_t first = 0, unused;

	worker_egress_tools(&declared);
	unused = egress_check_unused_entries(&cfg->egress_allow, &declared, &first);
	if (unused == 0)
		return;
	log_msg(LOG_WARN, "egress_allow_unused", "%zu --egress-allow entr%s without TOOL= (the first: entry "
	    "%zu \"%s\") admit%s nothing: such entries are for tools that take the operator's destinations "
	    "(MCPD_EGRESS_OPERATOR), and no tool of this build does", unused, unused == 1 ? "y" : "ies",
	    first + 1, entry_text(&cfg->egress_allow.entries[first], text, sizeof(text)), unused == 1 ? "s" : "");
}
