/* Runs in: workers and the egress process. See egress_wire_rules.h. */
#include "common/egress_wire_rules.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/strbuf.h"

/* Each type's fields, indexed; the encoder writes them in this order. */
enum { HELLO_VERSION, HELLO_ROLE, HELLO_MAX_PAYLOAD, HELLO_MAX_HEADERS, HELLO_MAX_HEADER_BYTES, HELLO_FIELDS };
enum {
	REQ_TOOL_INDEX, REQ_TOOL_NAME, REQ_METHOD, REQ_URL, REQ_HEADERS, REQ_BODY, REQ_DEADLINE,
	REQ_RESPONSE_CAP, REQ_HEADER_CAP, REQ_AWS_SERVICE, REQ_AWS_REGION, REQ_FIELDS
};
enum { RESP_STATUS, RESP_HEADERS, RESP_BODY, RESP_REMOTE, RESP_FIELDS };
enum { FAIL_OUTCOME, FAIL_MESSAGE, FAIL_STATUS, FAIL_REMOTE, FAIL_FIELDS };
_Static_assert(REQ_FIELDS == EGRESS_WIRE_MAX_FIELDS, "EGRESS_WIRE_MAX_FIELDS is the longest type's count");

#define NUMBER(t, n, req) { EGRESS_WIRE_TAG_##t, EGRESS_WIRE_FIELD_NUMBER, req, false, n }
#define TEXT(t, n, req, ne) { EGRESS_WIRE_TAG_##t, EGRESS_WIRE_FIELD_TEXT, req, ne, n }
#define BYTES(t, n) { EGRESS_WIRE_TAG_##t, EGRESS_WIRE_FIELD_BYTES, false, false, n }
#define HEADERS { EGRESS_WIRE_TAG_HEADER, EGRESS_WIRE_FIELD_HEADER, false, false, "header" }

static const struct egress_wire_field_rule hello_fields[HELLO_FIELDS] = {
	[HELLO_VERSION] = NUMBER(VERSION, "version", true),
	[HELLO_ROLE] = NUMBER(ROLE, "role", true),
	[HELLO_MAX_PAYLOAD] = NUMBER(MAX_PAYLOAD, "max_payload", true),
	[HELLO_MAX_HEADERS] = NUMBER(MAX_HEADERS, "max_headers", true),
	[HELLO_MAX_HEADER_BYTES] = NUMBER(MAX_HEADER_BYTES, "max_header_bytes", true),
};
static const struct egress_wire_field_rule request_fields[REQ_FIELDS] = {
	[REQ_TOOL_INDEX] = NUMBER(TOOL_INDEX, "tool_index", true),
	[REQ_TOOL_NAME] = TEXT(TOOL_NAME, "tool_name", true, true),
	[REQ_METHOD] = TEXT(METHOD, "method", true, true),
	[REQ_URL] = TEXT(URL, "url", true, true),
	[REQ_HEADERS] = HEADERS,
	[REQ_BODY] = BYTES(BODY, "body"),
	[REQ_DEADLINE] = NUMBER(DEADLINE_MS, "deadline_ms", true),
	[REQ_RESPONSE_CAP] = NUMBER(RESPONSE_CAP, "response_cap", true),
	[REQ_HEADER_CAP] = NUMBER(HEADER_CAP, "header_cap", true),
	[REQ_AWS_SERVICE] = TEXT(AWS_SERVICE, "aws_service", false, false),
	[REQ_AWS_REGION] = TEXT(AWS_REGION, "aws_region", false, false),
};
static const struct egress_wire_field_rule response_fields[RESP_FIELDS] = {
	[RESP_STATUS] = NUMBER(STATUS, "status", true),
	[RESP_HEADERS] = HEADERS,
	[RESP_BODY] = BYTES(BODY, "body"),
	[RESP_REMOTE] = TEXT(REMOTE_ADDRESS, "remote_address", false, false),
};
static const struct egress_wire_field_rule failure_fields[FAIL_FIELDS] = {
	[FAIL_OUTCOME] = NUMBER(OUTCOME, "outcome", true),
	[FAIL_MESSAGE] = TEXT(MESSAGE, "message", true, false),
	[FAIL_STATUS] = NUMBER(STATUS, "status", false),
	[FAIL_REMOTE] = TEXT(REMOTE_ADDRESS, "remote_address", false, false),
};
#undef NUMBER
#undef TEXT
#undef BYTES
#undef HEADERS

int
egress_wire_rules_fail(struct egress_wire_error *err, enum egress_wire_error_code code, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return -1;
	err->code = code;
	va_start(ap, fmt);
	(void)vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return -1;
}

/* HELLO. */

static void
hello_flatten(const struct egress_wire_message *msg, struct egress_wire_fields *f)
{
	const struct egress_wire_hello *h = &msg->hello;

	f->number[HELLO_VERSION] = h->version;
	f->number[HELLO_ROLE] = (uint32_t)h->role;
	f->number[HELLO_MAX_PAYLOAD] = h->limits.max_payload;
	f->number[HELLO_MAX_HEADERS] = h->limits.max_headers;
	f->number[HELLO_MAX_HEADER_BYTES] = h->limits.max_header_bytes;
}

static void
hello_unflatten(const struct egress_wire_fields *f, uint8_t flags, struct egress_wire_message *msg)
{
	struct egress_wire_hello *h = &msg->hello;

	(void)flags;
	h->version = f->number[HELLO_VERSION];
	h->role = (enum egress_wire_role)f->number[HELLO_ROLE];
	h->limits.max_payload = f->number[HELLO_MAX_PAYLOAD];
	h->limits.max_headers = f->number[HELLO_MAX_HEADERS];
	h->limits.max_header_bytes = f->number[HELLO_MAX_HEADER_BYTES];
}

static int
hello_check(const struct egress_wire_fields *f, struct egress_wire_error *err)
{
	uint32_t role = f->number[HELLO_ROLE];

	if (f->number[HELLO_VERSION] != EGRESS_WIRE_VERSION)
		return egress_wire_rules_fail(err, EGRESS_WIRE_E_VERSION,
		    "HELLO speaks version %u; this side speaks version %u", f->number[HELLO_VERSION],
		    EGRESS_WIRE_VERSION);
	if (role != EGRESS_WIRE_ROLE_WORKER && role != EGRESS_WIRE_ROLE_EGRESS)
		return egress_wire_rules_fail(err, EGRESS_WIRE_E_VALUE, "HELLO with unknown role %u", role);
	return 0;
}

/* REQUEST. */

static void
request_flatten(const struct egress_wire_message *msg, struct egress_wire_fields *f)
{
	const struct egress_wire_request *r = &msg->request;

	f->number[REQ_TOOL_INDEX] = r->tool_index;
	f->span[REQ_TOOL_NAME] = r->tool_name;
	f->span[REQ_METHOD] = r->method;
	f->span[REQ_URL] = r->url;
	f->headers = r->headers;
	f->n_headers = r->n_headers;
	f->span[REQ_BODY] = r->body;
	f->number[REQ_DEADLINE] = r->deadline_ms;
	f->number[REQ_RESPONSE_CAP] = r->response_cap;
	f->number[REQ_HEADER_CAP] = r->header_cap;
	f->span[REQ_AWS_SERVICE] = r->aws_service;
	f->span[REQ_AWS_REGION] = r->aws_region;
}

static void
request_unflatten(const struct egress_wire_fields *f, uint8_t flags, struct egress_wire_message *msg)
{
	struct egress_wire_request *r = &msg->request;

	r->tool_index = f->number[REQ_TOOL_INDEX];
	r->tool_name = f->span[REQ_TOOL_NAME];
	r->method = f->span[REQ_METHOD];
	r->url = f->span[REQ_URL];
	r->headers = f->headers;
	r->n_headers = f->n_headers;
	r->body = f->span[REQ_BODY];
	r->deadline_ms = f->number[REQ_DEADLINE];
	r->response_cap = f->number[REQ_RESPONSE_CAP];
	r->header_cap = f->number[REQ_HEADER_CAP];
	r->follow_redirects = (flags & EGRESS_WIRE_FLAG_FOLLOW_REDIRECTS) != 0;
	r->aws_service = f->span[REQ_AWS_SERVICE];
	r->aws_region = f->span[REQ_AWS_REGION];
}

static int
request_check(const struct egress_wire_fields *f, struct egress_wire_error *err)
{
	/* No deadline would let one call hold a connection slot forever. */
	if (f->number[REQ_DEADLINE] == 0)
		return egress_wire_rules_fail(err, EGRESS_WIRE_E_VALUE, "REQUEST with deadline_ms 0");
	if (f->span[REQ_AWS_REGION].len > 0 && f->span[REQ_AWS_SERVICE].len == 0)
		return egress_wire_rules_fail(err, EGRESS_WIRE_E_VALUE, "REQUEST with aws_region but no aws_service");
	return 0;
}

/* RESPONSE. */

static void
response_flatten(const struct egress_wire_message *msg, struct egress_wire_fields *f)
{
	const struct egress_wire_response *r = &msg->response;

	f->number[RESP_STATUS] = r->status;
	f->headers = r->headers;
	f->n_headers = r->n_headers;
	f->span[RESP_BODY] = r->body;
	f->span[RESP_REMOTE] = r->remote_address;
}

static void
response_unflatten(const struct egress_wire_fields *f, uint8_t flags, struct egress_wire_message *msg)
{
	struct egress_wire_response *r = &msg->response;

	r->status = (uint16_t)f->number[RESP_STATUS];
	r->headers = f->headers;
	r->n_headers = f->n_headers;
	r->body = f->span[RESP_BODY];
	r->truncated = (flags & EGRESS_WIRE_FLAG_TRUNCATED) != 0;
	r->remote_address = f->span[RESP_REMOTE];
}

/* HTTP status codes have three digits (RFC 9110 §15). */
static int
check_status(const char *type, uint32_t status, struct egress_wire_error *err)
{
	if (status < 100 || status > 999)
		return egress_wire_rules_fail(err, EGRESS_WIRE_E_VALUE, "%s with status %u, not 100 to 999", type,
		    status);
	return 0;
}

static int
response_check(const struct egress_wire_fields *f, struct egress_wire_error *err)
{
	return check_status("RESPONSE", f->number[RESP_STATUS], err);
}

/* FAILURE. */

static void
failure_flatten(const struct egress_wire_message *msg, struct egress_wire_fields *f)
{
	const struct egress_wire_failure *r = &msg->failure;

	f->number[FAIL_OUTCOME] = (uint32_t)r->outcome;
	f->span[FAIL_MESSAGE] = r->message;
	f->number[FAIL_STATUS] = r->status;
	f->span[FAIL_REMOTE] = r->remote_address;
}

static void
failure_unflatten(const struct egress_wire_fields *f, uint8_t flags, struct egress_wire_message *msg)
{
	struct egress_wire_failure *r = &msg->failure;

	(void)flags;
	r->outcome = (enum egress_wire_outcome)f->number[FAIL_OUTCOME];
	r->message = f->span[FAIL_MESSAGE];
	r->status = (uint16_t)f->number[FAIL_STATUS];
	r->remote_address = f->span[FAIL_REMOTE];
}

static int
failure_check(const struct egress_wire_fields *f, struct egress_wire_error *err)
{
	uint32_t outcome = f->number[FAIL_OUTCOME];

	if (outcome == EGRESS_WIRE_OUTCOME_OK || outcome >= EGRESS_WIRE_OUTCOME_COUNT)
		return egress_wire_rules_fail(err, EGRESS_WIRE_E_VALUE, "FAILURE with outcome %u, not 1 to %u", outcome,
		    EGRESS_WIRE_OUTCOME_COUNT - 1);
	if (f->number[FAIL_STATUS] != 0)
		return check_status("FAILURE", f->number[FAIL_STATUS], err);
	return 0;
}

/* CANCEL: the head says it all. */

static void
cancel_flatten(const struct egress_wire_message *msg, struct egress_wire_fields *f)
{
	(void)msg, (void)f;
}

static void
cancel_unflatten(const struct egress_wire_fields *f, uint8_t flags, struct egress_wire_message *msg)
{
	(void)f, (void)flags, (void)msg;
}

static int
cancel_check(const struct egress_wire_fields *f, struct egress_wire_error *err)
{
	(void)f, (void)err;
	return 0;
}

#define ROLE_ANY (EGRESS_WIRE_ROLE_WORKER | EGRESS_WIRE_ROLE_EGRESS)
#define TYPE(n, senders, flags, has_id, fields, count, prefix) \
	{ n, senders, flags, has_id, fields, count, prefix##_flatten, prefix##_unflatten, prefix##_check }

static const struct egress_wire_type_rules type_table[] = {
	[EGRESS_WIRE_HELLO] = TYPE("HELLO", ROLE_ANY, 0, false, hello_fields, HELLO_FIELDS, hello),
	[EGRESS_WIRE_REQUEST] = TYPE("REQUEST", EGRESS_WIRE_ROLE_WORKER, EGRESS_WIRE_FLAG_FOLLOW_REDIRECTS, true,
	    request_fields, REQ_FIELDS, request),
	[EGRESS_WIRE_CANCEL] = TYPE("CANCEL", EGRESS_WIRE_ROLE_WORKER, 0, true, NULL, 0, cancel),
	[EGRESS_WIRE_RESPONSE] = TYPE("RESPONSE", EGRESS_WIRE_ROLE_EGRESS, EGRESS_WIRE_FLAG_TRUNCATED, true,
	    response_fields, RESP_FIELDS, response),
	[EGRESS_WIRE_FAILURE] = TYPE("FAILURE", EGRESS_WIRE_ROLE_EGRESS, 0, true, failure_fields, FAIL_FIELDS,
	    failure),
};
#undef TYPE

const struct egress_wire_type_rules *
egress_wire_rules_of(unsigned type)
{
	if (type < EGRESS_WIRE_HELLO || type > EGRESS_WIRE_FAILURE)
		return NULL;
	return &type_table[type];
}

uint8_t
egress_wire_rules_flags(const struct egress_wire_message *msg)
{
	if (msg->type == EGRESS_WIRE_REQUEST && msg->request.follow_redirects)
		return EGRESS_WIRE_FLAG_FOLLOW_REDIRECTS;
	if (msg->type == EGRESS_WIRE_RESPONSE && msg->response.truncated)
		return EGRESS_WIRE_FLAG_TRUNCATED;
	return 0;
}

int
egress_wire_rules_field(const struct egress_wire_type_rules *t, uint16_t tag)
{
	size_t i;

	for (i = 0; i < t->n_fields; i++)
		if (t->fields[i].tag == tag)
			return (int)i;
	return -1;
}

void
egress_wire_rules_flatten(const struct egress_wire_type_rules *t, const struct egress_wire_message *msg,
    struct egress_wire_fields *f)
{
	const struct egress_wire_field_rule *rule;
	size_t i;

	memset(f, 0, sizeof(*f));
	t->flatten(msg, f);
	for (i = 0; i < t->n_fields; i++) {
		rule = &t->fields[i];
		if (rule->kind == EGRESS_WIRE_FIELD_NUMBER)
			f->present[i] = rule->required || f->number[i] != 0;
		else if (rule->kind == EGRESS_WIRE_FIELD_HEADER)
			f->present[i] = f->n_headers > 0;
		else
			f->present[i] = rule->required || f->span[i].len > 0;
	}
}

int
egress_wire_rules_check_id(const struct egress_wire_type_rules *t, uint32_t id, struct egress_wire_error *err)
{
	if (t->has_id && id == 0)
		return egress_wire_rules_fail(err, EGRESS_WIRE_E_ID, "%s with request id 0", t->name);
	if (!t->has_id && id != 0)
		return egress_wire_rules_fail(err, EGRESS_WIRE_E_ID, "%s with request id %u, not 0", t->name, id);
	return 0;
}

/* Text rules: what else than control characters a text may not hold. */
enum { TEXT_ANY = 0, TEXT_TAB = 1, TEXT_NAME = 2 };

/*
 * Text reaches an HTTP request line or header (libcurl copies it as it is),
 * a log line and a metric label: a CR or LF there would start a header or
 * a request of its own, and a NUL would cut a C string short.
 */
static int
check_text(const char *type, const char *what, struct egress_wire_span s, bool nonempty, unsigned rules,
    struct egress_wire_error *err)
{
	const unsigned char *p = (const unsigned char *)s.base;
	size_t i;

	if (nonempty && s.len == 0)
		return egress_wire_rules_fail(err, EGRESS_WIRE_E_TEXT, "%s %s is empty", type, what);
	for (i = 0; i < s.len; i++) {
		if (p[i] == 0)
			return egress_wire_rules_fail(err, EGRESS_WIRE_E_TEXT, "%s %s holds a NUL byte at %zu", type,
			    what, i);
		if ((p[i] < 0x20 && !(p[i] == '\t' && (rules & TEXT_TAB))) || p[i] == 0x7f)
			return egress_wire_rules_fail(err, EGRESS_WIRE_E_TEXT,
			    "%s %s holds the control character 0x%02x at %zu", type, what, p[i], i);
		if ((rules & TEXT_NAME) && (p[i] == ':' || p[i] == ' '))
			return egress_wire_rules_fail(err, EGRESS_WIRE_E_TEXT, "%s %s holds '%c' at %zu", type,
			    what, p[i], i);
	}
	if (!utf8_valid(s.base, s.len))
		return egress_wire_rules_fail(err, EGRESS_WIRE_E_TEXT, "%s %s is not valid UTF-8", type, what);
	return 0;
}

/* The count and size limits, then each name and value. */
static int
check_headers(const char *type, const struct egress_wire_fields *f, const struct egress_wire_limits *limits,
    struct egress_wire_error *err)
{
	const struct egress_wire_header *h;
	uint64_t bytes = 0;
	char what[40];
	size_t i;

	if (f->n_headers > limits->max_headers)
		return egress_wire_rules_fail(err, EGRESS_WIRE_E_HEADER_COUNT,
		    "%s has %zu headers, over the limit of %u", type, f->n_headers, limits->max_headers);
	for (i = 0; i < f->n_headers; i++) {
		h = &f->headers[i];
		if (h->name.len > UINT16_MAX)
			return egress_wire_rules_fail(err, EGRESS_WIRE_E_FIELD_SIZE,
			    "%s header %zu has a name of %zu bytes, over 65535", type, i, h->name.len);
		bytes += (uint64_t)h->name.len + h->value.len;
		if (bytes > limits->max_header_bytes)
			return egress_wire_rules_fail(err, EGRESS_WIRE_E_HEADER_BYTES,
			    "%s headers take over %u bytes by header %zu", type, limits->max_header_bytes, i);
		(void)snprintf(what, sizeof(what), "header %zu name", i);
		if (check_text(type, what, h->name, true, TEXT_NAME, err) < 0)
			return -1;
		(void)snprintf(what, sizeof(what), "header %zu value", i);
		if (check_text(type, what, h->value, false, TEXT_TAB, err) < 0)
			return -1;
	}
	return 0;
}

int
egress_wire_rules_check(const struct egress_wire_type_rules *t, const struct egress_wire_fields *f,
    const struct egress_wire_limits *limits, struct egress_wire_error *err)
{
	const struct egress_wire_field_rule *rule;
	size_t i;

	for (i = 0; i < t->n_fields; i++) {
		rule = &t->fields[i];
		if (rule->required && !f->present[i])
			return egress_wire_rules_fail(err, EGRESS_WIRE_E_MISSING, "%s has no %s field", t->name,
			    rule->name);
		if (rule->kind == EGRESS_WIRE_FIELD_TEXT
		    && check_text(t->name, rule->name, f->span[i], rule->nonempty, TEXT_ANY, err) < 0)
			return -1;
	}
	if (check_headers(t->name, f, limits, err) < 0)
		return -1;
	return t->check(f, err);
}
