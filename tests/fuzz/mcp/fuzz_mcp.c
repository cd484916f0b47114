/*
 * Fuzz driver for the /mcp request path: the Streamable HTTP checks of
 * worker/transport.c, the JSON-RPC envelope of worker/mcp.c (and the methods
 * and tools behind it) and the resource URLs of worker/oauth.c.
 *
 * Input: an HTTP-like header block, a blank line, then the POST body:
 *
 *	Accept: application/json, text/event-stream
 *	Content-Type: application/json
 *	MCP-Protocol-Version: 2025-06-18
 *
 *	{"jsonrpc":"2.0","id":1,"method":"tools/list"}
 *
 * Header names (case-insensitive): Accept, Content-Type, MCP-Protocol-Version,
 * Mcp-Method, Mcp-Name, Origin, Host; other lines are ignored and the first
 * of duplicates wins, as h2o_find_header does.  A header is absent unless its
 * line is there.  The value is what follows the colon and one optional space;
 * other whitespace is kept, since the code under test trims it itself.  With
 * no blank line the whole input is headers and the body is empty.
 *
 * Every value and the body are copied into buffers of their exact size, so
 * AddressSanitizer sees a read one byte past a header.
 *
 * mcp_handle runs whatever Content-Type and Origin say: worker/http_mcp.c refuses
 * such requests before it, but they do not reach mcp_handle's arguments, so
 * any failure in it is reachable with a correct Content-Type and Origin.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/json.h"
#include "common/json_arena.h"
#include "common/strbuf.h"
#include "worker/mcp.h"
#include "worker/oauth.h"
#include "worker/transport.h"
#include "tests/fuzz/fuzz_check.h"

enum { H_ACCEPT, H_CONTENT_TYPE, H_VERSION, H_METHOD, H_NAME, H_ORIGIN, H_HOST, H_COUNT };

static const char *const header_names[H_COUNT] = {
	[H_ACCEPT] = "accept",
	[H_CONTENT_TYPE] = "content-type",
	[H_VERSION] = "mcp-protocol-version",
	[H_METHOD] = "mcp-method",
	[H_NAME] = "mcp-name",
	[H_ORIGIN] = "origin",
	[H_HOST] = "host",
};

/* Origins: none configured (loopback only), a list, and any. */
static struct config cfg_loopback, cfg_listed, cfg_any;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static char origin_app[] = "https://app.example";
	static char origin_inspector[] = "http://localhost:6274";

	(void)argc, (void)argv;
	/* As in the worker: request trees come from the arena. */
	json_arena_install();
	if (mcp_init() < 0)
		abort();
	cfg_listed.allowed_origins[0] = origin_app;
	cfg_listed.allowed_origins[1] = origin_inspector;
	cfg_listed.n_allowed_origins = 2;
	cfg_any.allow_any_origin = true;
	return 0;
}

/* A heap copy of exactly n bytes (malloc(0) may return NULL: use 1). */
static char *
copy_exact(const uint8_t *p, size_t n)
{
	char *c = malloc(n ? n : 1);

	if (c == NULL)
		abort();
	if (n > 0)
		memcpy(c, p, n);
	return c;
}

/* Splits the header block; returns where the body starts. */
static size_t
parse_headers(const uint8_t *data, size_t size, struct header_value *h)
{
	size_t pos = 0;

	while (pos < size) {
		const uint8_t *nl = memchr(data + pos, '\n', size - pos);
		size_t end = nl ? (size_t)(nl - data) : size;
		const uint8_t *colon = memchr(data + pos, ':', end - pos);

		if (end == pos)
			return pos + 1;	/* the blank line */
		for (int i = 0; colon != NULL && i < H_COUNT; i++) {
			size_t namelen = (size_t)(colon - (data + pos));
			size_t v = (size_t)(colon - data) + 1;

			if (h[i].base != NULL || strlen(header_names[i]) != namelen ||
			    strncasecmp((const char *)data + pos, header_names[i], namelen) != 0)
				continue;
			if (v < end && data[v] == ' ')
				v++;
			h[i] = (struct header_value){copy_exact(data + v, end - v), end - v};
		}
		pos = end + 1;
	}
	return size;
}

/* What the response must always be, whatever the request. */
static void
check_response(const struct mcp_response *res, enum reply_format format)
{
	struct json_doc doc;

	FUZZ_CHECK(res->status >= 200 && res->status <= 599);
	FUZZ_CHECK(memchr(res->rpc_method, '\0', sizeof(res->rpc_method)) != NULL);
	FUZZ_CHECK(memchr(res->tool, '\0', sizeof(res->tool)) != NULL);
	if (res->body == NULL) {
		FUZZ_CHECK(res->status == 202 && res->body_len == 0);
		return;
	}
	FUZZ_CHECK(res->status != 202);
	FUZZ_CHECK(strlen(res->body) == res->body_len);
	/* Strict RFC 8259 and UTF-8, as the server demands of its clients. */
	FUZZ_CHECK(json_doc_parse(&doc, res->body, res->body_len) == 0);
	json_doc_free(&doc);
	/* worker/http_mcp.c frames SSE as "data: <body>\n\n": a raw newline would end the event. */
	if (format == REPLY_SSE && res->status == 200)
		FUZZ_CHECK(memchr(res->body, '\n', res->body_len) == NULL &&
		    memchr(res->body, '\r', res->body_len) == NULL);
}

/*
 * The same request from a caller without credentials: either a lone ping,
 * answered, or nothing at all (worker/http_mcp.c then answers 401).
 */
static void
check_anonymous(struct mcp_request req, enum reply_format format)
{
	struct mcp_response res;

	req.liveness_ping = req.lone_ping_only = true;
	mcp_handle(&req, &res);
	if (res.needs_credentials) {
		FUZZ_CHECK(!res.public_ping && res.body == NULL && res.status == 0);
		FUZZ_CHECK(res.rpc_method[0] == '\0' && res.tool[0] == '\0');
		return;
	}
	FUZZ_CHECK(res.public_ping && req.body_len <= MCP_PING_MAX_BODY);
	/* An envelope refused before its method is read leaves the name empty. */
	FUZZ_CHECK((strcmp(res.rpc_method, "ping") == 0 || res.rpc_method[0] == '\0') &&
	    res.tool[0] == '\0');
	check_response(&res, format);
	mcp_response_free(&res);
}

/* worker/http_oauth.c's http_oauth_urls and the RFC 9728 document, from Host. */
static void
check_resource_urls(struct header_value host)
{
	static const struct strlist no_scopes;
	char resource[CONFIG_URL_MAX], metadata[CONFIG_URL_MAX];
	struct strbuf doc;

	oauth_resource_url(&cfg_loopback, host, resource, sizeof(resource));
	FUZZ_CHECK(strncmp(resource, "http://", 7) == 0);
	oauth_metadata_url(resource, metadata, sizeof(metadata));
	strbuf_init(&doc);
	oauth_metadata_document(&doc, resource, "https://issuer.example", &no_scopes);
	strbuf_free(&doc);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct header_value h[H_COUNT] = {{0}};
	struct mcp_request req;
	struct mcp_response res;
	enum reply_format format;
	size_t body_at = parse_headers(data, size, h);
	char *body = copy_exact(data + body_at, size - body_at);

	(void)transport_origin_allowed(&cfg_loopback, h[H_ORIGIN]);
	(void)transport_origin_allowed(&cfg_listed, h[H_ORIGIN]);
	FUZZ_CHECK(transport_origin_allowed(&cfg_any, h[H_ORIGIN]));
	(void)transport_is_json(h[H_CONTENT_TYPE]);
	check_resource_urls(h[H_HOST]);

	req = (struct mcp_request){
		.body = body, .body_len = size - body_at,
		.protocol_version = h[H_VERSION], .method = h[H_METHOD], .name = h[H_NAME],
	};
	req.accepts_json_and_sse = transport_negotiate(h[H_ACCEPT], &format);
	mcp_handle(&req, &res);
	FUZZ_CHECK(!res.public_ping && !res.needs_credentials);
	check_response(&res, format);
	mcp_response_free(&res);
	check_anonymous(req, format);

	free(body);
	for (int i = 0; i < H_COUNT; i++)
		free((void *)h[i].base);
	/* Every tree of the request was freed, so the next one starts on a rewound arena. */
	if (json_arena_live() != 0)
		abort();
	return 0;
}
