/*
 * Unit tests for worker/html_text.c and worker/html_text_chars.c: pages to
 * text (ordinary and hostile), plain bodies, the HTML sniff, pagination,
 * and that the cost grows linearly with the page.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/unit/cpu_ratio.h"
#include "worker/html_text.h"

struct render_case {
	const char *html;
	const char *text;
};

static const struct render_case cases[] = {
	{"", ""},
	{"hello", "hello"},
	{"  a \n\t b  ", "a b"},
	{"<p>one</p><p>two</p>", "one\n\ntwo"},
	{"<div>a</div><div>b</div>", "a\nb"},
	{"a<br>b<br/>c", "a\nb\nc"},
	{"<h1>Title</h1><p>x</p>", "# Title\n\nx"},
	{"<h3>Deep</h3>", "### Deep"},
	{"<ul><li>one</li><li>two</li></ul>", "- one\n- two"},
	{"<ul><li>a<ul><li>b</li></ul></li></ul>", "- a\n  - b"},
	{"<a href=\"https://x.org/a\">link</a>", "[link](https://x.org/a)"},
	{"<a href='/rel?q=1&amp;r=2'>r</a>", "[r](/rel?q=1&r=2)"},
	{"<a href=\"javascript:alert(1)\">j</a>", "j"},
	{"<a href=\"java\nscript:alert(1)\">j</a>", "j"},
	{"<a href=\"&#106;avascript:x\">j</a>", "j"},
	{"<a href=\" JAVASCRIPT:x\">j</a>", "j"},
	{"<a href=\"data:text/html,x\">d</a>", "d"},
	{"<a href=\"HTTP://x/a b(c)\">s</a>", "[s](HTTP://x/a%20b%28c%29)"},
	{"<a href=\"/x\"></a>after", "after"},
	{"<a>plain</a>", "plain"},
	{"<a href=/a>one<a href=/b>two</a>", "[one](/a)[two](/b)"},
	{"<pre>  x\n   y</pre>", "```\n  x\n   y\n```"},
	{"<pre>\nfirst</pre>", "```\nfirst\n```"},
	{"use <code>a  b</code> here", "use `a  b` here"},
	{"<blockquote>q</blockquote>", "> q"},
	{"<blockquote><p>a</p><p>b</p></blockquote>", "> a\n\n> b"},
	{"a<hr>b", "a\n\n---\n\nb"},
	{"<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>", "a | b\nc"},
	{"x<script>alert('<p>')</script>y", "xy"},
	{"x<style>p{}</style>y", "xy"},
	{"x<SCRIPT>a</ScRiPt >y", "xy"},
	{"x<noscript>n</noscript><template>t</template><svg><text>s</text></svg>y", "xy"},
	{"x<svg/>y", "xy"},
	{"x<!-- c --><![CDATA[d]]><?pi x?><!DOCTYPE html>y", "xy"},
	{"x<!-->y", "xy"},
	{"<html><head><title>T</title><meta x></head><body>b</body></html>", "b"},
	{"<head><title>T</title>text", "text"},
	{"<body><nav>menu</nav><main><p>content</p></main><footer>f</footer></body>", "content"},
	{"<div>side</div><article>story</article>", "story"},
	{"<main></main><p>all</p>", "all"},
	{"&amp;&lt;&gt;&quot;&apos;&copy;&reg;&hellip;&mdash;&ndash;", "&<>\"'\xC2\xA9\xC2\xAE\xE2\x80\xA6\xE2\x80\x94\xE2\x80\x93"},
	{"&lsquo;&rsquo;&ldquo;&rdquo;&euro;", "\xE2\x80\x98\xE2\x80\x99\xE2\x80\x9C\xE2\x80\x9D\xE2\x82\xAC"},
	{"a&nbsp;b", "a b"},
	{"&#65;&#x42;&#X43;&#68", "ABCD"},
	{"&#0;&#xD800;&#x110000;&#99999999999999999999;", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"},
	{"&#1;&#x7f;&#x85;", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"},
	{"&unknown; &amp &# &#x; &", "&unknown; & &# &#x; &"},
	{"a\x01\x7f" "b", "ab"},
	{"\xff\xc0\x80\xed\xa0\x80ok", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBDok"},
	{"caf\xC3\xA9 \xF0\x9F\x98\x80", "caf\xC3\xA9 \xF0\x9F\x98\x80"},
	{"a < b and c<3", "a < b and c<3"},
	{"<p class=\"a>b\">text</p>", "text"},
	{"<p title=x>y</p>", "y"},
	{"<div unclosed", ""},
	{"<div class=\"never closed>text", ""},
	{"x<!-- never closed", "x"},
	{"x<script>never closed", "x"},
	{"</>x</ bogus>y", "xy"},
	{"<p>a\r\nb</p>", "a b"},
	{"<pre>a\r\nb</pre>", "```\na\nb\n```"},
	{"<pre>unclosed", "```\nunclosed\n```"},
	{"<averyveryverylongtagname>x</averyveryverylongtagname>", "x"},
	{"<h2>A <a href=\"#s\">link</a></h2><ul><li><p>item</p></li></ul>",
	    "## A [link](#s)\n\n- item"},
	{"\xC2\x85x\x00y", "xy"},
};

static char *
render(const char *html, size_t len, size_t cap, int *rc)
{
	struct strbuf sb;
	char *text;

	strbuf_init(&sb);
	*rc = html_text_render(html, len, cap, &sb);
	text = strbuf_detach(&sb, NULL);
	assert_non_null(text);
	return text;
}

/* The text promises: valid UTF-8, no NUL, no control character but \n and \t. */
static void
assert_clean(const char *s, size_t n)
{
	assert_true(utf8_valid(s, n));
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		assert_true(c >= 0x20 || c == '\n' || c == '\t');
		assert_true(c != 0x7f);
		if (c == 0xC2 && i + 1 < n)
			assert_false((unsigned char)s[i + 1] >= 0x80 && (unsigned char)s[i + 1] <= 0x9F);
	}
}

static void
test_render_cases(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = strlen(cases[i].html);
		int rc;
		char *text;

		if (i == sizeof(cases) / sizeof(cases[0]) - 1)
			len = 6;	/* the last case holds a NUL */
		text = render(cases[i].html, len, 1 << 20, &rc);
		if (strcmp(text, cases[i].text) != 0)
			fail_msg("case %zu: %s\nwant: [%s]\ngot:  [%s]", i, cases[i].html, cases[i].text, text);
		assert_int_equal(rc, 0);
		assert_clean(text, strlen(text));
		free(text);
	}
}

static void
test_cap_cuts_at_a_character(void **state)
{
	int rc;
	char *text = render("\xC3\xA9\xC3\xA9\xC3\xA9", 6, 3, &rc);

	(void)state;
	assert_string_equal(text, "\xC3\xA9");
	assert_int_equal(rc, 1);
	free(text);
	text = render("<p>abcdef</p>", 13, 6, &rc);
	assert_string_equal(text, "abcdef");
	free(text);
}

static char *
repeat(const char *piece, size_t times, size_t *len)
{
	size_t k = strlen(piece);
	char *s = malloc(k * times + 1);

	assert_non_null(s);
	for (size_t i = 0; i < times; i++)
		memcpy(s + i * k, piece, k);
	s[k * times] = '\0';
	*len = k * times;
	return s;
}

/* Hostile shapes: a million of each, bounded output, clean text. */
static void
test_hostile_pages(void **state)
{
	static const char *pieces[] = {"<div>", "&amp;", "<a href=/x>", "<li>", "<blockquote>", "<pre>",
	    "<", "<!--", "<p x='>", "\xff", "<hr>", "&#x10FFFF;", "<td>", "<code>", "</a>", "<blockquote><pre>\n\n\n\n", "<ul><li>x"};

	(void)state;
	for (size_t p = 0; p < sizeof(pieces) / sizeof(pieces[0]); p++) {
		size_t len;
		char *html = repeat(pieces[p], 1000000 / strlen(pieces[p]), &len);
		int rc;
		char *text = render(html, len, 65536, &rc);
		size_t n = strlen(text);

		assert_true(n <= 65536);
		assert_clean(text, n);
		free(text);
		text = render(html, len, SIZE_MAX, &rc);	/* uncapped: a constant times the page */
		assert_int_equal(rc, 0);
		assert_true(strlen(text) <= 16 * len + 16);
		assert_clean(text, strlen(text));
		free(text);
		free(html);
	}
}

struct sized_page {
	char *html;
	size_t len;
};

static void
render_step(void *arg)
{
	struct sized_page *page = arg;
	int rc;

	free(render(page->html, page->len, 1 << 26, &rc));
}

static void
test_linear_time(void **state)
{
	static const char *pieces[] = {"<div>", "&amp;", "<li><a href=/x>a</a>", "<p x='>'"};

	(void)state;
	cpu_ratio_keep_memory();
	for (size_t p = 0; p < sizeof(pieces) / sizeof(pieces[0]); p++) {
		struct sized_page small, large;

		small.html = repeat(pieces[p], 20000, &small.len);
		large.html = repeat(pieces[p], 200000, &large.len);
		assert_cpu_linear(pieces[p], render_step, &small, small.len, &large, large.len);
		free(small.html);
		free(large.html);
	}
}

static void
test_plain(void **state)
{
	struct strbuf sb;

	(void)state;
	strbuf_init(&sb);
	assert_int_equal(html_text_plain("a\r\nb\rc\x01\xff<p>", 11, 100, &sb), 0);
	assert_string_equal(sb.data, "a\nb\nc\xEF\xBF\xBD<p>");
	strbuf_free(&sb);
	strbuf_init(&sb);
	assert_int_equal(html_text_plain("\xC3\xA9\xC3\xA9", 4, 3, &sb), 1);
	assert_string_equal(sb.data, "\xC3\xA9");
	strbuf_free(&sb);
}

static void
test_is_html(void **state)
{
	(void)state;
	assert_true(html_text_is_html("text/html; charset=utf-8", "", 0));
	assert_true(html_text_is_html(" Text/HTML", "", 0));
	assert_true(html_text_is_html("application/xhtml+xml", "", 0));
	assert_false(html_text_is_html("text/plain", "<html>", 6));
	assert_false(html_text_is_html("text/htmlx", "", 0));
	assert_true(html_text_is_html(NULL, "<!DOCTYPE html>", 15));
	assert_true(html_text_is_html("", "\xEF\xBB\xBF \n<html lang=en>", 21));
	assert_true(html_text_is_html(NULL, "<HTML", 5));
	assert_false(html_text_is_html(NULL, "<htmlx>", 7));
	assert_false(html_text_is_html(NULL, "{\"a\":1}", 7));
	assert_false(html_text_is_html(NULL, "", 0));
}

static void
test_pages(void **state)
{
	const char *text = "h\xC3\xA9llo w\xC3\xB6rld";	/* 11 characters, 13 bytes */
	struct html_text_page page;
	struct strbuf sb;

	(void)state;
	assert_true(html_text_page(text, 13, 0, 5, &page));
	assert_int_equal(page.offset, 0);
	assert_int_equal(page.length, 6);
	assert_true(page.more);
	assert_int_equal(page.next_start, 5);
	strbuf_init(&sb);
	html_text_page_append(&sb, text, &page, true);
	assert_string_equal(sb.data, "h\xC3\xA9llo\n\n<error>Content truncated. Call the fetch tool with a "
	    "start_index of 5 to get more content.</error>");
	strbuf_free(&sb);
	assert_true(html_text_page(text, 13, 5, 100, &page));
	assert_int_equal(page.offset, 6);
	assert_int_equal(page.length, 7);
	assert_false(page.more);
	assert_true(html_text_page(text, 13, 6, 5, &page));	/* exactly the rest: no note */
	assert_false(page.more);
	assert_false(html_text_page(text, 13, 11, 5, &page));
	assert_false(html_text_page(text, 13, 50, 5, &page));
	assert_false(html_text_page(text, 13, 0, 0, &page));
	strbuf_init(&sb);
	html_text_page_append(&sb, text, &page, false);
	assert_string_equal(sb.data, HTML_TEXT_NO_MORE);
	strbuf_free(&sb);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_render_cases),
		cmocka_unit_test(test_cap_cuts_at_a_character),
		cmocka_unit_test(test_hostile_pages),
		cmocka_unit_test(test_linear_time),
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_is_html),
		cmocka_unit_test(test_pages),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
