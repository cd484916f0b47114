/*
 * Unit tests for common/child.c: the readiness byte reaches the supervisor
 * even when a signal interrupts its write, a failed write is logged under
 * the role's name, and a child's signals are what every role relies on
 * (SIGTERM and SIGINT on the signalfd, SIGHUP and SIGPIPE ignored).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/child.h"
#include "common/log.h"

/* The ticks after which the interrupting timer empties the pipe. */
#define TICKS_BEFORE_ROOM 3

static int interrupted_read_fd = -1;
static volatile sig_atomic_t ticks;

static void
set_nonblocking(int fd, bool on)
{
	int flags = fcntl(fd, F_GETFL);

	assert_true(flags >= 0);
	assert_int_equal(fcntl(fd, F_SETFL, on ? flags | O_NONBLOCK : flags & ~O_NONBLOCK), 0);
}

/* The byte, then end of file: the write end was closed. */
static void
assert_ready_byte_then_eof(int read_fd)
{
	char byte = 0;

	assert_int_equal(read(read_fd, &byte, 1), 1);
	assert_int_equal(byte, 'R');
	assert_int_equal(read(read_fd, &byte, 1), 0);
}

static void
ready_writes_one_byte_and_closes(void **state)
{
	int fds[2];

	(void)state;
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(child_ready("worker", fds[1]), 0);
	assert_int_equal(fcntl(fds[1], F_GETFD), -1);
	assert_int_equal(errno, EBADF);
	assert_ready_byte_then_eof(fds[0]);
	close(fds[0]);
}

/* Interrupts the blocked write a few times, then makes room for it. */
static void
on_tick(int signo)
{
	char buf[4096];
	int saved = errno;

	(void)signo;
	if (++ticks == TICKS_BEFORE_ROOM)
		while (read(interrupted_read_fd, buf, sizeof(buf)) > 0)
			;
	errno = saved;
}

/*
 * The pipe is full, so the write blocks; a timer whose handler does not ask
 * for restarts interrupts it (EINTR) until the handler empties the pipe.
 */
static void
ready_survives_interrupted_writes(void **state)
{
	struct sigaction tick = {.sa_handler = on_tick}, saved;
	struct itimerval every_2ms = {{0, 2000}, {0, 2000}}, off = {{0, 0}, {0, 0}};
	char fill[4096];
	int fds[2];

	(void)state;
	assert_int_equal(pipe(fds), 0);
	memset(fill, 'x', sizeof(fill));
	set_nonblocking(fds[1], true);
	while (write(fds[1], fill, sizeof(fill)) > 0)
		;
	while (write(fds[1], fill, 1) > 0)
		;
	assert_int_equal(errno, EAGAIN);
	set_nonblocking(fds[1], false);
	set_nonblocking(fds[0], true);
	interrupted_read_fd = fds[0];
	ticks = 0;
	sigemptyset(&tick.sa_mask);
	assert_int_equal(sigaction(SIGALRM, &tick, &saved), 0);
	assert_int_equal(setitimer(ITIMER_REAL, &every_2ms, NULL), 0);
	assert_int_equal(child_ready("fetcher", fds[1]), 0);
	assert_int_equal(setitimer(ITIMER_REAL, &off, NULL), 0);
	assert_int_equal(sigaction(SIGALRM, &saved, NULL), 0);
	assert_true(ticks >= TICKS_BEFORE_ROOM);
	set_nonblocking(fds[0], false);
	assert_ready_byte_then_eof(fds[0]);
	close(fds[0]);
}

/* With nobody reading, the write fails: one error line names the role. */
static void
ready_failure_is_logged(void **state)
{
	char out[4096] = {0};
	int fds[2], logs[2], saved_stdout;
	ssize_t n;

	(void)state;
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(pipe(logs), 0);
	close(fds[0]);
	assert_true(signal(SIGPIPE, SIG_IGN) != SIG_ERR);
	/* cmocka's own output must not land in the pipe. */
	fflush(stdout);
	saved_stdout = dup(STDOUT_FILENO);
	assert_true(saved_stdout >= 0);
	assert_true(dup2(logs[1], STDOUT_FILENO) >= 0);
	log_init("metrics", LOG_DEBUG);
	assert_int_equal(child_ready("metrics", fds[1]), -1);
	assert_true(dup2(saved_stdout, STDOUT_FILENO) >= 0);
	close(saved_stdout);
	close(logs[1]);
	n = read(logs[0], out, sizeof(out) - 1);
	close(logs[0]);
	assert_true(n > 0);
	assert_non_null(strstr(out, "\"event\":\"metrics_ready_failed\""));
	assert_non_null(strstr(out, strerror(EPIPE)));
	assert_ptr_equal(strchr(out, '\n'), out + n - 1);	/* one line */
	assert_int_equal(fcntl(fds[1], F_GETFD), -1);
}

static bool
ignored(int signo)
{
	struct sigaction now;

	assert_int_equal(sigaction(signo, NULL, &now), 0);
	return now.sa_handler == SIG_IGN;
}

static void
signals_reach_the_signalfd(void **state)
{
	int fd;

	(void)state;
	fd = child_signals_open();
	assert_true(fd >= 0);
	assert_true(fcntl(fd, F_GETFL) & O_NONBLOCK);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	assert_true(ignored(SIGPIPE));
	assert_true(ignored(SIGHUP));
	assert_false(child_signals_stop(fd));
	/* Ignored, SIGHUP neither stops the child nor waits on the fd. */
	assert_int_equal(raise(SIGHUP), 0);
	assert_false(child_signals_stop(fd));
	/* Blocked, SIGTERM waits on the fd instead of ending this test. */
	assert_int_equal(raise(SIGTERM), 0);
	assert_true(child_signals_stop(fd));
	assert_false(child_signals_stop(fd));
	assert_int_equal(raise(SIGINT), 0);
	assert_true(child_signals_stop(fd));
	close(fd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ready_writes_one_byte_and_closes),
		cmocka_unit_test(ready_survives_interrupted_writes),
		cmocka_unit_test(ready_failure_is_logged),
		cmocka_unit_test(signals_reach_the_signalfd),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
