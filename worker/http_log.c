/* Runs in: workers, after the sandbox. See http_log.h. */
#include "worker/http_log.h"

#include <string.h>
#include <sys/time.h>

#include "common/log.h"
#include "worker/own_counters.h"

/* The notes ride in req->env as key/value pairs. */
void
http_log_note(h2o_req_t *req, const char *key, const char *value)
{
	if (value == NULL || value[0] == '\0')
		return;
	h2o_vector_reserve(&req->pool, &req->env, req->env.size + 2);
	req->env.entries[req->env.size++] = h2o_iovec_init(key, strlen(key));
	req->env.entries[req->env.size++] = h2o_strdup(&req->pool, value, SIZE_MAX);
}

static void
log_note(struct logline *line, h2o_req_t *req, const char *key, const char *field)
{
	for (size_t i = 0; i + 1 < req->env.size; i += 2)
		if (h2o_memis(req->env.entries[i].base, req->env.entries[i].len, key, strlen(key)))
			logline_strn(line, field, req->env.entries[i + 1].base, req->env.entries[i + 1].len);
}

static void
log_header(struct logline *line, h2o_req_t *req, const char *lowercase_name, const char *field)
{
	ssize_t i = h2o_find_header_by_str(&req->headers, lowercase_name, strlen(lowercase_name), -1);
	h2o_iovec_t v;

	if (i < 0)
		return;
	v = req->headers.entries[i].value;
	logline_strn(line, field, v.base, v.len > 256 ? 256 : v.len);
}

static void
count_request(h2o_req_t *req, long long us)
{
	uint64_t duration = us > 0 ? (uint64_t)us : 0;

	counter_add(&own_counters->http_status[counters_status_of(req->res.status)], 1);
	counter_add(&own_counters->duration_bucket[counters_bucket_of(duration)], 1);
	counter_add(&own_counters->duration_sum_us, duration);
	counter_add(&own_counters->bytes_received, req->entity.base != NULL ? req->entity.len : 0);
	counter_add(&own_counters->bytes_sent, req->bytes_sent);
}

/* Counted, and one line per request, h2o's own refusals (413, ...) included. */
static void
on_log_access(h2o_logger_t *self, h2o_req_t *req)
{
	struct logline line;
	struct timeval now;
	long long us;

	(void)self;
	gettimeofday(&now, NULL);
	us = (now.tv_sec - req->timestamps.request_begin_at.tv_sec) * 1000000LL +
	    (now.tv_usec - req->timestamps.request_begin_at.tv_usec);
	count_request(req, us);
	if (!log_enabled(LOG_INFO))
		return;
	logline_begin(&line, LOG_INFO, "request");
	logline_strn(&line, "http_method", req->method.base, req->method.len);
	logline_strn(&line, "path", req->path_normalized.base, req->path_normalized.len);
	logline_int(&line, "status", req->res.status);
	log_note(&line, req, NOTE_RPC_METHOD, "rpc_method");
	log_note(&line, req, NOTE_TOOL, "tool");
	log_note(&line, req, NOTE_AUTH, "auth_error");
	log_note(&line, req, NOTE_PUBLIC, "auth");
	log_note(&line, req, NOTE_REFUSED, "refused");
	log_note(&line, req, NOTE_LIMITED, "limited");
	log_note(&line, req, NOTE_CLIENT_ID, "client_id");
	log_note(&line, req, NOTE_SUB, "sub");
	logline_int(&line, "duration_us", us);
	log_header(&line, req, "mcp-session-id", "session_id");
	log_header(&line, req, "x-amzn-bedrock-agentcore-runtime-session-id", "runtime_session_id");
	logline_emit(&line);
}

void
http_log_attach(h2o_pathconf_t *pathconf)
{
	h2o_create_logger(pathconf, sizeof(h2o_logger_t))->log_access = on_log_access;
}
