/*
 * fetcher: the JWKS fetcher process, the only process that talks to the
 * network outbound.  It reads the OIDC discovery document, then the JWKS it
 * names, keeps the keys that are safe to use and publishes them to the shared
 * key-set region; it refreshes on a timer and when workers report an unknown
 * key id, at most once per --jwks-refresh-min, and keeps the last good set
 * (retrying with backoff and jitter) when the issuer fails.
 */
#ifndef MCPD_FETCHER_FETCHER_H
#define MCPD_FETCHER_FETCHER_H

#include "common/child.h"

/** Entry point of the forked fetcher; returns its exit status. */
int fetcher_main(const struct child_args *args);

#endif
