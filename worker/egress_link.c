/* Runs in: workers: set up before the sandbox, used inside it. See egress_link.h. */
#define _GNU_SOURCE
#include "worker/egress_link.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/strbuf.h"

/* Ids carry their table slot in the low bits and a turn count above, so a late answer finds nothing. */
#define SLOT_BITS 10
#define TABLE_MAX (1u << SLOT_BITS)
#define READ_CHUNK 65536

/*
 * What this worker accepts from the egress: its answers hold a body of at
 * most --egress-max-response (16 MiB at most) and a tool's header cap.
 */
static const struct egress_wire_limits worker_limits = {
	.max_payload = (16u << 20) + (128u << 10),
	.max_headers = 512,
	.max_header_bytes = 128u << 10,
};

/* One connection to one egress process; freed once h2o has closed its socket. */
struct conn {
	h2o_socket_t *sock;
	struct egress_wire_decoder *dec;
	struct strbuf sending;	/* what h2o is writing now */
	struct strbuf queued;	/* frames waiting for that write to end */
	bool writing;
	bool hello_seen;
	struct egress_wire_limits limits;	/* the egress's, from its HELLO */
	unsigned generation;	/* which connection its requests were sent on */
};

struct entry {
	uint32_t id;		/* 0: free */
	unsigned generation;
	egress_link_done done;
	void *owner;
	uint64_t sent_us;
};

static struct {
	h2o_loop_t *loop;
	const struct config *cfg;
	h2o_socket_t *link;	/* from the supervisor: new connections */
	struct conn *conn;	/* the current connection, or NULL */
	unsigned generation;
	struct entry table[TABLE_MAX];
	unsigned capacity;	/* entries in use at most: --egress-max-in-flight */
	size_t in_flight;
	uint32_t turn;		/* the high bits of the next id */
	unsigned next_slot;	/* where the search for a free entry starts */
} link_state;

static uint64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static struct entry *
entry_of(uint32_t id)
{
	struct entry *e = &link_state.table[id & (TABLE_MAX - 1)];

	return id != 0 && e->id == id ? e : NULL;
}

static struct entry *
entry_take(void)
{
	for (unsigned i = 0; i < link_state.capacity; i++) {
		unsigned slot = (link_state.next_slot + i) % link_state.capacity;
		struct entry *e = &link_state.table[slot];

		if (e->id != 0)
			continue;
		link_state.next_slot = (slot + 1) % link_state.capacity;
		if (++link_state.turn >= (1u << (32 - SLOT_BITS)))
			link_state.turn = 1;
		e->id = (link_state.turn << SLOT_BITS) | slot;
		link_state.in_flight++;
		return e;
	}
	return NULL;
}

static void
entry_free(struct entry *e)
{
	e->id = 0;
	e->done = NULL;
	e->owner = NULL;
	link_state.in_flight--;
}

/* Answers one request and frees its entry first: done may send the next one. */
static void
entry_answer(struct entry *e, const struct egress_link_answer *answer)
{
	egress_link_done done = e->done;
	void *owner = e->owner;
	struct egress_link_answer a = *answer;

	a.duration_us = now_us() - e->sent_us;
	entry_free(e);
	done(owner, &a);
}

/* Every request sent on connection `generation` is lost with it. */
static void
fail_generation(unsigned generation, const char *why)
{
	struct egress_link_answer a = {.outcome = EGRESS_WIRE_OUTCOME_EGRESS_RESTARTED, .message = why};

	for (unsigned i = 0; i < TABLE_MAX; i++) {
		struct entry *e = &link_state.table[i];

		if (e->id != 0 && e->generation == generation)
			entry_answer(e, &a);
	}
}

static void on_conn_write(h2o_socket_t *sock, const char *err);

/* Starts a write of what is queued, unless one runs. */
static void
flush(struct conn *c)
{
	struct strbuf swap;
	h2o_iovec_t buf;

	if (c->writing || c->queued.len == 0 || c->sock == NULL)
		return;
	swap = c->sending;
	c->sending = c->queued;
	c->queued = swap;
	c->queued.len = 0;
	c->writing = true;
	buf = h2o_iovec_init(c->sending.data, c->sending.len);
	h2o_socket_write(c->sock, &buf, 1, on_conn_write);
}

static void
on_conn_closed(void *data)
{
	struct conn *c = data;

	strbuf_free(&c->sending);
	strbuf_free(&c->queued);
	egress_wire_decoder_free(c->dec);
	free(c);
}

/* Ends the current connection; its requests are answered egress_restarted. */
static void
conn_end(struct conn *c, const char *why)
{
	unsigned generation = c->generation;
	h2o_socket_t *sock = c->sock;

	if (link_state.conn == c)
		link_state.conn = NULL;
	c->sock = NULL;
	/* h2o calls on_conn_closed from inside h2o_socket_close: c is gone after this. */
	if (sock != NULL)
		h2o_socket_close(sock);
	fail_generation(generation, why);
}

static void
on_conn_write(h2o_socket_t *sock, const char *err)
{
	struct conn *c = sock->data;

	c->writing = false;
	c->sending.len = 0;
	if (err != NULL) {
		log_msg(LOG_WARN, "egress_link_lost", "cannot write to the egress process: %s", err);
		conn_end(c, "the connection to the egress process failed while the request was in flight");
		return;
	}
	flush(c);
}

static int
conn_send(struct conn *c, const struct egress_wire_message *msg, struct egress_wire_error *err)
{
	if (egress_wire_encode(&c->queued, msg, &c->limits, err) < 0)
		return -1;
	flush(c);
	return 0;
}

static void
on_answer(const struct egress_wire_message *msg)
{
	struct entry *e = entry_of(msg->id);
	struct egress_link_answer a = {0};
	char text[512];

	if (e == NULL)
		return;	/* cancelled, or answered already */
	if (msg->type == EGRESS_WIRE_RESPONSE) {
		a.outcome = EGRESS_WIRE_OUTCOME_OK;
		a.response = &msg->response;
	} else {
		snprintf(text, sizeof(text), "%.*s", (int)msg->failure.message.len, msg->failure.message.base);
		a.outcome = msg->failure.outcome;
		a.message = text;
		a.status = msg->failure.status;
	}
	entry_answer(e, &a);
}

/*
 * The egress's HELLO: requests were written against EGRESS_WIRE_MIN_LIMITS
 * before it came, so an egress that accepts less breaks the protocol.
 */
static bool
hello_ok(struct conn *c, const struct egress_wire_hello *hello)
{
	const struct egress_wire_limits min = EGRESS_WIRE_MIN_LIMITS;

	if (hello->limits.max_payload < min.max_payload || hello->limits.max_headers < min.max_headers ||
	    hello->limits.max_header_bytes < min.max_header_bytes) {
		log_msg(LOG_ERROR, "egress_link_refused", "the egress process accepts less than every egress "
		    "must (payload %u, headers %u, header bytes %u); dropping the connection",
		    hello->limits.max_payload, hello->limits.max_headers, hello->limits.max_header_bytes);
		return false;
	}
	c->limits = hello->limits;
	c->hello_seen = true;
	return true;
}

static void
on_conn_read(h2o_socket_t *sock, const char *err)
{
	struct conn *c = sock->data;
	size_t off = 0;

	if (err != NULL) {
		log_msg(LOG_WARN, "egress_link_lost", "the egress process closed its connection (%s); "
		    "waiting for the next one", err);
		conn_end(c, "the egress process restarted while the request was in flight");
		return;
	}
	while (off < sock->input->size) {
		struct egress_wire_message msg;
		size_t used = 0;
		int rc = egress_wire_decode(c->dec, sock->input->bytes + off, sock->input->size - off, &used, &msg);

		off += used;
		if (rc == 0)
			break;
		if (rc < 0) {
			const struct egress_wire_error *e = egress_wire_decoder_error(c->dec);

			log_msg(LOG_ERROR, "egress_link_refused", "the egress process sent a frame this worker "
			    "refuses (%s: %s); dropping the connection", egress_wire_error_name(e->code), e->message);
		}
		if (rc < 0 || (msg.type == EGRESS_WIRE_HELLO && !hello_ok(c, &msg.hello))) {
			h2o_buffer_consume(&sock->input, sock->input->size);
			conn_end(c, "the egress process broke the protocol; the request's fate is unknown");
			return;
		}
		/* h2o runs write callbacks from its loop, never inside a write: c outlives the answer. */
		if (msg.type != EGRESS_WIRE_HELLO)
			on_answer(&msg);
	}
	h2o_buffer_consume(&sock->input, sock->input->size);
}

static int
send_hello(struct conn *c)
{
	struct egress_wire_message msg = {.type = EGRESS_WIRE_HELLO, .id = 0};
	struct egress_wire_error err;

	msg.hello = (struct egress_wire_hello){.version = EGRESS_WIRE_VERSION, .role = EGRESS_WIRE_ROLE_WORKER,
	    .limits = worker_limits};
	if (conn_send(c, &msg, &err) < 0) {
		log_msg(LOG_ERROR, "egress_link_failed", "cannot write HELLO: %s", err.message);
		return -1;
	}
	return 0;
}

/*
 * A new connection from the supervisor: it replaces the current one (whose
 * egress is gone, even if its end of file has not been read yet).
 */
static void
adopt(int fd)
{
	struct conn *c = calloc(1, sizeof(*c));

	if (c == NULL || fcntl(fd, F_SETFL, O_NONBLOCK) < 0 ||
	    (c->dec = egress_wire_decoder_new(&worker_limits, EGRESS_WIRE_ROLE_EGRESS)) == NULL) {
		log_errno("egress_link_failed", "cannot take the connection to the egress process");
		free(c);
		close(fd);
		return;
	}
	strbuf_init(&c->sending);
	strbuf_init(&c->queued);
	/* Every egress accepts at least this much (EGRESS_WIRE_MIN_LIMITS); its HELLO may say more. */
	c->limits = (struct egress_wire_limits)EGRESS_WIRE_MIN_LIMITS;
	c->generation = ++link_state.generation;
	c->sock = h2o_evloop_socket_create(link_state.loop, fd, 0);
	c->sock->data = c;
	c->sock->on_close.cb = on_conn_closed;
	c->sock->on_close.data = c;
	/* The old connection's requests fail now: their egress is gone, even if its end of file is not read yet. */
	if (link_state.conn != NULL)
		conn_end(link_state.conn, "the egress process restarted while the request was in flight");
	link_state.conn = c;
	if (send_hello(c) < 0) {
		conn_end(c, "cannot greet the egress process");
		return;
	}
	h2o_socket_read_start(c->sock, on_conn_read);
	log_msg(LOG_DEBUG, "egress_link_connected", "connected to the egress process");
}

/* Reads every connection the supervisor has sent: one fd per message. */
static void
on_link(h2o_socket_t *sock, const char *err)
{
	int fd = h2o_socket_get_fd(sock);

	if (err != NULL)
		return;
	for (;;) {
		char payload[4], control[CMSG_SPACE(sizeof(int))];
		struct iovec iov = {payload, sizeof(payload)};
		struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control,
		    .msg_controllen = sizeof(control)};
		struct cmsghdr *cm;
		ssize_t n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0) {
				/* The supervisor is gone: no new connection will come. */
				h2o_socket_read_stop(sock);
			}
			return;
		}
		cm = CMSG_FIRSTHDR(&mh);
		if (cm == NULL || cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS ||
		    cm->cmsg_len != CMSG_LEN(sizeof(int)) || (mh.msg_flags & MSG_CTRUNC)) {
			log_msg(LOG_ERROR, "egress_link_failed", "a link message without exactly one descriptor");
			continue;
		}
		int received;

		memcpy(&received, CMSG_DATA(cm), sizeof(int));
		adopt(received);
	}
}

int
egress_link_init(h2o_loop_t *loop, int link_fd, const struct config *cfg)
{
	link_state.loop = loop;
	link_state.cfg = cfg;
	link_state.capacity = cfg->egress_max_in_flight;
	if (link_state.capacity == 0 || link_state.capacity > TABLE_MAX)
		link_state.capacity = TABLE_MAX;
	if (link_fd < 0)
		return 0;
	link_state.link = h2o_evloop_socket_create(loop, link_fd, H2O_SOCKET_FLAG_DONT_READ);
	if (link_state.link == NULL)
		return -1;
	h2o_socket_read_start(link_state.link, on_link);
	return 0;
}

static void
refuse(enum egress_wire_outcome *outcome, enum egress_wire_outcome why, char *msg, size_t msglen,
    const char *text)
{
	*outcome = why;
	snprintf(msg, msglen, "%s", text);
}

uint32_t
egress_link_send(const struct egress_wire_request *request, egress_link_done done, void *owner,
    enum egress_wire_outcome *outcome, char *msg, size_t msglen)
{
	struct egress_wire_message m = {.type = EGRESS_WIRE_REQUEST};
	struct egress_wire_error err;
	struct conn *c = link_state.conn;
	struct entry *e;

	if (c == NULL) {
		refuse(outcome, EGRESS_WIRE_OUTCOME_EGRESS_RESTARTED, msg, msglen, link_state.link == NULL ?
		    "this server runs no egress process" : "the egress process is restarting; retry shortly");
		return 0;
	}
	e = entry_take();
	if (e == NULL) {
		*outcome = EGRESS_WIRE_OUTCOME_EGRESS_BUSY;
		snprintf(msg, msglen, "this worker has %u outbound requests in flight, its limit "
		    "(--egress-max-in-flight)", link_state.capacity);
		return 0;
	}
	m.id = e->id;
	m.request = *request;
	if (conn_send(c, &m, &err) < 0) {
		entry_free(e);
		*outcome = strbuf_ok(&c->queued) ? EGRESS_WIRE_OUTCOME_BAD_REQUEST : EGRESS_WIRE_OUTCOME_INTERNAL;
		snprintf(msg, msglen, "%s", err.message);
		return 0;
	}
	*e = (struct entry){.id = m.id, .generation = c->generation, .done = done, .owner = owner,
	    .sent_us = now_us()};
	return m.id;
}

uint64_t
egress_link_cancel(uint32_t id)
{
	struct entry *e = entry_of(id);
	struct egress_wire_message m = {.type = EGRESS_WIRE_CANCEL, .id = id};
	struct egress_wire_error err;
	uint64_t waited;

	if (e == NULL)
		return 0;
	if (link_state.conn != NULL && e->generation == link_state.conn->generation &&
	    conn_send(link_state.conn, &m, &err) < 0)
		log_msg(LOG_WARN, "egress_link_failed", "cannot write CANCEL: %s", err.message);
	waited = now_us() - e->sent_us;
	entry_free(e);
	return waited;
}

size_t
egress_link_in_flight(void)
{
	return link_state.in_flight;
}

void
egress_link_close(void)
{
	if (link_state.conn != NULL)
		conn_end(link_state.conn, "the worker is stopping");
	if (link_state.link != NULL) {
		h2o_socket_read_stop(link_state.link);
		h2o_socket_close(link_state.link);
		link_state.link = NULL;
	}
}
