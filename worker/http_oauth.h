/*
 * http_oauth: the token check of a request and the OAuth refusals it can
 * end in: 401 and 403 with their RFC 6750 challenges (WWW-Authenticate,
 * pointing at the RFC 9728 metadata), the step-up 403 of a tool whose
 * scopes the token lacks, and 503 until the signing keys are loaded.
 * Each refusal is counted by reason and noted for the access log.
 */
#ifndef MCPD_WORKER_HTTP_OAUTH_H
#define MCPD_WORKER_HTTP_OAUTH_H

#include <stdbool.h>

#include <h2o.h>

#include "common/config.h"
#include "worker/mcp.h"
#include "worker/transport.h"

/** Keeps `cfg` (required scopes, --resource-url) for the challenges; call once. */
void http_oauth_init(const struct config *cfg);
/**
 * Checks the request's bearer token.  Returns false with *identity set when
 * the request may proceed; true when it was refused and answered.
 */
bool http_oauth_refused(h2o_req_t *req, struct header_value authorization,
    const struct mcpd_identity **identity);
/** 401 for a request without credentials that only a token could make acceptable. */
void http_oauth_refuse_without_credentials(h2o_req_t *req);
/** 401 for a request that gave Authorization more than once. */
void http_oauth_refuse_repeated_authorization(h2o_req_t *req);
/** 403 with the scopes to ask for, and `out`'s JSON-RPC error as the body (`out` is not freed). */
void http_oauth_refuse_step_up(h2o_req_t *req, const struct mcp_response *out);
/** 503 with Retry-After: nothing can be verified before the first key set. */
void http_oauth_refuse_not_ready(h2o_req_t *req);
/* The protected resource's URL and that of its RFC 9728 metadata document. */
struct http_oauth_urls {
	char resource[CONFIG_URL_MAX + 64];
	char metadata[CONFIG_URL_MAX + 128];
};

/** Fills `urls` for this request's Host (or --resource-url). */
void http_oauth_urls(h2o_req_t *req, struct http_oauth_urls *urls);

#endif
