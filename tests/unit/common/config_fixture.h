/*
 * config_fixture: what the config tests share: config_load on an argv
 * written inline, an environment cleared of MCPD_* variables around each
 * test (with --auth none chosen, so that loading succeeds unless a test is
 * about authentication), and checks on the error message.  Include it
 * after <cmocka.h>.
 */
#ifndef MCPD_TESTS_UNIT_COMMON_CONFIG_FIXTURE_H
#define MCPD_TESTS_UNIT_COMMON_CONFIG_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"

extern char **environ;

/* config_load(cfg, argc, argv) with argv = {"mcpd", ...}. */
#define LOAD(cfg, err, ...) load_args((cfg), (err), (char *[]){"mcpd", __VA_ARGS__, NULL})
#define LOAD_NO_ARGS(cfg, err) load_args((cfg), (err), (char *[]){"mcpd", NULL})
/* A test run between setup and teardown. */
#define CONFIG_TEST(t) cmocka_unit_test_setup_teardown(t, setup, teardown)

static char err[512];

static inline int
load_args(struct config *cfg, char *errbuf, char **argv)
{
	int argc = 0;

	while (argv[argc] != NULL)
		argc++;
	errbuf[0] = '\0';
	return config_load(cfg, argc, argv, errbuf, sizeof(err));
}

/* Removes every MCPD_* variable so tests do not see the caller's settings. */
static inline void
clear_mcpd_env(void)
{
	bool again = true;

	while (again) {
		again = false;
		for (char **e = environ; *e != NULL; e++) {
			const char *eq = strchr(*e, '=');
			char name[256];

			if (strncmp(*e, "MCPD_", 5) != 0 || eq == NULL ||
			    (size_t)(eq - *e) >= sizeof(name))
				continue;
			memcpy(name, *e, (size_t)(eq - *e));
			name[eq - *e] = '\0';
			unsetenv(name);
			again = true;
			break;
		}
	}
}

/* Every test starts with a clean environment that chooses --auth none, so
 * that loading succeeds unless a test is about authentication. */
static inline int
setup(void **state)
{
	(void)state;
	clear_mcpd_env();
	setenv("MCPD_AUTH", "none", 1);
	return 0;
}

static inline int
teardown(void **state)
{
	(void)state;
	clear_mcpd_env();
	return 0;
}

static inline void
assert_err_contains(const char *needle)
{
	if (strstr(err, needle) == NULL)
		fail_msg("error message \"%s\" does not contain \"%s\"", err, needle);
}

/* A flag value that must be refused with a message naming it. */
static inline void
assert_flag_rejected(const char *flag, const char *value, const char *accepted)
{
	struct config cfg;
	char quoted[300];

	if (LOAD(&cfg, err, (char *)flag, (char *)value) != -1)
		fail_msg("%s '%s' was accepted", flag, value);
	snprintf(quoted, sizeof(quoted), "'%s'", value);
	assert_err_contains(flag);
	assert_err_contains(quoted);
	assert_err_contains(accepted);
	assert_int_equal(cfg.n_allowed_origins, 0);
}

#endif
