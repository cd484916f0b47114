/* Runs in: workers, after the sandbox. See mcp_wait.h. */
#include "worker/mcp_wait.h"

#include <stdlib.h>
#include <string.h>

struct wait_slot {
	struct mcp_wait *wait;
	size_t offset;			/* in the body, where the result's members go */
	struct tool_pending *call;	/* NULL once it completed */
	const struct mcpd_tool *tool;
	enum proto version;
	struct strbuf result;
};

struct mcp_wait {
	struct wait_slot *slots;
	size_t n, cap;
	size_t waiting;		/* slots whose call has not completed */
	char *body;
	size_t body_len;
	mcp_wait_ready_fn ready;
	void *owner;
};

int
mcp_wait_add(struct mcp_wait **wait, size_t offset, struct tool_pending *call,
    const struct mcpd_tool *tool, enum proto version)
{
	struct mcp_wait *w = *wait;

	if (w == NULL && (w = *wait = calloc(1, sizeof(*w))) == NULL) {
		tools_pending_cancel(call);
		return -1;
	}
	if (w->n == w->cap) {
		size_t cap = w->cap ? 2 * w->cap : 2;
		struct wait_slot *slots = realloc(w->slots, cap * sizeof(*slots));

		if (slots == NULL) {
			tools_pending_cancel(call);
			return -1;
		}
		w->slots = slots;
		w->cap = cap;
	}
	w->slots[w->n] = (struct wait_slot){.offset = offset, .call = call, .tool = tool, .version = version};
	strbuf_init(&w->slots[w->n++].result);
	w->waiting++;
	return 0;
}

/* Builds the whole body: the envelope with each result at its offset. */
static char *
splice(struct mcp_wait *w, size_t *len)
{
	struct strbuf out;
	size_t from = 0;

	strbuf_init(&out);
	for (size_t i = 0; i < w->n; i++) {
		strbuf_append(&out, w->body + from, w->slots[i].offset - from);
		strbuf_append(&out, w->slots[i].result.data ? w->slots[i].result.data : "", w->slots[i].result.len);
		from = w->slots[i].offset;
	}
	strbuf_append(&out, w->body + from, w->body_len - from);
	return strbuf_detach(&out, len);
}

static void
wait_free(struct mcp_wait *w)
{
	for (size_t i = 0; i < w->n; i++) {
		if (w->slots[i].call != NULL)
			tools_pending_cancel(w->slots[i].call);
		strbuf_free(&w->slots[i].result);
	}
	free(w->slots);
	free(w->body);
	free(w);
}

static void
on_call_done(void *owner, struct tool_outcome *out)
{
	struct wait_slot *slot = owner;
	struct mcp_wait *w = slot->wait;
	size_t len = 0;
	char *body;

	slot->call = NULL;
	strbuf_init(&slot->result);
	methods_write_tool_result(&slot->result, slot->version, slot->tool, out);
	if (!strbuf_ok(&slot->result)) {
		/* Out of memory: the member still gets a result, an error naming why. */
		strbuf_free(&slot->result);
		strbuf_init(&slot->result);
		strbuf_puts(&slot->result, "\"content\":[{\"type\":\"text\",\"text\":\"internal error: out of "
		    "memory writing the result\"}],\"isError\":true");
	}
	tools_outcome_free(out);
	if (--w->waiting > 0)
		return;
	body = splice(w, &len);
	/* The offsets are spent; ready owns the spliced body. */
	w->ready(w->owner, body, body != NULL ? len : 0);
	wait_free(w);
}

void
mcp_wait_start(struct mcp_wait *wait, char *body, size_t len, mcp_wait_ready_fn ready, void *owner)
{
	wait->body = body;
	wait->body_len = len;
	wait->ready = ready;
	wait->owner = owner;
	/* The slots no longer move: each call may point at its own. */
	for (size_t i = 0; i < wait->n; i++) {
		wait->slots[i].wait = wait;
		tools_pending_watch(wait->slots[i].call, on_call_done, &wait->slots[i]);
	}
}

void
mcp_wait_cancel(struct mcp_wait *wait)
{
	wait_free(wait);
}
