#include "common/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *log_role = "mcpd";
static enum log_level log_min = LOG_INFO;
static pid_t log_pid;

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

/* RFC 3339 UTC time with microseconds; gmtime_r needs no zone files. */
static void
format_time(char *out, size_t cap)
{
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, (long)(ts.tv_nsec / 1000) % 1000000);
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
	char now[64];

	if (log_pid == 0)
		log_pid = getpid();
	format_time(now, sizeof(now));
	/* Keep room for the truncation marker that logline_emit may append. */
	strbuf_init_fixed(&line->sb, line->storage, sizeof(line->storage) - sizeof(TRUNCATED_TAIL));
	strbuf_puts(&line->sb, "{\"time\":\"");
	strbuf_puts(&line->sb, now);
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
	strbuf_putc(&line->sb, ',');
	strbuf_json_string(&line->sb, key, strlen(key));
	strbuf_putc(&line->sb, ':');
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
	strbuf_putc(&line->sb, ',');
	strbuf_json_string(&line->sb, key, strlen(key));
	strbuf_putc(&line->sb, ':');
	strbuf_int(&line->sb, value);
	mark_field_end(line);
}

void
logline_emit(struct logline *line)
{
	struct strbuf *sb = &line->sb;
	size_t off = 0;
	ssize_t n;

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
	while (off < sb->len) {
		n = write(STDOUT_FILENO, sb->data + off, sb->len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;	/* Nowhere left to report a logging failure. */
		off += (size_t)n;
	}
}

static void
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

void
fatal(int code, const char *event, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_ERROR, event, 0, fmt, ap);
	va_end(ap);
	exit(code);
}
