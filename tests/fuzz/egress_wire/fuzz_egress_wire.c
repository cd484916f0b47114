/*
 * Fuzz driver for common/egress_wire*.c: the decoder on a byte stream from
 * a peer, fed in pieces, and the encoder on everything the decoder accepts.
 *
 * Input: an options byte, a count k, k piece sizes, then the stream.
 *   options bit 0  0: the stream is a worker's (REQUEST, CANCEL), decoded as
 *                  the egress does; 1: the egress's (RESPONSE, FAILURE)
 *   options bit 1  tight limits (96-byte payloads, two headers of 24 bytes
 *                  in all) instead of roomy ones (4 KiB, 16, 1 KiB)
 *   k, sizes       the stream is fed in pieces of size + 1 bytes, the sizes
 *                  taken in turn and over again; k = 0 feeds it whole
 * tests/fuzz/egress_wire/make-corpus.mjs writes the seeds in this form.
 *
 * The stream is decoded twice, whole and in the pieces, and each message
 * the decoder gives is encoded again, decoded by a second decoder and
 * encoded once more.  The checks, besides the sanitizers:
 *   - the encoder takes every message the decoder gave, under the same
 *     limits, and its frame is head plus egress_wire_payload_size bytes;
 *   - the second decoder gives the message back equal, from exactly that
 *     frame, and encoding it again gives the same bytes;
 *   - both passes give the same messages and stop at the same byte with the
 *     same error, so no split changes what the decoder sees;
 *   - an error is for good: the decoder takes nothing after it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/egress_wire.h"
#include "common/strbuf.h"
#include "tests/fuzz/fuzz_check.h"

static const struct egress_wire_limits roomy = {.max_payload = 4096, .max_headers = 16, .max_header_bytes = 1024};
static const struct egress_wire_limits tight = {.max_payload = 96, .max_headers = 2, .max_header_bytes = 24};

struct input {
	enum egress_wire_role peer;
	const struct egress_wire_limits *limits;
	const uint8_t *sizes;
	size_t n_sizes;		/* 0: the stream in one piece */
	const uint8_t *stream;
	size_t len;
};

/* What one pass saw: every message re-encoded, then where and why it stopped. */
struct pass {
	struct strbuf transcript;
	size_t taken;	/* bytes the decoder took */
	struct egress_wire_error error;
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
encode_or_die(struct strbuf *out, const struct egress_wire_message *msg, const struct egress_wire_limits *limits)
{
	struct egress_wire_error err = {0};

	if (egress_wire_encode(out, msg, limits, &err) != 0) {
		fprintf(stderr, "encoding a decoded %s failed: %s\n", egress_wire_type_name(msg->type), err.message);
		abort();
	}
	FUZZ_CHECK(strbuf_ok(out));
}

/*
 * Encodes msg, decodes it with `mirror` (which has seen every frame before
 * it), checks the round trip and adds the frame to the transcript.
 */
static void
check_round_trip(const struct egress_wire_message *msg, struct egress_wire_decoder *mirror,
    const struct egress_wire_limits *limits, struct strbuf *transcript)
{
	struct egress_wire_message again;
	struct strbuf first, second;
	size_t used;

	strbuf_init(&first);
	strbuf_init(&second);
	encode_or_die(&first, msg, limits);
	FUZZ_CHECK(first.len == EGRESS_WIRE_HEAD_SIZE + egress_wire_payload_size(msg));
	FUZZ_CHECK(egress_wire_decode(mirror, first.data, first.len, &used, &again) == 1);
	FUZZ_CHECK(used == first.len);
	FUZZ_CHECK(egress_wire_message_equal(msg, &again));
	encode_or_die(&second, &again, limits);
	FUZZ_CHECK(second.len == first.len && memcmp(second.data, first.data, first.len) == 0);
	strbuf_append(transcript, first.data, first.len);
	strbuf_free(&first);
	strbuf_free(&second);
}

/* The size of the i-th piece. */
static size_t
piece_size(const struct input *in, size_t i)
{
	if (in->n_sizes == 0)
		return in->len;
	return (size_t)in->sizes[i % in->n_sizes] + 1;
}

/* Feeds one piece; returns -1 once the decoder has refused the stream. */
static int
feed_piece(struct egress_wire_decoder *dec, struct egress_wire_decoder *mirror, const struct input *in,
    const uint8_t *p, size_t len, struct pass *pass)
{
	struct egress_wire_message msg;
	size_t used;
	int rc;

	while (len > 0) {
		rc = egress_wire_decode(dec, p, len, &used, &msg);
		FUZZ_CHECK(used <= len);
		pass->taken += used;
		p += used;
		len -= used;
		if (rc < 0)
			return -1;
		if (rc == 0)
			FUZZ_CHECK(len == 0);
		else
			check_round_trip(&msg, mirror, in->limits, &pass->transcript);
	}
	return 0;
}

static void
run_pass(const struct input *in, bool whole, struct pass *pass)
{
	struct egress_wire_decoder *dec = egress_wire_decoder_new(in->limits, in->peer);
	struct egress_wire_decoder *mirror = egress_wire_decoder_new(in->limits, in->peer);
	const struct egress_wire_error *err;
	struct egress_wire_message msg;
	size_t off = 0, i = 0, n, used = 1;

	FUZZ_CHECK(dec != NULL && mirror != NULL);
	strbuf_init(&pass->transcript);
	pass->taken = 0;
	while (off < in->len) {
		n = whole ? in->len : piece_size(in, i++);
		if (n > in->len - off)
			n = in->len - off;
		if (feed_piece(dec, mirror, in, in->stream + off, n, pass) < 0)
			break;
		off += n;
	}
	err = egress_wire_decoder_error(dec);
	pass->error = *err;
	if (err->code != EGRESS_WIRE_OK) {
		FUZZ_CHECK(err->code < EGRESS_WIRE_E_COUNT && err->message[0] != '\0');
		FUZZ_CHECK(egress_wire_decode(dec, in->stream, in->len, &used, &msg) == -1 && used == 0);
	}
	FUZZ_CHECK(egress_wire_decoder_error(mirror)->code == EGRESS_WIRE_OK);
	egress_wire_decoder_free(dec);
	egress_wire_decoder_free(mirror);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pass whole, pieces;
	struct input in;

	if (size < 2 || size - 2 < data[1])
		return 0;
	in.peer = data[0] & 1 ? EGRESS_WIRE_ROLE_EGRESS : EGRESS_WIRE_ROLE_WORKER;
	in.limits = data[0] & 2 ? &tight : &roomy;
	in.n_sizes = data[1];
	in.sizes = data + 2;
	in.stream = data + 2 + in.n_sizes;
	in.len = size - 2 - in.n_sizes;

	run_pass(&in, true, &whole);
	run_pass(&in, false, &pieces);
	FUZZ_CHECK(whole.transcript.len == pieces.transcript.len);
	FUZZ_CHECK(whole.transcript.len == 0
	    || memcmp(whole.transcript.data, pieces.transcript.data, whole.transcript.len) == 0);
	FUZZ_CHECK(whole.taken == pieces.taken);
	FUZZ_CHECK(whole.error.code == pieces.error.code);
	FUZZ_CHECK(strcmp(whole.error.message, pieces.error.message) == 0);
	strbuf_free(&whole.transcript);
	strbuf_free(&pieces.transcript);
	return 0;
}
