/*
 * mcp: JSON-RPC over MCP, independent of HTTP.  Takes a POST body and the MCP
 * request headers, returns the HTTP status and the JSON body to send.  Serves
 * the 2025 protocol versions (initialize handshake) and 2026-07-28 (every
 * request self-describing) side by side.
 */
#ifndef MCPD_WORKER_MCP_H
#define MCPD_WORKER_MCP_H

#include <stdbool.h>
#include <stddef.h>

#include "worker/tool.h"
#include "worker/transport.h"

struct mcp_request {
	const char *body;
	size_t body_len;
	struct header_value protocol_version;	/* MCP-Protocol-Version */
	struct header_value method;		/* Mcp-Method */
	struct header_value name;		/* Mcp-Name */
	bool accepts_json_and_sse;		/* Accept lists both (2025 wire: else 406) */
	/*
	 * A lone ping request is a liveness probe: answered whatever Accept
	 * says, as JSON.  Health checkers (AgentCore's among them) send
	 * `Accept: application/json` and no token.
	 */
	bool liveness_ping;
	/* The caller has no credentials: nothing but a lone ping is served. */
	bool lone_ping_only;
	bool tokens_verified;			/* per-tool scopes are enforced */
	const struct mcpd_identity *identity;	/* the verified caller, or NULL */
};

struct mcp_response {
	int status;		/* HTTP status */
	char *body;		/* JSON, malloc'd; NULL when there is no body (202) */
	size_t body_len;
	bool public_ping;	/* answered as a liveness ping: JSON, no token needed */
	bool needs_credentials;	/* lone_ping_only and it was not one: nothing answered */
	/* A tools/call lacked a scope its tool needs: answer 403 (step-up). */
	const struct mcpd_tool *scope_refused;
	const char *missing_scope;
	/*
	 * Tool calls still waiting on outbound requests: the body has room for
	 * their results (worker/mcp_wait.h); NULL when the answer is whole.
	 * mcp_response_free cancels it unless the caller took it.
	 */
	struct mcp_wait *wait;
	/* For the request log; empty when unknown. */
	char rpc_method[48];
	char tool[48];
};

/* The largest body that may be a liveness ping: larger is never parsed without a token. */
#define MCP_PING_MAX_BODY 4096

/** Builds the answers that never change (tool lists); call before serving. */
int mcp_init(void);
void mcp_handle(const struct mcp_request *req, struct mcp_response *res);
void mcp_response_free(struct mcp_response *res);

#endif
