/*
 * tool_test.h: what a tool's own test needs.  A test calls the tool the way
 * tools/call does, with JSON arguments, and checks its result:
 *
 *     #include "tests/unit/tools/tool_test.h"
 *
 *     static void
 *     test_subtract(void **state)
 *     {
 *             (void)state;
 *             assert_tool_result("subtract_numbers", "{\"a\":5,\"b\":3}", "{\"result\":2}");
 *             assert_tool_error("subtract_numbers", "{\"a\":1}", "missing required argument 'b'");
 *     }
 *
 *     TOOL_TESTS(cmocka_unit_test(test_subtract))
 */
#ifndef MCPD_TESTS_UNIT_TOOLS_TOOL_TEST_H
#define MCPD_TESTS_UNIT_TOOLS_TOOL_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "worker/tools.h"

/* Calls `tool` with `args` (JSON object text, or NULL for none) and no identity. */
static inline void
tool_test_call(const char *tool, const char *args, struct tool_outcome *out)
{
	static const struct tools_context ctx = {.protocol_version = "2025-11-25"};
	const struct mcpd_tool *t = tools_find(tool, strlen(tool));
	struct json_doc doc = {0};

	if (t == NULL)
		fail_msg("no tool %s in this build: is its file in worker/tools/?", tool);
	if (args != NULL && json_doc_parse(&doc, args, strlen(args)) < 0)
		fail_msg("the test's arguments are not JSON: %s", args);
	if (tools_call(t, &doc, doc.root, &ctx, out) < 0)
		fail_msg("out of memory");
	json_doc_free(&doc);
}

/* The call succeeds with exactly this structuredContent. */
static inline void
assert_tool_result(const char *tool, const char *args, const char *structured)
{
	struct tool_outcome out;

	tool_test_call(tool, args, &out);
	if (out.is_error)
		fail_msg("%s %s: %s", tool, args ? args : "", out.text.data);
	if (out.structured.len != strlen(structured) || memcmp(out.structured.data, structured, out.structured.len) != 0)
		fail_msg("%s %s: got %.*s, expected %s", tool, args ? args : "", (int)out.structured.len,
		    out.structured.data, structured);
	tools_outcome_free(&out);
}

/* The call is a tool error (isError) whose message contains `needle`. */
static inline void
assert_tool_error(const char *tool, const char *args, const char *needle)
{
	struct tool_outcome out;

	tool_test_call(tool, args, &out);
	if (!out.is_error)
		fail_msg("%s %s succeeded: %s", tool, args ? args : "", out.text.data);
	if (strstr(out.text.data, needle) == NULL)
		fail_msg("%s %s: error \"%s\" lacks \"%s\"", tool, args ? args : "", out.text.data, needle);
	tools_outcome_free(&out);
}

/* The test program's main: the cmocka tests given. */
#define TOOL_TESTS(...) \
	int \
	main(void) \
	{ \
		const struct CMUnitTest tests[] = {__VA_ARGS__}; \
		return cmocka_run_group_tests(tests, NULL, NULL); \
	}

#endif
