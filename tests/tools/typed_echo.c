/* Runs in: workers, after the sandbox (test builds only). */
/*
 * typed_echo (test builds only): a parameter of every type and rule, each
 * echoed back in an object result, so that tests can see what the server
 * validated and passed on.
 */
#include <stdio.h>
#include <string.h>

#include "worker/tool.h"

/* Appends `name` to the comma-separated list `out` when its argument was given (or defaulted). */
static void
note_present(char *out, size_t cap, const char *name, const struct mcpd_value *arg)
{
	size_t len = strlen(out);

	if (arg->present && len < cap)
		snprintf(out + len, cap - len, "%s%s", len ? "," : "", name);
}

static int
echo(struct mcpd_call *call)
{
	const struct mcpd_value *count = mcpd_arg(call, "count"), *ratio = mcpd_arg(call, "ratio"),
	    *flag = mcpd_arg(call, "flag"), *color = mcpd_arg(call, "color"), *note = mcpd_arg(call, "note"),
	    *values = mcpd_arg(call, "values"), *weights = mcpd_arg(call, "weights"),
	    *tag_list = mcpd_arg(call, "tags"), *switches = mcpd_arg(call, "switches");
	int64_t values_sum = 0;
	double weights_sum = 0;
	char present[128] = "", tags[64] = "";
	size_t tags_len = 0, trues = 0;

	for (size_t i = 0; i < values->count; i++)
		if (__builtin_add_overflow(values_sum, values->items[i].integer, &values_sum))
			return mcpd_error(call, "the values add up past 64 bits");
	for (size_t i = 0; i < weights->count; i++)
		weights_sum += weights->items[i].number;
	for (size_t i = 0; i < tag_list->count && tags_len < sizeof(tags); i++)
		tags_len += (size_t)snprintf(tags + tags_len, sizeof(tags) - tags_len, "%s%s",
		    i ? "+" : "", tag_list->items[i].string);
	for (size_t i = 0; i < switches->count; i++)
		trues += switches->items[i].boolean;
	note_present(present, sizeof(present), "count", count);
	note_present(present, sizeof(present), "ratio", ratio);
	note_present(present, sizeof(present), "flag", flag);
	note_present(present, sizeof(present), "color", color);
	note_present(present, sizeof(present), "note", note);
	note_present(present, sizeof(present), "values", values);
	note_present(present, sizeof(present), "weights", weights);
	note_present(present, sizeof(present), "tags", tag_list);
	note_present(present, sizeof(present), "switches", switches);
	mcpd_set_integer(call, "count", count->integer);
	mcpd_set_number(call, "ratio", ratio->present ? ratio->number : -1);
	mcpd_set_boolean(call, "flag", flag->boolean);
	mcpd_set_string(call, "color", color->string, color->length);
	mcpd_set_string(call, "note", note->present ? note->string : "", note->present ? note->length : 0);
	mcpd_set_integer(call, "values_sum", values_sum);
	mcpd_set_number(call, "weights_sum", weights_sum);
	mcpd_set_string(call, "tags", tags, strlen(tags));
	mcpd_set_integer(call, "switches_on", (int64_t)trues);
	mcpd_set_string(call, "present", present, strlen(present));
	return mcpd_return_object(call);
}

MCPD_TOOL(
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
);
