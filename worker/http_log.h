/*
 * http_log: the access log.  Every request is counted and, at level info,
 * logged as one "request" line once its response has gone out, h2o's own
 * refusals (413, ...) included.
 *
 * Fields known only to a handler ride in the request as notes
 * (http_log_note): the line is written after the response, when the
 * handler's locals are long gone.
 */
#ifndef MCPD_WORKER_HTTP_LOG_H
#define MCPD_WORKER_HTTP_LOG_H

#include <h2o.h>

/* The notes a handler may leave, and the log field each becomes. */
#define NOTE_RPC_METHOD "mcpd.rpc_method"	/* rpc_method */
#define NOTE_TOOL "mcpd.tool"			/* tool */
#define NOTE_AUTH "mcpd.auth_error"		/* auth_error */
#define NOTE_PUBLIC "mcpd.auth"			/* auth */
#define NOTE_REFUSED "mcpd.refused"		/* refused */
#define NOTE_LIMITED "mcpd.limited"		/* limited: why a per-client limit refused it */
#define NOTE_CLIENT_ID "mcpd.client_id"		/* client_id: the limited client, by that claim */
#define NOTE_SUB "mcpd.sub"			/* sub: the limited client, by that claim */

/** Leaves `value` (copied; nothing when NULL or empty) for the request's log line under `key`. */
void http_log_note(h2o_req_t *req, const char *key, const char *value);
/** Counts and logs every request answered under `pathconf`. */
void http_log_attach(h2o_pathconf_t *pathconf);

#endif
