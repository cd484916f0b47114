/*
 * config_values: the kinds of values the option table's rows take, each
 * a parser with the text that describes what it accepts (and, for lists, how
 * the value is released).  Internal to the config files; strlist_free and
 * strlist_contains, also here, are declared in config.h.
 */
#ifndef MCPD_COMMON_CONFIG_VALUES_H
#define MCPD_COMMON_CONFIG_VALUES_H

#include "common/config_table.h"

extern const struct option_kind kind_integer, kind_seconds, kind_size, kind_switch, kind_on_off,
    kind_words, kind_address, kind_listen, kind_origins, kind_list, kind_spaced_list,
    kind_issuer_url, kind_http_url, kind_user_name, kind_namespace, kind_egress_allow,
    kind_readable_file, kind_rate_limit;

/** --workers' default: one per online CPU, within the row's bounds.  Returns 0 or -1. */
int default_online_cpus(struct config *cfg, const struct option_row *row);

#endif
