/* Runs in: workers, after the sandbox. */
/*
 * tool_result: what a tool returns (worker/tool.h's mcpd_return_*,
 * mcpd_set_*, mcpd_error), checked against the tool's result description
 * and written as text and structured content.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "worker/tool_internal.h"

int
tool_result_misuse(struct mcpd_call *call, const char *what)
{
	if (call->state->problem[0] == '\0')
		snprintf(call->state->problem, sizeof(call->state->problem), "%s", what);
	return -1;
}

/* Checks a single-value return against the tool's result type. */
static bool
may_return(struct mcpd_call *call, enum mcpd_type type)
{
	const struct mcpd_result *r = &call->state->tool->result;

	if (call->state->answered)
		return tool_result_misuse(call, "returned twice"), false;
	if (r->nfields > 0 || r->type != type)
		return tool_result_misuse(call, "returned a value of another type than its result"), false;
	call->state->answered = true;
	return true;
}

/* {"result": <json>} with the same value as text. */
static void
write_single(struct tool_outcome *out, const char *json, size_t jsonlen, const char *text, size_t textlen)
{
	strbuf_puts(&out->structured, "{\"result\":");
	strbuf_append(&out->structured, json, jsonlen);
	strbuf_putc(&out->structured, '}');
	strbuf_append(&out->text, text, textlen);
}

int
mcpd_return_integer(struct mcpd_call *call, int64_t value)
{
	struct tool_outcome *out = call->state->out;
	size_t mark = out->text.len;

	if (!may_return(call, MCPD_TYPE_INTEGER))
		return -1;
	strbuf_int(&out->text, value);
	strbuf_puts(&out->structured, "{\"result\":");
	strbuf_append(&out->structured, out->text.data + mark, out->text.len - mark);
	strbuf_putc(&out->structured, '}');
	return 0;
}

int
mcpd_return_number(struct mcpd_call *call, double value)
{
	struct strbuf json;
	int rc = 0;

	if (!isfinite(value))
		return tool_result_misuse(call, "returned a number that is not finite");
	if (!may_return(call, MCPD_TYPE_NUMBER))
		return -1;
	strbuf_init(&json);
	tools_write_number(&json, value);
	if (strbuf_ok(&json))
		write_single(call->state->out, json.data, json.len, json.data, json.len);
	else
		rc = tool_result_misuse(call, "ran out of memory");
	strbuf_free(&json);
	return rc;
}

int
mcpd_return_boolean(struct mcpd_call *call, bool value)
{
	const char *s = value ? "true" : "false";

	if (!may_return(call, MCPD_TYPE_BOOLEAN))
		return -1;
	write_single(call->state->out, s, strlen(s), s, strlen(s));
	return 0;
}

int
mcpd_return_string(struct mcpd_call *call, const char *s, size_t length)
{
	struct tool_outcome *out = call->state->out;

	if (!utf8_valid(s, length) || memchr(s, '\0', length) != NULL)
		return tool_result_misuse(call, "returned a string that is not UTF-8 without U+0000");
	if (!may_return(call, MCPD_TYPE_STRING))
		return -1;
	strbuf_puts(&out->structured, "{\"result\":");
	strbuf_json_string(&out->structured, s, length);
	strbuf_putc(&out->structured, '}');
	strbuf_append(&out->text, s, length);
	return 0;
}

int
mcpd_return_stringf(struct mcpd_call *call, const char *fmt, ...)
{
	struct strbuf s;
	va_list ap;
	int rc;

	strbuf_init(&s);
	va_start(ap, fmt);
	strbuf_vprintf(&s, fmt, ap);
	va_end(ap);
	rc = strbuf_ok(&s) ? mcpd_return_string(call, s.data ? s.data : "", s.len) :
	    tool_result_misuse(call, "ran out of memory");
	strbuf_free(&s);
	return rc;
}

int
mcpd_error(struct mcpd_call *call, const char *fmt, ...)
{
	struct tool_outcome *out = call->state->out;
	va_list ap;

	if (call->state->answered)
		return tool_result_misuse(call, "returned twice");
	call->state->answered = true;
	out->is_error = true;
	strbuf_printf(&out->text, "%s: ", call->state->tool->name);
	va_start(ap, fmt);
	strbuf_vprintf(&out->text, fmt, ap);
	va_end(ap);
	return 0;
}

/* The field of the tool's object result called `name`, checked for `type`. */
static struct field_value *
field(struct mcpd_call *call, const char *name, enum mcpd_type type)
{
	const struct mcpd_result *r = &call->state->tool->result;

	for (size_t i = 0; i < r->nfields; i++) {
		if (strcmp(r->fields[i].name, name) != 0)
			continue;
		if (r->fields[i].type != type)
			return tool_result_misuse(call, "set a result field to a value of another type"), NULL;
		call->state->fields[i].set = true;
		call->state->fields[i].type = type;
		return &call->state->fields[i];
	}
	tool_result_misuse(call, "set a result field its description does not list");
	return NULL;
}

void
mcpd_set_integer(struct mcpd_call *call, const char *name, int64_t value)
{
	struct field_value *f = field(call, name, MCPD_TYPE_INTEGER);

	if (f != NULL)
		f->value.integer = value;
}

void
mcpd_set_number(struct mcpd_call *call, const char *name, double value)
{
	struct field_value *f = field(call, name, MCPD_TYPE_NUMBER);

	if (f != NULL && !isfinite(value))
		tool_result_misuse(call, "set a number field that is not finite");
	else if (f != NULL)
		f->value.number = value;
}

void
mcpd_set_boolean(struct mcpd_call *call, const char *name, bool value)
{
	struct field_value *f = field(call, name, MCPD_TYPE_BOOLEAN);

	if (f != NULL)
		f->value.boolean = value;
}

void
mcpd_set_string(struct mcpd_call *call, const char *name, const char *s, size_t length)
{
	struct field_value *f = field(call, name, MCPD_TYPE_STRING);
	char *copy;

	if (f == NULL)
		return;
	if (!utf8_valid(s, length) || memchr(s, '\0', length) != NULL) {
		tool_result_misuse(call, "set a string field that is not UTF-8 without U+0000");
		return;
	}
	copy = mcpd_alloc(call, length + 1);
	if (copy == NULL) {
		tool_result_misuse(call, "ran out of memory");
		return;
	}
	memcpy(copy, s, length);
	copy[length] = '\0';
	f->value.string = copy;
	f->value.length = length;
}

void
mcpd_set_text(struct mcpd_call *call, const char *fmt, ...)
{
	va_list ap;

	call->state->has_text = true;
	call->state->text.len = 0;
	va_start(ap, fmt);
	strbuf_vprintf(&call->state->text, fmt, ap);
	va_end(ap);
}

static void
write_field(struct strbuf *sb, const struct field_value *f)
{
	switch (f->type) {
	case MCPD_TYPE_INTEGER:
		strbuf_int(sb, f->value.integer);
		break;
	case MCPD_TYPE_NUMBER:
		tools_write_number(sb, f->value.number);
		break;
	case MCPD_TYPE_BOOLEAN:
		strbuf_puts(sb, f->value.boolean ? "true" : "false");
		break;
	case MCPD_TYPE_STRING:
		strbuf_json_string(sb, f->value.string, f->value.length);
		break;
	}
}

int
mcpd_return_object(struct mcpd_call *call)
{
	struct mcpd_call_state *st = call->state;
	const struct mcpd_result *r = &st->tool->result;
	struct strbuf *sb = &st->out->structured;

	if (st->answered)
		return tool_result_misuse(call, "returned twice");
	if (r->nfields == 0)
		return tool_result_misuse(call, "returned an object, but its result is a single value");
	for (size_t i = 0; i < r->nfields; i++)
		if (!st->fields[i].set)
			return tool_result_misuse(call, "returned an object without setting every field");
	st->answered = true;
	strbuf_putc(sb, '{');
	for (size_t i = 0; i < r->nfields; i++) {
		strbuf_printf(sb, "%s\"%s\":", i ? "," : "", r->fields[i].name);
		write_field(sb, &st->fields[i]);
	}
	strbuf_putc(sb, '}');
	/* The text content is the tool's own, or the object itself as JSON. */
	if (st->has_text)
		strbuf_append(&st->out->text, st->text.data ? st->text.data : "", st->text.len);
	else
		strbuf_append(&st->out->text, sb->data, sb->len);
	return 0;
}
