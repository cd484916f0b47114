/*
 * Unit tests for worker/oauth.c: resource and metadata URLs, challenges and
 * the RFC 9728 document.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "worker/oauth.h"

static struct header_value
hv(const char *s)
{
	return (struct header_value){s, s ? strlen(s) : 0};
}

static void
test_resource_url_from_host_or_flag(void **state)
{
	struct config cfg = {0};
	char out[256];

	(void)state;
	oauth_resource_url(&cfg, hv("mcp.example.com:8000"), out, sizeof(out));
	assert_string_equal(out, "http://mcp.example.com:8000/mcp");
	oauth_resource_url(&cfg, hv("[::1]:8000"), out, sizeof(out));
	assert_string_equal(out, "http://[::1]:8000/mcp");
	/* A Host that could inject text into a header is not reflected. */
	oauth_resource_url(&cfg, hv("evil\", error=\"x"), out, sizeof(out));
	assert_string_equal(out, "http://localhost/mcp");
	oauth_resource_url(&cfg, hv(NULL), out, sizeof(out));
	assert_string_equal(out, "http://localhost/mcp");
	strcpy(cfg.resource_url, "https://mcp.example.com/mcp");
	oauth_resource_url(&cfg, hv("other"), out, sizeof(out));
	assert_string_equal(out, "https://mcp.example.com/mcp");
}

static void
test_metadata_url_inserts_well_known(void **state)
{
	char out[256];

	(void)state;
	oauth_metadata_url("https://mcp.example.com/mcp", out, sizeof(out));
	assert_string_equal(out, "https://mcp.example.com/.well-known/oauth-protected-resource/mcp");
	oauth_metadata_url("http://h:1/a/b", out, sizeof(out));
	assert_string_equal(out, "http://h:1/.well-known/oauth-protected-resource/a/b");
	oauth_metadata_url("https://h", out, sizeof(out));
	assert_string_equal(out, "https://h/.well-known/oauth-protected-resource");
	oauth_metadata_url("https://h/", out, sizeof(out));
	assert_string_equal(out, "https://h/.well-known/oauth-protected-resource");
}

static void
challenge(enum auth_status status, const char *reason, const struct strlist *scopes, char *out)
{
	struct auth_verdict v = {.status = status, .reason = reason};
	struct strbuf sb;

	strbuf_init(&sb);
	oauth_challenge(&sb, &v, "https://h/.well-known/oauth-protected-resource/mcp", scopes);
	assert_true(strbuf_ok(&sb));
	strcpy(out, sb.data);
	strbuf_free(&sb);
}

static void
test_challenges(void **state)
{
	struct strlist scopes = {.items = {"mcp/tools", "mcp/admin"}, .n = 2};
	char out[512];

	(void)state;
	challenge(AUTH_NO_TOKEN, "no bearer token", &scopes, out);
	assert_string_equal(out, "Bearer resource_metadata=\"https://h/.well-known/oauth-protected-resource/mcp\"");
	challenge(AUTH_BAD_TOKEN, "token expired", &scopes, out);
	assert_string_equal(out, "Bearer error=\"invalid_token\", error_description=\"token expired\", "
	    "resource_metadata=\"https://h/.well-known/oauth-protected-resource/mcp\"");
	challenge(AUTH_NO_SCOPE, "token lacks a required scope", &scopes, out);
	assert_non_null(strstr(out, "error=\"insufficient_scope\""));
	assert_non_null(strstr(out, "scope=\"mcp/tools mcp/admin\""));
}

static void
test_metadata_document(void **state)
{
	struct strlist scopes = {.items = {"mcp/tools"}, .n = 1}, none = {0};
	struct strbuf sb;

	(void)state;
	strbuf_init(&sb);
	oauth_metadata_document(&sb, "https://h/mcp", "https://issuer", &scopes);
	assert_string_equal(sb.data, "{\"resource\":\"https://h/mcp\",\"authorization_servers\":[\"https://issuer\"],"
	    "\"bearer_methods_supported\":[\"header\"],\"resource_name\":\"mcpd\",\"scopes_supported\":[\"mcp/tools\"]}");
	strbuf_free(&sb);
	strbuf_init(&sb);
	oauth_metadata_document(&sb, "https://h/mcp", "https://issuer", &none);
	assert_null(strstr(sb.data, "scopes_supported"));
	strbuf_free(&sb);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_resource_url_from_host_or_flag),
		cmocka_unit_test(test_metadata_url_inserts_well_known),
		cmocka_unit_test(test_challenges),
		cmocka_unit_test(test_metadata_document),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
