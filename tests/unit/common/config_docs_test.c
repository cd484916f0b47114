/*
 * Documentation check: the configuration table in docs/configuration.md
 * documents exactly the flags of the option table (common/config_table.c),
 * with the same metavars, variables and defaults, both ways.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/config.h"

#define DOC_NAME "docs/configuration.md"
#define DOC_PATH MCPD_SOURCE_DIR "/" DOC_NAME
#define TABLE_HEADER "| flag | variable | default | meaning |\n|---|---|---|---|\n"
/* The one row that is not an option of the table: it has no variable or default. */
#define HELP_ROW_FLAGS "--help, --version"
#define MAX_ROWS 64

/* One row of the table, with backticks dropped and "\|" read as "|". */
struct doc_row {
	int line;
	char flag[64];		/* "--port" */
	char metavar[64];	/* "PORT", or "" */
	char env[64];
	char def[128];
	bool matched;
};

struct doc_table {
	struct doc_row rows[MAX_ROWS];
	size_t n;
	bool has_help_row;
};

static char *
read_text(const char *path)
{
	FILE *f = fopen(path, "r");
	char *text;
	long len;

	if (f == NULL)
		fail_msg("cannot open %s", path);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	len = ftell(f);
	assert_true(len > 0);
	rewind(f);
	text = calloc(1, (size_t)len + 1);
	assert_non_null(text);
	assert_int_equal(fread(text, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	return text;
}

/* Copies cell [s, e) into out without backticks or surrounding spaces, "\|" as "|". */
static void
clean_cell(const char *s, const char *e, char *out, size_t cap)
{
	size_t n = 0;

	while (s < e && *s == ' ')
		s++;
	while (e > s && e[-1] == ' ')
		e--;
	for (; s < e && n + 1 < cap; s++) {
		if (*s == '`' || (*s == '\\' && s + 1 < e && s[1] == '|'))
			continue;
		out[n++] = *s;
	}
	out[n] = '\0';
}

/* Splits "| a | b | c | d |" into its first four cells; false if it has fewer. */
static bool
split_row(const char *line, const char *end, char cells[4][128])
{
	const char *start = line + 1;
	size_t n = 0;

	for (const char *p = start; p < end && n < 4; p++) {
		if (*p != '|' || p[-1] == '\\')
			continue;
		clean_cell(start, p, cells[n++], sizeof(cells[0]));
		start = p + 1;
	}
	return n == 4;
}

static void
add_row(struct doc_table *t, int line_no, char cells[4][128])
{
	struct doc_row *r = &t->rows[t->n++];
	const char *space = strchr(cells[0], ' ');
	size_t flag_len = space ? (size_t)(space - cells[0]) : strlen(cells[0]);

	memset(r, 0, sizeof(*r));
	r->line = line_no;
	snprintf(r->flag, sizeof(r->flag), "%.*s", (int)flag_len, cells[0]);
	snprintf(r->metavar, sizeof(r->metavar), "%s", space ? space + 1 : "");
	snprintf(r->env, sizeof(r->env), "%s", cells[1]);
	snprintf(r->def, sizeof(r->def), "%s", cells[2]);
}

/* Reads the one table of text that starts with TABLE_HEADER. */
static void
parse_doc(const char *text, struct doc_table *t)
{
	const char *p = strstr(text, TABLE_HEADER);
	int line_no = 1;

	memset(t, 0, sizeof(*t));
	if (p == NULL)
		fail_msg(DOC_NAME " has no table starting \"%.*s\"", 40, TABLE_HEADER);
	else if (strstr(p + strlen(TABLE_HEADER), TABLE_HEADER) != NULL)
		fail_msg(DOC_NAME " has two tables starting \"%.*s\"", 40, TABLE_HEADER);
	for (const char *c = text; c < p; c++)
		line_no += *c == '\n';
	p += strlen(TABLE_HEADER);
	line_no += 2;
	for (; *p == '|'; line_no++) {
		const char *eol = strchr(p, '\n');
		char cells[4][128];

		if (eol == NULL)
			eol = p + strlen(p);
		if (!split_row(p, eol, cells))
			fail_msg(DOC_NAME ":%d: a configuration row needs 4 cells", line_no);
		if (strcmp(cells[0], HELP_ROW_FLAGS) == 0)
			t->has_help_row = cells[1][0] == '\0' && cells[2][0] == '\0';
		else if (t->n == MAX_ROWS)
			fail_msg(DOC_NAME ":%d: more than %d configuration rows", line_no, MAX_ROWS);
		else
			add_row(t, line_no, cells);
		p = *eol ? eol + 1 : eol;
	}
}

/* Counts (and prints) every disagreement between the documented rows and the option table. */
static int
count_disagreements(struct doc_table *t)
{
	struct config_option_doc doc;
	int bad = 0;

	if (!t->has_help_row) {
		print_error(DOC_NAME ": no \"| `--help`, `--version` | | | |\" row\n");
		bad++;
	}
	for (size_t i = 0; config_option_doc(i, &doc); i++) {
		char flag[64];
		int found = 0;

		snprintf(flag, sizeof(flag), "--%s", doc.flag);
		for (size_t k = 0; k < t->n; k++) {
			struct doc_row *r = &t->rows[k];

			if (strcmp(r->flag, flag) != 0)
				continue;
			r->matched = true;
			if (found++ > 0) {
				print_error(DOC_NAME ":%d: %s is documented twice\n", r->line, flag);
				bad++;
			}
			if (strcmp(r->metavar, doc.metavar) != 0 || strcmp(r->env, doc.env) != 0 ||
			    strcmp(r->def, doc.default_text) != 0) {
				print_error(DOC_NAME ":%d: \"%s %s | %s | %s\" but the option table says "
				    "\"%s %s | %s | %s\"\n", r->line, r->flag, r->metavar, r->env, r->def,
				    flag, doc.metavar, doc.env, doc.default_text);
				bad++;
			}
		}
		if (found == 0) {
			print_error(DOC_NAME ": no row for %s; the option table has it\n", flag);
			bad++;
		}
	}
	for (size_t k = 0; k < t->n; k++) {
		if (!t->rows[k].matched) {
			print_error(DOC_NAME ":%d: %s is not in the option table\n", t->rows[k].line, t->rows[k].flag);
			bad++;
		}
	}
	return bad;
}

static void
test_doc_table_matches_option_table(void **state)
{
	static struct doc_table table;
	char *text = read_text(DOC_PATH);

	(void)state;
	parse_doc(text, &table);
	assert_int_equal(count_disagreements(&table), 0);
	free(text);
}

/* s with "|" written "\|", as a markdown table cell needs it. */
static const char *
escape_pipes(const char *s, char *out, size_t cap)
{
	size_t n = 0;

	for (; *s != '\0' && n + 2 < cap; s++) {
		if (*s == '|')
			out[n++] = '\\';
		out[n++] = *s;
	}
	out[n] = '\0';
	return out;
}

/* A page whose table is written from the option table: the check must accept it. */
static char *
generated_doc(const char *skip_flag, const char *extra_row, const char *wrong_default_of)
{
	struct config_option_doc doc;
	size_t cap = 16384, len;
	char *text = malloc(cap);

	assert_non_null(text);
	len = (size_t)snprintf(text, cap, "# Configuration\n\nIntro.\n\n" TABLE_HEADER);
	for (size_t i = 0; config_option_doc(i, &doc); i++) {
		char metavar[64];

		if (skip_flag != NULL && strcmp(doc.flag, skip_flag) == 0)
			continue;
		len += (size_t)snprintf(text + len, cap - len, "| `--%s%s%s` | `%s` | %s%s%s | meaning |\n",
		    doc.flag, doc.metavar[0] ? " " : "", escape_pipes(doc.metavar, metavar, sizeof(metavar)), doc.env,
		    doc.default_is_value ? "`" : "", wrong_default_of != NULL &&
		    strcmp(doc.flag, wrong_default_of) == 0 ? "42" : doc.default_text,
		    doc.default_is_value ? "`" : "");
		assert_true(len < cap);
	}
	len += (size_t)snprintf(text + len, cap - len, "%s| `--help`, `--version` | | | |\n\nLists are comma-separated.\n",
	    extra_row != NULL ? extra_row : "");
	assert_true(len < cap);
	return text;
}

static int
disagreements_in(char *text)
{
	static struct doc_table table;

	parse_doc(text, &table);
	free(text);
	return count_disagreements(&table);
}

/* The check itself: it accepts a faithful table and notices each kind of drift. */
static void
test_check_notices_drift(void **state)
{
	(void)state;
	assert_int_equal(disagreements_in(generated_doc(NULL, NULL, NULL)), 0);
	assert_int_equal(disagreements_in(generated_doc("port", NULL, NULL)), 1);
	assert_int_equal(disagreements_in(generated_doc(NULL, NULL, "clock-skew")), 1);
	assert_int_equal(disagreements_in(generated_doc(NULL, "| `--frobnicate N` | `MCPD_FROBNICATE` | | x |\n",
	    NULL)), 1);
	assert_int_equal(disagreements_in(generated_doc(NULL, "| `--port N` | `MCPD_PORT` | `8000` | x |\n",
	    NULL)), 2);	/* twice, and the second one's metavar differs */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_doc_table_matches_option_table),
		cmocka_unit_test(test_check_notices_drift),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
