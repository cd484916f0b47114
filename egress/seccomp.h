/*
 * seccomp: the egress's seccomp policy (the table is in seccomp_egress.c),
 * and what must run before it is entered.
 */
#ifndef MCPD_EGRESS_SECCOMP_H
#define MCPD_EGRESS_SECCOMP_H

#include "common/sandbox.h"

extern const struct sandbox_policy egress_policy;

/**
 * Does once, before the sandbox, what would otherwise need a call the
 * policy does not allow: glibc loads its resolver's shared objects on the
 * first lookup (an executable mapping).
 */
void egress_prewarm(void);

#endif
