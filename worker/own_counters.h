/*
 * own_counters: this worker's own block of the shared counters
 * (common/counters.h), the one block it writes.  Until own_counters_attach,
 * and in programs that never attach (unit tests, fuzz drivers), counting
 * goes to a private block, so counting code needs no "is there a region"
 * branch.
 */
#ifndef MCPD_WORKER_OWN_COUNTERS_H
#define MCPD_WORKER_OWN_COUNTERS_H

#include "common/counters.h"

/** The block this worker writes. */
extern struct worker_counters *own_counters;

/** Makes `block` this worker's own: its gauges restart from zero, its counters go on. */
void own_counters_attach(struct worker_counters *block);
/** Goes back to the private block (before the region is unmapped). */
void own_counters_detach(void);

#endif
