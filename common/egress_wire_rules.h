/*
 * egress_wire_rules: what each frame type of common/egress_wire.h holds,
 * and the checks the encoder (egress_wire.c) and the decoder
 * (egress_wire_decode.c) both apply, so that what one writes the other
 * accepts.  Only those two files include this header.
 *
 * Both see a message as its fields (struct egress_wire_fields): the encoder
 * flattens a message into them and writes them, the decoder reads them and
 * builds the message from them.
 */
#ifndef MCPD_COMMON_EGRESS_WIRE_RULES_H
#define MCPD_COMMON_EGRESS_WIRE_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/egress_wire.h"

/* The most fields a type lists (REQUEST). */
#define EGRESS_WIRE_MAX_FIELDS 11

/* How a field's bytes are read. */
enum egress_wire_field_kind {
	EGRESS_WIRE_FIELD_NUMBER,	/* u32: exactly 4 bytes */
	EGRESS_WIRE_FIELD_TEXT,		/* UTF-8 without control characters */
	EGRESS_WIRE_FIELD_BYTES,	/* anything */
	EGRESS_WIRE_FIELD_HEADER,	/* u16 name length, name, value; repeated */
};

struct egress_wire_field_rule {
	uint16_t tag;
	uint8_t kind;		/* enum egress_wire_field_kind */
	bool required;
	bool nonempty;		/* text that may not be empty */
	const char *name;	/* for error messages */
};

/* A message as the fields of its type's rule table, by index. */
struct egress_wire_fields {
	bool present[EGRESS_WIRE_MAX_FIELDS];
	uint32_t number[EGRESS_WIRE_MAX_FIELDS];
	struct egress_wire_span span[EGRESS_WIRE_MAX_FIELDS];
	const struct egress_wire_header *headers;
	size_t n_headers;
};

struct egress_wire_type_rules {
	const char *name;	/* "REQUEST" */
	unsigned senders;	/* enum egress_wire_role bits */
	uint8_t flags;		/* the flag bits the type defines */
	bool has_id;		/* a request's id (not 0), else 0 */
	const struct egress_wire_field_rule *fields;	/* in the order the encoder writes them */
	size_t n_fields;
	void (*flatten)(const struct egress_wire_message *msg, struct egress_wire_fields *f);
	void (*unflatten)(const struct egress_wire_fields *f, uint8_t flags, struct egress_wire_message *msg);
	/* The values of checked fields: ranges and combinations. */
	int (*check)(const struct egress_wire_fields *f, struct egress_wire_error *err);
};

/** The rules of a frame type, or NULL for an unknown one. */
const struct egress_wire_type_rules *egress_wire_rules_of(unsigned type);

/** Index of `tag` in t's fields, or -1 when the type does not list it (skipped). */
int egress_wire_rules_field(const struct egress_wire_type_rules *t, uint16_t tag);

/**
 * msg as fields, each marked present when required or not empty (a number
 * not 0, a span not empty, headers there): what the encoder writes.
 */
void egress_wire_rules_flatten(const struct egress_wire_type_rules *t, const struct egress_wire_message *msg,
    struct egress_wire_fields *f);

/** The flags byte of msg's frame. */
uint8_t egress_wire_rules_flags(const struct egress_wire_message *msg);

/** Fails unless `id` fits the type: 0 on HELLO, not 0 on the others. */
int egress_wire_rules_check_id(const struct egress_wire_type_rules *t, uint32_t id, struct egress_wire_error *err);

/**
 * Checks present fields: every required one is there, text is valid,
 * headers are within `limits` and their names and values valid, and the
 * type's own value checks hold.  Returns 0 or -1 with err filled.
 */
int egress_wire_rules_check(const struct egress_wire_type_rules *t, const struct egress_wire_fields *f,
    const struct egress_wire_limits *limits, struct egress_wire_error *err);

/** Fills err (which may be NULL) with code and a printf-style message; returns -1. */
int egress_wire_rules_fail(struct egress_wire_error *err, enum egress_wire_error_code code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static inline uint16_t
egress_wire_get_u16(const unsigned char *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t
egress_wire_get_u32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

#endif
