/* Runs in: the supervisor, unsandboxed: it hands connections to the egress and the workers. */
#define _GNU_SOURCE
#include "supervisor/egress_links.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"

int
egress_channel_open(int ends[2])
{
	return socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ends);
}

/* One message on `sock`: `fd` by SCM_RIGHTS and `len` bytes.  Never blocks, never raises SIGPIPE. */
static int
send_descriptor(int sock, int fd, const void *payload, size_t len)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} control;
	struct iovec iov = {.iov_base = (void *)payload, .iov_len = len};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
	    .msg_controllen = sizeof(control.buf)};
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	ssize_t n;

	memset(&control, 0, sizeof(control));
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	do
		n = sendmsg(sock, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -1 : 0;
}

static void
log_link_failed(const struct proc *worker, const char *step)
{
	struct logline line;
	const char *why = strerror(errno);

	logline_begin(&line, LOG_WARN, "egress_link_failed");
	logline_int(&line, "slot", worker->slot);
	logline_int(&line, "child_pid", worker->pid);
	logline_str(&line, "step", step);
	logline_str(&line, "error", why);
	logline_emit(&line);
}

/* Gives `worker` a new connection to `egress`; or marks it owed one when the control socket is full. */
static void
link_worker(struct proc *worker, const struct proc *egress, uint32_t generation)
{
	int32_t slot = worker->slot;
	int pair[2];

	worker->egress_owed = false;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0) {
		log_link_failed(worker, "socketpair");
		return;
	}
	/* The egress's end first: a worker only ever gets a connection the egress was given. */
	if (send_descriptor(egress->egress_fd, pair[0], &slot, sizeof(slot)) < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			worker->egress_owed = true;
		else
			log_link_failed(worker, "sending the connection to the egress");
	} else if (send_descriptor(worker->egress_fd, pair[1], &generation, sizeof(generation)) < 0) {
		/* The egress sees end of file on its end and forgets it. */
		log_link_failed(worker, "sending the connection to the worker");
	}
	close(pair[0]);
	close(pair[1]);
}

static bool
is_linked_worker(const struct proc *p, const struct proc *egress)
{
	return p != egress && p->egress_fd >= 0;
}

/* Links the workers (only the owed ones, with only_owed) until the control socket is full. */
static void
link_workers(struct proctab *pt, const struct proc *egress, uint32_t generation, bool only_owed)
{
	bool full = false;

	for (int i = 0; i < pt->nprocs; i++) {
		struct proc *p = &pt->procs[i];

		if (!is_linked_worker(p, egress) || (only_owed && !p->egress_owed))
			continue;
		if (full) {
			p->egress_owed = true;
			continue;
		}
		link_worker(p, egress, generation);
		full = p->egress_owed;
	}
}

struct proc *
egress_links_egress(const struct egress_links *links, struct proctab *pt)
{
	return links->slot < 0 ? NULL : proctab_slot_owner(pt, links->slot);
}

void
egress_links_keep(struct proc *p, const struct child_args *args, int supervisor_end)
{
	int spawn_errno = errno;

	if (args->egress_control_fd >= 0)
		close(args->egress_control_fd);
	if (args->egress_link_fd >= 0)
		close(args->egress_link_fd);
	if (p != NULL)
		p->egress_fd = supervisor_end;
	else if (supervisor_end >= 0)
		close(supervisor_end);
	errno = spawn_errno;
}

void
egress_links_connect(struct egress_links *links, struct proctab *pt, struct proc *p)
{
	struct proc *egress;

	if (p->egress_fd < 0)
		return;
	if (p->slot == links->slot)
		link_workers(pt, p, ++links->generation, false);
	else if ((egress = egress_links_egress(links, pt)) != NULL)
		link_worker(p, egress, links->generation);
}

struct proc *
egress_links_awaited(const struct egress_links *links, struct proctab *pt)
{
	struct proc *egress = egress_links_egress(links, pt);

	if (egress == NULL)
		return NULL;
	for (int i = 0; i < pt->nprocs; i++)
		if (pt->procs[i].egress_owed)
			return egress;
	return NULL;
}

void
egress_links_give_owed(const struct egress_links *links, struct proctab *pt, const struct proc *egress)
{
	link_workers(pt, egress, links->generation, true);
}
