/* Runs in: the egress process. */
#define _GNU_SOURCE
/*
 * loop: the egress's one thread of work.  epoll watches the signalfd (stop),
 * the control socket (a worker connection handed over by the supervisor),
 * each worker connection, and the sockets and timer libcurl's multi socket
 * interface asks for.  One CURLM serves every request, so its connection
 * cache keeps connections alive per host and multiplexes HTTP/2.
 */
#include "egress/egress.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <sodium.h>

#include "common/clock.h"
#include "common/log.h"
#include "egress/seccomp.h"
#include "egress/state.h"

#define MAX_EVENTS 64
/* How long a stopping egress tries to hand its last answers to the workers. */
#define STOP_DRAIN_MS 2000

/*
 * A libcurl socket's registration carries its fd with this bit, not a
 * pointer: libcurl may drop one of its sockets while an event for it waits
 * later in the same batch, and a stale fd is harmless where a freed pointer
 * is not.  Pointers to the egress's own watches never have the top bit.
 */
#define CURL_FD_TAG (1ULL << 63)

int
loop_watch(struct egress *eg, struct watch *w, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.ptr = w};
	int op = w->events == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;

	if (events == w->events)
		return 0;
	if (events == 0) {
		loop_unwatch(eg, w);
		return 0;
	}
	if (w->kind == WATCH_CURL)
		ev.data.u64 = CURL_FD_TAG | (uint32_t)w->fd;
	if (epoll_ctl(eg->epfd, op, w->fd, &ev) < 0) {
		log_errno("egress_epoll_failed", "cannot watch fd %d", w->fd);
		return -1;
	}
	w->events = events;
	return 0;
}

void
loop_unwatch(struct egress *eg, struct watch *w)
{
	if (w->events != 0)
		epoll_ctl(eg->epfd, EPOLL_CTL_DEL, w->fd, NULL);
	w->events = 0;
}

/* libcurl says which events it wants on one of its sockets. */
static int
on_curl_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
	struct egress *eg = userp;
	struct watch *w = socketp;
	uint32_t events = 0;

	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		if (w != NULL) {
			loop_unwatch(eg, w);
			free(w);
			curl_multi_assign(eg->multi, fd, NULL);
		}
		return 0;
	}
	if (w == NULL) {
		if ((w = calloc(1, sizeof(*w))) == NULL)
			return -1;
		*w = (struct watch){.kind = WATCH_CURL, .fd = fd};
		curl_multi_assign(eg->multi, fd, w);
	}
	if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
		events |= EPOLLIN;
	if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
		events |= EPOLLOUT;
	return loop_watch(eg, w, events);
}

/* libcurl's one timer, on a timerfd: -1 disarms, 0 fires at once. */
static int
on_curl_timer(CURLM *multi, long timeout_ms, void *userp)
{
	struct egress *eg = userp;
	struct itimerspec its = {0};

	(void)multi;
	if (timeout_ms == 0)
		its.it_value.tv_nsec = 1;
	else if (timeout_ms > 0) {
		its.it_value.tv_sec = timeout_ms / 1000;
		its.it_value.tv_nsec = (timeout_ms % 1000) * 1000000L;
	}
	return timerfd_settime(eg->timer.fd, 0, &its, NULL) < 0 ? -1 : 0;
}

static void
reap_finished(struct egress *eg)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(eg->multi, &left)) != NULL) {
		struct transfer *t = NULL;

		if (m->msg != CURLMSG_DONE)
			continue;
		if (imds_owns(eg, m->easy_handle)) {
			imds_finished(eg, m->data.result);
			continue;
		}
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&t);
		transfer_finished(t, m->data.result);
	}
}

static void
on_curl_event(struct egress *eg, int fd, uint32_t events)
{
	int mask = 0, running;

	if (events & EPOLLIN)
		mask |= CURL_CSELECT_IN;
	if (events & EPOLLOUT)
		mask |= CURL_CSELECT_OUT;
	if (events & (EPOLLERR | EPOLLHUP))
		mask |= CURL_CSELECT_ERR;
	curl_multi_socket_action(eg->multi, fd, mask, &running);
	reap_finished(eg);
}

static void
on_timer(struct egress *eg)
{
	uint64_t expirations;
	int running;

	if (read(eg->timer.fd, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN)
		log_errno("egress_timer_failed", "cannot read the timerfd");
	curl_multi_socket_action(eg->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	reap_finished(eg);
}

/*
 * A message on the control socket: one worker connection (SCM_RIGHTS) and
 * the worker's slot (4 bytes).  End of file: the supervisor is gone.
 */
static void
on_control(struct egress *eg)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} control;
	int32_t slot = -1;
	struct iovec iov = {.iov_base = &slot, .iov_len = sizeof(slot)};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
	    .msg_controllen = sizeof(control.buf)};
	struct cmsghdr *c;
	int fd = -1;
	ssize_t n = recvmsg(eg->control.fd, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		log_msg(LOG_INFO, "egress_control_closed", "the supervisor closed the control socket: stopping");
		eg->stopping = true;
		return;
	}
	for (c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
		    c->cmsg_len == CMSG_LEN(sizeof(int)))
			memcpy(&fd, CMSG_DATA(c), sizeof(int));
	if (fd < 0 || n != sizeof(slot) || (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
		log_msg(LOG_ERROR, "egress_control_bad", "a control message without one descriptor and "
		    "a 4-byte slot: ignored");
		if (fd >= 0)
			close(fd);
		return;
	}
	if (peer_adopt(eg, fd, slot) < 0)
		close(fd);
}

static void
dispatch(struct egress *eg, struct watch *w, uint32_t events)
{
	switch (w->kind) {
	case WATCH_SIGNAL:
		if (child_signals_stop(w->fd))
			eg->stopping = true;
		break;
	case WATCH_CONTROL:
		on_control(eg);
		break;
	case WATCH_TIMER:
		on_timer(eg);
		break;
	case WATCH_PEER:
		peer_on_event(w->owner, events);
		break;
	case WATCH_PARKED:
		imds_on_parked_timer(eg);
		break;
	case WATCH_CURL:
		break;	/* never registered by pointer: see CURL_FD_TAG */
	}
}

static void
run(struct egress *eg)
{
	struct epoll_event events[MAX_EVENTS];

	while (!eg->stopping) {
		int n = epoll_wait(eg->epfd, events, MAX_EVENTS, -1);

		if (n < 0 && errno != EINTR) {
			log_errno("egress_epoll_failed", "epoll_wait");
			return;
		}
		for (int i = 0; i < n; i++) {
			if (events[i].data.u64 & CURL_FD_TAG)
				on_curl_event(eg, (int)(uint32_t)events[i].data.u64, events[i].events);
			else
				dispatch(eg, events[i].data.ptr, events[i].events);
		}
		/* A peer closed during the batch is freed after it: an event may still name it. */
		peer_reap(eg);
	}
}

/* Stopping: every request still in flight fails, and the answers go out. */
static void
stop(struct egress *eg)
{
	uint64_t deadline = now_ms() + STOP_DRAIN_MS;

	for (struct peer *p = eg->peers; p != NULL; p = p->next)
		while (p->transfers != NULL)
			transfer_fail(p->transfers, EGRESS_WIRE_OUTCOME_EGRESS_RESTARTED,
			    "the egress process is stopping");
	while (eg->peers != NULL) {
		peer_drain(eg->peers, deadline);
		peer_close(eg->peers);
	}
	peer_reap(eg);
}

static int
load_aws(struct egress *eg, int fd)
{
	char err[256];

	if (fd < 0) {
		imds_setup(eg);
		return 0;
	}
	if (aws_env_load(fd, &eg->aws, err, sizeof(err)) < 0) {
		log_msg(LOG_ERROR, "egress_setup_failed", "cannot read the AWS variables: %s", err);
		return -1;
	}
	close(fd);
	imds_setup(eg);
	return 0;
}

/* A CA bundle past this is no bundle: the system's is about 200 KiB. */
#define CA_BUNDLE_MAX (16u << 20)

/* Reads exactly len bytes of fd into buf; -1 on an error or an early end. */
static int
read_exactly(int fd, char *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, buf + got, len - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0)
			errno = EIO;	/* the file shrank while it was read */
		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	return 0;
}

/*
 * --egress-ca-file is read whole now, before the sandbox, as the user mcpd
 * started as: the supervisor checked at start-up that this user can read it,
 * and --user (to which the sandbox drops) may not.  libcurl verifies against
 * these bytes (CURLOPT_CAINFO_BLOB), and never opens the file again.
 */
static int
load_ca_bundle(struct egress *eg)
{
	const char *path = eg->options->ca_file;
	struct stat st;
	char *pem = NULL;
	int fd, rc = -1;

	if (path == NULL)
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		log_errno("egress_setup_failed", "cannot open the CA bundle %s", path);
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 || (uint64_t)st.st_size > CA_BUNDLE_MAX)
		log_msg(LOG_ERROR, "egress_setup_failed", "the CA bundle %s is empty, larger than %u MiB or not "
		    "a regular file", path, CA_BUNDLE_MAX >> 20);
	else if ((pem = malloc((size_t)st.st_size)) == NULL || read_exactly(fd, pem, (size_t)st.st_size) < 0)
		log_errno("egress_setup_failed", "cannot read the CA bundle %s", path);
	else
		rc = 0;
	close(fd);
	if (rc < 0) {
		free(pem);
		return -1;
	}
	eg->ca_bundle = (struct curl_blob){.data = pem, .len = (size_t)st.st_size, .flags = CURL_BLOB_NOCOPY};
	return 0;
}

static int
open_loop(struct egress *eg, const struct child_args *args)
{
	eg->epfd = epoll_create1(EPOLL_CLOEXEC);
	eg->signal = (struct watch){.kind = WATCH_SIGNAL, .fd = child_signals_open()};
	eg->control = (struct watch){.kind = WATCH_CONTROL, .fd = args->egress_control_fd};
	eg->timer = (struct watch){.kind = WATCH_TIMER,
	    .fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK)};
	if (eg->epfd < 0 || eg->signal.fd < 0 || eg->timer.fd < 0) {
		log_errno("egress_setup_failed", "cannot open epoll, the signalfd or the timerfd");
		return -1;
	}
	if (loop_watch(eg, &eg->signal, EPOLLIN) < 0 || loop_watch(eg, &eg->control, EPOLLIN) < 0 ||
	    loop_watch(eg, &eg->timer, EPOLLIN) < 0)
		return -1;
	eg->multi = curl_multi_init();
	if (eg->multi == NULL) {
		log_msg(LOG_ERROR, "egress_setup_failed", "cannot start libcurl's multi handle");
		return -1;
	}
	curl_multi_setopt(eg->multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket);
	curl_multi_setopt(eg->multi, CURLMOPT_SOCKETDATA, eg);
	curl_multi_setopt(eg->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
	curl_multi_setopt(eg->multi, CURLMOPT_TIMERDATA, eg);
	curl_multi_setopt(eg->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
	return 0;
}

static void
close_loop(struct egress *eg)
{
	imds_close(eg);
	if (eg->multi != NULL)
		curl_multi_cleanup(eg->multi);
	if (eg->timer.fd >= 0)
		close(eg->timer.fd);
	if (eg->signal.fd >= 0)
		close(eg->signal.fd);
	if (eg->epfd >= 0)
		close(eg->epfd);
	close(eg->control.fd);
	aws_env_free(&eg->aws);
	free(eg->ca_bundle.data);
}

int
egress_serve(const struct child_args *args, const struct egress_options *options)
{
	static struct egress eg;
	int status = CHILD_EXIT_CONFIG;

	eg = (struct egress){.cfg = args->cfg, .options = options, .epfd = -1,
	    .signal = {.fd = -1}, .timer = {.fd = -1}, .control = {.fd = args->egress_control_fd}};
	if (sodium_init() < 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		log_msg(LOG_ERROR, "egress_setup_failed", "cannot initialise libsodium or libcurl");
		return CHILD_EXIT_CONFIG;
	}
	if (load_aws(&eg, args->aws_env_fd) == 0 && load_ca_bundle(&eg) == 0 && open_loop(&eg, args) == 0) {
		egress_prewarm();
		if (!options->sandbox || sandbox_enter(&egress_policy, eg.cfg, args->supervisor_pid) == 0) {
			if (args->ready_fd >= 0)
				child_ready("egress", args->ready_fd);
			run(&eg);
			stop(&eg);
			status = CHILD_EXIT_OK;
		}
	}
	close_loop(&eg);
	curl_global_cleanup();
	return status;
}

int
egress_main(const struct child_args *args)
{
	/* Always sandboxed, as every role: sandbox_enter itself honours --sandbox best-effort. */
	const struct egress_options options = {
		.tools = args->egress_tools,
		.ca_file = args->cfg->egress_ca_file[0] != '\0' ? args->cfg->egress_ca_file : NULL,
		.sandbox = true,
	};

	return egress_serve(args, &options);
}
