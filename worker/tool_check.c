/* Runs in: workers, before the sandbox (each tool checked once at start). */
/*
 * tool_check: the rules a tool's description must keep, checked once when a
 * worker starts (before the sandbox): a broken description stops the server
 * with a message naming the tool, instead of failing on some later call.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "common/fail.h"
#include "worker/tool_engine.h"

/* Names become JSON keys, log fields and (for tools) C identifiers. */
static bool
name_ok(const char *name)
{
	size_t n = name != NULL ? strlen(name) : 0;

	if (n == 0 || n > 64)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') ||
		    name[i] == '_'))
			return false;
	return true;
}

static bool
in_enum(const char *const *values, const char *s)
{
	for (size_t i = 0; values[i] != NULL; i++)
		if (strcmp(values[i], s) == 0)
			return true;
	return false;
}

/* Rules that belong to one type only, and bounds that contradict each other. */
static const char *
rule_problem(const struct mcpd_param *p)
{
	if ((p->has_minimum || p->has_maximum) && p->type != MCPD_TYPE_INTEGER)
		return "minimum and maximum apply to integers only";
	if (p->has_minimum && p->has_maximum && p->minimum > p->maximum)
		return "its minimum is above its maximum";
	if ((p->max_length > 0 || p->enum_values != NULL) && p->type != MCPD_TYPE_STRING)
		return "maxLength and enum apply to strings only";
	if (p->enum_values != NULL && p->enum_values[0] == NULL)
		return "its enum is empty";
	if (p->max_items > 0 && !p->array)
		return "maxItems applies to arrays only";
	if (p->has_default && p->array)
		return "arrays take no default";
	return NULL;
}

/* A default must itself be a value the parameter accepts. */
static const char *
default_problem(const struct mcpd_param *p)
{
	if (!p->has_default)
		return NULL;
	switch (p->type) {
	case MCPD_TYPE_INTEGER:
		if ((p->has_minimum && p->default_integer < p->minimum) ||
		    (p->has_maximum && p->default_integer > p->maximum))
			return "its default breaks its minimum or maximum";
		break;
	case MCPD_TYPE_NUMBER:
		if (!isfinite(p->default_number))
			return "its default is not a finite number";
		break;
	case MCPD_TYPE_BOOLEAN:
		break;
	case MCPD_TYPE_STRING:
		if (p->default_string == NULL || !utf8_valid(p->default_string, strlen(p->default_string)))
			return "its default is not a UTF-8 string";
		if (p->max_length > 0 && utf8_length(p->default_string, strlen(p->default_string)) > p->max_length)
			return "its default is longer than its maxLength";
		if (p->enum_values != NULL && !in_enum(p->enum_values, p->default_string))
			return "its default is not one of its enum values";
		break;
	}
	return NULL;
}

static int
check_params(const struct mcpd_tool *t, char *err, size_t errlen)
{
	if (t->nparams > TOOL_MAX_PARAMS)
		return fail_because(err, errlen, "tool %s has %zu parameters; at most %d", t->name,
		    t->nparams, TOOL_MAX_PARAMS);
	for (size_t i = 0; i < t->nparams; i++) {
		const struct mcpd_param *p = &t->params[i];
		const char *problem;

		if (!name_ok(p->name) || p->description == NULL || p->type > MCPD_TYPE_STRING)
			return fail_because(err, errlen, "tool %s: parameter %zu needs a name of [a-z0-9_], "
			    "a description and a type", t->name, i);
		for (size_t j = 0; j < i; j++)
			if (strcmp(p->name, t->params[j].name) == 0)
				return fail_because(err, errlen, "tool %s: two parameters are named %s", t->name,
				    p->name);
		if ((problem = rule_problem(p)) != NULL || (problem = default_problem(p)) != NULL)
			return fail_because(err, errlen, "tool %s: parameter %s: %s", t->name, p->name, problem);
	}
	return 0;
}

static int
check_result(const struct mcpd_tool *t, char *err, size_t errlen)
{
	const struct mcpd_result *r = &t->result;

	if (r->nfields > TOOL_MAX_FIELDS)
		return fail_because(err, errlen, "tool %s returns %zu fields; at most %d", t->name,
		    r->nfields, TOOL_MAX_FIELDS);
	if (r->type > MCPD_TYPE_STRING)
		return fail_because(err, errlen, "tool %s: unknown result type", t->name);
	for (size_t i = 0; i < r->nfields; i++) {
		if (!name_ok(r->fields[i].name) || r->fields[i].description == NULL ||
		    r->fields[i].type > MCPD_TYPE_STRING)
			return fail_because(err, errlen, "tool %s: result field %zu needs a name of [a-z0-9_], "
			    "a type and a description", t->name, i);
		for (size_t j = 0; j < i; j++)
			if (strcmp(r->fields[i].name, r->fields[j].name) == 0)
				return fail_because(err, errlen, "tool %s: two result fields are named %s", t->name,
				    r->fields[i].name);
	}
	return 0;
}

static int
check_scopes(const struct mcpd_tool *t, char *err, size_t errlen)
{
	/* Scopes go into WWW-Authenticate's quoted scope="..." as they are. */
	for (size_t i = 0; t->scopes != NULL && t->scopes[i] != NULL; i++) {
		const char *scope = t->scopes[i];
		bool ok = scope[0] != '\0';

		for (const char *c = scope; *c != '\0'; c++)
			ok = ok && *c > ' ' && *c <= '~' && *c != '"' && *c != '\\';
		if (!ok)
			return fail_because(err, errlen, "tool %s: scope \"%s\" must be printable ASCII "
			    "without spaces, quotes or backslashes", t->name, scope);
	}
	return 0;
}

int
tools_check(const struct mcpd_tool *t, char *err, size_t errlen)
{
	if (!name_ok(t->name))
		return fail_because(err, errlen, "a tool's name must be 1 to 64 of [a-z0-9_]: \"%s\"",
		    t->name != NULL ? t->name : "(none)");
	if (t->description == NULL || t->run == NULL)
		return fail_because(err, errlen, "tool %s needs a description and a run function", t->name);
	if (t->nparams > 0 && t->params == NULL)
		return fail_because(err, errlen, "tool %s: nparams without params", t->name);
	if (check_params(t, err, errlen) < 0 || check_result(t, err, errlen) < 0)
		return -1;
	return check_scopes(t, err, errlen);
}
