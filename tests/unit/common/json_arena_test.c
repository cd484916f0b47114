/*
 * Unit tests for common/json_arena.c: cJSON trees built from the arena, the
 * rewind once the last allocation is freed, overlapping trees, and the
 * fallback to malloc for what does not fit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <cJSON.h>

#include "common/json.h"
#include "common/json_arena.h"

static const char request[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\","
    "\"params\":{\"name\":\"sum\",\"arguments\":{\"a\":5,\"b\":3}}}";

static int
install(void **state)
{
	(void)state;
	json_arena_install();
	return 0;
}

static void
parse(struct json_doc *doc, const char *text, size_t len)
{
	assert_int_equal(json_doc_parse(doc, text, len), 0);
}

static void
test_tree_comes_from_arena_and_rewinds(void **state)
{
	struct json_doc doc;
	const cJSON *b;
	int64_t n;

	(void)state;
	assert_int_equal(json_arena_live(), 0);
	parse(&doc, request, sizeof(request) - 1);
	assert_true(json_arena_live() > 0);
	assert_true(json_arena_used() > 0);
	b = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(doc.root, "params"), "arguments"), "b");
	assert_int_equal(json_doc_int64(&doc, b, &n), JSON_INT_OK);
	assert_int_equal(n, 3);
	json_doc_free(&doc);
	assert_int_equal(json_arena_live(), 0);
	assert_int_equal(json_arena_used(), 0);
}

/* The same request parsed many times never grows the arena. */
static void
test_repeated_requests_reuse_the_same_bytes(void **state)
{
	struct json_doc doc;
	size_t first = 0;

	(void)state;
	for (int i = 0; i < 1000; i++) {
		parse(&doc, request, sizeof(request) - 1);
		if (i == 0)
			first = json_arena_used();
		assert_int_equal(json_arena_used(), first);
		json_doc_free(&doc);
	}
	assert_int_equal(json_arena_used(), 0);
}

/* A second tree while the first lives: no rewind until both are freed. */
static void
test_overlapping_trees_keep_each_other(void **state)
{
	struct json_doc a, b;
	size_t after_a;

	(void)state;
	parse(&a, request, sizeof(request) - 1);
	after_a = json_arena_used();
	parse(&b, "{\"k\":[\"x\",\"y\"]}", 15);
	assert_true(json_arena_used() > after_a);
	json_doc_free(&a);
	assert_true(json_arena_live() > 0);
	assert_string_equal(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(b.root, "k"), 1)->valuestring,
	    "y");
	json_doc_free(&b);
	assert_int_equal(json_arena_live(), 0);
	assert_int_equal(json_arena_used(), 0);
}

/* A document larger than the arena still parses; the rest comes from malloc. */
static void
test_large_document_falls_back_to_malloc(void **state)
{
	static char text[JSON_ARENA_BYTES * 2];
	size_t len = 0;
	struct json_doc doc;

	(void)state;
	text[len++] = '[';
	for (int i = 0; len + 16 < sizeof(text); i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len, "%s\"s%d\"", i ? "," : "", i);
	text[len++] = ']';
	parse(&doc, text, len);
	assert_true(json_arena_used() <= JSON_ARENA_BYTES);
	assert_true(cJSON_GetArraySize(doc.root) > 1000);
	assert_string_equal(cJSON_GetArrayItem(doc.root, 1000)->valuestring, "s1000");
	json_doc_free(&doc);
	assert_int_equal(json_arena_live(), 0);
	assert_int_equal(json_arena_used(), 0);
}

/* A parse error frees its partial tree: the arena must come back empty. */
static void
test_failed_parse_leaves_arena_empty(void **state)
{
	cJSON *root;

	(void)state;
	root = cJSON_ParseWithLength("{\"a\":[1,2,{\"b\":", 15);
	assert_null(root);
	assert_int_equal(json_arena_live(), 0);
	assert_int_equal(json_arena_used(), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tree_comes_from_arena_and_rewinds),
		cmocka_unit_test(test_repeated_requests_reuse_the_same_bytes),
		cmocka_unit_test(test_overlapping_trees_keep_each_other),
		cmocka_unit_test(test_large_document_falls_back_to_malloc),
		cmocka_unit_test(test_failed_parse_leaves_arena_empty),
	};

	return cmocka_run_group_tests(tests, install, NULL);
}
