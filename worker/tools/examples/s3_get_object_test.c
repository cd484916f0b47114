/* s3_get_object: what it refuses before any request (the requests themselves: tests/integration/73). */
#include "tests/unit/tool_test.h"

/* A bucket name that passes the rules, with a key that does not: the call stops at the key. */
static void
assert_bucket_accepted(const char *bucket)
{
	char args[256];

	snprintf(args, sizeof(args), "{\"bucket\":\"%s\",\"key\":\"\"}", bucket);
	assert_tool_error("s3_get_object", args, "key must be 1 to 1024 bytes of UTF-8, not 0");
}

static void
assert_bucket_refused(const char *bucket, const char *why)
{
	char args[256];

	snprintf(args, sizeof(args), "{\"bucket\":\"%s\",\"key\":\"a.txt\"}", bucket);
	assert_tool_error("s3_get_object", args, why);
}

static void
test_bucket_rules(void **state)
{
	(void)state;
	assert_bucket_accepted("abc");
	assert_bucket_accepted("my.docs-2024");
	assert_bucket_accepted("0123456789012345678901234567890123456789012345678901234567890ab");	/* 63 */
	assert_bucket_refused("ab", "bucket \"ab\" must be 3 to 63 characters long");
	assert_tool_error("s3_get_object",
	    "{\"bucket\":\"0123456789012345678901234567890123456789012345678901234567890abc\",\"key\":\"a\"}",
	    "argument 'bucket' must be at most 63 characters");
	assert_bucket_refused("My-Docs", "may hold only lower-case letters, digits, '.' and '-'");
	assert_bucket_refused("my_docs", "may hold only lower-case letters, digits, '.' and '-'");
	assert_bucket_refused("my docs", "may hold only lower-case letters, digits, '.' and '-'");
	assert_bucket_refused("docs/x", "may hold only lower-case letters, digits, '.' and '-'");
	assert_bucket_refused("-docs", "must begin and end with a letter or a digit");
	assert_bucket_refused("docs.", "must begin and end with a letter or a digit");
	assert_bucket_refused("do..cs", "may not hold two periods in a row");
}

static void
test_key_length_in_bytes(void **state)
{
	char args[2048] = "{\"bucket\":\"docs\",\"key\":\"";
	size_t n = strlen(args);

	(void)state;
	/* 513 characters of two bytes each: within the schema's 1024 characters, over S3's 1024 bytes. */
	for (int i = 0; i < 513; i++, n += 2)
		memcpy(args + n, "\xc3\xa9", 2);
	memcpy(args + n, "\"}", 3);
	assert_tool_error("s3_get_object", args, "key must be 1 to 1024 bytes of UTF-8, not 1026");
	assert_tool_error("s3_get_object", "{\"bucket\":\"docs\"}", "missing required argument 'key'");
}

TOOL_TESTS(cmocka_unit_test(test_bucket_rules), cmocka_unit_test(test_key_length_in_bytes))
