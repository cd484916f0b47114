/*
 * http_wait: an HTTP request held while its MCP answer waits on tool calls
 * (worker/mcp_wait.h).  The request stays open; when the answer is whole it
 * is sent as any other.  A client that goes away cancels the calls and
 * their outbound requests: HTTP/2 tells h2o (the request is disposed);
 * HTTP/1 does not, so every second the held HTTP/1 connections are
 * checked for an end of file, as nginx does for a proxied request.
 */
#ifndef MCPD_WORKER_HTTP_WAIT_H
#define MCPD_WORKER_HTTP_WAIT_H

#include <stddef.h>

#include <h2o.h>

#include "worker/mcp.h"
#include "worker/transport.h"

/* Sends a finished answer (http_mcp.c): status, negotiated format, JSON body. */
typedef void (*http_wait_reply_fn)(h2o_req_t *req, int status, enum reply_format format,
    const char *body, size_t len);

/** Sets up the check of held HTTP/1 connections on the worker's loop. */
void http_wait_init(h2o_loop_t *loop);
/**
 * Holds `req` until res->wait completes, then replies with reply(); takes
 * res->body and res->wait (both NULL after).
 */
void http_wait_hold(h2o_req_t *req, struct mcp_response *res, enum reply_format format,
    http_wait_reply_fn reply);
/** Requests held now. */
size_t http_wait_count(void);

#endif
