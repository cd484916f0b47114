/* Runs in: the metrics process (set up before its sandbox, run after). See answer_deadline.h. */
#include "metrics/answer_deadline.h"

#include <sys/socket.h>

#include "common/framing.h"
#include "common/log.h"

struct answer {
	h2o_timeout_entry_t deadline;	/* in answers.timeout, oldest first */
	int fd;
	bool ended;
};

static struct {
	h2o_loop_t *loop;
	h2o_timeout_t timeout;
	unsigned seconds;
} answers;

static void
on_deadline(h2o_timeout_entry_t *entry);

void
answer_deadline_init(h2o_loop_t *loop, unsigned seconds)
{
	answers.loop = loop;
	answers.seconds = seconds;
	h2o_timeout_init(loop, &answers.timeout, seconds * 1000ULL);
}

/*
 * shutdown(2) rather than close(2): h2o still owns the descriptor, and
 * closing it behind h2o's back would not be safe.
 */
static bool
end_connection(struct answer *a)
{
	a->ended = true;
	return shutdown(a->fd, SHUT_RDWR) == 0;	/* fails when the scraper is gone: h2o is closing it */
}

static void
on_deadline(h2o_timeout_entry_t *entry)
{
	struct answer *a = H2O_STRUCT_FROM_MEMBER(struct answer, deadline, entry);

	if (end_connection(a))
		log_msg(LOG_INFO, "metrics_answer_stalled",
		    "closed a scrape connection whose answer was not taken within %u s", answers.seconds);
}

/* The request's pool is being cleared: its answer has been taken, or never will be. */
static void
on_answer_disposed(void *p)
{
	struct answer *a = p;

	h2o_timeout_unlink(&a->deadline);
}

void
answer_deadline_track(h2o_req_t *req)
{
	h2o_socket_t *sock = framing_socket(req);
	struct answer *a;

	if (sock == NULL)
		return;	/* not a connection layout we know: nothing to shut down */
	a = h2o_mem_alloc_shared(&req->pool, sizeof(*a), on_answer_disposed);
	*a = (struct answer){.fd = h2o_socket_get_fd(sock), .deadline = {.cb = on_deadline}};
	h2o_timeout_link(answers.loop, &answers.timeout, &a->deadline);
}

bool
answer_deadline_end_oldest(uint64_t min_age_ms)
{
	uint64_t now = h2o_now(answers.loop);
	h2o_linklist_t *anchor = &answers.timeout._entries;

	/* Entries are linked in the order answers started: the oldest first. */
	for (h2o_linklist_t *l = anchor->next; l != anchor; l = l->next) {
		struct answer *a = H2O_STRUCT_FROM_MEMBER(struct answer, deadline._link, l);

		if (now - a->deadline.registered_at < min_age_ms)
			return false;
		if (!a->ended && end_connection(a))
			return true;
	}
	return false;
}
