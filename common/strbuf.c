/* Runs in: every process. */
#include "common/strbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
strbuf_init(struct strbuf *sb)
{
	memset(sb, 0, sizeof(*sb));
}

void
strbuf_init_fixed(struct strbuf *sb, char *storage, size_t cap)
{
	memset(sb, 0, sizeof(*sb));
	sb->data = storage;
	sb->cap = cap;
	sb->fixed = true;
	storage[0] = '\0';
}

void
strbuf_free(struct strbuf *sb)
{
	if (!sb->fixed)
		free(sb->data);
	sb->data = NULL;
	sb->len = sb->cap = 0;
}

char *
strbuf_detach(struct strbuf *sb, size_t *len)
{
	char *out;

	if (sb->data == NULL)
		strbuf_append(sb, "", 0);
	if (sb->failed || sb->fixed) {
		strbuf_free(sb);
		return NULL;
	}
	out = sb->data;
	if (len != NULL)
		*len = sb->len;
	memset(sb, 0, sizeof(*sb));
	return out;
}

bool
strbuf_ok(const struct strbuf *sb)
{
	return !sb->truncated && !sb->failed;
}

/* Makes room for `extra` more bytes plus the terminating NUL. */
static bool
strbuf_reserve(struct strbuf *sb, size_t extra)
{
	size_t need, cap;
	char *grown;

	if (sb->failed)
		return false;
	if (extra > SIZE_MAX / 2 - sb->len) {
		sb->failed = true;
		return false;
	}
	need = sb->len + extra + 1;
	if (need <= sb->cap)
		return true;
	if (sb->fixed)
		return false;
	cap = sb->cap ? sb->cap : 256;
	while (cap < need)
		cap *= 2;
	grown = realloc(sb->data, cap);
	if (grown == NULL) {
		sb->failed = true;
		return false;
	}
	sb->data = grown;
	sb->cap = cap;
	return true;
}

void
strbuf_append_slow(struct strbuf *sb, const char *s, size_t n)
{
	if (!strbuf_reserve(sb, n)) {
		if (!sb->fixed || sb->failed)
			return;
		/* Fixed storage: keep what fits and remember the loss. */
		n = sb->cap - 1 - sb->len;
		sb->truncated = true;
	}
	memcpy(sb->data + sb->len, s, n);
	sb->len += n;
	sb->data[sb->len] = '\0';
}

void
strbuf_vprintf(struct strbuf *sb, const char *fmt, va_list ap)
{
	char small[256];
	va_list again;
	int n;

	va_copy(again, ap);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	if (n < 0) {
		sb->failed = true;
	} else if ((size_t)n < sizeof(small)) {
		strbuf_append(sb, small, (size_t)n);
	} else if (strbuf_reserve(sb, (size_t)n)) {
		vsnprintf(sb->data + sb->len, (size_t)n + 1, fmt, again);
		sb->len += (size_t)n;
	} else if (sb->fixed && !sb->failed) {
		/* Fixed storage: keep what fits and remember the loss. */
		vsnprintf(sb->data + sb->len, sb->cap - sb->len, fmt, again);
		sb->len = sb->cap - 1;
		sb->truncated = true;
	}
	va_end(again);
}

void
strbuf_printf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	strbuf_vprintf(sb, fmt, ap);
	va_end(ap);
}

void
strbuf_int(struct strbuf *sb, long long v)
{
	/* Written by hand: snprintf's format machinery is a visible share of a request. */
	char digits[24];
	char *end = digits + sizeof(digits), *p = end;
	unsigned long long magnitude = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;

	do {
		*--p = (char)('0' + magnitude % 10);
		magnitude /= 10;
	} while (magnitude != 0);
	if (v < 0)
		*--p = '-';
	strbuf_append(sb, p, (size_t)(end - p));
}

void
str_copy_truncated(char *dst, size_t cap, const char *src)
{
	size_t n = strnlen(src, cap - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* Length of the well-formed UTF-8 sequence at s (at most n bytes), or 0. */
static size_t
utf8_sequence_length(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t len, i;
	unsigned int lo = 0x80, hi = 0xBF;

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		len = 2;
	else if (c >= 0xE0 && c <= 0xEF)
		len = 3;
	else if (c >= 0xF0 && c <= 0xF4)
		len = 4;
	else
		return 0;
	if (len > n)
		return 0;
	/* Second-byte limits exclude overlongs, surrogates and > U+10FFFF. */
	if (c == 0xE0)
		lo = 0xA0;
	else if (c == 0xED)
		hi = 0x9F;
	else if (c == 0xF0)
		lo = 0x90;
	else if (c == 0xF4)
		hi = 0x8F;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xBF)
			return 0;
	return len;
}

/* True when the 8 bytes at p are all ASCII (the usual JSON-RPC body). */
static bool
ascii8(const unsigned char *p)
{
	uint64_t word;

	memcpy(&word, p, sizeof(word));
	return (word & 0x8080808080808080ULL) == 0;
}

bool
utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, len;

	while (i < n) {
		if (n - i >= 8 && ascii8(p + i)) {
			i += 8;
			continue;
		}
		len = utf8_sequence_length(p + i, n - i);
		if (len == 0)
			return false;
		i += len;
	}
	return true;
}

void
strbuf_json_string(struct strbuf *sb, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, run = 0, len;
	char esc[6] = {'\\', 'u', '0', '0', 0, 0};

	strbuf_putc(sb, '"');
	while (i < n) {
		unsigned char c = p[i];

		if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
			i++;
			run++;
			continue;
		}
		len = utf8_sequence_length(p + i, n - i);
		if (len != 0 && c >= 0x80) {	/* a whole multi-byte character */
			i += len;
			run += len;
			continue;
		}
		strbuf_append(sb, s + i - run, run);
		run = 0;
		if (len == 0) {
			strbuf_puts(sb, "\\ufffd");
			i++;
			continue;
		}
		i++;
		switch (c) {
		case '"': strbuf_puts(sb, "\\\""); break;
		case '\\': strbuf_puts(sb, "\\\\"); break;
		case '\n': strbuf_puts(sb, "\\n"); break;
		case '\r': strbuf_puts(sb, "\\r"); break;
		case '\t': strbuf_puts(sb, "\\t"); break;
		default:
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 0xF];
			strbuf_append(sb, esc, sizeof(esc));
		}
	}
	strbuf_append(sb, s + i - run, run);
	strbuf_putc(sb, '"');
}

size_t
utf8_length(const char *s, size_t n)
{
	size_t count = 0;

	/* Every character has exactly one byte that is not a continuation byte. */
	for (size_t i = 0; i < n; i++)
		count += ((unsigned char)s[i] & 0xC0) != 0x80;
	return count;
}
