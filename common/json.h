/*
 * json: helpers around cJSON for what it does not do itself.
 *
 * cJSON keeps every number as a double, which silently rounds integers past
 * 2^53.  A json_doc keeps the source text beside the tree so that a number can
 * be read back exactly from the characters the client sent.
 */
#ifndef MCPD_COMMON_JSON_H
#define MCPD_COMMON_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cJSON.h>

/* Scalar value tokens whose place in the text is remembered while parsing. */
#define JSON_DOC_SPANS 64

struct json_doc {
	const char *text;
	size_t len;
	cJSON *root;
	/* Where the first scalar values (in document order) sit in text, so an
	 * exact read needs no rescan; later ones are found by scanning. */
	uint32_t span_start[JSON_DOC_SPANS];
	uint32_t span_len[JSON_DOC_SPANS];
	size_t nspans;
};

/**
 * Parses text[0..len) (which must be valid UTF-8 JSON with nothing after it).
 * Returns 0, or -1 when it is not JSON.  Free with json_doc_free.
 */
int json_doc_parse(struct json_doc *doc, const char *text, size_t len);
void json_doc_free(struct json_doc *doc);

enum json_int_result { JSON_INT_OK, JSON_INT_NOT_INTEGER, JSON_INT_OUT_OF_RANGE };

/**
 * Reads number `item` of `doc` as an exact 64-bit integer, from its source
 * text.  2, 2.0 and 2e0 are the integer 2; 2.5 is not an integer; 2^63 is out
 * of range.  `item` must be a number inside doc->root.
 */
enum json_int_result json_doc_int64(const struct json_doc *doc, const cJSON *item, int64_t *out);

/**
 * True when string `item` of `doc` holds U+0000 (sent as \u0000).  cJSON keeps
 * strings NUL-terminated, so such a string would silently end early.
 */
bool json_doc_string_has_nul(const struct json_doc *doc, const cJSON *item);

/**
 * True when a member name anywhere in `doc` holds U+0000.  cJSON cuts such a
 * name short, so "method\u0000x" would be found as "method".
 */
bool json_doc_member_name_has_nul(const struct json_doc *doc);

/** Converts a JSON number's text exactly (exposed for tests). */
enum json_int_result json_number_text_to_int64(const char *s, size_t n, int64_t *out);

#endif
