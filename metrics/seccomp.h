/*
 * seccomp: the metrics process's seccomp policy (the table is in
 * seccomp_metrics.c).
 */
#ifndef MCPD_METRICS_SECCOMP_H
#define MCPD_METRICS_SECCOMP_H

#include "common/sandbox.h"

extern const struct sandbox_policy metrics_policy;

#endif
