/*
 * Unit tests for common/strbuf.c: heap growth, fixed-buffer truncation,
 * JSON string escaping and UTF-8 validation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common/strbuf.h"

/* Escapes s[0..n) into a fresh heap buffer and returns the detached text. */
static char *
escape(const char *s, size_t n)
{
	struct strbuf sb;
	char *out;

	strbuf_init(&sb);
	strbuf_json_string(&sb, s, n);
	assert_true(strbuf_ok(&sb));
	out = strbuf_detach(&sb, NULL);
	assert_non_null(out);
	return out;
}

static void
assert_escapes_to(const char *in, size_t n, const char *expected)
{
	char *out = escape(in, n);

	assert_string_equal(out, expected);
	free(out);
}

/* --- heap buffers --- */

static void
test_heap_starts_empty_and_detaches_empty_string(void **state)
{
	struct strbuf sb;
	size_t len = 99;
	char *out;

	(void)state;
	strbuf_init(&sb);
	assert_int_equal(sb.len, 0);
	out = strbuf_detach(&sb, &len);
	assert_non_null(out);
	assert_int_equal(len, 0);
	assert_string_equal(out, "");
	assert_null(sb.data);
	free(out);
}

static void
test_heap_grows_past_initial_capacity(void **state)
{
	struct strbuf sb;
	char chunk[100];
	size_t len;
	char *out;

	(void)state;
	memset(chunk, 'x', sizeof(chunk));
	strbuf_init(&sb);
	for (int i = 0; i < 1000; i++)
		strbuf_append(&sb, chunk, sizeof(chunk));
	assert_true(strbuf_ok(&sb));
	assert_int_equal(sb.len, 100000);
	assert_true(sb.cap > sb.len);
	out = strbuf_detach(&sb, &len);
	assert_int_equal(len, 100000);
	assert_int_equal(strlen(out), 100000);
	for (size_t i = 0; i < len; i++)
		assert_int_equal(out[i], 'x');
	free(out);
}

static void
test_heap_keeps_nul_terminated_after_every_append(void **state)
{
	struct strbuf sb;

	(void)state;
	strbuf_init(&sb);
	strbuf_puts(&sb, "ab");
	assert_string_equal(sb.data, "ab");
	strbuf_putc(&sb, 'c');
	assert_string_equal(sb.data, "abc");
	strbuf_append(&sb, "defgh", 2);
	assert_string_equal(sb.data, "abcde");
	assert_int_equal(sb.len, 5);
	strbuf_free(&sb);
	assert_null(sb.data);
}

static void
test_printf_short_and_long_output(void **state)
{
	struct strbuf sb;
	char big[1000];

	(void)state;
	memset(big, 'y', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	strbuf_init(&sb);
	strbuf_printf(&sb, "n=%d,s=%s;", 42, "hi");
	assert_string_equal(sb.data, "n=42,s=hi;");
	/* Longer than printf's 256-byte stack buffer: takes the second path. */
	strbuf_printf(&sb, "[%s]", big);
	assert_true(strbuf_ok(&sb));
	assert_int_equal(sb.len, 10 + 1 + 999 + 1);
	assert_int_equal(sb.data[10], '[');
	assert_int_equal(sb.data[sb.len - 1], ']');
	assert_int_equal(sb.data[sb.len], '\0');
	strbuf_free(&sb);
}

static void
test_int_writes_extremes(void **state)
{
	struct strbuf sb;

	(void)state;
	strbuf_init(&sb);
	strbuf_int(&sb, 0);
	strbuf_putc(&sb, ' ');
	strbuf_int(&sb, INT64_MAX);
	strbuf_putc(&sb, ' ');
	strbuf_int(&sb, INT64_MIN);
	assert_string_equal(sb.data, "0 9223372036854775807 -9223372036854775808");
	strbuf_free(&sb);
}

/* --- fixed buffers --- */

static void
test_fixed_fits_exactly_without_truncation(void **state)
{
	struct strbuf sb;
	char storage[6];

	(void)state;
	strbuf_init_fixed(&sb, storage, sizeof(storage));
	assert_string_equal(storage, "");
	strbuf_puts(&sb, "hello");	/* 5 bytes + NUL = 6 */
	assert_true(strbuf_ok(&sb));
	assert_false(sb.truncated);
	assert_string_equal(storage, "hello");
}

static void
test_fixed_truncates_keeping_what_fits(void **state)
{
	struct strbuf sb;
	char storage[8];

	(void)state;
	strbuf_init_fixed(&sb, storage, sizeof(storage));
	strbuf_puts(&sb, "abc");
	strbuf_puts(&sb, "defghijk");
	assert_true(sb.truncated);
	assert_false(sb.failed);
	assert_false(strbuf_ok(&sb));
	assert_int_equal(sb.len, 7);
	assert_string_equal(storage, "abcdefg");
	/* Further appends change nothing and keep the flag. */
	strbuf_putc(&sb, 'z');
	assert_true(sb.truncated);
	assert_string_equal(storage, "abcdefg");
}

static void
test_fixed_never_writes_past_capacity(void **state)
{
	char storage[16];
	struct strbuf sb;

	(void)state;
	memset(storage, '#', sizeof(storage));
	strbuf_init_fixed(&sb, storage, 10);
	strbuf_puts(&sb, "0123456789abcdef");
	assert_true(sb.truncated);
	assert_string_equal(storage, "012345678");
	for (size_t i = 10; i < sizeof(storage); i++)
		assert_int_equal(storage[i], '#');
}

/*
 * The header promises that a fixed buffer "keeps what fits"; printf output
 * longer than its 256-byte stack buffer goes through another path.
 */
static void
test_fixed_printf_long_output_keeps_what_fits(void **state)
{
	char storage[32], big[400];
	struct strbuf sb;

	(void)state;
	memset(big, 'q', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	strbuf_init_fixed(&sb, storage, sizeof(storage));
	strbuf_printf(&sb, "%s", big);
	assert_true(sb.truncated);
	assert_int_equal(sb.len, sizeof(storage) - 1);
	assert_int_equal(strlen(storage), sizeof(storage) - 1);
	assert_int_equal(storage[0], 'q');
}

static void
test_fixed_detach_returns_null(void **state)
{
	char storage[8];
	struct strbuf sb;

	(void)state;
	strbuf_init_fixed(&sb, storage, sizeof(storage));
	strbuf_puts(&sb, "abc");
	assert_null(strbuf_detach(&sb, NULL));
}

static void
test_fixed_json_string_truncates(void **state)
{
	char storage[10];
	struct strbuf sb;

	(void)state;
	strbuf_init_fixed(&sb, storage, sizeof(storage));
	strbuf_json_string(&sb, "abcdefghijklmnop", 16);
	assert_true(sb.truncated);
	assert_int_equal(sb.len, 9);
	assert_memory_equal(storage, "\"abcdefgh", 10);
}

/* --- JSON string escaping --- */

static void
test_escape_plain_ascii_unchanged(void **state)
{
	(void)state;
	assert_escapes_to("hello world", 11, "\"hello world\"");
	assert_escapes_to("", 0, "\"\"");
}

static void
test_escape_quote_and_backslash(void **state)
{
	(void)state;
	assert_escapes_to("a\"b\\c", 5, "\"a\\\"b\\\\c\"");
	assert_escapes_to("/", 1, "\"/\"");
}

static void
test_escape_named_control_characters(void **state)
{
	(void)state;
	assert_escapes_to("\n\r\t", 3, "\"\\n\\r\\t\"");
}

static void
test_escape_other_control_characters_as_u00xx(void **state)
{
	(void)state;
	assert_escapes_to("\x01\x1f\b\f", 4, "\"\\u0001\\u001f\\u0008\\u000c\"");
	assert_escapes_to("a\0b", 3, "\"a\\u0000b\"");
}

static void
test_escape_del_is_kept(void **state)
{
	(void)state;
	/* 0x7f is not a control character for JSON (RFC 8259 §7). */
	assert_escapes_to("\x7f", 1, "\"\x7f\"");
}

static void
test_escape_keeps_valid_multibyte_utf8(void **state)
{
	(void)state;
	assert_escapes_to("Zo\xc3\xab", 4, "\"Zo\xc3\xab\"");			/* ë */
	assert_escapes_to("\xe2\x82\xac", 3, "\"\xe2\x82\xac\"");		/* € */
	assert_escapes_to("\xf0\x9f\x8e\x89!", 5, "\"\xf0\x9f\x8e\x89!\"");	/* 🎉 */
	assert_escapes_to("\xf4\x8f\xbf\xbf", 4, "\"\xf4\x8f\xbf\xbf\"");	/* U+10FFFF */
}

static void
test_escape_invalid_bytes_become_replacement(void **state)
{
	(void)state;
	assert_escapes_to("a\xff" "b", 3, "\"a\\ufffdb\"");
	assert_escapes_to("\x80", 1, "\"\\ufffd\"");
	assert_escapes_to("\xc0\xaf", 2, "\"\\ufffd\\ufffd\"");		/* overlong '/' */
	assert_escapes_to("\xed\xa0\x80", 3, "\"\\ufffd\\ufffd\\ufffd\"");	/* D800 */
}

static void
test_escape_truncated_sequence_at_end(void **state)
{
	(void)state;
	assert_escapes_to("ok\xe2\x82", 4, "\"ok\\ufffd\\ufffd\"");
	assert_escapes_to("\xf0\x9f\x8e", 3, "\"\\ufffd\\ufffd\\ufffd\"");
}

static void
test_escape_does_not_read_past_length(void **state)
{
	/* "\xe2" then bytes beyond n that would complete the sequence. */
	const char buf[] = "\xe2\x82\xac";

	(void)state;
	assert_escapes_to(buf, 1, "\"\\ufffd\"");
}

static void
test_escape_appends_to_existing_content(void **state)
{
	struct strbuf sb;

	(void)state;
	strbuf_init(&sb);
	strbuf_puts(&sb, "{\"k\":");
	strbuf_json_string(&sb, "v\"", 2);
	strbuf_putc(&sb, '}');
	assert_string_equal(sb.data, "{\"k\":\"v\\\"\"}");
	strbuf_free(&sb);
}

/* --- utf8_valid --- */

static void
test_utf8_accepts_ascii_and_empty(void **state)
{
	(void)state;
	assert_true(utf8_valid("", 0));
	assert_true(utf8_valid("plain ascii\x7f", 12));
	assert_true(utf8_valid("a\0b", 3));
}

static void
test_utf8_accepts_boundaries(void **state)
{
	(void)state;
	assert_true(utf8_valid("\xc2\x80", 2));		/* U+0080 */
	assert_true(utf8_valid("\xdf\xbf", 2));		/* U+07FF */
	assert_true(utf8_valid("\xe0\xa0\x80", 3));	/* U+0800 */
	assert_true(utf8_valid("\xed\x9f\xbf", 3));	/* U+D7FF */
	assert_true(utf8_valid("\xee\x80\x80", 3));	/* U+E000 */
	assert_true(utf8_valid("\xef\xbf\xbf", 3));	/* U+FFFF */
	assert_true(utf8_valid("\xf0\x90\x80\x80", 4));	/* U+10000 */
	assert_true(utf8_valid("\xf4\x8f\xbf\xbf", 4));	/* U+10FFFF */
}

static void
test_utf8_rejects_overlongs(void **state)
{
	(void)state;
	assert_false(utf8_valid("\xc0\x80", 2));
	assert_false(utf8_valid("\xc1\xbf", 2));
	assert_false(utf8_valid("\xe0\x80\x80", 3));
	assert_false(utf8_valid("\xe0\x9f\xbf", 3));
	assert_false(utf8_valid("\xf0\x80\x80\x80", 4));
	assert_false(utf8_valid("\xf0\x8f\xbf\xbf", 4));
}

static void
test_utf8_rejects_encoded_surrogates(void **state)
{
	(void)state;
	assert_false(utf8_valid("\xed\xa0\x80", 3));	/* U+D800 */
	assert_false(utf8_valid("\xed\xaf\xbf", 3));	/* U+DBFF */
	assert_false(utf8_valid("\xed\xb0\x80", 3));	/* U+DC00 */
	assert_false(utf8_valid("\xed\xbf\xbf", 3));	/* U+DFFF */
}

static void
test_utf8_rejects_above_max_code_point(void **state)
{
	(void)state;
	assert_false(utf8_valid("\xf4\x90\x80\x80", 4));	/* U+110000 */
	assert_false(utf8_valid("\xf5\x80\x80\x80", 4));
	assert_false(utf8_valid("\xf8\x88\x80\x80\x80", 5));
	assert_false(utf8_valid("\xfe", 1));
	assert_false(utf8_valid("\xff", 1));
}

static void
test_utf8_rejects_truncated_sequences(void **state)
{
	(void)state;
	assert_false(utf8_valid("\xc3", 1));
	assert_false(utf8_valid("\xe2\x82", 2));
	assert_false(utf8_valid("\xf0\x9f\x8e", 3));
	assert_false(utf8_valid("a\xf0\x9f", 3));
	/* The length bounds the check even when more bytes follow in memory. */
	assert_false(utf8_valid("\xe2\x82\xac", 2));
}

static void
test_utf8_rejects_bad_continuation_bytes(void **state)
{
	(void)state;
	assert_false(utf8_valid("\x80", 1));
	assert_false(utf8_valid("\xbf", 1));
	assert_false(utf8_valid("\xc3\x28", 2));
	assert_false(utf8_valid("\xe2\x28\xa1", 3));
	assert_false(utf8_valid("\xe2\x82\x28", 3));
	assert_false(utf8_valid("\xf0\x9f\x8e\x28", 4));
	assert_false(utf8_valid("\xc3\xc3", 2));
}

/* The 8-byte ASCII stride must hand every other byte to the full check. */
static void
test_utf8_checks_bytes_after_ascii_runs(void **state)
{
	static const char good[] = "0123456789abcdef\xe2\x82\xac" "0123456789";
	char buf[40];

	(void)state;
	assert_true(utf8_valid(good, sizeof(good) - 1));
	for (size_t at = 0; at < 32; at++) {
		memset(buf, 'a', sizeof(buf));
		buf[at] = (char)0xff;
		assert_false(utf8_valid(buf, sizeof(buf)));
		buf[at] = (char)0xc3;	/* a lead byte whose continuation is ASCII */
		assert_false(utf8_valid(buf, sizeof(buf)));
	}
	/* A truncated sequence as the very last byte after whole words. */
	memcpy(buf, "abcdefghabcdefgh\xc3", 17);
	assert_false(utf8_valid(buf, 17));
}

/* Escapes that follow long plain runs and multi-byte characters. */
static void
test_escape_mixes_runs_and_escapes(void **state)
{
	static const char in[] = "plain text \"quoted\" \xc3\xa9\\ \x01\xff end";
	struct strbuf sb;

	(void)state;
	strbuf_init(&sb);
	strbuf_json_string(&sb, in, sizeof(in) - 1);
	assert_string_equal(sb.data, "\"plain text \\\"quoted\\\" \xc3\xa9\\\\ \\u0001\\ufffd end\"");
	strbuf_free(&sb);
}

static void
test_int_writes_every_magnitude(void **state)
{
	char expect[64];
	struct strbuf sb;
	long long v = 1;

	(void)state;
	for (int digits = 1; digits <= 18; digits++, v *= 10) {
		strbuf_init(&sb);
		strbuf_int(&sb, v - 1);
		strbuf_putc(&sb, ' ');
		strbuf_int(&sb, -v);
		snprintf(expect, sizeof(expect), "%lld %lld", v - 1, -v);
		assert_string_equal(sb.data, expect);
		strbuf_free(&sb);
	}
}

static void
test_copy_truncated_cuts_and_terminates(void **state)
{
	char dst[6];

	(void)state;
	memset(dst, 'x', sizeof(dst));
	str_copy_truncated(dst, sizeof(dst), "tools/call");
	assert_string_equal(dst, "tools");
	str_copy_truncated(dst, sizeof(dst), "ping");
	assert_string_equal(dst, "ping");
	str_copy_truncated(dst, sizeof(dst), "");
	assert_string_equal(dst, "");
	str_copy_truncated(dst, 1, "anything");
	assert_string_equal(dst, "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_heap_starts_empty_and_detaches_empty_string),
		cmocka_unit_test(test_heap_grows_past_initial_capacity),
		cmocka_unit_test(test_heap_keeps_nul_terminated_after_every_append),
		cmocka_unit_test(test_printf_short_and_long_output),
		cmocka_unit_test(test_int_writes_extremes),
		cmocka_unit_test(test_fixed_fits_exactly_without_truncation),
		cmocka_unit_test(test_fixed_truncates_keeping_what_fits),
		cmocka_unit_test(test_fixed_never_writes_past_capacity),
		cmocka_unit_test(test_fixed_printf_long_output_keeps_what_fits),
		cmocka_unit_test(test_fixed_detach_returns_null),
		cmocka_unit_test(test_fixed_json_string_truncates),
		cmocka_unit_test(test_escape_plain_ascii_unchanged),
		cmocka_unit_test(test_escape_quote_and_backslash),
		cmocka_unit_test(test_escape_named_control_characters),
		cmocka_unit_test(test_escape_other_control_characters_as_u00xx),
		cmocka_unit_test(test_escape_del_is_kept),
		cmocka_unit_test(test_escape_keeps_valid_multibyte_utf8),
		cmocka_unit_test(test_escape_invalid_bytes_become_replacement),
		cmocka_unit_test(test_escape_truncated_sequence_at_end),
		cmocka_unit_test(test_escape_does_not_read_past_length),
		cmocka_unit_test(test_escape_appends_to_existing_content),
		cmocka_unit_test(test_utf8_accepts_ascii_and_empty),
		cmocka_unit_test(test_utf8_accepts_boundaries),
		cmocka_unit_test(test_utf8_rejects_overlongs),
		cmocka_unit_test(test_utf8_rejects_encoded_surrogates),
		cmocka_unit_test(test_utf8_rejects_above_max_code_point),
		cmocka_unit_test(test_utf8_rejects_truncated_sequences),
		cmocka_unit_test(test_utf8_rejects_bad_continuation_bytes),
		cmocka_unit_test(test_utf8_checks_bytes_after_ascii_runs),
		cmocka_unit_test(test_escape_mixes_runs_and_escapes),
		cmocka_unit_test(test_int_writes_every_magnitude),
		cmocka_unit_test(test_copy_truncated_cuts_and_terminates),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
