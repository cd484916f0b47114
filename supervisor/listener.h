/*
 * listener: the listening sockets every worker shares (the main port, and
 * the metrics port when asked for), bound once by the supervisor.
 */
#ifndef MCPD_SUPERVISOR_LISTENER_H
#define MCPD_SUPERVISOR_LISTENER_H

#include <stddef.h>
#include <stdint.h>

/**
 * Binds and listens on host:port.  Returns the fd and stores the port really
 * bound (useful with port 0), or returns -1 with a one-line reason in err
 * that names `flag` (the setting to change).
 */
int listener_open(const char *host, uint16_t port, const char *flag, uint16_t *bound_port,
    char *err, size_t errlen);

#endif
