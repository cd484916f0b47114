/*
 * Unit tests for worker/raw_head.c: the head's length and header values
 * read from a raw request head, as membudget reads them while a body is
 * still arriving.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/framing.h"
#include "worker/raw_head.h"

#define HEAD "POST /mcp HTTP/1.1\r\nHost: x\r\nAuthorization:  Bearer abc \r\nContent-Length: 10\r\n\r\n"

static void
finds_the_end_of_the_head(void **state)
{
	const char buf[] = HEAD "0123456789";

	(void)state;
	assert_int_equal(framing_head_length(buf, sizeof(buf) - 1), strlen(HEAD));
	assert_int_equal(framing_head_length("GET / HTTP/1.0\n\nbody", 20), 16);
	/* No blank line yet: the head is incomplete. */
	assert_int_equal(framing_head_length(HEAD, strlen(HEAD) - 2), 0);
	assert_int_equal(framing_head_length("", 0), 0);
}

static void
finds_a_header_by_name_whatever_its_case(void **state)
{
	const char *v;
	size_t n;

	(void)state;
	assert_true(raw_head_find(HEAD, strlen(HEAD), "authorization", &v, &n));
	assert_int_equal(n, strlen("Bearer abc"));
	assert_memory_equal(v, "Bearer abc", n);
	assert_true(raw_head_find(HEAD, strlen(HEAD), "host", &v, &n));
	assert_memory_equal(v, "x", n);
}

static void
does_not_find_what_is_not_a_header_of_the_head(void **state)
{
	const char body_after[] = "POST /mcp HTTP/1.1\r\nHost: x\r\n\r\nAuthorization: Bearer abc\r\n";
	const char *v;
	size_t n;

	(void)state;
	/* In the request line, in the body, or a longer name sharing the prefix. */
	assert_false(raw_head_find("POST /authorization: HTTP/1.1\r\n\r\n", 33, "authorization", &v, &n));
	assert_false(raw_head_find(body_after, sizeof(body_after) - 1, "authorization", &v, &n));
	assert_false(raw_head_find("GET / HTTP/1.1\r\nAuthorization-X: y\r\n\r\n", 38, "authorization", &v, &n));
	assert_false(raw_head_find(HEAD, strlen(HEAD), "transfer-encoding", &v, &n));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(finds_the_end_of_the_head),
		cmocka_unit_test(finds_a_header_by_name_whatever_its_case),
		cmocka_unit_test(does_not_find_what_is_not_a_header_of_the_head),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
