/* Runs in: workers, after the sandbox. */
/*
 * methods: the MCP methods this server answers, one function each.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "worker/own_counters.h"
#include "worker/rpc.h"
#include "common/log.h"
#include "worker/tool_engine.h"

const char *const proto_names[PROTO_COUNT] = {
	[PROTO_2025_03_26] = "2025-03-26",
	[PROTO_2025_06_18] = "2025-06-18",
	[PROTO_2025_11_25] = "2025-11-25",
	[PROTO_2026_07_28] = "2026-07-28",
};

/*
 * What the server offers.  Prompts and resources are offered empty, as the
 * reference FastMCP server does, so that clients listing them get an empty
 * list rather than an error; nothing ever changes, hence no listChanged.
 */
#define SERVER_CAPABILITIES "{\"tools\":{\"listChanged\":false},\"prompts\":{\"listChanged\":false}," \
	"\"resources\":{\"subscribe\":false,\"listChanged\":false}}"

/* Lists never change while the server runs: clients may cache them. */
#define LIST_TTL_MS 3600000

/* tools/list results, built once: [0] without titles (2025-03-26), [1] with. */
static struct strbuf tools_list_json[2];

int
proto_parse(const char *s, size_t n, enum proto *out)
{
	for (int p = 0; p < PROTO_COUNT; p++) {
		if (strlen(proto_names[p]) == n && memcmp(proto_names[p], s, n) == 0) {
			*out = (enum proto)p;
			return 0;
		}
	}
	return -1;
}

int
rpc_fail(struct rpc_error *err, int http_status, int code, const char *fmt, ...)
{
	va_list ap;

	err->http_status = http_status;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return -1;
}

static void
write_server_info(struct strbuf *sb, bool with_title)
{
	strbuf_puts(sb, "{\"name\":\"mcpd\"");
	if (with_title)
		strbuf_puts(sb, ",\"title\":\"mcpd\"");
	strbuf_puts(sb, ",\"version\":\"" MCPD_VERSION "\"}");
}

static int
method_initialize(struct rpc_call *call, struct strbuf *result, struct rpc_error *err)
{
	const cJSON *requested = cJSON_GetObjectItemCaseSensitive(call->params, "protocolVersion");
	enum proto version = PROTO_LATEST_2025;

	if (!cJSON_IsString(requested))
		return rpc_fail(err, 200, RPC_INVALID_PARAMS,
		    "initialize: params.protocolVersion must be a string");
	/* Echo a version we serve; otherwise offer our latest (lifecycle §Version Negotiation). */
	if (proto_parse(requested->valuestring, strlen(requested->valuestring), &version) < 0 ||
	    version >= PROTO_FIRST_2026)
		version = PROTO_LATEST_2025;
	strbuf_printf(result, "\"protocolVersion\":\"%s\",\"capabilities\":" SERVER_CAPABILITIES
	    ",\"serverInfo\":", proto_names[version]);
	write_server_info(result, version >= PROTO_2025_06_18);
	return 0;
}

static int
method_ping(struct rpc_call *call, struct strbuf *result, struct rpc_error *err)
{
	(void)call, (void)result, (void)err;
	return 0;
}

/*
 * Writes a list result: `"key":items` plus, on the 2026-07-28 wire, the
 * caching hints.  Every list fits on one page, so no cursor can be valid.
 */
static int
write_list(struct rpc_call *call, struct strbuf *result, struct rpc_error *err,
    const char *key, const char *items, size_t items_len)
{
	if (cJSON_GetObjectItemCaseSensitive(call->params, "cursor") != NULL)
		return rpc_fail(err, 200, RPC_INVALID_PARAMS, "%s: invalid cursor", call->method);
	strbuf_printf(result, "\"%s\":", key);
	strbuf_append(result, items, items_len);
	if (call->wire_2026)
		strbuf_printf(result, ",\"ttlMs\":%d,\"cacheScope\":\"public\"", LIST_TTL_MS);
	return 0;
}

static int
method_tools_list(struct rpc_call *call, struct strbuf *result, struct rpc_error *err)
{
	const struct strbuf *list = &tools_list_json[call->version >= PROTO_2025_06_18];

	return write_list(call, result, err, "tools", list->data, list->len);
}

static int
method_prompts_list(struct rpc_call *call, struct strbuf *result, struct rpc_error *err)
{
	return write_list(call, result, err, "prompts", "[]", 2);
}

static int
method_resources_list(struct rpc_call *call, struct strbuf *result, struct rpc_error *err)
{
	return write_list(call, result, err, "resources", "[]", 2);
}

static int
method_resource_templates_list(struct rpc_call *call, struct strbuf *result, struct rpc_error *err)
{
	return write_list(call, result, err, "resourceTemplates", "[]", 2);
}

static int
method_prompts_get(struct rpc_call *call, struct strbuf *result, struct rpc_error *err)
{
	(void)call, (void)result;
	return rpc_fail(err, 200, RPC_INVALID_PARAMS, "prompts/get: no such prompt (this server has none)");
}

/* -32002 was retired by 2026-07-28, which uses -32602 (spec-notes §1.6). */
static int
method_resources_read(struct rpc_call *call, struct strbuf *result, struct rpc_error *err)
{
	(void)result;
	return rpc_fail(err, 200, call->wire_2026 ? RPC_INVALID_PARAMS : RPC_RESOURCE_NOT_FOUND,
	    "Resource not found (this server has no resources)");
}

static int
method_tools_call(struct rpc_call *call, struct strbuf *result, struct rpc_error *err)
{
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(call->params, "name");
	const cJSON *arguments = cJSON_GetObjectItemCaseSensitive(call->params, "arguments");
	const struct mcpd_tool *tool;
	struct tools_context ctx = {.identity = call->identity,
	    .protocol_version = proto_names[call->version]};
	struct tool_outcome out;
	const char *missing;

	if (!cJSON_IsString(name))
		return rpc_fail(err, 200, RPC_INVALID_PARAMS, "tools/call: params.name must be a string");
	str_copy_truncated(call->tool, call->tool_cap, name->valuestring);
	if (arguments != NULL && !cJSON_IsObject(arguments))
		return rpc_fail(err, 200, RPC_INVALID_PARAMS,
		    "tools/call: params.arguments must be an object");
	/* A name holding U+0000 (cut short by cJSON) names no tool. */
	tool = json_doc_string_has_nul(call->doc, name) ? NULL :
	    tools_find(name->valuestring, strlen(name->valuestring));
	counter_add(&own_counters->tool_calls[tool != NULL ? tools_index(tool) : COUNTERS_MAX_TOOLS], 1);
	if (tool == NULL)
		return rpc_fail(err, 200, RPC_INVALID_PARAMS, "Unknown tool: %.100s", name->valuestring);
	/* Step-up: without the tool's scopes the HTTP answer is 403 (mcp.c). */
	missing = call->tokens_verified ?
	    tools_missing_scope(tool, call->identity != NULL ? call->identity->scope : NULL) : NULL;
	if (missing != NULL) {
		call->res->scope_refused = tool;
		call->res->missing_scope = missing;
		return rpc_fail(err, 403, RPC_INVALID_REQUEST, "Forbidden: %s needs the scope %s",
		    tool->name, missing);
	}
	switch (tools_call(tool, call->doc, arguments, &ctx, &out, &call->pending)) {
	case TOOLS_DONE:
		break;
	case TOOLS_PENDING:
		/* mcp.c leaves room for the result; mcp_wait.c writes it when the call completes. */
		call->pending_tool = tool;
		return RPC_PENDING;
	default:
		return rpc_fail(err, 200, RPC_INTERNAL_ERROR, "out of memory");
	}
	methods_write_tool_result(result, call->version, tool, &out);
	tools_outcome_free(&out);
	return 0;
}

void
methods_write_tool_result(struct strbuf *result, enum proto version, const struct mcpd_tool *tool,
    const struct tool_outcome *out)
{
	strbuf_puts(result, "\"content\":[{\"type\":\"text\",\"text\":");
	strbuf_json_string(result, out->text.data, out->text.len);
	strbuf_puts(result, "}]");
	/* structuredContent arrived with 2025-06-18 (spec-notes §2). */
	if (!out->is_error && version >= PROTO_2025_06_18) {
		strbuf_puts(result, ",\"structuredContent\":");
		strbuf_append(result, out->structured.data, out->structured.len);
	}
	strbuf_puts(result, out->is_error ? ",\"isError\":true" : ",\"isError\":false");
	if (out->is_error)
		counter_add(&own_counters->tool_errors[tools_index(tool)], 1);
}

static int
method_server_discover(struct rpc_call *call, struct strbuf *result, struct rpc_error *err)
{
	(void)call, (void)err;
	strbuf_printf(result, "\"supportedVersions\":[\"%s\"],\"capabilities\":" SERVER_CAPABILITIES ","
	    "\"ttlMs\":%d,\"cacheScope\":\"public\"", proto_names[PROTO_2026_07_28], LIST_TTL_MS);
	return 0;
}

/* The wires a method exists on: the 2025 versions (initialize-based) and 2026-07-28. */
#define WIRE_2025 (1u << 0)
#define WIRE_2026 (1u << 1)

static const struct {
	const char *name;
	unsigned wires;	/* WIRE_2025, WIRE_2026: where the method exists */
	rpc_method_fn fn;
} method_table[] = {
	{"initialize", WIRE_2025, method_initialize},
	{"ping", WIRE_2025, method_ping},
	{"tools/list", WIRE_2025 | WIRE_2026, method_tools_list},
	{"tools/call", WIRE_2025 | WIRE_2026, method_tools_call},
	{"prompts/list", WIRE_2025 | WIRE_2026, method_prompts_list},
	{"prompts/get", WIRE_2025 | WIRE_2026, method_prompts_get},
	{"resources/list", WIRE_2025 | WIRE_2026, method_resources_list},
	{"resources/templates/list", WIRE_2025 | WIRE_2026, method_resource_templates_list},
	{"resources/read", WIRE_2025 | WIRE_2026, method_resources_read},
	{"server/discover", WIRE_2026, method_server_discover},
};

rpc_method_fn
methods_find(const char *method, bool wire_2026)
{
	unsigned wire = wire_2026 ? WIRE_2026 : WIRE_2025;

	for (size_t i = 0; i < sizeof(method_table) / sizeof(method_table[0]); i++)
		if ((method_table[i].wires & wire) && strcmp(method_table[i].name, method) == 0)
			return method_table[i].fn;
	return NULL;
}

int
methods_init(void)
{
	char err[256];

	if (tools_check_registry(err, sizeof(err)) < 0) {
		log_msg(LOG_ERROR, "tool_invalid", "%s", err);
		return -1;
	}
	for (int titled = 0; titled < 2; titled++) {
		strbuf_init(&tools_list_json[titled]);
		tools_write_list(&tools_list_json[titled], titled ? TOOLS_LIST_TITLE : 0);
		if (!strbuf_ok(&tools_list_json[titled]))
			return -1;
	}
	return 0;
}
