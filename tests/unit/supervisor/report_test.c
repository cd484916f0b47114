/*
 * Unit tests for supervisor/report.c: what the supervisor writes of the
 * counters on its own timers.  EMF intervals come when they are due and add
 * up to everything counted (the last one at report_finish, a failed one in
 * the next); the per-worker line comes once a minute, only when a worker
 * served or holds a connection.  The region is a plain array written by
 * hand and time is passed in: nothing forks and nothing sleeps.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cJSON.h>
#include <cmocka.h>

#include "common/log.h"
#include "supervisor/emf.h"
#include "supervisor/report.h"

#define WORKERS 2
#define T0 1000000	/* an arbitrary monotonic start, in ms */
#define MINUTE REPORT_WORKERS_INTERVAL_MS
#define MAX_LINES 32

static union counters_block blocks[COUNTERS_BLOCKS(WORKERS)];
static char long_name[3 * EMF_LINE_MAX];

/* What the supervisor wrote on stdout, one parsed JSON object a line. */
struct fixture {
	struct config cfg;
	struct counters_tools tools;
	int saved_stdout;
	int read_fd;
	char buf[65536];
	cJSON *lines[MAX_LINES];
	size_t nlines;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	int fds[2];

	if (f == NULL || pipe(fds) < 0)
		return -1;
	memset(blocks, 0, sizeof(blocks));
	f->cfg.workers = WORKERS;
	snprintf(f->cfg.metrics_namespace, sizeof(f->cfg.metrics_namespace), "mcpd/test");
	f->tools = (struct counters_tools){.names = {"add_numbers"}, .count = 1};
	/* cmocka's own output must not land in the pipe. */
	fflush(stdout);
	fcntl(fds[0], F_SETFL, O_NONBLOCK);
	f->saved_stdout = dup(STDOUT_FILENO);
	dup2(fds[1], STDOUT_FILENO);
	close(fds[1]);
	f->read_fd = fds[0];
	log_init("supervisor", LOG_INFO);
	*state = f;
	return 0;
}

static void
forget_lines(struct fixture *f)
{
	for (size_t i = 0; i < f->nlines; i++)
		cJSON_Delete(f->lines[i]);
	f->nlines = 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	dup2(f->saved_stdout, STDOUT_FILENO);
	close(f->saved_stdout);
	close(f->read_fd);
	forget_lines(f);
	free(f);
	return 0;
}

/* Reads the lines written since the last call, each one JSON object. */
static size_t
read_lines(struct fixture *f)
{
	ssize_t n = read(f->read_fd, f->buf, sizeof(f->buf) - 1);
	const char *p = f->buf, *end;

	forget_lines(f);
	if (n <= 0)
		return 0;
	end = f->buf + n;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));

		if (nl == NULL)
			fail_msg("output does not end with a newline: %s", p);
		assert_true(f->nlines < MAX_LINES);
		f->lines[f->nlines] = cJSON_ParseWithLength(p, (size_t)(nl - p));
		if (!cJSON_IsObject(f->lines[f->nlines]))
			fail_msg("not one JSON object: %.*s", (int)(nl - p), p);
		f->nlines++;
		p = nl + 1;
	}
	return f->nlines;
}

static const char *
str_of(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double
num_of(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (!cJSON_IsNumber(v))
		fail_msg("member \"%s\" is missing or not a number", key);
	return v->valuedouble;
}

/* The log line of `event`, or NULL. */
static const cJSON *
event_line(const struct fixture *f, const char *event)
{
	for (size_t i = 0; i < f->nlines; i++) {
		const char *e = str_of(f->lines[i], "event");

		if (e != NULL && strcmp(e, event) == 0 && cJSON_GetObjectItemCaseSensitive(f->lines[i], "_aws") == NULL)
			return f->lines[i];
	}
	return NULL;
}

/* The EMF document for the whole server (no dimension), or NULL. */
static const cJSON *
service_doc(const struct fixture *f)
{
	for (size_t i = 0; i < f->nlines; i++)
		if (cJSON_GetObjectItemCaseSensitive(f->lines[i], "_aws") != NULL &&
		    str_of(f->lines[i], "StatusClass") == NULL && str_of(f->lines[i], "Tool") == NULL)
			return f->lines[i];
	return NULL;
}

/* The CloudWatch namespace an EMF document files its metrics under. */
static const char *
namespace_of(const cJSON *doc)
{
	const cJSON *aws = cJSON_GetObjectItemCaseSensitive(doc, "_aws");
	const cJSON *directive = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(aws, "CloudWatchMetrics"), 0);

	return str_of(directive, "Namespace");
}

static struct worker_counters *
worker(int slot)
{
	return &blocks[COUNTERS_WORKER_BLOCK(slot, 0)].worker;
}

/* `n` requests answered 200 by worker `slot`. */
static void
serve(int slot, uint64_t n)
{
	counter_add(&worker(slot)->http_status[STATUS_200], n);
	counter_add(&worker(slot)->duration_bucket[counters_bucket_of(80)], n);
}

/* Without --metrics-emf: only the per-worker line, and only when there is something to say. */
static void
worker_line_once_a_minute_when_busy(void **state)
{
	struct fixture *f = *state;
	const cJSON *line;

	report_init(&f->cfg, blocks, &f->tools, T0);
	assert_int_equal(report_run(T0), T0 + MINUTE);
	assert_int_equal(read_lines(f), 0);
	/* A quiet minute says nothing. */
	assert_int_equal(report_run(T0 + MINUTE), T0 + 2 * MINUTE);
	assert_int_equal(read_lines(f), 0);
	serve(1, 4);
	counter_set(&worker(0)->gate.open_connections, 2);
	assert_int_equal(report_run(T0 + 2 * MINUTE - 1), T0 + 2 * MINUTE);
	assert_int_equal(read_lines(f), 0);
	assert_int_equal(report_run(T0 + 2 * MINUTE), T0 + 3 * MINUTE);
	assert_int_equal(read_lines(f), 1);
	line = event_line(f, "workers_load");
	assert_non_null(line);
	assert_string_equal(str_of(line, "open_connections"), "2/0");
	assert_string_equal(str_of(line, "requests"), "0/4");
	assert_true(num_of(line, "interval_s") == MINUTE / 1000);
	/* A held connection is worth a line even without requests; the requests are the minute's. */
	report_run(T0 + 3 * MINUTE);
	assert_int_equal(read_lines(f), 1);
	assert_string_equal(str_of(event_line(f, "workers_load"), "requests"), "0/0");
	counter_set(&worker(0)->gate.open_connections, 0);
	report_run(T0 + 4 * MINUTE);
	report_finish();
	assert_int_equal(read_lines(f), 0);
}

/* Above LOG_INFO the per-worker line is not even computed. */
static void
worker_line_follows_the_log_level(void **state)
{
	struct fixture *f = *state;

	log_init("supervisor", LOG_WARN);
	report_init(&f->cfg, blocks, &f->tools, T0);
	serve(0, 3);
	assert_int_equal(report_run(T0 + MINUTE), T0 + 2 * MINUTE);
	assert_int_equal(read_lines(f), 0);
}

/* EMF intervals when due; the one at exit holds the rest, so the intervals add up. */
static void
emf_intervals_add_up(void **state)
{
	struct fixture *f = *state;
	const cJSON *doc;

	f->cfg.metrics_emf = 5;
	report_init(&f->cfg, blocks, &f->tools, T0);
	assert_int_equal(report_run(T0), T0 + 5000);
	serve(0, 3);
	assert_int_equal(report_run(T0 + 4999), T0 + 5000);
	assert_int_equal(read_lines(f), 0);
	assert_int_equal(report_run(T0 + 5000), T0 + 10000);
	assert_true(read_lines(f) >= 2);	/* the server, and 2xx */
	doc = service_doc(f);
	assert_non_null(doc);
	assert_true(num_of(doc, "Requests") == 3);
	assert_string_equal(namespace_of(doc), "mcpd/test");
	serve(1, 2);
	report_finish();
	read_lines(f);
	assert_true(num_of(service_doc(f), "Requests") == 2);
}

/* A document that cannot be written whole is warned about; its counts go to the next interval. */
static void
emf_failure_counts_in_the_next_interval(void **state)
{
	struct fixture *f = *state;
	const cJSON *warning;

	memset(long_name, 't', sizeof(long_name) - 1);
	f->tools.names[0] = long_name;
	f->cfg.metrics_emf = 5;
	report_init(&f->cfg, blocks, &f->tools, T0);
	counter_add(&worker(0)->tool_calls[0], 2);
	report_run(T0 + 5000);
	read_lines(f);
	warning = event_line(f, "emf_failed");
	assert_non_null(warning);
	assert_string_equal(str_of(warning, "level"), "warn");
	f->tools.names[0] = "add_numbers";
	counter_add(&worker(0)->tool_calls[0], 1);
	report_run(T0 + 10000);
	read_lines(f);
	assert_null(event_line(f, "emf_failed"));
	assert_true(num_of(service_doc(f), "ToolCalls") == 3);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(worker_line_once_a_minute_when_busy, setup, teardown),
		cmocka_unit_test_setup_teardown(worker_line_follows_the_log_level, setup, teardown),
		cmocka_unit_test_setup_teardown(emf_intervals_add_up, setup, teardown),
		cmocka_unit_test_setup_teardown(emf_failure_counts_in_the_next_interval, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
