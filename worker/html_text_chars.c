/* Runs in: workers, after the sandbox (the fetch tool). */
/*
 * The characters of a page, and the operations on the text as a whole that
 * count characters: plain bodies made safe, the HTML sniff, pagination.
 */
#include "worker/html_text_chars.h"

#include "worker/html_text.h"

struct entity {
	const char *name;
	uint32_t cp;
	bool legacy;	/* also recognised without its semicolon */
};

static const struct entity entities[] = {
	{"amp", '&', true}, {"lt", '<', true}, {"gt", '>', true}, {"quot", '"', true},
	{"apos", '\'', false}, {"nbsp", 0xA0, true}, {"copy", 0xA9, true}, {"reg", 0xAE, true},
	{"hellip", 0x2026, false}, {"mdash", 0x2014, false}, {"ndash", 0x2013, false},
	{"lsquo", 0x2018, false}, {"rsquo", 0x2019, false}, {"ldquo", 0x201C, false},
	{"rdquo", 0x201D, false}, {"euro", 0x20AC, false}, {"trade", 0x2122, false},
	{"laquo", 0xAB, true}, {"raquo", 0xBB, true}, {"middot", 0xB7, true}, {"bull", 0x2022, false},
	{"times", 0xD7, true}, {"deg", 0xB0, true}, {"sect", 0xA7, true}, {"para", 0xB6, true},
	{"shy", 0xAD, true}, {"pound", 0xA3, true}, {"yen", 0xA5, true}, {"cent", 0xA2, true},
	{"zwj", 0x200D, false}, {"zwnj", 0x200C, false}, {"thinsp", 0x2009, false},
	{"ensp", 0x2002, false}, {"emsp", 0x2003, false}, {"larr", 0x2190, false},
	{"rarr", 0x2192, false}, {"uarr", 0x2191, false}, {"darr", 0x2193, false},
};

uint32_t
html_sanitize(uint32_t cp)
{
	if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return HTML_REPLACEMENT;
	if ((cp < 0x20 && cp != '\t' && cp != '\n') || (cp >= 0x7F && cp <= 0x9F))
		return HTML_REPLACEMENT;
	return cp;
}

size_t
html_utf8_encode(uint32_t cp, char *b)
{
	if (cp < 0x80)
		return b[0] = (char)cp, 1;
	if (cp < 0x800)
		return b[0] = (char)(0xC0 | cp >> 6), b[1] = (char)(0x80 | (cp & 0x3F)), 2;
	if (cp < 0x10000) {
		b[0] = (char)(0xE0 | cp >> 12), b[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		return b[2] = (char)(0x80 | (cp & 0x3F)), 3;
	}
	b[0] = (char)(0xF0 | cp >> 18), b[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
	b[2] = (char)(0x80 | ((cp >> 6) & 0x3F)), b[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

/*
 * Decodes one well-formed UTF-8 character at s[0..n) (RFC 3629: no overlong
 * forms, surrogates or code points past U+10FFFF).  Returns its code point
 * and length, or HTML_REPLACEMENT and 1 for a byte that starts no such character.
 */
uint32_t
html_utf8_decode(const unsigned char *s, size_t n, size_t *used)
{
	uint32_t cp;
	size_t k;

	*used = 1;
	if (s[0] < 0x80)
		return s[0];
	if (s[0] >= 0xC2 && s[0] <= 0xDF)
		cp = s[0] & 0x1F, k = 2;
	else if (s[0] >= 0xE0 && s[0] <= 0xEF)
		cp = s[0] & 0x0F, k = 3;
	else if (s[0] >= 0xF0 && s[0] <= 0xF4)
		cp = s[0] & 0x07, k = 4;
	else
		return HTML_REPLACEMENT;
	if (n < k)
		return HTML_REPLACEMENT;
	for (size_t j = 1; j < k; j++) {
		if ((s[j] & 0xC0) != 0x80)
			return HTML_REPLACEMENT;
		cp = cp << 6 | (s[j] & 0x3F);
	}
	if ((k == 3 && cp < 0x800) || (k == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
	    (cp >= 0xD800 && cp <= 0xDFFF))
		return HTML_REPLACEMENT;
	*used = k;
	return cp;
}

/* &#...; with s at the '#'.  The value saturates, so long digit runs cannot overflow. */
static uint32_t
html_numeric_ref(const char *s, size_t n, size_t *used)
{
	bool hex = n > 1 && html_lower((unsigned char)s[1]) == 'x';
	size_t j = hex ? 2 : 1, start = j;
	uint32_t v = 0;

	for (; j < n; j++) {
		unsigned char c = html_lower((unsigned char)s[j]);
		unsigned d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (hex && c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else
			break;
		v = v > 0x10FFFF ? v : v * (hex ? 16 : 10) + d;
	}
	if (j == start)
		return HTML_NO_REF;
	*used = j + (j < n && s[j] == ';');
	return html_sanitize(v);
}

/*
 * A character reference at s[0..n) (s[0] is '&'): its code point and
 * length, or HTML_NO_REF when it is none and the '&' is a plain character.
 */
uint32_t
html_char_ref(const char *s, size_t n, size_t *used)
{
	size_t k = 1;

	if (n > 1 && s[1] == '#') {
		uint32_t cp = html_numeric_ref(s + 1, n - 1, used);

		*used += 1;
		return cp;
	}
	while (k < n && k < 12 && html_is_alnum((unsigned char)s[k]))
		k++;
	for (size_t e = 0; e < sizeof(entities) / sizeof(entities[0]); e++) {
		size_t len = strlen(entities[e].name);

		if (len != k - 1 || memcmp(s + 1, entities[e].name, len) != 0)
			continue;
		if (k < n && s[k] == ';')
			return *used = k + 1, entities[e].cp;
		if (entities[e].legacy && (k >= n || s[k] != '='))
			return *used = k, entities[e].cp;
	}
	return HTML_NO_REF;
}

int
html_text_plain(const char *body, size_t len, size_t cap, struct strbuf *out)
{
	size_t base = out->len, j = 0, used;

	while (j < len && out->len - base < cap && !out->failed) {
		uint32_t cp = html_utf8_decode((const unsigned char *)body + j, len - j, &used);
		char b[4];

		j += used;
		if (cp == '\r' && j < len && body[j] == '\n')
			continue;	/* the LF that follows is the line's end */
		cp = cp == '\r' ? '\n' : cp;
		if (html_sanitize(cp) == HTML_REPLACEMENT && cp != HTML_REPLACEMENT)
			continue;	/* a control character: dropped, as the page would not show it */
		strbuf_append(out, b, html_utf8_encode(cp, b));
	}
	if (out->failed)
		return -1;
	if (out->len - base <= cap)
		return j < len ? 1 : 0;
	out->len = base + cap;
	while (out->len > base && ((unsigned char)out->data[out->len] & 0xC0) == 0x80)
		out->len--;
	out->data[out->len] = '\0';
	return 1;
}

/* The media type of a Content-Type, before any parameters, is `type`. */
static bool
media_type_is(const char *ct, const char *type)
{
	size_t n = strlen(type);

	while (*ct == ' ' || *ct == '\t')
		ct++;
	if (!html_starts_with(ct, strlen(ct), type))
		return false;
	ct += n;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	return *ct == '\0' || *ct == ';';
}

bool
html_text_is_html(const char *content_type, const char *body, size_t len)
{
	if (content_type != NULL && content_type[0] != '\0')
		return media_type_is(content_type, "text/html") || media_type_is(content_type, "application/xhtml+xml");
	if (len >= 3 && memcmp(body, "\xEF\xBB\xBF", 3) == 0)
		body += 3, len -= 3;	/* a byte order mark */
	while (len > 0 && html_is_space((unsigned char)*body))
		body++, len--;
	if (html_starts_with(body, len, "<!doctype html"))
		return len == 14 || !html_is_alnum((unsigned char)body[14]);
	return html_starts_with(body, len, "<html") && (len == 5 || !html_is_alnum((unsigned char)body[5]));
}

/* The byte offset of character `chars` from s, or n when s holds fewer; *counted says how many it passed. */
static size_t
skip_chars(const char *s, size_t n, size_t chars, size_t *counted)
{
	size_t j = 0, c = 0;

	while (j < n) {
		if (((unsigned char)s[j] & 0xC0) != 0x80) {
			if (c == chars)
				break;
			c++;
		}
		j++;
	}
	*counted = c;
	return j;
}

bool
html_text_page(const char *text, size_t len, size_t start_index, size_t max_length, struct html_text_page *page)
{
	size_t start, taken, rest;

	*page = (struct html_text_page){0};
	start = skip_chars(text, len, start_index, &taken);
	if (taken < start_index || start == len || max_length == 0)
		return false;
	page->offset = start;
	page->length = skip_chars(text + start, len - start, max_length, &taken);
	skip_chars(text + start + page->length, len - start - page->length, 1, &rest);
	page->more = taken == max_length && rest > 0;
	page->next_start = page->more ? start_index + taken : 0;
	return true;
}

void
html_text_page_append(struct strbuf *out, const char *text, const struct html_text_page *page, bool found)
{
	if (!found) {
		strbuf_puts(out, HTML_TEXT_NO_MORE);
		return;
	}
	strbuf_append(out, text + page->offset, page->length);
	if (page->more)
		strbuf_printf(out, "\n\n<error>Content truncated. Call the fetch tool with a start_index of %zu "
		    "to get more content.</error>", page->next_start);
}
