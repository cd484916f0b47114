/*
 * tool_test.h: calling a tool in a unit test, the way tools/call does, with
 * JSON arguments.  A tool's own test (worker/tools/<name>_test.c, beside
 * the tool) checks its results with it:
 *
 *     #include "tests/unit/tool_test.h"
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
#ifndef MCPD_TESTS_UNIT_TOOL_TEST_H
#define MCPD_TESTS_UNIT_TOOL_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "worker/tool_engine.h"

/*
 * Calls `tool` with `args` (JSON object text, or NULL for none) in `ctx`
 * (NULL: protocol 2025-11-25, no identity).  Free `out` with
 * tools_outcome_free.
 */
static inline void
tool_test_run(const struct mcpd_tool *tool, const char *args, const struct tools_context *ctx,
    struct tool_outcome *out)
{
	static const struct tools_context plain = {.protocol_version = "2025-11-25"};
	struct json_doc doc = {0};
	struct tool_pending *pending;
	int rc;

	if (args != NULL && json_doc_parse(&doc, args, strlen(args)) < 0)
		fail_msg("the test's arguments are not JSON: %s", args);
	rc = tools_call(tool, &doc, doc.root, ctx != NULL ? ctx : &plain, out, &pending);
	if (rc < 0)
		fail_msg("out of memory");
	/* Unit tests have no egress: a request fails at once, so a fetching tool completes here too. */
	if (rc == TOOLS_PENDING)
		fail_msg("the call of %s still waits on a request: unit tests have no egress process", tool->name);
	json_doc_free(&doc);
}

/* The same, for a tool of the registry, by name. */
static inline void
tool_test_call(const char *tool, const char *args, struct tool_outcome *out)
{
	const struct mcpd_tool *t = tools_find(tool, strlen(tool));

	if (t == NULL)
		fail_msg("no tool %s in this build: is its file in worker/tools/ (or tests/tools/, "
		    "with MCPD_TEST_TOOLS)?", tool);
	tool_test_run(t, args, NULL, out);
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

/*
 * The call is a tool error (isError, no structured content) whose message
 * names the tool first, as clients see it, and contains `needle`.
 */
static inline void
assert_tool_error(const char *tool, const char *args, const char *needle)
{
	struct tool_outcome out;
	const char *text;

	tool_test_call(tool, args, &out);
	text = out.text.data != NULL ? out.text.data : "";
	if (!out.is_error)
		fail_msg("%s %s succeeded: %s", tool, args ? args : "", text);
	if (strncmp(text, tool, strlen(tool)) != 0 || strstr(text, needle) == NULL)
		fail_msg("%s %s: error \"%s\" does not start with the tool's name or lacks \"%s\"", tool,
		    args ? args : "", text, needle);
	assert_int_equal(out.structured.len, 0);
	tools_outcome_free(&out);
}

/* Checks the registry as the server does at start-up; a broken tool fails every test. */
static inline int
tool_test_check_registry(void **state)
{
	char err[256];

	(void)state;
	if (tools_check_registry(err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	return 0;
}

/* The test program's main: the cmocka tests given, after the start-up check. */
#define TOOL_TESTS(...) \
	int \
	main(void) \
	{ \
		const struct CMUnitTest tests[] = {__VA_ARGS__}; \
		return cmocka_run_group_tests(tests, tool_test_check_registry, NULL); \
	}

#endif
