/*
 * Unit tests for common/egress_wire*.c: every type round trip with every
 * field, the bytes on the wire, feeding in any split, unknown tags, the
 * limits checked from the head alone, what the encoder refuses, and a few
 * thousand random messages through random splits.  The decoder's refusals
 * are in egress_wire_errors_test.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/egress_wire.h"
#include "common/strbuf.h"
#include "tests/unit/common/egress_wire_fixture.h"

/* Encodes msgs as one stream and decodes it back in steps of `step` bytes. */
static void
round_trip(enum egress_wire_role peer, const struct egress_wire_message *msgs, size_t n, size_t step)
{
	struct egress_wire_decoder *dec = egress_wire_decoder_new(&test_limits, peer);
	struct expected e = {msgs, n, 0};
	struct strbuf sb;
	size_t i;

	assert_non_null(dec);
	strbuf_init(&sb);
	for (i = 0; i < n; i++)
		encode_ok(&sb, &msgs[i]);
	assert_int_equal(feed_in_steps(dec, sb.data, sb.len, step, check_next, &e), 0);
	assert_int_equal(e.seen, n);
	assert_int_equal(egress_wire_decoder_error(dec)->code, EGRESS_WIRE_OK);
	strbuf_free(&sb);
	egress_wire_decoder_free(dec);
}

static void
worker_stream(struct egress_wire_message msgs[3])
{
	msgs[0] = hello_from(EGRESS_WIRE_ROLE_WORKER);
	msgs[1] = full_request();
	msgs[2] = cancel_of(7);
}

static void
egress_stream(struct egress_wire_message msgs[3])
{
	msgs[0] = hello_from(EGRESS_WIRE_ROLE_EGRESS);
	msgs[1] = full_response();
	msgs[2] = full_failure();
}

static void
test_every_type_round_trips(void **state)
{
	struct egress_wire_message msgs[3];
	size_t steps[] = {SIZE_MAX, 1, 2, 5, 11, 12, 13, 100};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		worker_stream(msgs);
		round_trip(EGRESS_WIRE_ROLE_WORKER, msgs, 3, steps[i]);
		egress_stream(msgs);
		round_trip(EGRESS_WIRE_ROLE_EGRESS, msgs, 3, steps[i]);
	}
}

/* The fields themselves, so that a field message_equal forgot would show. */
static void
check_request_fields(const struct egress_wire_message *msg, void *ctx)
{
	const struct egress_wire_request *r = &msg->request;

	(void)ctx;
	if (msg->type != EGRESS_WIRE_REQUEST)
		return;
	assert_int_equal(msg->id, 7);
	assert_int_equal(r->tool_index, 3);
	assert_memory_equal(r->tool_name.base, "fetch", 5);
	assert_memory_equal(r->method.base, "POST", 4);
	assert_int_equal(r->url.len, S("https://api.example.com/v1/things?q=\xe2\x82\xac").len);
	assert_int_equal(r->n_headers, 3);
	assert_memory_equal(r->headers[2].name.base, "x-tabbed", 8);
	assert_int_equal(r->headers[2].value.len, 6);
	assert_int_equal(r->headers[1].value.len, 0);
	assert_int_equal(r->body.len, 10);
	assert_memory_equal(r->body.base, "{\"a\":1}\0\xff\xfe", 10);
	assert_int_equal(r->deadline_ms, 2500);
	assert_int_equal(r->response_cap, 1 << 20);
	assert_int_equal(r->header_cap, 16384);
	assert_true(r->follow_redirects);
	assert_memory_equal(r->aws_service.base, "s3", 2);
	assert_memory_equal(r->aws_region.base, "eu-west-1", 9);
}

static void
check_egress_fields(const struct egress_wire_message *msg, void *ctx)
{
	(void)ctx;
	if (msg->type == EGRESS_WIRE_HELLO) {
		assert_int_equal(msg->hello.version, 1);
		assert_int_equal(msg->hello.role, EGRESS_WIRE_ROLE_EGRESS);
		assert_int_equal(msg->hello.limits.max_payload, test_limits.max_payload);
		assert_int_equal(msg->hello.limits.max_headers, test_limits.max_headers);
		assert_int_equal(msg->hello.limits.max_header_bytes, test_limits.max_header_bytes);
	} else if (msg->type == EGRESS_WIRE_RESPONSE) {
		assert_int_equal(msg->response.status, 206);
		assert_true(msg->response.truncated);
		assert_int_equal(msg->response.n_headers, 3);
		assert_memory_equal(msg->response.headers[2].value.base, "b=2", 3);
		assert_int_equal(msg->response.body.len, 13);
		assert_memory_equal(msg->response.remote_address.base, "[2001:db8::1]:443", 17);
	} else {
		assert_int_equal(msg->failure.outcome, EGRESS_WIRE_OUTCOME_UPSTREAM_STATUS);
		assert_int_equal(msg->failure.status, 503);
		assert_memory_equal(msg->failure.message.base, "the upstream answered 503", 25);
		assert_memory_equal(msg->failure.remote_address.base, "192.0.2.10:443", 14);
	}
}

static void
test_fields_survive_one_by_one(void **state)
{
	struct egress_wire_decoder *dec;
	struct egress_wire_message msgs[3];
	struct strbuf sb;
	size_t i;

	(void)state;
	worker_stream(msgs);
	strbuf_init(&sb);
	for (i = 0; i < 3; i++)
		encode_ok(&sb, &msgs[i]);
	dec = egress_wire_decoder_new(&test_limits, EGRESS_WIRE_ROLE_WORKER);
	assert_int_equal(feed_in_steps(dec, sb.data, sb.len, 1, check_request_fields, NULL), 0);
	egress_wire_decoder_free(dec);

	egress_stream(msgs);
	sb.len = 0;
	for (i = 0; i < 3; i++)
		encode_ok(&sb, &msgs[i]);
	dec = egress_wire_decoder_new(&test_limits, EGRESS_WIRE_ROLE_EGRESS);
	assert_int_equal(feed_in_steps(dec, sb.data, sb.len, 1, check_egress_fields, NULL), 0);
	egress_wire_decoder_free(dec);
	strbuf_free(&sb);
}

/* Optional fields left out decode as empty, and are not written at all. */
static void
test_optional_fields_absent(void **state)
{
	struct egress_wire_message msgs[3] = {hello_from(EGRESS_WIRE_ROLE_EGRESS)};
	struct egress_wire_message request = full_request();

	(void)state;
	msgs[1] = full_response();
	msgs[1].response.n_headers = 0;
	msgs[1].response.body.len = 0;
	msgs[1].response.truncated = false;
	msgs[1].response.remote_address.len = 0;
	msgs[2] = full_failure();
	msgs[2].failure.status = 0;
	msgs[2].failure.remote_address.len = 0;
	msgs[2].failure.message.len = 0;
	round_trip(EGRESS_WIRE_ROLE_EGRESS, msgs, 3, 1);
	/* status only: one number field. */
	assert_int_equal(egress_wire_payload_size(&msgs[1]), EGRESS_WIRE_FIELD_HEAD_SIZE + 4);
	/* outcome and the (empty, required) message. */
	assert_int_equal(egress_wire_payload_size(&msgs[2]), 2 * EGRESS_WIRE_FIELD_HEAD_SIZE + 4);

	msgs[0] = hello_from(EGRESS_WIRE_ROLE_WORKER);
	request.request.n_headers = 0;
	request.request.body.len = 0;
	request.request.follow_redirects = false;
	request.request.aws_service.len = 0;
	request.request.aws_region.len = 0;
	msgs[1] = request;
	round_trip(EGRESS_WIRE_ROLE_WORKER, msgs, 2, 3);
}

/* The layout of egress_wire.h, byte for byte. */
static void
test_bytes_on_the_wire(void **state)
{
	static const char cancel[] = "\xe6\x01\x03\x00\x00\x00\x01\x02\x00\x00\x00\x00";
	static const char hello_head[] = "\xe6\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x32";
	static const char first_field[] = "\x00\x01\x00\x00\x00\x04\x00\x00\x00\x01";
	struct egress_wire_message msg = cancel_of(0x0102);
	struct strbuf sb;

	(void)state;
	strbuf_init(&sb);
	encode_ok(&sb, &msg);
	assert_int_equal(sb.len, EGRESS_WIRE_HEAD_SIZE);
	assert_memory_equal(sb.data, cancel, EGRESS_WIRE_HEAD_SIZE);

	sb.len = 0;
	msg = hello_from(EGRESS_WIRE_ROLE_WORKER);
	encode_ok(&sb, &msg);
	/* Five numbers of 10 bytes each: 0x32. */
	assert_int_equal(sb.len, EGRESS_WIRE_HEAD_SIZE + 50);
	assert_int_equal(egress_wire_payload_size(&msg), 50);
	assert_memory_equal(sb.data, hello_head, EGRESS_WIRE_HEAD_SIZE);
	assert_memory_equal(sb.data + EGRESS_WIRE_HEAD_SIZE, first_field, 10);

	sb.len = 0;
	msg = full_request();
	encode_ok(&sb, &msg);
	assert_int_equal((unsigned char)sb.data[3], EGRESS_WIRE_FLAG_FOLLOW_REDIRECTS);
	assert_int_equal(sb.len, EGRESS_WIRE_HEAD_SIZE + egress_wire_payload_size(&msg));
	msg.type = (enum egress_wire_type)9;
	assert_int_equal(egress_wire_payload_size(&msg), SIZE_MAX);
	strbuf_free(&sb);
}

/* Frames a later version could send: tags this one does not list for the type. */
static void
test_unknown_tags_are_skipped(void **state)
{
	struct egress_wire_message expect[4] = {hello_from(EGRESS_WIRE_ROLE_WORKER), cancel_of(5)};
	struct egress_wire_decoder *dec = egress_wire_decoder_new(&test_limits, EGRESS_WIRE_ROLE_WORKER);
	struct expected e = {expect, 4, 0};
	struct strbuf sb, one;
	size_t head;

	(void)state;
	strbuf_init(&sb);
	strbuf_init(&one);
	head = sb.len;
	raw_head(&sb, EGRESS_WIRE_HELLO, 0, 0, 0);
	raw_field(&sb, 999, "future", 6);
	encode_ok(&one, &expect[0]);
	strbuf_append(&sb, one.data + EGRESS_WIRE_HEAD_SIZE, one.len - EGRESS_WIRE_HEAD_SIZE);
	raw_field(&sb, 0xffff, NULL, 0);
	raw_seal(&sb, head);
	/* A CANCEL with a URL and a STATUS: tags of other types. */
	head = sb.len;
	raw_head(&sb, EGRESS_WIRE_CANCEL, 0, 5, 0);
	raw_field(&sb, EGRESS_WIRE_TAG_URL, "https://x", 9);
	raw_number(&sb, EGRESS_WIRE_TAG_STATUS, 200);
	raw_seal(&sb, head);
	/* A REQUEST with an unknown tag between its fields, twice. */
	expect[2] = full_request();
	one.len = 0;
	encode_ok(&one, &expect[2]);
	head = sb.len;
	strbuf_append(&sb, one.data, EGRESS_WIRE_HEAD_SIZE);
	raw_field(&sb, 200, "\x00\x01", 2);
	strbuf_append(&sb, one.data + EGRESS_WIRE_HEAD_SIZE, one.len - EGRESS_WIRE_HEAD_SIZE);
	raw_field(&sb, 200, "\x00\x01", 2);
	raw_seal(&sb, head);
	/* Fields in another order than the encoder's. */
	expect[3] = (struct egress_wire_message){.type = EGRESS_WIRE_REQUEST, .id = 6, .request = {
	    .tool_name = S("t"), .method = S("GET"), .url = S("https://a"), .deadline_ms = 1}};
	head = sb.len;
	raw_head(&sb, EGRESS_WIRE_REQUEST, 0, 6, 0);
	raw_number(&sb, EGRESS_WIRE_TAG_DEADLINE_MS, 1);
	raw_field(&sb, EGRESS_WIRE_TAG_URL, "https://a", 9);
	raw_number(&sb, EGRESS_WIRE_TAG_HEADER_CAP, 0);
	raw_field(&sb, EGRESS_WIRE_TAG_METHOD, "GET", 3);
	raw_number(&sb, EGRESS_WIRE_TAG_RESPONSE_CAP, 0);
	raw_field(&sb, EGRESS_WIRE_TAG_TOOL_NAME, "t", 1);
	raw_number(&sb, EGRESS_WIRE_TAG_TOOL_INDEX, 0);
	raw_seal(&sb, head);

	assert_int_equal(feed_in_steps(dec, sb.data, sb.len, 1, check_next, &e), 0);
	assert_int_equal(e.seen, 4);
	strbuf_free(&sb);
	strbuf_free(&one);
	egress_wire_decoder_free(dec);
}

/* Two frames in one read: the first call stops after the first. */
static void
test_two_frames_in_one_read(void **state)
{
	struct egress_wire_message hello = hello_from(EGRESS_WIRE_ROLE_WORKER), c1 = cancel_of(1), c2 = cancel_of(2);
	struct egress_wire_decoder *dec = egress_wire_decoder_new(&test_limits, EGRESS_WIRE_ROLE_WORKER);
	struct egress_wire_message msg;
	struct strbuf sb;
	size_t used, hello_len;

	(void)state;
	strbuf_init(&sb);
	encode_ok(&sb, &hello);
	hello_len = sb.len;
	encode_ok(&sb, &c1);
	encode_ok(&sb, &c2);
	assert_int_equal(egress_wire_decode(dec, sb.data, sb.len, &used, &msg), 1);
	assert_int_equal(used, hello_len);
	assert_int_equal(msg.type, EGRESS_WIRE_HELLO);
	assert_int_equal(egress_wire_decode(dec, sb.data + hello_len, sb.len - hello_len, &used, &msg), 1);
	assert_int_equal(used, EGRESS_WIRE_HEAD_SIZE);
	assert_true(egress_wire_message_equal(&msg, &c1));
	assert_int_equal(egress_wire_decode(dec, sb.data + hello_len + 12, 12, &used, &msg), 1);
	assert_true(egress_wire_message_equal(&msg, &c2));
	/* Nothing more: needs bytes. */
	assert_int_equal(egress_wire_decode(dec, NULL, 0, &used, &msg), 0);
	assert_int_equal(used, 0);
	strbuf_free(&sb);
	egress_wire_decoder_free(dec);
}

static void
test_names(void **state)
{
	static const char *const outcomes[] = {"ok", "refused_destination", "dns_failure", "connect_failed",
	    "tls_failed", "timeout", "too_large", "upstream_status", "cancelled", "egress_restarted",
	    "egress_busy", "bad_request", "internal"};
	int i;

	(void)state;
	assert_int_equal(sizeof(outcomes) / sizeof(outcomes[0]), EGRESS_WIRE_OUTCOME_COUNT);
	for (i = 0; i < EGRESS_WIRE_OUTCOME_COUNT; i++)
		assert_string_equal(egress_wire_outcome_name((enum egress_wire_outcome)i), outcomes[i]);
	assert_string_equal(egress_wire_outcome_name(EGRESS_WIRE_OUTCOME_COUNT), "unknown");
	assert_string_equal(egress_wire_outcome_name((enum egress_wire_outcome)-1), "unknown");
	for (i = 0; i < EGRESS_WIRE_E_COUNT; i++)
		assert_string_not_equal(egress_wire_error_name((enum egress_wire_error_code)i), "unknown");
	assert_string_equal(egress_wire_error_name(EGRESS_WIRE_E_TOO_LARGE), "too_large");
	assert_string_equal(egress_wire_error_name(EGRESS_WIRE_E_COUNT), "unknown");
	assert_string_equal(egress_wire_type_name(EGRESS_WIRE_REQUEST), "REQUEST");
	assert_string_equal(egress_wire_type_name((enum egress_wire_type)0), "unknown");
	assert_string_equal(egress_wire_type_name((enum egress_wire_type)6), "unknown");
	assert_string_equal(egress_wire_role_name(EGRESS_WIRE_ROLE_EGRESS), "egress");
	assert_string_equal(egress_wire_role_name((enum egress_wire_role)0), "unknown");
}

/*
 * Random messages.  A fixed seed, so that a failure repeats; the run covers
 * every type with random texts (multi-byte UTF-8 included), bodies of any
 * bytes, header lists, numbers and flags, fed through random split points.
 */
#define BATCH 100
#define BATCHES 15

#define URL_CHARS "abcXYZ019-_/.:?=&% "

static uint64_t rng = 0x2545f4914f6cdd1dULL;

static uint32_t
rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return (uint32_t)((rng * 0x2545f4914f6cdd1dULL) >> 32);
}

static uint32_t
below(uint32_t n)
{
	return rnd() % n;
}

/* Where a batch's texts and header lists live until it is checked. */
static char pool[BATCH * 8192];
static size_t pool_used;
static struct egress_wire_header header_pool[BATCH * 8];
static size_t headers_used;

/* 1 to about max bytes of `alphabet`, with multi-byte characters when `wide`. */
static struct egress_wire_span
random_text(size_t max, const char *alphabet, bool wide)
{
	static const char *const wide_chars[] = {"\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80"};
	char *p = pool + pool_used;
	size_t len = 0, target = 1 + below((uint32_t)max);
	const char *c;

	while (len < target) {
		if (wide && below(4) == 0) {
			c = wide_chars[below(3)];
			memcpy(p + len, c, strlen(c));
			len += strlen(c);
		} else {
			p[len++] = alphabet[below((uint32_t)strlen(alphabet))];
		}
	}
	pool_used += len;
	assert_true(pool_used <= sizeof(pool));
	return (struct egress_wire_span){p, len};
}

/* random_text, or empty one time in three. */
static struct egress_wire_span
maybe_text(size_t max, const char *alphabet, bool wide)
{
	return below(3) == 0 ? (struct egress_wire_span){0} : random_text(max, alphabet, wide);
}

static struct egress_wire_span
random_bytes(size_t max)
{
	size_t len = below(4) == 0 ? below((uint32_t)max) : below(64), i;
	char *p = pool + pool_used;

	for (i = 0; i < len; i++)
		p[i] = (char)rnd();
	pool_used += len;
	assert_true(pool_used <= sizeof(pool));
	return (struct egress_wire_span){p, len};
}

static void
random_headers(const struct egress_wire_header **headers, size_t *n)
{
	struct egress_wire_header *h = header_pool + headers_used;
	size_t i;

	*n = below(test_limits.max_headers + 1);
	for (i = 0; i < *n; i++) {
		h[i].name = random_text(20, "abcdefxyz-ABC019", false);
		h[i].value = maybe_text(100, "aZ0123456789 ;=,\t", true);
	}
	headers_used += *n;
	*headers = h;
}

static uint32_t
random_id(void)
{
	return 1 + below(UINT32_MAX);
}

static void
random_request(struct egress_wire_message *m)
{
	struct egress_wire_request *r = &m->request;

	m->type = EGRESS_WIRE_REQUEST;
	r->tool_index = rnd();
	r->tool_name = random_text(30, "abcdefghijklmnopqrstuvwxyz_", false);
	r->method = random_text(8, "GETPOSTDELHA", false);
	r->url = random_text(200, URL_CHARS, true);
	random_headers(&r->headers, &r->n_headers);
	r->body = random_bytes(5000);
	r->deadline_ms = 1 + below(600000);
	r->response_cap = rnd();
	r->header_cap = rnd();
	r->follow_redirects = below(2);
	r->aws_service = maybe_text(12, "s3abcdefghijklmn", false);
	r->aws_region = r->aws_service.len > 0 ? maybe_text(14, "euswt-123", false) : (struct egress_wire_span){0};
}

static void
random_from_egress(struct egress_wire_message *m)
{
	if (below(2)) {
		m->type = EGRESS_WIRE_RESPONSE;
		m->response.status = (uint16_t)(100 + below(900));
		random_headers(&m->response.headers, &m->response.n_headers);
		m->response.body = random_bytes(20000);
		m->response.truncated = below(2);
		m->response.remote_address = maybe_text(40, "0123456789.:[]abcdef", false);
		return;
	}
	m->type = EGRESS_WIRE_FAILURE;
	m->failure.outcome = (enum egress_wire_outcome)(1 + below(EGRESS_WIRE_OUTCOME_COUNT - 1));
	m->failure.message = maybe_text(120, URL_CHARS, true);
	m->failure.status = below(2) ? (uint16_t)(100 + below(900)) : 0;
	m->failure.remote_address = maybe_text(40, "0123456789.:", false);
}

static void
random_message(enum egress_wire_role sender, struct egress_wire_message *m)
{
	memset(m, 0, sizeof(*m));
	if (sender == EGRESS_WIRE_ROLE_WORKER && below(4) == 0)
		m->type = EGRESS_WIRE_CANCEL;
	else if (sender == EGRESS_WIRE_ROLE_WORKER)
		random_request(m);
	else
		random_from_egress(m);
	m->id = random_id();
}

/* Feeds bytes in random pieces, from one byte to a few frames. */
static void
feed_randomly(struct egress_wire_decoder *dec, const char *bytes, size_t len, struct expected *e)
{
	size_t off = 0, step;

	while (off < len) {
		step = below(3) == 0 ? 1 + below(16) : 1 + below(20000);
		if (step > len - off)
			step = len - off;
		assert_int_equal(feed_in_steps(dec, bytes + off, step, step, check_next, e), 0);
		off += step;
	}
}

static void
random_stream(enum egress_wire_role sender)
{
	struct egress_wire_decoder *dec = egress_wire_decoder_new(&test_limits, sender);
	struct egress_wire_message msgs[BATCH];
	struct expected e = {msgs, 1, 0};
	struct strbuf sb;
	int batch, i;

	strbuf_init(&sb);
	msgs[0] = hello_from(sender);
	encode_ok(&sb, &msgs[0]);
	feed_randomly(dec, sb.data, sb.len, &e);
	for (batch = 0; batch < BATCHES; batch++) {
		pool_used = headers_used = 0;
		sb.len = 0;
		for (i = 0; i < BATCH; i++) {
			random_message(sender, &msgs[i]);
			encode_ok(&sb, &msgs[i]);
		}
		e = (struct expected){msgs, BATCH, 0};
		feed_randomly(dec, sb.data, sb.len, &e);
		assert_int_equal(e.seen, BATCH);
	}
	strbuf_free(&sb);
	egress_wire_decoder_free(dec);
}

static void
test_random_messages_in_random_splits(void **state)
{
	(void)state;
	random_stream(EGRESS_WIRE_ROLE_WORKER);
	random_stream(EGRESS_WIRE_ROLE_EGRESS);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_type_round_trips),
		cmocka_unit_test(test_fields_survive_one_by_one),
		cmocka_unit_test(test_optional_fields_absent),
		cmocka_unit_test(test_bytes_on_the_wire),
		cmocka_unit_test(test_unknown_tags_are_skipped),
		cmocka_unit_test(test_two_frames_in_one_read),
		cmocka_unit_test(test_random_messages_in_random_splits),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
