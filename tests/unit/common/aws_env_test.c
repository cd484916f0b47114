/*
 * Unit tests for common/aws_env.c: every AWS_* variable leaves the
 * environment (its bytes zeroed where they lay, its entry gone from
 * environ), the rest stays, and the sealed copy reads back exactly.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>

#include <cmocka.h>

#include "common/aws_env.h"

extern char **environ;

static int
all_zero(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != '\0')
			return 0;
	return 1;
}

static void
test_takes_every_aws_variable_and_nothing_else(void **state)
{
	char path[] = "PATH=/usr/bin", secret[] = "AWS_SECRET_ACCESS_KEY=s3cr3t/+=x",
	    region[] = "AWS_REGION=eu-west-1", awsx[] = "AWSX=kept", empty[] = "AWS_PROFILE=",
	    *fake[] = {path, secret, region, awsx, empty, NULL}, **saved = environ;
	const size_t secret_len = sizeof(secret) - 1;
	struct aws_env env;
	size_t taken = 99;
	char err[128];
	int fd;

	(void)state;
	environ = fake;
	fd = aws_env_take(&taken, err, sizeof(err));
	environ = saved;
	assert_true(fd >= 0);
	assert_int_equal(taken, 3);
	assert_true(all_zero(secret, secret_len));
	assert_true(all_zero(region, sizeof(region) - 1));
	assert_string_equal(fake[0], "PATH=/usr/bin");
	assert_string_equal(fake[1], "AWSX=kept");
	assert_null(fake[2]);

	assert_int_equal(aws_env_load(fd, &env, err, sizeof(err)), 0);
	assert_int_equal(env.count, 3);
	assert_string_equal(aws_env_get(&env, "AWS_SECRET_ACCESS_KEY"), "s3cr3t/+=x");
	assert_string_equal(aws_env_get(&env, "AWS_REGION"), "eu-west-1");
	assert_string_equal(aws_env_get(&env, "AWS_PROFILE"), "");
	assert_null(aws_env_get(&env, "AWSX"));
	aws_env_free(&env);
	assert_int_equal(env.count, 0);
	/* Sealed: nothing can be added to it. */
	assert_true(write(fd, "AWS_X=1", 8) < 0);
	close(fd);
}

static void
test_an_empty_set_is_an_empty_file(void **state)
{
	char path[] = "PATH=/usr/bin", *fake[] = {path, NULL}, **saved = environ;
	struct aws_env env;
	size_t taken = 99;
	char err[128];
	int fd;

	(void)state;
	environ = fake;
	fd = aws_env_take(&taken, err, sizeof(err));
	environ = saved;
	assert_true(fd >= 0);
	assert_int_equal(taken, 0);
	assert_int_equal(aws_env_load(fd, &env, err, sizeof(err)), 0);
	assert_int_equal(env.count, 0);
	close(fd);
}

/* Takes `vars` (NULL-terminated NAME=VALUE strings, modified) and reads the region back. */
static int
region_of(char **vars, char *region, size_t len, char *err, size_t errlen)
{
	char **saved = environ;
	size_t taken;
	int fd, rc;

	environ = vars;
	fd = aws_env_take(&taken, err, errlen);
	environ = saved;
	assert_true(fd >= 0);
	rc = aws_env_region(fd, region, len, err, errlen);
	close(fd);
	return rc;
}

static void
test_the_region_is_aws_region_else_aws_default_region(void **state)
{
	char both_r[] = "AWS_REGION=eu-west-1", both_d[] = "AWS_DEFAULT_REGION=us-east-2",
	    *both[] = {both_d, both_r, NULL};
	char only_d[] = "AWS_DEFAULT_REGION=us-gov-west-1", *fallback[] = {only_d, NULL};
	char empty_r[] = "AWS_REGION=", empty_d[] = "AWS_DEFAULT_REGION=ap-south-2", *empty[] = {empty_r, empty_d, NULL};
	char key[] = "AWS_ACCESS_KEY_ID=AKIA", *none[] = {key, NULL};
	char bad[] = "AWS_REGION=us-east-1.evil.example/x", *bent[] = {bad, NULL};
	char region[32], err[160];

	(void)state;
	assert_int_equal(region_of(both, region, sizeof(region), err, sizeof(err)), 0);
	assert_string_equal(region, "eu-west-1");
	assert_int_equal(region_of(fallback, region, sizeof(region), err, sizeof(err)), 0);
	assert_string_equal(region, "us-gov-west-1");
	assert_int_equal(region_of(empty, region, sizeof(region), err, sizeof(err)), 0);
	assert_string_equal(region, "ap-south-2");
	assert_int_equal(region_of(none, region, sizeof(region), err, sizeof(err)), 0);
	assert_string_equal(region, "");
	/* A value that would bend a service's URL is refused, naming the variable. */
	assert_int_equal(region_of(bent, region, sizeof(region), err, sizeof(err)), -1);
	assert_string_equal(err, "AWS_REGION is not an AWS region (1 to 31 of a-z, 0-9 and -, e.g. us-east-1)");
	assert_string_equal(region, "");
}

static void
test_too_many_leaves_the_environment_as_it_was(void **state)
{
	static char entries[AWS_ENV_MAX + 1][32];
	char *fake[AWS_ENV_MAX + 2], **saved = environ;
	size_t taken = 0;
	char err[128];

	(void)state;
	for (int i = 0; i <= AWS_ENV_MAX; i++) {
		snprintf(entries[i], sizeof(entries[i]), "AWS_V%d=%d", i, i);
		fake[i] = entries[i];
	}
	fake[AWS_ENV_MAX + 1] = NULL;
	environ = fake;
	assert_int_equal(aws_env_take(&taken, err, sizeof(err)), -1);
	environ = saved;
	assert_non_null(strstr(err, "more than 64 AWS_* environment variables"));
	assert_string_equal(fake[0], "AWS_V0=0");
	assert_string_equal(fake[AWS_ENV_MAX], "AWS_V64=64");
}

static void
test_a_damaged_file_is_refused(void **state)
{
	char path[] = "/tmp/mcpd-aws-env-XXXXXX";
	struct aws_env env;
	char err[128];
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	unlink(path);
	assert_int_equal(write(fd, "AWS_A=1\0NOT_AWS=2\0", 18), 18);
	assert_int_equal(aws_env_load(fd, &env, err, sizeof(err)), -1);
	assert_string_equal(err, "the AWS_* variables' file is damaged at byte 8");
	assert_int_equal(env.count, 0);
	assert_int_equal(ftruncate(fd, 0), 0);
	assert_int_equal(write(fd, "AWS_A=1", 7), 7);	/* no final NUL */
	assert_int_equal(aws_env_load(fd, &env, err, sizeof(err)), -1);
	close(fd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_takes_every_aws_variable_and_nothing_else),
		cmocka_unit_test(test_an_empty_set_is_an_empty_file),
		cmocka_unit_test(test_the_region_is_aws_region_else_aws_default_region),
		cmocka_unit_test(test_too_many_leaves_the_environment_as_it_was),
		cmocka_unit_test(test_a_damaged_file_is_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
