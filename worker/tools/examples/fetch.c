/* Runs in: workers, after the sandbox (built with -DMCPD_EXAMPLE_TOOLS=ON). */
/* fetch: a web page as text, with the interface of the MCP reference servers' fetch tool. */
#include "worker/tool.h"

#include <stdint.h>

#include "worker/html_text.h"

/* The body as text, far enough to show `chars` characters from the start. */
static void
body_text(const struct mcpd_response *response, bool html, size_t chars, struct strbuf *text)
{
	size_t cap = chars > SIZE_MAX / 4 ? SIZE_MAX : chars * 4;	/* UTF-8: 4 bytes a character at most */

	if (!html) {
		html_text_plain(response->body, response->body_len, cap, text);
		return;
	}
	html_text_render(response->body, response->body_len, cap, text);
	if (text->len == 0)
		strbuf_puts(text, HTML_TEXT_EMPTY);
}

static int
fetched(struct mcpd_call *call, const struct mcpd_response *response)
{
	const char *url = mcpd_arg_string(call, "url"), *type = mcpd_response_header(response, "Content-Type");
	size_t start = (size_t)mcpd_arg_integer(call, "start_index"), length = (size_t)mcpd_arg_integer(call, "max_length");
	bool html, found;
	struct html_text_page page;
	struct strbuf text, out;
	int rc;

	if (response->error != NULL)
		return mcpd_error(call, "Failed to fetch %s: %s", url, response->error);
	if (response->status < 200 || response->status > 299)
		return mcpd_error(call, "Failed to fetch %s - status code %d", url, response->status);
	html = !mcpd_arg_boolean(call, "raw") && html_text_is_html(type, response->body, response->body_len);
	strbuf_init(&text);
	strbuf_init(&out);
	body_text(response, html, start + length + 1, &text);	/* one more: is there more? */
	found = html_text_page(text.data, text.len, start, length, &page);
	if (!html)
		strbuf_printf(&out, "Content type %s cannot be simplified to markdown, but here is the raw content:\n",
		    type != NULL ? type : "");
	strbuf_printf(&out, "Contents of %s:\n", url);
	html_text_page_append(&out, text.data, &page, found);
	rc = strbuf_ok(&text) && strbuf_ok(&out) ? mcpd_return_string(call, out.data, out.len) :
	    mcpd_error(call, "out of memory");
	strbuf_free(&text);
	strbuf_free(&out);
	return rc;
}

static int
fetch(struct mcpd_call *call)
{
	static const struct mcpd_header agent[] = {{"User-Agent", "mcpd/" MCPD_VERSION " (fetch tool)"}};
	struct mcpd_request request = {
		.url = mcpd_arg_string(call, "url"), .headers = agent, .nheaders = 1,
		.timeout_ms = 30000, .follow_redirects = true,
	};

	return mcpd_fetch(call, &request, fetched, NULL);
}

MCPD_TOOL(
	.title = "Fetch",
	.description = "Fetches a URL from the internet and optionally extracts its contents as markdown.",
	MCPD_EGRESS_OPERATOR,
	MCPD_PARAMS(
		MCPD_STRING("url", "URL to fetch"),
		MCPD_INTEGER("max_length", "Maximum number of characters to return.",
		    MCPD_DEFAULT_INTEGER(5000), MCPD_MIN(1), MCPD_MAX(999999)),
		MCPD_INTEGER("start_index", "On return output starting at this character index, useful if a "
		    "previous fetch was truncated and more context is required.", MCPD_DEFAULT_INTEGER(0), MCPD_MIN(0)),
		MCPD_BOOLEAN("raw", "Get the actual HTML content of the requested page, without simplification.",
		    MCPD_DEFAULT_BOOLEAN(false))),
	MCPD_RETURNS(MCPD_TYPE_STRING),
	.annotations = {.read_only = true, .idempotent = true, .open_world = true},
	.run = fetch,
);
