/* Runs in: the metrics process (set up before its sandbox, run after). See admission.h. */
#include "metrics/admission.h"

#include <errno.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "common/h2o_private.h"
#include "common/log.h"
#include "metrics/answer_deadline.h"

/* An answer younger than this is a scrape being served, not a stalled one. */
#define ANSWER_MIN_AGE_MS 1000
#define LOG_INTERVAL_MS 5000

static struct {
	h2o_accept_ctx_t *accept_ctx;
	h2o_socket_t *listener;
	unsigned open;
	bool listening;
	h2o_timeout_t pause;
	h2o_timeout_entry_t resume;
	/* Since the last log line: */
	unsigned ended;			/* connections ended to make room */
	unsigned no_descriptors;	/* accept(2) failures for want of a descriptor or memory */
	int accept_error;		/* the last such failure's errno */
	uint64_t logged_ms;
} admission;

static void on_accept(h2o_socket_t *listener, const char *err);

static void
resume_listening(void)
{
	if (h2o_timeout_is_linked(&admission.resume))
		h2o_timeout_unlink(&admission.resume);
	if (admission.listening)
		return;
	admission.listening = true;
	h2o_socket_read_start(admission.listener, on_accept);
}

static void
on_resume(h2o_timeout_entry_t *entry)
{
	(void)entry;
	resume_listening();
}

static void
on_connection_closed(void *data)
{
	(void)data;
	admission.open--;
	resume_listening();
}

/* True while the connection is open both ways: not shut down, not closing. */
static bool
established(int fd)
{
	struct tcp_info info;
	socklen_t len = sizeof(info);

	return getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) == 0 &&
	    info.tcpi_state == TCP_ESTABLISHED;
}

/*
 * Ends the connection that has waited longest for (or in) its request.
 * h2o links such connections to ctx->http1.req_timeout in the order they
 * started waiting, so the first one that is still established is it.  Each
 * is checked to be the HTTP/1 connection common/h2o_private.h describes.
 */
static bool
end_longest_waiting(void)
{
	h2o_timeout_t *waiting = &admission.accept_ctx->ctx->http1.req_timeout;

	for (h2o_linklist_t *l = waiting->_entries.next; l != &waiting->_entries; l = l->next) {
		h2o_timeout_entry_t *entry = H2O_STRUCT_FROM_MEMBER(h2o_timeout_entry_t, _link, l);
		struct h2o_private_http1_conn *conn =
		    H2O_STRUCT_FROM_MEMBER(struct h2o_private_http1_conn, timeout_entry, entry);
		int fd;

		if (conn->timeout != waiting || conn->sock == NULL || conn->sock->data != (void *)conn)
			continue;
		fd = h2o_socket_get_fd(conn->sock);
		/* shutdown(2): h2o reads the end and closes the connection itself. */
		if (established(fd) && shutdown(fd, SHUT_RDWR) == 0)
			return true;
	}
	return false;
}

static void
log_if_due(void)
{
	uint64_t now = h2o_now(admission.accept_ctx->ctx->loop);

	if (admission.logged_ms != 0 && now - admission.logged_ms < LOG_INTERVAL_MS)
		return;
	if (admission.no_descriptors > 0)
		log_msg(LOG_WARN, "metrics_accept_no_descriptors", "cannot accept scrapers: %s (%u "
		    "time(s) since the last such line) with %u connection(s) open; the longest-waiting "
		    "ones make room. Raise the open-file limit: ulimit -n, or the container's nofile",
		    strerror(admission.accept_error), admission.no_descriptors, admission.open);
	if (admission.ended > 0)
		log_msg(LOG_WARN, "metrics_connections_full", "ended %u idle or stalled connection(s) to "
		    "make room for new scrapers since the last such line (at most %d are held)",
		    admission.ended, METRICS_MAX_CONNECTIONS);
	if (admission.no_descriptors > 0 || admission.ended > 0)
		admission.logged_ms = now;
	admission.no_descriptors = 0;
	admission.ended = 0;
}

/*
 * No room for the connection waiting in the queue: end the longest-waiting
 * one, and rest the listener until it has closed (on_connection_closed), or
 * for a moment when none can be ended.  The timer also resumes a listener
 * whose chosen connection is slow to close.
 */
static void
make_room(void)
{
	admission.listening = false;
	h2o_socket_read_stop(admission.listener);
	if (end_longest_waiting() || answer_deadline_end_oldest(ANSWER_MIN_AGE_MS))
		admission.ended++;
	if (!h2o_timeout_is_linked(&admission.resume))
		h2o_timeout_link(admission.accept_ctx->ctx->loop, &admission.pause, &admission.resume);
	log_if_due();
}

static void
on_accept(h2o_socket_t *listener, const char *err)
{
	h2o_socket_t *sock;

	if (err != NULL)
		return;
	if (admission.open >= METRICS_MAX_CONNECTIONS) {
		make_room();
		return;
	}
	sock = h2o_evloop_socket_accept(listener);
	if (sock == NULL) {
		/* Anything else (EAGAIN, a connection reset while queued) leaves nothing queued for it. */
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
			admission.no_descriptors++;
			admission.accept_error = errno;
			make_room();
		}
		return;
	}
	admission.open++;
	sock->on_close.cb = on_connection_closed;
	h2o_accept(admission.accept_ctx, sock);
}

int
admission_start(h2o_accept_ctx_t *accept_ctx, int listen_fd)
{
	h2o_loop_t *loop = accept_ctx->ctx->loop;

	admission.accept_ctx = accept_ctx;
	admission.listener = h2o_evloop_socket_create(loop, listen_fd, H2O_SOCKET_FLAG_DONT_READ);
	if (admission.listener == NULL)
		return -1;
	h2o_timeout_init(loop, &admission.pause, ADMISSION_PAUSE_MS);
	admission.resume.cb = on_resume;
	admission.listening = true;
	h2o_socket_read_start(admission.listener, on_accept);
	return 0;
}
