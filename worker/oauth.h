/*
 * oauth: the OAuth 2.0 resource-server texts a worker sends: the RFC 6750
 * WWW-Authenticate challenge and the RFC 9728 protected-resource metadata.
 * Pure string building, tested without a server.
 */
#ifndef MCPD_WORKER_OAUTH_H
#define MCPD_WORKER_OAUTH_H

#include <stddef.h>

#include "common/config.h"
#include "common/strbuf.h"
#include "worker/auth.h"
#include "worker/transport.h"

#define OAUTH_WELL_KNOWN "/.well-known/oauth-protected-resource"

/**
 * The canonical URL of /mcp: --resource-url, or http://<Host>/mcp.  A Host
 * header with characters a host name cannot have is replaced by
 * "localhost", so a client cannot inject text into our headers.
 */
void oauth_resource_url(const struct config *cfg, struct header_value host, char *out, size_t cap);

/** The metadata URL of a resource: the well-known path inserted before its path (RFC 9728 §3.1). */
void oauth_metadata_url(const char *resource, char *out, size_t cap);

/** The WWW-Authenticate value for a refused request (status NO_TOKEN, BAD_TOKEN or NO_SCOPE). */
void oauth_challenge(struct strbuf *sb, const struct auth_verdict *v, const char *metadata_url,
    const struct strlist *required_scopes);

/** The RFC 9728 metadata document. */
void oauth_metadata_document(struct strbuf *sb, const char *resource, const char *issuer,
    const struct strlist *required_scopes);

#endif
