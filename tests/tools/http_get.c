/* Runs in: workers, after the sandbox (test builds only). */
/*
 * http_get (test builds only): one outbound request with every knob of
 * struct mcpd_request a test needs, answered with what came back, so that
 * tests can drive the egress through a real worker.  It reaches only what
 * the operator allows (--egress-allow).
 */
#include <stdio.h>
#include <string.h>

#include "worker/tool.h"

static int
answered(struct mcpd_call *call, const struct mcpd_response *response)
{
	const char *type = mcpd_response_header(response, "content-type");

	if (response->error != NULL)
		return mcpd_error(call, "%s", response->error);
	mcpd_set_integer(call, "status", response->status);
	mcpd_set_string(call, "content_type", type != NULL ? type : "", type != NULL ? strlen(type) : 0);
	mcpd_set_integer(call, "length", (int64_t)response->body_len);
	/* Only text is echoed: a body with U+0000 or invalid UTF-8 would be refused as a result. */
	mcpd_set_string(call, "body", response->body, strlen(response->body));
	return mcpd_return_object(call);
}

static int
get(struct mcpd_call *call)
{
	const char *body = mcpd_arg_string(call, "body");
	struct mcpd_header header = {"x-test", mcpd_arg_string(call, "header")};
	struct mcpd_request request = {
		.method = mcpd_arg_string(call, "method"),
		.url = mcpd_arg_string(call, "url"),
		.headers = &header,
		.nheaders = header.value[0] != '\0',
		.body = body,
		.body_len = strlen(body),
		.timeout_ms = (unsigned)mcpd_arg_integer(call, "timeout_ms"),
		.max_response = (size_t)mcpd_arg_integer(call, "max_response"),
		.follow_redirects = mcpd_arg_boolean(call, "follow"),
	};

	return mcpd_fetch(call, &request, answered, NULL);
}

MCPD_TOOL(
	.description = "Fetch a URL the operator allows, and say what came back",
	MCPD_PARAMS(
		MCPD_STRING("url", "http:// or https:// URL"),
		MCPD_STRING("method", "HTTP method", MCPD_DEFAULT_STRING("GET")),
		MCPD_STRING("body", "request body", MCPD_DEFAULT_STRING("")),
		MCPD_STRING("header", "value of an x-test request header; empty: none", MCPD_DEFAULT_STRING("")),
		MCPD_INTEGER("timeout_ms", "deadline; 0: the default", MCPD_DEFAULT_INTEGER(0), MCPD_MIN(0),
		    MCPD_MAX(600000)),
		MCPD_INTEGER("max_response", "body cap; 0: the default", MCPD_DEFAULT_INTEGER(0), MCPD_MIN(0),
		    MCPD_MAX(1 << 30)),
		MCPD_BOOLEAN("follow", "follow redirects", MCPD_DEFAULT_BOOLEAN(false))),
	MCPD_RETURNS_OBJECT(
		MCPD_FIELD("status", MCPD_TYPE_INTEGER, "HTTP status"),
		MCPD_FIELD("content_type", MCPD_TYPE_STRING, "Content-Type, or empty"),
		MCPD_FIELD("length", MCPD_TYPE_INTEGER, "body bytes"),
		MCPD_FIELD("body", MCPD_TYPE_STRING, "the body up to its first U+0000")),
	.annotations = {.read_only = true, .open_world = true},
	MCPD_EGRESS_OPERATOR,
	.run = get,
);
