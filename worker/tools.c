#include "worker/tools.h"

#include <stdio.h>
#include <string.h>

static int
add_numbers(const struct tool_value *args, struct tool_value *result,
    struct strbuf *scratch, char *err, size_t errlen)
{
	(void)scratch;
	result->type = TOOL_INTEGER;
	if (__builtin_add_overflow(args[0].integer, args[1].integer, &result->integer)) {
		snprintf(err, errlen, "the sum of %lld and %lld does not fit in a 64-bit integer",
		    (long long)args[0].integer, (long long)args[1].integer);
		return -1;
	}
	return 0;
}

static int
multiply_numbers(const struct tool_value *args, struct tool_value *result,
    struct strbuf *scratch, char *err, size_t errlen)
{
	(void)scratch;
	result->type = TOOL_INTEGER;
	if (__builtin_mul_overflow(args[0].integer, args[1].integer, &result->integer)) {
		snprintf(err, errlen, "the product of %lld and %lld does not fit in a 64-bit integer",
		    (long long)args[0].integer, (long long)args[1].integer);
		return -1;
	}
	return 0;
}

static int
greet_user(const struct tool_value *args, struct tool_value *result,
    struct strbuf *scratch, char *err, size_t errlen)
{
	strbuf_puts(scratch, "Hello, ");
	strbuf_append(scratch, args[0].string, args[0].len);
	strbuf_puts(scratch, "! Nice to meet you.");
	if (!strbuf_ok(scratch)) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	*result = (struct tool_value){.type = TOOL_STRING, .string = scratch->data, .len = scratch->len};
	return 0;
}

static const struct tool tools_table[] = {
	{
		.name = "add_numbers",
		.title = "Add Numbers",
		.description = "Add two numbers together",
		.params = {{"a", TOOL_INTEGER, "First number"}, {"b", TOOL_INTEGER, "Second number"}},
		.nparams = 2,
		.result_type = TOOL_INTEGER,
		.read_only = true,
		.idempotent = true,
		.run = add_numbers,
	},
	{
		.name = "multiply_numbers",
		.title = "Multiply Numbers",
		.description = "Multiply two numbers together",
		.params = {{"a", TOOL_INTEGER, "First number"}, {"b", TOOL_INTEGER, "Second number"}},
		.nparams = 2,
		.result_type = TOOL_INTEGER,
		.read_only = true,
		.idempotent = true,
		.run = multiply_numbers,
	},
	{
		.name = "greet_user",
		.title = "Greet User",
		.description = "Greet a user by name",
		.params = {{"name", TOOL_STRING, "Name of the person to greet"}},
		.nparams = 1,
		.result_type = TOOL_STRING,
		.read_only = true,
		.idempotent = true,
		.run = greet_user,
	},
};
#define N_TOOLS (sizeof(tools_table) / sizeof(tools_table[0]))

const struct tool *
tools_find(const char *name, size_t len)
{
	for (size_t i = 0; i < N_TOOLS; i++)
		if (strlen(tools_table[i].name) == len && memcmp(tools_table[i].name, name, len) == 0)
			return &tools_table[i];
	return NULL;
}

static const char *
type_name(enum tool_type type)
{
	return type == TOOL_INTEGER ? "integer" : "string";
}

static void
write_input_schema(struct strbuf *sb, const struct tool *t)
{
	strbuf_puts(sb, "{\"type\":\"object\",\"properties\":{");
	for (size_t i = 0; i < t->nparams; i++) {
		strbuf_printf(sb, "%s\"%s\":{\"type\":\"%s\",\"description\":", i ? "," : "",
		    t->params[i].name, type_name(t->params[i].type));
		strbuf_json_string(sb, t->params[i].description, strlen(t->params[i].description));
		strbuf_putc(sb, '}');
	}
	strbuf_puts(sb, "},\"required\":[");
	for (size_t i = 0; i < t->nparams; i++)
		strbuf_printf(sb, "%s\"%s\"", i ? "," : "", t->params[i].name);
	strbuf_puts(sb, "],\"additionalProperties\":false}");
}

static void
write_tool(struct strbuf *sb, const struct tool *t, unsigned features)
{
	strbuf_printf(sb, "{\"name\":\"%s\"", t->name);
	if (features & TOOLS_LIST_TITLE)
		strbuf_printf(sb, ",\"title\":\"%s\"", t->title);
	strbuf_puts(sb, ",\"description\":");
	strbuf_json_string(sb, t->description, strlen(t->description));
	strbuf_puts(sb, ",\"inputSchema\":");
	write_input_schema(sb, t);
	if (features & TOOLS_LIST_TITLE)
		strbuf_printf(sb, ",\"outputSchema\":{\"type\":\"object\",\"properties\":"
		    "{\"result\":{\"type\":\"%s\"}},\"required\":[\"result\"],"
		    "\"additionalProperties\":false}", type_name(t->result_type));
	strbuf_printf(sb, ",\"annotations\":{\"title\":\"%s\",\"readOnlyHint\":%s,"
	    "\"destructiveHint\":false,\"idempotentHint\":%s,\"openWorldHint\":false}}",
	    t->title, t->read_only ? "true" : "false", t->idempotent ? "true" : "false");
}

void
tools_write_list(struct strbuf *sb, unsigned features)
{
	strbuf_putc(sb, '[');
	for (size_t i = 0; i < N_TOOLS; i++) {
		if (i > 0)
			strbuf_putc(sb, ',');
		write_tool(sb, &tools_table[i], features);
	}
	strbuf_putc(sb, ']');
}

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

/* Converts one argument; returns 0 or -1 with the reason in err. */
static int
read_argument(const struct tool_param *p, const struct json_doc *doc, const cJSON *v,
    struct tool_value *out, char *err, size_t errlen)
{
	out->type = p->type;
	if (p->type == TOOL_STRING) {
		if (!cJSON_IsString(v)) {
			snprintf(err, errlen, "argument '%s' must be a string, not %s", p->name,
			    json_type_name(v));
			return -1;
		}
		if (json_doc_string_has_nul(doc, v)) {
			snprintf(err, errlen, "argument '%s' contains a NUL character (\\u0000), "
			    "which this server does not accept", p->name);
			return -1;
		}
		out->string = v->valuestring;
		out->len = strlen(v->valuestring);
		return 0;
	}
	if (!cJSON_IsNumber(v)) {
		snprintf(err, errlen, "argument '%s' must be an integer, not %s", p->name,
		    json_type_name(v));
		return -1;
	}
	switch (json_doc_int64(doc, v, &out->integer)) {
	case JSON_INT_OK:
		return 0;
	case JSON_INT_NOT_INTEGER:
		snprintf(err, errlen, "argument '%s' must be an integer, not a fraction", p->name);
		return -1;
	case JSON_INT_OUT_OF_RANGE:
		break;
	}
	snprintf(err, errlen, "argument '%s' is outside the 64-bit integer range "
	    "-9223372036854775808..9223372036854775807", p->name);
	return -1;
}

static const struct tool_param *
find_param(const struct tool *t, const char *name)
{
	for (size_t i = 0; i < t->nparams; i++)
		if (strcmp(t->params[i].name, name) == 0)
			return &t->params[i];
	return NULL;
}

static int
read_arguments(const struct tool *t, const struct json_doc *doc, const cJSON *arguments,
    struct tool_value *values, char *err, size_t errlen)
{
	const cJSON *v;

	cJSON_ArrayForEach(v, arguments) {
		if (find_param(t, v->string) == NULL) {
			snprintf(err, errlen, "unexpected argument '%.64s': %s takes only the "
			    "arguments its inputSchema lists", v->string, t->name);
			return -1;
		}
	}
	for (size_t i = 0; i < t->nparams; i++) {
		v = cJSON_GetObjectItemCaseSensitive(arguments, t->params[i].name);
		if (v == NULL) {
			snprintf(err, errlen, "missing required argument '%s' (%s)",
			    t->params[i].name, type_name(t->params[i].type));
			return -1;
		}
		if (read_argument(&t->params[i], doc, v, &values[i], err, errlen) < 0)
			return -1;
	}
	return 0;
}

static void
write_result(struct tool_outcome *out, const struct tool_value *result)
{
	strbuf_puts(&out->structured, "{\"result\":");
	if (result->type == TOOL_INTEGER) {
		strbuf_int(&out->text, result->integer);
		strbuf_int(&out->structured, result->integer);
	} else {
		strbuf_append(&out->text, result->string, result->len);
		strbuf_json_string(&out->structured, result->string, result->len);
	}
	strbuf_putc(&out->structured, '}');
}

int
tools_call(const struct tool *tool, const struct json_doc *doc, const cJSON *arguments,
    struct tool_outcome *out)
{
	struct tool_value values[TOOL_MAX_PARAMS], result;
	struct strbuf scratch;
	char err[TOOL_ERROR_MAX];

	memset(out, 0, sizeof(*out));
	strbuf_init(&out->text);
	strbuf_init(&out->structured);
	strbuf_init(&scratch);
	if (read_arguments(tool, doc, arguments, values, err, sizeof(err)) < 0 ||
	    tool->run(values, &result, &scratch, err, sizeof(err)) < 0) {
		out->is_error = true;
		strbuf_printf(&out->text, "%s: %s", tool->name, err);
	} else {
		write_result(out, &result);
	}
	strbuf_free(&scratch);
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
