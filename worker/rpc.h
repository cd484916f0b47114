/*
 * rpc: what the JSON-RPC envelope code (mcp.c) and the method handlers
 * (methods.c) share.  Internal to the worker.
 */
#ifndef MCPD_WORKER_RPC_H
#define MCPD_WORKER_RPC_H

#include <stdbool.h>

#include "common/json.h"
#include "common/strbuf.h"
#include "worker/mcp.h"
#include "worker/tool_engine.h"

/* Protocol versions served, oldest first. */
enum proto {
	PROTO_2025_03_26,
	PROTO_2025_06_18,
	PROTO_2025_11_25,
	PROTO_2026_07_28,
	PROTO_COUNT,
};
/* The 2025 versions begin with initialize; 2026-07-28 carries its version in each message. */
#define PROTO_LATEST_2025 PROTO_2025_11_25
#define PROTO_FIRST_2026 PROTO_2026_07_28

extern const char *const proto_names[PROTO_COUNT];

/** Looks up a version string; returns 0 or -1 when it is not served. */
int proto_parse(const char *s, size_t n, enum proto *out);

/* JSON-RPC and MCP error codes (spec-notes §1.6). */
enum {
	RPC_PARSE_ERROR = -32700,
	RPC_INVALID_REQUEST = -32600,
	RPC_METHOD_NOT_FOUND = -32601,
	RPC_INVALID_PARAMS = -32602,
	RPC_INTERNAL_ERROR = -32603,
	RPC_RESOURCE_NOT_FOUND = -32002,	/* 2025 wire only */
	RPC_TRANSPORT_ERROR = -32000,	/* what the SDKs send for HTTP-level refusals */
	RPC_HEADER_MISMATCH = -32020,
	RPC_MISSING_CAPABILITY = -32021,
	RPC_UNSUPPORTED_VERSION = -32022,
};

struct rpc_error {
	int http_status;
	int code;
	char message[256];
	struct strbuf data;	/* JSON value for "data", empty when none */
};

/* One request being answered. */
struct rpc_call {
	const struct json_doc *doc;
	const cJSON *params;	/* object or NULL */
	const char *method;
	bool method_has_nul;	/* the name held U+0000: it is no method of ours */
	enum proto version;	/* shapes the result */
	bool wire_2026;		/* 2026-07-28 wire: resultType, _meta, ...; else a 2025 version */
	char *tool;		/* out: tool name for the log (caller's buffer) */
	size_t tool_cap;
	bool tokens_verified;			/* per-tool scopes are enforced */
	const struct mcpd_identity *identity;	/* the verified caller, or NULL */
	struct mcp_response *res;		/* out: a scope refusal goes here */
	struct tool_pending *pending;		/* out: RPC_PENDING's call */
	const struct mcpd_tool *pending_tool;
};

/* A method's answer when a tool call waits on outbound requests (tools/call only). */
#define RPC_PENDING 1

/*
 * A method handler appends its result object to `result` and returns 0, or
 * returns -1 and fills `err`, or RPC_PENDING (call->pending set).
 */
typedef int (*rpc_method_fn)(struct rpc_call *call, struct strbuf *result, struct rpc_error *err);

/** Finds the handler of a method on the 2026-07-28 wire or (!wire_2026) a 2025 one, or NULL. */
rpc_method_fn methods_find(const char *method, bool wire_2026);
/** Precomputes constant results; returns 0 or -1. */
int methods_init(void);

/** Appends a tools/call result (content, structuredContent, isError) for `version`; counts errors. */
void methods_write_tool_result(struct strbuf *result, enum proto version, const struct mcpd_tool *tool,
    const struct tool_outcome *out);

/** Fills err (printf-style message) and returns -1, for handlers' tail calls. */
int rpc_fail(struct rpc_error *err, int http_status, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
