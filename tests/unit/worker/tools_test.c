/*
 * Unit tests for the tool engine (worker/tool_engine.h): finding a tool, the
 * tools/list JSON, and tools_call on the test tools sum (integers) and echo
 * (a string), so that the tests hold whatever tools a fork keeps in
 * worker/tools/.  (tool_call_test.c covers every parameter type and rule
 * with the other test tools; tool_check_test.c the checks of descriptions;
 * each reference tool has its own test beside it, worker/tools/<tool>_test.c.)
 */
#define _GNU_SOURCE	/* memmem */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cJSON.h>

#include "tests/unit/tool_test.h"

/* The test tools these tests call (tests/tools/, built into test builds). */
static const char *const tool_names[] = {"sum", "echo"};
#define N_TOOL_NAMES (sizeof(tool_names) / sizeof(tool_names[0]))

/* The outcome's text as a NUL-terminated string (strbufs keep one). */
static const char *
text_of(const struct tool_outcome *out)
{
	return out->text.data != NULL ? out->text.data : "";
}

static void
assert_integer_result(const char *name, const char *args, const char *expected)
{
	struct tool_outcome out;
	cJSON *structured;

	tool_test_call(name, args, &out);
	if (out.is_error)
		fail_msg("%s %s failed: %s", name, args, text_of(&out));
	assert_string_equal(text_of(&out), expected);
	/* Compare the raw JSON: cJSON's doubles would round big integers. */
	structured = cJSON_ParseWithLength(out.structured.data, out.structured.len);
	assert_non_null(structured);
	assert_true(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(structured, "result")));
	assert_int_equal(cJSON_GetArraySize(structured), 1);
	cJSON_Delete(structured);
	assert_int_equal(out.structured.len, strlen("{\"result\":}") + strlen(expected));
	assert_memory_equal(out.structured.data + 10, expected, strlen(expected));
	tools_outcome_free(&out);
}

/* --- tools_find --- */

static void
test_find_every_tool(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_TOOL_NAMES; i++) {
		const struct mcpd_tool *t = tools_find(tool_names[i], strlen(tool_names[i]));

		assert_non_null(t);
		assert_string_equal(t->name, tool_names[i]);
		assert_non_null(t->run);
	}
}

static void
test_find_is_exact(void **state)
{
	(void)state;
	assert_null(tools_find("su", 2));
	assert_null(tools_find("sum ", 4));
	assert_null(tools_find("SUM", 3));
	assert_null(tools_find("sumx", 4));
	assert_null(tools_find("", 0));
	assert_null(tools_find("no_such_tool", 12));
}

static void
test_find_uses_length_not_nul(void **state)
{
	const struct mcpd_tool *t;

	(void)state;
	t = tools_find("echoXYZ", 4);
	assert_non_null(t);
	assert_string_equal(t->name, "echo");
	assert_null(tools_find("sum\0x", 5));
}

/* --- tools_write_list --- */

static cJSON *
write_list(unsigned features)
{
	struct strbuf sb;
	cJSON *list;

	strbuf_init(&sb);
	tools_write_list(&sb, features);
	assert_true(strbuf_ok(&sb));
	list = cJSON_ParseWithLength(sb.data, sb.len);
	assert_non_null(list);
	assert_true(cJSON_IsArray(list));
	strbuf_free(&sb);
	return list;
}

static const cJSON *
member(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (v == NULL)
		fail_msg("missing member \"%s\"", key);
	return v;
}

static void
assert_string_member(const cJSON *obj, const char *key, const char *expected)
{
	const cJSON *v = member(obj, key);

	assert_true(cJSON_IsString(v));
	assert_string_equal(v->valuestring, expected);
}

/* The parameters of sum and echo are all required, integers or strings. */
static void
assert_input_schema(const cJSON *tool)
{
	const cJSON *schema = member(tool, "inputSchema"), *props, *required, *p;
	const char *name = member(tool, "name")->valuestring;
	const struct mcpd_tool *t = tools_find(name, strlen(name));

	assert_string_member(schema, "type", "object");
	assert_true(cJSON_IsFalse(member(schema, "additionalProperties")));
	props = member(schema, "properties");
	required = member(schema, "required");
	assert_int_equal(cJSON_GetArraySize(props), t->nparams);
	assert_int_equal(cJSON_GetArraySize(required), t->nparams);
	for (size_t i = 0; i < t->nparams; i++) {
		p = member(props, t->params[i].name);
		assert_string_member(p, "type",
		    t->params[i].type == MCPD_TYPE_INTEGER ? "integer" : "string");
		assert_string_member(p, "description", t->params[i].description);
		assert_int_equal(cJSON_GetArraySize(p), 2);
		assert_string_equal(cJSON_GetArrayItem(required, (int)i)->valuestring,
		    t->params[i].name);
	}
}

/* The listed tool called `name`, which must be there. */
static const cJSON *
listed(const cJSON *list, const char *name)
{
	const cJSON *tool;

	cJSON_ArrayForEach(tool, list)
		if (strcmp(member(tool, "name")->valuestring, name) == 0)
			return tool;
	fail_msg("%s is not listed", name);
	return NULL;
}

static void
assert_annotations(const cJSON *tool)
{
	const cJSON *a = member(tool, "annotations");

	assert_true(cJSON_IsString(member(a, "title")));
	assert_true(cJSON_IsTrue(member(a, "readOnlyHint")));
	assert_true(cJSON_IsFalse(member(a, "destructiveHint")));
	assert_true(cJSON_IsTrue(member(a, "idempotentHint")));
	assert_true(cJSON_IsFalse(member(a, "openWorldHint")));
}

static void
test_list_without_title(void **state)
{
	cJSON *list = write_list(0);

	(void)state;
	assert_true(cJSON_GetArraySize(list) >= (int)N_TOOL_NAMES);
	for (size_t i = 0; i < N_TOOL_NAMES; i++) {
		const cJSON *tool = listed(list, tool_names[i]);

		assert_true(cJSON_IsString(member(tool, "description")));
		assert_null(cJSON_GetObjectItemCaseSensitive(tool, "title"));
		assert_null(cJSON_GetObjectItemCaseSensitive(tool, "outputSchema"));
		assert_input_schema(tool);
		assert_annotations(tool);
	}
	cJSON_Delete(list);
}

static void
test_list_with_title_and_output_schema(void **state)
{
	static const char *const result_types[] = {"integer", "string"};
	cJSON *list = write_list(TOOLS_LIST_TITLE);
	const cJSON *out;

	(void)state;
	for (size_t i = 0; i < N_TOOL_NAMES; i++) {
		const struct mcpd_tool *t = tools_find(tool_names[i], strlen(tool_names[i]));
		const cJSON *tool = listed(list, tool_names[i]);

		assert_string_member(tool, "title", t->title);
		assert_string_member(tool, "description", t->description);
		out = member(tool, "outputSchema");
		assert_string_member(out, "type", "object");
		assert_string_member(member(member(out, "properties"), "result"), "type",
		    result_types[i]);
		assert_string_equal(cJSON_GetArrayItem(member(out, "required"), 0)->valuestring,
		    "result");
		assert_input_schema(tool);
		assert_annotations(tool);
	}
	cJSON_Delete(list);
}

static void
test_list_appends_to_buffer(void **state)
{
	struct strbuf sb;
	cJSON *doc;

	(void)state;
	strbuf_init(&sb);
	strbuf_puts(&sb, "{\"tools\":");
	tools_write_list(&sb, TOOLS_LIST_TITLE);
	strbuf_putc(&sb, '}');
	doc = cJSON_ParseWithLength(sb.data, sb.len);
	assert_non_null(doc);
	assert_true(cJSON_GetArraySize(member(doc, "tools")) >= (int)N_TOOL_NAMES);
	cJSON_Delete(doc);
	strbuf_free(&sb);
}

/* --- tools_call: results --- */

static void
test_sum(void **state)
{
	(void)state;
	assert_integer_result("sum", "{\"a\":2,\"b\":3}", "5");
	assert_integer_result("sum", "{\"b\":-10,\"a\":3}", "-7");
	assert_integer_result("sum", "{\"a\":0,\"b\":-0}", "0");
}

static void
test_sum_exact_beyond_double(void **state)
{
	(void)state;
	assert_integer_result("sum", "{\"a\":9007199254740993,\"b\":0}", "9007199254740993");
	assert_integer_result("sum", "{\"a\":9223372036854775806,\"b\":1}",
	    "9223372036854775807");
	assert_integer_result("sum", "{\"a\":-9223372036854775807,\"b\":-1}",
	    "-9223372036854775808");
	assert_integer_result("sum", "{\"a\":9223372036854775807,\"b\":-9223372036854775808}",
	    "-1");
}

static void
test_sum_overflow(void **state)
{
	(void)state;
	assert_tool_error("sum", "{\"a\":9223372036854775807,\"b\":1}",
	    "does not fit in a 64-bit integer");
	assert_tool_error("sum", "{\"a\":-9223372036854775808,\"b\":-1}",
	    "does not fit in a 64-bit integer");
}

/* Results at and next to both ends of the 64-bit range come back digit for digit. */
static void
test_integer_results_exact_at_the_ends_of_the_range(void **state)
{
	(void)state;
	assert_integer_result("sum", "{\"a\":40,\"b\":2}", "42");
	assert_integer_result("sum", "{\"a\":0,\"b\":-9223372036854775808}", "-9223372036854775808");
	assert_integer_result("sum", "{\"a\":9223372030926249000,\"b\":1}", "9223372030926249001");
	assert_integer_result("sum", "{\"a\":9223372036854775807,\"b\":0}", "9223372036854775807");
	assert_integer_result("sum", "{\"a\":-9223372036854775808,\"b\":1}", "-9223372036854775807");
}

/* An overflow far past the range is refused as one just past it is. */
static void
test_sum_overflow_far_past_the_range(void **state)
{
	(void)state;
	assert_tool_error("sum", "{\"a\":-9223372036854775808,\"b\":-9223372036854775808}",
	    "does not fit in a 64-bit integer");
	assert_tool_error("sum", "{\"a\":9223372036854775807,\"b\":9223372036854775807}",
	    "does not fit in a 64-bit integer");
	assert_tool_error("sum", "{\"a\":4611686018427387904,\"b\":4611686018427387904}",
	    "does not fit in a 64-bit integer");
}

static void
test_integer_forms_with_fraction_or_exponent(void **state)
{
	(void)state;
	assert_integer_result("sum", "{\"a\":2.0,\"b\":1e2}", "102");
	assert_integer_result("sum", "{\"a\":20e-1,\"b\":0}", "2");
}

static void
test_fraction_is_tool_error(void **state)
{
	(void)state;
	assert_tool_error("sum", "{\"a\":2.5,\"b\":1}", "argument 'a' must be an integer, not a fraction");
	assert_tool_error("sum", "{\"a\":1,\"b\":1e-400}", "argument 'b' must be an integer");
}

static void
test_out_of_range_argument_is_tool_error(void **state)
{
	(void)state;
	assert_tool_error("sum", "{\"a\":9223372036854775808,\"b\":0}",
	    "argument 'a' is outside the 64-bit integer range");
	assert_tool_error("sum", "{\"a\":0,\"b\":1e19}",
	    "argument 'b' is outside the 64-bit integer range");
}

static void
test_wrong_types_are_tool_errors(void **state)
{
	(void)state;
	assert_tool_error("sum", "{\"a\":\"1\",\"b\":2}", "argument 'a' must be an integer, not a string");
	assert_tool_error("sum", "{\"a\":1,\"b\":true}", "argument 'b' must be an integer, not a boolean");
	assert_tool_error("sum", "{\"a\":null,\"b\":2}", "not null");
	assert_tool_error("sum", "{\"a\":[1],\"b\":2}", "not an array");
	assert_tool_error("sum", "{\"a\":{},\"b\":2}", "not an object");
	assert_tool_error("echo", "{\"text\":5}", "argument 'text' must be a string, not a number");
	assert_tool_error("echo", "{\"text\":[\"x\"]}", "must be a string, not an array");
}

static void
test_missing_arguments_are_tool_errors(void **state)
{
	(void)state;
	assert_tool_error("sum", "{\"a\":1}", "missing required argument 'b'");
	assert_tool_error("sum", "{}", "missing required argument 'a'");
	assert_tool_error("sum", NULL, "missing required argument 'a'");
	assert_tool_error("echo", NULL, "missing required argument 'text'");
}

static void
test_extra_arguments_are_tool_errors(void **state)
{
	(void)state;
	assert_tool_error("sum", "{\"a\":1,\"b\":2,\"c\":3}", "unexpected argument 'c'");
	assert_tool_error("echo", "{\"text\":\"x\",\"Text\":\"y\"}", "unexpected argument 'Text'");
}

static void
test_long_unexpected_argument_name_is_bounded(void **state)
{
	char args[2100];
	struct tool_outcome out;
	size_t len;

	(void)state;
	strcpy(args, "{\"a\":1,\"b\":2,\"");
	len = strlen(args);
	memset(args + len, 'k', 2000);
	strcpy(args + len + 2000, "\":0}");
	tool_test_call("sum", args, &out);
	assert_true(out.is_error);
	assert_non_null(strstr(text_of(&out), "unexpected argument 'kkkk"));
	assert_true(out.text.len < TOOL_ERROR_MAX + 32);
	tools_outcome_free(&out);
}

static void
assert_echoed(const char *args, const char *text_bytes)
{
	struct tool_outcome out;
	char expected[512];
	cJSON *structured;

	snprintf(expected, sizeof(expected), "echo: %s", text_bytes);
	tool_test_call("echo", args, &out);
	assert_false(out.is_error);
	assert_int_equal(out.text.len, strlen(expected));
	assert_memory_equal(out.text.data, expected, strlen(expected));
	structured = cJSON_ParseWithLength(out.structured.data, out.structured.len);
	assert_non_null(structured);
	assert_string_equal(member(structured, "result")->valuestring, expected);
	cJSON_Delete(structured);
	tools_outcome_free(&out);
}

static void
test_echo(void **state)
{
	(void)state;
	assert_echoed("{\"text\":\"Alice\"}", "Alice");
	assert_echoed("{\"text\":\"\"}", "");
}

static void
test_string_keeps_utf8_bytes(void **state)
{
	(void)state;
	assert_echoed("{\"text\":\"Zo\xc3\xab \xf0\x9f\x8e\x89 \xe6\x97\xa5\xe6\x9c\xac\"}",
	    "Zo\xc3\xab \xf0\x9f\x8e\x89 \xe6\x97\xa5\xe6\x9c\xac");
	/* Escaped in the request, raw UTF-8 in the result. */
	assert_echoed("{\"text\":\"\\u00e9\\ud83c\\udf89\"}", "\xc3\xa9\xf0\x9f\x8e\x89");
}

static void
test_string_result_escaped_in_structured_content(void **state)
{
	struct tool_outcome out;

	(void)state;
	assert_echoed("{\"text\":\"a\\\"b\\\\c\\nd\\u0001\"}", "a\"b\\c\nd\x01");
	tool_test_call("echo", "{\"text\":\"q\\\"\"}", &out);
	assert_non_null(strstr(out.structured.data, "q\\\"\"}"));
	tools_outcome_free(&out);
}

static void
test_long_string_argument(void **state)
{
	char args[20100], text[20000];
	struct tool_outcome out;

	(void)state;
	memset(text, 'n', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	snprintf(args, sizeof(args), "{\"text\":\"%s\"}", text);
	tool_test_call("echo", args, &out);
	assert_false(out.is_error);
	assert_int_equal(out.text.len, strlen("echo: ") + strlen(text));
	tools_outcome_free(&out);
}

/*
 * "\u0000" is a valid JSON string character.  cJSON stores it as a C string,
 * so a tool would see a shorter string and answer for another one.  The
 * call must either keep every byte or refuse the argument.
 */
static void
test_string_embedded_nul_not_silently_dropped(void **state)
{
	struct tool_outcome out;
	bool kept_or_refused;

	(void)state;
	tool_test_call("echo", "{\"text\":\"Bob\\u0000Eve\"}", &out);
	kept_or_refused = out.is_error || memmem(out.text.data, out.text.len, "Eve", 3) != NULL;
	tools_outcome_free(&out);
	assert_true(kept_or_refused);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_find_every_tool),
		cmocka_unit_test(test_find_is_exact),
		cmocka_unit_test(test_find_uses_length_not_nul),
		cmocka_unit_test(test_list_without_title),
		cmocka_unit_test(test_list_with_title_and_output_schema),
		cmocka_unit_test(test_list_appends_to_buffer),
		cmocka_unit_test(test_sum),
		cmocka_unit_test(test_sum_exact_beyond_double),
		cmocka_unit_test(test_sum_overflow),
		cmocka_unit_test(test_integer_results_exact_at_the_ends_of_the_range),
		cmocka_unit_test(test_sum_overflow_far_past_the_range),
		cmocka_unit_test(test_integer_forms_with_fraction_or_exponent),
		cmocka_unit_test(test_fraction_is_tool_error),
		cmocka_unit_test(test_out_of_range_argument_is_tool_error),
		cmocka_unit_test(test_wrong_types_are_tool_errors),
		cmocka_unit_test(test_missing_arguments_are_tool_errors),
		cmocka_unit_test(test_extra_arguments_are_tool_errors),
		cmocka_unit_test(test_long_unexpected_argument_name_is_bounded),
		cmocka_unit_test(test_echo),
		cmocka_unit_test(test_string_keeps_utf8_bytes),
		cmocka_unit_test(test_string_result_escaped_in_structured_content),
		cmocka_unit_test(test_long_string_argument),
		cmocka_unit_test(test_string_embedded_nul_not_silently_dropped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
