/* Runs in: workers, after the sandbox. */
/*
 * tool_fetch: calls of tools that may fetch (worker/tool.h's mcpd_fetch).
 * Such a call lives on the heap from its start: its requests point back at
 * it.  It runs the tool; while the tool (or a continuation) returns
 * MCPD_PENDING with requests out, the call waits, holding copies of its
 * arguments and caller, since the request's JSON and token are gone once
 * the worker goes back to its loop.  Each answer from the egress
 * (worker/egress_link.c) runs its continuation; the first step that
 * returns anything else settles the call, cancels what is still out and
 * hands the outcome to whoever waits for it (methods.c, then mcp_wait.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "worker/egress_link.h"
#include "worker/own_counters.h"
#include "worker/tool_internal.h"

#define DEFAULT_TIMEOUT_MS 10000
#define MAX_TIMEOUT_MS 300000
#define MAX_RESPONSE_CEILING (16u << 20)
#define HEADER_CAP (64u << 10)
#define MAX_REQUEST_HEADERS 256

/* One mcpd_fetch: sent (id != 0), or failed before it left (message kept for its continuation). */
struct tool_fetch {
	struct tool_pending *call;
	struct tool_fetch *next;
	uint32_t id;
	mcpd_continuation then;
	void *data;
	enum egress_wire_outcome failed;	/* OK while sent */
	char message[256];
};

struct tool_pending {
	struct mcpd_call call;
	struct mcpd_call_state st;
	struct tool_outcome out;
	struct mcpd_value values[TOOL_MAX_PARAMS];
	struct mcpd_identity identity;
	struct tool_fetch *fetches;	/* every request not yet answered to the tool */
	size_t waiting;			/* how many */
	bool detached;			/* arguments and caller copied: the request's memory may go */
	tools_done_fn done;
	void *owner;
};

static size_t default_max_response = 1u << 20;
static const char *aws_region = "";
static size_t pending_calls;
static unsigned in_flight_by_tool[COUNTERS_MAX_TOOLS + 1];

void
tools_fetch_configure(size_t max_response, const char *region)
{
	default_max_response = max_response;
	aws_region = region;
}

const char *
mcpd_aws_region(void)
{
	return aws_region[0] != '\0' ? aws_region : NULL;
}

size_t
tools_pending_count(void)
{
	return pending_calls;
}

static char *
copy_string(struct mcpd_call *call, const char *s, size_t len)
{
	char *copy = mcpd_alloc(call, len + 1);

	if (copy != NULL) {
		memcpy(copy, s, len);
		copy[len] = '\0';
	}
	return copy;
}

/* A value's strings and items, copied into the call's scratch memory. */
static int
copy_value(struct mcpd_call *call, struct mcpd_value *v)
{
	if (v->string != NULL && (v->string = copy_string(call, v->string, v->length)) == NULL)
		return -1;
	if (v->items != NULL) {
		struct mcpd_value *items = mcpd_alloc(call, v->count * sizeof(*items));

		if (items == NULL)
			return -1;
		memcpy(items, v->items, v->count * sizeof(*items));
		for (size_t i = 0; i < v->count; i++)
			if (copy_value(call, &items[i]) < 0)
				return -1;
		v->items = items;
	}
	return 0;
}

static const char *
copy_claim(struct mcpd_call *call, const char *s)
{
	return s == NULL ? NULL : copy_string(call, s, strlen(s));
}

/* The call outlives its request: what pointed into the request's JSON and token is copied. */
static int
detach(struct tool_pending *p)
{
	const struct mcpd_identity *id = p->call.identity;

	if (p->detached)
		return 0;
	p->detached = true;
	for (size_t i = 0; i < p->st.tool->nparams; i++)
		if (copy_value(&p->call, &p->values[i]) < 0)
			return -1;
	if (id != NULL) {
		p->identity = (struct mcpd_identity){.sub = copy_claim(&p->call, id->sub),
		    .username = copy_claim(&p->call, id->username), .client_id = copy_claim(&p->call, id->client_id),
		    .scope = copy_claim(&p->call, id->scope), .expires_at = id->expires_at};
		if ((id->sub && !p->identity.sub) || (id->username && !p->identity.username) ||
		    (id->client_id && !p->identity.client_id) || (id->scope && !p->identity.scope))
			return -1;
		p->call.identity = &p->identity;
	}
	return 0;
}

static size_t
tool_slot(const struct tool_pending *p)
{
	return tools_index(p->st.tool);
}

static void
unlink_fetch(struct tool_pending *p, struct tool_fetch *f)
{
	for (struct tool_fetch **at = &p->fetches; *at != NULL; at = &(*at)->next) {
		if (*at == f) {
			*at = f->next;
			break;
		}
	}
	p->waiting--;
	if (f->id != 0)
		in_flight_by_tool[tool_slot(p)]--;
}

/* Cancels every request still out and forgets the rest. */
static void
drop_fetches(struct tool_pending *p)
{
	while (p->fetches != NULL) {
		struct tool_fetch *f = p->fetches;

		/* Counted here, once: the egress's own "cancelled" answer finds no entry. */
		if (f->id != 0)
			egress_counted(tool_slot(p), EGRESS_WIRE_OUTCOME_CANCELLED, egress_link_cancel(f->id));
		unlink_fetch(p, f);
		free(f);
	}
}

static void
free_pending(struct tool_pending *p)
{
	drop_fetches(p);
	tool_call_release(&p->st);
	free(p);
	pending_calls--;
}

/* The call is over: settle it from the last step's `rc`. */
static void
finish(struct tool_pending *p, int rc)
{
	drop_fetches(p);
	tool_call_settle(&p->st, rc);
}

static int run_continuation(struct tool_pending *p, struct tool_fetch *f, const struct mcpd_response *r);

/* The first request that failed before it left, or NULL. */
static struct tool_fetch *
failed_fetch(struct tool_pending *p)
{
	for (struct tool_fetch *f = p->fetches; f != NULL; f = f->next)
		if (f->id == 0)
			return f;
	return NULL;
}

static int
continue_failed(struct tool_pending *p, struct tool_fetch *f)
{
	char error[320];
	const char *outcome = egress_wire_outcome_name(f->failed);
	struct mcpd_response r = {.error = error, .outcome = outcome, .body = "", .data = f->data};

	snprintf(error, sizeof(error), "%s: %s", outcome, f->message);
	egress_counted(tool_slot(p), f->failed, 0);
	return run_continuation(p, f, &r);
}

/*
 * After a step of the tool returned `rc`: true when the call is over.
 * Requests that failed before they left are answered here, in order, as
 * if they had come back: their continuations are steps too.
 */
static bool
after_step(struct tool_pending *p, int rc)
{
	for (;;) {
		struct tool_fetch *f;

		if (rc != MCPD_PENDING || p->waiting == 0 || p->st.answered || p->st.problem[0] != '\0') {
			finish(p, rc);
			return true;
		}
		if (detach(p) < 0) {
			tool_result_misuse(&p->call, "ran out of memory");
			finish(p, -1);
			return true;
		}
		f = failed_fetch(p);
		if (f == NULL)
			return false;
		rc = continue_failed(p, f);
	}
}

static int
run_continuation(struct tool_pending *p, struct tool_fetch *f, const struct mcpd_response *r)
{
	mcpd_continuation then = f->then;

	unlink_fetch(p, f);
	free(f);
	return then(&p->call, r);
}

int
tool_fetch_call(const struct mcpd_tool *tool, const struct json_doc *doc, const cJSON *arguments,
    const struct tools_context *ctx, struct tool_outcome *out, struct tool_pending **pending)
{
	struct tool_pending *p = calloc(1, sizeof(*p));
	char err[TOOL_ERROR_MAX];
	bool over = true;

	if (p == NULL)
		return -1;
	pending_calls++;
	p->call = (struct mcpd_call){.identity = ctx->identity, .protocol_version = ctx->protocol_version,
	    .state = &p->st};
	tool_call_begin(&p->st, tool, p->values, &p->out);
	p->st.pending = p;
	if (tool_args_read(&p->call, doc, arguments, p->values, err, sizeof(err)) < 0) {
		drop_fetches(p);
		tool_call_fail(&p->out, tool, err);
	} else {
		over = after_step(p, tool->run(&p->call));
	}
	if (!over) {
		*pending = p;
		return TOOLS_PENDING;
	}
	*out = p->out;
	free_pending(p);
	if (!strbuf_ok(&out->text) || !strbuf_ok(&out->structured)) {
		tools_outcome_free(out);
		return -1;
	}
	return TOOLS_DONE;
}

void
tools_pending_watch(struct tool_pending *pending, tools_done_fn done, void *owner)
{
	pending->done = done;
	pending->owner = owner;
}

void
tools_pending_cancel(struct tool_pending *pending)
{
	tools_outcome_free(&pending->out);
	free_pending(pending);
}

/* The wire's headers, NUL-terminated for the tool; freed after its continuation. */
static struct mcpd_header *
copy_headers(const struct egress_wire_response *w, char **storage)
{
	size_t bytes = 0;
	struct mcpd_header *hs;
	char *at;

	for (size_t i = 0; i < w->n_headers; i++)
		bytes += w->headers[i].name.len + w->headers[i].value.len + 2;
	hs = malloc(w->n_headers * sizeof(*hs) + 1);
	at = *storage = malloc(bytes + 1);
	if (hs == NULL || at == NULL) {
		free(hs);
		free(*storage);
		*storage = NULL;
		return NULL;
	}
	for (size_t i = 0; i < w->n_headers; i++) {
		hs[i].name = memcpy(at, w->headers[i].name.base, w->headers[i].name.len);
		at[w->headers[i].name.len] = '\0';
		at += w->headers[i].name.len + 1;
		hs[i].value = memcpy(at, w->headers[i].value.base, w->headers[i].value.len);
		at[w->headers[i].value.len] = '\0';
		at += w->headers[i].value.len + 1;
	}
	return hs;
}

/* A RESPONSE for the tool: headers and a NUL-terminated body. */
static int
continue_response(struct tool_pending *p, struct tool_fetch *f, const struct egress_wire_response *w)
{
	struct mcpd_response r = {.outcome = "ok", .status = w->status, .nheaders = w->n_headers,
	    .body_len = w->body.len, .data = f->data};
	char *storage = NULL, *body = malloc(w->body.len + 1);
	struct mcpd_header *headers = copy_headers(w, &storage);
	int rc;

	if (body == NULL || headers == NULL) {
		free(body);
		free(headers);
		free(storage);
		r = (struct mcpd_response){.error = "internal: out of memory reading the response",
		    .outcome = "internal", .body = "", .data = f->data};
		return run_continuation(p, f, &r);
	}
	if (w->body.len > 0)
		memcpy(body, w->body.base, w->body.len);
	body[w->body.len] = '\0';
	r.body = body;
	r.headers = headers;
	rc = run_continuation(p, f, &r);
	free(body);
	free(headers);
	free(storage);
	return rc;
}

static int
continue_failure(struct tool_pending *p, struct tool_fetch *f, const struct egress_link_answer *a)
{
	char error[600];
	const char *outcome = egress_wire_outcome_name(a->outcome);
	struct mcpd_response r = {.error = error, .outcome = outcome, .status = a->status, .body = "",
	    .data = f->data};

	snprintf(error, sizeof(error), "%s: %s", outcome, a->message);
	return run_continuation(p, f, &r);
}

/* The egress answered one of the call's requests: run its continuation, then see if the call is over. */
static void
on_answer(void *owner, const struct egress_link_answer *a)
{
	struct tool_fetch *f = owner;
	struct tool_pending *p = f->call;
	size_t slot = tool_slot(p);
	int rc;

	egress_counted(slot, a->outcome, a->duration_us);
	f->id = 0;	/* answered: nothing to cancel */
	in_flight_by_tool[slot]--;
	rc = a->outcome == EGRESS_WIRE_OUTCOME_OK ? continue_response(p, f, a->response) :
	    continue_failure(p, f, a);
	if (!after_step(p, rc))
		return;
	p->done(p->owner, &p->out);
	free_pending(p);
}

/* Why a request cannot be sent as the tool wrote it, or NULL. */
static const char *
request_problem(const struct mcpd_request *rq, char *why, size_t whylen)
{
	if (rq->url == NULL || rq->url[0] == '\0')
		return "the request has no url";
	if (rq->timeout_ms > MAX_TIMEOUT_MS) {
		snprintf(why, whylen, "timeout_ms %u is over %u", rq->timeout_ms, MAX_TIMEOUT_MS);
		return why;
	}
	if (rq->max_response > MAX_RESPONSE_CEILING) {
		snprintf(why, whylen, "max_response %zu is over %u", rq->max_response, MAX_RESPONSE_CEILING);
		return why;
	}
	if (rq->nheaders > MAX_REQUEST_HEADERS || (rq->nheaders > 0 && rq->headers == NULL))
		return "too many headers (256 at most), or none given for nheaders";
	if (rq->body_len > 0 && rq->body == NULL)
		return "body_len without a body";
	if (rq->aws_region != NULL && rq->aws_service == NULL)
		return "aws_region without aws_service";
	for (size_t i = 0; i < rq->nheaders; i++)
		if (rq->headers[i].name == NULL || rq->headers[i].value == NULL)
			return "a header without a name or value";
	return NULL;
}

static struct egress_wire_span
span_of(const char *s)
{
	return (struct egress_wire_span){s, s != NULL ? strlen(s) : 0};
}

/* Sends the request, or records why it could not leave. */
static void
send_fetch(struct tool_pending *p, struct tool_fetch *f, const struct mcpd_request *rq)
{
	const struct mcpd_tool *tool = p->st.tool;
	struct egress_wire_header headers[MAX_REQUEST_HEADERS];
	unsigned cap = tool->max_in_flight;
	const char *problem = request_problem(rq, f->message, sizeof(f->message));
	struct egress_wire_request w;

	if (problem != NULL) {
		f->failed = EGRESS_WIRE_OUTCOME_BAD_REQUEST;
		if (problem != f->message)
			snprintf(f->message, sizeof(f->message), "%s", problem);
		return;
	}
	if (cap != 0 && in_flight_by_tool[tool_slot(p)] >= cap) {
		f->failed = EGRESS_WIRE_OUTCOME_EGRESS_BUSY;
		snprintf(f->message, sizeof(f->message), "the tool has %u requests in flight in this worker, "
		    "its limit", cap);
		return;
	}
	for (size_t i = 0; i < rq->nheaders; i++)
		headers[i] = (struct egress_wire_header){span_of(rq->headers[i].name), span_of(rq->headers[i].value)};
	w = (struct egress_wire_request){.tool_index = (uint32_t)tool_slot(p), .tool_name = span_of(tool->name),
	    .method = span_of(rq->method != NULL ? rq->method : "GET"), .url = span_of(rq->url),
	    .headers = headers, .n_headers = rq->nheaders,
	    .body = {rq->body, rq->body != NULL ? rq->body_len : 0},
	    .deadline_ms = rq->timeout_ms != 0 ? rq->timeout_ms : DEFAULT_TIMEOUT_MS,
	    .response_cap = (uint32_t)(rq->max_response != 0 ? rq->max_response : default_max_response),
	    .header_cap = HEADER_CAP, .follow_redirects = rq->follow_redirects,
	    .aws_service = span_of(rq->aws_service), .aws_region = span_of(rq->aws_region)};
	f->id = egress_link_send(&w, on_answer, f, &f->failed, f->message, sizeof(f->message));
	if (f->id != 0)
		in_flight_by_tool[tool_slot(p)]++;
}

int
mcpd_fetch(struct mcpd_call *call, const struct mcpd_request *request, mcpd_continuation then, void *data)
{
	struct tool_pending *p = call->state->pending;
	struct tool_fetch *f, **at;

	if (p == NULL)
		return tool_result_misuse(call, "called mcpd_fetch but declares no MCPD_EGRESS");
	if (then == NULL || request == NULL)
		return tool_result_misuse(call, "called mcpd_fetch without a request or a continuation");
	f = calloc(1, sizeof(*f));
	if (f == NULL)
		return tool_result_misuse(call, "ran out of memory");
	*f = (struct tool_fetch){.call = p, .then = then, .data = data};
	/* At the tail: requests that fail before they leave are answered in the order they were made. */
	for (at = &p->fetches; *at != NULL; at = &(*at)->next)
		;
	*at = f;
	p->waiting++;
	send_fetch(p, f, request);
	return MCPD_PENDING;
}

const char *
mcpd_response_header(const struct mcpd_response *response, const char *name)
{
	for (size_t i = 0; i < response->nheaders; i++)
		if (strcasecmp(response->headers[i].name, name) == 0)
			return response->headers[i].value;
	return NULL;
}
