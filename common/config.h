/*
 * config: the server's settings, from command-line flags and their MCPD_*
 * environment equivalents (a flag wins over its variable).
 */
#ifndef MCPD_COMMON_CONFIG_H
#define MCPD_COMMON_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/log.h"

#define CONFIG_MAX_WORKERS 256
#define CONFIG_MAX_ORIGINS 32

enum auth_mode { AUTH_NONE };

struct config {
	char host[64];
	uint16_t port;
	int workers;
	size_t max_body;		/* bytes */
	unsigned shutdown_timeout;	/* seconds */
	unsigned idle_timeout;		/* seconds */
	enum log_level log_level;
	/* Origins allowed to call /mcp; none configured means loopback only. */
	char *allowed_origins[CONFIG_MAX_ORIGINS];
	size_t n_allowed_origins;
	bool allow_any_origin;
	enum auth_mode auth;
	bool auth_explicit;		/* --auth was given */
	bool show_help;
	bool show_version;
};

/**
 * Fills `cfg` from argv and the environment.  Returns 0, or -1 with a
 * one-line message in `err` that names the value and what is accepted.
 */
int config_load(struct config *cfg, int argc, char **argv, char *err, size_t errlen);
/** Releases what config_load allocated. */
void config_free(struct config *cfg);
/** Writes the flag reference to stdout. */
void config_print_usage(const char *prog);

#endif
