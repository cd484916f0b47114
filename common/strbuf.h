/*
 * strbuf: a byte buffer that JSON text is written into.
 *
 * Two flavours share one interface: a growable buffer on the heap (responses)
 * and a fixed buffer owned by the caller (log lines, which must never
 * allocate).  A fixed buffer that runs out of room keeps what fits and sets
 * `truncated`; a heap buffer that cannot grow sets `failed`.
 */
#ifndef MCPD_COMMON_STRBUF_H
#define MCPD_COMMON_STRBUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct strbuf {
	char *data;
	size_t len;
	size_t cap;
	bool fixed;	/* data belongs to the caller; never realloc it */
	bool truncated;	/* a fixed buffer ran out of room */
	bool failed;	/* a heap buffer could not grow */
};

/** Starts an empty heap buffer. */
void strbuf_init(struct strbuf *sb);
/** Starts an empty buffer over caller storage of `cap` bytes (cap >= 1). */
void strbuf_init_fixed(struct strbuf *sb, char *storage, size_t cap);
/** Frees a heap buffer's storage; a no-op for a fixed buffer. */
void strbuf_free(struct strbuf *sb);
/** Hands the heap storage to the caller (NUL-terminated) and empties sb. */
char *strbuf_detach(struct strbuf *sb, size_t *len);
/** True when nothing was lost: no truncation and no allocation failure. */
bool strbuf_ok(const struct strbuf *sb);

/** strbuf_append when the bytes may not fit: grows, truncates or fails. */
void strbuf_append_slow(struct strbuf *sb, const char *s, size_t n);

/*
 * Appending is inline with its common case, room to spare, first: JSON
 * output is made of many short pieces, and strbuf_puts of a literal then
 * needs no strlen at run time.
 */
static inline void
strbuf_append(struct strbuf *sb, const char *s, size_t n)
{
	if (n < sb->cap - sb->len && !sb->failed) {
		memcpy(sb->data + sb->len, s, n);
		sb->len += n;
		sb->data[sb->len] = '\0';
		return;
	}
	strbuf_append_slow(sb, s, n);
}

static inline void
strbuf_puts(struct strbuf *sb, const char *s)
{
	strbuf_append(sb, s, strlen(s));
}

static inline void
strbuf_putc(struct strbuf *sb, char c)
{
	strbuf_append(sb, &c, 1);
}
/** strbuf_printf with a va_list. */
void strbuf_vprintf(struct strbuf *sb, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
void strbuf_printf(struct strbuf *sb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void strbuf_int(struct strbuf *sb, long long v);

/*
 * Appends `s` as a quoted JSON string.  Control characters are escaped and
 * bytes that are not valid UTF-8 become U+FFFD, so the output is always valid
 * JSON whatever the input (log lines carry client-chosen strings).
 */
void strbuf_json_string(struct strbuf *sb, const char *s, size_t n);

/**
 * Copies the C string src into dst[cap] (cap >= 1), cutting it to fit; the
 * result is always NUL-terminated.  For short labels such as a method name.
 */
void str_copy_truncated(char *dst, size_t cap, const char *src);

/* Returns true when s[0..n) is well-formed UTF-8 (RFC 3629). */
bool utf8_valid(const char *s, size_t n);
/** The number of characters (code points) in valid UTF-8. */
size_t utf8_length(const char *s, size_t n);

#endif
