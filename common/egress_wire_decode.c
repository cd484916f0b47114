/* Runs in: workers and the egress process. See egress_wire.h. */
#include "common/egress_wire.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/egress_wire_rules.h"

/* The first payload buffer; it doubles as bytes arrive. */
#define FIRST_BUFFER 4096
/* A buffer grown past this for one large frame is released after it. */
#define KEPT_BUFFER (64 * 1024)

struct egress_wire_decoder {
	struct egress_wire_limits limits;
	enum egress_wire_role peer;
	unsigned char head[EGRESS_WIRE_HEAD_SIZE];
	size_t head_len;
	/* Once the head is in and checked: the frame's type and payload size. */
	const struct egress_wire_type_rules *rules;
	uint32_t payload_size;
	uint32_t payload_len;	/* bytes of it buffered */
	char *payload;
	size_t payload_cap;
	struct egress_wire_header *headers;	/* limits.max_headers slots */
	bool hello_seen;
	bool delivered;		/* the last call returned the frame's message */
	bool failed;
	struct egress_wire_error error;
};

struct egress_wire_decoder *
egress_wire_decoder_new(const struct egress_wire_limits *limits, enum egress_wire_role peer)
{
	struct egress_wire_decoder *dec;

	if (limits->max_headers > EGRESS_WIRE_MAX_HEADERS_CEILING
	    || (peer != EGRESS_WIRE_ROLE_WORKER && peer != EGRESS_WIRE_ROLE_EGRESS)) {
		errno = EINVAL;
		return NULL;
	}
	dec = calloc(1, sizeof(*dec));
	if (dec == NULL)
		return NULL;
	/* One slot more than needed, so that no limit makes a zero-sized calloc. */
	dec->headers = calloc((size_t)limits->max_headers + 1, sizeof(*dec->headers));
	if (dec->headers == NULL) {
		free(dec);
		return NULL;
	}
	dec->limits = *limits;
	dec->peer = peer;
	return dec;
}

void
egress_wire_decoder_free(struct egress_wire_decoder *dec)
{
	if (dec == NULL)
		return;
	free(dec->payload);
	free(dec->headers);
	free(dec);
}

const struct egress_wire_error *
egress_wire_decoder_error(const struct egress_wire_decoder *dec)
{
	return &dec->error;
}

/* Forgets the frame just delivered; lets go of a buffer one large frame grew. */
static void
start_frame(struct egress_wire_decoder *dec)
{
	dec->head_len = 0;
	dec->rules = NULL;
	dec->payload_size = dec->payload_len = 0;
	dec->delivered = false;
	if (dec->payload_cap > KEPT_BUFFER) {
		free(dec->payload);
		dec->payload = NULL;
		dec->payload_cap = 0;
	}
}

/*
 * Checks a complete head, before any of its payload is buffered: after these
 * 12 bytes the decoder knows whether it will take the frame, and how much
 * memory it may need for it at most.
 */
static int
check_head(struct egress_wire_decoder *dec)
{
	const unsigned char *h = dec->head;
	const struct egress_wire_type_rules *t;
	struct egress_wire_error *err = &dec->error;
	uint32_t size = egress_wire_get_u32(h + 8);

	if (h[0] != EGRESS_WIRE_MAGIC)
		return egress_wire_rules_fail(err, EGRESS_WIRE_E_MAGIC,
		    "frame starts with 0x%02x, not the magic 0x%02x", h[0], EGRESS_WIRE_MAGIC);
	if (h[1] != EGRESS_WIRE_VERSION)
		return egress_wire_rules_fail(err, EGRESS_WIRE_E_VERSION,
		    "frame of version %u; this side speaks version %u", h[1], EGRESS_WIRE_VERSION);
	t = egress_wire_rules_of(h[2]);
	if (t == NULL)
		return egress_wire_rules_fail(err, EGRESS_WIRE_E_TYPE, "unknown frame type %u", h[2]);
	if ((t->senders & dec->peer) == 0)
		return egress_wire_rules_fail(err, EGRESS_WIRE_E_TYPE, "%s from the %s, which never sends it", t->name,
		    egress_wire_role_name(dec->peer));
	if ((h[3] & ~t->flags) != 0)
		return egress_wire_rules_fail(err, EGRESS_WIRE_E_FLAGS, "%s with undefined flags 0x%02x", t->name,
		    h[3] & ~t->flags);
	if (egress_wire_rules_check_id(t, egress_wire_get_u32(h + 4), err) < 0)
		return -1;
	if (dec->hello_seen == (h[2] == EGRESS_WIRE_HELLO))
		return egress_wire_rules_fail(err, EGRESS_WIRE_E_SEQUENCE, dec->hello_seen ? "%s after the HELLO"
		    : "%s before any HELLO", t->name);
	if (size > dec->limits.max_payload)
		return egress_wire_rules_fail(err, EGRESS_WIRE_E_TOO_LARGE,
		    "%s of %u payload bytes is over the limit of %u", t->name, size, dec->limits.max_payload);
	dec->hello_seen = true;
	dec->rules = t;
	dec->payload_size = size;
	return 0;
}

/* Copies payload bytes in, growing the buffer by what arrives, never past the checked size. */
static int
take_payload(struct egress_wire_decoder *dec, const unsigned char *p, size_t n)
{
	size_t need = (size_t)dec->payload_len + n, cap;
	char *grown;

	if (need > dec->payload_cap) {
		cap = dec->payload_cap > 0 ? dec->payload_cap * 2 : FIRST_BUFFER;
		if (cap < need)
			cap = need;
		if (cap > dec->payload_size)
			cap = dec->payload_size;
		grown = realloc(dec->payload, cap);
		if (grown == NULL)
			return egress_wire_rules_fail(&dec->error, EGRESS_WIRE_E_NO_MEMORY,
			    "no memory to buffer a %s of %u bytes", dec->rules->name, dec->payload_size);
		dec->payload = grown;
		dec->payload_cap = cap;
	}
	memcpy(dec->payload + dec->payload_len, p, n);
	dec->payload_len += (uint32_t)n;
	return 0;
}

/*
 * A HEADER field into the next slot.  The count and byte limits are checked
 * here, as each arrives, because the slots are only max_headers long; the
 * rules check them again with the names and values.
 */
static int
take_header(struct egress_wire_decoder *dec, const char *p, size_t len, struct egress_wire_fields *f,
    uint64_t *header_bytes)
{
	const char *type = dec->rules->name;
	struct egress_wire_header *h;
	size_t name_len;

	if (f->n_headers == dec->limits.max_headers)
		return egress_wire_rules_fail(&dec->error, EGRESS_WIRE_E_HEADER_COUNT,
		    "%s has more than %u headers", type, dec->limits.max_headers);
	if (len < 2)
		return egress_wire_rules_fail(&dec->error, EGRESS_WIRE_E_FIELD_SIZE,
		    "%s header %zu is %zu bytes, too short for its name length", type, f->n_headers, len);
	name_len = egress_wire_get_u16((const unsigned char *)p);
	if (name_len > len - 2)
		return egress_wire_rules_fail(&dec->error, EGRESS_WIRE_E_FIELD_SIZE,
		    "%s header %zu has a name of %zu bytes in a field of %zu", type, f->n_headers, name_len, len);
	*header_bytes += len - 2;
	if (*header_bytes > dec->limits.max_header_bytes)
		return egress_wire_rules_fail(&dec->error, EGRESS_WIRE_E_HEADER_BYTES,
		    "%s headers take over %u bytes by header %zu", type, dec->limits.max_header_bytes, f->n_headers);
	h = &dec->headers[f->n_headers++];
	h->name = (struct egress_wire_span){p + 2, name_len};
	h->value = (struct egress_wire_span){p + 2 + name_len, len - 2 - name_len};
	f->headers = dec->headers;
	return 0;
}

/* One field the type lists, into f. */
static int
take_field(struct egress_wire_decoder *dec, size_t i, const char *p, size_t len, struct egress_wire_fields *f,
    uint64_t *header_bytes)
{
	const struct egress_wire_field_rule *rule = &dec->rules->fields[i];

	if (rule->kind == EGRESS_WIRE_FIELD_HEADER)
		return take_header(dec, p, len, f, header_bytes);
	if (f->present[i])
		return egress_wire_rules_fail(&dec->error, EGRESS_WIRE_E_DUPLICATE, "%s has two %s fields",
		    dec->rules->name, rule->name);
	f->present[i] = true;
	if (rule->kind != EGRESS_WIRE_FIELD_NUMBER) {
		f->span[i] = (struct egress_wire_span){p, len};
		return 0;
	}
	if (len != 4)
		return egress_wire_rules_fail(&dec->error, EGRESS_WIRE_E_FIELD_SIZE, "%s %s is %zu bytes, not 4",
		    dec->rules->name, rule->name, len);
	f->number[i] = egress_wire_get_u32((const unsigned char *)p);
	return 0;
}

/* Reads the buffered payload's fields, skipping tags the type does not list. */
static int
read_fields(struct egress_wire_decoder *dec, struct egress_wire_fields *f)
{
	const unsigned char *p = (const unsigned char *)dec->payload;
	size_t left = dec->payload_size, len;
	uint64_t header_bytes = 0;
	uint16_t tag;
	int i;

	while (left > 0) {
		if (left < EGRESS_WIRE_FIELD_HEAD_SIZE)
			return egress_wire_rules_fail(&dec->error, EGRESS_WIRE_E_OVERRUN,
			    "%s ends in %zu bytes, too few for a field head", dec->rules->name, left);
		tag = egress_wire_get_u16(p);
		len = egress_wire_get_u32(p + 2);
		p += EGRESS_WIRE_FIELD_HEAD_SIZE;
		left -= EGRESS_WIRE_FIELD_HEAD_SIZE;
		if (len > left)
			return egress_wire_rules_fail(&dec->error, EGRESS_WIRE_E_OVERRUN,
			    "%s field %u of %zu bytes runs past the frame (%zu bytes left)", dec->rules->name, tag,
			    len, left);
		i = egress_wire_rules_field(dec->rules, tag);
		if (i >= 0 && take_field(dec, (size_t)i, (const char *)p, len, f, &header_bytes) < 0)
			return -1;
		p += len;
		left -= len;
	}
	return 0;
}

/* The complete frame as a message, checked by the rules the encoder applies. */
static int
read_message(struct egress_wire_decoder *dec, struct egress_wire_message *msg)
{
	const struct egress_wire_type_rules *t = dec->rules;
	struct egress_wire_fields f;

	memset(&f, 0, sizeof(f));
	if (read_fields(dec, &f) < 0 || egress_wire_rules_check(t, &f, &dec->limits, &dec->error) < 0)
		return -1;
	memset(msg, 0, sizeof(*msg));
	msg->type = (enum egress_wire_type)dec->head[2];
	msg->id = egress_wire_get_u32(dec->head + 4);
	t->unflatten(&f, dec->head[3], msg);
	if (msg->type == EGRESS_WIRE_HELLO && msg->hello.role != dec->peer)
		return egress_wire_rules_fail(&dec->error, EGRESS_WIRE_E_VALUE,
		    "HELLO from a %s where the %s was expected", egress_wire_role_name(msg->hello.role),
		    egress_wire_role_name(dec->peer));
	return 0;
}

static size_t
min_size(size_t a, size_t b)
{
	return a < b ? a : b;
}

static int
decode(struct egress_wire_decoder *dec, const unsigned char *in, size_t len, size_t *used,
    struct egress_wire_message *msg)
{
	size_t n;

	if (dec->delivered)
		start_frame(dec);
	n = min_size(EGRESS_WIRE_HEAD_SIZE - dec->head_len, len);
	if (n > 0) {
		memcpy(dec->head + dec->head_len, in, n);
		dec->head_len += n;
		*used = n;
	}
	if (dec->head_len < EGRESS_WIRE_HEAD_SIZE)
		return 0;
	if (dec->rules == NULL && check_head(dec) < 0)
		return -1;
	n = min_size(len - *used, dec->payload_size - dec->payload_len);
	if (n > 0) {
		if (take_payload(dec, in + *used, n) < 0)
			return -1;
		*used += n;
	}
	if (dec->payload_len < dec->payload_size)
		return 0;
	if (read_message(dec, msg) < 0)
		return -1;
	dec->delivered = true;
	return 1;
}

int
egress_wire_decode(struct egress_wire_decoder *dec, const void *data, size_t len, size_t *used,
    struct egress_wire_message *msg)
{
	int rc;

	*used = 0;
	if (dec->failed)
		return -1;
	rc = decode(dec, data, len, used, msg);
	if (rc < 0)
		dec->failed = true;
	return rc;
}
