/* Runs in: workers, after the sandbox. See http_respond.h. */
#include "worker/http_respond.h"

#include <stdio.h>
#include <string.h>

#include "common/framing.h"
#include "worker/outflow.h"

static const char *
reason_phrase(int status)
{
	switch (status) {
	case 200: return "OK";
	case 202: return "Accepted";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 406: return "Not Acceptable";
	case 413: return "Payload Too Large";
	case 415: return "Unsupported Media Type";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	}
	return "Unknown";
}

void
http_respond(h2o_req_t *req, int status, const char *content_type, const char *body, size_t len)
{
	req->res.status = status;
	req->res.reason = reason_phrase(status);
	req->res.content_length = len;
	/* Draining: a request parsed before the signal still ends its connection. */
	if (req->conn->ctx->shutdown_requested)
		req->http1_is_persistent = 0;
	if (content_type != NULL)
		h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL,
		    content_type, strlen(content_type));
	outflow_track(req, framing_socket(req), len);
	h2o_send_inline(req, body, len);
}

void
http_respond_rpc_error(h2o_req_t *req, int status, int code, const char *message)
{
	char body[256];
	int n = snprintf(body, sizeof(body),
	    "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":%d,\"message\":\"%s\"}}", code, message);

	http_respond(req, status, "application/json", body, (size_t)n);
}

int
http_respond_not_found(h2o_req_t *req)
{
	static const char body[] = "{\"error\":\"not found\"}";

	http_respond(req, 404, "application/json", body, sizeof(body) - 1);
	return 0;
}
