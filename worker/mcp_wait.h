/*
 * mcp_wait: a JSON-RPC answer that waits on tool calls.
 *
 * A tools/call whose tool waits on outbound requests cannot be written when
 * the request is handled.  mcp.c writes the rest of the answer (the
 * envelope, and in a batch the other members) and records, for each such
 * call, the offset in the body where its result object's members go.  When
 * every call has completed, the results are spliced in at their offsets and
 * the whole body goes to whoever holds the HTTP request (http_wait.c).  A
 * caller that goes away cancels the calls still waiting.
 */
#ifndef MCPD_WORKER_MCP_WAIT_H
#define MCPD_WORKER_MCP_WAIT_H

#include <stddef.h>

#include "worker/rpc.h"

struct mcp_wait;

/**
 * Records a waiting call whose result goes at `offset` of the body being
 * built, making *wait on the first.  Returns 0, or -1 when memory ran out
 * (the call is then cancelled).
 */
int mcp_wait_add(struct mcp_wait **wait, size_t offset, struct tool_pending *call,
    const struct mcpd_tool *tool, enum proto version);

/* Gets the finished body (malloc'd, the callee frees it); the wait is freed after it returns. */
typedef void (*mcp_wait_ready_fn)(void *owner, char *body, size_t len);

/**
 * Takes the body built so far (malloc'd; owned from now on) and waits for
 * the calls; ready(owner, ...) runs once all have completed, never from
 * inside this function.
 */
void mcp_wait_start(struct mcp_wait *wait, char *body, size_t len, mcp_wait_ready_fn ready, void *owner);

/** Drops the answer: the calls still waiting are cancelled; ready is never called. */
void mcp_wait_cancel(struct mcp_wait *wait);

#endif
