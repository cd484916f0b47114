/*
 * config_help: the option table as people read it: --help, the rows
 * docs/configuration.md documents (config_option_doc, in config.h) and
 * what a valid value looks like in an error message.  Internal to the config files, except
 * what config.h declares.
 */
#ifndef MCPD_COMMON_CONFIG_HELP_H
#define MCPD_COMMON_CONFIG_HELP_H

#include <stddef.h>

#include "common/config_table.h"

/** What a valid value of `row` looks like, in buf (cut to len); returns buf. */
const char *config_accepted_text(const struct option_row *row, char *buf, size_t len);

#endif
