/* Runs in: workers, after the sandbox. */
/*
 * tool_args: a call's arguments, read from JSON and checked against the
 * tool's parameters before the tool runs (types, ranges, lengths, enums,
 * array sizes, defaults), and the mcpd_arg_* lookups a tool reads them
 * with.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "worker/tool_internal.h"

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
		return refuse(err, errlen, at, "must be an array of %s values, not %s", tools_type_name(p->type),
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
		    p->array ? "array of " : "", tools_type_name(p->type));
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

int
tool_args_read(struct mcpd_call *call, const struct json_doc *doc, const cJSON *arguments,
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

/* ---- lookups by name ------------------------------------------------ */

int
tools_check_arg_use(const struct mcpd_tool *tool, struct mcpd_arg_use *use, char *err, size_t errlen)
{
	const struct mcpd_param *p = find_param(tool, use->name);

	if (p == NULL)
		return snprintf(err, errlen, "%s:%d: tool %s reads an argument \"%s\", which it does not declare",
		    use->file, use->line, tool->name, use->name), -1;
	if (use->type != MCPD_ARG_ANY && (p->array || (int)p->type != use->type))
		return snprintf(err, errlen, "%s:%d: tool %s reads argument \"%s\" as a single %s, but declares "
		    "it %s%s (read it with mcpd_arg%s%s)", use->file, use->line, tool->name, use->name,
		    tools_type_name((enum mcpd_type)use->type), p->array ? "an array of " : "a single ",
		    tools_type_name(p->type), p->array ? "" : "_", p->array ? "" : tools_type_name(p->type)), -1;
	use->index = (size_t)(p - tool->params);
	use->checked_for = tool;
	return 0;
}

/*
 * The registered tools' uses were checked when the server started; a
 * use met here unchecked belongs to a tool outside the registry (a unit
 * test's own), and is checked now.  Failing that is a bug in the tool,
 * not the request, and nothing sensible can be returned for it.
 */
const struct mcpd_value *
mcpd_arg_value(struct mcpd_call *call, struct mcpd_arg_use *use)
{
	const struct mcpd_tool *tool = call->state->tool;
	char err[TOOL_ERROR_MAX];

	if (use->checked_for != tool && tools_check_arg_use(tool, use, err, sizeof(err)) < 0) {
		log_msg(LOG_ERROR, "tool_argument_unknown", "%s", err);
		log_flush();
		abort();
	}
	return &call->state->values[use->index];
}
