/*
 * Unit tests for egress/credentials.c: the instance metadata service's
 * credentials document (good, bad JSON, missing fields, Code not Success,
 * bad Expiration), the time of a refresh, and the endpoint rule
 * (AWS_ENDPOINT_URL_<SERVICE>, then AWS_ENDPOINT_URL, for the service's
 * default host only).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "egress/credentials.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void
test_parse_good(void **state)
{
	static const char doc[] = "{\"Code\":\"Success\",\"LastUpdated\":\"2026-12-08T00:00:00Z\",\"Type\":"
	    "\"AWS-HMAC\",\"AccessKeyId\":\"ASIAEXAMPLE\",\"SecretAccessKey\":\"secret/key+1\",\"Token\":"
	    "\"token==\",\"Expiration\":\"2026-12-08T06:00:00Z\"}";
	struct aws_credentials c;
	char err[200] = "";

	(void)state;
	assert_int_equal(credentials_parse_imds(doc, strlen(doc), &c, err, sizeof(err)), 0);
	assert_string_equal(c.access_key_id, "ASIAEXAMPLE");
	assert_string_equal(c.secret_access_key, "secret/key+1");
	assert_string_equal(c.session_token, "token==");
	assert_int_equal(c.expiration, 1796709600);	/* date -u -d 2026-12-08T06:00:00Z +%s */
	credentials_clear(&c);
	assert_null(c.access_key_id);
}

static void
test_parse_bad(void **state)
{
	static const struct {
		const char *doc, *error;
	} rows[] = {
		{"not json", "not a JSON object"},
		{"[1,2]", "not a JSON object"},
		{"{\"Code\":\"Success\",\"AccessKeyId\":\"A\",", "not a JSON object"},
		{"{\"AccessKeyId\":\"A\"}", "Code is missing"},
		{"{\"Code\":\"AssumeRoleUnauthorizedAccess\",\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"S\","
		    "\"Token\":\"T\",\"Expiration\":\"2026-12-08T06:00:00Z\"}", "Code is not Success"},
		{"{\"Code\":\"Success\",\"SecretAccessKey\":\"S\",\"Token\":\"T\",\"Expiration\":"
		    "\"2026-12-08T06:00:00Z\"}", "no AccessKeyId"},
		{"{\"Code\":\"Success\",\"AccessKeyId\":\"A\",\"Token\":\"T\",\"Expiration\":"
		    "\"2026-12-08T06:00:00Z\"}", "no SecretAccessKey"},
		{"{\"Code\":\"Success\",\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"S\",\"Expiration\":"
		    "\"2026-12-08T06:00:00Z\"}", "no Token"},
		{"{\"Code\":\"Success\",\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"S\",\"Token\":\"T\"}",
		    "no Expiration"},
		{"{\"Code\":\"Success\",\"AccessKeyId\":7,\"SecretAccessKey\":\"S\",\"Token\":\"T\",\"Expiration\":"
		    "\"2026-12-08T06:00:00Z\"}", "no AccessKeyId"},
		{"{\"Code\":\"Success\",\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"S\",\"Token\":\"T\",\"Expiration\":"
		    "\"tomorrow\"}", "Expiration is not"},
		{"{\"Code\":\"Success\",\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"S\",\"Token\":\"T\",\"Expiration\":"
		    "\"2026-12-08T06:00:00+01:00\"}", "Expiration is not"},
	};

	(void)state;
	for (size_t i = 0; i < N(rows); i++) {
		struct aws_credentials c;
		char err[200] = "";

		if (credentials_parse_imds(rows[i].doc, strlen(rows[i].doc), &c, err, sizeof(err)) != -1 ||
		    strstr(err, rows[i].error) == NULL)
			fail_msg("row %zu: got \"%s\", want \"%s\"", i, err, rows[i].error);
		assert_null(c.access_key_id);
		/* No message quotes a value. */
		assert_null(strstr(err, "\"S\""));
	}
}

static void
test_parse_time(void **state)
{
	static const struct {
		const char *text;
		time_t want;	/* -1: refused */
	} rows[] = {
		{"1970-01-01T00:00:00Z", 0},
		{"2026-12-08T06:00:00Z", 1796709600},
		{"2026-12-08T06:00:00.123Z", 1796709600},
		{"2024-02-29T00:00:00Z", 1709164800},
		{"2026-02-30T00:00:00Z", -1},
		{"2026-13-01T00:00:00Z", -1},
		{"2026-12-08T24:00:00Z", -1},
		{"2026-12-08 06:00:00Z", -1},
		{"2026-12-08T06:00:00", -1},
		{"2026-12-08T06:00:00Zjunk", -1},
		{"26-12-08T06:00:00Z", -1},
		{"", -1},
	};

	(void)state;
	for (size_t i = 0; i < N(rows); i++) {
		time_t got = -1;
		int rc = credentials_parse_time(rows[i].text, &got);

		if ((rows[i].want == -1) != (rc == -1) || (rc == 0 && got != rows[i].want))
			fail_msg("row %zu \"%s\": rc %d, time %lld", i, rows[i].text, rc, (long long)got);
	}
}

static void
test_refresh_at(void **state)
{
	(void)state;
	/* Six hours: five minutes before expiry. */
	assert_int_equal(credentials_refresh_at(1000, 1000 + 21600), 1000 + 21600 - 300);
	/* Exactly ten minutes: still five minutes before. */
	assert_int_equal(credentials_refresh_at(1000, 1600), 1300);
	/* Shorter than ten minutes: at half-life. */
	assert_int_equal(credentials_refresh_at(1000, 1004), 1002);
	assert_int_equal(credentials_refresh_at(1000, 1001), 1000);
	/* Already expired: at once. */
	assert_int_equal(credentials_refresh_at(1000, 900), 1000);
}

static void
test_endpoint_variable(void **state)
{
	char name[64];

	(void)state;
	credentials_endpoint_variable("s3", name, sizeof(name));
	assert_string_equal(name, "AWS_ENDPOINT_URL_S3");
	credentials_endpoint_variable("Secrets Manager", name, sizeof(name));
	assert_string_equal(name, "AWS_ENDPOINT_URL_SECRETS_MANAGER");
	credentials_endpoint_variable("s3-outposts", name, sizeof(name));
	assert_string_equal(name, "AWS_ENDPOINT_URL_S3_OUTPOSTS");
}

static void
env_set(struct aws_env *env, const char *name, const char *value)
{
	env->names[env->count] = (char *)name;
	env->values[env->count] = (char *)value;
	env->count++;
}

static void
test_endpoint_url(void **state)
{
	static const struct {
		const char *service, *region, *url, *want;	/* want NULL: unchanged; "!": refused */
	} rows[] = {
		/* The service's own variable first. */
		{"s3", "us-east-1", "https://s3.us-east-1.amazonaws.com/bucket/a//b/../k?x=1",
		    "http://127.0.0.1:9000/bucket/a//b/../k?x=1"},
		{"S3", "us-east-1", "https://S3.US-EAST-1.amazonaws.com/b", "http://127.0.0.1:9000/b"},
		/* Then AWS_ENDPOINT_URL. */
		{"sqs", "us-east-1", "https://sqs.us-east-1.amazonaws.com/", "https://localhost/"},
		{"secretsmanager", "eu-west-1", "https://secretsmanager.eu-west-1.amazonaws.com/",
		    "https://localhost/"},
		/* Not the default host: unchanged. */
		{"s3", "us-east-1", "https://bucket.s3.us-east-1.amazonaws.com/k", NULL},
		{"s3", "us-east-1", "https://s3.us-west-2.amazonaws.com/k", NULL},
		{"s3", "us-east-1", "https://example.com/k", NULL},
		{"s3", NULL, "https://s3.us-east-1.amazonaws.com/k", NULL},
		/* An endpoint that is not a bare origin. */
		{"dynamodb", "us-east-1", "https://dynamodb.us-east-1.amazonaws.com/", "!"},
	};
	struct aws_env env = {0};

	(void)state;
	env_set(&env, "AWS_ENDPOINT_URL_S3", "http://127.0.0.1:9000");
	env_set(&env, "AWS_ENDPOINT_URL", "https://localhost/");
	env_set(&env, "AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:8000/prefix");
	for (size_t i = 0; i < N(rows); i++) {
		char *out = (char *)"unset", why[200] = "";
		int rc = credentials_endpoint_url(&env, rows[i].service, rows[i].region, rows[i].url, &out, why,
		    sizeof(why));

		if (rows[i].want != NULL && strcmp(rows[i].want, "!") == 0) {
			if (rc != -1 || strstr(why, "AWS_ENDPOINT_URL_DYNAMODB") == NULL)
				fail_msg("row %zu: rc %d, why \"%s\"", i, rc, why);
		} else if (rc != 0 || (rows[i].want == NULL) != (out == NULL) ||
		    (out != NULL && strcmp(out, rows[i].want) != 0))
			fail_msg("row %zu: rc %d, got \"%s\", want \"%s\" (%s)", i, rc, out ? out : "(none)",
			    rows[i].want ? rows[i].want : "(none)", why);
		if (rc == 0)
			free(out);
	}
}

static void
test_endpoint_none(void **state)
{
	struct aws_env env = {0};
	char *out = (char *)"unset", why[100];

	(void)state;
	assert_int_equal(credentials_endpoint_url(&env, "s3", "us-east-1", "https://s3.us-east-1.amazonaws.com/",
	    &out, why, sizeof(why)), 0);
	assert_null(out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_good),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_parse_time),
		cmocka_unit_test(test_refresh_at),
		cmocka_unit_test(test_endpoint_variable),
		cmocka_unit_test(test_endpoint_url),
		cmocka_unit_test(test_endpoint_none),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
