/*
 * Unit tests for common/json.c: strict document parsing and exact 64-bit
 * integers read back from the number's source text.
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

static enum json_int_result
text_to_int(const char *s, int64_t *out)
{
	return json_number_text_to_int64(s, strlen(s), out);
}

static void
assert_int_text(const char *s, int64_t expected)
{
	int64_t v = 12345;

	if (text_to_int(s, &v) != JSON_INT_OK)
		fail_msg("'%s' was not read as an integer", s);
	if (v != expected)
		fail_msg("'%s' read as %lld, expected %lld", s, (long long)v, (long long)expected);
}

static void
assert_int_text_result(const char *s, enum json_int_result expected)
{
	int64_t v = 0;
	enum json_int_result r = text_to_int(s, &v);

	if (r != expected)
		fail_msg("'%s' gave result %d, expected %d", s, (int)r, (int)expected);
}

/* Parses `text` and reads member `key` of the root object exactly. */
static enum json_int_result
doc_member_int(const char *text, const char *key, int64_t *out)
{
	struct json_doc doc;
	enum json_int_result r;
	const cJSON *item;

	assert_int_equal(parse(&doc, text), 0);
	item = cJSON_GetObjectItemCaseSensitive(doc.root, key);
	assert_true(cJSON_IsNumber(item));
	r = json_doc_int64(&doc, item, out);
	json_doc_free(&doc);
	return r;
}

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

/* --- json_number_text_to_int64 --- */

static void
test_int_zero_and_negative_zero(void **state)
{
	(void)state;
	assert_int_text("0", 0);
	assert_int_text("-0", 0);
	assert_int_text("0.0", 0);
	assert_int_text("-0.0e5", 0);
}

static void
test_int_small_values(void **state)
{
	(void)state;
	assert_int_text("1", 1);
	assert_int_text("-1", -1);
	assert_int_text("42", 42);
	assert_int_text("-123456789", -123456789);
}

static void
test_int_extremes_are_exact(void **state)
{
	(void)state;
	assert_int_text("9223372036854775807", INT64_MAX);
	assert_int_text("-9223372036854775808", INT64_MIN);
	assert_int_text("9007199254740993", 9007199254740993LL);
	assert_int_text("-9223372036854775807", -INT64_MAX);
}

static void
test_int_out_of_range(void **state)
{
	(void)state;
	assert_int_text_result("9223372036854775808", JSON_INT_OUT_OF_RANGE);
	assert_int_text_result("-9223372036854775809", JSON_INT_OUT_OF_RANGE);
	assert_int_text_result("18446744073709551616", JSON_INT_OUT_OF_RANGE);
	assert_int_text_result("99999999999999999999999999999", JSON_INT_OUT_OF_RANGE);
}

static void
test_int_fraction_and_exponent_forms_of_two(void **state)
{
	(void)state;
	assert_int_text("2.0", 2);
	assert_int_text("2e0", 2);
	assert_int_text("2E0", 2);
	assert_int_text("20e-1", 2);
	assert_int_text("0.2e1", 2);
	assert_int_text("200e-2", 2);
	assert_int_text("2.000000000000000000000000000000", 2);
	assert_int_text("0.00002e5", 2);
	assert_int_text("0.0000000000000000000000000000002e31", 2);
}

static void
test_int_positive_exponents(void **state)
{
	(void)state;
	assert_int_text("1e2", 100);
	assert_int_text("1E+2", 100);
	assert_int_text("1.5e1", 15);
	assert_int_text("-2.5e3", -2500);
	assert_int_text("1e18", 1000000000000000000LL);
	assert_int_text("9.223372036854775807e18", INT64_MAX);
	assert_int_text("-9.223372036854775808e18", INT64_MIN);
}

static void
test_int_not_integer(void **state)
{
	(void)state;
	assert_int_text_result("2.5", JSON_INT_NOT_INTEGER);
	assert_int_text_result("-0.5", JSON_INT_NOT_INTEGER);
	assert_int_text_result("25e-1", JSON_INT_NOT_INTEGER);
	assert_int_text_result("1.0000000000000000000001", JSON_INT_NOT_INTEGER);
	assert_int_text_result("12345678901234567890e-10", JSON_INT_NOT_INTEGER);
}

static void
test_int_exponent_overflow_out_of_range(void **state)
{
	(void)state;
	assert_int_text_result("1e19", JSON_INT_OUT_OF_RANGE);
	assert_int_text_result("-1e19", JSON_INT_OUT_OF_RANGE);
	assert_int_text_result("9.3e18", JSON_INT_OUT_OF_RANGE);
	assert_int_text_result("1e400", JSON_INT_OUT_OF_RANGE);
	assert_int_text_result("1e999999999999999999999999", JSON_INT_OUT_OF_RANGE);
}

static void
test_int_tiny_values_are_not_integers(void **state)
{
	(void)state;
	assert_int_text_result("1e-400", JSON_INT_NOT_INTEGER);
	assert_int_text_result("-1e-400", JSON_INT_NOT_INTEGER);
	assert_int_text_result("5e-1", JSON_INT_NOT_INTEGER);
	assert_int_text_result("1e-999999999999999999999999", JSON_INT_NOT_INTEGER);
}

static void
test_int_zero_with_huge_exponent_is_zero(void **state)
{
	(void)state;
	assert_int_text("0e999999999999", 0);
	assert_int_text("0e-999999999999", 0);
	assert_int_text("0.000e400", 0);
}

static void
test_int_rejects_non_numbers(void **state)
{
	(void)state;
	assert_int_text_result("", JSON_INT_NOT_INTEGER);
	assert_int_text_result("-", JSON_INT_NOT_INTEGER);
	assert_int_text_result("abc", JSON_INT_NOT_INTEGER);
	assert_int_text_result("1x", JSON_INT_NOT_INTEGER);
	assert_int_text_result("1 ", JSON_INT_NOT_INTEGER);
}

static void
test_int_respects_length(void **state)
{
	int64_t v = 0;

	(void)state;
	assert_int_equal(json_number_text_to_int64("12345", 2, &v), JSON_INT_OK);
	assert_int_equal(v, 12);
}

/* --- json_doc_int64 --- */

static void
test_doc_int_skips_digits_inside_strings(void **state)
{
	int64_t v = 0;

	(void)state;
	assert_int_equal(doc_member_int("{\"x\":\"12\",\"a\":[1,2],\"b\":9007199254740993}", "b", &v),
	    JSON_INT_OK);
	assert_int_equal(v, 9007199254740993LL);
}

static void
test_doc_int_picks_each_of_several_numbers(void **state)
{
	const char *text = "{\"x\":\"12\",\"a\":[1,2],\"b\":9007199254740993}";
	const int64_t expected[] = {1, 2};
	struct json_doc doc;
	const cJSON *item;
	int64_t v;
	size_t i = 0;

	(void)state;
	assert_int_equal(parse(&doc, text), 0);
	cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(doc.root, "a")) {
		assert_int_equal(json_doc_int64(&doc, item, &v), JSON_INT_OK);
		assert_int_equal(v, expected[i]);
		i++;
	}
	assert_int_equal(i, 2);
	json_doc_free(&doc);
}

static void
test_doc_int_skips_escaped_quotes_and_numeric_keys(void **state)
{
	int64_t v = 0;

	(void)state;
	assert_int_equal(doc_member_int("{\"s\":\"a\\\"1,2\\\\\",\"7\":3,\"n\":9223372036854775807}",
	    "n", &v), JSON_INT_OK);
	assert_int_equal(v, INT64_MAX);
	assert_int_equal(doc_member_int("{\"s\":\"a\\\"1,2\\\\\",\"7\":3,\"n\":0}", "7", &v),
	    JSON_INT_OK);
	assert_int_equal(v, 3);
}

static void
test_doc_int_skips_unicode_escapes_and_literals(void **state)
{
	int64_t v = 0;

	(void)state;
	assert_int_equal(doc_member_int("{\"u\":\"\\u0031\\u0032\",\"t\":true,\"z\":null,"
	    "\"n\":-17}", "n", &v), JSON_INT_OK);
	assert_int_equal(v, -17);
}

static void
test_doc_int_nested_numbers_in_document_order(void **state)
{
	const char *text = "{\"a\":{\"b\":[10,{\"c\":20}],\"d\":30},\"e\":40}";
	struct json_doc doc;
	const cJSON *c, *e;
	int64_t v = 0;

	(void)state;
	assert_int_equal(parse(&doc, text), 0);
	c = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(doc.root, "a"), "b"), 1), "c");
	e = cJSON_GetObjectItemCaseSensitive(doc.root, "e");
	assert_int_equal(json_doc_int64(&doc, c, &v), JSON_INT_OK);
	assert_int_equal(v, 20);
	assert_int_equal(json_doc_int64(&doc, e, &v), JSON_INT_OK);
	assert_int_equal(v, 40);
	json_doc_free(&doc);
}

static void
test_doc_int_beyond_double_precision(void **state)
{
	int64_t v = 0;

	(void)state;
	/* As doubles these round to 2^63 and to an even neighbour. */
	assert_int_equal(doc_member_int("{\"n\":9223372036854775807}", "n", &v), JSON_INT_OK);
	assert_int_equal(v, INT64_MAX);
	assert_int_equal(doc_member_int("{\"n\":-9223372036854775808}", "n", &v), JSON_INT_OK);
	assert_int_equal(v, INT64_MIN);
	assert_int_equal(doc_member_int("{\"n\":9007199254740993}", "n", &v), JSON_INT_OK);
	assert_int_equal(v, 9007199254740993LL);
}

static void
test_doc_int_reports_fraction_and_range(void **state)
{
	int64_t v = 0;

	(void)state;
	assert_int_equal(doc_member_int("{\"n\":2.5}", "n", &v), JSON_INT_NOT_INTEGER);
	assert_int_equal(doc_member_int("{\"n\":9223372036854775808}", "n", &v),
	    JSON_INT_OUT_OF_RANGE);
	assert_int_equal(doc_member_int("{\"n\":1E400}", "n", &v), JSON_INT_OUT_OF_RANGE);
	assert_int_equal(doc_member_int("{\"n\":1e-400}", "n", &v), JSON_INT_NOT_INTEGER);
	assert_int_equal(doc_member_int("{\"n\":20e-1}", "n", &v), JSON_INT_OK);
	assert_int_equal(v, 2);
}

static void
test_doc_int_root_number(void **state)
{
	struct json_doc doc;
	int64_t v = 0;

	(void)state;
	assert_int_equal(parse(&doc, " -9223372036854775808 "), 0);
	assert_int_equal(json_doc_int64(&doc, doc.root, &v), JSON_INT_OK);
	assert_int_equal(v, INT64_MIN);
	json_doc_free(&doc);
}

static void
test_doc_int_item_from_another_tree(void **state)
{
	struct json_doc doc;
	cJSON *other = cJSON_CreateNumber(5);
	int64_t v = 0;

	(void)state;
	assert_int_equal(parse(&doc, "{\"n\":5}"), 0);
	assert_int_equal(json_doc_int64(&doc, other, &v), JSON_INT_NOT_INTEGER);
	cJSON_Delete(other);
	json_doc_free(&doc);
}

/* Past the spans kept inside the json_doc, they live on the heap. */
static void
test_doc_int_beyond_inline_spans(void **state)
{
	char text[4096];
	size_t n = 0;
	struct json_doc doc;
	const cJSON *item;
	int64_t v = 0;

	(void)state;
	n += (size_t)snprintf(text + n, sizeof(text) - n, "{\"s\":\"7\",\"a\":[");
	for (int i = 0; i < JSON_DOC_INLINE_SPANS + 10; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "%s%d", i ? "," : "", 1000 + i);
	snprintf(text + n, sizeof(text) - n, "],\"b\":9007199254740993}");
	assert_int_equal(json_doc_parse(&doc, text, strlen(text)), 0);
	item = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(doc.root, "a"), JSON_DOC_INLINE_SPANS - 2);
	assert_int_equal(json_doc_int64(&doc, item, &v), JSON_INT_OK);
	assert_int_equal(v, 1000 + JSON_DOC_INLINE_SPANS - 2);
	item = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(doc.root, "a"), JSON_DOC_INLINE_SPANS + 5);
	assert_int_equal(json_doc_int64(&doc, item, &v), JSON_INT_OK);
	assert_int_equal(v, 1000 + JSON_DOC_INLINE_SPANS + 5);
	assert_int_equal(json_doc_int64(&doc, cJSON_GetObjectItemCaseSensitive(doc.root, "b"), &v), JSON_INT_OK);
	assert_true(v == 9007199254740993LL);
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

/* A copy of an item is not in the document: its valueint names no span of it. */
static void
test_doc_int_refuses_a_copy_of_its_item(void **state)
{
	struct json_doc doc;
	cJSON *copy;
	int64_t v = 0;

	(void)state;
	assert_int_equal(parse(&doc, "[7,\"x\\u0000\"]"), 0);
	copy = cJSON_Duplicate(cJSON_GetArrayItem(doc.root, 0), false);
	assert_non_null(copy);
	assert_int_equal(json_doc_int64(&doc, copy, &v), JSON_INT_NOT_INTEGER);
	cJSON_Delete(copy);
	copy = cJSON_Duplicate(cJSON_GetArrayItem(doc.root, 1), false);
	assert_non_null(copy);
	assert_false(json_doc_string_has_nul(&doc, copy));
	assert_true(json_doc_string_has_nul(&doc, cJSON_GetArrayItem(doc.root, 1)));
	cJSON_Delete(copy);
	json_doc_free(&doc);
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
		cmocka_unit_test(test_int_zero_and_negative_zero),
		cmocka_unit_test(test_int_small_values),
		cmocka_unit_test(test_int_extremes_are_exact),
		cmocka_unit_test(test_int_out_of_range),
		cmocka_unit_test(test_int_fraction_and_exponent_forms_of_two),
		cmocka_unit_test(test_int_positive_exponents),
		cmocka_unit_test(test_int_not_integer),
		cmocka_unit_test(test_int_exponent_overflow_out_of_range),
		cmocka_unit_test(test_int_tiny_values_are_not_integers),
		cmocka_unit_test(test_int_zero_with_huge_exponent_is_zero),
		cmocka_unit_test(test_int_rejects_non_numbers),
		cmocka_unit_test(test_int_respects_length),
		cmocka_unit_test(test_doc_int_skips_digits_inside_strings),
		cmocka_unit_test(test_doc_int_picks_each_of_several_numbers),
		cmocka_unit_test(test_doc_int_skips_escaped_quotes_and_numeric_keys),
		cmocka_unit_test(test_doc_int_skips_unicode_escapes_and_literals),
		cmocka_unit_test(test_doc_int_nested_numbers_in_document_order),
		cmocka_unit_test(test_doc_int_beyond_double_precision),
		cmocka_unit_test(test_doc_int_reports_fraction_and_range),
		cmocka_unit_test(test_doc_int_root_number),
		cmocka_unit_test(test_doc_int_item_from_another_tree),
		cmocka_unit_test(test_doc_int_beyond_inline_spans),
		cmocka_unit_test(test_doc_reads_every_value_of_a_large_document),
		cmocka_unit_test(test_doc_int_refuses_a_copy_of_its_item),
		cmocka_unit_test(test_doc_parse_reports_out_of_memory),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
