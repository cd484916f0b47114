/* Runs in: every process. */
#include "common/log.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *log_role = "mcpd";
static enum log_level log_min = LOG_INFO;
static pid_t log_pid;

/*
 * Lines held back by log_set_batching() until log_flush().  One flush is at
 * most PIPE_BUF bytes, so it still reaches a shared pipe as a single atomic
 * write and never interleaves with another process's lines.
 */
static struct {
	bool on;
	size_t len;
	char data[PIPE_BUF];
} batch;

/* Any line fits in an empty batch, so a held line is never split. */
_Static_assert(LOGLINE_MAX <= PIPE_BUF, "a log line must fit in one atomic pipe write");

/* The time text up to the seconds, remade only when the second changes. */
static struct {
	time_t second;
	char text[sizeof("YYYY-MM-DDTHH:MM:SS")];
} clock_cache = {.second = -1};

static const char *const level_names[] = {
	[LOG_DEBUG] = "debug",
	[LOG_INFO] = "info",
	[LOG_WARN] = "warn",
	[LOG_ERROR] = "error",
};

void
log_init(const char *role, enum log_level min_level)
{
	log_role = role;
	log_min = min_level;
	log_pid = getpid();
}

void
log_set_role(const char *role)
{
	log_role = role;
	log_pid = getpid();
}

int
log_level_parse(const char *name, enum log_level *out)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strcmp(name, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

const char *
log_level_name(enum log_level level)
{
	return level_names[level];
}

bool
log_enabled(enum log_level level)
{
	return level >= log_min;
}

/* Writes value as exactly `width` decimal digits, zero-padded, ending at out + width. */
static void
put_digits(char *out, long value, int width)
{
	for (int i = width - 1; i >= 0; i--, value /= 10)
		out[i] = (char)('0' + value % 10);
}

/*
 * RFC 3339 UTC time with microseconds; gmtime_r needs no zone files.  The
 * date and time of day are formatted once a second: a busy worker logs
 * thousands of lines within one.
 */
static void
put_time(struct strbuf *sb)
{
	char *t = clock_cache.text;
	char micros[sizeof(".000000Z")] = ".000000Z";
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	if (ts.tv_sec != clock_cache.second) {
		gmtime_r(&ts.tv_sec, &tm);
		memcpy(t, "0000-00-00T00:00:00", sizeof(clock_cache.text));
		put_digits(t, (tm.tm_year + 1900) % 10000, 4);
		put_digits(t + 5, tm.tm_mon + 1, 2);
		put_digits(t + 8, tm.tm_mday, 2);
		put_digits(t + 11, tm.tm_hour, 2);
		put_digits(t + 14, tm.tm_min, 2);
		put_digits(t + 17, tm.tm_sec, 2);
		clock_cache.second = ts.tv_sec;
	}
	put_digits(micros + 1, (ts.tv_nsec / 1000) % 1000000, 6);
	strbuf_append(sb, t, sizeof(clock_cache.text) - 1);
	strbuf_append(sb, micros, sizeof(micros) - 1);
}

/* Starts a field: `,"key":`. */
static void
put_key(struct strbuf *sb, const char *key)
{
	strbuf_putc(sb, ',');
	strbuf_json_string(sb, key, strlen(key));
	strbuf_putc(sb, ':');
}

#define TRUNCATED_TAIL ",\"truncated\":true}\n"

/* Remembers where the line can be cut without breaking its JSON. */
static void
mark_field_end(struct logline *line)
{
	if (!line->sb.truncated)
		line->complete_len = line->sb.len;
}

void
logline_begin(struct logline *line, enum log_level level, const char *event)
{
	if (log_pid == 0)
		log_pid = getpid();
	/* Keep room for the truncation marker that logline_emit may append. */
	strbuf_init_fixed(&line->sb, line->storage, sizeof(line->storage) - sizeof(TRUNCATED_TAIL));
	strbuf_puts(&line->sb, "{\"time\":\"");
	put_time(&line->sb);
	strbuf_puts(&line->sb, "\",\"level\":\"");
	strbuf_puts(&line->sb, level_names[level]);
	strbuf_puts(&line->sb, "\"");
	mark_field_end(line);
	logline_str(line, "role", log_role);
	logline_int(line, "pid", log_pid);
	logline_str(line, "event", event);
}

void
logline_strn(struct logline *line, const char *key, const char *value, size_t n)
{
	put_key(&line->sb, key);
	strbuf_json_string(&line->sb, value, n);
	mark_field_end(line);
}

void
logline_str(struct logline *line, const char *key, const char *value)
{
	logline_strn(line, key, value, strlen(value));
}

void
logline_int(struct logline *line, const char *key, long long value)
{
	put_key(&line->sb, key);
	strbuf_int(&line->sb, value);
	mark_field_end(line);
}

/* Writes all of data to stdout with as few write(2) calls as it takes. */
static void
write_out(const char *data, size_t len)
{
	size_t off = 0;
	ssize_t n;

	while (off < len) {
		n = write(STDOUT_FILENO, data + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;	/* Nowhere left to report a logging failure. */
		off += (size_t)n;
	}
}

void
log_write_line(const char *line, size_t len)
{
	/* Pending request lines first, so that the order on stdout is kept. */
	log_flush();
	write_out(line, len);
}

void
log_flush(void)
{
	if (batch.len == 0)
		return;
	write_out(batch.data, batch.len);
	batch.len = 0;
}

void
log_set_batching(bool on)
{
	log_flush();
	batch.on = on;
}

void
logline_emit(struct logline *line)
{
	struct strbuf *sb = &line->sb;

	/*
	 * A line that did not fit is cut back to its last whole field and
	 * marked, so that it still parses.  The storage kept room for the tail.
	 */
	if (!sb->truncated)
		strbuf_puts(sb, "}\n");
	if (sb->truncated) {
		memcpy(sb->data + line->complete_len, TRUNCATED_TAIL, sizeof(TRUNCATED_TAIL) - 1);
		sb->len = line->complete_len + sizeof(TRUNCATED_TAIL) - 1;
	}
	if (!batch.on) {
		write_out(sb->data, sb->len);
		return;
	}
	if (batch.len + sb->len > sizeof(batch.data))
		log_flush();
	memcpy(batch.data + batch.len, sb->data, sb->len);
	batch.len += sb->len;
}

static void __attribute__((format(printf, 4, 0)))
log_vmsg(enum log_level level, const char *event, int errnum,
    const char *fmt, va_list ap)
{
	struct logline line;
	char msg[1024];

	if (!log_enabled(level))
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	logline_begin(&line, level, event);
	logline_str(&line, "msg", msg);
	if (errnum != 0)
		logline_str(&line, "error", strerror(errnum));
	logline_emit(&line);
}

void
log_msg(enum log_level level, const char *event, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, event, 0, fmt, ap);
	va_end(ap);
}

void
log_errno(const char *event, const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_ERROR, event, saved, fmt, ap);
	va_end(ap);
}
