/* Runs in: workers, before the sandbox (tools/list is written once at start). */
/*
 * tool_schema: what tools/list says of each tool: its JSON Schemas for
 * input and output, its title and annotations, per protocol version.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "worker/tool_engine.h"

static const char *const type_names[] = {
	[MCPD_TYPE_INTEGER] = "integer", [MCPD_TYPE_NUMBER] = "number",
	[MCPD_TYPE_BOOLEAN] = "boolean", [MCPD_TYPE_STRING] = "string",
};

const char *
tools_type_name(enum mcpd_type type)
{
	return (size_t)type < sizeof(type_names) / sizeof(type_names[0]) ? type_names[type] : "unknown";
}

/* The shortest text that reads back as the same double (JSON has no inf or nan). */
void
tools_write_number(struct strbuf *sb, double v)
{
	char text[32];

	snprintf(text, sizeof(text), "%.15g", v);
	if (strtod(text, NULL) != v)
		snprintf(text, sizeof(text), "%.17g", v);
	strbuf_puts(sb, text);
}

static void
write_string_list(struct strbuf *sb, const char *const *items)
{
	strbuf_putc(sb, '[');
	for (size_t i = 0; items[i] != NULL; i++) {
		if (i > 0)
			strbuf_putc(sb, ',');
		strbuf_json_string(sb, items[i], strlen(items[i]));
	}
	strbuf_putc(sb, ']');
}

/* The rules one value of the parameter must meet, as JSON Schema keywords. */
static void
write_value_rules(struct strbuf *sb, const struct mcpd_param *p)
{
	if (p->has_minimum) {
		strbuf_puts(sb, ",\"minimum\":");
		strbuf_int(sb, p->minimum);
	}
	if (p->has_maximum) {
		strbuf_puts(sb, ",\"maximum\":");
		strbuf_int(sb, p->maximum);
	}
	if (p->max_length > 0)
		strbuf_printf(sb, ",\"maxLength\":%zu", p->max_length);
	if (p->enum_values != NULL) {
		strbuf_puts(sb, ",\"enum\":");
		write_string_list(sb, p->enum_values);
	}
}

static void
write_default(struct strbuf *sb, const struct mcpd_param *p)
{
	strbuf_puts(sb, ",\"default\":");
	switch (p->type) {
	case MCPD_TYPE_INTEGER:
		strbuf_int(sb, p->default_integer);
		break;
	case MCPD_TYPE_NUMBER:
		tools_write_number(sb, p->default_number);
		break;
	case MCPD_TYPE_BOOLEAN:
		strbuf_puts(sb, p->default_boolean ? "true" : "false");
		break;
	case MCPD_TYPE_STRING:
		strbuf_json_string(sb, p->default_string, strlen(p->default_string));
		break;
	}
}

static void
write_param_schema(struct strbuf *sb, const struct mcpd_param *p)
{
	strbuf_printf(sb, "{\"type\":\"%s\",\"description\":", p->array ? "array" : tools_type_name(p->type));
	strbuf_json_string(sb, p->description, strlen(p->description));
	if (p->array) {
		strbuf_printf(sb, ",\"items\":{\"type\":\"%s\"", tools_type_name(p->type));
		write_value_rules(sb, p);
		strbuf_putc(sb, '}');
		if (p->max_items > 0)
			strbuf_printf(sb, ",\"maxItems\":%zu", p->max_items);
	} else {
		write_value_rules(sb, p);
	}
	if (p->has_default)
		write_default(sb, p);
	strbuf_putc(sb, '}');
}

static void
write_input_schema(struct strbuf *sb, const struct mcpd_tool *t)
{
	bool first = true;

	strbuf_puts(sb, "{\"type\":\"object\",\"properties\":{");
	for (size_t i = 0; i < t->nparams; i++) {
		if (i > 0)
			strbuf_putc(sb, ',');
		strbuf_json_string(sb, t->params[i].name, strlen(t->params[i].name));
		strbuf_putc(sb, ':');
		write_param_schema(sb, &t->params[i]);
	}
	strbuf_puts(sb, "},\"required\":[");
	for (size_t i = 0; i < t->nparams; i++) {
		if (t->params[i].optional)
			continue;
		strbuf_printf(sb, "%s\"%s\"", first ? "" : ",", t->params[i].name);
		first = false;
	}
	strbuf_puts(sb, "],\"additionalProperties\":false}");
}

/* A single value is {"result": value}; an object result lists its fields. */
static void
write_output_schema(struct strbuf *sb, const struct mcpd_tool *t)
{
	const struct mcpd_result *r = &t->result;

	strbuf_puts(sb, "{\"type\":\"object\",\"properties\":{");
	if (r->nfields == 0)
		strbuf_printf(sb, "\"result\":{\"type\":\"%s\"}},\"required\":[\"result\"",
		    tools_type_name(r->type));
	for (size_t i = 0; i < r->nfields; i++) {
		strbuf_printf(sb, "%s\"%s\":{\"type\":\"%s\",\"description\":", i ? "," : "",
		    r->fields[i].name, tools_type_name(r->fields[i].type));
		strbuf_json_string(sb, r->fields[i].description, strlen(r->fields[i].description));
		strbuf_putc(sb, '}');
	}
	if (r->nfields > 0) {
		strbuf_puts(sb, "},\"required\":[");
		for (size_t i = 0; i < r->nfields; i++)
			strbuf_printf(sb, "%s\"%s\"", i ? "," : "", r->fields[i].name);
	}
	strbuf_puts(sb, "],\"additionalProperties\":false}");
}

static const char *
tool_title(const struct mcpd_tool *t)
{
	return t->title != NULL ? t->title : t->name;
}

static void
write_tool(struct strbuf *sb, const struct mcpd_tool *t, unsigned features)
{
	const struct mcpd_annotations *a = &t->annotations;

	strbuf_printf(sb, "{\"name\":\"%s\"", t->name);
	if (features & TOOLS_LIST_TITLE) {
		strbuf_puts(sb, ",\"title\":");
		strbuf_json_string(sb, tool_title(t), strlen(tool_title(t)));
	}
	strbuf_puts(sb, ",\"description\":");
	strbuf_json_string(sb, t->description, strlen(t->description));
	strbuf_puts(sb, ",\"inputSchema\":");
	write_input_schema(sb, t);
	if (features & TOOLS_LIST_TITLE) {
		strbuf_puts(sb, ",\"outputSchema\":");
		write_output_schema(sb, t);
	}
	strbuf_puts(sb, ",\"annotations\":{\"title\":");
	strbuf_json_string(sb, tool_title(t), strlen(tool_title(t)));
	strbuf_printf(sb, ",\"readOnlyHint\":%s,\"destructiveHint\":%s,\"idempotentHint\":%s,"
	    "\"openWorldHint\":%s}}", a->read_only ? "true" : "false",
	    a->destructive ? "true" : "false", a->idempotent ? "true" : "false",
	    a->open_world ? "true" : "false");
}

void
tools_write_list(struct strbuf *sb, unsigned features)
{
	strbuf_putc(sb, '[');
	for (size_t i = 0; i < tools_count(); i++) {
		if (i > 0)
			strbuf_putc(sb, ',');
		write_tool(sb, tools_at(i), features);
	}
	strbuf_putc(sb, ']');
}
