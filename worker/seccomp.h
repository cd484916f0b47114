/*
 * seccomp: the workers' seccomp policy (the table is in seccomp_worker.c).
 */
#ifndef MCPD_WORKER_SECCOMP_H
#define MCPD_WORKER_SECCOMP_H

#include "common/sandbox.h"

extern const struct sandbox_policy worker_policy;

#endif
