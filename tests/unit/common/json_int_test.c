/*
 * Unit tests for common/json.c, exact integers: a number's source text read
 * back as a 64-bit integer (json_number_text_to_int64), and the numbers of a
 * parsed document read through their spans (json_doc_int64).
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

static int
parse(struct json_doc *doc, const char *text)
{
	return json_doc_parse(doc, text, strlen(text));
}

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

int
main(void)
{
	const struct CMUnitTest tests[] = {
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
		cmocka_unit_test(test_doc_int_refuses_a_copy_of_its_item),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
