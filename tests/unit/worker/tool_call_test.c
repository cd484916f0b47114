/*
 * Unit tests for one call of a tool (worker/tool_call.c, tool_args.c and
 * tool_result.c): every parameter type and rule (accepted,
 * refused with its exact message), defaults and optional parameters, arrays,
 * the kinds of result, the call context, and tools that misuse the API.
 * The test tools of tests/tools/ are built into test builds; the misusing
 * ones are defined here.
 */
/* This file's own tools read their arguments by name, as a tool file does. */
#define MCPD_TOOL_NAME tool_call_test

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
#include "tests/unit/cpu_ratio.h"

static struct tool_outcome out;
static cJSON *structured;

static int
teardown(void **state)
{
	(void)state;
	tools_outcome_free(&out);
	cJSON_Delete(structured);
	structured = NULL;
	return 0;
}

/* Calls the tool (tests/unit/tool_test.h) and parses what it returned. */
static void
run_tool(const struct mcpd_tool *tool, const char *args_json, const struct tools_context *ctx)
{
	teardown(NULL);
	tool_test_run(tool, args_json, ctx, &out);
	if (!out.is_error) {
		structured = cJSON_ParseWithLength(out.structured.data, out.structured.len);
		if (structured == NULL)
			fail_msg("structured content is not JSON: %.*s", (int)out.structured.len,
			    out.structured.data);
	}
}

static void
call(const char *name, const char *args_json)
{
	const struct mcpd_tool *tool = tools_find(name, strlen(name));

	if (tool == NULL)
		fail_msg("%s is not built in: is this a test build (MCPD_TEST_TOOLS)?", name);
	run_tool(tool, args_json, NULL);
}

static const char *
text(void)
{
	return out.text.data != NULL ? out.text.data : "";
}

static const cJSON *
field(const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(structured, name);

	if (v == NULL)
		fail_msg("no field %s in %.*s", name, (int)out.structured.len, out.structured.data);
	return v;
}

/* The call succeeded; its text and structured content are as given. */
static void
assert_ok(const char *name, const char *args, const char *expected_structured)
{
	call(name, args);
	if (out.is_error)
		fail_msg("%s %s failed: %s", name, args ? args : "", text());
	if (expected_structured != NULL &&
	    (out.structured.len != strlen(expected_structured) ||
	    memcmp(out.structured.data, expected_structured, out.structured.len) != 0))
		fail_msg("%s %s: structured %.*s, expected %s", name, args ? args : "",
		    (int)out.structured.len, out.structured.data, expected_structured);
}

/* The call is a tool error whose whole message is "<tool>: <expected>". */
static void
assert_refused(const char *name, const char *args, const char *expected)
{
	char whole[512];

	call(name, args);
	snprintf(whole, sizeof(whole), "%s: %s", name, expected);
	if (!out.is_error)
		fail_msg("%s %s succeeded: %s", name, args ? args : "", text());
	assert_string_equal(text(), whole);
	assert_int_equal(out.structured.len, 0);
}

/* ---- integer ---- */

static void
test_integer_rules(void **state)
{
	(void)state;
	assert_ok("typed_echo", "{\"count\":0}", NULL);
	assert_int_equal((int)field("count")->valuedouble, 0);
	assert_ok("typed_echo", "{\"count\":100}", NULL);
	assert_ok("typed_echo", "{\"count\":1e2}", NULL);	/* 100, exactly */
	assert_refused("typed_echo", "{\"count\":-1}", "argument 'count' must be at least 0");
	assert_refused("typed_echo", "{\"count\":101}", "argument 'count' must be at most 100");
	assert_refused("typed_echo", "{\"count\":2.5}", "argument 'count' must be an integer, not a fraction");
	assert_refused("typed_echo", "{\"count\":\"5\"}", "argument 'count' must be an integer, not a string");
	assert_refused("typed_echo", "{\"count\":1e30}", "argument 'count' is outside the 64-bit integer range "
	    "-9223372036854775808..9223372036854775807");
}

static void
test_integer_is_exact_beyond_double(void **state)
{
	(void)state;
	assert_ok("is_even", "{\"n\":9007199254740993}", "{\"result\":false}");
	assert_ok("is_even", "{\"n\":9223372036854775806}", "{\"result\":true}");
	assert_ok("is_even", "{\"n\":-9223372036854775808}", "{\"result\":true}");
	assert_string_equal(text(), "true");
}

/* ---- number ---- */

static void
test_number_rules(void **state)
{
	(void)state;
	assert_ok("halve", "{\"x\":3}", "{\"result\":1.5}");
	assert_string_equal(text(), "1.5");
	assert_ok("halve", "{\"x\":0.2}", "{\"result\":0.1}");
	assert_ok("halve", "{\"x\":-1e300}", "{\"result\":-5e+299}");
	assert_ok("halve", "{\"x\":9007199254740993}", NULL);	/* integers are numbers too */
	assert_refused("halve", "{\"x\":\"1\"}", "argument 'x' must be a number, not a string");
	assert_refused("halve", "{\"x\":1e999}", "argument 'x' must be a finite number");
	assert_refused("halve", "{\"x\":null}", "argument 'x' must be a number, not null");
}

/* ---- boolean ---- */

static void
test_boolean_rules(void **state)
{
	(void)state;
	assert_ok("typed_echo", "{\"flag\":true}", NULL);
	assert_true(cJSON_IsTrue(field("flag")));
	assert_refused("typed_echo", "{\"flag\":1}", "argument 'flag' must be a boolean, not a number");
	assert_refused("typed_echo", "{\"flag\":\"true\"}", "argument 'flag' must be a boolean, not a string");
}

/* ---- string ---- */

static void
test_string_rules(void **state)
{
	(void)state;
	assert_ok("typed_echo", "{\"note\":\"0123456789\"}", NULL);	/* exactly 10 */
	assert_string_equal(field("note")->valuestring, "0123456789");
	/* maxLength counts characters, not bytes: ten 2-byte characters pass. */
	assert_ok("typed_echo", "{\"note\":\"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\"}", NULL);
	assert_refused("typed_echo", "{\"note\":\"01234567890\"}", "argument 'note' must be at most 10 characters long");
	assert_refused("typed_echo", "{\"note\":\"a\\u0000b\"}",
	    "argument 'note' contains a NUL character (\\u0000), which this server does not accept");
	assert_refused("typed_echo", "{\"note\":5}", "argument 'note' must be a string, not a number");
}

static void
test_string_enum(void **state)
{
	(void)state;
	assert_ok("typed_echo", "{\"color\":\"blue\"}", NULL);
	assert_string_equal(field("color")->valuestring, "blue");
	assert_refused("typed_echo", "{\"color\":\"Blue\"}",
	    "argument 'color' must be one of \"red\", \"green\", \"blue\"");
	assert_refused("typed_echo", "{\"color\":\"\"}",
	    "argument 'color' must be one of \"red\", \"green\", \"blue\"");
}

/* ---- defaults and optional parameters ---- */

static void
test_defaults_and_optional(void **state)
{
	(void)state;
	assert_ok("typed_echo", NULL, "{\"count\":7,\"ratio\":-1,\"flag\":false,\"color\":\"red\",\"note\":\"\","
	    "\"values_sum\":0,\"weights_sum\":0,\"tags\":\"\",\"switches_on\":0,\"present\":\"count,flag,color\"}");
	/* The object is the text content when the tool gives none. */
	assert_string_equal(text(), out.structured.data);
	assert_ok("typed_echo", "{}", NULL);
	assert_string_equal(field("present")->valuestring, "count,flag,color");
	assert_ok("typed_echo", "{\"ratio\":0.5,\"note\":\"hi\"}", NULL);
	assert_string_equal(field("present")->valuestring, "count,ratio,flag,color,note");
	assert_int_equal((int)(field("ratio")->valuedouble * 10), 5);
}

static void
test_required_and_unexpected(void **state)
{
	(void)state;
	assert_refused("halve", "{}", "missing required argument 'x' (number)");
	assert_refused("number_stats", NULL, "missing required argument 'numbers' (array of number)");
	assert_refused("halve", "{\"x\":1,\"y\":2}", "unexpected argument 'y': halve takes only the arguments "
	    "its inputSchema lists");
}

/* ---- arrays ---- */

static void
test_arrays(void **state)
{
	(void)state;
	assert_ok("typed_echo", "{\"values\":[1,2,-1000,9223372036854775807,-1]}", NULL);
	/* Exact: a double would round this sum. */
	assert_non_null(strstr(out.structured.data, "\"values_sum\":9223372036854774809,"));
	assert_refused("typed_echo", "{\"values\":[1,2,3,4,5,6]}", "argument 'values' must have at most 5 items, not 6");
	assert_refused("typed_echo", "{\"values\":[1,-1001]}", "argument 'values[1]' must be at least -1000");
	assert_refused("typed_echo", "{\"values\":[1,2.5]}", "argument 'values[1]' must be an integer, not a fraction");
	assert_refused("typed_echo", "{\"values\":5}", "argument 'values' must be an array of integer values, not a number");
	assert_ok("typed_echo", "{\"tags\":[\"a\",\"bb\",\"ccccc\"],\"switches\":[true,false,true],\"weights\":[0.5,0.25]}", NULL);
	assert_string_equal(field("tags")->valuestring, "a+bb+ccccc");
	assert_int_equal((int)field("switches_on")->valuedouble, 2);
	assert_true(field("weights_sum")->valuedouble == 0.75);
	assert_refused("typed_echo", "{\"tags\":[\"toolong\"]}", "argument 'tags[0]' must be at most 5 characters long");
	assert_refused("typed_echo", "{\"switches\":[true,1]}", "argument 'switches[1]' must be a boolean, not a number");
	assert_ok("typed_echo", "{\"values\":[]}", NULL);
	assert_int_equal((int)field("values_sum")->valuedouble, 0);
}

static void
test_large_array(void **state)
{
	struct strbuf args;

	(void)state;
	strbuf_init(&args);
	strbuf_puts(&args, "{\"numbers\":[");
	for (int i = 0; i < 10000; i++)
		strbuf_printf(&args, "%s%d", i ? "," : "", i);
	strbuf_puts(&args, "]}");
	assert_true(strbuf_ok(&args));
	assert_ok("number_stats", args.data, "{\"count\":10000,\"mean\":4999.5,\"min\":0,\"max\":9999}");
	assert_string_equal(text(), "10000 numbers from 0 to 9999, mean 4999.5");
	strbuf_free(&args);
}

/* ---- results ---- */

static void
test_tool_error(void **state)
{
	(void)state;
	assert_refused("always_fails", "{\"reason\":\"asked\"}", "failed as asked: asked");
	assert_refused("always_fails", NULL, "failed as asked: no reason");
	assert_refused("number_stats", "{\"numbers\":[]}", "needs at least one number");
}

static void
test_context_identity_and_version(void **state)
{
	const struct mcpd_identity id = {.sub = "u-1", .username = "alice", .client_id = "c1",
	    .scope = "mcpd/admin openid", .expires_at = 1800000600};
	const struct tools_context ctx = {.identity = &id, .protocol_version = "2025-06-18"};

	(void)state;
	run_tool(tools_find("whoami", 6), NULL, &ctx);
	assert_false(out.is_error);
	assert_true(cJSON_IsTrue(field("verified")));
	assert_string_equal(field("username")->valuestring, "alice");
	assert_string_equal(field("scope")->valuestring, "mcpd/admin openid");
	assert_true(field("expires_at")->valuedouble == 1800000600.0);
	assert_string_equal(field("protocol_version")->valuestring, "2025-06-18");
	call("whoami", NULL);
	assert_true(cJSON_IsFalse(field("verified")));
	assert_string_equal(field("sub")->valuestring, "");
}

/* ---- scopes ---- */

static void
test_scopes(void **state)
{
	const struct mcpd_tool *whoami = tools_find("whoami", 6), *sum = tools_find("sum", 3);
	struct strbuf sb;

	(void)state;
	assert_null(tools_missing_scope(whoami, "openid mcpd/admin"));
	assert_string_equal(tools_missing_scope(whoami, "openid mcpd/admins"), "mcpd/admin");
	assert_string_equal(tools_missing_scope(whoami, ""), "mcpd/admin");
	assert_string_equal(tools_missing_scope(whoami, NULL), "mcpd/admin");
	assert_non_null(sum);
	assert_null(tools_missing_scope(sum, NULL));
	strbuf_init(&sb);
	tools_write_scopes(&sb, whoami);
	assert_string_equal(sb.data, "mcpd/admin");
	strbuf_free(&sb);
}

/* ---- cost ---- */

static int
sum_integers(struct mcpd_call *call)
{
	const struct mcpd_value *xs = mcpd_arg(call, "xs");
	int64_t sum = 0;

	for (size_t i = 0; i < xs->count; i++)
		sum += xs->items[i].integer;
	return mcpd_return_integer(call, sum);
}

static const struct mcpd_tool integer_sum = {
	.name = "integer_sum", .description = "d",
	MCPD_PARAMS(MCPD_INTEGER("xs", "integers", MCPD_ARRAY(10000))),
	MCPD_RETURNS(MCPD_TYPE_INTEGER),
	.run = sum_integers,
};

/* {"xs":[1,2,...,n]}: the arguments of an integer_sum call. */
struct integer_args {
	char *json;
	size_t len;
	size_t n;
};

static void
integer_args_build(struct integer_args *a, size_t n)
{
	size_t cap = n * 22 + 16;

	a->n = n;
	a->json = malloc(cap);
	assert_non_null(a->json);
	a->len = (size_t)snprintf(a->json, cap, "{\"xs\":[");
	for (size_t i = 1; i <= n; i++)
		a->len += (size_t)snprintf(a->json + a->len, cap - a->len, "%s%zu", i > 1 ? "," : "", i);
	a->len += (size_t)snprintf(a->json + a->len, cap - a->len, "]}");
}

/* Parses the arguments and calls the tool: the timed step. */
static void
integer_args_call(void *arg)
{
	static const struct tools_context ctx = {.protocol_version = "2025-11-25"};
	const struct integer_args *a = arg;
	struct tool_outcome o;
	struct tool_pending *pending;
	struct json_doc doc;

	if (json_doc_parse(&doc, a->json, a->len) < 0)
		fail_msg("%zu integers: not JSON", a->n);
	if (tools_call(&integer_sum, &doc, doc.root, &ctx, &o, &pending) != TOOLS_DONE || o.is_error)
		fail_msg("integer_sum of %zu integers failed", a->n);
	tools_outcome_free(&o);
	json_doc_free(&doc);
}

/*
 * Each item of an integer array is read exactly from its text; each read
 * once rescanned the text before it, so an array cost the square of its
 * length.
 */
static void
test_integer_array_cpu_time_grows_linearly(void **state)
{
	struct integer_args small, large;

	(void)state;
	integer_args_build(&small, 1000);
	integer_args_build(&large, 10000);
	run_tool(&integer_sum, small.json, NULL);
	assert_false(out.is_error);
	assert_string_equal(text(), "500500");
	assert_cpu_linear("integer array argument", integer_args_call, &small, small.n, &large, large.n);
	free(small.json);
	free(large.json);
}

/* ---- tools that misuse the API ---- */

static int
returns_wrong_type(struct mcpd_call *call)
{
	return mcpd_return_string(call, "x", 1);
}

static int
returns_twice(struct mcpd_call *call)
{
	mcpd_return_integer(call, 1);
	return mcpd_return_integer(call, 2);
}

static int
returns_nothing(struct mcpd_call *call)
{
	(void)call;
	return 0;
}

static int
leaves_a_field_unset(struct mcpd_call *call)
{
	mcpd_set_integer(call, "a", 1);
	return mcpd_return_object(call);
}

static int
sets_an_unknown_field(struct mcpd_call *call)
{
	mcpd_set_integer(call, "a", 1);
	mcpd_set_integer(call, "b", 2);
	mcpd_set_integer(call, "c", 3);
	return mcpd_return_object(call);
}

static int
allocates(struct mcpd_call *call)
{
	char *p = mcpd_alloc(call, 1 << 20);

	if (p == NULL)
		return mcpd_error(call, "no memory");
	memset(p, 'x', 1 << 20);
	return mcpd_return_integer(call, p[12345] == 'x');
}

static void
assert_misuse(int (*run)(struct mcpd_call *), bool object, const char *expected)
{
	const struct mcpd_tool t = {.name = "misuser", .description = "d", .run = run,
	    .result = object ? (struct mcpd_result){.fields = (const struct mcpd_field[]){
		MCPD_FIELD("a", MCPD_TYPE_INTEGER, "a"), MCPD_FIELD("b", MCPD_TYPE_INTEGER, "b")}, .nfields = 2} :
	    (struct mcpd_result){.type = MCPD_TYPE_INTEGER}};

	run_tool(&t, NULL, NULL);
	assert_true(out.is_error);
	assert_string_equal(text(), expected);
}

static void
test_misuse_is_an_internal_tool_error(void **state)
{
	(void)state;
	assert_misuse(returns_wrong_type, false,
	    "misuser: internal error: the tool returned a value of another type than its result");
	assert_misuse(returns_twice, false, "misuser: internal error: the tool returned twice");
	assert_misuse(returns_nothing, false, "misuser: internal error: the tool returned no result");
	assert_misuse(leaves_a_field_unset, true,
	    "misuser: internal error: the tool returned an object without setting every field");
	assert_misuse(sets_an_unknown_field, true,
	    "misuser: internal error: the tool set a result field its description does not list");
}

static void
test_scratch_memory_is_freed(void **state)
{
	const struct mcpd_tool t = {.name = "allocator", .description = "d", .run = allocates,
	    .result = {.type = MCPD_TYPE_INTEGER}};

	(void)state;
	/* Under ASan+LSan a leak of the scratch memory fails the whole program. */
	for (int i = 0; i < 8; i++) {
		run_tool(&t, NULL, NULL);
		assert_false(out.is_error);
		assert_string_equal(text(), "1");
	}
}

#define T(fn) cmocka_unit_test_teardown(fn, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_integer_rules),
		T(test_integer_is_exact_beyond_double),
		T(test_number_rules),
		T(test_boolean_rules),
		T(test_string_rules),
		T(test_string_enum),
		T(test_defaults_and_optional),
		T(test_required_and_unexpected),
		T(test_arrays),
		T(test_large_array),
		T(test_integer_array_cpu_time_grows_linearly),
		T(test_tool_error),
		T(test_context_identity_and_version),
		T(test_scopes),
		T(test_misuse_is_an_internal_tool_error),
		T(test_scratch_memory_is_freed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
