/*
 * typed_echo (test builds only): a parameter of every type and rule, each
 * echoed back in an object result, so that tests can see what the server
 * validated and passed on.
 */
#include <stdio.h>
#include <string.h>

#include "worker/tool.h"

/* The names of the optional parameters that were given (or defaulted). */
static void
list_present(struct mcpd_call *call, char *out, size_t cap)
{
	static const char *const names[] = {"count", "ratio", "flag", "color", "note", "values",
	    "weights", "tags", "switches"};
	size_t len = 0;

	out[0] = '\0';
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (call->args[i].present && len < cap)
			len += (size_t)snprintf(out + len, cap - len, "%s%s", len ? "," : "", names[i]);
}

static int
echo(struct mcpd_call *call)
{
	const struct mcpd_value *a = call->args;
	int64_t values_sum = 0;
	double weights_sum = 0;
	char present[128], tags[64] = "";
	size_t tags_len = 0, trues = 0;

	for (size_t i = 0; i < a[5].count; i++)
		if (__builtin_add_overflow(values_sum, a[5].items[i].integer, &values_sum))
			return mcpd_error(call, "the values add up past 64 bits");
	for (size_t i = 0; i < a[6].count; i++)
		weights_sum += a[6].items[i].number;
	for (size_t i = 0; i < a[7].count && tags_len < sizeof(tags); i++)
		tags_len += (size_t)snprintf(tags + tags_len, sizeof(tags) - tags_len, "%s%s",
		    i ? "+" : "", a[7].items[i].string);
	for (size_t i = 0; i < a[8].count; i++)
		trues += a[8].items[i].boolean;
	list_present(call, present, sizeof(present));
	mcpd_set_integer(call, "count", a[0].integer);
	mcpd_set_number(call, "ratio", a[1].present ? a[1].number : -1);
	mcpd_set_boolean(call, "flag", a[2].boolean);
	mcpd_set_string(call, "color", a[3].string, a[3].length);
	mcpd_set_string(call, "note", a[4].present ? a[4].string : "", a[4].present ? a[4].length : 0);
	mcpd_set_integer(call, "values_sum", values_sum);
	mcpd_set_number(call, "weights_sum", weights_sum);
	mcpd_set_string(call, "tags", tags, strlen(tags));
	mcpd_set_integer(call, "switches_on", (int64_t)trues);
	mcpd_set_string(call, "present", present, strlen(present));
	return mcpd_return_object(call);
}

const struct mcpd_tool tool_typed_echo = {
	.name = "typed_echo",
	.title = "Typed Echo",
	.description = "Echoes a parameter of every type and rule (test builds only)",
	MCPD_PARAMS(
	    MCPD_INTEGER("count", "An integer from 0 to 100", MCPD_MIN(0), MCPD_MAX(100), MCPD_DEFAULT_INTEGER(7)),
	    MCPD_NUMBER("ratio", "Any finite number", MCPD_OPTIONAL),
	    MCPD_BOOLEAN("flag", "A switch", MCPD_DEFAULT_BOOLEAN(false)),
	    MCPD_STRING("color", "One of three colours", MCPD_ENUM("red", "green", "blue"), MCPD_DEFAULT_STRING("red")),
	    MCPD_STRING("note", "Up to 10 characters", MCPD_MAX_LENGTH(10), MCPD_OPTIONAL),
	    MCPD_INTEGER("values", "Up to 5 integers, each at least -1000", MCPD_ARRAY(5), MCPD_MIN(-1000), MCPD_OPTIONAL),
	    MCPD_NUMBER("weights", "Numbers", MCPD_ARRAY(0), MCPD_OPTIONAL),
	    MCPD_STRING("tags", "Up to 3 tags of up to 5 characters", MCPD_ARRAY(3), MCPD_MAX_LENGTH(5), MCPD_OPTIONAL),
	    MCPD_BOOLEAN("switches", "Booleans", MCPD_ARRAY(0), MCPD_OPTIONAL)),
	MCPD_RETURNS_OBJECT(
	    MCPD_FIELD("count", MCPD_TYPE_INTEGER, "count as received"),
	    MCPD_FIELD("ratio", MCPD_TYPE_NUMBER, "ratio, or -1 when left out"),
	    MCPD_FIELD("flag", MCPD_TYPE_BOOLEAN, "flag as received"),
	    MCPD_FIELD("color", MCPD_TYPE_STRING, "color as received"),
	    MCPD_FIELD("note", MCPD_TYPE_STRING, "note, or empty when left out"),
	    MCPD_FIELD("values_sum", MCPD_TYPE_INTEGER, "the sum of values"),
	    MCPD_FIELD("weights_sum", MCPD_TYPE_NUMBER, "the sum of weights"),
	    MCPD_FIELD("tags", MCPD_TYPE_STRING, "the tags joined by +"),
	    MCPD_FIELD("switches_on", MCPD_TYPE_INTEGER, "how many switches are true"),
	    MCPD_FIELD("present", MCPD_TYPE_STRING, "the parameters given or defaulted, comma-separated")),
	.annotations = {.read_only = true, .idempotent = true},
	.run = echo,
};
