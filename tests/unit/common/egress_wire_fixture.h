/*
 * egress_wire_fixture: what the egress_wire tests share: limits, one message
 * of each type with every field set, frames written byte by byte (to build
 * the ones the encoder refuses to write), decoding a byte string in steps
 * of a given size, and checking a refusal.  Include it after <cmocka.h>.
 */
#ifndef MCPD_TESTS_UNIT_COMMON_EGRESS_WIRE_FIXTURE_H
#define MCPD_TESTS_UNIT_COMMON_EGRESS_WIRE_FIXTURE_H

#include <stdint.h>
#include <string.h>

#include "common/egress_wire.h"
#include "common/strbuf.h"

/* A span over a string literal. */
#define S(lit) ((struct egress_wire_span){(lit), sizeof(lit) - 1})

static const struct egress_wire_limits test_limits = {
	.max_payload = 64 * 1024,
	.max_headers = 8,
	.max_header_bytes = 1024,
};

static const struct egress_wire_header request_headers[] = {
	{S("accept"), S("application/json")},
	{S("x-empty"), S("")},
	{S("x-tabbed"), S("a\tb \xc3\xa9")},	/* a tab and é */
};

static const struct egress_wire_header response_headers[] = {
	{S("content-type"), S("text/plain")},
	{S("set-cookie"), S("a=1")},
	{S("set-cookie"), S("b=2")},
};

static inline struct egress_wire_message
hello_from(enum egress_wire_role role)
{
	return (struct egress_wire_message){
		.type = EGRESS_WIRE_HELLO,
		.hello = {.version = EGRESS_WIRE_VERSION, .role = role, .limits = test_limits},
	};
}

/* Every REQUEST field set; the body holds a NUL and bytes that are not UTF-8. */
static inline struct egress_wire_message
full_request(void)
{
	return (struct egress_wire_message){
		.type = EGRESS_WIRE_REQUEST,
		.id = 7,
		.request = {
			.tool_index = 3,
			.tool_name = S("fetch"),
			.method = S("POST"),
			.url = S("https://api.example.com/v1/things?q=\xe2\x82\xac"),
			.headers = request_headers,
			.n_headers = 3,
			.body = S("{\"a\":1}\0\xff\xfe"),
			.deadline_ms = 2500,
			.response_cap = 1 << 20,
			.header_cap = 16384,
			.follow_redirects = true,
			.aws_service = S("s3"),
			.aws_region = S("eu-west-1"),
		},
	};
}

static inline struct egress_wire_message
cancel_of(uint32_t id)
{
	return (struct egress_wire_message){.type = EGRESS_WIRE_CANCEL, .id = id};
}

static inline struct egress_wire_message
full_response(void)
{
	return (struct egress_wire_message){
		.type = EGRESS_WIRE_RESPONSE,
		.id = 7,
		.response = {
			.status = 206,
			.headers = response_headers,
			.n_headers = 3,
			.body = S("partial\0body\x80"),
			.truncated = true,
			.remote_address = S("[2001:db8::1]:443"),
		},
	};
}

static inline struct egress_wire_message
full_failure(void)
{
	return (struct egress_wire_message){
		.type = EGRESS_WIRE_FAILURE,
		.id = 9,
		.failure = {
			.outcome = EGRESS_WIRE_OUTCOME_UPSTREAM_STATUS,
			.message = S("the upstream answered 503"),
			.status = 503,
			.remote_address = S("192.0.2.10:443"),
		},
	};
}

static inline void
encode_ok(struct strbuf *out, const struct egress_wire_message *msg)
{
	struct egress_wire_error err = {0};

	if (egress_wire_encode(out, msg, &test_limits, &err) != 0)
		fail_msg("encoding %s: %s", egress_wire_type_name(msg->type), err.message);
}

/* Raw frames, for what the encoder never writes. */

static inline void
put_be(struct strbuf *sb, uint64_t v, int bytes)
{
	while (bytes-- > 0)
		strbuf_putc(sb, (char)(v >> (8 * bytes)));
}

static inline void
raw_head(struct strbuf *sb, uint8_t type, uint8_t flags, uint32_t id, uint32_t payload)
{
	strbuf_putc(sb, (char)EGRESS_WIRE_MAGIC);
	strbuf_putc(sb, EGRESS_WIRE_VERSION);
	strbuf_putc(sb, (char)type);
	strbuf_putc(sb, (char)flags);
	put_be(sb, id, 4);
	put_be(sb, payload, 4);
}

static inline void
raw_field(struct strbuf *sb, uint16_t tag, const void *bytes, size_t len)
{
	put_be(sb, tag, 2);
	put_be(sb, len, 4);
	if (len > 0)
		strbuf_append(sb, bytes, len);
}

static inline void
raw_number(struct strbuf *sb, uint16_t tag, uint32_t v)
{
	put_be(sb, tag, 2);
	put_be(sb, 4, 4);
	put_be(sb, v, 4);
}

static inline void
raw_header(struct strbuf *sb, const char *name, const char *value)
{
	size_t n = strlen(name), v = strlen(value);

	put_be(sb, EGRESS_WIRE_TAG_HEADER, 2);
	put_be(sb, 2 + n + v, 4);
	put_be(sb, n, 2);
	strbuf_append(sb, name, n);
	strbuf_append(sb, value, v);
}

/* Patches the payload length of the frame whose head starts at `head`. */
static inline void
raw_seal(struct strbuf *sb, size_t head)
{
	uint32_t payload = (uint32_t)(sb->len - head - EGRESS_WIRE_HEAD_SIZE);
	int i;

	for (i = 0; i < 4; i++)
		sb->data[head + 8 + i] = (char)(payload >> (8 * (3 - i)));
}

/*
 * Feeds bytes[0..len) in steps of `step` bytes (the last may be shorter),
 * calling on_message for each message; returns the decoder's last result:
 * 0 when every byte was taken without error, -1 on an error.
 */
static inline int
feed_in_steps(struct egress_wire_decoder *dec, const char *bytes, size_t len, size_t step,
    void (*on_message)(const struct egress_wire_message *msg, void *ctx), void *ctx)
{
	struct egress_wire_message msg;
	size_t off = 0, chunk, used;
	int rc;

	while (off < len) {
		chunk = len - off < step ? len - off : step;
		while (chunk > 0) {
			rc = egress_wire_decode(dec, bytes + off, chunk, &used, &msg);
			assert_true(used <= chunk);
			off += used;
			chunk -= used;
			if (rc < 0)
				return -1;
			if (rc == 1 && on_message != NULL)
				on_message(&msg, ctx);
			if (rc == 0)
				assert_int_equal(chunk, 0);
		}
	}
	return 0;
}

/* Messages a decoder must give back, in order, for feed_in_steps. */
struct expected {
	const struct egress_wire_message *msgs;
	size_t n;
	size_t seen;
};

static inline void
check_next(const struct egress_wire_message *msg, void *ctx)
{
	struct expected *e = ctx;

	assert_true(e->seen < e->n);
	if (!egress_wire_message_equal(msg, &e->msgs[e->seen]))
		fail_msg("message %zu (%s) differs after the round trip", e->seen, egress_wire_type_name(msg->type));
	e->seen++;
}

/* A stream that opens with the HELLO of `sender`. */
static inline void
start_stream(struct strbuf *sb, enum egress_wire_role sender)
{
	struct egress_wire_message hello = hello_from(sender);

	strbuf_init(sb);
	encode_ok(sb, &hello);
}

/*
 * Decodes sb whole, then one byte at a time: both must end in `code` with
 * `words` in the message, and the decoder must refuse everything after.
 */
static inline void
expect_refusal(enum egress_wire_role peer, struct strbuf *sb, enum egress_wire_error_code code, const char *words)
{
	size_t steps[] = {SIZE_MAX, 1}, i, used = 99;
	const struct egress_wire_error *err;
	struct egress_wire_decoder *dec;
	struct egress_wire_message msg;

	for (i = 0; i < 2; i++) {
		dec = egress_wire_decoder_new(&test_limits, peer);
		assert_non_null(dec);
		err = egress_wire_decoder_error(dec);
		if (feed_in_steps(dec, sb->data, sb->len, steps[i], NULL, NULL) != -1 || err->code != code
		    || strstr(err->message, words) == NULL)
			fail_msg("expected %s \"%s\", got %s \"%s\"", egress_wire_error_name(code), words,
			    egress_wire_error_name(err->code), err->message);
		assert_int_equal(egress_wire_decode(dec, sb->data, sb->len, &used, &msg), -1);
		assert_int_equal(used, 0);
		egress_wire_decoder_free(dec);
	}
	strbuf_free(sb);
}

static inline void
count_message(const struct egress_wire_message *msg, void *ctx)
{
	(void)msg;
	(*(size_t *)ctx)++;
}

/* Decodes sb whole, then one byte at a time: both take it all; returns the messages of one pass. */
static inline size_t
expect_accepted(enum egress_wire_role peer, struct strbuf *sb)
{
	size_t steps[] = {SIZE_MAX, 1}, i, count[2] = {0, 0};
	struct egress_wire_decoder *dec;

	for (i = 0; i < 2; i++) {
		dec = egress_wire_decoder_new(&test_limits, peer);
		assert_non_null(dec);
		if (feed_in_steps(dec, sb->data, sb->len, steps[i], count_message, &count[i]) != 0)
			fail_msg("refused: %s", egress_wire_decoder_error(dec)->message);
		egress_wire_decoder_free(dec);
	}
	assert_int_equal(count[0], count[1]);
	strbuf_free(sb);
	return count[0];
}

/* Frames with every required field but `omit`; the caller adds fields and seals them. */
static inline size_t
raw_request(struct strbuf *sb, uint32_t id, uint16_t omit)
{
	size_t head = sb->len;

	raw_head(sb, EGRESS_WIRE_REQUEST, 0, id, 0);
	if (omit != EGRESS_WIRE_TAG_TOOL_INDEX)
		raw_number(sb, EGRESS_WIRE_TAG_TOOL_INDEX, 1);
	if (omit != EGRESS_WIRE_TAG_TOOL_NAME)
		raw_field(sb, EGRESS_WIRE_TAG_TOOL_NAME, "fetch", 5);
	if (omit != EGRESS_WIRE_TAG_METHOD)
		raw_field(sb, EGRESS_WIRE_TAG_METHOD, "GET", 3);
	if (omit != EGRESS_WIRE_TAG_URL)
		raw_field(sb, EGRESS_WIRE_TAG_URL, "https://a.example/", 18);
	if (omit != EGRESS_WIRE_TAG_DEADLINE_MS)
		raw_number(sb, EGRESS_WIRE_TAG_DEADLINE_MS, 1000);
	if (omit != EGRESS_WIRE_TAG_RESPONSE_CAP)
		raw_number(sb, EGRESS_WIRE_TAG_RESPONSE_CAP, 100);
	if (omit != EGRESS_WIRE_TAG_HEADER_CAP)
		raw_number(sb, EGRESS_WIRE_TAG_HEADER_CAP, 100);
	return head;
}

static inline size_t
raw_hello(struct strbuf *sb, enum egress_wire_role role, uint16_t omit)
{
	size_t head = sb->len;

	raw_head(sb, EGRESS_WIRE_HELLO, 0, 0, 0);
	if (omit != EGRESS_WIRE_TAG_VERSION)
		raw_number(sb, EGRESS_WIRE_TAG_VERSION, EGRESS_WIRE_VERSION);
	if (omit != EGRESS_WIRE_TAG_ROLE)
		raw_number(sb, EGRESS_WIRE_TAG_ROLE, role);
	if (omit != EGRESS_WIRE_TAG_MAX_PAYLOAD)
		raw_number(sb, EGRESS_WIRE_TAG_MAX_PAYLOAD, 1000);
	if (omit != EGRESS_WIRE_TAG_MAX_HEADERS)
		raw_number(sb, EGRESS_WIRE_TAG_MAX_HEADERS, 10);
	if (omit != EGRESS_WIRE_TAG_MAX_HEADER_BYTES)
		raw_number(sb, EGRESS_WIRE_TAG_MAX_HEADER_BYTES, 100);
	return head;
}

static inline size_t
raw_response(struct strbuf *sb, uint16_t omit)
{
	size_t head = sb->len;

	raw_head(sb, EGRESS_WIRE_RESPONSE, 0, 1, 0);
	if (omit != EGRESS_WIRE_TAG_STATUS)
		raw_number(sb, EGRESS_WIRE_TAG_STATUS, 200);
	return head;
}

static inline size_t
raw_failure(struct strbuf *sb, uint16_t omit)
{
	size_t head = sb->len;

	raw_head(sb, EGRESS_WIRE_FAILURE, 0, 1, 0);
	if (omit != EGRESS_WIRE_TAG_OUTCOME)
		raw_number(sb, EGRESS_WIRE_TAG_OUTCOME, EGRESS_WIRE_OUTCOME_TIMEOUT);
	if (omit != EGRESS_WIRE_TAG_MESSAGE)
		raw_field(sb, EGRESS_WIRE_TAG_MESSAGE, "slow", 4);
	return head;
}

#endif
