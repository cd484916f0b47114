/* Runs in: workers, after the sandbox. */
/*
 * membudget: the per-worker ceiling on bytes buffered for clients.  Runs in
 * every worker, on the read path of each HTTP/1 connection and on a timer
 * of its event loop (see membudget.h for the rules).
 *
 * h2o 2.2.5 has no hook between reading bytes and buffering them.  What it
 * offers: the socket's read callback (h2o reads what the kernel holds into
 * the connection's input buffer, then calls it), which this module wraps
 * from accept on, calling h2o's own callback first; h2o_socket_read_stop and
 * read_start; and h2o's callback called with an error, which is how the
 * event loop reports a broken socket and makes h2o close the connection and
 * free its buffer at once.  The connection's state is read through
 * common/h2o_private.h, never written.  Every read is counted as it
 * happens, so a burst over the budget is stopped at the read that makes it.
 */
#include "worker/membudget.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/framing.h"
#include "common/h2o_private.h"
#include "common/log.h"
#include "worker/auth.h"
#include "worker/outflow.h"
#include "worker/raw_head.h"

/* Paused connections are looked at this often; when none are, less often. */
#define FAST_TICK_MS 10
#define SLOW_TICK_MS 250
/* Input buffers under this count as "nothing buffered" (idle connections' buffers). */
#define QUIET_BYTES (4 * 1024 * 1024)
/* A fall from above this to under QUIET_BYTES hands freed memory back. */
#define TRIM_AFTER_BYTES (8 * 1024 * 1024)
/* Paused connections are checked for a client gone every this many ticks. */
#define GONE_CHECK_TICKS 10
/* Reads of 64 KiB at most that drop a refused body's bytes before the close. */
#define DISCARD_ROUNDS 32
/* Passed to h2o's read callback to end a connection refused here. */
#define REFUSED_ERROR "refused by --max-buffered"

/* One accepted connection. */
struct watched {
	h2o_linklist_t link;
	h2o_socket_t *sock;
	size_t counted;		/* its share of mb.buffered */
	uint64_t body_of;	/* the request (h2o's index) whose body was admitted, or 0 */
	size_t body_commit;	/* the buffer that request's head and whole body will need */
	bool paused;		/* reading stopped here */
	bool closed;		/* h2o closed it during a call made from here */
};

static struct {
	h2o_context_t *ctx;
	size_t budget;
	size_t buffered;	/* input buffers, kept current on every read */
	size_t peak;		/* of buffered, since the last trim */
	bool over;
	h2o_socket_cb h2o_on_read;	/* h2o's HTTP/1 read callback, the same for every connection */
	struct watched *calling;	/* the connection whose h2o callback runs now */
	h2o_linklist_t all;
	size_t npaused;
	unsigned ticks_paused;
	bool told_paused;	/* reading_paused logged, reading_resumed not yet */
	h2o_timeout_t fast_timeout, slow_timeout;
	h2o_timeout_entry_t tick;
} mb;

static void on_read(h2o_socket_t *sock, const char *err);

bool
membudget_refuses(size_t body_bytes)
{
	return mb.over && body_bytes > MEMBUDGET_LARGE_BODY;
}

size_t
membudget_buffered(void)
{
	return mb.buffered + outflow_pending();
}

/* h2o's connection behind the socket, or NULL when it is not one of h2o's HTTP/1 connections. */
static const struct h2o_private_http1_conn *
conn_of(const h2o_socket_t *sock)
{
	const struct h2o_private_http1_conn *c = sock->data;

	return c != NULL && c->sock == sock ? c : NULL;
}

/*
 * What the connection holds or is sure to hold: a body admitted is counted
 * whole from the start (its buffer will grow to it), anything else by its
 * buffer's allocation.
 */
static size_t
share(const struct watched *w)
{
	const h2o_buffer_t *in = w->sock->input;
	const struct h2o_private_http1_conn *c = conn_of(w->sock);

	if (in == NULL || in->bytes == NULL)
		return 0;
	if (c != NULL && c->req_entity_reader != NULL && c->req_index == w->body_of)
		return in->capacity > w->body_commit ? in->capacity : w->body_commit;
	return in->capacity;
}

/* Brings the connection's share of the total up to date; true when over the budget. */
static bool
count(struct watched *w)
{
	size_t now = share(w);

	mb.buffered = mb.buffered - w->counted + now;
	w->counted = now;
	if (mb.buffered > mb.peak)
		mb.peak = mb.buffered;
	if (mb.buffered + outflow_pending() > mb.budget)
		mb.over = true;
	return mb.over;
}

/* A connection reading a body, as its buffer shows it. */
struct body {
	size_t head_len;	/* the head at the start of the input buffer */
	size_t declared;	/* its Content-Length, or for a chunked body the most it may be */
	size_t received;	/* body bytes buffered so far (chunk framing included) */
	bool chunked;
};

/*
 * True when the connection is reading a body whose head is complete.  h2o
 * keeps the head at the start of the input buffer until the request is
 * answered, and counts a Content-Length body in reqsize (a chunked one is
 * not: reqsize is then the head).
 */
static bool
reading_body(const struct h2o_private_http1_conn *c, struct body *b)
{
	const h2o_buffer_t *in = c->sock->input;
	const char *v;
	size_t vlen;

	if (c->req_entity_reader == NULL || in == NULL || in->bytes == NULL)
		return false;
	b->head_len = framing_head_length(in->bytes, in->size < c->reqsize ? in->size : c->reqsize);
	if (b->head_len == 0 || b->head_len > c->reqsize)
		return false;
	b->chunked = raw_head_find(in->bytes, b->head_len, "transfer-encoding", &v, &vlen);
	b->declared = b->chunked ? mb.ctx->globalconf->max_request_entity_size : c->reqsize - b->head_len;
	b->received = in->size - b->head_len;
	return true;
}

static void
pause_reading(struct watched *w)
{
	h2o_socket_read_stop(w->sock);
	w->paused = true;
	mb.npaused++;
}

static void
resume_reading(struct watched *w)
{
	w->paused = false;
	mb.npaused--;
	h2o_socket_read_start(w->sock, on_read);
}

/*
 * Reads and drops what the kernel holds of a refused body: a socket closed
 * with unread bytes sends a reset, which can destroy the answer before the
 * client reads it.  Bounded: a client still sending may get the reset.
 */
static void
discard_unread(int fd)
{
	static char sink[64 * 1024];

	for (int i = 0; i < DISCARD_ROUNDS; i++)
		if (recv(fd, sink, sizeof(sink), MSG_DONTWAIT) < (ssize_t)sizeof(sink))
			return;
}

/*
 * Answers on the socket itself and has h2o close the connection now,
 * freeing its buffer: no answer is under way (HTTP/1 answers one request at
 * a time and this one is still being read).  The answer goes out before the
 * FIN (what the kernel holds of the body is dropped first); a client still
 * sending may see a reset instead, as from any server that stops reading.
 */
/* The request line of the log for a request answered here (h2o never saw it whole). */
static void
log_refused(int status, const char *reason, size_t declared)
{
	struct logline line;

	logline_begin(&line, LOG_INFO, "request");
	logline_int(&line, "status", status);
	logline_str(&line, "refused", reason);
	logline_int(&line, "declared_bytes", (long long)declared);
	logline_int(&line, "buffered_bytes", (long long)membudget_buffered());
	logline_emit(&line);
}

static void
refuse(struct watched *w, const char *status_line, const char *extra_header, const char *body)
{
	char response[640];
	int fd = h2o_socket_get_fd(w->sock);
	int n = snprintf(response, sizeof(response), "HTTP/1.1 %s\r\nContent-Type: application/json\r\n"
	    "%sContent-Length: %zu\r\nConnection: close\r\n\r\n%s", status_line, extra_header,
	    strlen(body), body);

	if (n > 0 && (size_t)n < sizeof(response))
		(void)write(fd, response, (size_t)n);	/* a client that cannot take it gets the close */
	(void)shutdown(fd, SHUT_WR);	/* fails only when the client is gone: h2o closes it anyway */
	discard_unread(fd);
	if (w->paused) {
		w->paused = false;
		mb.npaused--;
	}
	mb.calling = w;
	mb.h2o_on_read(w->sock, REFUSED_ERROR);
	mb.calling = NULL;
}

/* A body over 16 KiB without a token can only be refused: it is, before it is read. */
static bool
refused_anonymous(struct watched *w, const struct body *b)
{
	const char *v;
	size_t vlen;
	/* A chunked body is judged by what has come: it may still be a small probe. */
	size_t size = b->chunked ? b->received : b->declared;

	if (!auth_enabled() || size <= MEMBUDGET_ANONYMOUS_BODY ||
	    raw_head_find(w->sock->input->bytes, b->head_len, "authorization", &v, &vlen))
		return false;
	log_refused(401, "body over 16 KiB without a token", size);
	refuse(w, "401 Unauthorized", "WWW-Authenticate: Bearer\r\n",
	    "{\"error\":\"invalid_token\",\"error_description\":"
	    "\"a request body needs an access token; this one has none\"}");
	return true;
}

/*
 * The buffer h2o will have allocated once `bytes` have arrived: it doubles
 * its buffer whenever less than 4 KiB is left free for a read.
 */
static size_t
allocation_for(size_t capacity, size_t bytes)
{
	size_t cap = capacity > 0 ? capacity : 4096;

	while (cap < bytes + 4096 && cap < SIZE_MAX / 2)
		cap *= 2;
	return cap;
}

static void
refuse_busy(struct watched *w, size_t declared)
{
	log_refused(503, "over --max-buffered", declared);
	refuse(w, "503 Service Unavailable", "Retry-After: 1\r\n",
	    "{\"error\":\"busy\",\"error_description\":"
	    "\"the server holds too much for other clients; retry later\"}");
}

/*
 * A body seen for the first time: admitted, and counted whole, when it
 * fits in the budget (or is small); else refused before it is read.
 * Returns false when the connection was ended.
 */
static bool
admit(struct watched *w, const struct h2o_private_http1_conn *c, const struct body *b)
{
	size_t commit = allocation_for(w->sock->input->capacity, b->head_len + b->declared);
	size_t others = mb.buffered - w->counted + outflow_pending();

	if (refused_anonymous(w, b))
		return false;
	if (others + commit > mb.budget && b->declared > MEMBUDGET_LARGE_BODY) {
		refuse_busy(w, b->declared);
		return false;
	}
	w->body_of = c->req_index;
	w->body_commit = commit;
	(void)count(w);
	return true;
}

/*
 * After a read that left the connection reading: a head or a body not yet
 * complete, or an idle connection awaiting its next request.  A body admitted adds nothing more as it arrives; any
 * other connection that would add to a total over the budget stops being
 * read.
 */
static void
judge(struct watched *w, const struct h2o_private_http1_conn *c)
{
	struct body b;

	if (reading_body(c, &b) && c->req_index != w->body_of && !admit(w, c, &b))
		return;
	if (c->req_entity_reader != NULL && c->req_index == w->body_of)
		return;
	/* An idle connection (nothing buffered) waits for its next request as before. */
	if (mb.over && w->sock->input->size > 0)
		pause_reading(w);
}

static void
on_read(h2o_socket_t *sock, const char *err)
{
	struct watched *w = sock->on_close.data;
	const struct h2o_private_http1_conn *c;

	mb.calling = w;
	mb.h2o_on_read(sock, err);
	mb.calling = NULL;
	if (w->closed) {
		free(w);
		return;
	}
	(void)count(w);
	/* h2o has answered and reads the next request: with its own callback. */
	if (sock->_cb.read == mb.h2o_on_read)
		sock->_cb.read = on_read;
	/* Still reading: a head or a body is incomplete. */
	if (sock->_cb.read == on_read && (c = conn_of(sock)) != NULL)
		judge(w, c);
	if (w->closed)
		free(w);
}

void *
membudget_watch(h2o_socket_t *sock)
{
	struct watched *w;

	/* h2o starts reading at accept; a socket it does not read is not ours to watch. */
	if (sock->_cb.read == NULL || (mb.h2o_on_read != NULL && sock->_cb.read != mb.h2o_on_read))
		return NULL;
	w = calloc(1, sizeof(*w));
	if (w == NULL)
		return NULL;	/* not watched: counted by nothing, served as before */
	mb.h2o_on_read = sock->_cb.read;
	w->sock = sock;
	h2o_linklist_insert(&mb.all, &w->link);
	sock->_cb.read = on_read;
	return w;
}

void
membudget_closed(void *watched)
{
	struct watched *w = watched;

	if (w == NULL)
		return;
	h2o_linklist_unlink(&w->link);
	mb.buffered -= w->counted;
	if (w->paused)
		mb.npaused--;
	w->paused = false;
	w->closed = true;
	if (mb.calling != w)
		free(w);	/* else on_read frees it once h2o's callback has returned */
}

/* True while the client has not closed its side (a paused socket is not read, so h2o cannot tell). */
static bool
client_still_there(int fd)
{
	struct tcp_info info;
	socklen_t len = sizeof(info);

	return getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) < 0 || info.tcpi_state == TCP_ESTABLISHED;
}

/* Has h2o close the paused connections whose client has gone, freeing their buffers now. */
static void
end_paused_if_gone(void)
{
	h2o_linklist_t *l = mb.all.next, *next;

	for (; l != &mb.all; l = next) {
		struct watched *w = H2O_STRUCT_FROM_MEMBER(struct watched, link, l);

		next = l->next;
		if (!w->paused || client_still_there(h2o_socket_get_fd(w->sock)))
			continue;
		w->paused = false;
		mb.npaused--;
		mb.calling = w;
		mb.h2o_on_read(w->sock, "the client closed its connection");
		mb.calling = NULL;
		if (w->closed)
			free(w);
	}
}

/* One line when connections start waiting, one when they are read again. */
static void
log_pausing(bool resuming)
{
	if (mb.npaused > 0 && !mb.told_paused) {
		log_msg(LOG_WARN, "reading_paused", "over --max-buffered (%zu bytes buffered for clients): "
		    "%zu connection(s) sending a request are not read until it falls", membudget_buffered(),
		    mb.npaused);
		mb.told_paused = true;
	} else if (mb.told_paused && resuming) {
		log_msg(LOG_INFO, "reading_resumed", "under --max-buffered again (%zu bytes buffered): "
		    "%zu waiting connection(s) are read again", membudget_buffered(), mb.npaused);
		mb.told_paused = false;
	}
}

/* A fall from a high to a low total hands what it left in the heap back. */
static void
trim_after_fall(void)
{
	if (mb.buffered >= QUIET_BYTES)
		return;
	if (mb.peak >= TRIM_AFTER_BYTES)
		(void)malloc_trim(0);	/* returns whether memory was released */
	mb.peak = mb.buffered;
}

/*
 * Recounts every connection (h2o may have consumed or grown a buffer
 * outside a read), wraps h2o's callback again where h2o restarted reading
 * after an answer, and resumes paused connections once well under.
 */
static void
on_tick(h2o_timeout_entry_t *entry)
{
	bool resume;

	(void)entry;
	for (h2o_linklist_t *l = mb.all.next; l != &mb.all; l = l->next) {
		struct watched *w = H2O_STRUCT_FROM_MEMBER(struct watched, link, l);

		(void)count(w);
		if (w->sock->_cb.read == mb.h2o_on_read)
			w->sock->_cb.read = on_read;
	}
	mb.over = mb.buffered + outflow_pending() > (mb.over ? mb.budget / 4 * 3 : mb.budget);
	if (mb.npaused > 0 && ++mb.ticks_paused % GONE_CHECK_TICKS == 0)
		end_paused_if_gone();
	resume = !mb.over;
	log_pausing(resume);
	for (h2o_linklist_t *l = mb.all.next; resume && mb.npaused > 0 && l != &mb.all; l = l->next) {
		struct watched *w = H2O_STRUCT_FROM_MEMBER(struct watched, link, l);

		if (w->paused)
			resume_reading(w);
	}
	trim_after_fall();
	h2o_timeout_link(mb.ctx->loop, mb.npaused > 0 || mb.buffered >= QUIET_BYTES ?
	    &mb.fast_timeout : &mb.slow_timeout, &mb.tick);
}

void
membudget_init(h2o_context_t *ctx, size_t budget)
{
	mb.ctx = ctx;
	mb.budget = budget;
	h2o_linklist_init_anchor(&mb.all);
	h2o_timeout_init(ctx->loop, &mb.fast_timeout, FAST_TICK_MS);
	h2o_timeout_init(ctx->loop, &mb.slow_timeout, SLOW_TICK_MS);
	mb.tick.cb = on_tick;
	h2o_timeout_link(ctx->loop, &mb.slow_timeout, &mb.tick);
}
