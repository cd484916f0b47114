/* Runs in: workers, after the sandbox. */
/*
 * tool_call: one call of a tool.  Checks the arguments against the tool's
 * parameters, runs it, and turns what it returned (worker/tool.h's mcpd_*
 * calls) into text and structured content.  Runs in every worker, on the
 * request path, inside the sandbox.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "worker/tools.h"

/* A field of an object result, as the tool set it. */
struct field_value {
	bool set;
	enum mcpd_type type;
	struct mcpd_value value;
};

struct scratch_chunk {
	struct scratch_chunk *next;
	max_align_t data[];
};

struct mcpd_call_state {
	const struct mcpd_tool *tool;
	struct tool_outcome *out;
	bool answered;		/* a result or an error was recorded */
	char problem[128];	/* how the tool misused this API, if it did */
	struct field_value fields[TOOL_MAX_FIELDS];
	struct strbuf text;	/* mcpd_set_text */
	bool has_text;
	struct scratch_chunk *scratch;
};

static const char *const type_names[] = {
	[MCPD_TYPE_INTEGER] = "integer", [MCPD_TYPE_NUMBER] = "number",
	[MCPD_TYPE_BOOLEAN] = "boolean", [MCPD_TYPE_STRING] = "string",
};

void *
mcpd_alloc(struct mcpd_call *call, size_t size)
{
	struct scratch_chunk *c;

	if (size > SIZE_MAX - sizeof(*c))
		return NULL;
	c = malloc(sizeof(*c) + size);
	if (c == NULL)
		return NULL;
	c->next = call->state->scratch;
	call->state->scratch = c;
	return c->data;
}

/* ---- arguments ----------------------------------------------------- */

static const char *
json_type_name(const cJSON *v)
{
	if (cJSON_IsNumber(v))
		return "a number";
	if (cJSON_IsString(v))
		return "a string";
	if (cJSON_IsBool(v))
		return "a boolean";
	if (cJSON_IsNull(v))
		return "null";
	if (cJSON_IsArray(v))
		return "an array";
	return "an object";
}

/* Where an error points: 'a', or 'xs[3]' for an item of an array. */
struct place {
	const char *name;
	long index;		/* -1: the argument itself */
};

static int
refuse(char *err, size_t errlen, struct place at, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int
refuse(char *err, size_t errlen, struct place at, const char *fmt, ...)
{
	va_list ap;
	int n = at.index < 0 ? snprintf(err, errlen, "argument '%s' ", at.name) :
	    snprintf(err, errlen, "argument '%s[%ld]' ", at.name, at.index);

	if (n < 0 || (size_t)n >= errlen)
		return -1;
	va_start(ap, fmt);
	vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

static int
read_integer(const struct mcpd_param *p, const struct json_doc *doc, const cJSON *v,
    struct mcpd_value *out, struct place at, char *err, size_t errlen)
{
	if (!cJSON_IsNumber(v))
		return refuse(err, errlen, at, "must be an integer, not %s", json_type_name(v));
	switch (json_doc_int64(doc, v, &out->integer)) {
	case JSON_INT_OK:
		break;
	case JSON_INT_NOT_INTEGER:
		return refuse(err, errlen, at, "must be an integer, not a fraction");
	case JSON_INT_OUT_OF_RANGE:
		return refuse(err, errlen, at, "is outside the 64-bit integer range "
		    "-9223372036854775808..9223372036854775807");
	}
	if (p->has_minimum && out->integer < p->minimum)
		return refuse(err, errlen, at, "must be at least %lld", (long long)p->minimum);
	if (p->has_maximum && out->integer > p->maximum)
		return refuse(err, errlen, at, "must be at most %lld", (long long)p->maximum);
	out->number = (double)out->integer;
	return 0;
}

static int
check_enum(const struct mcpd_param *p, const struct mcpd_value *v, struct place at, char *err,
    size_t errlen)
{
	struct strbuf allowed;
	char storage[160];

	for (size_t i = 0; p->enum_values[i] != NULL; i++)
		if (strlen(p->enum_values[i]) == v->length && memcmp(p->enum_values[i], v->string, v->length) == 0)
			return 0;
	strbuf_init_fixed(&allowed, storage, sizeof(storage));
	for (size_t i = 0; p->enum_values[i] != NULL; i++) {
		strbuf_puts(&allowed, i > 0 ? ", " : "");
		strbuf_json_string(&allowed, p->enum_values[i], strlen(p->enum_values[i]));
	}
	return refuse(err, errlen, at, "must be one of %s", allowed.data);
}

static int
read_string(const struct mcpd_param *p, const struct json_doc *doc, const cJSON *v,
    struct mcpd_value *out, struct place at, char *err, size_t errlen)
{
	if (!cJSON_IsString(v))
		return refuse(err, errlen, at, "must be a string, not %s", json_type_name(v));
	/* C strings end at U+0000: no tool here could see such a string whole. */
	if (json_doc_string_has_nul(doc, v))
		return refuse(err, errlen, at, "contains a NUL character (\\u0000), which this server "
		    "does not accept");
	out->string = v->valuestring;
	out->length = strlen(v->valuestring);
	if (p->max_length > 0 && utf8_length(out->string, out->length) > p->max_length)
		return refuse(err, errlen, at, "must be at most %zu characters long", p->max_length);
	return p->enum_values != NULL ? check_enum(p, out, at, err, errlen) : 0;
}

/* One value of the parameter's type: the argument, or one item of an array. */
static int
read_value(const struct mcpd_param *p, const struct json_doc *doc, const cJSON *v,
    struct mcpd_value *out, struct place at, char *err, size_t errlen)
{
	*out = (struct mcpd_value){.present = true};
	switch (p->type) {
	case MCPD_TYPE_INTEGER:
		return read_integer(p, doc, v, out, at, err, errlen);
	case MCPD_TYPE_NUMBER:
		if (!cJSON_IsNumber(v))
			return refuse(err, errlen, at, "must be a number, not %s", json_type_name(v));
		/* cJSON reads 1e999 as infinity; JSON has no such number. */
		if (!isfinite(v->valuedouble))
			return refuse(err, errlen, at, "must be a finite number");
		out->number = v->valuedouble;
		return 0;
	case MCPD_TYPE_BOOLEAN:
		if (!cJSON_IsBool(v))
			return refuse(err, errlen, at, "must be a boolean, not %s", json_type_name(v));
		out->boolean = cJSON_IsTrue(v);
		return 0;
	case MCPD_TYPE_STRING:
		return read_string(p, doc, v, out, at, err, errlen);
	}
	return refuse(err, errlen, at, "has a type this server does not know");
}

static int
read_array(struct mcpd_call *call, const struct mcpd_param *p, const struct json_doc *doc,
    const cJSON *v, struct mcpd_value *out, char *err, size_t errlen)
{
	struct place at = {p->name, -1};
	struct mcpd_value *items;
	const cJSON *item;
	size_t n = 0;

	if (!cJSON_IsArray(v))
		return refuse(err, errlen, at, "must be an array of %s values, not %s", type_names[p->type],
		    json_type_name(v));
	cJSON_ArrayForEach(item, v)
		n++;
	if (p->max_items > 0 && n > p->max_items)
		return refuse(err, errlen, at, "must have at most %zu items, not %zu", p->max_items, n);
	items = mcpd_alloc(call, n * sizeof(*items) + 1);
	if (items == NULL)
		return refuse(err, errlen, at, "is too large for the memory left");
	*out = (struct mcpd_value){.present = true, .items = items, .count = n};
	at.index = 0;
	cJSON_ArrayForEach(item, v) {
		if (read_value(p, doc, item, &items[at.index], at, err, errlen) < 0)
			return -1;
		at.index++;
	}
	return 0;
}

/* A parameter left out: its default, absent, or an error when it is required. */
static int
read_absent(const struct mcpd_param *p, struct mcpd_value *out, char *err, size_t errlen)
{
	*out = (struct mcpd_value){.present = p->has_default};
	if (p->has_default) {
		out->integer = p->default_integer;
		out->number = p->type == MCPD_TYPE_INTEGER ? (double)p->default_integer : p->default_number;
		out->boolean = p->default_boolean;
		out->string = p->default_string;
		out->length = p->default_string != NULL ? strlen(p->default_string) : 0;
	} else if (!p->optional) {
		snprintf(err, errlen, "missing required argument '%s' (%s%s)", p->name,
		    p->array ? "array of " : "", type_names[p->type]);
		return -1;
	}
	return 0;
}

static const struct mcpd_param *
find_param(const struct mcpd_tool *t, const char *name)
{
	for (size_t i = 0; i < t->nparams; i++)
		if (strcmp(t->params[i].name, name) == 0)
			return &t->params[i];
	return NULL;
}

static int
read_arguments(struct mcpd_call *call, const struct json_doc *doc, const cJSON *arguments,
    struct mcpd_value *values, char *err, size_t errlen)
{
	const struct mcpd_tool *t = call->state->tool;
	const cJSON *v;

	cJSON_ArrayForEach(v, arguments) {
		if (find_param(t, v->string) == NULL) {
			snprintf(err, errlen, "unexpected argument '%.64s': %s takes only the "
			    "arguments its inputSchema lists", v->string, t->name);
			return -1;
		}
	}
	for (size_t i = 0; i < t->nparams; i++) {
		const struct mcpd_param *p = &t->params[i];
		int rc;

		v = cJSON_GetObjectItemCaseSensitive(arguments, p->name);
		if (v == NULL)
			rc = read_absent(p, &values[i], err, errlen);
		else if (p->array)
			rc = read_array(call, p, doc, v, &values[i], err, errlen);
		else
			rc = read_value(p, doc, v, &values[i], (struct place){p->name, -1}, err, errlen);
		if (rc < 0)
			return -1;
	}
	return 0;
}

/* ---- results ------------------------------------------------------- */

/* Records that the tool used this API in a way its description rules out. */
static int
misuse(struct mcpd_call *call, const char *what)
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
		return misuse(call, "returned twice"), false;
	if (r->nfields > 0 || r->type != type)
		return misuse(call, "returned a value of another type than its result"), false;
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
		return misuse(call, "returned a number that is not finite");
	if (!may_return(call, MCPD_TYPE_NUMBER))
		return -1;
	strbuf_init(&json);
	tools_write_number(&json, value);
	if (strbuf_ok(&json))
		write_single(call->state->out, json.data, json.len, json.data, json.len);
	else
		rc = misuse(call, "ran out of memory");
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
		return misuse(call, "returned a string that is not UTF-8 without U+0000");
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
	    misuse(call, "ran out of memory");
	strbuf_free(&s);
	return rc;
}

int
mcpd_error(struct mcpd_call *call, const char *fmt, ...)
{
	struct tool_outcome *out = call->state->out;
	va_list ap;

	if (call->state->answered)
		return misuse(call, "returned twice");
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
			return misuse(call, "set a result field to a value of another type"), NULL;
		call->state->fields[i].set = true;
		call->state->fields[i].type = type;
		return &call->state->fields[i];
	}
	misuse(call, "set a result field its description does not list");
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
		misuse(call, "set a number field that is not finite");
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
		misuse(call, "set a string field that is not UTF-8 without U+0000");
		return;
	}
	copy = mcpd_alloc(call, length + 1);
	if (copy == NULL) {
		misuse(call, "ran out of memory");
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
		return misuse(call, "returned twice");
	if (r->nfields == 0)
		return misuse(call, "returned an object, but its result is a single value");
	for (size_t i = 0; i < r->nfields; i++)
		if (!st->fields[i].set)
			return misuse(call, "returned an object without setting every field");
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

/* ---- the call ------------------------------------------------------ */

static void
fail_call(struct tool_outcome *out, const struct mcpd_tool *tool, const char *message)
{
	out->is_error = true;
	out->text.len = 0;
	out->structured.len = 0;
	strbuf_printf(&out->text, "%s: %s", tool->name, message);
}

/* Decides the outcome from what the tool recorded and returned. */
static void
settle(struct mcpd_call_state *st, int rc)
{
	char message[192];

	if (st->problem[0] != '\0') {
		snprintf(message, sizeof(message), "internal error: the tool %s", st->problem);
		fail_call(st->out, st->tool, message);
	} else if (!st->answered) {
		fail_call(st->out, st->tool, "internal error: the tool returned no result");
	} else if (rc != 0 && !st->out->is_error) {
		fail_call(st->out, st->tool, "internal error: the tool failed");
	}
}

int
tools_call(const struct mcpd_tool *tool, const struct json_doc *doc, const cJSON *arguments,
    const struct tools_context *ctx, struct tool_outcome *out)
{
	struct mcpd_value values[TOOL_MAX_PARAMS];
	struct mcpd_call_state st;
	struct mcpd_call call = {.args = values, .identity = ctx->identity,
	    .protocol_version = ctx->protocol_version, .state = &st};
	char err[TOOL_ERROR_MAX];

	/* Set member by member: zeroing every field slot would cost more than the call. */
	st.tool = tool;
	st.out = out;
	st.answered = false;
	st.problem[0] = '\0';
	st.has_text = false;
	st.scratch = NULL;
	memset(st.fields, 0, tool->result.nfields * sizeof(st.fields[0]));

	memset(out, 0, sizeof(*out));
	strbuf_init(&out->text);
	strbuf_init(&out->structured);
	strbuf_init(&st.text);
	if (read_arguments(&call, doc, arguments, values, err, sizeof(err)) < 0)
		fail_call(out, tool, err);
	else
		settle(&st, tool->run(&call));
	strbuf_free(&st.text);
	while (st.scratch != NULL) {
		struct scratch_chunk *next = st.scratch->next;

		free(st.scratch);
		st.scratch = next;
	}
	if (!strbuf_ok(&out->text) || !strbuf_ok(&out->structured)) {
		tools_outcome_free(out);
		return -1;
	}
	return 0;
}

void
tools_outcome_free(struct tool_outcome *out)
{
	strbuf_free(&out->text);
	strbuf_free(&out->structured);
}
