/*
 * Unit tests for common/config.c: flags, MCPD_* variables, defaults, the
 * error message for every kind of bad value, and --help, all of which are
 * generated from the option table.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/config.h"

extern char **environ;

/* config_load(cfg, argc, argv) with argv = {"mcpd", ...}. */
#define LOAD(cfg, err, ...) load_args((cfg), (err), (char *[]){"mcpd", __VA_ARGS__, NULL})
#define LOAD_NO_ARGS(cfg, err) load_args((cfg), (err), (char *[]){"mcpd", NULL})

static char err[512];

static int
load_args(struct config *cfg, char *errbuf, char **argv)
{
	int argc = 0;

	while (argv[argc] != NULL)
		argc++;
	errbuf[0] = '\0';
	return config_load(cfg, argc, argv, errbuf, sizeof(err));
}

/* Removes every MCPD_* variable so tests do not see the caller's settings. */
static void
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
static int
setup(void **state)
{
	(void)state;
	clear_mcpd_env();
	setenv("MCPD_AUTH", "none", 1);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	clear_mcpd_env();
	return 0;
}

static void
assert_err_contains(const char *needle)
{
	if (strstr(err, needle) == NULL)
		fail_msg("error message \"%s\" does not contain \"%s\"", err, needle);
}

/* A flag value that must be refused with a message naming it. */
static void
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

static void
test_defaults(void **state)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	int expected_workers = cpus < 1 ? 1 : cpus > 256 ? 256 : (int)cpus;
	struct config cfg;

	(void)state;
	assert_int_equal(LOAD_NO_ARGS(&cfg, err), 0);
	assert_string_equal(cfg.host, "0.0.0.0");
	assert_int_equal(cfg.port, 8000);
	assert_int_equal(cfg.workers, expected_workers);
	assert_int_equal(cfg.max_body, 1024 * 1024);
	assert_int_equal(cfg.shutdown_timeout, 10);
	assert_int_equal(cfg.idle_timeout, 10);
	assert_int_equal(cfg.log_level, LOG_INFO);
	assert_int_equal(cfg.n_allowed_origins, 0);
	assert_false(cfg.allow_any_origin);
	assert_int_equal(cfg.auth, AUTH_NONE);
	assert_int_equal(cfg.clock_skew, 60);
	assert_int_equal(cfg.jwks_refresh_min, 30);
	assert_int_equal(cfg.jwks_refresh_max, 3600);
	assert_string_equal(cfg.discovery_url, "");
	assert_false(cfg.metrics_listen);
	assert_int_equal(cfg.metrics_emf, 0);
	assert_string_equal(cfg.metrics_namespace, "mcpd");
	assert_false(cfg.show_help);
	assert_false(cfg.show_version);
	config_free(&cfg);
}

static void
test_flag_with_separate_value(void **state)
{
	struct config cfg;

	(void)state;
	assert_int_equal(LOAD(&cfg, err, "--port", "9001", "--host", "127.0.0.1",
	    "--workers", "3", "--log-level", "debug"), 0);
	assert_int_equal(cfg.port, 9001);
	assert_string_equal(cfg.host, "127.0.0.1");
	assert_int_equal(cfg.workers, 3);
	assert_int_equal(cfg.log_level, LOG_DEBUG);
	config_free(&cfg);
}

static void
test_flag_with_equals_value(void **state)
{
	struct config cfg;

	(void)state;
	assert_int_equal(LOAD(&cfg, err, "--port=9002", "--host=::1", "--shutdown-timeout=0",
	    "--idle-timeout=3600", "--log-level=error", "--auth=none"), 0);
	assert_int_equal(cfg.port, 9002);
	assert_string_equal(cfg.host, "::1");
	assert_int_equal(cfg.shutdown_timeout, 0);
	assert_int_equal(cfg.idle_timeout, 3600);
	assert_int_equal(cfg.log_level, LOG_ERROR);
	assert_int_equal(cfg.auth, AUTH_NONE);
	config_free(&cfg);
}

static void
test_help_and_version_flags(void **state)
{
	struct config cfg;

	(void)state;
	assert_int_equal(LOAD(&cfg, err, "--help"), 0);
	assert_true(cfg.show_help);
	assert_false(cfg.show_version);
	config_free(&cfg);
	assert_int_equal(LOAD(&cfg, err, "-h", "--version"), 0);
	assert_true(cfg.show_help);
	assert_true(cfg.show_version);
	config_free(&cfg);
}

static void
test_environment_sets_values(void **state)
{
	struct config cfg;

	(void)state;
	setenv("MCPD_PORT", "9100", 1);
	setenv("MCPD_HOST", "127.0.0.1", 1);
	setenv("MCPD_WORKERS", "7", 1);
	setenv("MCPD_MAX_BODY", "64K", 1);
	setenv("MCPD_LOG_LEVEL", "warn", 1);
	setenv("MCPD_SHUTDOWN_TIMEOUT", "5", 1);
	setenv("MCPD_IDLE_TIMEOUT", "6", 1);
	setenv("MCPD_AUTH", "none", 1);
	assert_int_equal(LOAD_NO_ARGS(&cfg, err), 0);
	assert_int_equal(cfg.port, 9100);
	assert_string_equal(cfg.host, "127.0.0.1");
	assert_int_equal(cfg.workers, 7);
	assert_int_equal(cfg.max_body, 65536);
	assert_int_equal(cfg.log_level, LOG_WARN);
	assert_int_equal(cfg.shutdown_timeout, 5);
	assert_int_equal(cfg.idle_timeout, 6);
	assert_int_equal(cfg.auth, AUTH_NONE);
	config_free(&cfg);
}

static void
test_flag_beats_environment(void **state)
{
	struct config cfg;

	(void)state;
	setenv("MCPD_PORT", "9100", 1);
	setenv("MCPD_WORKERS", "7", 1);
	assert_int_equal(LOAD(&cfg, err, "--port", "9200", "--workers=2"), 0);
	assert_int_equal(cfg.port, 9200);
	assert_int_equal(cfg.workers, 2);
	config_free(&cfg);
}

static void
test_flag_beats_environment_origins(void **state)
{
	struct config cfg;

	(void)state;
	setenv("MCPD_ALLOWED_ORIGINS", "http://a.example,http://b.example", 1);
	assert_int_equal(LOAD(&cfg, err, "--allowed-origins", "https://c.example"), 0);
	assert_int_equal(cfg.n_allowed_origins, 1);
	assert_string_equal(cfg.allowed_origins[0], "https://c.example");
	config_free(&cfg);
}

static void
test_later_flag_beats_earlier(void **state)
{
	struct config cfg;

	(void)state;
	assert_int_equal(LOAD(&cfg, err, "--port", "1", "--port=2"), 0);
	assert_int_equal(cfg.port, 2);
	config_free(&cfg);
}

static void
test_unknown_flag(void **state)
{
	struct config cfg;

	(void)state;
	assert_int_equal(LOAD(&cfg, err, "--bogus", "1"), -1);
	assert_err_contains("unknown flag");
	assert_err_contains("'--bogus'");
	assert_int_equal(LOAD(&cfg, err, "--prot=80"), -1);
	assert_err_contains("'--prot'");
}

static void
test_positional_argument_rejected(void **state)
{
	struct config cfg;

	(void)state;
	assert_int_equal(LOAD(&cfg, err, "8000"), -1);
	assert_err_contains("'8000'");
	assert_int_equal(LOAD(&cfg, err, "-p", "8000"), -1);
	assert_err_contains("'-p'");
}

static void
test_flag_missing_value(void **state)
{
	struct config cfg;

	(void)state;
	assert_int_equal(LOAD(&cfg, err, "--port"), -1);
	assert_err_contains("--port");
	assert_err_contains("needs a value");
}

static void
test_flag_empty_value(void **state)
{
	struct config cfg;

	(void)state;
	assert_int_equal(LOAD(&cfg, err, "--port="), -1);
	assert_err_contains("--port is empty");
	assert_err_contains("0..65535");
}

static void
test_unknown_mcpd_variable(void **state)
{
	struct config cfg;

	(void)state;
	setenv("MCPD_PROT", "80", 1);
	assert_int_equal(LOAD_NO_ARGS(&cfg, err), -1);
	assert_err_contains("unknown environment variable");
	assert_err_contains("MCPD_PROT");
}

static void
test_other_variables_ignored(void **state)
{
	struct config cfg;

	(void)state;
	setenv("MCP_PORT", "1", 1);
	setenv("XMCPD_PORT", "1", 1);
	assert_int_equal(LOAD_NO_ARGS(&cfg, err), 0);
	assert_int_equal(cfg.port, 8000);
	config_free(&cfg);
	unsetenv("MCP_PORT");
	unsetenv("XMCPD_PORT");
}

static void
test_empty_environment_value(void **state)
{
	struct config cfg;

	(void)state;
	setenv("MCPD_WORKERS", "", 1);
	assert_int_equal(LOAD_NO_ARGS(&cfg, err), -1);
	assert_err_contains("MCPD_WORKERS is empty");
	assert_err_contains("1..256");
}

static void
test_invalid_environment_value_names_variable(void **state)
{
	struct config cfg;

	(void)state;
	setenv("MCPD_PORT", "70000", 1);
	assert_int_equal(LOAD_NO_ARGS(&cfg, err), -1);
	assert_err_contains("MCPD_PORT");
	assert_err_contains("'70000'");
	assert_err_contains("0..65535");
}

static void
test_invalid_environment_value_even_when_flag_given(void **state)
{
	struct config cfg;

	(void)state;
	setenv("MCPD_PORT", "nope", 1);
	assert_int_equal(LOAD(&cfg, err, "--port", "80"), -1);
	assert_err_contains("'nope'");
}

static void
test_port_bounds(void **state)
{
	struct config cfg;

	(void)state;
	assert_int_equal(LOAD(&cfg, err, "--port", "0"), 0);
	assert_int_equal(cfg.port, 0);
	config_free(&cfg);
	assert_int_equal(LOAD(&cfg, err, "--port", "65535"), 0);
	assert_int_equal(cfg.port, 65535);
	config_free(&cfg);
	assert_flag_rejected("--port", "65536", "0..65535");
	assert_flag_rejected("--port", "-1", "0..65535");
	assert_flag_rejected("--port", "+80", "0..65535");
	assert_flag_rejected("--port", " 80", "0..65535");
	assert_flag_rejected("--port", "80x", "0..65535");
	assert_flag_rejected("--port", "http", "0..65535");
	assert_flag_rejected("--port", "99999999999999999999999", "0..65535");
}

static void
test_workers_bounds(void **state)
{
	struct config cfg;

	(void)state;
	assert_int_equal(LOAD(&cfg, err, "--workers", "1"), 0);
	assert_int_equal(cfg.workers, 1);
	config_free(&cfg);
	assert_int_equal(LOAD(&cfg, err, "--workers", "256"), 0);
	assert_int_equal(cfg.workers, 256);
	config_free(&cfg);
	assert_flag_rejected("--workers", "0", "1..256");
	assert_flag_rejected("--workers", "257", "1..256");
	assert_flag_rejected("--workers", "1.5", "1..256");
	assert_flag_rejected("--workers", "-4", "1..256");
}

static void
test_host_values(void **state)
{
	struct config cfg;

	(void)state;
	assert_int_equal(LOAD(&cfg, err, "--host", "::"), 0);
	assert_string_equal(cfg.host, "::");
	config_free(&cfg);
	assert_flag_rejected("--host", "localhost", "IPv4 or IPv6");
	assert_flag_rejected("--host", "1.2.3", "IPv4 or IPv6");
	assert_flag_rejected("--host", "256.0.0.1", "IPv4 or IPv6");
	assert_flag_rejected("--host",
	    "0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000", "IPv4 or IPv6");
}

static void
test_timeout_bounds(void **state)
{
	struct config cfg;

	(void)state;
	assert_int_equal(LOAD(&cfg, err, "--shutdown-timeout", "3600", "--idle-timeout", "1"), 0);
	assert_int_equal(cfg.shutdown_timeout, 3600);
	assert_int_equal(cfg.idle_timeout, 1);
	config_free(&cfg);
	assert_flag_rejected("--shutdown-timeout", "3601", "0..3600");
	assert_flag_rejected("--idle-timeout", "0", "1..3600");
	assert_flag_rejected("--idle-timeout", "3601", "1..3600");
	assert_flag_rejected("--idle-timeout", "10s", "1..3600");
}

static void
test_log_level_values(void **state)
{
	struct config cfg;

	(void)state;
	assert_int_equal(LOAD(&cfg, err, "--log-level", "info"), 0);
	assert_int_equal(cfg.log_level, LOG_INFO);
	config_free(&cfg);
	assert_flag_rejected("--log-level", "verbose", "debug, info, warn or error");
	assert_flag_rejected("--log-level", "INFO", "debug, info, warn or error");
	assert_flag_rejected("--log-level", "warning", "debug, info, warn or error");
}

static void
test_auth_values(void **state)
{
	(void)state;
	assert_flag_rejected("--auth", "jwt", "none");
	assert_flag_rejected("--auth", "None", "none");
}

#define COGNITO_URL "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_abc/.well-known/openid-configuration"

static void
test_no_authentication_is_refused(void **state)
{
	struct config cfg;

	(void)state;
	unsetenv("MCPD_AUTH");
	assert_int_equal(LOAD_NO_ARGS(&cfg, err), -1);
	assert_err_contains("--discovery-url");
	assert_err_contains("--auth none");
}

static void
test_discovery_url_turns_verification_on(void **state)
{
	struct config cfg;

	(void)state;
	unsetenv("MCPD_AUTH");
	assert_int_equal(LOAD(&cfg, err, "--discovery-url", COGNITO_URL, "--allowed-clients",
	    "c1,c2", "--required-scopes", "mcp/tools mcp/admin", "--clock-skew", "5"), 0);
	assert_int_equal(cfg.auth, AUTH_JWT);
	assert_string_equal(cfg.discovery_url, COGNITO_URL);
	assert_int_equal(cfg.allowed_clients.n, 2);
	assert_true(strlist_contains(&cfg.allowed_clients, "c2", 2));
	assert_false(strlist_contains(&cfg.allowed_clients, "c", 1));
	assert_int_equal(cfg.required_scopes.n, 2);
	assert_string_equal(cfg.required_scopes.items[1], "mcp/admin");
	assert_int_equal(cfg.clock_skew, 5);
	config_free(&cfg);
}

static void
test_discovery_url_rules(void **state)
{
	struct config cfg;

	(void)state;
	unsetenv("MCPD_AUTH");
	assert_int_equal(LOAD(&cfg, err, "--discovery-url", COGNITO_URL), -1);
	assert_err_contains("--allowed-clients");
	assert_int_equal(LOAD(&cfg, err, "--discovery-url", "http://127.0.0.1:9/x", "--allowed-clients", "c"), -1);
	assert_err_contains("--allow-insecure-issuer");
	assert_int_equal(LOAD(&cfg, err, "--discovery-url", "http://example.com/x", "--allowed-clients", "c",
	    "--allow-insecure-issuer"), -1);
	assert_err_contains("loopback");
	assert_int_equal(LOAD(&cfg, err, "--discovery-url", "http://127.0.0.1:9/x", "--allowed-clients", "c",
	    "--allow-insecure-issuer"), 0);
	config_free(&cfg);
	assert_int_equal(LOAD(&cfg, err, "--discovery-url", "file:///tmp/x.json", "--allowed-audiences", "a",
	    "--allow-insecure-issuer=true"), 0);
	assert_true(cfg.allow_insecure_issuer);
	config_free(&cfg);
	assert_int_equal(LOAD(&cfg, err, "--discovery-url", "ftp://x/y", "--allowed-clients", "c"), -1);
	assert_err_contains("--discovery-url value 'ftp://x/y'");
	setenv("MCPD_AUTH", "none", 1);
	assert_int_equal(LOAD(&cfg, err, "--discovery-url", COGNITO_URL, "--allowed-clients", "c"), -1);
	assert_err_contains("contradict");
}

static void
test_auth_lists_and_bounds(void **state)
{
	struct config cfg;

	(void)state;
	assert_flag_rejected("--allowed-clients", "a,b\"c", "client ids");
	assert_flag_rejected("--clock-skew", "601", "0..600");
	assert_flag_rejected("--jwks-refresh-min", "0", "1..86400");
	assert_int_equal(LOAD(&cfg, err, "--allow-insecure-issuer=maybe"), -1);
	assert_err_contains("--allow-insecure-issuer value 'maybe'");
	assert_err_contains("true or false");
	unsetenv("MCPD_AUTH");
	assert_int_equal(LOAD(&cfg, err, "--discovery-url", COGNITO_URL, "--allowed-clients", "c",
	    "--jwks-refresh-min", "100", "--jwks-refresh-max", "50"), -1);
	assert_err_contains("--jwks-refresh-min 100 is above --jwks-refresh-max 50");
	setenv("MCPD_ALLOW_INSECURE_ISSUER", "yes", 1);
	setenv("MCPD_DISCOVERY_URL", "http://localhost:8080/.well-known/openid-configuration", 1);
	setenv("MCPD_ALLOWED_AUDIENCES", "aud1", 1);
	assert_int_equal(LOAD_NO_ARGS(&cfg, err), 0);
	assert_int_equal(cfg.auth, AUTH_JWT);
	assert_true(strlist_contains(&cfg.allowed_audiences, "aud1", 4));
	config_free(&cfg);
}

static void
test_sandbox_and_user(void **state)
{
	struct config cfg;

	(void)state;
	assert_int_equal(LOAD_NO_ARGS(&cfg, err), 0);
	assert_int_equal(cfg.sandbox, SANDBOX_STRICT);
	assert_string_equal(cfg.user, "nobody");
	config_free(&cfg);
	assert_int_equal(LOAD(&cfg, err, "--sandbox", "best-effort", "--user", "mcpd"), 0);
	assert_int_equal(cfg.sandbox, SANDBOX_BEST_EFFORT);
	assert_string_equal(cfg.user, "mcpd");
	config_free(&cfg);
	assert_flag_rejected("--sandbox", "off", "strict or best-effort");
	assert_flag_rejected("--user", "a:b", "user name");
}

static void
test_public_ping(void **state)
{
	struct config cfg;

	(void)state;
	assert_int_equal(LOAD_NO_ARGS(&cfg, err), 0);
	assert_true(cfg.public_ping);
	config_free(&cfg);
	assert_int_equal(LOAD(&cfg, err, "--public-ping", "off"), 0);
	assert_false(cfg.public_ping);
	config_free(&cfg);
	setenv("MCPD_PUBLIC_PING", "false", 1);
	assert_int_equal(LOAD_NO_ARGS(&cfg, err), 0);
	assert_false(cfg.public_ping);
	config_free(&cfg);
	assert_int_equal(LOAD(&cfg, err, "--public-ping=on"), 0);
	assert_true(cfg.public_ping);
	config_free(&cfg);
	unsetenv("MCPD_PUBLIC_PING");
	assert_flag_rejected("--public-ping", "sometimes", "on or off");
}

static void
assert_max_body(const char *value, size_t expected)
{
	struct config cfg;

	if (LOAD(&cfg, err, "--max-body", (char *)value) != 0)
		fail_msg("--max-body %s was refused: %s", value, err);
	assert_int_equal(cfg.max_body, expected);
	config_free(&cfg);
}

static void
test_max_body_suffixes(void **state)
{
	(void)state;
	assert_max_body("1024", 1024);
	assert_max_body("1K", 1024);
	assert_max_body("1KiB", 1024);
	assert_max_body("64K", 65536);
	assert_max_body("1M", 1048576);
	assert_max_body("1MiB", 1048576);
	assert_max_body("16384K", 16777216);
}

static void
test_max_body_bounds(void **state)
{
	(void)state;
	assert_max_body("16777216", 16777216);
	assert_max_body("16M", 16777216);
	assert_max_body("16MiB", 16777216);
	assert_flag_rejected("--max-body", "1023", "1 KiB..16 MiB");
	assert_flag_rejected("--max-body", "0", "1 KiB..16 MiB");
	assert_flag_rejected("--max-body", "0K", "1 KiB..16 MiB");
	assert_flag_rejected("--max-body", "16777217", "1 KiB..16 MiB");
	assert_flag_rejected("--max-body", "17M", "1 KiB..16 MiB");
	assert_flag_rejected("--max-body", "16385K", "1 KiB..16 MiB");
}

static void
test_max_pending_output(void **state)
{
	struct config cfg;

	(void)state;
	assert_int_equal(LOAD_NO_ARGS(&cfg, err), 0);
	assert_int_equal(cfg.max_pending_output, 64 * 1024 * 1024);
	config_free(&cfg);
	assert_int_equal(LOAD(&cfg, err, "--max-pending-output", "2G"), 0);
	assert_int_equal(cfg.max_pending_output, 2ULL << 30);
	config_free(&cfg);
	assert_int_equal(LOAD(&cfg, err, "--max-pending-output", "1MiB"), 0);
	assert_int_equal(cfg.max_pending_output, 1 << 20);
	config_free(&cfg);
	assert_flag_rejected("--max-pending-output", "1023K", "1 MiB..64 GiB");
	assert_flag_rejected("--max-pending-output", "65G", "1 MiB..64 GiB");
	assert_flag_rejected("--max-pending-output", "lots", "1 MiB..64 GiB");
}

static void
test_max_body_bad_forms(void **state)
{
	(void)state;
	assert_flag_rejected("--max-body", "1G", "1 KiB..16 MiB");
	assert_flag_rejected("--max-body", "1k", "1 KiB..16 MiB");
	assert_flag_rejected("--max-body", "1 K", "1 KiB..16 MiB");
	assert_flag_rejected("--max-body", "K", "1 KiB..16 MiB");
	assert_flag_rejected("--max-body", "1.5M", "1 KiB..16 MiB");
	assert_flag_rejected("--max-body", "-1M", "1 KiB..16 MiB");
	assert_flag_rejected("--max-body", "1MB", "1 KiB..16 MiB");
	assert_flag_rejected("--max-body", "18446744073709551617", "1 KiB..16 MiB");
	assert_flag_rejected("--max-body", "99999999999999999999999999999999999999K",
	    "1 KiB..16 MiB");
}

static void
test_allowed_origins_list(void **state)
{
	struct config cfg;

	(void)state;
	assert_int_equal(LOAD(&cfg, err, "--allowed-origins",
	    "https://app.example.com,http://localhost:3000,http://[::1]:8080"), 0);
	assert_int_equal(cfg.n_allowed_origins, 3);
	assert_false(cfg.allow_any_origin);
	assert_string_equal(cfg.allowed_origins[0], "https://app.example.com");
	assert_string_equal(cfg.allowed_origins[1], "http://localhost:3000");
	assert_string_equal(cfg.allowed_origins[2], "http://[::1]:8080");
	config_free(&cfg);
	assert_int_equal(cfg.n_allowed_origins, 0);
}

static void
test_allowed_origins_star(void **state)
{
	struct config cfg;

	(void)state;
	assert_int_equal(LOAD(&cfg, err, "--allowed-origins=*"), 0);
	assert_true(cfg.allow_any_origin);
	assert_int_equal(cfg.n_allowed_origins, 0);
	config_free(&cfg);
	setenv("MCPD_ALLOWED_ORIGINS", "*", 1);
	assert_int_equal(LOAD_NO_ARGS(&cfg, err), 0);
	assert_true(cfg.allow_any_origin);
	config_free(&cfg);
}

static void
test_allowed_origins_list_replaces_star(void **state)
{
	struct config cfg;

	(void)state;
	setenv("MCPD_ALLOWED_ORIGINS", "*", 1);
	assert_int_equal(LOAD(&cfg, err, "--allowed-origins", "https://a.example"), 0);
	assert_false(cfg.allow_any_origin);
	assert_int_equal(cfg.n_allowed_origins, 1);
	config_free(&cfg);
}

static void
test_allowed_origins_invalid_entries(void **state)
{
	static const char *accepted = "comma-separated list";

	(void)state;
	assert_flag_rejected("--allowed-origins", "app.example.com", accepted);
	assert_flag_rejected("--allowed-origins", "ftp://app.example.com", accepted);
	assert_flag_rejected("--allowed-origins", "https://app.example.com/", accepted);
	assert_flag_rejected("--allowed-origins", "https://app.example.com/path", accepted);
	assert_flag_rejected("--allowed-origins", "https://user@app.example.com", accepted);
	assert_flag_rejected("--allowed-origins", "https://", accepted);
	assert_flag_rejected("--allowed-origins", "http://a.example,,http://b.example", accepted);
	assert_flag_rejected("--allowed-origins", "http://a.example,", accepted);
	assert_flag_rejected("--allowed-origins", ",http://a.example", accepted);
	assert_flag_rejected("--allowed-origins", "http://a.example, http://b.example", accepted);
	assert_flag_rejected("--allowed-origins", "*,http://a.example", accepted);
	assert_flag_rejected("--allowed-origins", ",", accepted);
}

/* Builds "http://oN.example,..." with n entries. */
static void
origin_list(char *out, size_t cap, int n)
{
	size_t len = 0;

	out[0] = '\0';
	for (int i = 0; i < n; i++)
		len += (size_t)snprintf(out + len, cap - len, "%shttp://o%d.example", i ? "," : "", i);
}

static void
test_allowed_origins_limit(void **state)
{
	char list[2048];
	struct config cfg;

	(void)state;
	origin_list(list, sizeof(list), CONFIG_MAX_ORIGINS);
	assert_int_equal(LOAD(&cfg, err, "--allowed-origins", list), 0);
	assert_int_equal(cfg.n_allowed_origins, CONFIG_MAX_ORIGINS);
	assert_string_equal(cfg.allowed_origins[CONFIG_MAX_ORIGINS - 1], "http://o31.example");
	config_free(&cfg);
	origin_list(list, sizeof(list), CONFIG_MAX_ORIGINS + 1);
	assert_int_equal(LOAD(&cfg, err, "--allowed-origins", list), -1);
	/* The value is named (the hint after it may not fit in the buffer). */
	assert_err_contains("--allowed-origins");
	assert_err_contains("'http://o0.example,");
}

static void
test_metrics_flags(void **state)
{
	struct config cfg;

	(void)state;
	assert_int_equal(LOAD(&cfg, err, "--metrics-listen", "0.0.0.0:9100", "--metrics-emf", "60",
	    "--metrics-namespace", "team/mcpd:prod"), 0);
	assert_true(cfg.metrics_listen);
	assert_string_equal(cfg.metrics_host, "0.0.0.0");
	assert_int_equal(cfg.metrics_port, 9100);
	assert_int_equal(cfg.metrics_emf, 60);
	assert_string_equal(cfg.metrics_namespace, "team/mcpd:prod");
	config_free(&cfg);
	assert_int_equal(LOAD(&cfg, err, "--metrics-listen", "[::1]:65535"), 0);
	assert_string_equal(cfg.metrics_host, "::1");
	assert_int_equal(cfg.metrics_port, 65535);
	config_free(&cfg);
	setenv("MCPD_METRICS_EMF", "0", 1);
	assert_int_equal(LOAD_NO_ARGS(&cfg, err), 0);
	assert_int_equal(cfg.metrics_emf, 0);
	config_free(&cfg);
}

static void
test_metrics_flags_rejected(void **state)
{
	static const char *const listens[] = {
		"9100", ":9100", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:65536", "localhost:9100",
		"::1:9100", "[::1]", "[127.0.0.1]:9100", "[::1]:x", "127.0.0.1:9100 ",
	};
	static const char *const namespaces[] = {":mcpd", "a b", "mcpd\"", "é"};

	(void)state;
	for (size_t i = 0; i < sizeof(listens) / sizeof(listens[0]); i++)
		assert_flag_rejected("--metrics-listen", listens[i], "[::1]:9100");
	assert_flag_rejected("--metrics-emf", "3601", "0..3600");
	assert_flag_rejected("--metrics-emf", "-1", "0..3600");
	for (size_t i = 0; i < sizeof(namespaces) / sizeof(namespaces[0]); i++)
		assert_flag_rejected("--metrics-namespace", namespaces[i], "not starting with a colon");
}

/* An error must be exactly this line: the generated accepted text is pinned. */
static void
assert_flag_error(const char *flag, const char *value, const char *expected)
{
	struct config cfg;

	if (LOAD(&cfg, err, (char *)flag, (char *)value) != -1)
		fail_msg("%s '%s' was accepted", flag, value);
	assert_string_equal(err, expected);
}

/* For values too long to be quoted whole: the error names the flag and ends
 * with exactly this accepted text. */
static void
assert_error_ends_with(const char *flag, const char *value, const char *accepted)
{
	struct config cfg;
	size_t n, m = strlen(accepted);

	if (LOAD(&cfg, err, (char *)flag, (char *)value) != -1)
		fail_msg("%s '%.40s...' was accepted", flag, value);
	n = strlen(err);
	assert_err_contains(flag);
	if (n < m || strcmp(err + n - m, accepted) != 0)
		fail_msg("error message \"%s\" does not end with \"%s\"", err, accepted);
}

/* "PREFIXi,PREFIXi,..." with n items, for list length bounds. */
static void
item_list(char *out, size_t cap, const char *prefix, int n)
{
	size_t len = 0;

	out[0] = '\0';
	for (int i = 0; i < n && len < cap; i++)
		len += (size_t)snprintf(out + len, cap - len, "%s%s%d", i ? "," : "", prefix, i);
}

/* One row of each kind: a value out of its bounds names the bounds. */
static void
test_bound_errors_name_the_range(void **state)
{
	char list[2048];

	(void)state;
	assert_flag_error("--workers", "257", "invalid --workers value '257': expected an integer 1..256");
	assert_flag_error("--port", "65536",
	    "invalid --port value '65536': expected an integer 0..65535 (0 picks a free port)");
	assert_flag_error("--clock-skew", "601", "invalid --clock-skew value '601': expected whole seconds 0..600");
	assert_flag_error("--metrics-emf", "3601",
	    "invalid --metrics-emf value '3601': expected whole seconds 0..3600 (0 turns it off)");
	assert_flag_error("--max-body", "1023", "invalid --max-body value '1023': expected a size of "
	    "1 KiB..16 MiB in bytes, or with a K/KiB, M/MiB or G/GiB suffix");
	assert_flag_error("--max-pending-output", "65G", "invalid --max-pending-output value '65G': expected "
	    "a size of 1 MiB..64 GiB in bytes, or with a K/KiB, M/MiB or G/GiB suffix");
	assert_flag_error("--metrics-listen", "127.0.0.1:0", "invalid --metrics-listen value '127.0.0.1:0': "
	    "expected an IPv4 address and a port 1..65535 such as 127.0.0.1:9100 or 0.0.0.0:9100, "
	    "or an IPv6 address in brackets such as [::1]:9100");
	item_list(list, sizeof(list), "c", CONFIG_MAX_LIST + 1);
	assert_error_ends_with("--allowed-clients", list, "expected a comma-separated list of up to 32 client ids");
	item_list(list, sizeof(list), "s", CONFIG_MAX_LIST + 1);
	assert_error_ends_with("--required-scopes", list,
	    "expected a list of up to 32 scopes separated by commas or spaces");
	item_list(list, sizeof(list), "http://o", CONFIG_MAX_ORIGINS + 1);
	assert_error_ends_with("--allowed-origins", list, "expected '*' or a comma-separated list of up to 32 "
	    "origins such as https://app.example.com,http://localhost:3000");
	memset(list, 'a', 256);
	list[256] = '\0';
	assert_flag_error("--metrics-namespace", ":mcpd", "invalid --metrics-namespace value "
	    "':mcpd': expected 1..255 letters, digits and . - _ / # : not starting with a colon");
	assert_error_ends_with("--metrics-namespace", list,
	    "expected 1..255 letters, digits and . - _ / # : not starting with a colon");
}

/* The kinds without bounds describe their values the same generated way. */
static void
test_kind_errors_say_what_is_accepted(void **state)
{
	(void)state;
	assert_flag_error("--log-level", "loud", "invalid --log-level value 'loud': expected debug, info, warn or error");
	assert_flag_error("--sandbox", "off", "invalid --sandbox value 'off': expected strict or best-effort");
	assert_flag_error("--auth", "jwt",
	    "invalid --auth value 'jwt': expected none (token verification is turned on by --discovery-url)");
	assert_flag_error("--public-ping", "2",
	    "invalid --public-ping value '2': expected on or off (also true/false, 1/0, yes/no)");
	/* A switch takes its value after "="; the second argument is only filler. */
	assert_flag_error("--allow-insecure-issuer=2", "--auth=none",
	    "invalid --allow-insecure-issuer value '2': expected true or false (1/0, yes/no, on/off)");
	assert_flag_error("--host", "x",
	    "invalid --host value 'x': expected an IPv4 or IPv6 address such as 0.0.0.0, 127.0.0.1 or ::");
	assert_flag_error("--resource-url", "file:///x",
	    "invalid --resource-url value 'file:///x': expected an http(s) URL such as https://mcp.example.com/mcp");
	assert_flag_error("--user", "a b", "invalid --user value 'a b': expected a user name such as nobody");
	assert_flag_error("--port", "", "--port is empty: give an integer 0..65535 (0 picks a free port), "
	    "or leave it out for the default");
	setenv("MCPD_CLOCK_SKEW", "601", 1);
	assert_int_equal(LOAD_NO_ARGS(&(struct config){0}, err), -1);
	assert_string_equal(err, "invalid MCPD_CLOCK_SKEW value '601': expected whole seconds 0..600");
}

/* Both ends of every bounded row are accepted and stored. */
static void
test_bounds_are_inclusive(void **state)
{
	char name[256];	/* the longest namespace, 255 characters */
	struct config cfg;

	(void)state;
	assert_int_equal(LOAD(&cfg, err, "--clock-skew", "0", "--jwks-refresh-min", "1",
	    "--jwks-refresh-max", "86400", "--metrics-emf", "3600", "--shutdown-timeout", "0"), 0);
	assert_int_equal(cfg.clock_skew, 0);
	assert_int_equal(cfg.jwks_refresh_min, 1);
	assert_int_equal(cfg.jwks_refresh_max, 86400);
	assert_int_equal(cfg.metrics_emf, 3600);
	config_free(&cfg);
	assert_int_equal(LOAD(&cfg, err, "--clock-skew", "600", "--max-body", "1K",
	    "--max-pending-output", "64GiB", "--metrics-listen", "127.0.0.1:1"), 0);
	assert_int_equal(cfg.clock_skew, 600);
	assert_int_equal(cfg.max_body, 1024);
	assert_int_equal(cfg.max_pending_output, 64ULL << 30);
	assert_int_equal(cfg.metrics_port, 1);
	config_free(&cfg);
	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	assert_int_equal(LOAD(&cfg, err, "--metrics-namespace", name, "--metrics-listen", "[::1]:65535"), 0);
	assert_string_equal(cfg.metrics_namespace, name);
	assert_int_equal(cfg.metrics_port, 65535);
	config_free(&cfg);
}

/* Writes config_print_usage's output into a heap string. */
static char *
capture_usage(void)
{
	FILE *tmp = tmpfile();
	int saved;
	long len;
	char *out;

	assert_non_null(tmp);
	assert_int_equal(fflush(stdout), 0);
	saved = dup(STDOUT_FILENO);
	assert_true(saved >= 0);
	assert_true(dup2(fileno(tmp), STDOUT_FILENO) >= 0);
	config_print_usage("mcpd");
	assert_int_equal(fflush(stdout), 0);
	assert_true(dup2(saved, STDOUT_FILENO) >= 0);
	close(saved);
	len = ftell(tmp);
	assert_true(len > 0);
	out = calloc(1, (size_t)len + 1);
	assert_non_null(out);
	rewind(tmp);
	assert_int_equal(fread(out, 1, (size_t)len, tmp), (size_t)len);
	fclose(tmp);
	return out;
}

/* The --help line of a flag: "  --flag METAVAR  ENV  help (default X)". */
static void
assert_help_line(const char *usage, const struct config_option_doc *doc)
{
	char start[96], line[512], def[160];
	const char *at, *end;

	snprintf(start, sizeof(start), "\n  --%s%s%s ", doc->flag, doc->metavar[0] ? " " : "", doc->metavar);
	at = strstr(usage, start);
	if (at == NULL)
		fail_msg("--help has no line starting with \"%s\"", start + 1);
	end = strchr(at + 1, '\n');
	snprintf(line, sizeof(line), "%.*s", (int)(end - at - 1), at + 1);
	if (strstr(line, doc->env) == NULL)
		fail_msg("--help line \"%s\" does not name %s", line, doc->env);
	snprintf(def, sizeof(def), doc->default_is_value ? "(default %s)" : "(default: %s)", doc->default_text);
	if (doc->default_text[0] != '\0' && strstr(line, def) == NULL)
		fail_msg("--help line \"%s\" does not end with \"%s\"", line, def);
	if (doc->default_text[0] == '\0' && strstr(line, "(default") != NULL)
		fail_msg("--help line \"%s\" shows a default the table does not have", line);
}

static void
test_help_lists_every_flag_with_its_default(void **state)
{
	struct config_option_doc doc;
	char *usage = capture_usage();
	size_t n = 0;

	(void)state;
	for (; config_option_doc(n, &doc); n++)
		assert_help_line(usage, &doc);
	assert_true(n >= 25);
	assert_non_null(strstr(usage, "\n  --help "));
	assert_non_null(strstr(usage, "\n  --version "));
	assert_non_null(strstr(usage, "worker processes, 1..256 (default: online CPUs)"));
	assert_non_null(strstr(usage, "largest request body, 1 KiB..16 MiB; bigger ones get 413 (default 1MiB)"));
	assert_non_null(strstr(usage, "debug, info, warn or error (default info)"));
	/* Every placeholder was filled in. */
	assert_null(strchr(usage, '{'));
	free(usage);
}

/* A default written as a value in the table is exactly that value given as a flag. */
static void
test_defaults_come_from_the_table(void **state)
{
	struct config_option_doc doc;

	(void)state;
	for (size_t i = 0; config_option_doc(i, &doc); i++) {
		struct config by_default, given;
		char flag[96];

		if (!doc.default_is_value)
			continue;
		snprintf(flag, sizeof(flag), "--%s=%s", doc.flag, doc.default_text);
		assert_int_equal(LOAD_NO_ARGS(&by_default, err), 0);
		if (LOAD(&given, err, flag) != 0)
			fail_msg("the table's default %s is refused: %s", flag, err);
		if (memcmp(&by_default, &given, sizeof(given)) != 0)
			fail_msg("%s does not give the same settings as leaving --%s out", flag, doc.flag);
		config_free(&by_default);
		config_free(&given);
	}
}

/* Each row's variable is its flag in capitals: MCPD_ + FLAG with '-' as '_'. */
static void
test_variables_follow_their_flags(void **state)
{
	struct config_option_doc doc, other;

	(void)state;
	for (size_t i = 0; config_option_doc(i, &doc); i++) {
		char env[96];
		size_t n = (size_t)snprintf(env, sizeof(env), "MCPD_%s", doc.flag);

		for (size_t k = 5; k < n; k++)
			env[k] = env[k] == '-' ? '_' : (char)(env[k] >= 'a' && env[k] <= 'z' ? env[k] - 32 : env[k]);
		assert_string_equal(doc.env, env);
		for (size_t j = 0; j < i; j++) {
			assert_true(config_option_doc(j, &other));
			if (strcmp(other.flag, doc.flag) == 0)
				fail_msg("--%s is in the table twice", doc.flag);
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flag_with_separate_value, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flag_with_equals_value, setup, teardown),
		cmocka_unit_test_setup_teardown(test_help_and_version_flags, setup, teardown),
		cmocka_unit_test_setup_teardown(test_environment_sets_values, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flag_beats_environment, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flag_beats_environment_origins, setup, teardown),
		cmocka_unit_test_setup_teardown(test_later_flag_beats_earlier, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_flag, setup, teardown),
		cmocka_unit_test_setup_teardown(test_positional_argument_rejected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flag_missing_value, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flag_empty_value, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_mcpd_variable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_variables_ignored, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty_environment_value, setup, teardown),
		cmocka_unit_test_setup_teardown(test_invalid_environment_value_names_variable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_invalid_environment_value_even_when_flag_given, setup, teardown),
		cmocka_unit_test_setup_teardown(test_port_bounds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_workers_bounds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_host_values, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timeout_bounds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_log_level_values, setup, teardown),
		cmocka_unit_test_setup_teardown(test_auth_values, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_authentication_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_discovery_url_turns_verification_on, setup, teardown),
		cmocka_unit_test_setup_teardown(test_discovery_url_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_auth_lists_and_bounds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sandbox_and_user, setup, teardown),
		cmocka_unit_test_setup_teardown(test_public_ping, setup, teardown),
		cmocka_unit_test_setup_teardown(test_max_pending_output, setup, teardown),
		cmocka_unit_test_setup_teardown(test_max_body_suffixes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_max_body_bounds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_max_body_bad_forms, setup, teardown),
		cmocka_unit_test_setup_teardown(test_allowed_origins_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_allowed_origins_star, setup, teardown),
		cmocka_unit_test_setup_teardown(test_allowed_origins_list_replaces_star, setup, teardown),
		cmocka_unit_test_setup_teardown(test_allowed_origins_invalid_entries, setup, teardown),
		cmocka_unit_test_setup_teardown(test_allowed_origins_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_metrics_flags, setup, teardown),
		cmocka_unit_test_setup_teardown(test_metrics_flags_rejected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bound_errors_name_the_range, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kind_errors_say_what_is_accepted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bounds_are_inclusive, setup, teardown),
		cmocka_unit_test_setup_teardown(test_help_lists_every_flag_with_its_default, setup, teardown),
		cmocka_unit_test_setup_teardown(test_defaults_come_from_the_table, setup, teardown),
		cmocka_unit_test_setup_teardown(test_variables_follow_their_flags, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
