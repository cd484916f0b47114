/* Runs in: workers, after the sandbox. */
/*
 * chunked_limit: oversized chunked bodies refused early.  Runs in every
 * worker, on a timer of its event loop, after the sandbox is in place.
 *
 * h2o 2.2.5 gives no hook between reading bytes and decoding them, so a
 * timer looks at the decoder state of each connection that is reading a
 * body (common/h2o_private.h) a few times a second.
 */
#include "worker/chunked_limit.h"

#include <netinet/in.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>
#include <netinet/tcp.h>

#include "common/framing.h"
#include "common/h2o_private.h"
#include "common/log.h"

static struct {
	h2o_context_t *ctx;
	size_t max_body;
	h2o_timeout_t tick_timeout;
	h2o_timeout_entry_t tick;
} limit;

/* True while the connection can still be answered: not shut down or closing. */
static bool
established(int fd)
{
	struct tcp_info info;
	socklen_t len = sizeof(info);

	return getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) == 0 &&
	    info.tcpi_state == TCP_ESTABLISHED;
}

/*
 * Answers 413 on the socket itself and shuts its sending side: no response
 * is under way on this connection (HTTP/1 answers one request at a time and
 * this one is still being read), and h2o, which reads on, finds every later
 * write of its own refused and closes the connection.  The client reads the
 * 413 before the FIN, which a reset could have destroyed.
 */
static void
refuse(int fd, size_t declared)
{
	static const char body[] = "{\"error\":\"payload too large\",\"error_description\":"
	    "\"the chunked body declares more than the server accepts\"}";
	char response[512];
	struct logline line;
	int n = snprintf(response, sizeof(response), "HTTP/1.1 413 Payload Too Large\r\n"
	    "Content-Type: application/json\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s",
	    sizeof(body) - 1, body);

	if (write(fd, response, (size_t)n) != n || shutdown(fd, SHUT_WR) < 0)
		(void)shutdown(fd, SHUT_RDWR);	/* could not answer: end it */
	logline_begin(&line, LOG_INFO, "request");
	logline_int(&line, "status", 413);
	logline_str(&line, "refused", "chunked body declared larger than --max-body");
	logline_int(&line, "declared_bytes", (long long)declared);
	logline_emit(&line);
}

/* The body size a chunked reader has committed to: decoded bytes plus the chunk under way. */
static size_t
declared_size(const struct h2o_private_http1_conn *c)
{
	const struct h2o_private_chunked_reader *r = c->req_entity_reader;

	return (r->prev_input_size - c->reqsize) + r->decoder.bytes_left_in_chunk;
}

static void
look_at(const struct h2o_private_http1_conn *c)
{
	h2o_buffer_t *in;
	size_t declared;
	int fd;

	if (c->req_entity_reader == NULL || c->sock == NULL || c->sock->data != (void *)c)
		return;
	/* h2o reads the body as chunked exactly when the head has Transfer-Encoding. */
	in = c->sock->input;
	if (in == NULL || c->reqsize > in->size || !framing_head_chunked(in->bytes, c->reqsize))
		return;
	declared = declared_size(c);
	fd = h2o_socket_get_fd(c->sock);
	if (declared > limit.max_body && established(fd))
		refuse(fd, declared);
}

static void
on_tick(h2o_timeout_entry_t *entry)
{
	h2o_linklist_t *anchor = &limit.ctx->http1._conns;

	(void)entry;
	for (h2o_linklist_t *l = anchor->next; l != anchor; l = l->next)
		look_at(H2O_STRUCT_FROM_MEMBER(struct h2o_private_http1_conn, conns, l));
	h2o_timeout_link(limit.ctx->loop, &limit.tick_timeout, &limit.tick);
}

void
chunked_limit_init(h2o_context_t *ctx, size_t max_body)
{
	limit.ctx = ctx;
	limit.max_body = max_body;
	h2o_timeout_init(ctx->loop, &limit.tick_timeout, CHUNKED_LIMIT_TICK_MS);
	limit.tick.cb = on_tick;
	h2o_timeout_link(ctx->loop, &limit.tick_timeout, &limit.tick);
}
