/*
 * transport: the Streamable HTTP checks that come before JSON-RPC: which
 * origins may call, what the client accepts, what it sent.  Pure functions of
 * header values, so they are tested without a server.
 */
#ifndef MCPD_WORKER_TRANSPORT_H
#define MCPD_WORKER_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "common/config.h"

/* A request header's value; base is NULL when the header is absent. */
struct header_value {
	const char *base;
	size_t len;
};

/**
 * True when a request with this Origin may be served.  No Origin (not a
 * browser) is always allowed; otherwise the origin must be configured, or,
 * with no list configured, be a loopback origin.  This is the DNS-rebinding
 * defence the specification asks for.
 */
bool transport_origin_allowed(const struct config *cfg, struct header_value origin);

enum reply_format { REPLY_JSON, REPLY_SSE };

/**
 * Reads Accept.  Returns true when it accepts both application/json and
 * text/event-stream (wildcards count), as MCP clients must.  *format is the
 * one to answer in: SSE only when the client ranks it above JSON.
 */
bool transport_negotiate(struct header_value accept, enum reply_format *format);

/** True when Content-Type is application/json (parameters allowed). */
bool transport_is_json(struct header_value content_type);

#endif
