/*
 * Unit tests for common/egress_wire_decode.c: the frames it refuses, each
 * fed whole and one byte at a time, with its code and message, and for
 * good; the limits, checked from the head before the payload is buffered.
 * The text and value rules it shares with the encoder are in
 * egress_wire_rules_test.c.
 */
#include <errno.h>
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

/* A stream of the peer's HELLO and one head whose byte `at` is `value`. */
static void
refuse_head(enum egress_wire_role peer, uint8_t type, uint32_t id, size_t at, uint8_t value,
    enum egress_wire_error_code code, const char *words)
{
	struct strbuf sb;
	size_t head;

	start_stream(&sb, peer);
	head = sb.len;
	raw_head(&sb, type, 0, id, 0);
	sb.data[head + at] = (char)value;
	expect_refusal(peer, &sb, code, words);
}

static void
test_heads_refused(void **state)
{
	const enum egress_wire_role W = EGRESS_WIRE_ROLE_WORKER, E = EGRESS_WIRE_ROLE_EGRESS;

	(void)state;
	refuse_head(W, EGRESS_WIRE_CANCEL, 1, 0, 0x00, EGRESS_WIRE_E_MAGIC, "starts with 0x00, not the magic 0xe6");
	refuse_head(W, EGRESS_WIRE_CANCEL, 1, 0, 0xe7, EGRESS_WIRE_E_MAGIC, "0xe7");
	refuse_head(W, EGRESS_WIRE_CANCEL, 1, 1, 2, EGRESS_WIRE_E_VERSION, "frame of version 2");
	refuse_head(W, EGRESS_WIRE_CANCEL, 1, 1, 0, EGRESS_WIRE_E_VERSION, "frame of version 0");
	refuse_head(W, EGRESS_WIRE_CANCEL, 1, 2, 0, EGRESS_WIRE_E_TYPE, "unknown frame type 0");
	refuse_head(E, EGRESS_WIRE_CANCEL, 1, 2, 6, EGRESS_WIRE_E_TYPE, "unknown frame type 6");
	refuse_head(W, EGRESS_WIRE_CANCEL, 1, 2, 255, EGRESS_WIRE_E_TYPE, "unknown frame type 255");
	/* Each side only takes what the other sends. */
	refuse_head(E, EGRESS_WIRE_REQUEST, 1, 0, 0xe6, EGRESS_WIRE_E_TYPE, "REQUEST from the egress");
	refuse_head(E, EGRESS_WIRE_CANCEL, 1, 0, 0xe6, EGRESS_WIRE_E_TYPE, "CANCEL from the egress");
	refuse_head(W, EGRESS_WIRE_RESPONSE, 1, 0, 0xe6, EGRESS_WIRE_E_TYPE, "RESPONSE from the worker");
	refuse_head(W, EGRESS_WIRE_FAILURE, 1, 0, 0xe6, EGRESS_WIRE_E_TYPE, "FAILURE from the worker");
	refuse_head(W, EGRESS_WIRE_CANCEL, 1, 3, 0x01, EGRESS_WIRE_E_FLAGS, "CANCEL with undefined flags 0x01");
	refuse_head(W, EGRESS_WIRE_REQUEST, 1, 3, 0x03, EGRESS_WIRE_E_FLAGS, "REQUEST with undefined flags 0x02");
	refuse_head(E, EGRESS_WIRE_RESPONSE, 1, 3, 0x80, EGRESS_WIRE_E_FLAGS, "RESPONSE with undefined flags 0x80");
	refuse_head(E, EGRESS_WIRE_FAILURE, 1, 3, 0x01, EGRESS_WIRE_E_FLAGS, "FAILURE with undefined flags");
	refuse_head(W, EGRESS_WIRE_REQUEST, 0, 0, 0xe6, EGRESS_WIRE_E_ID, "REQUEST with request id 0");
	refuse_head(W, EGRESS_WIRE_CANCEL, 0, 0, 0xe6, EGRESS_WIRE_E_ID, "CANCEL with request id 0");
	refuse_head(E, EGRESS_WIRE_FAILURE, 0, 0, 0xe6, EGRESS_WIRE_E_ID, "FAILURE with request id 0");
	refuse_head(E, EGRESS_WIRE_HELLO, 5, 0, 0xe6, EGRESS_WIRE_E_ID, "HELLO with request id 5, not 0");
	refuse_head(E, EGRESS_WIRE_HELLO, 0, 0, 0xe6, EGRESS_WIRE_E_SEQUENCE, "HELLO after the HELLO");
}

static void
test_hello_comes_first(void **state)
{
	struct egress_wire_message c = cancel_of(1);
	struct strbuf sb;

	(void)state;
	strbuf_init(&sb);
	encode_ok(&sb, &c);
	expect_refusal(EGRESS_WIRE_ROLE_WORKER, &sb, EGRESS_WIRE_E_SEQUENCE, "CANCEL before any HELLO");
}

/*
 * A head announcing 2 GiB is refused on its 12th byte: nothing of the
 * payload is taken, so nothing is buffered.
 */
static void
test_length_checked_before_buffering(void **state)
{
	struct egress_wire_decoder *dec = egress_wire_decoder_new(&test_limits, EGRESS_WIRE_ROLE_WORKER);
	struct egress_wire_message msg;
	struct strbuf sb;
	size_t hello_len, used, i;

	(void)state;
	start_stream(&sb, EGRESS_WIRE_ROLE_WORKER);
	hello_len = sb.len;
	raw_head(&sb, EGRESS_WIRE_REQUEST, 0, 1, 0x80000000u);
	for (i = 0; i < 100; i++)
		strbuf_putc(&sb, 'x');
	assert_int_equal(egress_wire_decode(dec, sb.data, sb.len, &used, &msg), 1);
	assert_int_equal(used, hello_len);
	assert_int_equal(egress_wire_decode(dec, sb.data + hello_len, sb.len - hello_len, &used, &msg), -1);
	assert_int_equal(used, EGRESS_WIRE_HEAD_SIZE);
	assert_int_equal(egress_wire_decoder_error(dec)->code, EGRESS_WIRE_E_TOO_LARGE);
	assert_string_equal(egress_wire_decoder_error(dec)->message,
	    "REQUEST of 2147483648 payload bytes is over the limit of 65536");
	egress_wire_decoder_free(dec);

	/* One byte at a time: the twelfth is the one refused. */
	dec = egress_wire_decoder_new(&test_limits, EGRESS_WIRE_ROLE_WORKER);
	assert_int_equal(egress_wire_decode(dec, sb.data, hello_len, &used, &msg), 1);
	for (i = 0; i < EGRESS_WIRE_HEAD_SIZE - 1; i++)
		assert_int_equal(egress_wire_decode(dec, sb.data + hello_len + i, 1, &used, &msg), 0);
	assert_int_equal(egress_wire_decode(dec, sb.data + hello_len + i, 1, &used, &msg), -1);
	egress_wire_decoder_free(dec);

	/* One byte over the limit is as over as 2 GiB. */
	sb.len = hello_len;
	raw_head(&sb, EGRESS_WIRE_REQUEST, 0, 1, test_limits.max_payload + 1);
	expect_refusal(EGRESS_WIRE_ROLE_WORKER, &sb, EGRESS_WIRE_E_TOO_LARGE, "65537 payload bytes");
}
/* A frame of exactly the limit passes; large frames release their buffer after. */
static void
test_frames_up_to_the_limit(void **state)
{
	struct egress_wire_limits big = {.max_payload = 300000, .max_headers = 0, .max_header_bytes = 0};
	struct egress_wire_message msgs[4] = {hello_from(EGRESS_WIRE_ROLE_EGRESS), full_response(), full_failure()};
	struct egress_wire_decoder *dec = egress_wire_decoder_new(&big, EGRESS_WIRE_ROLE_EGRESS);
	struct expected e = {msgs, 4, 0};
	struct egress_wire_error err;
	char *body = malloc(big.max_payload);
	struct strbuf sb;

	(void)state;
	assert_non_null(body);
	memset(body, 'x', big.max_payload);
	msgs[0].hello.limits = big;
	msgs[1].response.n_headers = 0;
	msgs[1].response.remote_address.len = 0;
	msgs[1].response.body = (struct egress_wire_span){body, big.max_payload - 10 - 6};
	msgs[3] = msgs[1];
	msgs[3].response.body.len = 100;
	strbuf_init(&sb);
	assert_int_equal(egress_wire_payload_size(&msgs[1]), big.max_payload);
	assert_int_equal(egress_wire_encode(&sb, &msgs[0], &big, &err), 0);
	assert_int_equal(egress_wire_encode(&sb, &msgs[1], &big, &err), 0);
	/* Headers the limits do not allow: the full failure has none, the response now none. */
	assert_int_equal(egress_wire_encode(&sb, &msgs[2], &big, &err), 0);
	assert_int_equal(egress_wire_encode(&sb, &msgs[3], &big, &err), 0);
	assert_int_equal(feed_in_steps(dec, sb.data, sb.len, 70000, check_next, &e), 0);
	assert_int_equal(e.seen, 4);
	/* One byte more is refused by the encoder. */
	msgs[1].response.body.len++;
	sb.len = 0;
	assert_int_equal(egress_wire_encode(&sb, &msgs[1], &big, &err), -1);
	assert_int_equal(err.code, EGRESS_WIRE_E_TOO_LARGE);
	assert_int_equal(sb.len, 0);
	strbuf_free(&sb);
	free(body);
	egress_wire_decoder_free(dec);
}

static void
test_fields_running_past_the_frame(void **state)
{
	struct strbuf sb;
	size_t head;

	(void)state;
	start_stream(&sb, EGRESS_WIRE_ROLE_WORKER);
	head = sb.len;
	raw_head(&sb, EGRESS_WIRE_CANCEL, 0, 1, 0);
	strbuf_append(&sb, "\0\x01\0", 3);
	raw_seal(&sb, head);
	expect_refusal(EGRESS_WIRE_ROLE_WORKER, &sb, EGRESS_WIRE_E_OVERRUN, "CANCEL ends in 3 bytes, too few");

	start_stream(&sb, EGRESS_WIRE_ROLE_WORKER);
	head = raw_request(&sb, 1, 0);
	raw_field(&sb, EGRESS_WIRE_TAG_BODY, "12345", 5);
	sb.data[sb.len - 6] = 100;	/* the body's length byte: 5 becomes 100 */
	raw_seal(&sb, head);
	expect_refusal(EGRESS_WIRE_ROLE_WORKER, &sb, EGRESS_WIRE_E_OVERRUN,
	    "REQUEST field 21 of 100 bytes runs past the frame (5 bytes left)");

	/* An unknown tag is skipped, but not past the end. */
	start_stream(&sb, EGRESS_WIRE_ROLE_EGRESS);
	head = raw_response(&sb, 0);
	put_be(&sb, 77, 2);
	put_be(&sb, 0xffffffffu, 4);
	raw_seal(&sb, head);
	expect_refusal(EGRESS_WIRE_ROLE_EGRESS, &sb, EGRESS_WIRE_E_OVERRUN, "field 77 of 4294967295 bytes");
}

static void
test_fields_of_the_wrong_size(void **state)
{
	struct strbuf sb;
	size_t head;

	(void)state;
	start_stream(&sb, EGRESS_WIRE_ROLE_WORKER);
	head = raw_request(&sb, 1, EGRESS_WIRE_TAG_TOOL_INDEX);
	raw_field(&sb, EGRESS_WIRE_TAG_TOOL_INDEX, "\0\0\1", 3);
	raw_seal(&sb, head);
	expect_refusal(EGRESS_WIRE_ROLE_WORKER, &sb, EGRESS_WIRE_E_FIELD_SIZE, "REQUEST tool_index is 3 bytes, not 4");

	start_stream(&sb, EGRESS_WIRE_ROLE_EGRESS);
	head = raw_response(&sb, EGRESS_WIRE_TAG_STATUS);
	raw_field(&sb, EGRESS_WIRE_TAG_STATUS, "\0\0\0\0\xc8", 5);
	raw_seal(&sb, head);
	expect_refusal(EGRESS_WIRE_ROLE_EGRESS, &sb, EGRESS_WIRE_E_FIELD_SIZE, "RESPONSE status is 5 bytes");

	start_stream(&sb, EGRESS_WIRE_ROLE_EGRESS);
	head = raw_response(&sb, 0);
	raw_field(&sb, EGRESS_WIRE_TAG_HEADER, "\0", 1);
	raw_seal(&sb, head);
	expect_refusal(EGRESS_WIRE_ROLE_EGRESS, &sb, EGRESS_WIRE_E_FIELD_SIZE, "header 0 is 1 bytes, too short");

	start_stream(&sb, EGRESS_WIRE_ROLE_WORKER);
	head = raw_request(&sb, 1, 0);
	raw_header(&sb, "a", "b");
	raw_field(&sb, EGRESS_WIRE_TAG_HEADER, "\0\x05" "abcd", 6);
	raw_seal(&sb, head);
	expect_refusal(EGRESS_WIRE_ROLE_WORKER, &sb, EGRESS_WIRE_E_FIELD_SIZE,
	    "header 1 has a name of 5 bytes in a field of 6");
}

/* A second copy of a singular field, for each type that has fields. */
static void
test_duplicates_refused(void **state)
{
	struct strbuf sb;
	size_t head;

	(void)state;
	start_stream(&sb, EGRESS_WIRE_ROLE_WORKER);
	head = raw_request(&sb, 1, 0);
	raw_field(&sb, EGRESS_WIRE_TAG_URL, "https://b.example/", 18);
	raw_seal(&sb, head);
	expect_refusal(EGRESS_WIRE_ROLE_WORKER, &sb, EGRESS_WIRE_E_DUPLICATE, "REQUEST has two url fields");

	start_stream(&sb, EGRESS_WIRE_ROLE_WORKER);
	head = raw_request(&sb, 1, 0);
	raw_field(&sb, EGRESS_WIRE_TAG_BODY, "", 0);
	raw_field(&sb, EGRESS_WIRE_TAG_BODY, "", 0);
	raw_seal(&sb, head);
	expect_refusal(EGRESS_WIRE_ROLE_WORKER, &sb, EGRESS_WIRE_E_DUPLICATE, "two body fields");

	strbuf_init(&sb);
	head = raw_hello(&sb, EGRESS_WIRE_ROLE_EGRESS, 0);
	raw_number(&sb, EGRESS_WIRE_TAG_MAX_HEADERS, 3);
	raw_seal(&sb, head);
	expect_refusal(EGRESS_WIRE_ROLE_EGRESS, &sb, EGRESS_WIRE_E_DUPLICATE, "HELLO has two max_headers fields");

	start_stream(&sb, EGRESS_WIRE_ROLE_EGRESS);
	head = raw_response(&sb, 0);
	raw_number(&sb, EGRESS_WIRE_TAG_STATUS, 200);
	raw_seal(&sb, head);
	expect_refusal(EGRESS_WIRE_ROLE_EGRESS, &sb, EGRESS_WIRE_E_DUPLICATE, "RESPONSE has two status fields");

	start_stream(&sb, EGRESS_WIRE_ROLE_EGRESS);
	head = raw_failure(&sb, 0);
	raw_field(&sb, EGRESS_WIRE_TAG_MESSAGE, "again", 5);
	raw_seal(&sb, head);
	expect_refusal(EGRESS_WIRE_ROLE_EGRESS, &sb, EGRESS_WIRE_E_DUPLICATE, "FAILURE has two message fields");
}

static void
test_missing_fields_refused(void **state)
{
	static const struct {
		uint16_t tag;
		const char *words;
	} request[] = {
		{EGRESS_WIRE_TAG_TOOL_INDEX, "REQUEST has no tool_index field"},
		{EGRESS_WIRE_TAG_TOOL_NAME, "REQUEST has no tool_name field"},
		{EGRESS_WIRE_TAG_METHOD, "REQUEST has no method field"},
		{EGRESS_WIRE_TAG_URL, "REQUEST has no url field"},
		{EGRESS_WIRE_TAG_DEADLINE_MS, "REQUEST has no deadline_ms field"},
		{EGRESS_WIRE_TAG_RESPONSE_CAP, "REQUEST has no response_cap field"},
		{EGRESS_WIRE_TAG_HEADER_CAP, "REQUEST has no header_cap field"},
	}, hello[] = {
		{EGRESS_WIRE_TAG_VERSION, "HELLO has no version field"},
		{EGRESS_WIRE_TAG_ROLE, "HELLO has no role field"},
		{EGRESS_WIRE_TAG_MAX_PAYLOAD, "HELLO has no max_payload field"},
		{EGRESS_WIRE_TAG_MAX_HEADERS, "HELLO has no max_headers field"},
		{EGRESS_WIRE_TAG_MAX_HEADER_BYTES, "HELLO has no max_header_bytes field"},
	};
	struct strbuf sb;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(request) / sizeof(request[0]); i++) {
		start_stream(&sb, EGRESS_WIRE_ROLE_WORKER);
		raw_seal(&sb, raw_request(&sb, 1, request[i].tag));
		expect_refusal(EGRESS_WIRE_ROLE_WORKER, &sb, EGRESS_WIRE_E_MISSING, request[i].words);
	}
	for (i = 0; i < sizeof(hello) / sizeof(hello[0]); i++) {
		strbuf_init(&sb);
		raw_seal(&sb, raw_hello(&sb, EGRESS_WIRE_ROLE_WORKER, hello[i].tag));
		expect_refusal(EGRESS_WIRE_ROLE_WORKER, &sb, EGRESS_WIRE_E_MISSING, hello[i].words);
	}
	start_stream(&sb, EGRESS_WIRE_ROLE_EGRESS);
	raw_seal(&sb, raw_response(&sb, EGRESS_WIRE_TAG_STATUS));
	expect_refusal(EGRESS_WIRE_ROLE_EGRESS, &sb, EGRESS_WIRE_E_MISSING, "RESPONSE has no status field");
	start_stream(&sb, EGRESS_WIRE_ROLE_EGRESS);
	raw_seal(&sb, raw_failure(&sb, EGRESS_WIRE_TAG_OUTCOME));
	expect_refusal(EGRESS_WIRE_ROLE_EGRESS, &sb, EGRESS_WIRE_E_MISSING, "FAILURE has no outcome field");
	start_stream(&sb, EGRESS_WIRE_ROLE_EGRESS);
	raw_seal(&sb, raw_failure(&sb, EGRESS_WIRE_TAG_MESSAGE));
	expect_refusal(EGRESS_WIRE_ROLE_EGRESS, &sb, EGRESS_WIRE_E_MISSING, "FAILURE has no message field");
}

static void
test_decoder_new_checks_its_arguments(void **state)
{
	struct egress_wire_limits limits = test_limits;

	(void)state;
	limits.max_headers = EGRESS_WIRE_MAX_HEADERS_CEILING + 1;
	errno = 0;
	assert_null(egress_wire_decoder_new(&limits, EGRESS_WIRE_ROLE_WORKER));
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_null(egress_wire_decoder_new(&test_limits, (enum egress_wire_role)3));
	assert_int_equal(errno, EINVAL);
	egress_wire_decoder_free(NULL);
}

static void
test_header_limits(void **state)
{
	struct strbuf sb;
	size_t head, i;
	char value[1024 - 7 * 2 - 1 + 1];

	(void)state;
	/* Seven of two bytes and "h" with this value: 1024 bytes, the limit. */
	memset(value, 'v', sizeof(value) - 1);
	value[sizeof(value) - 1] = '\0';
	start_stream(&sb, EGRESS_WIRE_ROLE_EGRESS);
	head = raw_response(&sb, 0);
	for (i = 0; i < 7; i++)
		raw_header(&sb, "h", "v");
	raw_header(&sb, "h", value);
	raw_seal(&sb, head);
	assert_int_equal(expect_accepted(EGRESS_WIRE_ROLE_EGRESS, &sb), 2);

	/* A ninth header. */
	start_stream(&sb, EGRESS_WIRE_ROLE_EGRESS);
	head = raw_response(&sb, 0);
	for (i = 0; i < 9; i++)
		raw_header(&sb, "h", "v");
	raw_seal(&sb, head);
	expect_refusal(EGRESS_WIRE_ROLE_EGRESS, &sb, EGRESS_WIRE_E_HEADER_COUNT, "RESPONSE has more than 8 headers");

	/* One byte more. */
	start_stream(&sb, EGRESS_WIRE_ROLE_WORKER);
	head = raw_request(&sb, 1, 0);
	for (i = 0; i < 7; i++)
		raw_header(&sb, "h", "v");
	raw_header(&sb, "hh", value);
	raw_seal(&sb, head);
	expect_refusal(EGRESS_WIRE_ROLE_WORKER, &sb, EGRESS_WIRE_E_HEADER_BYTES,
	    "REQUEST headers take over 1024 bytes by header 7");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_heads_refused),
		cmocka_unit_test(test_hello_comes_first),
		cmocka_unit_test(test_length_checked_before_buffering),
		cmocka_unit_test(test_frames_up_to_the_limit),
		cmocka_unit_test(test_fields_running_past_the_frame),
		cmocka_unit_test(test_fields_of_the_wrong_size),
		cmocka_unit_test(test_duplicates_refused),
		cmocka_unit_test(test_missing_fields_refused),
		cmocka_unit_test(test_header_limits),
		cmocka_unit_test(test_decoder_new_checks_its_arguments),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
