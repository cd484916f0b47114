/* Runs in: workers, after the sandbox. */
#include "worker/oauth.h"

#include <stdio.h>
#include <string.h>

static bool
host_chars_ok(struct header_value host)
{
	if (host.base == NULL || host.len == 0 || host.len > 255)
		return false;
	for (size_t i = 0; i < host.len; i++) {
		char c = host.base[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '.' || c == '-' || c == ':' || c == '[' || c == ']'))
			return false;
	}
	return true;
}

void
oauth_resource_url(const struct config *cfg, struct header_value host, char *out, size_t cap)
{
	if (cfg->resource_url[0] != '\0') {
		snprintf(out, cap, "%s", cfg->resource_url);
		return;
	}
	if (!host_chars_ok(host))
		host = (struct header_value){"localhost", 9};
	snprintf(out, cap, "http://%.*s/mcp", (int)host.len, host.base);
}

void
oauth_metadata_url(const char *resource, char *out, size_t cap)
{
	const char *authority = strstr(resource, "://");
	const char *path;
	int origin_len;

	authority = authority ? authority + 3 : resource;
	path = authority + strcspn(authority, "/?");
	origin_len = (int)(path - resource);
	/* A path of "/" adds nothing: the document sits at the well-known root. */
	if (strcmp(path, "/") == 0)
		path = "";
	snprintf(out, cap, "%.*s" OAUTH_WELL_KNOWN "%s", origin_len, resource, path);
}

static void
join_scopes(struct strbuf *sb, const struct strlist *scopes)
{
	for (size_t i = 0; i < scopes->n; i++) {
		if (i > 0)
			strbuf_putc(sb, ' ');
		strbuf_puts(sb, scopes->items[i]);
	}
}

void
oauth_challenge(struct strbuf *sb, const struct auth_verdict *v, const char *metadata_url,
    const struct strlist *required_scopes)
{
	strbuf_puts(sb, "Bearer ");
	/* No credentials: a bare challenge without error= (RFC 6750 §3.1). */
	if (v->status == AUTH_BAD_TOKEN)
		strbuf_printf(sb, "error=\"invalid_token\", error_description=\"%s\", ", v->reason);
	else if (v->status == AUTH_NO_SCOPE) {
		strbuf_printf(sb, "error=\"insufficient_scope\", error_description=\"%s\", scope=\"",
		    v->reason);
		join_scopes(sb, required_scopes);
		strbuf_puts(sb, "\", ");
	}
	strbuf_printf(sb, "resource_metadata=\"%s\"", metadata_url);
}

static void
json_string_array(struct strbuf *sb, const struct strlist *list)
{
	strbuf_putc(sb, '[');
	for (size_t i = 0; i < list->n; i++) {
		if (i > 0)
			strbuf_putc(sb, ',');
		strbuf_json_string(sb, list->items[i], strlen(list->items[i]));
	}
	strbuf_putc(sb, ']');
}

void
oauth_metadata_document(struct strbuf *sb, const char *resource, const char *issuer,
    const struct strlist *required_scopes)
{
	strbuf_puts(sb, "{\"resource\":");
	strbuf_json_string(sb, resource, strlen(resource));
	strbuf_puts(sb, ",\"authorization_servers\":[");
	strbuf_json_string(sb, issuer, strlen(issuer));
	strbuf_puts(sb, "],\"bearer_methods_supported\":[\"header\"],\"resource_name\":\"mcpd\"");
	if (required_scopes->n > 0) {
		strbuf_puts(sb, ",\"scopes_supported\":");
		json_string_array(sb, required_scopes);
	}
	strbuf_putc(sb, '}');
}
