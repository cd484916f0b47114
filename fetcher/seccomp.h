/*
 * seccomp: the JWKS fetcher's seccomp policy (the table is in
 * seccomp_fetcher.c).
 */
#ifndef MCPD_FETCHER_SECCOMP_H
#define MCPD_FETCHER_SECCOMP_H

#include "common/sandbox.h"

extern const struct sandbox_policy fetcher_policy;

#endif
