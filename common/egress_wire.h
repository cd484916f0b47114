/*
 * egress_wire: the framed protocol between a worker and the egress process,
 * over one AF_UNIX SOCK_STREAM socketpair per worker.
 *
 * Every frame is a 12-byte head, then `payload length` bytes of fields.
 * Numbers are unsigned and big-endian (network byte order).
 *
 *	 0       1         2      3       4            8              12
 *	+-------+---------+------+-------+------------+----------------+
 *	| magic | version | type | flags | request id | payload length |
 *	| 0xE6  | 0x01    |  u8  |  u8   |  u32       |  u32           |
 *	+-------+---------+------+-------+------------+----------------+
 *
 * The payload is a sequence of fields, in any order:
 *
 *	 0       2              6
 *	+-------+--------------+-----------------+
 *	|  tag  |    length    |  length bytes   |
 *	|  u16  |     u32      |                 |
 *	+-------+--------------+-----------------+
 *
 * A field's bytes are a number (u32, exactly 4 bytes), text (UTF-8 with no
 * control character: no NUL, CR or LF; a header value may hold a tab),
 * bytes (anything), or a header (u16 name length, the name, then the value
 * to the end of the field; a name holds no colon or space).  Each type
 * lists its fields below; a tag a type does not list is skipped, so a later
 * version may add optional fields.  A field a type lists appears at most
 * once, except HEADER, which repeats in order.
 *
 * The request id is 0 on HELLO and a non-zero id the worker chose on every
 * other frame; CANCEL, RESPONSE and FAILURE carry the id of their REQUEST.
 * Each side sends HELLO first and only once.  Flags: bit 0 of a REQUEST is
 * "follow redirects", of a RESPONSE "truncated"; every other bit, and every
 * bit of the other types, is refused.
 *
 * Everything else a decoder refuses closes the connection: there is no
 * resynchronising a byte stream.  Its caller logs the error code and
 * message once, fails the calls in flight and drops the socket.
 */
#ifndef MCPD_COMMON_EGRESS_WIRE_H
#define MCPD_COMMON_EGRESS_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/strbuf.h"

#define EGRESS_WIRE_MAGIC 0xE6
#define EGRESS_WIRE_VERSION 1
#define EGRESS_WIRE_HEAD_SIZE 12	/* bytes of a frame head */
#define EGRESS_WIRE_FIELD_HEAD_SIZE 6	/* bytes of a field's tag and length */
/* A decoder keeps one header slot per allowed header: bound it. */
#define EGRESS_WIRE_MAX_HEADERS_CEILING 4096

#define EGRESS_WIRE_FLAG_FOLLOW_REDIRECTS 0x01	/* REQUEST */
#define EGRESS_WIRE_FLAG_TRUNCATED 0x01		/* RESPONSE */

/* Frame types, the byte at offset 2. */
enum egress_wire_type {
	EGRESS_WIRE_HELLO = 1,		/* both sides: version, role, limits */
	EGRESS_WIRE_REQUEST = 2,	/* worker -> egress */
	EGRESS_WIRE_CANCEL = 3,		/* worker -> egress: no fields */
	EGRESS_WIRE_RESPONSE = 4,	/* egress -> worker */
	EGRESS_WIRE_FAILURE = 5,	/* egress -> worker */
};

/* Field tags.  One space for every type, so that a tag means one thing. */
enum egress_wire_tag {
	/* HELLO, all required. */
	EGRESS_WIRE_TAG_VERSION = 1,		/* number: EGRESS_WIRE_VERSION */
	EGRESS_WIRE_TAG_ROLE = 2,		/* number: enum egress_wire_role */
	EGRESS_WIRE_TAG_MAX_PAYLOAD = 3,	/* number: the sender's limits */
	EGRESS_WIRE_TAG_MAX_HEADERS = 4,	/* number */
	EGRESS_WIRE_TAG_MAX_HEADER_BYTES = 5,	/* number */
	/* REQUEST; the first four and the deadline and caps are required. */
	EGRESS_WIRE_TAG_TOOL_INDEX = 16,	/* number */
	EGRESS_WIRE_TAG_TOOL_NAME = 17,		/* text, not empty */
	EGRESS_WIRE_TAG_METHOD = 18,		/* text, not empty */
	EGRESS_WIRE_TAG_URL = 19,		/* text, not empty */
	EGRESS_WIRE_TAG_HEADER = 20,		/* header, repeated (also RESPONSE) */
	EGRESS_WIRE_TAG_BODY = 21,		/* bytes (also RESPONSE) */
	EGRESS_WIRE_TAG_DEADLINE_MS = 22,	/* number, not 0 */
	EGRESS_WIRE_TAG_RESPONSE_CAP = 23,	/* number: body bytes kept */
	EGRESS_WIRE_TAG_HEADER_CAP = 24,	/* number: header bytes kept */
	EGRESS_WIRE_TAG_AWS_SERVICE = 25,	/* text: sign with SigV4 */
	EGRESS_WIRE_TAG_AWS_REGION = 26,	/* text, only with a service */
	/* RESPONSE and FAILURE. */
	EGRESS_WIRE_TAG_STATUS = 32,		/* number, 100..999; RESPONSE requires it */
	EGRESS_WIRE_TAG_REMOTE_ADDRESS = 33,	/* text: the address connected to */
	EGRESS_WIRE_TAG_OUTCOME = 34,		/* number: FAILURE, required */
	EGRESS_WIRE_TAG_MESSAGE = 35,		/* text: FAILURE, required */
};

/* Who sends a HELLO; bits, so that a frame type can name its senders. */
enum egress_wire_role {
	EGRESS_WIRE_ROLE_WORKER = 1,
	EGRESS_WIRE_ROLE_EGRESS = 2,
};

/*
 * What became of a request, as a tool and the metric label see it.  OK is
 * a RESPONSE (so the label "ok" exists) and never travels in a FAILURE.
 * The values are on the wire: append, never renumber.
 */
enum egress_wire_outcome {
	EGRESS_WIRE_OUTCOME_OK = 0,
	EGRESS_WIRE_OUTCOME_REFUSED_DESTINATION = 1,
	EGRESS_WIRE_OUTCOME_DNS_FAILURE = 2,
	EGRESS_WIRE_OUTCOME_CONNECT_FAILED = 3,
	EGRESS_WIRE_OUTCOME_TLS_FAILED = 4,
	EGRESS_WIRE_OUTCOME_TIMEOUT = 5,
	EGRESS_WIRE_OUTCOME_TOO_LARGE = 6,
	EGRESS_WIRE_OUTCOME_UPSTREAM_STATUS = 7,
	EGRESS_WIRE_OUTCOME_CANCELLED = 8,
	EGRESS_WIRE_OUTCOME_EGRESS_RESTARTED = 9,
	EGRESS_WIRE_OUTCOME_EGRESS_BUSY = 10,
	EGRESS_WIRE_OUTCOME_BAD_REQUEST = 11,
	EGRESS_WIRE_OUTCOME_INTERNAL = 12,
	EGRESS_WIRE_OUTCOME_COUNT	/* one past the last */
};

/* Why a frame was refused (decoder) or could not be written (encoder). */
enum egress_wire_error_code {
	EGRESS_WIRE_OK = 0,
	EGRESS_WIRE_E_MAGIC,		/* the first byte is not 0xE6 */
	EGRESS_WIRE_E_VERSION,		/* a version other than EGRESS_WIRE_VERSION */
	EGRESS_WIRE_E_TYPE,		/* unknown, or one the peer never sends */
	EGRESS_WIRE_E_FLAGS,		/* a flag bit the type does not define */
	EGRESS_WIRE_E_SEQUENCE,		/* first frame not HELLO, or a second HELLO */
	EGRESS_WIRE_E_ID,		/* id 0 on a request's frame, or not 0 on HELLO */
	EGRESS_WIRE_E_TOO_LARGE,	/* payload length over the limit */
	EGRESS_WIRE_E_OVERRUN,		/* a field runs past its frame */
	EGRESS_WIRE_E_FIELD_SIZE,	/* a number not 4 bytes; a header name past its field */
	EGRESS_WIRE_E_DUPLICATE,	/* a singular field twice */
	EGRESS_WIRE_E_MISSING,		/* a required field absent */
	EGRESS_WIRE_E_TEXT,		/* not UTF-8, a control character, or empty */
	EGRESS_WIRE_E_VALUE,		/* a number or a combination out of range */
	EGRESS_WIRE_E_HEADER_COUNT,	/* more headers than the limit */
	EGRESS_WIRE_E_HEADER_BYTES,	/* header names and values over the limit */
	EGRESS_WIRE_E_NO_MEMORY,
	EGRESS_WIRE_E_COUNT		/* one past the last */
};

struct egress_wire_error {
	enum egress_wire_error_code code;
	char message[160];	/* one line naming the frame type and field */
};

/*
 * What a decoder accepts, fixed when it is made, and what an encoder may
 * write for the peer that announced them in its HELLO.
 */
struct egress_wire_limits {
	uint32_t max_payload;		/* bytes after a frame's head */
	uint32_t max_headers;		/* HEADER fields in one frame */
	uint32_t max_header_bytes;	/* their names and values together */
};

/*
 * What every egress's decoder accepts at least: a worker writes its
 * requests against these limits until the egress's HELLO arrives (it is
 * sent first, but a request may be written before it is read), and drops
 * a connection whose HELLO announces less.
 */
#define EGRESS_WIRE_MIN_LIMITS { .max_payload = 16u << 20, .max_headers = 256, .max_header_bytes = 64u << 10 }

/* Bytes that are not NUL-terminated: base may be NULL when len is 0. */
struct egress_wire_span {
	const char *base;
	size_t len;
};

struct egress_wire_header {
	struct egress_wire_span name;
	struct egress_wire_span value;
};

struct egress_wire_hello {
	uint32_t version;
	enum egress_wire_role role;
	struct egress_wire_limits limits;	/* what the sender's decoder accepts */
};

struct egress_wire_request {
	uint32_t tool_index;
	struct egress_wire_span tool_name;
	struct egress_wire_span method;
	struct egress_wire_span url;
	const struct egress_wire_header *headers;
	size_t n_headers;
	struct egress_wire_span body;		/* empty: none */
	uint32_t deadline_ms;			/* from when the egress reads it */
	uint32_t response_cap;			/* body bytes the tool takes */
	uint32_t header_cap;			/* response header bytes it takes */
	bool follow_redirects;
	struct egress_wire_span aws_service;	/* empty: do not sign */
	struct egress_wire_span aws_region;	/* empty: the egress's AWS_REGION */
};

struct egress_wire_response {
	uint16_t status;
	const struct egress_wire_header *headers;
	size_t n_headers;
	struct egress_wire_span body;
	bool truncated;				/* the body was cut at response_cap */
	struct egress_wire_span remote_address;	/* "192.0.2.1:443", "[2001:db8::1]:443" */
};

struct egress_wire_failure {
	enum egress_wire_outcome outcome;	/* never OK */
	struct egress_wire_span message;
	uint16_t status;			/* 0, or the status of UPSTREAM_STATUS */
	struct egress_wire_span remote_address;	/* empty when none was reached */
};

struct egress_wire_message {
	enum egress_wire_type type;
	uint32_t id;
	union {
		struct egress_wire_hello hello;
		struct egress_wire_request request;
		struct egress_wire_response response;
		struct egress_wire_failure failure;
	};	/* CANCEL has no fields */
};

/*
 * Encoder.
 *
 * Appends msg as one frame to out.  Returns 0, or -1 with err filled (err
 * may be NULL) and out as it was: a message the peer's decoder would refuse
 * is never written, so a tool's bad header fails that one call, not the
 * connection.  `limits` are the peer's (its HELLO).  The strbuf is failed
 * (strbuf_ok false) only when it could not grow: EGRESS_WIRE_E_NO_MEMORY.
 */
int egress_wire_encode(struct strbuf *out, const struct egress_wire_message *msg,
    const struct egress_wire_limits *limits, struct egress_wire_error *err);

/**
 * The payload bytes msg would take (without the head), unchecked, so that
 * the egress can tell how much of a body fits a frame.  SIZE_MAX for an
 * unknown type or a length that does not fit the wire.
 */
size_t egress_wire_payload_size(const struct egress_wire_message *msg);

/*
 * Decoder: one per connection, fed the bytes as they arrive, in any split.
 *
 * It refuses a frame as soon as the bytes that make it wrong are in: the
 * head (and so an oversized length) after 12 bytes, before any of the
 * payload is buffered.  It allocates its header slots when made (limits
 * .max_headers of them) and its payload buffer as payload bytes actually
 * arrive, never by a length it was told; after a frame over 64 KiB the
 * buffer is released.
 */
struct egress_wire_decoder;

/**
 * Makes a decoder for the frames `peer` sends (a worker decodes the
 * egress's, and the reverse).  NULL with errno ENOMEM, or EINVAL when
 * limits->max_headers is over EGRESS_WIRE_MAX_HEADERS_CEILING.
 */
struct egress_wire_decoder *egress_wire_decoder_new(const struct egress_wire_limits *limits,
    enum egress_wire_role peer);
void egress_wire_decoder_free(struct egress_wire_decoder *dec);

/**
 * Takes bytes from data[0..len) until one message is complete or the bytes
 * run out, and sets *used to the bytes it took.  Returns 1 with *msg filled
 * (call again with the rest of data: more frames may follow), 0 when it
 * needs more bytes (all len were taken), or -1 when the stream is refused
 * (see egress_wire_decoder_error; every later call returns -1 too).
 *
 * *msg points into the decoder: its spans and headers stay valid until the
 * next call to egress_wire_decode or egress_wire_decoder_free.  Copy what
 * must live longer.  data is only read during the call.
 */
int egress_wire_decode(struct egress_wire_decoder *dec, const void *data, size_t len, size_t *used,
    struct egress_wire_message *msg);

/** Why the decoder refused its stream (code EGRESS_WIRE_OK while it has not). */
const struct egress_wire_error *egress_wire_decoder_error(const struct egress_wire_decoder *dec);

/** True when a and b carry the same fields and flags (spans compared by content). */
bool egress_wire_message_equal(const struct egress_wire_message *a, const struct egress_wire_message *b);

/* Names, for logs and metric labels; "unknown" for values out of range. */
const char *egress_wire_type_name(enum egress_wire_type type);		/* "REQUEST" */
const char *egress_wire_role_name(enum egress_wire_role role);		/* "worker" */
const char *egress_wire_outcome_name(enum egress_wire_outcome outcome);	/* "refused_destination" */
const char *egress_wire_error_name(enum egress_wire_error_code code);	/* "too_large" */

#endif
