/*
 * Unit tests for supervisor/egress_links.c, on real sockets: a new egress
 * gets one connection per worker (with the worker's slot) and each worker
 * the other end (with the generation); a worker started later gets its own;
 * a control socket without room leaves workers owed a connection until it
 * has room again; a worker whose link is gone costs one log line, never
 * the others.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "supervisor/egress_links.h"

#define EGRESS_SLOT 70
#define MAX_WORKERS 64

static struct proctab pt;
static int control_child_end;		/* what the egress reads */
static int link_child_ends[MAX_WORKERS];	/* what each worker reads, by start_worker id */

static const struct child_args no_child_ends = {.egress_control_fd = -1, .egress_link_fd = -1};

/* One message of `sock`: its 4 bytes in *value and the descriptor it carried (-1: none, or nothing to read). */
static int
receive(int sock, uint32_t *value)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} control;
	struct iovec iov = {.iov_base = value, .iov_len = sizeof(*value)};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
	    .msg_controllen = sizeof(control.buf)};
	struct cmsghdr *c;
	int fd = -1;

	if (recvmsg(sock, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC) != sizeof(*value))
		return -1;
	c = CMSG_FIRSTHDR(&msg);
	if (c != NULL && c->cmsg_type == SCM_RIGHTS)
		memcpy(&fd, CMSG_DATA(c), sizeof(int));
	return fd;
}

/*
 * Starts a worker for `slot` whose link's child end is kept in
 * link_child_ends[id]: its row keeps the supervisor's end, as spawn_slot
 * does after the fork, and gets a connection if an egress runs.
 */
static void
start_worker(struct egress_links *links, int slot, int id)
{
	struct proc *p = &pt.procs[pt.nprocs++];
	int ends[2];

	assert_int_equal(egress_channel_open(ends), 0);
	*p = (struct proc){.pid = 1000 + id, .slot = slot, .ready_fd = -1, .egress_fd = -1};
	link_child_ends[id] = ends[1];
	egress_links_keep(p, &no_child_ends, ends[0]);
	egress_links_connect(links, &pt, p);
	assert_int_equal(p->egress_fd, ends[0]);
}

/* Starts the egress: its row keeps its control socket, which links every worker. */
static struct proc *
start_egress(struct egress_links *links)
{
	int ends[2];
	struct proc *egress;

	assert_int_equal(egress_channel_open(ends), 0);
	control_child_end = ends[1];
	egress = &pt.procs[pt.nprocs++];
	*egress = (struct proc){.pid = 2000, .slot = EGRESS_SLOT, .ready_fd = -1, .egress_fd = -1};
	egress_links_keep(egress, &no_child_ends, ends[0]);
	egress_links_connect(links, &pt, egress);
	return egress;
}

/*
 * The egress reads one connection for `worker_slot`, whose other end the
 * worker link_child_ends[id] reads with `generation`: bytes written at the
 * worker's end arrive at the egress's.
 */
static void
expect_connection(int worker_slot, int id, uint32_t generation)
{
	uint32_t slot = 0, gen = 0;
	int egress_end = receive(control_child_end, &slot);
	int worker_end = receive(link_child_ends[id], &gen);
	char byte = 0;

	assert_true(egress_end >= 0);
	assert_true(worker_end >= 0);
	assert_int_equal((int32_t)slot, worker_slot);
	assert_int_equal(gen, generation);
	assert_int_equal(write(worker_end, "w", 1), 1);
	assert_int_equal(read(egress_end, &byte, 1), 1);
	assert_int_equal(byte, 'w');
	close(egress_end);
	close(worker_end);
}

static int
teardown(void **state)
{
	(void)state;
	while (pt.nprocs > 0)
		proctab_remove(&pt, &pt.procs[0]);
	close(control_child_end);
	for (int i = 0; i < MAX_WORKERS; i++)
		if (link_child_ends[i] > 0)
			close(link_child_ends[i]);
	memset(link_child_ends, 0, sizeof(link_child_ends));
	return 0;
}

static void
a_new_egress_gets_every_worker_and_a_new_worker_gets_the_egress(void **state)
{
	struct egress_links links = {.slot = EGRESS_SLOT};
	uint32_t value;

	(void)state;
	start_worker(&links, 0, 0);
	start_worker(&links, 1, 1);
	assert_int_equal(receive(link_child_ends[0], &value), -1);	/* no egress yet, no connection */
	start_egress(&links);
	assert_int_equal(links.generation, 1);
	expect_connection(0, 0, 1);
	expect_connection(1, 1, 1);
	assert_int_equal(receive(control_child_end, &value), -1);	/* one each, no more */
	/* A reload's successor for slot 1, started while the egress runs, gets its own. */
	start_worker(&links, 1, 2);
	expect_connection(1, 2, 1);
	assert_int_equal(receive(link_child_ends[1], &value), -1);
	assert_null(egress_links_awaited(&links, &pt));
}

static void
a_full_control_socket_leaves_workers_owed_until_it_has_room(void **state)
{
	struct egress_links links = {.slot = EGRESS_SLOT};
	struct proc *egress;
	int tiny = 1, given = 0, rounds = 0;
	int ends[2];

	(void)state;
	for (int w = 0; w < MAX_WORKERS; w++)
		start_worker(&links, w, w);
	/* The smallest send buffer the kernel allows holds a few messages, not 64. */
	assert_int_equal(egress_channel_open(ends), 0);
	assert_int_equal(setsockopt(ends[0], SOL_SOCKET, SO_SNDBUF, &tiny, sizeof(tiny)), 0);
	control_child_end = ends[1];
	egress = &pt.procs[pt.nprocs++];
	*egress = (struct proc){.pid = 2000, .slot = EGRESS_SLOT, .ready_fd = -1, .egress_fd = -1};
	egress_links_keep(egress, &no_child_ends, ends[0]);
	egress_links_connect(&links, &pt, egress);
	assert_ptr_equal(egress_links_awaited(&links, &pt), egress);
	/* The egress reads what arrived; each time there is room, the owed ones follow. */
	while (given < MAX_WORKERS && rounds++ < 10 * MAX_WORKERS) {
		uint32_t slot;
		int fd = receive(control_child_end, &slot);

		if (fd >= 0) {
			uint32_t gen;
			int worker_end = receive(link_child_ends[slot], &gen);

			assert_true(worker_end >= 0);
			assert_int_equal(gen, 1);
			close(worker_end);
			close(fd);
			given++;
			continue;
		}
		egress = egress_links_awaited(&links, &pt);
		assert_non_null(egress);
		egress_links_give_owed(&links, &pt, egress);
	}
	assert_int_equal(given, MAX_WORKERS);
	assert_null(egress_links_awaited(&links, &pt));
}

static void
a_worker_whose_link_is_gone_costs_only_itself(void **state)
{
	struct egress_links links = {.slot = EGRESS_SLOT};
	uint32_t slot;
	char byte;
	int fd;

	(void)state;
	start_worker(&links, 0, 0);
	start_worker(&links, 1, 1);
	close(link_child_ends[0]);	/* the worker died; not yet reaped */
	link_child_ends[0] = 0;
	start_egress(&links);
	/* Its connection reached the egress and ends at once: the supervisor kept no end of it. */
	fd = receive(control_child_end, &slot);
	assert_true(fd >= 0);
	assert_int_equal(slot, 0);
	assert_int_equal(read(fd, &byte, 1), 0);
	close(fd);
	expect_connection(1, 1, 1);
	assert_null(egress_links_awaited(&links, &pt));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(a_new_egress_gets_every_worker_and_a_new_worker_gets_the_egress, teardown),
		cmocka_unit_test_teardown(a_full_control_socket_leaves_workers_owed_until_it_has_room, teardown),
		cmocka_unit_test_teardown(a_worker_whose_link_is_gone_costs_only_itself, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
