#include "common/json.h"

#include <stdbool.h>
#include <string.h>

#include "common/strbuf.h"

/* Deepest nesting accepted; MCP messages are a few levels deep. */
#define JSON_MAX_DEPTH 64

struct scanner {
	const char *p, *end;
	int depth;
	struct json_doc *record;	/* where scalar value spans go, or NULL */
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

static bool
scan_value(struct scanner *sc)
{
	struct json_doc *doc = sc->record;
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
	if (doc != NULL && doc->nspans < JSON_DOC_SPANS) {
		doc->span_start[doc->nspans] = (uint32_t)(start - doc->text);
		doc->span_len[doc->nspans++] = (uint32_t)(sc->p - start);
	}
	return true;
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

int
json_doc_parse(struct json_doc *doc, const char *text, size_t len)
{
	doc->text = text;
	doc->len = len;
	doc->root = NULL;
	doc->nspans = 0;
	/* JSON text is UTF-8 (RFC 8259 §8.1); cJSON copies bytes unchecked. */
	if (len > UINT32_MAX || !utf8_valid(text, len) || !json_syntax_valid(doc, text, len))
		return -1;
	doc->root = cJSON_ParseWithLength(text, len);
	return doc->root != NULL ? 0 : -1;
}

void
json_doc_free(struct json_doc *doc)
{
	cJSON_Delete(doc->root);
	doc->root = NULL;
}

/* Counts scalar items (not objects or arrays) before `target`, in pre-order. */
static bool
scalar_index(const cJSON *node, const cJSON *target, size_t *index)
{
	if (node == target)
		return true;
	if (!cJSON_IsObject(node) && !cJSON_IsArray(node))
		(*index)++;
	for (const cJSON *child = node->child; child != NULL; child = child->next)
		if (scalar_index(child, target, index))
			return true;
	return false;
}

/*
 * Finds the source text of the index-th scalar value token.  cJSON builds
 * items in the order their tokens appear, so the k-th scalar of a pre-order
 * walk is the k-th scalar token that is not an object key.  The text passed
 * the strict syntax check, so the scanner's helpers cannot run off the end.
 */
static bool
scalar_token(const struct json_doc *doc, size_t index, const char **tok, size_t *toklen)
{
	struct scanner sc = {.p = doc->text, .end = doc->text + doc->len};
	size_t seen = 0;

	if (index < doc->nspans) {
		*tok = doc->text + doc->span_start[index];
		*toklen = doc->span_len[index];
		return true;
	}

	while (sc.p < sc.end) {
		const char *start = sc.p;
		char c = *sc.p;

		if (c == '"') {
			scan_string(&sc);
			skip_ws(&sc);
			if (sc.p < sc.end && *sc.p == ':')
				continue;	/* an object key */
		} else if (c == '-' || is_digit(c)) {
			scan_number(&sc);
		} else if (c == 't' || c == 'f' || c == 'n') {
			sc.p += c == 'f' ? 5 : 4;
		} else {
			sc.p++;
			continue;
		}
		if (seen++ == index) {
			*tok = start;
			*toklen = (size_t)(sc.p - start);
			while (*toklen > 0 && strchr(" \t\r\n", start[*toklen - 1]) != NULL)
				(*toklen)--;
			return true;
		}
	}
	return false;
}

static bool
item_token(const struct json_doc *doc, const cJSON *item, const char **tok, size_t *toklen)
{
	size_t index = 0;

	return scalar_index(doc->root, item, &index) && scalar_token(doc, index, tok, toklen);
}

enum json_int_result
json_doc_int64(const struct json_doc *doc, const cJSON *item, int64_t *out)
{
	size_t toklen;
	const char *tok;

	if (!cJSON_IsNumber(item) || !item_token(doc, item, &tok, &toklen))
		return JSON_INT_NOT_INTEGER;
	return json_number_text_to_int64(tok, toklen, out);
}

bool
json_doc_string_has_nul(const struct json_doc *doc, const cJSON *item)
{
	size_t toklen;
	const char *tok;

	/* No backslash in the whole text, no escape: most requests stop here. */
	if (!cJSON_IsString(item) || memchr(doc->text, '\\', doc->len) == NULL ||
	    !item_token(doc, item, &tok, &toklen))
		return false;
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
