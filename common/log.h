/*
 * log: one JSON object per line on stdout, written with a single write(2).
 *
 * A single write keeps lines from different processes whole (they share the
 * same pipe) and leaves no stdio buffer to be duplicated by fork.  A worker
 * turns batching on: its lines then wait in a PIPE_BUF-sized buffer until the
 * end of the event-loop turn that made them (log_flush), which saves a
 * write(2) per request; a flush is still one atomic write of whole lines.  Lines are
 * built in a fixed buffer on the stack so logging never allocates, which keeps
 * it usable inside the worker sandbox and after malloc failures.
 *
 * Never pass a token or a secret to any of these functions.
 */
#ifndef MCPD_COMMON_LOG_H
#define MCPD_COMMON_LOG_H

#include <stdbool.h>
#include <stddef.h>

#include "common/strbuf.h"

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

#define LOGLINE_MAX 2048

/** Sets the role name ("supervisor", "worker", ...) and the minimum level. */
void log_init(const char *role, enum log_level min_level);
/** Changes the role after fork; the pid is read again on the next line. */
void log_set_role(const char *role);
/** Parses "debug", "info", "warn" or "error". Returns 0 or -1. */
int log_level_parse(const char *name, enum log_level *out);
const char *log_level_name(enum log_level level);
bool log_enabled(enum log_level level);

/* A line under construction: begin, add fields, emit. */
struct logline {
	struct strbuf sb;
	size_t complete_len;	/* length up to the last field that fitted whole */
	char storage[LOGLINE_MAX];
};

void logline_begin(struct logline *line, enum log_level level, const char *event);
void logline_str(struct logline *line, const char *key, const char *value);
void logline_strn(struct logline *line, const char *key, const char *value, size_t n);
void logline_int(struct logline *line, const char *key, long long value);
void logline_emit(struct logline *line);

/**
 * With batching on, emitted lines are held (at most PIPE_BUF bytes) until
 * log_flush(); the caller flushes once per event-loop turn and before exit.
 * Lines still held when the process crashes are lost.
 */
void log_set_batching(bool on);
/** Writes the held lines, if any. */
void log_flush(void);
/**
 * Writes a line that is not a log line (an EMF document) as it is: one
 * write(2), so at most PIPE_BUF bytes reach a shared pipe whole.
 */
void log_write_line(const char *line, size_t len);

/* Shorthands: an event name plus a printf-style "msg" field. */
void log_msg(enum log_level level, const char *event, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/** Like log_msg at LOG_ERROR, with strerror(errno) appended as "error". */
void log_errno(const char *event, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
