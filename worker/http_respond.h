/*
 * http_respond: how every handler of the worker's HTTP code sends a
 * complete answer (status, reason phrase, Content-Type, body), and the
 * answers several of them share.
 */
#ifndef MCPD_WORKER_HTTP_RESPOND_H
#define MCPD_WORKER_HTTP_RESPOND_H

#include <h2o.h>

/**
 * Sends a complete response; the body is copied into the request's pool.
 * `content_type` NULL sends none.  While the worker drains, the connection
 * ends after it.
 */
void http_respond(h2o_req_t *req, int status, const char *content_type, const char *body, size_t len);
/** Sends a JSON-RPC error that is about no one request (id null); `message` is JSON-safe. */
void http_respond_rpc_error(h2o_req_t *req, int status, int code, const char *message);
/** Sends the 404 of an unknown path; returns 0, for a handler's `return`. */
int http_respond_not_found(h2o_req_t *req);

#endif
