/*
 * Unit tests for worker/worker.c: what the worker tells the supervisor
 * before any fork, the tools' metrics labels.  The life cycle itself
 * (inherit, sandbox, serve, drain) is tested by tests/integration/40-process.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "worker/tool_engine.h"
#include "worker/worker.h"

/* The label of a tool is its name, at the place the worker counts it. */
static void
tool_labels_follow_the_registry(void **state)
{
	struct counters_tools tools;

	(void)state;
	memset(&tools, 0xff, sizeof(tools));
	worker_counted_tools(&tools);
	assert_true(tools.count >= 1);
	assert_true(tools.count <= COUNTERS_MAX_TOOLS);
	for (size_t i = 0; i < tools.count; i++) {
		const char *name = tools.names[i];

		assert_int_equal(tools_index(tools_find(name, strlen(name))), i);
		assert_true(strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_") == strlen(name));
	}
	assert_null(tools_name(tools.count));
	assert_int_equal(tools_index(NULL), COUNTERS_MAX_TOOLS);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tool_labels_follow_the_registry),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
