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

/* Value spans kept inside the json_doc itself: a typical request needs no more. */
#define JSON_DOC_INLINE_SPANS 32

/* Where one string or number value of the tree sits in the source text. */
struct json_span {
	const cJSON *item;	/* the tree's item for it, to tell a foreign item */
	uint32_t start;
	uint32_t len;
};

/*
 * A parsed document and its source text.  Every string and number value of
 * the tree has a span, and its index in the spans is kept in the item's
 * valueint (see json.c): an exact read costs the same for the millionth
 * value as for the first.  So valueint of a json_doc's numbers is not their
 * value; read them with json_doc_int64 or valuedouble.
 */
struct json_doc {
	const char *text;
	size_t len;
	cJSON *root;
	bool out_of_memory;	/* parsing failed for want of memory, not bad JSON */
	size_t nspans;
	size_t heap_cap;
	struct json_span *heap;	/* the spans once they outgrow inline_spans, else NULL */
	struct json_span inline_spans[JSON_DOC_INLINE_SPANS];
};

/**
 * Parses text[0..len) (which must be valid UTF-8 JSON with nothing after it).
 * Returns 0, or -1 when it is not JSON or memory ran out (then
 * doc->out_of_memory is set).  Free with json_doc_free, which a failed parse
 * does not need but allows.
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
