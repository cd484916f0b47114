/*
 * seccomp: the seccomp policies of the processes in worker/ (the workers and
 * the metrics process); the tables are in seccomp_worker.c.
 */
#ifndef MCPD_WORKER_SECCOMP_H
#define MCPD_WORKER_SECCOMP_H

#include "common/sandbox.h"

extern const struct sandbox_policy worker_policy;
extern const struct sandbox_policy metrics_policy;

#endif
