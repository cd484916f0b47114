/*
 * raw_head: header values read from a raw HTTP/1 request head, before h2o
 * has made a request of it (see membudget, which judges a body by its head
 * while the body is still arriving).
 */
#ifndef MCPD_WORKER_RAW_HEAD_H
#define MCPD_WORKER_RAW_HEAD_H

#include <stdbool.h>
#include <stddef.h>

/* Where the head ends is common/framing.h's framing_head_length. */
/**
 * The value of the first header named `lowercase_name` in `head` (up to its
 * blank line or `len`), trimmed of surrounding white space; false when absent.
 */
bool raw_head_find(const char *head, size_t len, const char *lowercase_name, const char **value,
    size_t *value_len);
#endif
