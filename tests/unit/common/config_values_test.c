/*
 * Unit tests for common/config_values.c: each kind of value (numbers and
 * their bounds, sizes with suffixes, addresses, words, switches, origin and
 * item lists, URLs, names, the egress allowlist and limits, a readable
 * file), accepted and stored or refused, through the flags that take it.
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

/* --egress-allow reaches the config parsed; the flag wins over the variable. */
static void
test_egress_allow(void **state)
{
	struct config cfg;

	(void)state;
	assert_int_equal(LOAD_NO_ARGS(&cfg, err), 0);
	assert_int_equal(cfg.egress_allow.n, 0);
	assert_null(cfg.egress_allow.entries);
	config_free(&cfg);
	assert_int_equal(LOAD(&cfg, err, "--egress-allow", "docs.example.com, fetch=10.0.0.5:8080,s3=-*.s3.*.amazonaws.com"), 0);
	assert_int_equal(cfg.egress_allow.n, 3);
	assert_string_equal(cfg.egress_allow.entries[0].pattern.host, "docs.example.com");
	assert_int_equal(cfg.egress_allow.entries[0].pattern.port, 443);
	assert_string_equal(cfg.egress_allow.entries[1].tool, "fetch");
	assert_int_equal(cfg.egress_allow.entries[1].pattern.kind, EGRESS_HOST_IPV4);
	assert_int_equal(cfg.egress_allow.entries[1].pattern.port, 8080);
	assert_true(cfg.egress_allow.entries[2].removes);
	config_free(&cfg);
	assert_null(cfg.egress_allow.entries);
	setenv("MCPD_EGRESS_ALLOW", "a.example,b.example", 1);
	assert_int_equal(LOAD_NO_ARGS(&cfg, err), 0);
	assert_int_equal(cfg.egress_allow.n, 2);
	config_free(&cfg);
	assert_int_equal(LOAD(&cfg, err, "--egress-allow=c.example"), 0);
	assert_int_equal(cfg.egress_allow.n, 1);
	assert_string_equal(cfg.egress_allow.entries[0].pattern.host, "c.example");
	config_free(&cfg);
}

/* A bad list is one line naming the flag (or variable), the entry and what is wrong. */
static void
test_egress_allow_rejected(void **state)
{
	struct config cfg;

	(void)state;
	assert_int_equal(LOAD(&cfg, err, "--egress-allow", "x.com,y.com,api..example.com"), -1);
	assert_string_equal(err, "--egress-allow entry 3 \"api..example.com\": empty DNS label");
	assert_int_equal(LOAD(&cfg, err, "--egress-allow=Fetch=x.com"), -1);
	assert_string_equal(err, "--egress-allow entry 1 \"Fetch=x.com\": a tool name is 1 to 64 of [a-z0-9_]");
	assert_int_equal(LOAD(&cfg, err, "--egress-allow", "a.com\n,b.com"), -1);
	assert_string_equal(err, "--egress-allow entry 1 \"a.com?\": a host name holds only letters, digits, "
	    "'-', '_' and '.'");
	assert_int_equal(LOAD(&cfg, err, "--egress-allow", ""), -1);
	assert_string_equal(err, "--egress-allow is empty: give a comma-separated list of up to 256 "
	    "[TOOL=][-]HOST[:PORT] entries such as docs.example.com,weather=*.weather.gov:*,"
	    "s3=-*.s3.us-west-2.amazonaws.com, or leave it out for the default");
	setenv("MCPD_EGRESS_ALLOW", "10.0.0.*", 1);
	assert_int_equal(LOAD_NO_ARGS(&cfg, err), -1);
	assert_string_equal(err, "MCPD_EGRESS_ALLOW entry 1 \"10.0.0.*\": wildcards are not allowed in IP addresses");
	assert_null(strchr(err, '\n'));
}

/* The egress's limits: defaults, both ends, beyond them; the flag wins over the variable. */
static void
test_egress_limits(void **state)
{
	struct config cfg;

	(void)state;
	assert_int_equal(LOAD_NO_ARGS(&cfg, err), 0);
	assert_int_equal(cfg.egress_max_response, 1048576);
	assert_int_equal(cfg.egress_max_in_flight, 1024);
	assert_string_equal(cfg.egress_ca_file, "");
	config_free(&cfg);
	assert_int_equal(LOAD(&cfg, err, "--egress-max-response", "1", "--egress-max-in-flight", "1"), 0);
	assert_int_equal(cfg.egress_max_response, 1);
	assert_int_equal(cfg.egress_max_in_flight, 1);
	config_free(&cfg);
	assert_int_equal(LOAD(&cfg, err, "--egress-max-response", "16MiB", "--egress-max-in-flight", "1024"), 0);
	assert_int_equal(cfg.egress_max_response, 16777216);
	assert_int_equal(cfg.egress_max_in_flight, 1024);
	config_free(&cfg);
	assert_int_equal(LOAD(&cfg, err, "--egress-max-response=64K"), 0);
	assert_int_equal(cfg.egress_max_response, 65536);
	config_free(&cfg);
	setenv("MCPD_EGRESS_MAX_IN_FLIGHT", "8", 1);
	setenv("MCPD_EGRESS_MAX_RESPONSE", "2048", 1);
	assert_int_equal(LOAD_NO_ARGS(&cfg, err), 0);
	assert_int_equal(cfg.egress_max_in_flight, 8);
	assert_int_equal(cfg.egress_max_response, 2048);
	config_free(&cfg);
	assert_int_equal(LOAD(&cfg, err, "--egress-max-in-flight", "16"), 0);
	assert_int_equal(cfg.egress_max_in_flight, 16);
	config_free(&cfg);
	unsetenv("MCPD_EGRESS_MAX_IN_FLIGHT");
	unsetenv("MCPD_EGRESS_MAX_RESPONSE");
	assert_flag_rejected("--egress-max-response", "0", "1..16 MiB");
	assert_flag_rejected("--egress-max-response", "16777217", "1..16 MiB");
	assert_flag_rejected("--egress-max-response", "17M", "1..16 MiB");
	assert_flag_rejected("--egress-max-response", "-1", "1..16 MiB");
	assert_flag_rejected("--egress-max-in-flight", "0", "1..1024");
	assert_flag_rejected("--egress-max-in-flight", "1025", "1..1024");
	assert_flag_rejected("--egress-max-in-flight", "ten", "1..1024");
}

/* --egress-ca-file must name a file mcpd can read, checked when it starts. */
static void
test_egress_ca_file(void **state)
{
	char path[256], missing[300], expected[400];
	struct config cfg;
	int fd;

	(void)state;
	snprintf(path, sizeof(path), "%s/mcpd-ca-XXXXXX", P_tmpdir);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(LOAD(&cfg, err, "--egress-ca-file", path), 0);
	assert_string_equal(cfg.egress_ca_file, path);
	config_free(&cfg);
	setenv("MCPD_EGRESS_CA_FILE", path, 1);
	assert_int_equal(LOAD_NO_ARGS(&cfg, err), 0);
	assert_string_equal(cfg.egress_ca_file, path);
	config_free(&cfg);
	unsetenv("MCPD_EGRESS_CA_FILE");
	snprintf(missing, sizeof(missing), "%s.gone", path);
	assert_int_equal(LOAD(&cfg, err, "--egress-ca-file", missing), -1);
	snprintf(expected, sizeof(expected), "--egress-ca-file '%s' cannot be read: No such file or directory", missing);
	assert_string_equal(err, expected);
	assert_int_equal(LOAD(&cfg, err, "--egress-ca-file", P_tmpdir), -1);
	snprintf(expected, sizeof(expected), "--egress-ca-file '%s' cannot be read: not a regular file", P_tmpdir);
	assert_string_equal(err, expected);
	setenv("MCPD_EGRESS_CA_FILE", missing, 1);
	assert_int_equal(LOAD_NO_ARGS(&cfg, err), -1);
	snprintf(expected, sizeof(expected), "MCPD_EGRESS_CA_FILE '%s' cannot be read: No such file or directory", missing);
	assert_string_equal(err, expected);
	unsetenv("MCPD_EGRESS_CA_FILE");
	assert_int_equal(LOAD(&cfg, err, "--egress-ca-file", ""), -1);
	assert_string_equal(err, "--egress-ca-file is empty: give the path of a readable file such as "
	    "/etc/mcpd/ca.pem, or leave it out for the default");
	unlink(path);
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		CONFIG_TEST(test_port_bounds),
		CONFIG_TEST(test_workers_bounds),
		CONFIG_TEST(test_host_values),
		CONFIG_TEST(test_timeout_bounds),
		CONFIG_TEST(test_log_level_values),
		CONFIG_TEST(test_auth_values),
		CONFIG_TEST(test_sandbox_and_user),
		CONFIG_TEST(test_public_ping),
		CONFIG_TEST(test_max_body_suffixes),
		CONFIG_TEST(test_max_body_bounds),
		CONFIG_TEST(test_max_pending_output),
		CONFIG_TEST(test_max_body_bad_forms),
		CONFIG_TEST(test_allowed_origins_list),
		CONFIG_TEST(test_allowed_origins_star),
		CONFIG_TEST(test_allowed_origins_list_replaces_star),
		CONFIG_TEST(test_allowed_origins_invalid_entries),
		CONFIG_TEST(test_allowed_origins_limit),
		CONFIG_TEST(test_metrics_flags),
		CONFIG_TEST(test_metrics_flags_rejected),
		CONFIG_TEST(test_bounds_are_inclusive),
		CONFIG_TEST(test_egress_allow),
		CONFIG_TEST(test_egress_allow_rejected),
		CONFIG_TEST(test_egress_limits),
		CONFIG_TEST(test_egress_ca_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
