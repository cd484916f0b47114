/*
 * mcp_wire: which wire a JSON-RPC message is on, and that wire's rules for
 * the HTTP headers that go with it (spec-notes §1.5).  A `_meta` claim of
 * the protocol version makes a message 2026-07-28 (its Mcp-Method and
 * Mcp-Name headers must match the body); anything else is the 2025 wire
 * (MCP-Protocol-Version, and an Accept that lists JSON and SSE).  Used by
 * mcp.c for every message.
 */
#ifndef MCPD_WORKER_MCP_WIRE_H
#define MCPD_WORKER_MCP_WIRE_H

#include <stdbool.h>
#include <string.h>

#include "worker/rpc.h"

#define META_PROTOCOL_VERSION "io.modelcontextprotocol/protocolVersion"
#define META_CLIENT_CAPABILITIES "io.modelcontextprotocol/clientCapabilities"
#define META_SERVER_INFO "io.modelcontextprotocol/serverInfo"

/** True when header h is exactly s. */
static inline bool
mcp_header_equals(struct header_value h, const char *s)
{
	return h.base != NULL && h.len == strlen(s) && memcmp(h.base, s, h.len) == 0;
}

/**
 * Tells the wire of `call` (sets call->wire_2026 and call->version) and
 * applies its header and version rules.  Returns 0, or -1 with err filled.
 */
int mcp_wire_check(const struct mcp_request *req, struct rpc_call *call, bool in_batch, bool is_notification,
    struct rpc_error *err);

/** The 2025 wire's 406 (Accept lacks JSON or SSE); returns -1. */
int mcp_wire_not_acceptable(struct rpc_error *err);

#endif
