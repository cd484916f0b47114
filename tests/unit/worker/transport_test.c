/*
 * Unit tests for worker/transport.c: Origin checks, Accept negotiation and
 * Content-Type.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "worker/transport.h"

static struct header_value
hv(const char *s)
{
	return (struct header_value){s, s ? strlen(s) : 0};
}

static const struct header_value absent = {NULL, 0};

/* A config with the given origins (no allocation: config_free not needed). */
static struct config
config_with(char **origins, size_t n, bool any)
{
	struct config cfg;

	memset(&cfg, 0, sizeof(cfg));
	for (size_t i = 0; i < n; i++)
		cfg.allowed_origins[i] = origins[i];
	cfg.n_allowed_origins = n;
	cfg.allow_any_origin = any;
	return cfg;
}

static void
assert_origin(const struct config *cfg, const char *origin, bool expected)
{
	if (transport_origin_allowed(cfg, hv(origin)) != expected)
		fail_msg("origin '%s' should be %s", origin, expected ? "allowed" : "refused");
}

/* Negotiates `accept`; returns -1 or the format. */
static int
negotiate(const char *accept)
{
	enum reply_format format = (enum reply_format)99;

	if (!transport_negotiate(hv(accept), &format))
		return -1;
	assert_true(format == REPLY_JSON || format == REPLY_SSE);
	return (int)format;
}

static void
assert_negotiates(const char *accept, int expected)
{
	int got = negotiate(accept);

	if (got != expected)
		fail_msg("Accept '%s' gave %d, expected %d (-1 = 406, %d = JSON, %d = SSE)",
		    accept, got, expected, REPLY_JSON, REPLY_SSE);
}

/* --- Origin --- */

static void
test_origin_absent_is_allowed(void **state)
{
	struct config loopback = config_with(NULL, 0, false);
	char *list[] = {"https://app.example.com"};
	struct config listed = config_with(list, 1, false);

	(void)state;
	assert_true(transport_origin_allowed(&loopback, absent));
	assert_true(transport_origin_allowed(&listed, absent));
}

static void
test_origin_default_allows_loopback(void **state)
{
	struct config cfg = config_with(NULL, 0, false);

	(void)state;
	assert_origin(&cfg, "http://localhost:3000", true);
	assert_origin(&cfg, "http://localhost", true);
	assert_origin(&cfg, "https://localhost:8443", true);
	assert_origin(&cfg, "http://127.0.0.1", true);
	assert_origin(&cfg, "http://127.0.0.1:8000", true);
	assert_origin(&cfg, "http://[::1]:8080", true);
	assert_origin(&cfg, "http://[::1]", true);
	assert_origin(&cfg, "http://LOCALHOST:3000", true);
}

static void
test_origin_default_refuses_others(void **state)
{
	struct config cfg = config_with(NULL, 0, false);

	(void)state;
	assert_origin(&cfg, "http://evil.com", false);
	assert_origin(&cfg, "http://localhost.evil.com", false);
	assert_origin(&cfg, "http://evil.com:3000", false);
	/* Nothing after the scheme: refused without reading past the value. */
	assert_origin(&cfg, "http://", false);
	assert_origin(&cfg, "http://127.0.0.1.evil.com", false);
	assert_origin(&cfg, "http://evillocalhost", false);
	assert_origin(&cfg, "http://[::2]:8080", false);
	assert_origin(&cfg, "null", false);
	assert_origin(&cfg, "", false);
	assert_origin(&cfg, "localhost:3000", false);
	assert_origin(&cfg, "http://", false);
	assert_origin(&cfg, "http://[::1", false);
	/* The host must be the whole authority: nothing after it but a port. */
	assert_origin(&cfg, "http://localhost:1.evil.example", false);
	assert_origin(&cfg, "http://[::1].evil.example", false);
	assert_origin(&cfg, "http://127.0.0.1:8000/path", false);
	assert_origin(&cfg, "http://localhost/", false);
	assert_origin(&cfg, "http://localhost:", false);
	assert_origin(&cfg, "http://localhost:65536", false);
	assert_origin(&cfg, "http://localhost:123456", false);
	assert_origin(&cfg, "http://localhost:80a", false);
	assert_origin(&cfg, "http://user@localhost", false);
	/* Only http and https are web origins here. */
	assert_origin(&cfg, "foo://localhost", false);
	assert_origin(&cfg, "ws://localhost", false);
	assert_origin(&cfg, "file://localhost", false);
	assert_origin(&cfg, "HTTPS://LocalHost:65535", true);
}

static void
test_origin_length_is_respected(void **state)
{
	struct config cfg = config_with(NULL, 0, false);
	const char buf[] = "http://localhost.evil.com";

	(void)state;
	/* Only the first 16 bytes are the header value. */
	assert_true(transport_origin_allowed(&cfg, (struct header_value){buf, 16}));
	assert_false(transport_origin_allowed(&cfg, (struct header_value){buf, sizeof(buf) - 1}));
}

static void
test_origin_configured_list_is_exact(void **state)
{
	char *list[] = {"https://app.example.com", "http://localhost:3000"};
	struct config cfg = config_with(list, 2, false);

	(void)state;
	assert_origin(&cfg, "https://app.example.com", true);
	assert_origin(&cfg, "http://localhost:3000", true);
	assert_origin(&cfg, "http://app.example.com", false);
	assert_origin(&cfg, "https://app.example.com:443", false);
	assert_origin(&cfg, "https://app.example.co", false);
	assert_origin(&cfg, "https://app.example.com.evil.com", false);
	assert_origin(&cfg, "https://evil.app.example.com", false);
	assert_origin(&cfg, "http://localhost:3001", false);
}

static void
test_origin_configured_list_replaces_loopback_default(void **state)
{
	char *list[] = {"https://app.example.com"};
	struct config cfg = config_with(list, 1, false);

	(void)state;
	assert_origin(&cfg, "http://localhost:3000", false);
	assert_origin(&cfg, "http://127.0.0.1", false);
}

static void
test_origin_configured_list_ignores_case(void **state)
{
	char *list[] = {"https://App.Example.com"};
	struct config cfg = config_with(list, 1, false);

	(void)state;
	assert_origin(&cfg, "https://app.example.com", true);
	assert_origin(&cfg, "HTTPS://APP.EXAMPLE.COM", true);
}

static void
test_origin_star_allows_everything(void **state)
{
	struct config cfg = config_with(NULL, 0, true);

	(void)state;
	assert_origin(&cfg, "http://evil.com", true);
	assert_origin(&cfg, "null", true);
	assert_origin(&cfg, "http://localhost:3000", true);
}

/* --- Accept --- */

static void
test_negotiate_needs_both_types(void **state)
{
	(void)state;
	assert_negotiates("application/json, text/event-stream", REPLY_JSON);
	assert_negotiates("text/event-stream, application/json", REPLY_JSON);
	assert_negotiates("application/json", -1);
	assert_negotiates("text/event-stream", -1);
	assert_negotiates("text/html", -1);
	assert_negotiates("", -1);
}

static void
test_negotiate_missing_header(void **state)
{
	enum reply_format format;

	(void)state;
	assert_false(transport_negotiate(absent, &format));
	assert_int_equal(format, REPLY_JSON);
}

static void
test_negotiate_wildcards(void **state)
{
	(void)state;
	assert_negotiates("*/*", REPLY_JSON);
	assert_negotiates("application/*, text/*", REPLY_JSON);
	assert_negotiates("application/json, text/*", REPLY_JSON);
	assert_negotiates("application/*, text/event-stream", REPLY_JSON);
	assert_negotiates("application/*", -1);
	assert_negotiates("text/*", -1);
	assert_negotiates("image/*, text/event-stream", -1);
}

static void
test_negotiate_is_case_insensitive_and_trims(void **state)
{
	(void)state;
	assert_negotiates("Application/JSON ,  Text/Event-Stream", REPLY_JSON);
	assert_negotiates("\tapplication/json\t,text/event-stream ", REPLY_JSON);
}

static void
test_negotiate_q_zero_excludes(void **state)
{
	(void)state;
	assert_negotiates("application/json, text/event-stream;q=0", -1);
	assert_negotiates("application/json;q=0, text/event-stream", -1);
	assert_negotiates("application/json;q=0.0, text/event-stream", -1);
	assert_negotiates("*/*;q=0", -1);
}

/*
 * RFC 9110 §12.5.1: the most specific range that matches decides a type's
 * quality, so text/event-stream;q=0 excludes SSE even when the full
 * wildcard range is also listed (and likewise for application/json).
 */
static void
test_negotiate_specific_q_zero_beats_wildcard(void **state)
{
	(void)state;
	assert_negotiates("application/json, text/event-stream;q=0, */*", -1);
	assert_negotiates("*/*, application/json;q=0", -1);
}

static void
test_negotiate_prefers_sse_only_when_higher(void **state)
{
	(void)state;
	assert_negotiates("application/json;q=0.5, text/event-stream", REPLY_SSE);
	assert_negotiates("application/json;q=0.5, text/event-stream;q=0.9", REPLY_SSE);
	assert_negotiates("application/json;q=0.9, text/event-stream;q=0.5", REPLY_JSON);
	assert_negotiates("application/json;q=0.5, text/event-stream;q=0.5", REPLY_JSON);
	assert_negotiates("application/json;q=1.0, text/event-stream;q=1", REPLY_JSON);
	assert_negotiates("application/json;q=0.001, text/event-stream;q=0.002", REPLY_SSE);
}

static void
test_negotiate_other_parameters(void **state)
{
	(void)state;
	assert_negotiates("application/json;charset=utf-8, text/event-stream;charset=utf-8",
	    REPLY_JSON);
	assert_negotiates("application/json; charset=utf-8; q=0.4, text/event-stream; Q=0.6",
	    REPLY_SSE);
	assert_negotiates("application/json;charset=utf-8;q=0, text/event-stream", -1);
}

static void
test_negotiate_rejects_lookalike_types(void **state)
{
	(void)state;
	assert_negotiates("application/jsonx, text/event-stream", -1);
	assert_negotiates("application/json, text/event-streams", -1);
	assert_negotiates("application/json-seq, text/event-stream", -1);
	assert_negotiates("application/json, text/event", -1);
}

/* --- Content-Type --- */

static void
test_is_json_plain_and_with_parameters(void **state)
{
	(void)state;
	assert_true(transport_is_json(hv("application/json")));
	assert_true(transport_is_json(hv("application/json; charset=utf-8")));
	assert_true(transport_is_json(hv("application/json;charset=UTF-8")));
	assert_true(transport_is_json(hv("Application/JSON")));
	assert_true(transport_is_json(hv(" application/json ")));
}

static void
test_is_json_refuses_other_types(void **state)
{
	(void)state;
	assert_false(transport_is_json(hv("text/plain")));
	assert_false(transport_is_json(hv("application/jsonx")));
	assert_false(transport_is_json(hv("application/json-seq")));
	assert_false(transport_is_json(hv("application/x-www-form-urlencoded")));
	assert_false(transport_is_json(hv("text/json")));
	assert_false(transport_is_json(hv("")));
	assert_false(transport_is_json(hv(";application/json")));
}

static void
test_is_json_missing_header(void **state)
{
	(void)state;
	assert_false(transport_is_json(absent));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_origin_absent_is_allowed),
		cmocka_unit_test(test_origin_default_allows_loopback),
		cmocka_unit_test(test_origin_default_refuses_others),
		cmocka_unit_test(test_origin_length_is_respected),
		cmocka_unit_test(test_origin_configured_list_is_exact),
		cmocka_unit_test(test_origin_configured_list_replaces_loopback_default),
		cmocka_unit_test(test_origin_configured_list_ignores_case),
		cmocka_unit_test(test_origin_star_allows_everything),
		cmocka_unit_test(test_negotiate_needs_both_types),
		cmocka_unit_test(test_negotiate_missing_header),
		cmocka_unit_test(test_negotiate_wildcards),
		cmocka_unit_test(test_negotiate_is_case_insensitive_and_trims),
		cmocka_unit_test(test_negotiate_q_zero_excludes),
		cmocka_unit_test(test_negotiate_specific_q_zero_beats_wildcard),
		cmocka_unit_test(test_negotiate_prefers_sse_only_when_higher),
		cmocka_unit_test(test_negotiate_other_parameters),
		cmocka_unit_test(test_negotiate_rejects_lookalike_types),
		cmocka_unit_test(test_is_json_plain_and_with_parameters),
		cmocka_unit_test(test_is_json_refuses_other_types),
		cmocka_unit_test(test_is_json_missing_header),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
