/* Runs in: workers, after the sandbox (the fetch tool). */
#define _GNU_SOURCE	/* memmem */
/*
 * HTML to readable text.  A tokenizer walks the bytes once, left to right:
 * text runs, tags (with the one attribute we keep, <a href>), and the parts
 * that are skipped whole (comments, CDATA, doctype and processing
 * instructions, and the contents of script, style and the like).  Every
 * search moves forward from where the last one stopped, so the walk is
 * linear.  Nesting is tracked with counters, never a stack, so a page of a
 * million unclosed <div> costs nothing more than its bytes.
 *
 * The renderer never writes a separator straight away: block edges and
 * whitespace are kept as "pending" and written before the next visible
 * character, which collapses runs of them and leaves no trailing blanks.
 */
#include "worker/html_text.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "worker/html_text_chars.h"

#define NAME_MAX_LEN 15		/* longer tag names are no tag we know */
#define PREFIX_DEPTH_MAX 8	/* list indentation and quote marks shown */
#define HTML_NO_REF UINT32_MAX
#define HTML_REPLACEMENT 0xFFFDu

enum tag_kind {
	TAG_OTHER, TAG_BLOCK, TAG_SKIP, TAG_HEAD, TAG_BODY, TAG_MAIN, TAG_HEADING, TAG_LI, TAG_LIST,
	TAG_A, TAG_PRE, TAG_CODE, TAG_QUOTE, TAG_HR, TAG_BR, TAG_TR, TAG_CELL,
};

struct tag_row {
	const char *name;
	enum tag_kind kind;
	unsigned char breaks;	/* newlines around the element: 1 a line, 2 a paragraph */
};

static const struct tag_row tags[] = {
	{"p", TAG_BLOCK, 2}, {"div", TAG_BLOCK, 1}, {"section", TAG_BLOCK, 1}, {"header", TAG_BLOCK, 1},
	{"footer", TAG_BLOCK, 1}, {"nav", TAG_BLOCK, 1}, {"aside", TAG_BLOCK, 1}, {"table", TAG_BLOCK, 2},
	{"dl", TAG_BLOCK, 2}, {"dt", TAG_BLOCK, 1}, {"dd", TAG_BLOCK, 1}, {"figure", TAG_BLOCK, 2},
	{"figcaption", TAG_BLOCK, 1}, {"caption", TAG_BLOCK, 1}, {"address", TAG_BLOCK, 2},
	{"details", TAG_BLOCK, 1}, {"summary", TAG_BLOCK, 1}, {"form", TAG_BLOCK, 1},
	{"fieldset", TAG_BLOCK, 1}, {"center", TAG_BLOCK, 1},
	{"h1", TAG_HEADING, 2}, {"h2", TAG_HEADING, 2}, {"h3", TAG_HEADING, 2},
	{"h4", TAG_HEADING, 2}, {"h5", TAG_HEADING, 2}, {"h6", TAG_HEADING, 2},
	{"ul", TAG_LIST, 2}, {"ol", TAG_LIST, 2}, {"li", TAG_LI, 1}, {"blockquote", TAG_QUOTE, 2},
	{"pre", TAG_PRE, 2}, {"code", TAG_CODE, 0}, {"a", TAG_A, 0}, {"hr", TAG_HR, 2},
	{"br", TAG_BR, 1}, {"tr", TAG_TR, 1}, {"td", TAG_CELL, 0}, {"th", TAG_CELL, 0},
	{"main", TAG_MAIN, 1}, {"article", TAG_MAIN, 1}, {"head", TAG_HEAD, 0}, {"body", TAG_BODY, 0},
	/* Raw text or foreign content: skipped to the matching end tag. */
	{"script", TAG_SKIP, 0}, {"style", TAG_SKIP, 0}, {"noscript", TAG_SKIP, 0},
	{"template", TAG_SKIP, 0}, {"svg", TAG_SKIP, 0}, {"math", TAG_SKIP, 0},
	{"title", TAG_SKIP, 0}, {"textarea", TAG_SKIP, 0}, {"iframe", TAG_SKIP, 0},
	{"noembed", TAG_SKIP, 0}, {"noframes", TAG_SKIP, 0}, {"xmp", TAG_SKIP, 0},
	{"object", TAG_SKIP, 0},
};

struct render {
	const char *in;
	size_t n, i;
	struct strbuf *out;
	size_t base, cap;	/* out->len before we started; bytes we may add */
	bool full;		/* cap reached: stop */
	bool probe;		/* only look for <main>/<article> */
	bool select_main;	/* render only inside <main>/<article> */
	bool found_main;
	size_t main_depth, pre_depth, code_depth, quote_depth, list_depth, skip_depth;
	bool in_head;
	unsigned pending_nl;	/* newlines owed before the next character */
	bool pending_space, at_line_start, pre_first_nl;
	bool item_due;		/* a "- " owed at the next line start */
	unsigned heading;	/* the level of the heading being written, 0 none */
	unsigned cells;		/* cells so far in this table row */
	bool fence_open, tick_due, tick_open;
	bool link_due, link_open;	/* "[" owed before the link's text; written */
	char href[HTML_TEXT_HREF_MAX * 3 + 1];	/* percent-encoded */
	size_t href_len;
};


static void
emit(struct render *r, const char *s, size_t n)
{
	if (r->probe || r->full)
		return;
	strbuf_append(r->out, s, n);
	if (r->out->len - r->base >= r->cap || r->out->failed)
		r->full = true;
}

static void
emit_repeat(struct render *r, const char *s, size_t times)
{
	for (size_t k = 0; k < times && k < PREFIX_DEPTH_MAX; k++)
		emit(r, s, strlen(s));
}

static bool
visible(const struct render *r)
{
	return !r->probe && !r->in_head && r->skip_depth == 0 && (!r->select_main || r->main_depth > 0);
}

static void
want_break(struct render *r, unsigned newlines)
{
	if (newlines > r->pending_nl)
		r->pending_nl = newlines;
}

/* Writes what is owed before a visible character: separators, then the line's marks. */
static void
flush_pending(struct render *r)
{
	bool empty = r->out->len == r->base;

	if (r->pending_nl > 0 && !empty) {
		emit(r, "\n\n", r->pending_nl > 1 ? 2 : 1);
		r->at_line_start = true;
	} else if (r->pending_space && !r->at_line_start && !empty) {
		emit(r, " ", 1);
	}
	r->pending_nl = 0;
	r->pending_space = false;
	if (r->at_line_start) {
		emit_repeat(r, "> ", r->quote_depth);
		if (r->item_due) {
			emit_repeat(r, "  ", r->list_depth > 1 ? r->list_depth - 1 : 0);
			emit(r, "- ", 2);
			r->item_due = false;
		}
		if (r->heading > 0)
			emit_repeat(r, "#", r->heading), emit(r, " ", 1);
		r->at_line_start = false;
	}
	if (r->link_due)
		emit(r, "[", 1), r->link_due = false, r->link_open = true;
	if (r->tick_due)
		emit(r, "`", 1), r->tick_due = false, r->tick_open = true;
}

/* One character of text, whitespace collapsed unless inside pre or code. */
static void
put_char(struct render *r, uint32_t cp)
{
	char b[4];
	bool keep = r->pre_depth > 0 || r->code_depth > 0;

	if (r->in_head && !html_is_space(cp < 0x80 ? (unsigned char)cp : 'x'))
		r->in_head = false;	/* text ends an unclosed head, as in a browser */
	if (!visible(r))
		return;
	if (cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || cp == '\f') {
		if (!keep) {
			r->pending_space = true;
			return;
		}
		if (cp == '\n' && r->pre_first_nl) {
			r->pre_first_nl = false;
			return;
		}
		cp = cp == '\r' ? '\n' : cp == '\f' ? ' ' : cp;
	}
	r->pre_first_nl = false;
	flush_pending(r);
	if (cp == 0xA0)
		cp = ' ';
	/* Inside pre a newline starts no marked line: each would cost a quote prefix. */
	emit(r, b, html_utf8_encode(html_sanitize(cp), b));
}

/* A run of text: character references decoded, UTF-8 checked. */
static void
put_text(struct render *r, const char *s, size_t n)
{
	size_t j = 0, used;

	while (j < n && !r->full) {
		uint32_t cp = HTML_NO_REF;

		if (s[j] == '&')
			cp = html_char_ref(s + j, n - j, &used);
		if (cp == HTML_NO_REF) {
			if (s[j] == '\r' && j + 1 < n && s[j + 1] == '\n')
				j++;
			cp = html_utf8_decode((const unsigned char *)s + j, n - j, &used);
			if (cp != HTML_REPLACEMENT && html_sanitize(cp) != cp && !(cp < 0x80 && html_is_space((unsigned char)cp))) {
				j += used;	/* a raw control character: not shown */
				continue;
			}
		}
		put_char(r, cp);
		j += used;
	}
}

/* Keeps a link's target when it is http(s) or relative, percent-encoding what Markdown would misread. */
static void
take_href(struct render *r, const char *s, size_t n)
{
	char raw[HTML_TEXT_HREF_MAX];
	size_t len = 0, j = 0, used, colon;

	r->href_len = 0;
	while (j < n) {
		uint32_t cp = s[j] == '&' ? html_char_ref(s + j, n - j, &used) : HTML_NO_REF;
		char b[4];
		size_t k;

		if (cp == HTML_NO_REF)
			b[0] = s[j], k = 1, used = 1;
		else
			k = html_utf8_encode(cp, b);
		j += used;
		if (k == 1 && (b[0] == '\t' || b[0] == '\n' || b[0] == '\r'))
			continue;	/* URL parsers drop these: "java\nscript:" is javascript: */
		if (len == 0 && k == 1 && (unsigned char)b[0] <= ' ')
			continue;
		if (len + k > sizeof(raw))
			return;
		memcpy(raw + len, b, k), len += k;
	}
	for (colon = 0; colon < len && strchr(":/?#", raw[colon]) == NULL; colon++)
		;
	if (len == 0 || (colon < len && raw[colon] == ':' && !html_starts_with(raw, len, "http:") &&
	    !html_starts_with(raw, len, "https:")))
		return;
	for (j = 0; j < len; j++) {
		unsigned char c = (unsigned char)raw[j];

		if (c <= ' ' || c >= 0x7F || c == '(' || c == ')' || c == '<' || c == '>' || c == '"') {
			static const char hex[] = "0123456789ABCDEF";

			r->href[r->href_len++] = '%', r->href[r->href_len++] = hex[c >> 4];
			r->href[r->href_len++] = hex[c & 15];
		} else {
			r->href[r->href_len++] = (char)c;
		}
	}
}

static void
close_link(struct render *r)
{
	if (r->link_open) {
		emit(r, "](", 2), emit(r, r->href, r->href_len), emit(r, ")", 1);
	}
	r->link_due = r->link_open = false;
}

static void
open_link(struct render *r, const char *href, size_t href_len, bool has_href)
{
	close_link(r);	/* links do not nest: a new one ends the last */
	if (!has_href || !visible(r))
		return;
	take_href(r, href, href_len);
	r->link_due = r->href_len > 0;
}

static void
pre_edge(struct render *r, bool end)
{
	if (!end) {
		if (r->pre_depth++ == 0 && visible(r)) {
			want_break(r, 2);
			r->pending_space = false;
			flush_pending(r);
			emit(r, "```\n", 4);
			r->fence_open = r->at_line_start = r->pre_first_nl = true;
		}
		return;
	}
	if (r->pre_depth == 0 || --r->pre_depth > 0 || !r->fence_open)
		return;
	if (!r->at_line_start)
		emit(r, "\n", 1);
	emit(r, "```", 3);
	r->fence_open = false;
	r->at_line_start = false;
	want_break(r, 2);
}

static void
code_edge(struct render *r, bool end)
{
	if (r->pre_depth > 0) {
		r->code_depth += end ? (r->code_depth > 0 ? (size_t)-1 : 0) : 1;
		return;
	}
	if (!end) {
		if (r->code_depth++ == 0 && visible(r))
			r->tick_due = true;
		return;
	}
	if (r->code_depth == 0 || --r->code_depth > 0)
		return;
	if (r->tick_open)
		emit(r, "`", 1);
	r->tick_due = r->tick_open = false;
}

static void
count(size_t *depth, bool end)
{
	if (!end)
		(*depth)++;
	else if (*depth > 0)
		(*depth)--;
}

/* The effect of a tag we know on what is written. */
static void
on_tag(struct render *r, const struct tag_row *t, bool end, const char *href, size_t href_len, bool has_href)
{
	if (t->kind != TAG_HEAD && t->kind != TAG_SKIP && !end)
		r->in_head = false;	/* a body element ends an unclosed head */
	if (t->kind == TAG_LIST && r->list_depth > (end ? 1u : 0u))
		want_break(r, 1);	/* a list in a list item goes on the next line */
	else if (t->breaks > 0)
		want_break(r, t->breaks);
	switch (t->kind) {
	case TAG_HEAD:
		r->in_head = !end;
		break;
	case TAG_MAIN:
		r->found_main = r->found_main || !end;
		count(&r->main_depth, end);
		break;
	case TAG_HEADING:
		r->heading = end ? 0 : (unsigned)(t->name[1] - '0');
		break;
	case TAG_LIST:
		count(&r->list_depth, end);
		break;
	case TAG_LI:
		r->item_due = !end;
		break;
	case TAG_QUOTE:
		count(&r->quote_depth, end);
		r->at_line_start = true;
		break;
	case TAG_A:
		if (end)
			close_link(r);
		else
			open_link(r, href, href_len, has_href);
		break;
	case TAG_PRE:
		pre_edge(r, end);
		break;
	case TAG_CODE:
		code_edge(r, end);
		break;
	case TAG_HR:
		if (!end && visible(r))
			r->pending_space = false, flush_pending(r), emit(r, "---", 3), want_break(r, 2);
		break;
	case TAG_TR:
		r->cells = 0;
		break;
	case TAG_CELL:
		if (!end && r->cells++ > 0 && visible(r))
			r->pending_space = false, flush_pending(r), emit(r, " |", 2), r->pending_space = true;
		break;
	default:
		break;
	}
}

static const struct tag_row *
find_tag(const char *name, size_t len)
{
	for (size_t t = 0; t < sizeof(tags) / sizeof(tags[0]); t++)
		if (strlen(tags[t].name) == len && memcmp(tags[t].name, name, len) == 0)
			return &tags[t];
	return NULL;
}

/* Moves past the end of a raw-text element: "</name" then the next '>'. */
static void
skip_raw(struct render *r, const char *name, size_t len)
{
	const char *p;

	while ((p = memchr(r->in + r->i, '<', r->n - r->i)) != NULL) {
		size_t at = (size_t)(p - r->in);

		r->i = at + 1;
		if (at + 2 + len <= r->n && r->in[at + 1] == '/' && html_starts_with(p + 2, len, name) &&
		    (at + 2 + len == r->n || !html_is_alnum((unsigned char)p[2 + len]))) {
			p = memchr(r->in + at, '>', r->n - at);
			r->i = p != NULL ? (size_t)(p - r->in) + 1 : r->n;
			return;
		}
	}
	r->i = r->n;
}

/* Moves past the next occurrence of `end`, or to the end of the input. */
static void
skip_past(struct render *r, const char *end)
{
	const char *p = memmem(r->in + r->i, r->n - r->i, end, strlen(end));

	r->i = p != NULL ? (size_t)(p - r->in) + strlen(end) : r->n;
}

/*
 * The attributes of a start tag, up to its '>' (a '>' inside quotes is part
 * of a value).  Keeps href's value and says whether the tag closed itself.
 */
static bool
read_attributes(struct render *r, const char **href, size_t *href_len, bool *has_href)
{
	bool self_closing = false;

	while (r->i < r->n && r->in[r->i] != '>') {
		size_t name = r->i, name_len, value = r->i, value_len = 0;
		char c = r->in[r->i];

		if (html_is_space((unsigned char)c) || c == '/') {
			self_closing = c == '/';
			r->i++;
			continue;
		}
		while (r->i < r->n && !html_is_space((unsigned char)r->in[r->i]) && r->in[r->i] != '>' &&
		    r->in[r->i] != '=' && (r->in[r->i] != '/' || r->i == name))
			r->i++;
		name_len = r->i - name;
		self_closing = false;
		if (r->i < r->n && r->in[r->i] == '=') {
			char quote = ++r->i < r->n ? r->in[r->i] : 0;

			if (quote == '"' || quote == '\'') {
				const char *q = memchr(r->in + r->i + 1, quote, r->n - r->i - 1);

				value = r->i + 1;
				r->i = q != NULL ? (size_t)(q - r->in) + 1 : r->n;
				value_len = (q != NULL ? (size_t)(q - r->in) : r->n) - value;
			} else {
				value = r->i;
				while (r->i < r->n && !html_is_space((unsigned char)r->in[r->i]) && r->in[r->i] != '>')
					r->i++;
				value_len = r->i - value;
			}
		}
		if (name_len == 4 && html_starts_with(r->in + name, 4, "href") && !*has_href)
			*href = r->in + value, *href_len = value_len, *has_href = true;
	}
	r->i += r->i < r->n;
	return self_closing;
}

/* A tag at r->in[r->i] == '<' followed by a letter, or '/' and a letter. */
static void
read_tag(struct render *r)
{
	bool end = r->in[r->i + 1] == '/', has_href = false, self_closing;
	size_t start = r->i + (end ? 2 : 1), len;
	char name[NAME_MAX_LEN + 1];
	const char *href = NULL;
	size_t href_len = 0;
	const struct tag_row *t;

	r->i = start;
	while (r->i < r->n && !html_is_space((unsigned char)r->in[r->i]) && r->in[r->i] != '/' && r->in[r->i] != '>')
		r->i++;
	len = r->i - start;
	for (size_t j = 0; j < len && j < NAME_MAX_LEN; j++)
		name[j] = (char)html_lower((unsigned char)r->in[start + j]);
	self_closing = read_attributes(r, &href, &href_len, &has_href);
	t = len <= NAME_MAX_LEN ? find_tag(name, len) : NULL;
	if (t == NULL)
		return;
	if (r->probe) {
		r->found_main = r->found_main || (t->kind == TAG_MAIN && !end);
		if (t->kind == TAG_SKIP && !end && !self_closing)
			skip_raw(r, t->name, strlen(t->name));
		return;
	}
	if (t->kind == TAG_SKIP) {
		if (!end && !(self_closing && (t->name[0] == 's' || t->name[0] == 'm')))
			skip_raw(r, t->name, strlen(t->name));	/* <svg/> and <math/> are empty */
		return;
	}
	on_tag(r, t, end, href, href_len, has_href);
}

/* What starts at '<': markup to act on or skip, or a plain '<'. */
static void
read_markup(struct render *r)
{
	const char *s = r->in + r->i;
	size_t left = r->n - r->i;
	unsigned char next = left > 1 ? (unsigned char)s[1] : 0;

	if (html_starts_with(s, left, "<!--")) {
		r->i += 4;
		if (r->i < r->n && r->in[r->i] == '>')
			r->i++;
		else if (html_starts_with(r->in + r->i, r->n - r->i, "->"))
			r->i += 2;
		else
			skip_past(r, "-->");
	} else if (html_starts_with(s, left, "<![cdata[")) {
		r->i += 9, skip_past(r, "]]>");
	} else if (next == '!' || next == '?' || (next == '/' && left > 2 && !html_is_alpha((unsigned char)s[2]))) {
		r->i += 1, skip_past(r, ">");	/* doctype, processing instruction, bogus comment */
	} else if (html_is_alpha(next) || next == '/') {
		read_tag(r);
	} else {
		put_text(r, "<", 1), r->i++;
	}
}

static void
walk(struct render *r)
{
	r->i = 0;
	r->at_line_start = true;
	while (r->i < r->n && !r->full && !(r->probe && r->found_main)) {
		const char *lt = memchr(r->in + r->i, '<', r->n - r->i);
		size_t stop = lt != NULL ? (size_t)(lt - r->in) : r->n;

		put_text(r, r->in + r->i, stop - r->i);
		r->i = stop;
		if (r->i < r->n && !r->full)
			read_markup(r);
	}
	close_link(r);
	if (r->tick_open)
		emit(r, "`", 1);
	if (r->fence_open)
		emit(r, r->at_line_start ? "```" : "\n```", r->at_line_start ? 3 : 4);
}

/* Cuts out back to cap bytes at a character boundary, then drops trailing blanks. */
static int
finish(struct strbuf *out, size_t base, size_t cap)
{
	bool cut = out->len - base > cap;

	if (out->failed)
		return -1;
	if (cut) {
		out->len = base + cap;
		while (out->len > base && ((unsigned char)out->data[out->len] & 0xC0) == 0x80)
			out->len--;
	}
	while (out->len > base && (out->data[out->len - 1] == ' ' || out->data[out->len - 1] == '\n'))
		out->len--;
	if (out->cap > 0)
		out->data[out->len] = '\0';
	return cut ? 1 : 0;
}

static void
render_init(struct render *r, const char *html, size_t len, size_t cap, struct strbuf *out)
{
	memset(r, 0, offsetof(struct render, href));
	r->in = html, r->n = len, r->out = out, r->base = out->len, r->cap = cap;
}

int
html_text_render(const char *html, size_t len, size_t cap, struct strbuf *out)
{
	struct render r;
	bool has_main;

	render_init(&r, html, len, cap, out);
	r.probe = true;
	walk(&r);
	has_main = r.found_main;
	render_init(&r, html, len, cap, out);
	r.select_main = has_main;
	walk(&r);
	if (out->len == r.base && has_main && !out->failed) {
		render_init(&r, html, len, cap, out);	/* an empty <main>: fall back to the whole page */
		walk(&r);
	}
	if (finish(out, r.base, cap) < 0)
		return -1;
	return r.full ? 1 : 0;
}
