/* Runs in: workers, after the sandbox (built with -DMCPD_EXAMPLE_TOOLS=ON). */
/*
 * s3_get_object: the text of an S3 object, read with the runtime's AWS
 * credentials.  The tool never sees them: it names the service ("s3") and
 * the egress process signs the request (SigV4) with its credential chain.
 * The URL is path-style on the regional endpoint, the host the egress
 * rewrites to AWS_ENDPOINT_URL_S3 when that is set.
 */
#include "worker/tool.h"

#include <string.h>

#include "common/strbuf.h"

/* Larger objects fail (too_large): the text goes to a model, whole. */
#define OBJECT_MAX_BYTES (1024 * 1024)
#define KEY_MAX_BYTES 1024	/* S3's limit, in bytes of UTF-8 */

#define LOWER_DIGITS "abcdefghijklmnopqrstuvwxyz0123456789"

/* What breaks S3's bucket naming rules, or NULL: a path-style URL needs them kept. */
static const char *
bucket_problem(const char *bucket)
{
	size_t n = strlen(bucket);

	if (n < 3 || n > 63)
		return "must be 3 to 63 characters long";
	if (strspn(bucket, LOWER_DIGITS ".-") != n)
		return "may hold only lower-case letters, digits, '.' and '-'";
	if (strchr(LOWER_DIGITS, bucket[0]) == NULL || strchr(LOWER_DIGITS, bucket[n - 1]) == NULL)
		return "must begin and end with a letter or a digit";
	if (strstr(bucket, "..") != NULL)
		return "may not hold two periods in a row";
	return NULL;
}

/*
 * The key in the URL's path as S3 (and the SigV4 signer, which refuses any
 * other spelling) wants it: every byte but A-Z a-z 0-9 - . _ ~ and '/' as
 * %XX, upper-case.  '/' stays: S3 signs the path as sent.
 */
static void
append_encoded_key(struct strbuf *url, const char *key, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)key[i];

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    (c != '\0' && strchr("-._~/", c) != NULL)) {
			strbuf_putc(url, (char)c);
		} else {
			char escaped[3] = {'%', hex[c >> 4], hex[c & 15]};

			strbuf_append(url, escaped, sizeof(escaped));
		}
	}
}

/* The Code of S3's XML error (<Error><Code>NoSuchKey</Code>...), or "". */
static void
s3_error_code(const struct mcpd_response *response, char *code, size_t size)
{
	const char *start = strstr(response->body, "<Code>");
	size_t n;

	code[0] = '\0';
	if (start == NULL)
		return;
	start += strlen("<Code>");
	n = strspn(start, LOWER_DIGITS "ABCDEFGHIJKLMNOPQRSTUVWXYZ.");
	if (n == 0 || n >= size || strncmp(start + n, "</Code>", strlen("</Code>")) != 0)
		return;
	memcpy(code, start, n);
	code[n] = '\0';
}

/* A 403: the role lacks the permission, the credentials were refused, or another reason S3 names. */
static int
access_denied(struct mcpd_call *call, const char *code)
{
	const char *bucket = mcpd_arg_string(call, "bucket"), *key = mcpd_arg_string(call, "key");

	if (code[0] == '\0' || strcmp(code, "AccessDenied") == 0)
		return mcpd_error(call, "access denied (HTTP 403): grant s3:GetObject on arn:aws:s3:::%s/%s to the "
		    "server's role (without s3:ListBucket, S3 answers 403 for a missing key too)", bucket, key);
	if (strcmp(code, "SignatureDoesNotMatch") == 0 || strcmp(code, "InvalidAccessKeyId") == 0)
		return mcpd_error(call, "access denied (HTTP 403 %s): S3 refused the server's AWS credentials", code);
	return mcpd_error(call, "access denied (HTTP 403 %s)", code);
}

static int
got_object(struct mcpd_call *call, const struct mcpd_response *response)
{
	const char *bucket = mcpd_arg_string(call, "bucket"), *key = mcpd_arg_string(call, "key");
	const char *type = mcpd_response_header(response, "Content-Type");
	char code[64];

	if (response->error != NULL && strcmp(response->outcome, "too_large") == 0)
		return mcpd_error(call, "s3://%s/%s is larger than the %d bytes this tool returns", bucket, key,
		    OBJECT_MAX_BYTES);
	if (response->error != NULL)
		return mcpd_error(call, "s3://%s/%s: %s", bucket, key, response->error);
	s3_error_code(response, code, sizeof(code));
	if (response->status == 404 && strcmp(code, "NoSuchBucket") == 0)
		return mcpd_error(call, "no such bucket: %s", bucket);
	if (response->status == 404)
		return mcpd_error(call, "no such key: s3://%s/%s", bucket, key);
	if (response->status == 403)
		return access_denied(call, code);
	if (response->status != 200)
		return mcpd_error(call, "S3 answered HTTP %d%s%s for s3://%s/%s", response->status,
		    code[0] != '\0' ? " " : "", code, bucket, key);
	if (!utf8_valid(response->body, response->body_len) || memchr(response->body, '\0', response->body_len) != NULL)
		return mcpd_error(call, "s3://%s/%s is not UTF-8 text (%zu bytes, Content-Type %s): this tool "
		    "returns text only", bucket, key, response->body_len, type != NULL ? type : "none");
	return mcpd_return_string(call, response->body, response->body_len);
}

static int
get_object(struct mcpd_call *call)
{
	const char *bucket = mcpd_arg_string(call, "bucket"), *region = mcpd_aws_region(), *problem;
	const struct mcpd_value *key = mcpd_arg(call, "key");
	struct mcpd_request request = {.max_response = OBJECT_MAX_BYTES, .aws_service = "s3"};
	struct strbuf url;
	int rc;

	if ((problem = bucket_problem(bucket)) != NULL)
		return mcpd_error(call, "bucket \"%s\" %s", bucket, problem);
	if (key->length == 0 || key->length > KEY_MAX_BYTES)
		return mcpd_error(call, "key must be 1 to %d bytes of UTF-8, not %zu", KEY_MAX_BYTES, key->length);
	if (region == NULL)
		return mcpd_error(call, "AWS_REGION is not set");
	if (region[0] == '\0' || strspn(region, LOWER_DIGITS "-") != strlen(region))
		return mcpd_error(call, "AWS_REGION \"%s\" is not a region name", region);
	strbuf_init(&url);
	strbuf_printf(&url, "https://s3.%s.amazonaws.com/%s/", region, bucket);
	append_encoded_key(&url, key->string, key->length);
	if (!strbuf_ok(&url)) {
		strbuf_free(&url);
		return mcpd_error(call, "out of memory");
	}
	request.url = url.data;
	request.aws_region = region;
	rc = mcpd_fetch(call, &request, got_object, NULL);
	strbuf_free(&url);
	return rc;
}

MCPD_TOOL(
	.title = "Get S3 Object",
	.description = "Read an object from Amazon S3 and return its text (UTF-8, at most 1 MiB). The bucket "
	    "must be in the server's AWS region, and the server's role needs s3:GetObject on the object.",
	MCPD_EGRESS("s3.*.amazonaws.com"),
	MCPD_PARAMS(
		MCPD_STRING("bucket", "Bucket name (3 to 63 of a-z, 0-9, '.' and '-')", MCPD_MAX_LENGTH(63)),
		MCPD_STRING("key", "Object key (1 to 1024 bytes of UTF-8)", MCPD_MAX_LENGTH(1024))),
	MCPD_RETURNS(MCPD_TYPE_STRING),
	.annotations = {.read_only = true, .idempotent = true},
	.run = get_object,
);
