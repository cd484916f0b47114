/* Runs in: workers (mapped before the sandbox, requests admitted after). See http_limits.h. */
#include "worker/http_limits.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/client_limits.h"
#include "common/clock.h"
#include "common/counters.h"
#include "worker/http_log.h"
#include "worker/http_respond.h"
#include "worker/own_counters.h"

/* Bytes of a client id or sub the log line keeps. */
#define LOGGED_CLIENT_MAX 256

static struct client_limits *table;
static struct client_limits_policy policy;
static int table_columns;
static uint32_t own_column;
static enum client_limit_key limit_key;

int
http_limits_init(const struct config *cfg, int fd, int block)
{
	int column = block - COUNTERS_WORKER_BLOCK(0, 0);

	if (fd < 0)
		return 0;
	table_columns = 2 * cfg->workers;
	if (column < 0 || column >= table_columns) {
		close(fd);
		errno = EINVAL;
		return -1;
	}
	table = client_limits_map(fd, table_columns);
	close(fd);
	if (table == NULL)
		return -1;
	client_limits_policy_of(cfg, &policy);
	own_column = (uint32_t)column;
	limit_key = cfg->client_limit_key;
	return 0;
}

void
http_limits_shutdown(void)
{
	client_limits_unmap(table, table_columns);
	table = NULL;
}

/* h2o disposes of the request once its answer went out (or its connection closed): it ends here. */
static void
on_request_disposed(void *data)
{
	if (table != NULL)
		client_limits_release(table, data);
}

/* Keeps the lease with the request, to be released when h2o disposes of it. */
static void
hold_lease(h2o_req_t *req, const struct client_lease *lease)
{
	struct client_lease *held = h2o_mem_alloc_shared(&req->pool, sizeof(*held), on_request_disposed);

	*held = *lease;
}

static const char *
refusal_message(enum client_limits_verdict verdict)
{
	switch (verdict) {
	case CLIENT_LIMITS_RATE:
		return "Too Many Requests: this client's request rate limit is reached; retry after Retry-After seconds";
	case CLIENT_LIMITS_CONCURRENCY:
		return "Too Many Requests: this client has as many requests in flight as it may; retry once one ends";
	default:
		return "Too Many Requests: too many clients are limited at once to take a new one; retry later";
	}
}

static enum counters_limited
counted_as(enum client_limits_verdict verdict)
{
	if (verdict == CLIENT_LIMITS_RATE)
		return LIMITED_RATE;
	return verdict == CLIENT_LIMITS_CONCURRENCY ? LIMITED_CONCURRENCY : LIMITED_TABLE_FULL;
}

/* 429 with Retry-After and the JSON-RPC error; counted by reason, logged with the client. */
static void
refuse(h2o_req_t *req, const struct client_limits_result *r, const char *client)
{
	enum counters_limited reason = counted_as(r->verdict);
	char logged[LOGGED_CLIENT_MAX + 1];
	char *seconds = h2o_mem_alloc_pool(&req->pool, 24);
	int n = snprintf(seconds, 24, "%llu", (unsigned long long)r->retry_after_s);

	counter_add(&own_counters->client_limited[reason], 1);
	snprintf(logged, sizeof(logged), "%s", client);
	http_log_note(req, NOTE_LIMITED, counters_limited_names[reason]);
	http_log_note(req, limit_key == CLIENT_KEY_SUB ? NOTE_SUB : NOTE_CLIENT_ID, logged);
	h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_RETRY_AFTER, NULL, seconds, (size_t)n);
	http_respond_rpc_error(req, 429, -32000, refusal_message(r->verdict));
}

bool
http_limits_refused(h2o_req_t *req, const struct mcpd_identity *identity)
{
	struct client_limits_result r;
	const char *client;

	if (table == NULL || identity == NULL)
		return false;
	client = limit_key == CLIENT_KEY_SUB ? identity->sub : identity->client_id;
	client_limits_admit(table, &policy, own_column, client, strlen(client), now_ns(), &r);
	if (r.took_over)
		counter_add(&own_counters->client_limit_takeovers, 1);
	if (r.verdict != CLIENT_LIMITS_PASS) {
		refuse(req, &r, client);
		return true;
	}
	if (r.lease.entry >= 0)
		hold_lease(req, &r.lease);
	return false;
}
