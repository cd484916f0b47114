/* Runs in: workers, after the sandbox. */
/*
 * outflow: large answers in flight in one worker.  Runs in every worker;
 * outflow_init before the sandbox, the rest on the request path.
 */
#include "worker/outflow.h"

#include <malloc.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <linux/tcp.h>

#include "common/log.h"

/* How often answers in flight are looked at. */
#define SWEEP_MS 1000
/* glibc's allocator: blocks from this size come from mmap; a free top this large is trimmed. */
#define MMAP_THRESHOLD (32 * 1024 * 1024)
#define TRIM_THRESHOLD (64 * 1024 * 1024)

struct inflight {
	h2o_linklist_t link;
	size_t bytes;
	int fd;
	uint64_t acked;		/* the kernel's count of bytes the client acknowledged */
	uint64_t moved_at;	/* when that count last grew (loop clock, ms) */
	bool cut;		/* already shut down for not moving */
};

static struct {
	h2o_loop_t *loop;
	size_t max_pending;
	size_t pending;
	uint64_t stall_ms;
	h2o_linklist_t inflight;
	h2o_timeout_t sweep_timeout;
	h2o_timeout_entry_t sweep;
	bool trim_due;		/* a large answer was freed since the last trim */
} outflow;

static void on_sweep(h2o_timeout_entry_t *entry);

void
outflow_init(h2o_loop_t *loop, size_t max_pending, unsigned stall_seconds)
{
	outflow.loop = loop;
	outflow.max_pending = max_pending;
	outflow.stall_ms = stall_seconds * 1000ULL;
	h2o_linklist_init_anchor(&outflow.inflight);
	h2o_timeout_init(loop, &outflow.sweep_timeout, SWEEP_MS);
	outflow.sweep.cb = on_sweep;
	/*
	 * Large requests (a batch of 10,000 pings, an array of numbers) build
	 * buffers of a few hundred KiB.  From glibc's default 128 KiB those would
	 * be fresh mmaps, paid for in page faults on every request, and the
	 * heap's top would be handed back and faulted in again each time.  Both
	 * thresholds are fixed high; the memory a burst leaves goes back by the
	 * malloc_trim below.  (mallopt returns 0 only for a bad parameter.)
	 */
	(void)mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD);
	(void)mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD);
}

bool
outflow_refuses(size_t request_bytes)
{
	return outflow.pending > outflow.max_pending && request_bytes > OUTFLOW_TRACK_MIN / 2;
}

size_t
outflow_pending(void)
{
	return outflow.pending;
}

static void
arm_sweep(void)
{
	if (!h2o_timeout_is_linked(&outflow.sweep))
		h2o_timeout_link(outflow.loop, &outflow.sweep_timeout, &outflow.sweep);
}

/* Bytes the client has acknowledged on fd, or false when the kernel cannot say. */
static bool
bytes_acked(int fd, uint64_t *acked)
{
	struct tcp_info info;
	socklen_t len = sizeof(info);

	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) < 0 ||
	    len < offsetof(struct tcp_info, tcpi_bytes_acked) + sizeof(info.tcpi_bytes_acked))
		return false;
	*acked = info.tcpi_bytes_acked;
	return true;
}

/*
 * Ends a connection whose answer has not moved: shutdown(2) makes h2o's
 * next write fail, and h2o then closes the connection and frees the answer
 * itself (closing the fd behind its back would not be safe).
 */
static void
cut(struct inflight *f)
{
	f->cut = true;
	if (shutdown(f->fd, SHUT_RDWR) < 0)
		return;	/* the client is gone already: h2o is closing it */
	log_msg(LOG_INFO, "connection_stalled",
	    "closed a connection whose %zu-byte answer did not move for %llu s", f->bytes,
	    (unsigned long long)(outflow.stall_ms / 1000));
}

static void
look_at(struct inflight *f, uint64_t now)
{
	uint64_t acked;

	if (f->cut)
		return;
	if (bytes_acked(f->fd, &acked) && acked != f->acked) {
		f->acked = acked;
		f->moved_at = now;
	} else if (now - f->moved_at >= outflow.stall_ms) {
		cut(f);
	}
}

static void
on_sweep(h2o_timeout_entry_t *entry)
{
	uint64_t now = h2o_now(outflow.loop);

	(void)entry;
	for (h2o_linklist_t *l = outflow.inflight.next; l != &outflow.inflight; l = l->next)
		look_at(H2O_STRUCT_FROM_MEMBER(struct inflight, link, l), now);
	/*
	 * Once the backlog is gone, hand what it left in the heap back to the
	 * system: large answers live in the heap (see outflow_init), so a burst
	 * of them would keep it grown.  (A low mmap threshold would return them
	 * one by one, but measured 30 times slower on large requests: every
	 * buffer growth became an mmap, a copy and an munmap.)
	 */
	if (outflow.pending == 0 && outflow.trim_due) {
		(void)malloc_trim(0);	/* returns whether memory was released */
		outflow.trim_due = false;
	}
	if (!h2o_linklist_is_empty(&outflow.inflight) || outflow.trim_due)
		arm_sweep();
}

/* The request's pool is being cleared: its answer has gone (or never will). */
static void
on_answer_disposed(void *p)
{
	struct inflight *f = p;

	h2o_linklist_unlink(&f->link);
	outflow.pending -= f->bytes;
	outflow.trim_due = true;
	arm_sweep();
}

void
outflow_track(h2o_req_t *req, h2o_socket_t *sock, size_t bytes)
{
	struct inflight *f;

	if (bytes < OUTFLOW_TRACK_MIN || sock == NULL)
		return;
	f = h2o_mem_alloc_shared(&req->pool, sizeof(*f), on_answer_disposed);
	*f = (struct inflight){.bytes = bytes, .fd = h2o_socket_get_fd(sock),
	    .moved_at = h2o_now(outflow.loop)};
	(void)bytes_acked(f->fd, &f->acked);
	h2o_linklist_insert(&outflow.inflight, &f->link);
	outflow.pending += bytes;
	arm_sweep();
}
