#include "common/json.h"

#include <stdbool.h>
#include <string.h>

#include "common/strbuf.h"

int
json_doc_parse(struct json_doc *doc, const char *text, size_t len)
{
	const char *end = NULL;

	doc->text = text;
	doc->len = len;
	doc->root = NULL;
	/* JSON text is UTF-8 (RFC 8259 §8.1); cJSON copies bytes unchecked. */
	if (!utf8_valid(text, len))
		return -1;
	doc->root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
	if (doc->root == NULL)
		return -1;
	while (end < text + len && (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r'))
		end++;
	if (end != text + len) {
		json_doc_free(doc);
		return -1;
	}
	return 0;
}

void
json_doc_free(struct json_doc *doc)
{
	cJSON_Delete(doc->root);
	doc->root = NULL;
}

/* Counts number items before `target` in document (pre-)order. */
static bool
number_index(const cJSON *node, const cJSON *target, size_t *index)
{
	if (node == target)
		return true;
	if (cJSON_IsNumber(node))
		(*index)++;
	for (const cJSON *child = node->child; child != NULL; child = child->next)
		if (number_index(child, target, index))
			return true;
	return false;
}

/*
 * Finds the source text of the index-th number token.  cJSON builds items in
 * the order their tokens appear, so the k-th number of a pre-order walk is the
 * k-th number token outside strings.
 */
static bool
number_token(const char *s, size_t n, size_t index, const char **tok, size_t *toklen)
{
	size_t i = 0, seen = 0;

	while (i < n) {
		char c = s[i];

		if (c == '"') {
			for (i++; i < n && s[i] != '"'; i++)
				if (s[i] == '\\')
					i++;
			i++;
		} else if (c == '-' || (c >= '0' && c <= '9')) {
			size_t start = i;

			while (i < n && strchr("+-.eE0123456789", s[i]) != NULL && s[i] != '\0')
				i++;
			if (seen++ == index) {
				*tok = s + start;
				*toklen = i - start;
				return true;
			}
		} else {
			i++;
		}
	}
	return false;
}

enum json_int_result
json_doc_int64(const struct json_doc *doc, const cJSON *item, int64_t *out)
{
	size_t index = 0, toklen;
	const char *tok;

	if (!number_index(doc->root, item, &index) ||
	    !number_token(doc->text, doc->len, index, &tok, &toklen))
		return JSON_INT_NOT_INTEGER;
	return json_number_text_to_int64(tok, toklen, out);
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
