/*
 * config_table: the option table, internal to the config files.  Each row
 * declares one flag and its MCPD_* variable once: where its value goes in
 * struct config, the kind of value it takes, its bounds, default and help.
 * config.c loads values through the rows, config_help.c describes them
 * (--help, docs/configuration.md, the "expected ..." part of errors), and
 * config_values.c defines the kinds: how each is parsed, described and
 * released.
 */
#ifndef MCPD_COMMON_CONFIG_TABLE_H
#define MCPD_COMMON_CONFIG_TABLE_H

#include <stdbool.h>
#include <stddef.h>

#include "common/config.h"

struct option_row;

/* Stores one textual value in cfg, or returns -1 if it is not accepted. */
typedef int (*option_parser)(struct config *cfg, const struct option_row *row, const char *value);

/* What kind of value a flag takes: how it is parsed, described and released. */
struct option_kind {
	option_parser parse;
	/* What a valid value looks like.  Placeholders take the row's values:
	 * {range} is min..max, {sizes} the same in KiB/MiB/GiB, {max} is max and
	 * {words} lists the enum's words ("a, b or c"). */
	const char *accepted;
	void (*release)(struct config *cfg, const struct option_row *row); /* NULL: owns nothing */
	const char *separators;	/* list kinds: what separates items */
	bool is_switch;		/* --x alone means "true" */
	/* Values made of parts: writes what is wrong with a refused one
	 * ("entry 3 ...: empty DNS label"), which the error gives instead of the
	 * accepted text.  NULL: the accepted text says it all. */
	void (*explain)(const char *value, char *why, size_t whylen);
};

/* One word of an enum-of-words flag and the value it stores. */
struct option_word {
	const char *word;
	int value;
};

struct option_row {
	const char *flag;	/* without the leading "--" */
	const char *env;
	const struct option_kind *kind;
	size_t offset, size;	/* the destination field in struct config */
	unsigned long long min, max;	/* of the value, of a list's length or of a name's length */
	const struct option_word *words;	/* an enum's words, ending with {NULL} */
	const char *def;	/* the default, parsed like a given value; NULL: zero */
	const char *def_text;	/* a default that is not a value, e.g. "online CPUs" */
	int (*set_default)(struct config *cfg, const struct option_row *row); /* what def_text says */
	const char *metavar;	/* NULL for a switch */
	const char *help;	/* may use the kind's {...} placeholders */
	const char *note;	/* ends the accepted text: an example, or what a special value means */
};

/* Every flag, in --help order (docs/configuration.md's table follows it too). */
extern const struct option_row config_options[];
extern const size_t config_n_options;

#endif
