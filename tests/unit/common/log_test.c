/*
 * Unit tests for common/log.c.  stdout is redirected into a pipe so that
 * each test reads back exactly the bytes the logger wrote and checks every
 * line is one JSON object.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <cJSON.h>

#include "common/log.h"

#define CAPTURE_MAX 65536

struct capture {
	int saved_stdout;
	int read_fd;
	char buf[CAPTURE_MAX];
	size_t len;
	cJSON *lines[64];
	size_t nlines;
};

static int
setup(void **state)
{
	struct capture *cap = calloc(1, sizeof(*cap));
	int fds[2];

	if (cap == NULL || pipe(fds) < 0)
		return -1;
	/* cmocka's own output must not land in the pipe (nor in a forked child). */
	fflush(stdout);
	fcntl(fds[0], F_SETFL, O_NONBLOCK);
	cap->saved_stdout = dup(STDOUT_FILENO);
	dup2(fds[1], STDOUT_FILENO);
	close(fds[1]);
	cap->read_fd = fds[0];
	log_init("test", LOG_DEBUG);
	*state = cap;
	return 0;
}

static int
teardown(void **state)
{
	struct capture *cap = *state;

	dup2(cap->saved_stdout, STDOUT_FILENO);
	close(cap->saved_stdout);
	close(cap->read_fd);
	for (size_t i = 0; i < cap->nlines; i++)
		cJSON_Delete(cap->lines[i]);
	free(cap);
	return 0;
}

/* Reads everything written so far (the pipe holds far more than we log). */
static void
drain(struct capture *cap)
{
	ssize_t n;

	while ((n = read(cap->read_fd, cap->buf + cap->len, sizeof(cap->buf) - 1 - cap->len)) > 0)
		cap->len += (size_t)n;
	assert_true(n == 0 || errno == EAGAIN);
	cap->buf[cap->len] = '\0';
}

/*
 * Splits the output into lines; each must end in '\n', hold no other raw
 * newline and parse as exactly one JSON object.
 */
static void
parse_lines(struct capture *cap)
{
	const char *p = cap->buf, *end = cap->buf + cap->len;

	drain(cap);
	end = cap->buf + cap->len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		cJSON *obj;

		if (nl == NULL)
			fail_msg("log output does not end with a newline: %s", p);
		obj = cJSON_ParseWithLength(p, (size_t)(nl - p));
		if (obj == NULL || !cJSON_IsObject(obj))
			fail_msg("log line is not one JSON object: %.*s", (int)(nl - p), p);
		assert_true(cap->nlines < sizeof(cap->lines) / sizeof(cap->lines[0]));
		cap->lines[cap->nlines++] = obj;
		p = nl + 1;
	}
}

static const char *
field_str(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (!cJSON_IsString(v))
		fail_msg("field \"%s\" is missing or not a string", key);
	return v->valuestring;
}

static double
field_num(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (!cJSON_IsNumber(v))
		fail_msg("field \"%s\" is missing or not a number", key);
	return v->valuedouble;
}

/* 2024-01-02T03:04:05.123456Z */
static void
assert_rfc3339_utc(const char *t)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:dd.ddddddZ";

	assert_int_equal(strlen(t), sizeof(shape) - 1);
	for (size_t i = 0; i < sizeof(shape) - 1; i++) {
		if (shape[i] == 'd')
			assert_true(t[i] >= '0' && t[i] <= '9');
		else
			assert_int_equal(t[i], shape[i]);
	}
}

static void
test_log_msg_writes_one_json_line(void **state)
{
	struct capture *cap = *state;
	const cJSON *line;

	log_msg(LOG_INFO, "started", "listening on %s:%d", "0.0.0.0", 8000);
	parse_lines(cap);
	assert_int_equal(cap->nlines, 1);
	line = cap->lines[0];
	assert_rfc3339_utc(field_str(line, "time"));
	assert_string_equal(field_str(line, "level"), "info");
	assert_string_equal(field_str(line, "role"), "test");
	assert_int_equal((long)field_num(line, "pid"), (long)getpid());
	assert_string_equal(field_str(line, "event"), "started");
	assert_string_equal(field_str(line, "msg"), "listening on 0.0.0.0:8000");
	assert_int_equal(cap->buf[cap->len - 1], '\n');
}

static void
test_each_call_is_its_own_line(void **state)
{
	struct capture *cap = *state;

	log_msg(LOG_DEBUG, "one", "first");
	log_msg(LOG_WARN, "two", "second");
	log_msg(LOG_ERROR, "three", "third");
	parse_lines(cap);
	assert_int_equal(cap->nlines, 3);
	assert_string_equal(field_str(cap->lines[0], "level"), "debug");
	assert_string_equal(field_str(cap->lines[1], "level"), "warn");
	assert_string_equal(field_str(cap->lines[2], "level"), "error");
	assert_string_equal(field_str(cap->lines[2], "event"), "three");
}

static void
test_level_below_minimum_is_dropped(void **state)
{
	struct capture *cap = *state;

	log_init("test", LOG_WARN);
	assert_false(log_enabled(LOG_DEBUG));
	assert_false(log_enabled(LOG_INFO));
	assert_true(log_enabled(LOG_WARN));
	assert_true(log_enabled(LOG_ERROR));
	log_msg(LOG_INFO, "quiet", "not written");
	log_msg(LOG_DEBUG, "quiet", "not written");
	log_msg(LOG_WARN, "loud", "written");
	parse_lines(cap);
	assert_int_equal(cap->nlines, 1);
	assert_string_equal(field_str(cap->lines[0], "event"), "loud");
}

static void
test_message_escaping(void **state)
{
	struct capture *cap = *state;

	log_msg(LOG_INFO, "esc", "q\"b\\n\nt\tc\x01 e\xf0\x9f\x8e\x89 u\xc3\xab");
	parse_lines(cap);
	assert_int_equal(cap->nlines, 1);
	assert_string_equal(field_str(cap->lines[0], "msg"),
	    "q\"b\\n\nt\tc\x01 e\xf0\x9f\x8e\x89 u\xc3\xab");
	assert_non_null(strstr(cap->buf, "\\u0001"));
}

static void
test_invalid_utf8_becomes_replacement_character(void **state)
{
	struct capture *cap = *state;

	log_msg(LOG_INFO, "bad\xff", "a\xff\xc0\xafz");
	parse_lines(cap);
	assert_int_equal(cap->nlines, 1);
	assert_string_equal(field_str(cap->lines[0], "event"), "bad\xef\xbf\xbd");
	assert_string_equal(field_str(cap->lines[0], "msg"),
	    "a\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbdz");
}

static void
test_logline_fields(void **state)
{
	struct capture *cap = *state;
	struct logline line;

	logline_begin(&line, LOG_WARN, "request");
	logline_str(&line, "path", "/mcp");
	logline_strn(&line, "bin", "a\0b\"c", 5);
	logline_strn(&line, "cut", "abcdef", 3);
	logline_int(&line, "status", 404);
	logline_int(&line, "neg", -9223372036854775807LL - 1);
	logline_str(&line, "odd \"key\"", "v");
	logline_emit(&line);
	parse_lines(cap);
	assert_int_equal(cap->nlines, 1);
	assert_string_equal(field_str(cap->lines[0], "path"), "/mcp");
	assert_non_null(strstr(cap->buf, "\"bin\":\"a\\u0000b\\\"c\""));
	assert_string_equal(field_str(cap->lines[0], "cut"), "abc");
	assert_int_equal((int)field_num(cap->lines[0], "status"), 404);
	assert_non_null(strstr(cap->buf, "\"neg\":-9223372036854775808"));
	assert_string_equal(field_str(cap->lines[0], "odd \"key\""), "v");
	assert_null(cJSON_GetObjectItemCaseSensitive(cap->lines[0], "truncated"));
}

static void
test_log_errno_appends_strerror(void **state)
{
	struct capture *cap = *state;

	errno = ENOENT;
	log_errno("open", "cannot open %s", "/nope");
	parse_lines(cap);
	assert_int_equal(cap->nlines, 1);
	assert_string_equal(field_str(cap->lines[0], "level"), "error");
	assert_string_equal(field_str(cap->lines[0], "msg"), "cannot open /nope");
	assert_string_equal(field_str(cap->lines[0], "error"), strerror(ENOENT));
}

static void
test_set_role_changes_later_lines(void **state)
{
	struct capture *cap = *state;

	log_msg(LOG_INFO, "a", "x");
	log_set_role("worker");
	log_msg(LOG_INFO, "b", "y");
	parse_lines(cap);
	assert_int_equal(cap->nlines, 2);
	assert_string_equal(field_str(cap->lines[0], "role"), "test");
	assert_string_equal(field_str(cap->lines[1], "role"), "worker");
}

static void
test_level_names_round_trip(void **state)
{
	static const char *names[] = {"debug", "info", "warn", "error"};
	enum log_level level;

	(void)state;
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(log_level_parse(names[i], &level), 0);
		assert_int_equal(level, (enum log_level)i);
		assert_string_equal(log_level_name(level), names[i]);
	}
	assert_int_equal(log_level_parse("warning", &level), -1);
	assert_int_equal(log_level_parse("", &level), -1);
	assert_int_equal(log_level_parse("INFO", &level), -1);
}

/* A line that overflows LOGLINE_MAX keeps its head, parses, and says so. */
static void
assert_truncated_line(struct capture *cap)
{
	const cJSON *flag;

	parse_lines(cap);
	assert_int_equal(cap->nlines, 1);
	assert_true(cap->len <= LOGLINE_MAX);
	assert_int_equal(cap->buf[cap->len - 1], '\n');
	flag = cJSON_GetObjectItemCaseSensitive(cap->lines[0], "truncated");
	assert_true(cJSON_IsTrue(flag));
	assert_string_equal(field_str(cap->lines[0], "event"), "long");
	assert_string_equal(field_str(cap->lines[0], "level"), "info");
}

static void
test_long_value_is_truncated_with_marker(void **state)
{
	struct capture *cap = *state;
	char value[5000];
	struct logline line;

	memset(value, 'a', sizeof(value) - 1);
	value[sizeof(value) - 1] = '\0';
	logline_begin(&line, LOG_INFO, "long");
	logline_str(&line, "first", "kept");
	logline_str(&line, "value", value);
	logline_str(&line, "after", "lost");
	logline_emit(&line);
	assert_truncated_line(cap);
	assert_string_equal(field_str(cap->lines[0], "first"), "kept");
	assert_null(cJSON_GetObjectItemCaseSensitive(cap->lines[0], "after"));
}

static void
test_long_escaped_message_is_truncated_with_marker(void **state)
{
	struct capture *cap = *state;
	char msg[1000];

	/* 999 control bytes escape to ~6 KB of \u0001. */
	memset(msg, '\x01', sizeof(msg) - 1);
	msg[sizeof(msg) - 1] = '\0';
	log_msg(LOG_INFO, "long", "%s", msg);
	assert_truncated_line(cap);
}

/*
 * Client-chosen values (the request path is logged whole) may hold commas.
 */
static void
test_long_value_with_commas_is_truncated_with_marker(void **state)
{
	struct capture *cap = *state;
	char value[5000];
	struct logline line;

	for (size_t i = 0; i < sizeof(value) - 1; i++)
		value[i] = i % 2 ? ',' : 'a';
	value[sizeof(value) - 1] = '\0';
	logline_begin(&line, LOG_INFO, "long");
	logline_str(&line, "path", value);
	logline_emit(&line);
	assert_truncated_line(cap);
}

static void
test_forked_child_logs_with_its_role_and_pid(void **state)
{
	struct capture *cap = *state;
	int status;
	pid_t pid;

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* After fork the role is set again, which also re-reads the pid. */
		log_set_role("child");
		log_msg(LOG_ERROR, "boom", "cannot continue: %d", 42);
		log_flush();
		_exit(3);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 3);
	parse_lines(cap);
	assert_int_equal(cap->nlines, 1);
	assert_string_equal(field_str(cap->lines[0], "level"), "error");
	assert_string_equal(field_str(cap->lines[0], "event"), "boom");
	assert_string_equal(field_str(cap->lines[0], "msg"), "cannot continue: 42");
	assert_string_equal(field_str(cap->lines[0], "role"), "child");
	assert_int_equal((long)field_num(cap->lines[0], "pid"), (long)pid);
}

/* Nothing reaches the pipe until the flush, then every line at once, in order. */
static void
test_batching_holds_lines_until_flush(void **state)
{
	struct capture *cap = *state;

	log_set_batching(true);
	log_msg(LOG_INFO, "first", "one");
	log_msg(LOG_WARN, "second", "two");
	drain(cap);
	assert_int_equal(cap->len, 0);
	log_flush();
	log_set_batching(false);
	parse_lines(cap);
	assert_int_equal(cap->nlines, 2);
	assert_string_equal(field_str(cap->lines[0], "event"), "first");
	assert_string_equal(field_str(cap->lines[1], "event"), "second");
}

/*
 * Many lines overflow the batch: each write(2) must carry whole lines and
 * stay within PIPE_BUF, so a shared pipe never interleaves them.  A
 * SOCK_SEQPACKET pair keeps the boundary of every write for the check.
 */
static void
test_batching_writes_whole_lines_within_pipe_buf(void **state)
{
	struct capture *cap = *state;
	char chunk[2 * PIPE_BUF];
	int pair[2], saved = dup(STDOUT_FILENO);
	size_t writes = 0;
	ssize_t n;

	assert_true(saved >= 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0, pair), 0);
	assert_true(dup2(pair[1], STDOUT_FILENO) >= 0);
	log_set_batching(true);
	for (int i = 0; i < 40; i++)
		log_msg(LOG_INFO, "line", "number %d with some padding to make it longer %0100d", i, i);
	log_set_batching(false);
	assert_true(dup2(saved, STDOUT_FILENO) >= 0);
	close(saved);
	close(pair[1]);
	while ((n = recv(pair[0], chunk, sizeof(chunk), 0)) > 0) {
		assert_true((size_t)n <= PIPE_BUF);
		assert_int_equal(chunk[n - 1], '\n');
		assert_true(cap->len + (size_t)n < sizeof(cap->buf));
		memcpy(cap->buf + cap->len, chunk, (size_t)n);
		cap->len += (size_t)n;
		writes++;
	}
	close(pair[0]);
	parse_lines(cap);
	assert_int_equal(cap->nlines, 40);
	assert_true(writes > 1 && writes < 40);	/* batched, yet split at PIPE_BUF */
	for (size_t i = 0; i < 40; i++)
		assert_int_equal((long)strtol(field_str(cap->lines[i], "msg") + 7, NULL, 10), (long)i);
}

/* The cached date part must follow the clock across seconds. */
static void
test_time_follows_the_clock(void **state)
{
	struct capture *cap = *state;
	struct timespec before, after;

	clock_gettime(CLOCK_REALTIME, &before);
	log_msg(LOG_INFO, "a", "x");
	do
		clock_gettime(CLOCK_REALTIME, &after);
	while (after.tv_sec == before.tv_sec);
	log_msg(LOG_INFO, "b", "y");
	parse_lines(cap);
	assert_int_equal(cap->nlines, 2);
	assert_rfc3339_utc(field_str(cap->lines[0], "time"));
	assert_rfc3339_utc(field_str(cap->lines[1], "time"));
	assert_true(strcmp(field_str(cap->lines[0], "time"), field_str(cap->lines[1], "time")) < 0);
	assert_true(strncmp(field_str(cap->lines[0], "time"), field_str(cap->lines[1], "time"), 19) != 0);
}

#define LOG_TEST(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		LOG_TEST(test_log_msg_writes_one_json_line),
		LOG_TEST(test_each_call_is_its_own_line),
		LOG_TEST(test_level_below_minimum_is_dropped),
		LOG_TEST(test_message_escaping),
		LOG_TEST(test_invalid_utf8_becomes_replacement_character),
		LOG_TEST(test_logline_fields),
		LOG_TEST(test_log_errno_appends_strerror),
		LOG_TEST(test_set_role_changes_later_lines),
		LOG_TEST(test_level_names_round_trip),
		LOG_TEST(test_long_value_is_truncated_with_marker),
		LOG_TEST(test_long_escaped_message_is_truncated_with_marker),
		LOG_TEST(test_long_value_with_commas_is_truncated_with_marker),
		LOG_TEST(test_forked_child_logs_with_its_role_and_pid),
		LOG_TEST(test_batching_holds_lines_until_flush),
		LOG_TEST(test_batching_writes_whole_lines_within_pipe_buf),
		LOG_TEST(test_time_follows_the_clock),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
