/*
 * worker: the life of one worker process.  Inherits the listening socket,
 * builds its own h2o event loop, serves until told to stop, then drains.
 */
#ifndef MCPD_WORKER_WORKER_H
#define MCPD_WORKER_WORKER_H

#include <stddef.h>

#include "common/child.h"
#include "common/counters.h"

/** Entry point of a forked worker; returns its exit status. */
int worker_main(const struct child_args *args);
/**
 * Checks the tools this build serves (worker/tool_registry.c): their
 * descriptions and every argument a tool file reads.  The supervisor calls
 * it before it binds or forks, so a broken tool stops mcpd at once with
 * one line.  Returns 0, or -1 with what is wrong in err.
 */
int worker_check_tools(char *err, size_t errlen);

/**
 * The tools' metrics labels, in the order workers count them (their place
 * in the registry).  The supervisor reads them once, before any fork, for
 * the metrics process and EMF: common/ does not know the tools.
 */
void worker_counted_tools(struct counters_tools *tools);

/**
 * What the tools declare about their destinations (MCPD_EGRESS,
 * MCPD_EGRESS_OPERATOR), for the egress process: fills `table` with the
 * tools that declare anything, pointing into the registry (static; never
 * freed).  Returns how many: 0 when no tool may fetch.
 */
size_t worker_egress_tools(struct egress_tools *table);

#endif
