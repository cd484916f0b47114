/*
 * Unit tests for common/egress_wire_rules.c: the text and value rules,
 * which the decoder applies to what it reads and the encoder to what it is
 * asked to write, so that a frame one side writes the other accepts.  The
 * encoder's refusals leave its buffer as it was.
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

/* Stand-ins for the two halves of a HEADER field in refuse_text. */
#define HEADER_NAME 0xff01
#define HEADER_VALUE 0xff02

/* A REQUEST (RESPONSE for remote_address) whose field `tag` holds text[0..len). */
static void
refuse_text(uint16_t tag, const char *text, size_t len, const char *words)
{
	enum egress_wire_role peer = tag == EGRESS_WIRE_TAG_REMOTE_ADDRESS ? EGRESS_WIRE_ROLE_EGRESS
	    : EGRESS_WIRE_ROLE_WORKER;
	struct strbuf sb;
	size_t head;

	start_stream(&sb, peer);
	head = peer == EGRESS_WIRE_ROLE_EGRESS ? raw_response(&sb, 0) : raw_request(&sb, 1, tag);
	if (tag == HEADER_NAME || tag == HEADER_VALUE) {
		put_be(&sb, EGRESS_WIRE_TAG_HEADER, 2);
		put_be(&sb, 2 + len + 1, 4);
		put_be(&sb, tag == HEADER_NAME ? len : 1, 2);
		if (tag == HEADER_VALUE)
			strbuf_putc(&sb, 'n');
		strbuf_append(&sb, text, len);
		if (tag == HEADER_NAME)
			strbuf_putc(&sb, 'v');
	} else {
		raw_field(&sb, tag, text, len);
	}
	raw_seal(&sb, head);
	expect_refusal(peer, &sb, EGRESS_WIRE_E_TEXT, words);
}

static void
test_bad_text_refused(void **state)
{
	static const uint16_t tags[] = {EGRESS_WIRE_TAG_METHOD, EGRESS_WIRE_TAG_URL, HEADER_NAME, HEADER_VALUE,
	    EGRESS_WIRE_TAG_TOOL_NAME, EGRESS_WIRE_TAG_AWS_SERVICE, EGRESS_WIRE_TAG_REMOTE_ADDRESS};
	static const struct {
		const char *text;
		size_t len;
		const char *words;
	} bad[] = {
		{"\xff", 1, "is not valid UTF-8"},
		{"a\xc3(", 3, "is not valid UTF-8"},
		{"\xc0\xaf", 2, "is not valid UTF-8"},		/* an overlong "/" */
		{"\xed\xa0\x80", 3, "is not valid UTF-8"},	/* a surrogate */
		{"\xe2\x82", 2, "is not valid UTF-8"},		/* cut short */
		{"GE\0T", 4, "holds a NUL byte at 2"},
		{"a\r\nb", 4, "holds the control character 0x0d at 1"},
		{"a\nb", 3, "control character 0x0a"},
		{"\x7f", 1, "control character 0x7f"},
		{"\x1b[0m", 4, "control character 0x1b"},
	};
	size_t t, b;

	(void)state;
	for (t = 0; t < sizeof(tags) / sizeof(tags[0]); t++)
		for (b = 0; b < sizeof(bad) / sizeof(bad[0]); b++)
			refuse_text(tags[t], bad[b].text, bad[b].len, bad[b].words);
	refuse_text(EGRESS_WIRE_TAG_URL, "a\tb", 3, "REQUEST url holds the control character 0x09");
	refuse_text(HEADER_NAME, "a:b", 3, "REQUEST header 0 name holds ':' at 1");
	refuse_text(HEADER_NAME, "a b", 3, "holds ' ' at 1");
	refuse_text(HEADER_VALUE, "\xc3", 1, "REQUEST header 0 value is not valid UTF-8");
	refuse_text(HEADER_NAME, "", 0, "REQUEST header 0 name is empty");
	refuse_text(EGRESS_WIRE_TAG_METHOD, "", 0, "REQUEST method is empty");
	refuse_text(EGRESS_WIRE_TAG_URL, "", 0, "REQUEST url is empty");
	refuse_text(EGRESS_WIRE_TAG_TOOL_NAME, "", 0, "REQUEST tool_name is empty");
}

/* Numbers out of range, and combinations, as the decoder reads them. */
static void
test_bad_values_refused(void **state)
{
	struct strbuf sb;
	size_t head;

	(void)state;
	strbuf_init(&sb);
	head = raw_hello(&sb, EGRESS_WIRE_ROLE_WORKER, EGRESS_WIRE_TAG_VERSION);
	raw_number(&sb, EGRESS_WIRE_TAG_VERSION, 2);
	raw_seal(&sb, head);
	expect_refusal(EGRESS_WIRE_ROLE_WORKER, &sb, EGRESS_WIRE_E_VERSION,
	    "HELLO speaks version 2; this side speaks version 1");

	strbuf_init(&sb);
	raw_seal(&sb, raw_hello(&sb, (enum egress_wire_role)3, 0));
	expect_refusal(EGRESS_WIRE_ROLE_WORKER, &sb, EGRESS_WIRE_E_VALUE, "HELLO with unknown role 3");

	strbuf_init(&sb);
	raw_seal(&sb, raw_hello(&sb, EGRESS_WIRE_ROLE_WORKER, 0));
	expect_refusal(EGRESS_WIRE_ROLE_EGRESS, &sb, EGRESS_WIRE_E_VALUE,
	    "HELLO from a worker where the egress was expected");

	start_stream(&sb, EGRESS_WIRE_ROLE_WORKER);
	head = raw_request(&sb, 1, EGRESS_WIRE_TAG_DEADLINE_MS);
	raw_number(&sb, EGRESS_WIRE_TAG_DEADLINE_MS, 0);
	raw_seal(&sb, head);
	expect_refusal(EGRESS_WIRE_ROLE_WORKER, &sb, EGRESS_WIRE_E_VALUE, "REQUEST with deadline_ms 0");

	start_stream(&sb, EGRESS_WIRE_ROLE_WORKER);
	head = raw_request(&sb, 1, 0);
	raw_field(&sb, EGRESS_WIRE_TAG_AWS_SERVICE, "", 0);
	raw_field(&sb, EGRESS_WIRE_TAG_AWS_REGION, "us-east-1", 9);
	raw_seal(&sb, head);
	expect_refusal(EGRESS_WIRE_ROLE_WORKER, &sb, EGRESS_WIRE_E_VALUE, "REQUEST with aws_region but no aws_service");
}

/* A RESPONSE or FAILURE whose number field `tag` is `value`. */
static void
refuse_number(uint8_t type, uint16_t tag, uint32_t value, const char *words)
{
	struct strbuf sb;
	size_t head;

	start_stream(&sb, EGRESS_WIRE_ROLE_EGRESS);
	head = type == EGRESS_WIRE_RESPONSE ? raw_response(&sb, tag) : raw_failure(&sb, tag);
	raw_number(&sb, tag, value);
	raw_seal(&sb, head);
	expect_refusal(EGRESS_WIRE_ROLE_EGRESS, &sb, EGRESS_WIRE_E_VALUE, words);
}

static void
test_bad_numbers_refused(void **state)
{
	(void)state;
	refuse_number(EGRESS_WIRE_RESPONSE, EGRESS_WIRE_TAG_STATUS, 0, "RESPONSE with status 0, not 100 to 999");
	refuse_number(EGRESS_WIRE_RESPONSE, EGRESS_WIRE_TAG_STATUS, 99, "RESPONSE with status 99");
	refuse_number(EGRESS_WIRE_RESPONSE, EGRESS_WIRE_TAG_STATUS, 1000, "RESPONSE with status 1000");
	refuse_number(EGRESS_WIRE_RESPONSE, EGRESS_WIRE_TAG_STATUS, 65536 + 200, "RESPONSE with status 65736");
	refuse_number(EGRESS_WIRE_FAILURE, EGRESS_WIRE_TAG_STATUS, 42, "FAILURE with status 42");
	refuse_number(EGRESS_WIRE_FAILURE, EGRESS_WIRE_TAG_OUTCOME, 0, "FAILURE with outcome 0, not 1 to 12");
	refuse_number(EGRESS_WIRE_FAILURE, EGRESS_WIRE_TAG_OUTCOME, 13, "FAILURE with outcome 13");
	refuse_number(EGRESS_WIRE_FAILURE, EGRESS_WIRE_TAG_OUTCOME, 0xffffffffu, "FAILURE with outcome 4294967295");
}

/* Encodes msg, which must be refused with `code`, leaving sb's "xy" alone. */
static void
refuse_encoding(const struct egress_wire_message *msg, const struct egress_wire_limits *limits,
    enum egress_wire_error_code code, const char *words)
{
	struct egress_wire_error err = {0};
	struct strbuf sb;

	strbuf_init(&sb);
	strbuf_puts(&sb, "xy");
	if (egress_wire_encode(&sb, msg, limits, &err) != -1 || err.code != code || strstr(err.message, words) == NULL)
		fail_msg("expected %s \"%s\", got %s \"%s\"", egress_wire_error_name(code), words,
		    egress_wire_error_name(err.code), err.message);
	assert_int_equal(sb.len, 2);
	assert_true(strbuf_ok(&sb));
	/* Without an error record too. */
	assert_int_equal(egress_wire_encode(&sb, msg, limits, NULL), -1);
	assert_int_equal(sb.len, 2);
	strbuf_free(&sb);
}

static void
test_encoder_refusals(void **state)
{
	struct egress_wire_header headers[9], long_name = {{NULL, 65536}, S("v")};
	struct egress_wire_limits roomy = {UINT32_MAX, 100, UINT32_MAX}, tight = test_limits;
	struct egress_wire_message m;
	size_t i;

	(void)state;
	m = full_request();
	m.type = (enum egress_wire_type)9;
	refuse_encoding(&m, &test_limits, EGRESS_WIRE_E_TYPE, "cannot encode frame type 9");
	m = full_request();
	m.id = 0;
	refuse_encoding(&m, &test_limits, EGRESS_WIRE_E_ID, "REQUEST with request id 0");
	m = hello_from(EGRESS_WIRE_ROLE_WORKER);
	m.id = 3;
	refuse_encoding(&m, &test_limits, EGRESS_WIRE_E_ID, "HELLO with request id 3");
	m.id = 0;
	m.hello.version = 2;
	refuse_encoding(&m, &test_limits, EGRESS_WIRE_E_VERSION, "HELLO speaks version 2");
	m = hello_from((enum egress_wire_role)0);
	refuse_encoding(&m, &test_limits, EGRESS_WIRE_E_VALUE, "HELLO with unknown role 0");

	m = full_request();
	m.request.method = S("");
	refuse_encoding(&m, &test_limits, EGRESS_WIRE_E_TEXT, "REQUEST method is empty");
	m = full_request();
	m.request.url = S("https://a/\r\nHost: b");
	refuse_encoding(&m, &test_limits, EGRESS_WIRE_E_TEXT, "REQUEST url holds the control character 0x0d");
	m = full_request();
	for (i = 0; i < 9; i++)
		headers[i] = (struct egress_wire_header){S("x-a"), S("1")};
	headers[1].value = S("1\r\nx-injected: 1");
	m.request.headers = headers;
	m.request.n_headers = 2;
	refuse_encoding(&m, &test_limits, EGRESS_WIRE_E_TEXT,
	    "REQUEST header 1 value holds the control character 0x0d");
	headers[1] = (struct egress_wire_header){S("x:a"), S("1")};
	refuse_encoding(&m, &test_limits, EGRESS_WIRE_E_TEXT, "REQUEST header 1 name holds ':'");
	headers[1] = headers[0];
	m.request.n_headers = 9;
	refuse_encoding(&m, &test_limits, EGRESS_WIRE_E_HEADER_COUNT, "REQUEST has 9 headers, over the limit of 8");
	tight.max_header_bytes = 4 * 2 - 1;
	m.request.n_headers = 2;
	refuse_encoding(&m, &tight, EGRESS_WIRE_E_HEADER_BYTES, "REQUEST headers take over 7 bytes by header 1");
	m.request.headers = &long_name;
	m.request.n_headers = 1;
	refuse_encoding(&m, &roomy, EGRESS_WIRE_E_FIELD_SIZE, "REQUEST header 0 has a name of 65536 bytes");
	m = full_request();
	m.request.deadline_ms = 0;
	refuse_encoding(&m, &test_limits, EGRESS_WIRE_E_VALUE, "REQUEST with deadline_ms 0");
	m = full_request();
	m.request.aws_service = S("");
	refuse_encoding(&m, &test_limits, EGRESS_WIRE_E_VALUE, "REQUEST with aws_region but no aws_service");

	m = full_response();
	m.response.status = 42;
	refuse_encoding(&m, &test_limits, EGRESS_WIRE_E_VALUE, "RESPONSE with status 42");
	m = full_failure();
	m.failure.outcome = EGRESS_WIRE_OUTCOME_OK;
	refuse_encoding(&m, &test_limits, EGRESS_WIRE_E_VALUE, "FAILURE with outcome 0");
	m = full_failure();
	m.failure.message = S("two\nlines");
	refuse_encoding(&m, &test_limits, EGRESS_WIRE_E_TEXT, "FAILURE message holds the control character 0x0a");
	m = full_failure();
	tight = test_limits;
	tight.max_payload = (uint32_t)egress_wire_payload_size(&m) - 1;
	refuse_encoding(&m, &tight, EGRESS_WIRE_E_TOO_LARGE, "over the peer's limit of");
}

/* A fixed buffer that cannot take the frame: nothing of it stays. */
static void
test_encoder_out_of_room(void **state)
{
	struct egress_wire_message m = full_request();
	struct egress_wire_error err = {0};
	char storage[40];
	struct strbuf sb;

	(void)state;
	strbuf_init_fixed(&sb, storage, sizeof(storage));
	strbuf_puts(&sb, "xy");
	assert_int_equal(egress_wire_encode(&sb, &m, &test_limits, &err), -1);
	assert_int_equal(err.code, EGRESS_WIRE_E_NO_MEMORY);
	assert_int_equal(sb.len, 2);
	assert_string_equal(sb.data, "xy");
	assert_false(strbuf_ok(&sb));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_text_refused),
		cmocka_unit_test(test_bad_values_refused),
		cmocka_unit_test(test_bad_numbers_refused),
		cmocka_unit_test(test_encoder_refusals),
		cmocka_unit_test(test_encoder_out_of_room),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
