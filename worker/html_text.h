/*
 * html_text: a web page as readable text, for the fetch tool.
 *
 * The page comes from a server nobody vouches for, so everything here is
 * written for hostile input: one pass (or three, see html_text_render) over
 * the bytes with no recursion and no element stack, counters instead, and
 * output capped by the caller.  The rendering is a small Markdown: headings
 * as `#` lines, list items as `- `, links as `[text](href)`, preformatted
 * text in ``` fences, everything else as paragraphs of collapsed whitespace.
 * The text is always valid UTF-8 without NUL or control characters other
 * than newline and tab.
 */
#ifndef MCPD_WORKER_HTML_TEXT_H
#define MCPD_WORKER_HTML_TEXT_H

#include <stdbool.h>
#include <stddef.h>

#include "common/strbuf.h"

/* The reference fetch server's words, kept so that clients see the same. */
#define HTML_TEXT_NO_MORE "<error>No more content available.</error>"
#define HTML_TEXT_EMPTY "<error>Page failed to be simplified from HTML</error>"

/* Links longer than this (decoded) keep their text and lose their target. */
#define HTML_TEXT_HREF_MAX 2048

/**
 * Appends the readable text of html[0..len) to out, at most cap bytes of it
 * (cut at a character boundary).  When the page has a <main> or <article>,
 * only those are rendered (unless they hold no text); else the whole page
 * less <head>.  Returns 1 when the text was cut at cap, 0 when it is whole,
 * -1 when out could not grow (out->failed).
 */
int html_text_render(const char *html, size_t len, size_t cap, struct strbuf *out);

/**
 * Appends a body that is not HTML (or is wanted raw) as text: invalid UTF-8
 * becomes U+FFFD, CR LF becomes LF, other control characters are dropped.
 * Same cap and return values as html_text_render.
 */
int html_text_plain(const char *body, size_t len, size_t cap, struct strbuf *out);

/**
 * True when a response is HTML: by its Content-Type (text/html or
 * application/xhtml+xml, parameters ignored) when it has one (content_type
 * not NULL and not empty), else by a leading `<!doctype html` or `<html`.
 */
bool html_text_is_html(const char *content_type, const char *body, size_t len);

/* One page of a text, counted in characters (code points) as the tool's
 * start_index and max_length are. */
struct html_text_page {
	size_t offset;		/* where the slice starts, in bytes */
	size_t length;		/* its length in bytes */
	bool more;		/* the slice is max_length characters and text follows */
	size_t next_start;	/* the start_index of the next page, when more */
};

/**
 * Finds the slice of text[0..len) (valid UTF-8) starting start_index
 * characters in and at most max_length characters long; never cuts a
 * character.  Returns false when the slice is empty (start_index at or past
 * the end, or max_length 0): there is no more content.
 */
bool html_text_page(const char *text, size_t len, size_t start_index, size_t max_length,
    struct html_text_page *page);

/**
 * Appends what the tool returns for a page: HTML_TEXT_NO_MORE when
 * html_text_page returned false, else the slice followed, when more
 * remains, by the reference server's note naming the next start_index.
 */
void html_text_page_append(struct strbuf *out, const char *text, const struct html_text_page *page, bool found);

#endif
