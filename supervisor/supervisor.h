/*
 * supervisor: the parent's loop.  Starts the workers, restarts the ones that
 * die (with backoff when they keep dying), replaces them one by one on SIGHUP
 * and drains them on SIGTERM/SIGINT.
 */
#ifndef MCPD_SUPERVISOR_SUPERVISOR_H
#define MCPD_SUPERVISOR_SUPERVISOR_H

#include "common/config.h"

/* The sockets main() bound once for every worker; -1 when not asked for. */
struct listeners {
	int mcp_fd;		/* --host/--port: /mcp and the rest */
	int metrics_fd;		/* --metrics-listen: /metrics only */
};

/**
 * Runs until the server has stopped; returns the process exit status.
 * `aws_env_fd` is the sealed AWS_* memfd (common/aws_env.h), handed to the
 * egress process alone.
 */
int supervisor_run(const struct config *cfg, const struct listeners *listeners, int aws_env_fd);

#endif
