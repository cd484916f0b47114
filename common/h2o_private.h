/*
 * h2o_private: the parts of h2o 2.2.5's private HTTP/1 structures (lib/http1.c,
 * deps/picohttpparser) that mcpd reads, written down in one place.
 *
 * h2o 2.2.5 exposes neither the socket of a request's connection nor the
 * state of its chunked-body decoder, and both are needed: the raw request
 * head for the framing checks, the decoder for refusing an oversized chunked
 * body before it is read, and the connection waiting longest for a request
 * (its timeout entry) for making room on the metrics port.  The build
 * refuses any other h2o version; Debian 12 ships 2.2.5 and only takes
 * security fixes.  Readers must check what they read (framing.c checks that
 * the socket points back at its connection).  Nothing here is ever written.
 * One field of h2o's public socket struct is: worker/membudget.c wraps each
 * accepted connection's read callback (sock->_cb.read, underscored but in
 * h2o/socket.h) to count what every read buffers, and calls h2o's own
 * callback first.
 */
#ifndef MCPD_COMMON_H2O_PRIVATE_H
#define MCPD_COMMON_H2O_PRIVATE_H

#include <stddef.h>
#include <stdint.h>

#include <h2o.h>

#if H2O_VERSION_MAJOR != 2 || H2O_VERSION_MINOR != 2 || H2O_VERSION_PATCH != 5
#error "common/h2o_private.h mirrors h2o 2.2.5's lib/http1.c; check it against this h2o version"
#endif

/* struct phr_chunked_decoder (picohttpparser.h, not installed). */
struct h2o_private_chunked_decoder {
	size_t bytes_left_in_chunk;	/* also the chunk size while its hex digits arrive */
	char consume_trailer;
	char hex_count;
	char state;
};

/* struct st_h2o_http1_chunked_entity_reader. */
struct h2o_private_chunked_reader {
	void (*handle_incoming_entity)(void *conn);
	struct h2o_private_chunked_decoder decoder;
	size_t prev_input_size;		/* end of the decoded body in sock->input */
};

/* The head of struct st_h2o_http1_conn_t, up to the entity reader. */
struct h2o_private_http1_conn {
	h2o_conn_t super;
	h2o_socket_t *sock;
	h2o_linklist_t conns;		/* in ctx->http1._conns */
	h2o_timeout_t *timeout;
	h2o_timeout_entry_t timeout_entry;
	uint64_t req_index;
	size_t prevreqlen;
	size_t reqsize;			/* the head (and a Content-Length body) in sock->input */
	void *req_entity_reader;	/* NULL unless a body is being read */
};

#endif
