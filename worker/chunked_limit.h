/*
 * chunked_limit: a chunked request body that declares more than --max-body
 * is answered 413 as soon as the chunk size arrives, not once that much has
 * been read.  h2o 2.2.5 compares only the bytes it has decoded with the
 * limit, so a client that declares a huge chunk and then waits got no
 * answer at all until the idle timeout.
 */
#ifndef MCPD_WORKER_CHUNKED_LIMIT_H
#define MCPD_WORKER_CHUNKED_LIMIT_H

#include <stddef.h>

#include <h2o.h>

/** Starts looking at the context's connections every CHUNKED_LIMIT_TICK_MS. */
void chunked_limit_init(h2o_context_t *ctx, size_t max_body);

#define CHUNKED_LIMIT_TICK_MS 100

#endif
