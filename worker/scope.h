/*
 * scope: OAuth scope lists (RFC 6749 §3.3: scope names separated by
 * spaces), as tokens grant them and tools require them.
 */
#ifndef MCPD_WORKER_SCOPE_H
#define MCPD_WORKER_SCOPE_H

#include <stdbool.h>

/** True when `want` is one of the space-separated scopes in `granted`. */
bool scope_list_has(const char *granted, const char *want);

#endif
