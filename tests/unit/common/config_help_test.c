/*
 * Unit tests for common/config_help.c and the option table it reads
 * (common/config_table.c): the "expected ..." text of every kind of bad
 * value, --help, the defaults the table writes down, and the variable of
 * each flag.
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
	    "expected an IPv4 address and a port 1..65535 such as 127.0.0.1:9100 or 10.0.1.5:9100, "
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
		CONFIG_TEST(test_bound_errors_name_the_range),
		CONFIG_TEST(test_kind_errors_say_what_is_accepted),
		CONFIG_TEST(test_help_lists_every_flag_with_its_default),
		CONFIG_TEST(test_defaults_come_from_the_table),
		CONFIG_TEST(test_variables_follow_their_flags),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
