/*
 * roles: the kinds of children the supervisor starts (rows of common/child.h's
 * struct role), what each is given and what it is counted as.  N workers
 * fill slots 0..N-1; then the fetcher when tokens are verified, the metrics
 * process with --metrics-listen, and the egress when a tool may make
 * outbound requests.
 */
#ifndef MCPD_SUPERVISOR_ROLES_H
#define MCPD_SUPERVISOR_ROLES_H

#include <stdbool.h>

#include "common/child.h"
#include "common/counters.h"

extern const struct role worker_role, fetcher_role, metrics_role, egress_role;

/**
 * What a child of `role` is given of `all` (every descriptor and table the
 * supervisor holds for children): only what its role uses.  Its egress
 * socket (role_open_egress_channel) and its counters block are the
 * caller's to fill.
 */
struct child_args role_args(const struct child_args *all, const struct role *role);

/** The label a child of `role` is counted under when it starts and ends. */
enum counters_role role_counted(const struct role *role);

/**
 * Opens the egress socket a child of `role` gets: the egress's control
 * socket, or a worker's link while mcpd has an egress (`has_egress`).  The
 * child's end goes in `args`, the supervisor's in *supervisor_end (-1 when
 * the role gets none).  Returns 0, or -1 with errno when it cannot be made.
 */
int role_open_egress_channel(const struct role *role, bool has_egress, struct child_args *args,
    int *supervisor_end);

#endif
