/*
 * Unit tests for common/json.c, the document: strict parsing, the source
 * text kept beside the tree, a document far past the inline value spans,
 * and running out of memory.  Exact integers: json_int_test.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/json.h"
#include "tests/unit/address_limit.h"

static int
parse(struct json_doc *doc, const char *text)
{
	return json_doc_parse(doc, text, strlen(text));
}

static void
assert_parses(const char *text)
{
	struct json_doc doc;

	if (parse(&doc, text) != 0)
		fail_msg("json_doc_parse rejected valid JSON: %s", text);
	assert_non_null(doc.root);
	json_doc_free(&doc);
	assert_null(doc.root);
}

static void
assert_rejects(const char *text, size_t len)
{
	struct json_doc doc;

	if (json_doc_parse(&doc, text, len) != -1) {
		json_doc_free(&doc);
		fail_msg("json_doc_parse accepted invalid JSON: %.*s", (int)len, text);
	}
	assert_null(doc.root);
}

#define REJECTS(lit) assert_rejects((lit), sizeof(lit) - 1)

/* --- json_doc_parse --- */

static void
test_parse_accepts_values_of_every_kind(void **state)
{
	(void)state;
	assert_parses("{}");
	assert_parses("[]");
	assert_parses("{\"a\":[1,-2.5e3,true,false,null,\"s\"],\"b\":{}}");
	assert_parses("\"just a string\"");
	assert_parses("42");
}

static void
test_parse_accepts_surrounding_whitespace(void **state)
{
	(void)state;
	assert_parses(" \t\r\n{\"a\":1}");
	assert_parses("{\"a\":1} \t\r\n");
}

static void
test_parse_accepts_utf8_and_escapes(void **state)
{
	(void)state;
	assert_parses("{\"name\":\"Zo\xc3\xab \xf0\x9f\x8e\x89\"}");
	assert_parses("{\"e\":\"\\u00e9\\ud83c\\udf89\\n\\\"\"}");
}

static void
test_parse_rejects_empty_and_blank(void **state)
{
	(void)state;
	REJECTS("");
	REJECTS(" ");
	REJECTS("\n\t");
}

static void
test_parse_rejects_trailing_garbage(void **state)
{
	(void)state;
	REJECTS("{}x");
	REJECTS("{} {}");
	REJECTS("[1]]");
	REJECTS("1 2");
	REJECTS("{\"a\":1}\0");
	REJECTS("{\"a\":1}\0{\"b\":2}");
}

static void
test_parse_rejects_malformed_json(void **state)
{
	(void)state;
	REJECTS("{");
	REJECTS("{\"a\":}");
	REJECTS("{\"a\":1,}");
	REJECTS("[1,]");
	REJECTS("{'a':1}");
	REJECTS("{a:1}");
	REJECTS("NaN");
	REJECTS("+1");
	REJECTS(".5");
	REJECTS("1e");
	REJECTS("tru");
	REJECTS("[\"\\ud800\"]");
}

static void
test_parse_rejects_invalid_utf8(void **state)
{
	(void)state;
	REJECTS("{\"a\":\"\xff\"}");
	REJECTS("{\"a\":\"\xc0\xaf\"}");		/* overlong */
	REJECTS("{\"a\":\"\xed\xa0\x80\"}");		/* encoded surrogate */
	REJECTS("{\"a\":\"\xf4\x90\x80\x80\"}");	/* above U+10FFFF */
	REJECTS("{\"a\":\"\xe2\x82\"}");		/* truncated */
	REJECTS("{\"a\":1}\xff");
}

/*
 * RFC 8259 §7: control characters inside strings must be escaped.  A raw NUL
 * is the dangerous one: cJSON keeps it and every later strlen() silently cuts
 * the string short.
 */
static void
test_parse_rejects_raw_control_characters_in_strings(void **state)
{
	(void)state;
	REJECTS("{\"a\":\"x\ny\"}");
	REJECTS("{\"a\":\"x\ty\"}");
	REJECTS("{\"a\":\"x\0y\"}");
}

/*
 * RFC 8259 §6: no leading zeros, and a fraction needs digits.
 */
static void
test_parse_rejects_lenient_number_forms(void **state)
{
	(void)state;
	REJECTS("01");
	REJECTS("[-01]");
	REJECTS("[1.]");
	REJECTS("[1.e5]");
}

static void
test_parse_keeps_text_and_length(void **state)
{
	const char text[] = "{\"a\":1}";
	struct json_doc doc;

	(void)state;
	assert_int_equal(json_doc_parse(&doc, text, sizeof(text) - 1), 0);
	assert_ptr_equal(doc.text, text);
	assert_int_equal(doc.len, sizeof(text) - 1);
	json_doc_free(&doc);
}

static void
test_parse_honours_length_not_nul(void **state)
{
	const char text[] = "{\"a\":1}garbage";
	struct json_doc doc;

	(void)state;
	assert_int_equal(json_doc_parse(&doc, text, 7), 0);
	json_doc_free(&doc);
}

/* A document far past the inline spans, in a few growth steps of the heap. */
#define MANY_VALUES 5000

/* [9007199254740993, "s0", 9007199254740994, "s1\u0000", ...]: exact and NUL-bearing values. */
static char *
many_values_text(size_t *len)
{
	size_t cap = MANY_VALUES * 40 + 2, n = 0;
	char *text = malloc(cap);

	assert_non_null(text);
	text[n++] = '[';
	for (int i = 0; i < MANY_VALUES; i++)
		n += (size_t)snprintf(text + n, cap - n, "%s%lld,\"s%d%s\"", i ? "," : "",
		    9007199254740993LL + i, i, i % 3 == 0 ? "\\u0000" : "");
	text[n++] = ']';
	*len = n;
	return text;
}

static void
test_doc_reads_every_value_of_a_large_document(void **state)
{
	struct json_doc doc;
	const cJSON *item;
	size_t len, k = 0;
	char *text = many_values_text(&len);
	int64_t v;

	(void)state;
	assert_int_equal(json_doc_parse(&doc, text, len), 0);
	assert_int_equal(doc.nspans, 2 * MANY_VALUES);
	cJSON_ArrayForEach(item, doc.root) {
		int i = (int)(k++ / 2);

		if (cJSON_IsNumber(item)) {
			assert_int_equal(json_doc_int64(&doc, item, &v), JSON_INT_OK);
			assert_true(v == 9007199254740993LL + i);
			assert_false(json_doc_string_has_nul(&doc, item));
		} else {
			assert_int_equal(json_doc_string_has_nul(&doc, item), i % 3 == 0);
			assert_int_equal(json_doc_int64(&doc, item, &v), JSON_INT_NOT_INTEGER);
		}
	}
	assert_int_equal(k, 2 * MANY_VALUES);
	json_doc_free(&doc);
	assert_null(doc.heap);
	free(text);
}

struct parse_attempt {
	const char *text;
	size_t len;
	int rc;
	struct json_doc doc;
};

static void
parse_attempt(void *arg)
{
	struct parse_attempt *a = arg;

	a->rc = json_doc_parse(&a->doc, a->text, a->len);
}

/* 2 MiB of small numbers need 16 MiB of spans; 4 MiB of room is not enough. */
static void
test_doc_parse_reports_out_of_memory(void **state)
{
	size_t n = 1u << 20, len = 2 * n + 1;
	struct parse_attempt a;
	char *text;

	(void)state;
	address_limit_require();
	text = malloc(len);
	assert_non_null(text);
	text[0] = '[';
	for (size_t i = 0; i < n; i++)
		memcpy(text + 1 + 2 * i, i + 1 < n ? "1," : "1]", 2);
	a = (struct parse_attempt){.text = text, .len = len};
	address_limit_run(parse_attempt, &a, 4u << 20);
	assert_int_equal(a.rc, -1);
	assert_true(a.doc.out_of_memory);
	assert_null(a.doc.root);
	assert_null(a.doc.heap);
	json_doc_free(&a.doc);
	/* The same text parses with memory enough; bad JSON is not a memory problem. */
	assert_int_equal(json_doc_parse(&a.doc, text, len), 0);
	assert_false(a.doc.out_of_memory);
	json_doc_free(&a.doc);
	assert_int_equal(json_doc_parse(&a.doc, text, len - 1), -1);
	assert_false(a.doc.out_of_memory);
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_accepts_values_of_every_kind),
		cmocka_unit_test(test_parse_accepts_surrounding_whitespace),
		cmocka_unit_test(test_parse_accepts_utf8_and_escapes),
		cmocka_unit_test(test_parse_rejects_empty_and_blank),
		cmocka_unit_test(test_parse_rejects_trailing_garbage),
		cmocka_unit_test(test_parse_rejects_malformed_json),
		cmocka_unit_test(test_parse_rejects_invalid_utf8),
		cmocka_unit_test(test_parse_rejects_raw_control_characters_in_strings),
		cmocka_unit_test(test_parse_rejects_lenient_number_forms),
		cmocka_unit_test(test_parse_keeps_text_and_length),
		cmocka_unit_test(test_parse_honours_length_not_nul),
		cmocka_unit_test(test_doc_reads_every_value_of_a_large_document),
		cmocka_unit_test(test_doc_parse_reports_out_of_memory),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
