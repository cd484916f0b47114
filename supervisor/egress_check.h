/*
 * egress_check: the operator's --egress-allow against the tools of this
 * build, at start-up.  An entry for one tool (TOOL=HOST) that names a tool
 * making no outbound request, or no tool at all, is a mistake to hear of
 * before mcpd serves: it stops mcpd.  Entries for every tool that takes the
 * operator's destinations (HOST) admit nothing when no tool takes them
 * (none declares MCPD_EGRESS_OPERATOR): a warning.
 */
#ifndef MCPD_SUPERVISOR_EGRESS_CHECK_H
#define MCPD_SUPERVISOR_EGRESS_CHECK_H

#include <stddef.h>

#include "common/config.h"
#include "common/counters.h"
#include "common/egress_allow.h"

/**
 * Checks that every TOOL= entry of `ops` names a tool of `tools` (all of
 * this build's) found in `declared` (those declaring MCPD_EGRESS or
 * MCPD_EGRESS_OPERATOR).  Returns 0, or -1 with a one-line reason naming
 * the first bad entry in err.
 */
int egress_check_tool_entries(const struct egress_allow *ops, const struct counters_tools *tools,
    const struct egress_tools *declared, char *err, size_t errlen);

/**
 * How many entries of `ops` are for the tools that take the operator's
 * destinations while no tool of `declared` takes them; *first gets the
 * first one's index (when there is one).
 */
size_t egress_check_unused_entries(const struct egress_allow *ops, const struct egress_tools *declared,
    size_t *first);

/** egress_check_tool_entries on this build's tools and cfg's list, before anything is bound. */
int egress_check_config(const struct config *cfg, char *err, size_t errlen);

/** Logs egress_allow_unused (a warning) when egress_check_unused_entries finds any. */
void egress_check_warn_unused(const struct config *cfg);

#endif
