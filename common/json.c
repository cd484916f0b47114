/* Runs in: workers (JSON-RPC, token claims) and the fetcher (discovery, JWKS). */
#include "common/json.h"

#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/strbuf.h"

/* Deepest nesting accepted; MCP messages are a few levels deep. */
#define JSON_MAX_DEPTH 64

struct scanner {
	const char *p, *end;
	int depth;
	struct json_doc *record;	/* where string and number spans go, or NULL */
};

static void
skip_ws(struct scanner *sc)
{
	while (sc->p < sc->end && (*sc->p == ' ' || *sc->p == '\t' || *sc->p == '\n' || *sc->p == '\r'))
		sc->p++;
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool
is_hex(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool
scan_literal(struct scanner *sc, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(sc->end - sc->p) < n || memcmp(sc->p, word, n) != 0)
		return false;
	sc->p += n;
	return true;
}

/* A string token, quotes included: no raw control characters, known escapes. */
static bool
scan_string(struct scanner *sc)
{
	sc->p++;
	while (sc->p < sc->end) {
		unsigned char c = (unsigned char)*sc->p++;

		if (c == '"')
			return true;
		if (c < 0x20)
			return false;
		if (c != '\\')
			continue;
		if (sc->p >= sc->end)
			return false;
		c = (unsigned char)*sc->p++;
		if (c == 'u') {
			if (sc->end - sc->p < 4 || !is_hex(sc->p[0]) || !is_hex(sc->p[1]) ||
			    !is_hex(sc->p[2]) || !is_hex(sc->p[3]))
				return false;
			sc->p += 4;
		} else if (strchr("\"\\/bfnrt", c) == NULL || c == '\0') {
			return false;
		}
	}
	return false;
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? (RFC 8259 §6). */
static bool
scan_number(struct scanner *sc)
{
	if (sc->p < sc->end && *sc->p == '-')
		sc->p++;
	if (sc->p < sc->end && *sc->p == '0')
		sc->p++;
	else if (sc->p < sc->end && is_digit(*sc->p))
		while (sc->p < sc->end && is_digit(*sc->p))
			sc->p++;
	else
		return false;
	if (sc->p < sc->end && *sc->p == '.') {
		sc->p++;
		if (sc->p >= sc->end || !is_digit(*sc->p))
			return false;
		while (sc->p < sc->end && is_digit(*sc->p))
			sc->p++;
	}
	if (sc->p < sc->end && (*sc->p == 'e' || *sc->p == 'E')) {
		sc->p++;
		if (sc->p < sc->end && (*sc->p == '+' || *sc->p == '-'))
			sc->p++;
		if (sc->p >= sc->end || !is_digit(*sc->p))
			return false;
		while (sc->p < sc->end && is_digit(*sc->p))
			sc->p++;
	}
	return true;
}

static bool scan_value(struct scanner *sc);

/* Members of an object or elements of an array, up to `close`. */
static bool
scan_container(struct scanner *sc, char close, bool object)
{
	bool ok = true;

	if (++sc->depth > JSON_MAX_DEPTH)
		return false;
	sc->p++;
	skip_ws(sc);
	if (sc->p < sc->end && *sc->p == close) {
		sc->p++;
		sc->depth--;
		return true;
	}
	for (;;) {
		if (object) {
			skip_ws(sc);
			if (sc->p >= sc->end || *sc->p != '"' || !scan_string(sc))
				return false;
			skip_ws(sc);
			if (sc->p >= sc->end || *sc->p++ != ':')
				return false;
		}
		if (!scan_value(sc))
			return false;
		skip_ws(sc);
		if (sc->p >= sc->end)
			return false;
		if (*sc->p == ',') {
			sc->p++;
			continue;
		}
		ok = *sc->p++ == close;
		break;
	}
	sc->depth--;
	return ok;
}

static bool
scan_scalar(struct scanner *sc)
{
	switch (*sc->p) {
	case '"': return scan_string(sc);
	case 't': return scan_literal(sc, "true");
	case 'f': return scan_literal(sc, "false");
	case 'n': return scan_literal(sc, "null");
	default: return scan_number(sc);
	}
}

/* Gives the spans four times the inline room, then doubles it: O(1) amortised. */
static bool
spans_grow(struct json_doc *doc)
{
	size_t cap = doc->heap != NULL ? doc->heap_cap * 2 : JSON_DOC_INLINE_SPANS * 4;
	struct json_span *grown;

	if (cap > SIZE_MAX / sizeof(*grown) ||
	    (grown = realloc(doc->heap, cap * sizeof(*grown))) == NULL) {
		doc->out_of_memory = true;
		return false;
	}
	if (doc->heap == NULL)
		memcpy(grown, doc->inline_spans, sizeof(doc->inline_spans));
	doc->heap = grown;
	doc->heap_cap = cap;
	return true;
}

static struct json_span *
spans_of(struct json_doc *doc)
{
	return doc->heap != NULL ? doc->heap : doc->inline_spans;
}

/* Remembers where a string or number value token sits; false when out of memory. */
static bool
spans_push(struct json_doc *doc, const char *start, const char *end)
{
	size_t cap = doc->heap != NULL ? doc->heap_cap : JSON_DOC_INLINE_SPANS;

	if (doc->nspans == cap && !spans_grow(doc))
		return false;
	spans_of(doc)[doc->nspans++] = (struct json_span){.start = (uint32_t)(start - doc->text),
	    .len = (uint32_t)(end - start)};
	return true;
}

static bool
scan_value(struct scanner *sc)
{
	const char *start;

	skip_ws(sc);
	if (sc->p >= sc->end)
		return false;
	if (*sc->p == '{')
		return scan_container(sc, '}', true);
	if (*sc->p == '[')
		return scan_container(sc, ']', false);
	start = sc->p;
	if (!scan_scalar(sc))
		return false;
	/* true, false and null need no span: nothing reads their text. */
	if (sc->record == NULL || (*start != '"' && *start != '-' && !is_digit(*start)))
		return true;
	return spans_push(sc->record, start, sc->p);
}

/*
 * Strict RFC 8259 syntax.  cJSON alone would take raw control characters in
 * strings and numbers such as 01 or 1. as JSON; its error paths also recurse
 * up to 1000 levels deep.
 */
static bool
json_syntax_valid(struct json_doc *doc, const char *text, size_t len)
{
	struct scanner sc = {.p = text, .end = text + len, .record = doc};

	if (!scan_value(&sc))
		return false;
	skip_ws(&sc);
	return sc.p == sc.end;
}

/*
 * Gives each string and number item its span, walking the tree in pre-order:
 * cJSON builds items in the order their tokens appear, so the k-th string or
 * number item met is the k-th such value token the scanner recorded (object
 * keys are not values and were not recorded).  Siblings are a loop, so the
 * recursion is only as deep as the nesting, which the scanner bounded.
 *
 * The span's index goes in the item's valueint.  With cJSON 1.7.15 that int
 * is free on a parsed tree: parse_number writes a saturated copy of the
 * double there and parse_string leaves it 0, and cJSON itself never reads it
 * (printing, cJSON_Compare and cJSON_GetNumberValue use valuedouble;
 * cJSON_Delete frees only child, valuestring and string).  No pointer field
 * would do: cJSON_Delete frees child and valuestring.  An item from another
 * tree, a cJSON_Duplicate copy or one whose number was set again has a
 * valueint that indexes no span naming it, which item_span refuses.
 */
static bool
bind_spans(struct json_doc *doc, cJSON *item, size_t *next)
{
	struct json_span *spans = spans_of(doc);

	for (; item != NULL; item = item->next) {
		if (cJSON_IsNumber(item) || cJSON_IsString(item)) {
			if (*next >= doc->nspans)
				return false;
			spans[*next].item = item;
			item->valueint = (int)*next;
			(*next)++;
		} else if (item->child != NULL && !bind_spans(doc, item->child, next)) {
			return false;
		}
	}
	return true;
}

static void
spans_free(struct json_doc *doc)
{
	free(doc->heap);
	doc->heap = NULL;
	doc->heap_cap = 0;
	doc->nspans = 0;
}

int
json_doc_parse(struct json_doc *doc, const char *text, size_t len)
{
	size_t bound = 0;

	doc->text = text;
	doc->len = len;
	doc->root = NULL;
	doc->out_of_memory = false;
	doc->nspans = 0;
	doc->heap_cap = 0;
	doc->heap = NULL;
	/*
	 * JSON text is UTF-8 (RFC 8259 §8.1); cJSON copies bytes unchecked.  A
	 * span index must fit valueint, an int: fewer values than bytes does.
	 */
	if (len > INT_MAX || !utf8_valid(text, len) || !json_syntax_valid(doc, text, len))
		goto fail;
	doc->root = cJSON_ParseWithLength(text, len);
	if (doc->root == NULL)
		goto fail;
	if (!bind_spans(doc, doc->root, &bound) || bound != doc->nspans) {
		cJSON_Delete(doc->root);
		doc->root = NULL;
		goto fail;
	}
	return 0;
fail:
	spans_free(doc);
	return -1;
}

void
json_doc_free(struct json_doc *doc)
{
	cJSON_Delete(doc->root);
	doc->root = NULL;
	spans_free(doc);
}

/* The span of an item of doc's tree, or NULL for any other item. */
static const struct json_span *
item_span(const struct json_doc *doc, const cJSON *item)
{
	const struct json_span *span = doc->heap != NULL ? doc->heap : doc->inline_spans;

	if (item->valueint < 0 || (size_t)item->valueint >= doc->nspans)
		return NULL;
	span += item->valueint;
	return span->item == item ? span : NULL;
}

enum json_int_result
json_doc_int64(const struct json_doc *doc, const cJSON *item, int64_t *out)
{
	const struct json_span *span;

	if (!cJSON_IsNumber(item) || (span = item_span(doc, item)) == NULL)
		return JSON_INT_NOT_INTEGER;
	return json_number_text_to_int64(doc->text + span->start, span->len, out);
}

bool
json_doc_string_has_nul(const struct json_doc *doc, const cJSON *item)
{
	const struct json_span *span;
	const char *tok;
	size_t toklen;

	if (!cJSON_IsString(item) || (span = item_span(doc, item)) == NULL)
		return false;
	tok = doc->text + span->start;
	toklen = span->len;
	for (size_t i = 1; i + 1 < toklen; i++) {
		if (tok[i] != '\\')
			continue;
		if (tok[i + 1] == 'u' && i + 5 < toklen && memcmp(tok + i + 2, "0000", 4) == 0)
			return true;
		i++;	/* skip the escaped character, e.g. the second \ of \\ */
	}
	return false;
}

/* Multiplies the magnitude by ten and adds a digit, or reports overflow. */
static bool
push_digit(uint64_t *mag, int digit, uint64_t limit)
{
	if (*mag > (limit - (uint64_t)digit) / 10)
		return false;
	*mag = *mag * 10 + (uint64_t)digit;
	return true;
}

enum json_int_result
json_number_text_to_int64(const char *s, size_t n, int64_t *out)
{
	/* Digits of the significand, without the point, and where the point was. */
	const char *digits[2] = {NULL, NULL};
	size_t ndigits[2] = {0, 0}, i = 0;
	bool negative = false, exp_negative = false;
	long long exponent = 0;
	uint64_t mag = 0, limit;

	if (i < n && s[i] == '-') {
		negative = true;
		i++;
	}
	for (int part = 0; part < 2; part++) {
		digits[part] = s + i;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++, ndigits[part]++;
		if (part == 0 && i < n && s[i] == '.')
			i++;
		else
			break;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			exp_negative = s[i++] == '-';
		while (i < n && s[i] >= '0' && s[i] <= '9') {
			if (exponent < 100000)
				exponent = exponent * 10 + (s[i] - '0');
			i++;
		}
		if (exp_negative)
			exponent = -exponent;
	}
	if (i != n || ndigits[0] == 0)
		return JSON_INT_NOT_INTEGER;
	limit = negative ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	/*
	 * Value = int(digits[0] digits[1]) * 10^(exponent - ndigits[1]).  Walk
	 * the significand's digits; each one lands left of the point (pushed)
	 * or right of it (must be zero for an integer).
	 */
	long long point = (long long)ndigits[0] + exponent;	/* digits left of the point */
	size_t total = ndigits[0] + ndigits[1];

	for (size_t k = 0; k < total; k++) {
		int d = (k < ndigits[0] ? digits[0][k] : digits[1][k - ndigits[0]]) - '0';

		if ((long long)k < point) {
			if (!push_digit(&mag, d, limit))
				return JSON_INT_OUT_OF_RANGE;
		} else if (d != 0) {
			return JSON_INT_NOT_INTEGER;
		}
	}
	/* Trailing zeros from a positive exponent beyond the digits given. */
	for (long long k = (long long)total; k < point && mag != 0; k++)
		if (!push_digit(&mag, 0, limit))
			return JSON_INT_OUT_OF_RANGE;
	if (!negative)
		*out = (int64_t)mag;
	else
		*out = mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag;
	return JSON_INT_OK;
}

/*
 * Skips the string token that starts at t[i] (a quote); returns the index
 * after its closing quote and whether it holds an escaped U+0000.  The text
 * passed the strict syntax check, so every string is closed.
 */
static size_t
skip_string(const char *t, size_t len, size_t i, bool *has_nul)
{
	*has_nul = false;
	for (i++; i < len && t[i] != '"'; i++) {
		if (t[i] != '\\')
			continue;
		if (i + 5 < len && t[i + 1] == 'u' && memcmp(t + i + 2, "0000", 4) == 0)
			*has_nul = true;
		i++;	/* the escaped character, e.g. the second \ of \\ */
	}
	return i + 1;
}

bool
json_doc_member_name_has_nul(const struct json_doc *doc)
{
	const char *t = doc->text;
	size_t len = doc->len, i = 0;

	/* No backslash, no escape: the common case costs one memchr. */
	if (memchr(t, '\\', len) == NULL)
		return false;
	while (i < len) {
		bool has_nul;

		if (t[i] != '"') {
			i++;
			continue;
		}
		i = skip_string(t, len, i, &has_nul);
		if (!has_nul)
			continue;
		while (i < len && (t[i] == ' ' || t[i] == '\t' || t[i] == '\n' || t[i] == '\r'))
			i++;
		if (i < len && t[i] == ':')
			return true;	/* a member name, not a value */
	}
	return false;
}
