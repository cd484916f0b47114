/* Runs in: the egress process. */
#define _GNU_SOURCE
/*
 * peer: one worker's connection.  Frames in are decoded as they arrive
 * (REQUEST starts a transfer, CANCEL ends one); answers out wait in a write
 * queue.  When a worker stops reading and the queue passes
 * EGRESS_PEER_QUEUE_HIGH, its requests are no longer read until the queue
 * drains: back-pressure instead of unbounded memory.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"
#include "egress/state.h"

#define READ_CHUNK 65536

static const struct egress_wire_limits egress_limits = {
	.max_payload = EGRESS_MAX_REQUEST_PAYLOAD,
	.max_headers = EGRESS_MAX_REQUEST_HEADERS,
	.max_header_bytes = EGRESS_MAX_REQUEST_HEADER_BYTES,
};

/* What epoll should watch: requests unless the queue is full, writability while it holds bytes. */
static void
rewatch(struct peer *p)
{
	size_t queued = p->out.len - p->out_sent;
	uint32_t events = queued < EGRESS_PEER_QUEUE_HIGH ? EPOLLIN : 0;

	if (queued > 0)
		events |= EPOLLOUT;
	/* epoll reports a hang-up even on a watch with no events asked: keep one. */
	if (loop_watch(p->eg, &p->watch, events ? events : EPOLLRDHUP) < 0)
		p->write_failed = true;
}

static void
flush(struct peer *p)
{
	while (p->out_sent < p->out.len) {
		ssize_t n = write(p->watch.fd, p->out.data + p->out_sent, p->out.len - p->out_sent);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0) {
			/* Closed at the end of the loop's turn: a transfer may be answering right now. */
			log_errno("egress_peer_write_failed", "worker %d: cannot write its answers", p->slot);
			p->write_failed = true;
			p->out.len = p->out_sent = 0;
			loop_unwatch(p->eg, &p->watch);
			return;
		}
		p->out_sent += (size_t)n;
	}
	if (p->out_sent == p->out.len) {
		p->out.len = 0;
		p->out_sent = 0;
	}
	rewatch(p);
}

void
peer_send(struct peer *p, const struct egress_wire_message *msg)
{
	struct egress_wire_error err;
	int rc;

	if (p->closed || p->write_failed)
		return;
	rc = egress_wire_encode(&p->out, msg, &p->limits, &err);
	if (rc < 0 && err.code == EGRESS_WIRE_E_NO_MEMORY) {
		log_msg(LOG_ERROR, "egress_peer_no_memory", "worker %d: no memory for its answers", p->slot);
		p->write_failed = true;
		return;
	}
	if (rc < 0 && msg->type == EGRESS_WIRE_RESPONSE) {
		/* An answer the worker would refuse (too big for its frames): say so instead. */
		peer_fail(p, msg->id, err.code == EGRESS_WIRE_E_TOO_LARGE || err.code == EGRESS_WIRE_E_HEADER_COUNT ||
		    err.code == EGRESS_WIRE_E_HEADER_BYTES ? EGRESS_WIRE_OUTCOME_TOO_LARGE : EGRESS_WIRE_OUTCOME_INTERNAL,
		    "the response does not fit the worker's frame limits: %s", err.message);
		return;
	}
	if (rc < 0) {
		log_msg(LOG_ERROR, "egress_encode_failed", "worker %d: %s", p->slot, err.message);
		return;
	}
	flush(p);
}

void
peer_fail(struct peer *p, uint32_t id, enum egress_wire_outcome outcome, const char *fmt, ...)
{
	char text[512];
	va_list ap;
	struct egress_wire_message msg = {.type = EGRESS_WIRE_FAILURE, .id = id};

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	/* The wire takes no control character: a message quoting an upstream could hold one. */
	for (char *c = text; *c != '\0'; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = ' ';
	msg.failure.outcome = outcome;
	msg.failure.message = (struct egress_wire_span){text, strlen(text)};
	peer_send(p, &msg);
}

static void
send_hello(struct peer *p)
{
	struct egress_wire_message msg = {.type = EGRESS_WIRE_HELLO, .id = 0};

	msg.hello = (struct egress_wire_hello){.version = EGRESS_WIRE_VERSION, .role = EGRESS_WIRE_ROLE_EGRESS,
	    .limits = egress_limits};
	peer_send(p, &msg);
}

/* A worker connection begins (handed over by the supervisor) or ends: one line with the worker's slot. */
static void
log_worker_connection(const char *event, int slot, const char *what)
{
	struct logline line;

	logline_begin(&line, LOG_INFO, event);
	logline_int(&line, "slot", slot);
	logline_str(&line, "msg", what);
	logline_emit(&line);
}

int
peer_adopt(struct egress *eg, int fd, int slot)
{
	struct peer *p = calloc(1, sizeof(*p));
	struct egress_wire_decoder *dec = egress_wire_decoder_new(&egress_limits, EGRESS_WIRE_ROLE_WORKER);

	if (p == NULL || dec == NULL || fcntl(fd, F_SETFL, O_NONBLOCK) < 0) {
		log_errno("egress_peer_failed", "cannot take worker %d's connection", slot);
		free(p);
		egress_wire_decoder_free(dec);
		return -1;
	}
	*p = (struct peer){.eg = eg, .watch = {.kind = WATCH_PEER, .fd = fd, .owner = p}, .slot = slot,
	    .dec = dec, .next = eg->peers};
	strbuf_init(&p->out);
	/* Until the worker's HELLO says otherwise, only a HELLO goes out: the smallest limits. */
	p->limits = (struct egress_wire_limits){.max_payload = 64, .max_headers = 0, .max_header_bytes = 0};
	eg->peers = p;
	send_hello(p);
	if (!p->write_failed)
		log_worker_connection("egress_worker_connected", slot, "a worker's connection was handed over");
	return 0;
}

static void
on_message(struct peer *p, const struct egress_wire_message *msg)
{
	struct transfer *t;

	switch (msg->type) {
	case EGRESS_WIRE_HELLO:
		p->limits = msg->hello.limits;
		p->hello_seen = true;
		break;
	case EGRESS_WIRE_REQUEST:
		transfer_start(p, msg);
		break;
	case EGRESS_WIRE_CANCEL:
		t = transfer_find(p, msg->id);
		if (t != NULL)
			transfer_fail(t, EGRESS_WIRE_OUTCOME_CANCELLED, "cancelled by the worker");
		break;
	default:
		break;	/* the decoder lets through only what a worker sends */
	}
}

static void
on_readable(struct peer *p)
{
	char buf[READ_CHUNK];
	ssize_t n = read(p->watch.fd, buf, sizeof(buf));
	size_t off = 0;

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		/* A worker that exits with answers unread resets the connection: it closed it all the same. */
		if (n < 0 && errno != ECONNRESET)
			log_errno("egress_peer_read_failed", "worker %d", p->slot);
		else
			log_worker_connection("egress_peer_closed", p->slot, "the worker closed its connection");
		peer_close(p);
		return;
	}
	while (off < (size_t)n && !p->closed && !p->write_failed) {
		struct egress_wire_message msg;
		size_t used = 0;
		int rc = egress_wire_decode(p->dec, buf + off, (size_t)n - off, &used, &msg);

		off += used;
		if (rc < 0) {
			const struct egress_wire_error *err = egress_wire_decoder_error(p->dec);

			log_msg(LOG_ERROR, "egress_peer_refused", "worker %d sent a frame the egress refuses (%s): %s",
			    p->slot, egress_wire_error_name(err->code), err->message);
			peer_close(p);
			return;
		}
		if (rc == 1)
			on_message(p, &msg);
	}
}

void
peer_on_event(struct peer *p, uint32_t events)
{
	if (p->closed || p->write_failed)
		return;
	if (events & EPOLLOUT)
		flush(p);
	if (!p->write_failed && (events & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP)))
		on_readable(p);
}

void
peer_drain(struct peer *p, uint64_t deadline_ms)
{
	while (!p->closed && !p->write_failed && p->out_sent < p->out.len && now_ms() < deadline_ms) {
		struct pollfd pfd = {.fd = p->watch.fd, .events = POLLOUT};

		if (poll(&pfd, 1, (int)(deadline_ms - now_ms())) <= 0)
			return;
		flush(p);
	}
}

void
peer_close(struct peer *p)
{
	struct peer **link = &p->eg->peers;

	if (p->closed)
		return;
	p->closed = true;
	while (p->transfers != NULL)
		transfer_drop(p->transfers);
	loop_unwatch(p->eg, &p->watch);
	close(p->watch.fd);
	while (*link != p)
		link = &(*link)->next;
	*link = p->next;
	p->next = p->eg->closed;
	p->eg->closed = p;
}

void
peer_reap(struct egress *eg)
{
	for (struct peer *p = eg->peers, *next; p != NULL; p = next) {
		next = p->next;
		if (p->write_failed)
			peer_close(p);
	}
	while (eg->closed != NULL) {
		struct peer *p = eg->closed;

		eg->closed = p->next;
		egress_wire_decoder_free(p->dec);
		strbuf_free(&p->out);
		free(p);
	}
}
