/* Runs in: workers and the egress process. */
#include "common/egress_wire.h"

#include <string.h>

#include "common/egress_wire_rules.h"

/* Encoder. */

static void
put_u16(struct strbuf *out, uint16_t v)
{
	char b[2] = {(char)(v >> 8), (char)v};

	strbuf_append(out, b, sizeof(b));
}

static void
put_u32(struct strbuf *out, uint32_t v)
{
	char b[4] = {(char)(v >> 24), (char)(v >> 16), (char)(v >> 8), (char)v};

	strbuf_append(out, b, sizeof(b));
}

/* Appends s; memcpy may not be handed the NULL base of an empty span. */
static void
put_span(struct strbuf *out, struct egress_wire_span s)
{
	if (s.len > 0)
		strbuf_append(out, s.base, s.len);
}

static void
put_field_head(struct strbuf *out, uint16_t tag, size_t len)
{
	put_u16(out, tag);
	put_u32(out, (uint32_t)len);
}

/* The payload bytes of present fields; 64 bits, so no sum of lengths wraps. */
static uint64_t
fields_size(const struct egress_wire_type_rules *t, const struct egress_wire_fields *f)
{
	uint64_t size = 0;
	size_t i, j;

	for (i = 0; i < t->n_fields; i++) {
		if (!f->present[i])
			continue;
		switch (t->fields[i].kind) {
		case EGRESS_WIRE_FIELD_NUMBER:
			size += EGRESS_WIRE_FIELD_HEAD_SIZE + 4;
			break;
		case EGRESS_WIRE_FIELD_HEADER:
			for (j = 0; j < f->n_headers; j++)
				size += EGRESS_WIRE_FIELD_HEAD_SIZE + 2 + (uint64_t)f->headers[j].name.len
				    + f->headers[j].value.len;
			break;
		default:
			size += EGRESS_WIRE_FIELD_HEAD_SIZE + (uint64_t)f->span[i].len;
		}
	}
	return size;
}

static void
put_fields(struct strbuf *out, const struct egress_wire_type_rules *t, const struct egress_wire_fields *f)
{
	const struct egress_wire_header *h;
	uint16_t tag;
	size_t i, j;

	for (i = 0; i < t->n_fields; i++) {
		if (!f->present[i])
			continue;
		tag = t->fields[i].tag;
		switch (t->fields[i].kind) {
		case EGRESS_WIRE_FIELD_NUMBER:
			put_field_head(out, tag, 4);
			put_u32(out, f->number[i]);
			break;
		case EGRESS_WIRE_FIELD_HEADER:
			for (j = 0; j < f->n_headers; j++) {
				h = &f->headers[j];
				put_field_head(out, tag, 2 + h->name.len + h->value.len);
				put_u16(out, (uint16_t)h->name.len);
				put_span(out, h->name);
				put_span(out, h->value);
			}
			break;
		default:
			put_field_head(out, tag, f->span[i].len);
			put_span(out, f->span[i]);
		}
	}
}

static void
put_head(struct strbuf *out, const struct egress_wire_message *msg, uint32_t payload)
{
	char b[4] = {(char)EGRESS_WIRE_MAGIC, EGRESS_WIRE_VERSION, (char)msg->type,
	    (char)egress_wire_rules_flags(msg)};

	strbuf_append(out, b, sizeof(b));
	put_u32(out, msg->id);
	put_u32(out, payload);
}

int
egress_wire_encode(struct strbuf *out, const struct egress_wire_message *msg,
    const struct egress_wire_limits *limits, struct egress_wire_error *err)
{
	const struct egress_wire_type_rules *t = egress_wire_rules_of(msg->type);
	struct egress_wire_fields f;
	size_t start = out->len;
	uint64_t size;

	if (t == NULL)
		return egress_wire_rules_fail(err, EGRESS_WIRE_E_TYPE, "cannot encode frame type %d", (int)msg->type);
	if (egress_wire_rules_check_id(t, msg->id, err) < 0)
		return -1;
	egress_wire_rules_flatten(t, msg, &f);
	if (egress_wire_rules_check(t, &f, limits, err) < 0)
		return -1;
	size = fields_size(t, &f);
	if (size > limits->max_payload)
		return egress_wire_rules_fail(err, EGRESS_WIRE_E_TOO_LARGE,
		    "%s of %llu payload bytes is over the peer's limit of %u", t->name, (unsigned long long)size,
		    limits->max_payload);
	put_head(out, msg, (uint32_t)size);
	put_fields(out, t, &f);
	if (strbuf_ok(out))
		return 0;
	/* Take back the part of the frame that fitted: never half a frame. */
	out->len = start;
	if (out->data != NULL)
		out->data[start] = '\0';
	return egress_wire_rules_fail(err, EGRESS_WIRE_E_NO_MEMORY, "no memory for a %s frame of %llu bytes",
	    t->name, (unsigned long long)size + EGRESS_WIRE_HEAD_SIZE);
}

size_t
egress_wire_payload_size(const struct egress_wire_message *msg)
{
	const struct egress_wire_type_rules *t = egress_wire_rules_of(msg->type);
	struct egress_wire_fields f;
	uint64_t size;

	if (t == NULL)
		return SIZE_MAX;
	egress_wire_rules_flatten(t, msg, &f);
	size = fields_size(t, &f);
	return size > UINT32_MAX ? SIZE_MAX : (size_t)size;
}

/*
 * Comparison, field by field rather than through the rules' flattening, so
 * that a field the rules drop shows up as a difference in the tests.
 */

static bool
span_is(struct egress_wire_span a, struct egress_wire_span b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.base, b.base, a.len) == 0);
}

static bool
hello_equal(const struct egress_wire_hello *a, const struct egress_wire_hello *b)
{
	return a->version == b->version && a->role == b->role && a->limits.max_payload == b->limits.max_payload
	    && a->limits.max_headers == b->limits.max_headers
	    && a->limits.max_header_bytes == b->limits.max_header_bytes;
}

static bool
headers_equal(const struct egress_wire_header *a, size_t na, const struct egress_wire_header *b, size_t nb)
{
	size_t i;

	if (na != nb)
		return false;
	for (i = 0; i < na; i++)
		if (!span_is(a[i].name, b[i].name) || !span_is(a[i].value, b[i].value))
			return false;
	return true;
}

static bool
request_equal(const struct egress_wire_request *a, const struct egress_wire_request *b)
{
	return a->tool_index == b->tool_index && span_is(a->tool_name, b->tool_name)
	    && span_is(a->method, b->method) && span_is(a->url, b->url)
	    && headers_equal(a->headers, a->n_headers, b->headers, b->n_headers) && span_is(a->body, b->body)
	    && a->deadline_ms == b->deadline_ms && a->response_cap == b->response_cap
	    && a->header_cap == b->header_cap && a->follow_redirects == b->follow_redirects
	    && span_is(a->aws_service, b->aws_service) && span_is(a->aws_region, b->aws_region);
}

static bool
response_equal(const struct egress_wire_response *a, const struct egress_wire_response *b)
{
	return a->status == b->status && headers_equal(a->headers, a->n_headers, b->headers, b->n_headers)
	    && span_is(a->body, b->body) && a->truncated == b->truncated
	    && span_is(a->remote_address, b->remote_address);
}

static bool
failure_equal(const struct egress_wire_failure *a, const struct egress_wire_failure *b)
{
	return a->outcome == b->outcome && span_is(a->message, b->message) && a->status == b->status
	    && span_is(a->remote_address, b->remote_address);
}

bool
egress_wire_message_equal(const struct egress_wire_message *a, const struct egress_wire_message *b)
{
	if (a->type != b->type || a->id != b->id)
		return false;
	switch (a->type) {
	case EGRESS_WIRE_HELLO:
		return hello_equal(&a->hello, &b->hello);
	case EGRESS_WIRE_REQUEST:
		return request_equal(&a->request, &b->request);
	case EGRESS_WIRE_CANCEL:
		return true;
	case EGRESS_WIRE_RESPONSE:
		return response_equal(&a->response, &b->response);
	case EGRESS_WIRE_FAILURE:
		return failure_equal(&a->failure, &b->failure);
	}
	return false;
}

/* Names. */

static const char *const role_names[] = {
	[EGRESS_WIRE_ROLE_WORKER] = "worker",
	[EGRESS_WIRE_ROLE_EGRESS] = "egress",
};

/* The label values of mcpd_egress_requests_total{outcome}. */
static const char *const outcome_names[EGRESS_WIRE_OUTCOME_COUNT] = {
	[EGRESS_WIRE_OUTCOME_OK] = "ok",
	[EGRESS_WIRE_OUTCOME_REFUSED_DESTINATION] = "refused_destination",
	[EGRESS_WIRE_OUTCOME_DNS_FAILURE] = "dns_failure",
	[EGRESS_WIRE_OUTCOME_CONNECT_FAILED] = "connect_failed",
	[EGRESS_WIRE_OUTCOME_TLS_FAILED] = "tls_failed",
	[EGRESS_WIRE_OUTCOME_TIMEOUT] = "timeout",
	[EGRESS_WIRE_OUTCOME_TOO_LARGE] = "too_large",
	[EGRESS_WIRE_OUTCOME_UPSTREAM_STATUS] = "upstream_status",
	[EGRESS_WIRE_OUTCOME_CANCELLED] = "cancelled",
	[EGRESS_WIRE_OUTCOME_EGRESS_RESTARTED] = "egress_restarted",
	[EGRESS_WIRE_OUTCOME_EGRESS_BUSY] = "egress_busy",
	[EGRESS_WIRE_OUTCOME_BAD_REQUEST] = "bad_request",
	[EGRESS_WIRE_OUTCOME_INTERNAL] = "internal",
};

static const char *const error_names[EGRESS_WIRE_E_COUNT] = {
	[EGRESS_WIRE_OK] = "ok",
	[EGRESS_WIRE_E_MAGIC] = "bad_magic",
	[EGRESS_WIRE_E_VERSION] = "bad_version",
	[EGRESS_WIRE_E_TYPE] = "bad_type",
	[EGRESS_WIRE_E_FLAGS] = "bad_flags",
	[EGRESS_WIRE_E_SEQUENCE] = "bad_sequence",
	[EGRESS_WIRE_E_ID] = "bad_id",
	[EGRESS_WIRE_E_TOO_LARGE] = "too_large",
	[EGRESS_WIRE_E_OVERRUN] = "field_overrun",
	[EGRESS_WIRE_E_FIELD_SIZE] = "bad_field_size",
	[EGRESS_WIRE_E_DUPLICATE] = "duplicate_field",
	[EGRESS_WIRE_E_MISSING] = "missing_field",
	[EGRESS_WIRE_E_TEXT] = "bad_text",
	[EGRESS_WIRE_E_VALUE] = "bad_value",
	[EGRESS_WIRE_E_HEADER_COUNT] = "too_many_headers",
	[EGRESS_WIRE_E_HEADER_BYTES] = "headers_too_large",
	[EGRESS_WIRE_E_NO_MEMORY] = "no_memory",
};

/* names[value], or "unknown" past the table or in a hole of it. */
static const char *
name_in(const char *const *names, size_t count, unsigned value)
{
	if (value >= count || names[value] == NULL)
		return "unknown";
	return names[value];
}

#define NAME_IN(names, value) name_in(names, sizeof(names) / sizeof(names[0]), (unsigned)(value))

const char *
egress_wire_type_name(enum egress_wire_type type)
{
	const struct egress_wire_type_rules *t = egress_wire_rules_of((unsigned)type);

	return t != NULL ? t->name : "unknown";
}

const char *
egress_wire_role_name(enum egress_wire_role role)
{
	return NAME_IN(role_names, role);
}

const char *
egress_wire_outcome_name(enum egress_wire_outcome outcome)
{
	return NAME_IN(outcome_names, outcome);
}

const char *
egress_wire_error_name(enum egress_wire_error_code code)
{
	return NAME_IN(error_names, code);
}
