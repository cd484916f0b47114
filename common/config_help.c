/* Runs in: the supervisor, before anything else; children only read the result. */
#include "common/config_help.h"

#include <stdio.h>
#include <string.h>

#include "common/strbuf.h"

/* A bound in bytes as people write it: 1 KiB, 16 MiB, 64 GiB. */
static void
put_size(struct strbuf *sb, unsigned long long bytes)
{
	static const char *const units[] = {"GiB", "MiB", "KiB"};

	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		unsigned long long unit = 1ULL << (30 - 10 * i);

		if (bytes >= unit && bytes % unit == 0) {
			strbuf_printf(sb, "%llu %s", bytes / unit, units[i]);
			return;
		}
	}
	strbuf_printf(sb, "%llu", bytes);
}

/* "a, b or c" */
static void
put_words(struct strbuf *sb, const struct option_word *words)
{
	for (size_t i = 0; words[i].word != NULL; i++) {
		if (i > 0)
			strbuf_puts(sb, words[i + 1].word == NULL ? " or " : ", ");
		strbuf_puts(sb, words[i].word);
	}
}

/* Appends what the placeholder at text stands for; returns how much of text it used.
 * An unknown one is copied as is, so that a test reading the output sees it. */
static size_t
put_placeholder(struct strbuf *sb, const char *text, const struct option_row *row)
{
	if (strncmp(text, "{range}", 7) == 0) {
		strbuf_printf(sb, "%llu..%llu", row->min, row->max);
	} else if (strncmp(text, "{sizes}", 7) == 0) {
		put_size(sb, row->min);
		strbuf_puts(sb, "..");
		put_size(sb, row->max);
	} else if (strncmp(text, "{max}", 5) == 0) {
		strbuf_printf(sb, "%llu", row->max);
	} else if (strncmp(text, "{words}", 7) == 0 && row->words != NULL) {
		put_words(sb, row->words);
	} else {
		strbuf_putc(sb, '{');
		return 1;
	}
	return (size_t)(strchr(text, '}') - text) + 1;
}

/* Appends text with the row's bounds and words in place of its placeholders. */
static void
put_described(struct strbuf *sb, const char *text, const struct option_row *row)
{
	while (*text != '\0') {
		size_t n = strcspn(text, "{");

		strbuf_append(sb, text, n);
		text += n;
		if (*text != '\0')
			text += put_placeholder(sb, text, row);
	}
}

const char *
config_accepted_text(const struct option_row *row, char *buf, size_t len)
{
	struct strbuf sb;

	strbuf_init_fixed(&sb, buf, len);
	put_described(&sb, row->kind->accepted, row);
	if (row->note != NULL) {
		strbuf_putc(&sb, ' ');
		strbuf_puts(&sb, row->note);
	}
	return buf;
}

bool
config_option_doc(size_t i, struct config_option_doc *doc)
{
	const struct option_row *row;

	if (i >= config_n_options)
		return false;
	row = &config_options[i];
	doc->flag = row->flag;
	doc->metavar = row->metavar != NULL ? row->metavar : "";
	doc->env = row->env;
	doc->default_text = row->def != NULL ? row->def : row->def_text != NULL ? row->def_text : "";
	doc->default_is_value = row->def != NULL;
	return true;
}

static void
print_option(const struct option_row *row)
{
	char left[48], help[512];
	struct strbuf sb;

	snprintf(left, sizeof(left), "--%s%s%s", row->flag, row->metavar != NULL ? " " : "",
	    row->metavar != NULL ? row->metavar : "");
	strbuf_init_fixed(&sb, help, sizeof(help));
	put_described(&sb, row->help, row);
	if (row->def != NULL)
		strbuf_printf(&sb, " (default %s)", row->def);
	else if (row->def_text != NULL)
		strbuf_printf(&sb, " (default: %s)", row->def_text);
	printf("  %-26s %-28s %s\n", left, row->env, help);
}

void
config_print_usage(const char *prog)
{
	printf("Usage: %s [flags]\n\n"
	    "mcpd serves the Model Context Protocol (Streamable HTTP, stateless) at /mcp.\n"
	    "Each flag has an environment variable; a flag wins over its variable.\n\n", prog);
	for (size_t i = 0; i < config_n_options; i++)
		print_option(&config_options[i]);
	printf("  %-26s %-28s %s\n", "--help", "", "print this help and exit");
	printf("  %-26s %-28s %s\n", "--version", "", "print the version and exit");
}
