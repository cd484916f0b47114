/*
 * Fuzz driver for worker/html_text.c and worker/html_text_chars.c: a page
 * from a hostile server made into text, a raw body made safe, and the page
 * of text the fetch tool returns.
 *
 * Input: two control bytes, then the body.  The first picks the cap on the
 * text (a few bytes to unlimited), the second the page's start_index and
 * max_length.  The body is copied into a buffer of its exact size, so
 * AddressSanitizer sees any read past it.
 *
 * Checked on every input: the text is valid UTF-8, holds no NUL and no
 * control character but newline and tab, fits the cap and is at most a
 * constant times the body; a page slice cuts no character and its note
 * names the right next start.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/strbuf.h"
#include "tests/fuzz/fuzz_check.h"
#include "worker/html_text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_clean(const char *s, size_t n)
{
	FUZZ_CHECK(utf8_valid(s, n));
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		FUZZ_CHECK(c >= 0x20 || c == '\n' || c == '\t');
		FUZZ_CHECK(c != 0x7F);
		FUZZ_CHECK(!(c == 0xC2 && i + 1 < n && (unsigned char)s[i + 1] <= 0x9F));
	}
}

static void
check_page(const char *text, size_t len, size_t start, size_t max)
{
	struct html_text_page page;
	bool found = html_text_page(text, len, start, max, &page);
	size_t chars;

	if (!found)
		return;
	FUZZ_CHECK(page.offset < len && page.offset + page.length <= len && page.length > 0);
	FUZZ_CHECK(utf8_valid(text + page.offset, page.length));
	chars = utf8_length(text + page.offset, page.length);
	FUZZ_CHECK(chars <= max);
	FUZZ_CHECK(page.more == (chars == max && page.offset + page.length < len));
	FUZZ_CHECK(!page.more || page.next_start == start + chars);
}

static void
check_text(int rc, struct strbuf *sb, size_t body_len, size_t cap)
{
	FUZZ_CHECK(rc == 0 || rc == 1);
	FUZZ_CHECK(sb->len <= cap);
	FUZZ_CHECK(sb->len <= 16 * body_len + 16);
	check_clean(sb->data != NULL ? sb->data : "", sb->len);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t caps[] = {1, 7, 64, 4096, SIZE_MAX};
	struct strbuf sb;
	size_t cap, start, max, len;
	char *body;
	int rc;

	if (size < 2)
		return 0;
	cap = caps[data[0] % 5];
	start = data[1] & 0x0F;
	max = (data[1] >> 4) + 1;
	len = size - 2;
	body = malloc(len > 0 ? len : 1);
	FUZZ_CHECK(body != NULL);
	memcpy(body, data + 2, len);

	strbuf_init(&sb);
	rc = html_text_render(body, len, cap, &sb);
	check_text(rc, &sb, len, cap);
	check_page(sb.data != NULL ? sb.data : "", sb.len, start, max);
	strbuf_free(&sb);

	strbuf_init(&sb);
	rc = html_text_plain(body, len, cap, &sb);
	check_text(rc, &sb, len, cap);
	strbuf_free(&sb);

	(void)html_text_is_html((data[0] & 0x80) ? "text/html" : NULL, body, len);
	free(body);
	return 0;
}
