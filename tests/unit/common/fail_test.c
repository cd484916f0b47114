/*
 * Unit tests for common/fail.c: the reason is written, cut to the buffer,
 * and skipped when there is no buffer; the result is always -1.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/fail.h"

static void
test_writes_the_reason_and_returns_minus_one(void **state)
{
	char err[64];

	(void)state;
	assert_int_equal(fail_because(err, sizeof(err), "port %u on %s is in use", 8000u, "0.0.0.0"), -1);
	assert_string_equal(err, "port 8000 on 0.0.0.0 is in use");
}

static void
test_cuts_a_long_reason_to_the_buffer(void **state)
{
	char err[8];

	(void)state;
	memset(err, 'x', sizeof(err));
	assert_int_equal(fail_because(err, sizeof(err), "%s", "a reason longer than eight"), -1);
	assert_string_equal(err, "a reaso");
}

static void
test_without_a_buffer_only_returns(void **state)
{
	char err[4] = "old";

	(void)state;
	assert_int_equal(fail_because(NULL, 16, "ignored %d", 1), -1);
	assert_int_equal(fail_because(err, 0, "ignored %d", 2), -1);
	assert_string_equal(err, "old");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_writes_the_reason_and_returns_minus_one),
		cmocka_unit_test(test_cuts_a_long_reason_to_the_buffer),
		cmocka_unit_test(test_without_a_buffer_only_returns),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
