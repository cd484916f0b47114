/*
 * egress: the process that makes every outbound HTTP request of the tools
 * (docs/egress-design.md).  Workers reach it over one AF_UNIX stream
 * socket each (common/egress_wire.h); the supervisor hands it those
 * sockets over args->egress_control_fd, and the AWS variables in the
 * sealed memfd args->aws_env_fd.
 */
#ifndef MCPD_EGRESS_EGRESS_H
#define MCPD_EGRESS_EGRESS_H

#include <stdbool.h>
#include <stddef.h>

#include "common/child.h"
#include "common/egress_allow.h"

/* How one egress process runs, beyond its child_args. */
struct egress_options {
	const struct egress_tools *tools;	/* NULL: no tool declared anything (common/egress_allow.h) */
	const char *ca_file;	/* PEM bundle to verify TLS with; NULL: the system's */
	bool sandbox;		/* enter the seccomp sandbox before the first transfer */
};

/**
 * The role's entry point: serves until SIGTERM/SIGINT or until the control
 * socket closes, then fails what is still in flight and returns 0.  The
 * operator's list is args->cfg->egress_allow, the tools' own declarations
 * args->egress_tools, the CA bundle --egress-ca-file (else the system's);
 * it always enters its sandbox.
 */
int egress_main(const struct child_args *args);

/** egress_main with the tools' table, a CA file and the sandbox choice given. */
int egress_serve(const struct child_args *args, const struct egress_options *options);

#endif
