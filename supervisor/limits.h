/*
 * limits: the supervisor's side of the per-client limits table
 * (common/client_limits.h): it creates the table before any worker, hands
 * it to workers only, and takes a dead worker's requests off it.
 */
#ifndef MCPD_SUPERVISOR_LIMITS_H
#define MCPD_SUPERVISOR_LIMITS_H

#include "common/config.h"
#include "supervisor/proctab.h"

/**
 * Creates and maps the table when the configuration asks for a limit
 * (--client-rate-limit, --client-concurrency); *fd is its fd for the
 * workers, -1 when the limits are off.  Logs and returns -1 on failure.
 */
int limits_create(const struct config *cfg, int *fd);
/**
 * A worker was reaped: the requests it held in flight will never end, so
 * they stop counting (logged when there were any).  Call before its counters
 * block is handed to another worker.
 */
void limits_worker_gone(const struct proc *worker);
/** Unmaps the table and closes `fd` (at exit). */
void limits_destroy(int fd);

#endif
