/* Runs in: workers, after the sandbox. See http_wait.h. */
#define _GNU_SOURCE
#include "worker/http_wait.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "common/framing.h"
#include "worker/http_log.h"
#include "worker/http_respond.h"
#include "worker/mcp_wait.h"

/* How often held HTTP/1 connections are checked for a client that left. */
#define CHECK_INTERVAL_MS 1000

struct held {
	h2o_linklist_t link;	/* in held_list while the answer waits */
	h2o_req_t *req;
	struct mcp_wait *wait;	/* NULL once answered or cancelled */
	int status;
	enum reply_format format;
	http_wait_reply_fn reply;
};

static h2o_linklist_t held_list = {&held_list, &held_list};
static size_t held_count;
static h2o_loop_t *wait_loop;
static h2o_timeout_t check_timeout;
static h2o_timeout_entry_t check_entry;

static void
release(struct held *h)
{
	if (h2o_linklist_is_linked(&h->link)) {
		h2o_linklist_unlink(&h->link);
		held_count--;
	}
	h->wait = NULL;
}

static void
on_ready(void *owner, char *body, size_t len)
{
	struct held *h = owner;

	release(h);
	if (body == NULL)
		http_respond_rpc_error(h->req, 500, -32603, "out of memory writing the answer");
	else
		h->reply(h->req, h->status, h->format, body, len);
	free(body);
}

/* The request's memory is going: a client gone before its answer cancels the calls. */
static void
on_dispose(void *data)
{
	struct held *h = data;
	struct mcp_wait *wait = h->wait;

	release(h);
	if (wait != NULL)
		mcp_wait_cancel(wait);
}

/* True when the HTTP/1 client closed its side (end of file) or the connection broke. */
static bool
client_gone(h2o_req_t *req)
{
	h2o_socket_t *sock = framing_socket(req);
	char byte;
	ssize_t n;

	if (sock == NULL)
		return false;	/* HTTP/2: h2o disposes the request itself */
	n = recv(h2o_socket_get_fd(sock), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
	return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

static void
arm_check(void)
{
	if (held_count > 0 && !h2o_timeout_is_linked(&check_entry))
		h2o_timeout_link(wait_loop, &check_timeout, &check_entry);
}

static void
on_check(h2o_timeout_entry_t *entry)
{
	h2o_linklist_t *node = held_list.next;

	(void)entry;
	while (node != &held_list) {
		struct held *h = H2O_STRUCT_FROM_MEMBER(struct held, link, node);
		struct mcp_wait *wait = h->wait;

		node = node->next;
		if (!client_gone(h->req))
			continue;
		release(h);
		mcp_wait_cancel(wait);
		http_log_note(h->req, NOTE_REFUSED, "the client closed the connection while its tool call waited");
		/* The write fails and h2o closes the connection: nothing else can end an HTTP/1 request. */
		http_respond_rpc_error(h->req, 503, -32000, "the client closed the connection");
	}
	arm_check();
}

void
http_wait_init(h2o_loop_t *loop)
{
	wait_loop = loop;
	h2o_timeout_init(loop, &check_timeout, CHECK_INTERVAL_MS);
	check_entry.cb = on_check;
}

void
http_wait_hold(h2o_req_t *req, struct mcp_response *res, enum reply_format format,
    http_wait_reply_fn reply)
{
	struct held *h = h2o_mem_alloc_shared(&req->pool, sizeof(*h), on_dispose);
	char *body = res->body;

	*h = (struct held){.req = req, .wait = res->wait, .status = res->status, .format = format,
	    .reply = reply};
	res->body = NULL;
	res->wait = NULL;
	h2o_linklist_insert(&held_list, &h->link);
	held_count++;
	arm_check();
	mcp_wait_start(h->wait, body, res->body_len, on_ready, h);
}

size_t
http_wait_count(void)
{
	return held_count;
}
