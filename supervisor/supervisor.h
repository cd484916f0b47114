/*
 * supervisor: the parent's loop.  Starts the workers, restarts the ones that
 * die (with backoff when they keep dying), replaces them one by one on SIGHUP
 * and drains them on SIGTERM/SIGINT.
 */
#ifndef MCPD_SUPERVISOR_SUPERVISOR_H
#define MCPD_SUPERVISOR_SUPERVISOR_H

#include "common/config.h"

/** Runs until the server has stopped; returns the process exit status. */
int supervisor_run(const struct config *cfg, int listen_fd);

#endif
