/* Runs in: workers, after the sandbox. See mcp_wire.h. */
#include "worker/mcp_wire.h"

#include <stdio.h>
#include <string.h>

#include "common/base64.h"

/* Strips the optional whitespace (SP, HTAB) around a header value. */
static struct header_value
header_trimmed(struct header_value h)
{
	while (h.len > 0 && (h.base[0] == ' ' || h.base[0] == '\t'))
		h.base++, h.len--;
	while (h.len > 0 && (h.base[h.len - 1] == ' ' || h.base[h.len - 1] == '\t'))
		h.len--;
	return h;
}

enum header_match { HEADER_ABSENT, HEADER_EQUAL, HEADER_DIFFERENT, HEADER_BAD_ENCODING };

/*
 * Compares an Mcp-Method / Mcp-Name value with the body's.  A value a client
 * could not send as plain visible ASCII arrives as `=?base64?...?=`: canonical
 * padded base64 of UTF-8 (2026-07-28 streamable-http §Value Encoding).
 */
static enum header_match
header_match(struct header_value raw, const char *expected)
{
	static const char prefix[] = "=?base64?", suffix[] = "?=";
	const size_t plen = sizeof(prefix) - 1, slen = sizeof(suffix) - 1;
	struct header_value h = header_trimmed(raw);
	unsigned char decoded[1024];
	size_t decoded_len;

	if (h.base == NULL)
		return HEADER_ABSENT;
	if (h.len < plen + slen || memcmp(h.base, prefix, plen) != 0 ||
	    memcmp(h.base + h.len - slen, suffix, slen) != 0)
		return mcp_header_equals(h, expected) ? HEADER_EQUAL : HEADER_DIFFERENT;
	/* Canonical only; a value that decodes past the buffer is refused too. */
	if (base64_decode_padded(h.base + plen, h.len - plen - slen, decoded, sizeof(decoded),
	    &decoded_len) < 0 || !utf8_valid((const char *)decoded, decoded_len))
		return HEADER_BAD_ENCODING;
	return decoded_len == strlen(expected) && memcmp(decoded, expected, decoded_len) == 0 ?
	    HEADER_EQUAL : HEADER_DIFFERENT;
}

static int
unsupported_version(struct rpc_error *err, const char *requested)
{
	strbuf_printf(&err->data, "{\"supported\":[\"%s\"],\"requested\":",
	    proto_names[PROTO_2026_07_28]);
	strbuf_json_string(&err->data, requested, strlen(requested));
	strbuf_putc(&err->data, '}');
	return rpc_fail(err, 400, RPC_UNSUPPORTED_VERSION, "Unsupported protocol version: %.64s",
	    requested);
}

/* The requests whose target the Mcp-Name header repeats, and where it is. */
static const struct {
	const char *method;
	const char *param;
} named_methods[] = {
	{"tools/call", "name"},
	{"prompts/get", "name"},
	{"resources/read", "uri"},
};

static const cJSON *
named_target(const char *method, const cJSON *params)
{
	for (size_t i = 0; i < sizeof(named_methods) / sizeof(named_methods[0]); i++)
		if (strcmp(method, named_methods[i].method) == 0)
			return cJSON_GetObjectItemCaseSensitive(params, named_methods[i].param);
	return NULL;
}

static int
header_problem(enum header_match m, const char *header, const char *body_field,
    struct rpc_error *err)
{
	switch (m) {
	case HEADER_EQUAL:
		return 0;
	case HEADER_ABSENT:
		return rpc_fail(err, 400, RPC_HEADER_MISMATCH, "Bad Request: missing %s header", header);
	case HEADER_BAD_ENCODING:
		return rpc_fail(err, 400, RPC_HEADER_MISMATCH,
		    "Bad Request: invalid Base64 sentinel value in %s", header);
	case HEADER_DIFFERENT:
		break;
	}
	return rpc_fail(err, 400, RPC_HEADER_MISMATCH,
	    "Bad Request: the %s header does not match %s", header, body_field);
}

/*
 * Compares a header with a body string by its whole length: a body value
 * holding U+0000 (which cJSON cuts short) equals no header value.
 */
static enum header_match
header_match_body(struct header_value raw, const char *value, bool has_nul)
{
	enum header_match m = header_match(raw, value);

	return has_nul && m == HEADER_EQUAL ? HEADER_DIFFERENT : m;
}

/* Mcp-Method on every request, Mcp-Name where the body names a target. */
static int
check_standard_headers(const struct mcp_request *req, const struct rpc_call *call, struct rpc_error *err)
{
	const cJSON *target = named_target(call->method, call->params);

	if (header_problem(header_match_body(req->method, call->method, call->method_has_nul),
	    "Mcp-Method", "the method", err) < 0)
		return -1;
	if (!cJSON_IsString(target))
		return 0;	/* the method's own parameter check reports it */
	return header_problem(header_match_body(req->name, target->valuestring,
	    json_doc_string_has_nul(call->doc, target)), "Mcp-Name", "the request's name or uri", err);
}

/*
 * The 2026-07-28 checks, in the order the conformance suite and the SDK
 * agree on: envelope, header/body agreement, version, required headers.
 * Notifications skip the standard headers.  Returns 0 or -1 with err.
 */
static int
check_wire_2026(const struct mcp_request *req, const cJSON *meta, const struct rpc_call *call,
    bool is_notification, struct rpc_error *err)
{
	const cJSON *claim = cJSON_GetObjectItemCaseSensitive(meta, META_PROTOCOL_VERSION);
	const cJSON *caps = cJSON_GetObjectItemCaseSensitive(meta, META_CLIENT_CAPABILITIES);
	struct header_value header = header_trimmed(req->protocol_version);
	enum proto version;

	if (!cJSON_IsString(claim))
		return rpc_fail(err, 400, RPC_INVALID_PARAMS,
		    "Invalid params: _meta " META_PROTOCOL_VERSION " must be a string");
	if (!cJSON_IsObject(caps))
		return rpc_fail(err, 400, RPC_INVALID_PARAMS,
		    "Invalid params: _meta must carry " META_CLIENT_CAPABILITIES " (an object)");
	if (header.base != NULL && !mcp_header_equals(header, claim->valuestring))
		return rpc_fail(err, 400, RPC_HEADER_MISMATCH,
		    "Bad Request: the MCP-Protocol-Version header and params._meta name different versions");
	if (proto_parse(claim->valuestring, strlen(claim->valuestring), &version) < 0 ||
	    version < PROTO_FIRST_2026)
		return unsupported_version(err, claim->valuestring);
	if (header.base == NULL)
		return rpc_fail(err, 400, RPC_HEADER_MISMATCH,
		    "Bad Request: missing MCP-Protocol-Version header");
	if (is_notification)
		return 0;
	return check_standard_headers(req, call, err);
}

/* The 2025 transports require clients to accept both reply formats. */
int
mcp_wire_not_acceptable(struct rpc_error *err)
{
	return rpc_fail(err, 406, RPC_TRANSPORT_ERROR,
	    "Not Acceptable: the client must accept application/json and text/event-stream");
}

/*
 * The 2025 wire.  MCP-Protocol-Version came with 2025-06-18; without it the
 * server assumes 2025-03-26 (2025-06-18 transports §Protocol Version Header).
 * 2025-wire refusals never use -32020..-32022: clients read those as proof of
 * the 2026 wire.
 */
static int
check_wire_2025(const struct mcp_request *req, const char *method, const cJSON *params,
    enum proto *version, struct rpc_error *err)
{
	struct header_value h = header_trimmed(req->protocol_version);

	if (!req->accepts_json_and_sse)
		return mcp_wire_not_acceptable(err);
	*version = PROTO_2025_03_26;
	if (h.base != NULL && proto_parse(h.base, h.len, version) < 0)
		return rpc_fail(err, 400, RPC_TRANSPORT_ERROR,
		    "Bad Request: unsupported MCP-Protocol-Version %.*s (supported: 2025-03-26, "
		    "2025-06-18, 2025-11-25, 2026-07-28)", (int)(h.len > 32 ? 32 : h.len), h.base);
	if (*version >= PROTO_FIRST_2026)
		return rpc_fail(err, 400, RPC_INVALID_PARAMS,
		    "Invalid params: MCP-Protocol-Version %s needs params._meta with "
		    META_PROTOCOL_VERSION " and " META_CLIENT_CAPABILITIES, proto_names[*version]);
	if (strcmp(method, "initialize") == 0) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(params, "protocolVersion");

		*version = PROTO_LATEST_2025;
		if (cJSON_IsString(v) && proto_parse(v->valuestring, strlen(v->valuestring), version) == 0 &&
		    *version >= PROTO_FIRST_2026)
			*version = PROTO_LATEST_2025;
	}
	return 0;
}

/* Applies the header and version rules of the message's wire. */
int
mcp_wire_check(const struct mcp_request *req, struct rpc_call *call, bool in_batch, bool is_notification,
    struct rpc_error *err)
{
	const cJSON *meta = cJSON_GetObjectItemCaseSensitive(call->params, "_meta");

	call->wire_2026 = cJSON_GetObjectItemCaseSensitive(meta, META_PROTOCOL_VERSION) != NULL;
	if (!call->wire_2026)
		return check_wire_2025(req, call->method, call->params, &call->version, err);
	call->version = PROTO_2026_07_28;
	if (in_batch)
		return rpc_fail(err, 400, RPC_INVALID_REQUEST,
		    "Invalid Request: 2026-07-28 messages cannot be batched");
	return check_wire_2026(req, meta, call, is_notification, err);
}

