/* Runs in: tests only (tests/integration/70-egress.test.mjs), never in mcpd. */
#define _GNU_SOURCE
/*
 * egress-harness: runs the egress process alone and plays one worker.
 *
 *   egress-harness [--egress-allow LIST] [--ca-file PEM] [--sandbox]
 *                  [--tool NAME=PATTERN,...] [--operator-tool NAME] ...
 *
 * It forks egress_serve (with the AWS_* variables of its own environment
 * sealed as the supervisor seals them), hands it one end of a worker
 * socketpair over the control socket, and then speaks common/egress_wire.h
 * on the other.  stdin, one JSON object per line:
 *
 *   {"id", "tool", "method", "url", "headers": [[name, value], ...], "body",
 *    "deadline", "cap", "header_cap", "follow", "aws": {"service", "region"}}
 *   {"cancel": id}         sends CANCEL
 *   {"reconnect": true}    closes the connection, hands the egress a new one
 *   {"stop": true}         SIGTERM to the egress, connection left open
 *
 * stdout, one JSON object per answer: {"id", "type": "response", "status",
 * "headers", "body", "truncated", "remote"} or {"id", "type": "failure",
 * "outcome", "message", "status", "remote"}; {"type": "closed"} when the
 * egress closes the connection; {"type": "exit", "status"} last.  End of
 * stdin closes the connection, stops the egress and waits for it.  The
 * egress's own log lines go to stderr.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "common/aws_env.h"
#include "common/config.h"
#include "common/egress_wire.h"
#include "common/log.h"
#include "egress/egress.h"

#define MAX_TOOLS 16
#define MAX_PATTERNS 16
#define MAX_HEADERS 64

static const struct egress_wire_limits worker_limits = {
	.max_payload = 64u << 20, .max_headers = 1024, .max_header_bytes = 1u << 20,
};

struct harness {
	struct config cfg;
	struct egress_tool tools[MAX_TOOLS];
	const char *patterns[MAX_TOOLS][MAX_PATTERNS + 1];
	struct egress_tools table;
	struct egress_options options;
	int control;			/* our end of the control socket */
	int conn;			/* the worker connection; -1 when closed */
	struct egress_wire_decoder *dec;
	struct egress_wire_limits egress_limits;
	pid_t egress;
};

static void
die(const char *what)
{
	fprintf(stderr, "egress-harness: %s: %s\n", what, strerror(errno));
	exit(1);
}

static struct egress_tool *
tool_named(struct harness *h, const char *name)
{
	for (size_t i = 0; i < h->table.n; i++)
		if (strcmp(h->tools[i].name, name) == 0)
			return &h->tools[i];
	if (h->table.n == MAX_TOOLS) {
		fprintf(stderr, "egress-harness: too many tools\n");
		exit(2);
	}
	h->tools[h->table.n].name = name;
	h->tools[h->table.n].destinations = h->patterns[h->table.n];
	return &h->tools[h->table.n++];
}

/* --tool NAME=PATTERN,PATTERN */
static void
add_tool(struct harness *h, char *spec)
{
	char *eq = strchr(spec, '='), *save = NULL;
	size_t n = 0;
	struct egress_tool *t;
	const char **list;

	if (eq == NULL) {
		fprintf(stderr, "egress-harness: --tool NAME=PATTERN,...\n");
		exit(2);
	}
	*eq = '\0';
	t = tool_named(h, spec);
	list = (const char **)t->destinations;
	for (char *p = strtok_r(eq + 1, ",", &save); p != NULL && n < MAX_PATTERNS; p = strtok_r(NULL, ",", &save))
		list[n++] = p;
	list[n] = NULL;
}

static void
parse_args(struct harness *h, int argc, char **argv)
{
	char err[256];

	for (int i = 1; i < argc; i++) {
		const char *flag = argv[i], *value = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(flag, "--sandbox") == 0) {
			h->options.sandbox = true;
			continue;
		}
		if (value == NULL) {
			fprintf(stderr, "egress-harness: %s needs a value\n", flag);
			exit(2);
		}
		i++;
		if (strcmp(flag, "--egress-allow") == 0) {
			if (egress_allow_parse(value, &h->cfg.egress_allow, err, sizeof(err)) < 0) {
				fprintf(stderr, "egress-harness: --egress-allow %s\n", err);
				exit(2);
			}
		} else if (strcmp(flag, "--ca-file") == 0)
			h->options.ca_file = value;
		else if (strcmp(flag, "--tool") == 0)
			add_tool(h, argv[i]);
		else if (strcmp(flag, "--operator-tool") == 0)
			tool_named(h, value)->takes_operator = true;
		else {
			fprintf(stderr, "egress-harness: unknown flag %s\n", flag);
			exit(2);
		}
	}
}

static void
write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die("write to the egress");
		p += n;
		len -= (size_t)n;
	}
}

static void
send_message(struct harness *h, const struct egress_wire_message *msg)
{
	struct strbuf out;
	struct egress_wire_error err;

	strbuf_init(&out);
	if (egress_wire_encode(&out, msg, msg->type == EGRESS_WIRE_HELLO ? &worker_limits : &h->egress_limits,
	    &err) < 0) {
		printf("{\"id\":%u,\"type\":\"encode_error\",\"message\":\"%s\"}\n", msg->id, err.message);
		fflush(stdout);
	} else if (h->conn >= 0)
		write_all(h->conn, out.data, out.len);
	strbuf_free(&out);
}

static void on_egress_bytes(struct harness *h);

/* A new worker connection, handed to the egress with slot 0, and our HELLO on it. */
static void
connect_worker(struct harness *h)
{
	int pair[2];
	int32_t slot = 0;
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} control = {0};
	struct iovec iov = {.iov_base = &slot, .iov_len = sizeof(slot)};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
	    .msg_controllen = sizeof(control.buf)};
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	struct egress_wire_message hello = {.type = EGRESS_WIRE_HELLO};

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0)
		die("socketpair");
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &pair[1], sizeof(int));
	if (sendmsg(h->control, &msg, 0) != sizeof(slot))
		die("sendmsg on the control socket");
	close(pair[1]);
	h->conn = pair[0];
	egress_wire_decoder_free(h->dec);
	h->dec = egress_wire_decoder_new(&worker_limits, EGRESS_WIRE_ROLE_EGRESS);
	if (h->dec == NULL)
		die("decoder");
	h->egress_limits = (struct egress_wire_limits){0};
	hello.hello = (struct egress_wire_hello){.version = EGRESS_WIRE_VERSION, .role = EGRESS_WIRE_ROLE_WORKER,
	    .limits = worker_limits};
	send_message(h, &hello);
	/* Requests wait for the egress's HELLO: its limits are what they are encoded against. */
	while (h->conn >= 0 && h->egress_limits.max_payload == 0)
		on_egress_bytes(h);
}

static void
start_egress(struct harness *h)
{
	int pair[2], aws_fd;
	char err[256];
	struct child_args args;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0)
		die("socketpair");
	if ((aws_fd = aws_env_take(NULL, err, sizeof(err))) < 0) {
		fprintf(stderr, "egress-harness: %s\n", err);
		exit(1);
	}
	args = (struct child_args){.cfg = &h->cfg, .listen_fd = -1, .keyset_fd = -1, .refresh_fd = -1,
	    .ready_fd = -1, .counters_fd = -1, .metrics_fd = -1, .egress_control_fd = pair[1], .egress_link_fd = -1,
	    .aws_env_fd = aws_fd, .supervisor_pid = getpid()};
	h->egress = fork();
	if (h->egress < 0)
		die("fork");
	if (h->egress == 0) {
		close(pair[0]);
		dup2(STDERR_FILENO, STDOUT_FILENO);	/* log lines: stdout is the harness's */
		log_init("egress", LOG_INFO);
		_exit(egress_serve(&args, &h->options));
	}
	close(pair[1]);
	close(aws_fd);
	h->control = pair[0];
}

static void
print_headers(cJSON *o, const struct egress_wire_header *headers, size_t n)
{
	cJSON *list = cJSON_AddArrayToObject(o, "headers");

	for (size_t i = 0; i < n; i++) {
		cJSON *pair = cJSON_CreateArray();
		char *name = strndup(headers[i].name.base, headers[i].name.len);
		char *value = strndup(headers[i].value.base ? headers[i].value.base : "", headers[i].value.len);

		cJSON_AddItemToArray(pair, cJSON_CreateString(name));
		cJSON_AddItemToArray(pair, cJSON_CreateString(value));
		cJSON_AddItemToArray(list, pair);
		free(name);
		free(value);
	}
}

static void
add_span(cJSON *o, const char *key, struct egress_wire_span s)
{
	char *text = strndup(s.base ? s.base : "", s.len);

	cJSON_AddStringToObject(o, key, text);
	free(text);
}

static void
print_json(cJSON *o)
{
	char *text = cJSON_PrintUnformatted(o);

	printf("%s\n", text);
	fflush(stdout);
	free(text);
	cJSON_Delete(o);
}

static void
print_answer(struct harness *h, const struct egress_wire_message *m)
{
	cJSON *o = cJSON_CreateObject();

	if (m->type == EGRESS_WIRE_HELLO) {
		h->egress_limits = m->hello.limits;
		cJSON_Delete(o);
		return;
	}
	cJSON_AddNumberToObject(o, "id", m->id);
	if (m->type == EGRESS_WIRE_RESPONSE) {
		cJSON_AddStringToObject(o, "type", "response");
		cJSON_AddNumberToObject(o, "status", m->response.status);
		print_headers(o, m->response.headers, m->response.n_headers);
		add_span(o, "body", m->response.body);
		cJSON_AddNumberToObject(o, "body_len", (double)m->response.body.len);
		cJSON_AddBoolToObject(o, "truncated", m->response.truncated);
		add_span(o, "remote", m->response.remote_address);
	} else {
		cJSON_AddStringToObject(o, "type", "failure");
		cJSON_AddStringToObject(o, "outcome", egress_wire_outcome_name(m->failure.outcome));
		add_span(o, "message", m->failure.message);
		cJSON_AddNumberToObject(o, "status", m->failure.status);
		add_span(o, "remote", m->failure.remote_address);
	}
	print_json(o);
}

static void
close_worker(struct harness *h)
{
	if (h->conn >= 0)
		close(h->conn);
	h->conn = -1;
}

static void
on_egress_bytes(struct harness *h)
{
	char buf[65536];
	ssize_t n = read(h->conn, buf, sizeof(buf));
	size_t off = 0;

	if (n <= 0) {
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			return;
		close_worker(h);
		print_json(cJSON_Parse("{\"type\":\"closed\"}"));
		return;
	}
	while (off < (size_t)n) {
		struct egress_wire_message m;
		size_t used = 0;
		int rc = egress_wire_decode(h->dec, buf + off, (size_t)n - off, &used, &m);

		off += used;
		if (rc < 0) {
			fprintf(stderr, "egress-harness: the egress sent a bad frame: %s\n",
			    egress_wire_decoder_error(h->dec)->message);
			exit(1);
		}
		if (rc == 1)
			print_answer(h, &m);
	}
}

static const char *
str_of(const cJSON *o, const char *key, const char *fallback)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : fallback;
}

static uint32_t
num_of(const cJSON *o, const char *key, uint32_t fallback)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsNumber(v) ? (uint32_t)v->valuedouble : fallback;
}

static struct egress_wire_span
span(const char *s)
{
	return (struct egress_wire_span){s, s ? strlen(s) : 0};
}

static void
send_request(struct harness *h, const cJSON *o)
{
	struct egress_wire_header headers[MAX_HEADERS];
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(o, "headers"), *pair;
	const cJSON *aws = cJSON_GetObjectItemCaseSensitive(o, "aws");
	struct egress_wire_message m = {.type = EGRESS_WIRE_REQUEST, .id = num_of(o, "id", 1)};
	size_t n = 0;

	cJSON_ArrayForEach(pair, list) {
		if (n < MAX_HEADERS && cJSON_GetArraySize(pair) == 2)
			headers[n++] = (struct egress_wire_header){span(cJSON_GetArrayItem(pair, 0)->valuestring),
			    span(cJSON_GetArrayItem(pair, 1)->valuestring)};
	}
	m.request = (struct egress_wire_request){.tool_index = 0, .tool_name = span(str_of(o, "tool", "fetch")),
	    .method = span(str_of(o, "method", "GET")), .url = span(str_of(o, "url", "")), .headers = headers,
	    .n_headers = n, .body = span(str_of(o, "body", NULL)), .deadline_ms = num_of(o, "deadline", 5000),
	    .response_cap = num_of(o, "cap", 1u << 20), .header_cap = num_of(o, "header_cap", 65536),
	    .follow_redirects = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "follow")),
	    .aws_service = span(str_of(aws, "service", NULL)), .aws_region = span(str_of(aws, "region", NULL))};
	send_message(h, &m);
}

static void
on_line(struct harness *h, const char *line)
{
	cJSON *o = cJSON_Parse(line);
	const cJSON *cancel;

	if (!cJSON_IsObject(o)) {
		fprintf(stderr, "egress-harness: not a JSON object: %s\n", line);
		cJSON_Delete(o);
		return;
	}
	cancel = cJSON_GetObjectItemCaseSensitive(o, "cancel");
	if (cJSON_IsNumber(cancel)) {
		struct egress_wire_message m = {.type = EGRESS_WIRE_CANCEL, .id = (uint32_t)cancel->valuedouble};

		send_message(h, &m);
	} else if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "reconnect"))) {
		close_worker(h);
		connect_worker(h);
	} else if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "stop")))
		kill(h->egress, SIGTERM);
	else
		send_request(h, o);
	cJSON_Delete(o);
}

/* Reads what stdin has; false at its end. */
static bool
on_stdin(struct harness *h, struct strbuf *pending)
{
	char buf[65536];
	ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));
	char *nl;

	if (n < 0 && errno == EINTR)
		return true;
	if (n <= 0)
		return false;
	strbuf_append(pending, buf, (size_t)n);
	while ((nl = memchr(pending->data, '\n', pending->len)) != NULL) {
		size_t used = (size_t)(nl - pending->data) + 1;

		*nl = '\0';
		on_line(h, pending->data);
		memmove(pending->data, pending->data + used, pending->len - used);
		pending->len -= used;
	}
	return true;
}

/* The egress's end: wait for it (it stops on SIGTERM) and say how it ended. */
static int
finish(struct harness *h)
{
	int status = 0;
	cJSON *o = cJSON_CreateObject();

	kill(h->egress, SIGTERM);
	while (waitpid(h->egress, &status, 0) < 0 && errno == EINTR)
		;
	cJSON_AddStringToObject(o, "type", "exit");
	cJSON_AddNumberToObject(o, "status", WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	print_json(o);
	return 0;
}

int
main(int argc, char **argv)
{
	static struct harness h;
	struct strbuf pending;
	bool stdin_open = true;

	h.conn = -1;
	h.table.tools = h.tools;
	h.options.tools = &h.table;
	h.cfg.sandbox = SANDBOX_STRICT;
	signal(SIGPIPE, SIG_IGN);
	parse_args(&h, argc, argv);
	start_egress(&h);
	connect_worker(&h);
	strbuf_init(&pending);
	while (stdin_open || h.conn >= 0) {
		struct pollfd fds[2] = {{.fd = stdin_open ? STDIN_FILENO : -1, .events = POLLIN},
		    {.fd = h.conn, .events = POLLIN}};

		if (poll(fds, 2, -1) < 0 && errno != EINTR)
			die("poll");
		if (fds[1].revents)
			on_egress_bytes(&h);
		if (fds[0].revents && !on_stdin(&h, &pending)) {
			stdin_open = false;
			close_worker(&h);
		}
	}
	strbuf_free(&pending);
	egress_wire_decoder_free(h.dec);
	egress_allow_free(&h.cfg.egress_allow);
	return finish(&h);
}
