/*
 * Unit tests for common/config.c: how settings are loaded (defaults, then
 * MCPD_* variables, then flags, each refused with a message that names it)
 * and the checks across settings (authentication, the discovery URL, the
 * refresh bounds, the per-client limits).
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
#include "tests/unit/common/config_fixture.h"

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
test_client_limits(void **state)
{
	struct config cfg;

	(void)state;
	assert_int_equal(LOAD_NO_ARGS(&cfg, err), 0);
	assert_int_equal(cfg.client_rate_limit.rate_milli, 0);	/* off by default */
	assert_int_equal(cfg.client_concurrency, 0);
	assert_int_equal(cfg.client_limit_key, CLIENT_KEY_CLIENT_ID);
	config_free(&cfg);
	assert_flag_rejected("--client-rate-limit", "10", "RATE:BURST");
	assert_flag_rejected("--client-rate-limit", "0:5", "0.001 to 1000000");
	assert_flag_rejected("--client-rate-limit", "1.2345:5", "three decimals");
	assert_flag_rejected("--client-rate-limit", "1.:5", "RATE:BURST");
	assert_flag_rejected("--client-rate-limit", "-1:5", "RATE:BURST");
	assert_flag_rejected("--client-rate-limit", "5:0", "1 to 1000000");
	assert_flag_rejected("--client-rate-limit", "1000001:5", "RATE:BURST");
	assert_flag_rejected("--client-concurrency", "1000001", "0..1000000");
	assert_flag_rejected("--client-limit-key", "email", "client_id or sub");
	/* The limits key on a verified token: under --auth none they are refused, saying why. */
	assert_int_equal(LOAD(&cfg, err, "--client-concurrency", "4"), -1);
	assert_err_contains("--auth none verifies no token");
	assert_err_contains("client_id");
	assert_int_equal(LOAD(&cfg, err, "--client-rate-limit", "5:10", "--client-limit-key", "sub"), -1);
	assert_err_contains("token's sub");
	assert_int_equal(LOAD(&cfg, err, "--client-rate-limit", "off", "--client-concurrency", "0"), 0);
	config_free(&cfg);
	unsetenv("MCPD_AUTH");
	setenv("MCPD_CLIENT_RATE_LIMIT", "0.5:3", 1);
	assert_int_equal(LOAD(&cfg, err, "--discovery-url", COGNITO_URL, "--allowed-clients", "c",
	    "--client-concurrency", "8", "--client-limit-key", "sub"), 0);
	assert_int_equal(cfg.client_rate_limit.rate_milli, 500);
	assert_int_equal(cfg.client_rate_limit.burst, 3);
	assert_int_equal(cfg.client_concurrency, 8);
	assert_int_equal(cfg.client_limit_key, CLIENT_KEY_SUB);
	config_free(&cfg);
	assert_int_equal(LOAD(&cfg, err, "--discovery-url", COGNITO_URL, "--allowed-clients", "c",
	    "--client-rate-limit", "1000000:1000000"), 0);
	assert_int_equal(cfg.client_rate_limit.rate_milli, 1000000000ULL);
	config_free(&cfg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		CONFIG_TEST(test_defaults),
		CONFIG_TEST(test_flag_with_separate_value),
		CONFIG_TEST(test_flag_with_equals_value),
		CONFIG_TEST(test_help_and_version_flags),
		CONFIG_TEST(test_environment_sets_values),
		CONFIG_TEST(test_flag_beats_environment),
		CONFIG_TEST(test_flag_beats_environment_origins),
		CONFIG_TEST(test_later_flag_beats_earlier),
		CONFIG_TEST(test_unknown_flag),
		CONFIG_TEST(test_positional_argument_rejected),
		CONFIG_TEST(test_flag_missing_value),
		CONFIG_TEST(test_flag_empty_value),
		CONFIG_TEST(test_unknown_mcpd_variable),
		CONFIG_TEST(test_other_variables_ignored),
		CONFIG_TEST(test_empty_environment_value),
		CONFIG_TEST(test_invalid_environment_value_names_variable),
		CONFIG_TEST(test_invalid_environment_value_even_when_flag_given),
		CONFIG_TEST(test_no_authentication_is_refused),
		CONFIG_TEST(test_discovery_url_turns_verification_on),
		CONFIG_TEST(test_discovery_url_rules),
		CONFIG_TEST(test_auth_lists_and_bounds),
		CONFIG_TEST(test_client_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
