/*
 * html_text_chars: the characters of a page, for worker/html_text.c.
 *
 * UTF-8 read and written strictly (RFC 3629), character references
 * (numeric and the common named ones) decoded, and every code point made
 * safe for text: no NUL, surrogate or control character but tab and newline.
 */
#ifndef MCPD_WORKER_HTML_TEXT_CHARS_H
#define MCPD_WORKER_HTML_TEXT_CHARS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define HTML_NO_REF UINT32_MAX
#define HTML_REPLACEMENT 0xFFFDu

static inline bool
html_is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

static inline bool
html_is_alpha(unsigned char c)
{
	return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
}

static inline bool
html_is_alnum(unsigned char c)
{
	return html_is_alpha(c) || (c >= '0' && c <= '9');
}

static inline unsigned char
html_lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? c | 0x20 : c;
}

/* Case-insensitive: does s[0..n) start with the lowercase word w? */
static inline bool
html_starts_with(const char *s, size_t n, const char *w)
{
	size_t k = strlen(w);

	if (n < k)
		return false;
	for (size_t j = 0; j < k; j++)
		if (html_lower((unsigned char)s[j]) != (unsigned char)w[j])
			return false;
	return true;
}


/** cp, or U+FFFD for NUL, a surrogate, a control character but tab and newline, or past U+10FFFF. */
uint32_t html_sanitize(uint32_t cp);
/** Writes cp (at most U+10FFFF) as UTF-8 into b[4]; returns its length. */
size_t html_utf8_encode(uint32_t cp, char *b);
/**
 * The well-formed UTF-8 character at s[0..n) (n >= 1) and its length in
 * *used, or U+FFFD and 1 for a byte that starts none.
 */
uint32_t html_utf8_decode(const unsigned char *s, size_t n, size_t *used);
/**
 * The character reference at s[0..n) (s[0] == '&'), sanitized, and its
 * length in *used; HTML_NO_REF when it is none and the '&' is plain text.
 */
uint32_t html_char_ref(const char *s, size_t n, size_t *used);

#endif
