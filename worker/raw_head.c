/* Runs in: workers, after the sandbox. */
/*
 * raw_head: header values of a raw request head.  Runs in every worker, on
 * membudget's timer, on heads h2o has already parsed (so they are complete).
 */
#include "worker/raw_head.h"

#include <string.h>
#include <strings.h>

static bool
is_space(char c)
{
	return c == ' ' || c == '\t';
}

/* The value of header line `line` if it is named `name`. */
static bool
line_value(const char *line, size_t len, const char *name, const char **value, size_t *value_len)
{
	size_t namelen = strlen(name);
	const char *v, *end = line + len;

	if (len <= namelen || line[namelen] != ':' || strncasecmp(line, name, namelen) != 0)
		return false;
	for (v = line + namelen + 1; v < end && is_space(*v); v++)
		;
	while (end > v && is_space(end[-1]))
		end--;
	*value = v;
	*value_len = (size_t)(end - v);
	return true;
}

bool
raw_head_find(const char *head, size_t len, const char *lowercase_name, const char **value,
    size_t *value_len)
{
	const char *p = head, *end = head + len;
	bool request_line = true;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t linelen = (size_t)((nl ? nl : end) - p);

		if (linelen > 0 && p[linelen - 1] == '\r')
			linelen--;
		if (linelen == 0 && !request_line)
			return false;	/* the blank line ends the head */
		if (!request_line && line_value(p, linelen, lowercase_name, value, value_len))
			return true;
		request_line = false;
		p = nl ? nl + 1 : end;
	}
	return false;
}
