/*
 * framing: the RFC 9112 message-framing rules h2o 2.2.5 does not enforce.
 *
 * h2o's HTTP/1 parser takes the first of two Content-Length headers, lets
 * Transfer-Encoding override Content-Length, keeps the last of two Host
 * headers and accepts HTTP/1.1 without Host.  Behind a proxy that frames the
 * same bytes differently, each of those lets a client smuggle a second
 * request.  Both HTTP servers (the worker, before any MCP work, and the
 * metrics process) check the raw request head and answer 400 with the
 * connection closed, so no leftover byte is ever read as a request.
 */
#ifndef MCPD_COMMON_FRAMING_H
#define MCPD_COMMON_FRAMING_H

#include <stdbool.h>
#include <stddef.h>

#include <h2o.h>

/**
 * Checks a raw request head (request line and header lines, up to and
 * including the blank line or the end of `len`).  Returns NULL when its
 * framing is sound, else a short reason for the log and the 400 body.
 * `http11`: the request is HTTP/1.1, which must carry exactly one Host.
 */
const char *framing_head_problem(const char *head, size_t len, bool http11);

/** Length of the head at the start of `p`, up to and including its blank line, or 0 while incomplete. */
size_t framing_head_length(const char *p, size_t len);

/** True when the head has a Transfer-Encoding header: h2o then reads the body as chunked. */
bool framing_head_chunked(const char *head, size_t len);

/**
 * The raw head of the request being answered, as the client sent it, from
 * h2o's input buffer.  Returns false when it cannot be found, which the
 * caller must treat as a refusal: the checks above cannot be skipped.
 */
bool framing_raw_head(h2o_req_t *req, const char **head, size_t *len);

/**
 * The socket of the request's HTTP/1 connection (h2o 2.2.5 keeps it in a
 * private structure, see common/h2o_private.h), or NULL.
 */
h2o_socket_t *framing_socket(h2o_req_t *req);

/**
 * Splits an absolute-form request target ("http://host:port/path?q",
 * RFC 9112 §3.2.2) into its authority and its path (with the query; "/" when
 * the URL has none).  Returns false when the target is not absolute-form
 * with an http or https scheme and a non-empty authority.
 */
bool framing_absolute_target(h2o_iovec_t target, h2o_iovec_t *authority, h2o_iovec_t *path);

#endif
