/*
 * auth: bearer-token checks of a worker.  Keys come only from the shared key
 * set the fetcher publishes; each worker builds its OpenSSL keys once per
 * key-set generation and remembers tokens it already verified, so a repeated
 * token does not pay for RSA again.
 */
#ifndef MCPD_WORKER_AUTH_H
#define MCPD_WORKER_AUTH_H

#include <stdbool.h>

#include "common/config.h"
#include "common/counters.h"
#include "worker/tool.h"
#include "worker/transport.h"

enum auth_status {
	AUTH_PASS,
	AUTH_NOT_READY,		/* no key set published yet: 503 */
	AUTH_NO_TOKEN,		/* no Bearer credentials: 401 without error= */
	AUTH_BAD_TOKEN,		/* 401 invalid_token */
	AUTH_NO_SCOPE,		/* 403 insufficient_scope */
};

struct auth_verdict {
	enum auth_status status;
	enum counters_refusal refusal;	/* when refused: the reason's category, for metrics */
	const char *reason;	/* short, static; never contains the token */
	/* AUTH_PASS with a verified token: who it speaks for, valid until the
	 * next auth_check; NULL without token verification. */
	const struct mcpd_identity *identity;
};

/**
 * Maps the key set read-only from `keyset_fd` (and closes it) and keeps
 * `refresh_fd` to ask the fetcher for fresh keys.  Does nothing when
 * cfg->auth is not AUTH_JWT.  Returns 0 or -1 with errno.
 */
int auth_init(const struct config *cfg, int keyset_fd, int refresh_fd);
/** Runs the crypto code once so that it opens its files before the sandbox. */
void auth_prewarm(void);
/** True when tokens are verified. */
bool auth_enabled(void);
/** True when a key set has been published (always true without auth). */
bool auth_ready(void);
/** The issuer of the current key set, or NULL before the first one. */
const char *auth_issuer(void);
/** Checks the Authorization header value (base NULL when absent). */
void auth_check(struct header_value authorization, struct auth_verdict *verdict);
/** Frees the cached tokens and keys and unmaps the key set. */
void auth_shutdown(void);

#endif
