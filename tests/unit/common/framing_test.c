/*
 * Unit tests for common/framing.c: the RFC 9112 head checks and the
 * absolute-form target, on raw bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/framing.h"

static const char *
problem(const char *head, bool http11)
{
	return framing_head_problem(head, strlen(head), http11);
}

static void
assert_problem(const char *head, bool http11, const char *expected)
{
	const char *got = problem(head, http11);

	if (got == NULL || strstr(got, expected) == NULL)
		fail_msg("head %s: expected \"%s\", got \"%s\"", head, expected, got ? got : "(sound)");
}

static void
test_sound_heads(void **state)
{
	(void)state;
	assert_null(problem("POST /mcp HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\n{}", true));
	assert_null(problem("POST /mcp HTTP/1.1\r\nhost: a\r\ntransfer-encoding: chunked\r\n\r\n", true));
	assert_null(problem("GET /ping HTTP/1.0\r\n\r\n", false));
	/* Bare LF line ends, as h2o's parser accepts them. */
	assert_null(problem("GET /ping HTTP/1.1\nHost: a\n\n", true));
	/* Look-alike names are other headers. */
	assert_null(problem("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nX-Content-Length: 2\r\n"
	    "Content-Lengths: 3\r\nHostname: b\r\n\r\n", true));
}

static void
test_content_length_twice(void **state)
{
	(void)state;
	assert_problem("POST /mcp HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\ncontent-length: 2\r\n\r\n", true,
	    "more than one Content-Length");
	assert_problem("POST /mcp HTTP/1.0\r\nCONTENT-LENGTH: 2\r\nContent-Length: 9\r\n\r\n", false,
	    "more than one Content-Length");
}

static void
test_content_length_with_transfer_encoding(void **state)
{
	(void)state;
	assert_problem("POST /mcp HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n",
	    true, "together with Transfer-Encoding");
	assert_problem("POST /mcp HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
	    true, "more than one Transfer-Encoding");
}

static void
test_host_rules(void **state)
{
	(void)state;
	assert_problem("POST /mcp HTTP/1.1\r\nContent-Length: 0\r\n\r\n", true, "no Host header");
	assert_problem("GET /ping HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", true, "more than one Host");
	assert_problem("GET /ping HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n", false, "more than one Host");
}

static void
test_only_the_head_is_read(void **state)
{
	(void)state;
	/* Header-looking lines in the body after the blank line are body. */
	assert_null(problem("POST /mcp HTTP/1.1\r\nHost: a\r\nContent-Length: 40\r\n\r\n"
	    "Content-Length: 1\r\nHost: b\r\n\r\n", true));
	/* A folded continuation line is not a header of its own. */
	assert_null(problem("GET /ping HTTP/1.1\r\nHost: a\r\nX-A: 1\r\n Host: b\r\n\r\n", true));
	/* A head cut short still counts what it holds. */
	assert_problem("GET /ping HTTP/1.1\r\nHost: a\r\nHost: b", true, "more than one Host");
}

static void
assert_absolute(const char *target, const char *authority, const char *path)
{
	h2o_iovec_t a, p;

	if (!framing_absolute_target(h2o_iovec_init(target, strlen(target)), &a, &p))
		fail_msg("%s was not read as absolute-form", target);
	if (a.len != strlen(authority) || memcmp(a.base, authority, a.len) != 0 ||
	    p.len != strlen(path) || memcmp(p.base, path, p.len) != 0)
		fail_msg("%s: authority %.*s path %.*s", target, (int)a.len, a.base, (int)p.len, p.base);
}

static void
assert_not_absolute(const char *target)
{
	h2o_iovec_t a, p;

	if (framing_absolute_target(h2o_iovec_init(target, strlen(target)), &a, &p))
		fail_msg("%s was read as absolute-form", target);
}

static void
test_absolute_targets(void **state)
{
	(void)state;
	assert_absolute("http://127.0.0.1:8000/mcp", "127.0.0.1:8000", "/mcp");
	assert_absolute("HTTPS://example.com/mcp/?x=1", "example.com", "/mcp/?x=1");
	assert_absolute("http://[::1]:8000", "[::1]:8000", "/");
	assert_not_absolute("/mcp");
	assert_not_absolute("http:///mcp");
	assert_not_absolute("http://");
	assert_not_absolute("ftp://host/mcp");
	assert_not_absolute("http://host?q=1");
	assert_not_absolute("*");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sound_heads),
		cmocka_unit_test(test_content_length_twice),
		cmocka_unit_test(test_content_length_with_transfer_encoding),
		cmocka_unit_test(test_host_rules),
		cmocka_unit_test(test_only_the_head_is_read),
		cmocka_unit_test(test_absolute_targets),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
