/*
 * Unit tests for worker/tool_registry.c: a tool's name is its file's, and
 * the start-up check finds an argument a tool file reads but does not
 * declare.  To prove the second, this file poses as the file of the test
 * tool `sum` (which declares integers a and b) and reads an argument "c".
 */
#define MCPD_TOOL_NAME sum

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "worker/tool_engine.h"

/* Never called: its argument use is recorded all the same, as in any tool file. */
int misspelt_sum(struct mcpd_call *call);

static const int misspelt_line = __LINE__ + 5;	/* the line that reads "c" */

int
misspelt_sum(struct mcpd_call *call)
{
	return mcpd_return_integer(call, mcpd_arg_integer(call, "c"));
}

static void
test_names_are_the_file_names(void **state)
{
	(void)state;
	assert_true(tools_count() > 0);
	for (size_t i = 0; i < tools_count(); i++) {
		assert_string_equal(tools_at(i)->name, tools_name(i));
		assert_ptr_equal(tools_find(tools_name(i), strlen(tools_name(i))), tools_at(i));
		assert_int_equal(tools_index(tools_at(i)), i);
	}
	assert_null(tools_at(tools_count()));
	assert_null(tools_name(tools_count()));
}

static void
test_start_up_check_finds_the_misspelt_argument(void **state)
{
	char err[256], where[64];

	(void)state;
	assert_int_equal(tools_check_registry(err, sizeof(err)), -1);
	snprintf(where, sizeof(where), "tool_registry_test.c:%d: ", misspelt_line);
	assert_non_null(strstr(err, where));
	assert_non_null(strstr(err, "tool sum reads an argument \"c\", which it does not declare"));
}

static const struct mcpd_tool *
sum_tool(void)
{
	const struct mcpd_tool *t = tools_find("sum", 3);

	assert_non_null(t);
	return t;
}

static void
test_a_declared_argument_is_found_with_its_position(void **state)
{
	struct mcpd_arg_use use = {.tool = "sum", .name = "b", .type = MCPD_TYPE_INTEGER, .file = "x.c", .line = 1};
	char err[256];

	(void)state;
	assert_int_equal(tools_check_arg_use(sum_tool(), &use, err, sizeof(err)), 0);
	assert_int_equal(use.index, 1);
	assert_ptr_equal(use.checked_for, sum_tool());
}

static void
test_a_wrong_type_is_refused_with_the_right_accessor(void **state)
{
	struct mcpd_arg_use as_string = {.tool = "sum", .name = "a", .type = MCPD_TYPE_STRING, .file = "x.c", .line = 7};
	struct mcpd_arg_use single = {.tool = "number_stats", .name = "numbers", .type = MCPD_TYPE_NUMBER,
	    .file = "y.c", .line = 9};
	struct mcpd_arg_use any = {.tool = "number_stats", .name = "numbers", .type = MCPD_ARG_ANY,
	    .file = "y.c", .line = 10};
	const struct mcpd_tool *stats = tools_find("number_stats", 12);
	char err[256];

	(void)state;
	assert_int_equal(tools_check_arg_use(sum_tool(), &as_string, err, sizeof(err)), -1);
	assert_string_equal(err, "x.c:7: tool sum reads argument \"a\" as a single string, but declares it "
	    "a single integer (read it with mcpd_arg_integer)");
	assert_null(as_string.checked_for);
	assert_non_null(stats);
	assert_int_equal(tools_check_arg_use(stats, &single, err, sizeof(err)), -1);
	assert_string_equal(err, "y.c:9: tool number_stats reads argument \"numbers\" as a single number, "
	    "but declares it an array of number (read it with mcpd_arg)");
	assert_int_equal(tools_check_arg_use(stats, &any, err, sizeof(err)), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names_are_the_file_names),
		cmocka_unit_test(test_start_up_check_finds_the_misspelt_argument),
		cmocka_unit_test(test_a_declared_argument_is_found_with_its_position),
		cmocka_unit_test(test_a_wrong_type_is_refused_with_the_right_accessor),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
