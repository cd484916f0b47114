/*
 * Unit tests for egress/sigv4.c and egress/sigv4_canonical.c: every vector
 * of AWS's SigV4 test suite (sigv4-suite/, see its README) checked at each
 * stage (canonical request, string to sign, Authorization); the S3 examples
 * of the S3 API Reference; then what the signer does per service and what
 * it refuses.  tests/node/sigv4-smithy.test.mjs compares with AWS's own
 * JavaScript signer on random requests.
 */
#define _GNU_SOURCE	/* timegm */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <cmocka.h>
#include <sodium.h>

#include "egress/sigv4.h"

#define SUITE_DIR MCPD_SOURCE_DIR "/tests/unit/egress/sigv4-suite"
#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define MAX_HEADERS 16

/* The vectors as the suite's folders hold them. */
static const char *const vectors[] = {
	"get-header-key-duplicate",
	"get-header-value-multiline",
	"get-header-value-order",
	"get-header-value-trim",
	"get-unreserved",
	"get-utf8",
	"get-vanilla",
	"get-vanilla-empty-query-key",
	"get-vanilla-query",
	"get-vanilla-query-order-key",
	"get-vanilla-query-order-key-case",
	"get-vanilla-query-order-value",
	"get-vanilla-query-unreserved",
	"get-vanilla-utf8-query",
	"normalize-path/get-relative",
	"normalize-path/get-relative-relative",
	"normalize-path/get-slash",
	"normalize-path/get-slash-dot-slash",
	"normalize-path/get-slash-pointless-dot",
	"normalize-path/get-slashes",
	"normalize-path/get-space",
	"post-header-key-case",
	"post-header-key-sort",
	"post-header-value-case",
	"post-sts-token/post-sts-header-after",
	"post-sts-token/post-sts-header-before",
	"post-vanilla",
	"post-vanilla-empty-query-value",
	"post-vanilla-query",
	"post-x-www-form-urlencoded",
	"post-x-www-form-urlencoded-parameters",
};
#define VECTOR_COUNT (sizeof(vectors) / sizeof(vectors[0]))

/* One file of vector `name`: <dir>/<name>/<last part of name><ext>. */
static char *
read_vector_file(const char *name, const char *ext)
{
	const char *base = strrchr(name, '/') != NULL ? strrchr(name, '/') + 1 : name;
	char path[512];
	FILE *f;
	char *text;
	long len;

	assert_true(snprintf(path, sizeof(path), "%s/%s/%s%s", SUITE_DIR, name, base, ext) <
	    (int)sizeof(path));
	if ((f = fopen(path, "r")) == NULL)
		fail_msg("cannot open %s", path);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	len = ftell(f);
	assert_true(len > 0);
	rewind(f);
	text = calloc(1, (size_t)len + 1);
	assert_non_null(text);
	assert_int_equal(fread(text, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	return text;
}

/*
 * A .req file read into the signer's input.  The suite writes the request
 * as HTTP/1.1 text: Host becomes the `host` field, X-Amz-Date the signing
 * time and X-Amz-Security-Token the session token (the signer sets those
 * itself); a folded line ("  value2") is one more value of the header
 * before it, which is how the suite's expected canonical request reads it.
 */
struct vector_request {
	struct sigv4_request req;
	struct sigv4_header headers[MAX_HEADERS];
	const char *amz_date;
	const char *token;
};

static char *
cut_line(char **rest)
{
	char *line = *rest, *nl;

	if (line == NULL)
		return NULL;
	nl = strchr(line, '\n');
	if (nl != NULL)
		*nl++ = '\0';
	*rest = nl;
	return line;
}

static void
parse_header(struct vector_request *v, const char *name, char *value)
{
	struct tm tm = { 0 };

	if (strcasecmp(name, "Host") == 0) {
		v->req.host = value + strspn(value, " ");
	} else if (strcasecmp(name, "X-Amz-Date") == 0) {
		v->amz_date = value;
		assert_non_null(strptime(value, "%Y%m%dT%H%M%SZ", &tm));
		v->req.time = (int64_t)timegm(&tm);
	} else if (strcasecmp(name, "X-Amz-Security-Token") == 0) {
		v->token = value;
	} else {
		assert_true(v->req.header_count < MAX_HEADERS);
		v->headers[v->req.header_count++] = (struct sigv4_header){ name, value };
	}
}

static void
parse_req(char *text, struct vector_request *v)
{
	char *rest = text, *line = cut_line(&rest), *uri, *version, *query;
	const char *last_name = NULL;

	memset(v, 0, sizeof(*v));
	/* "METHOD URI HTTP/1.1", where the URI may hold spaces (get-space). */
	uri = strchr(line, ' ');
	version = strrchr(line, ' ');
	assert_true(uri != NULL && version > uri);
	*uri++ = '\0';
	*version = '\0';
	query = strchr(uri, '?');
	if (query != NULL)
		*query++ = '\0';
	v->req = (struct sigv4_request){ .method = line, .path = uri, .query = query,
		.headers = v->headers, .service = "service", .region = "us-east-1" };
	v->req.body = "";
	while ((line = cut_line(&rest)) != NULL && *line != '\0') {
		char *colon = strchr(line, ':');

		if (*line == ' ' || *line == '\t') {
			assert_non_null(last_name);
			parse_header(v, last_name, line);
			continue;
		}
		assert_non_null(colon);
		*colon = '\0';
		parse_header(v, line, colon + 1);
		last_name = line;
	}
	if (rest != NULL)
		v->req.body = rest;
	v->req.body_len = strlen(v->req.body);
}

static const char *
added(const struct sigv4_signed *s, const char *name)
{
	for (size_t i = 0; i < s->add_count; i++)
		if (strcmp(s->add[i].name, name) == 0)
			return s->add[i].value;
	return NULL;
}

static void
test_vector(void **state)
{
	const char *name = *state;
	char *req = read_vector_file(name, ".req"), *creq = read_vector_file(name, ".creq");
	char *sts = read_vector_file(name, ".sts"), *authz = read_vector_file(name, ".authz");
	struct sigv4_credentials cred = { "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", NULL };
	struct vector_request v;
	struct sigv4_signed s;
	char err[256];

	parse_req(req, &v);
	cred.session_token = v.token;
	if (sigv4_sign(&v.req, &cred, &s, err, sizeof(err)) < 0)
		fail_msg("%s: %s", name, err);
	assert_string_equal(s.canonical_request, creq);
	assert_string_equal(s.string_to_sign, sts);
	assert_string_equal(s.authorization, authz);
	assert_string_equal(added(&s, "X-Amz-Date"), v.amz_date);
	assert_string_equal(added(&s, "Authorization"), authz);
	assert_null(added(&s, "X-Amz-Content-Sha256"));
	if (v.token != NULL)
		assert_string_equal(added(&s, "X-Amz-Security-Token"), v.token);
	else
		assert_null(added(&s, "X-Amz-Security-Token"));
	sigv4_signed_free(&s);
	free(req);
	free(creq);
	free(sts);
	free(authz);
}

/* Counts the folders below `dir` that hold a .req file, recursively. */
static size_t
count_vector_folders(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		char sub[512];

		if (e->d_name[0] == '.')
			continue;
		if (strlen(e->d_name) > 4 && strcmp(e->d_name + strlen(e->d_name) - 4, ".req") == 0) {
			n++;
			continue;
		}
		assert_true(snprintf(sub, sizeof(sub), "%s/%s", dir, e->d_name) < (int)sizeof(sub));
		if (e->d_type == DT_DIR)
			n += count_vector_folders(sub);
	}
	closedir(d);
	return n;
}

/* A vector added to the folder and not to the list would never run. */
static void
test_every_vector_runs(void **state)
{
	(void)state;
	assert_int_equal(count_vector_folders(SUITE_DIR), VECTOR_COUNT);
}

/* --- Beyond the suite --- */

static const struct sigv4_credentials example = { "AKIDEXAMPLE",
	"wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", NULL };

static struct sigv4_request
request(const char *service, const char *path, const char *query)
{
	return (struct sigv4_request){ .method = "GET", .host = "example.amazonaws.com",
		.path = path, .query = query, .payload = SIGV4_PAYLOAD_BYTES, .service = service,
		.region = "us-east-1", .time = 1440938160 /* 20150830T123600Z */ };
}

/* Signs and returns line `line` (0-based) of the canonical request. */
static const char *
canonical_line(const struct sigv4_request *r, int line)
{
	static char text[1024];
	struct sigv4_signed s;
	char err[256], *p = text;

	if (sigv4_sign(r, &example, &s, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	assert_true(strlen(s.canonical_request) < sizeof(text));
	strcpy(text, s.canonical_request);
	sigv4_signed_free(&s);
	for (int i = 0; i < line; i++)
		p = strchr(p, '\n') + 1;
	p[strcspn(p, "\n")] = '\0';
	return p;
}

/* Signs and returns the reason for refusing, or fails if it signed. */
static const char *
refusal(const struct sigv4_request *r, const struct sigv4_credentials *cred)
{
	static char err[256];
	struct sigv4_signed s;

	if (sigv4_sign(r, cred, &s, err, sizeof(err)) == 0)
		fail_msg("signed what it should refuse: %s", s.canonical_request);
	assert_null(s.authorization);
	sigv4_signed_free(&s);
	return err;
}

/*
 * The S3 API Reference's examples ("Signature Calculations for the
 * Authorization Header: Transferring Payload in a Single Chunk"): a GET
 * with a Range header, a sub-resource without a value, a listing query.
 */
static void
test_s3_reference_examples(void **state)
{
	const struct sigv4_credentials cred = { "AKIAIOSFODNN7EXAMPLE",
		"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", NULL };
	const struct sigv4_header range = { "Range", "bytes=0-9" };
	const struct {
		const char *path, *query, *signed_headers, *signature;
	} cases[] = {
		{ "/test.txt", "", "host;range;x-amz-content-sha256;x-amz-date",
		  "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41" },
		{ "/", "lifecycle", "host;x-amz-content-sha256;x-amz-date",
		  "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543" },
		{ "/", "max-keys=2&prefix=J", "host;x-amz-content-sha256;x-amz-date",
		  "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sigv4_request r = request("s3", cases[i].path, cases[i].query);
		struct sigv4_signed s;
		char err[256], want[512];

		r.host = "examplebucket.s3.amazonaws.com";
		r.time = 1369353600;	/* 20130524T000000Z */
		r.headers = &range;
		r.header_count = i == 0;
		if (sigv4_sign(&r, &cred, &s, err, sizeof(err)) < 0)
			fail_msg("%s", err);
		snprintf(want, sizeof(want), "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/"
		    "us-east-1/s3/aws4_request, SignedHeaders=%s, Signature=%s",
		    cases[i].signed_headers, cases[i].signature);
		assert_string_equal(s.authorization, want);
		assert_string_equal(added(&s, "X-Amz-Content-Sha256"), EMPTY_SHA256);
		assert_string_equal(added(&s, "X-Amz-Date"), "20130524T000000Z");
		assert_int_equal(s.add_count, 3);
		sigv4_signed_free(&s);
	}
}

/* S3 signs the path as sent; other services resolve and encode it again. */
static void
test_paths(void **state)
{
	struct sigv4_request r;

	(void)state;
	r = request("s3", "/bucket//a/./../b%20c~", "");
	assert_string_equal(canonical_line(&r, 1), "/bucket//a/./../b%20c~");
	r = request("s3-object-lambda", "", "");
	assert_string_equal(canonical_line(&r, 1), "/");
	r = request("service", "/a%20b//c/./d/../e/", "");
	assert_string_equal(canonical_line(&r, 1), "/a%2520b/c/e/");
	r = request("service", "/a/b/..", "");
	assert_string_equal(canonical_line(&r, 1), "/a");
	r = request("service", "/../..", "");
	assert_string_equal(canonical_line(&r, 1), "/");
	r = request("service", "/\xc3\xa9!*'()$&+,;=:@", "");
	assert_string_equal(canonical_line(&r, 1), "/%C3%A9%21%2A%27%28%29%24%26%2B%2C%3B%3D%3A%40");

	/* S3 paths must already be in AWS's encoding. */
	r = request("s3", "/a b", "");
	assert_non_null(strstr(refusal(&r, &example), "S3 path"));
	r = request("s3", "/a%2fb", "");
	assert_non_null(strstr(refusal(&r, &example), "S3 path"));
	r = request("s3", "/a!", "");
	assert_non_null(strstr(refusal(&r, &example), "S3 path"));
	/* No path is relative or holds a query, a fragment or a control character. */
	r = request("service", "a", "");
	assert_non_null(strstr(refusal(&r, &example), "must start with /"));
	r = request("service", "/a?b", "");
	refusal(&r, &example);
	r = request("service", "/a#b", "");
	refusal(&r, &example);
	r = request("service", "/a\tb", "");
	refusal(&r, &example);
}

static void
test_queries(void **state)
{
	struct sigv4_request r;

	(void)state;
	r = request("service", "/", "b=2&&a&c=");
	assert_string_equal(canonical_line(&r, 2), "a=&b=2&c=");
	r = request("service", "/", "%7e=%41%2b&k=%e1%88%b4&e=a=b");
	assert_string_equal(canonical_line(&r, 2), "e=a%3Db&k=%E1%88%B4&~=A%2B");
	r = request("service", "/", "a=2&a=10&a-b=1&A=1&=x");
	assert_string_equal(canonical_line(&r, 2), "=x&A=1&a=10&a=2&a-b=1");
	r = request("service", "/", "q=a%20b&s=!'()*/:@?");
	assert_string_equal(canonical_line(&r, 2), "q=a%20b&s=%21%27%28%29%2A%2F%3A%40%3F");
	r = request("service", "/", NULL);
	assert_string_equal(canonical_line(&r, 2), "");

	/* '+' is a space to some servers and a plus to others. */
	r = request("service", "/", "q=a+b");
	assert_non_null(strstr(refusal(&r, &example), "'+'"));
	r = request("service", "/", "q=%4");
	assert_non_null(strstr(refusal(&r, &example), "two hex digits"));
	r = request("service", "/", "q=%g0");
	refusal(&r, &example);
	r = request("service", "/", "q=a#b");
	refusal(&r, &example);
}

static void
test_headers(void **state)
{
	const struct sigv4_header headers[] = {
		{ "User-Agent", "tool/1" }, { "Connection", "close" }, { "Proxy-Authorization", "x" },
		{ "sec-fetch-mode", "cors" }, { "X-Amzn-Trace-Id", "Root=1" }, { "TE", "trailers" },
		{ "X-B", "\t two  \t words " }, { "x-a", "1" }, { "X-A", "  " }, { "x-A", "3" },
	};
	struct sigv4_request r = request("service", "/", "");
	struct sigv4_header owned[] = { { "Host", "h" } };
	const char *const owned_names[] = {
		"Host", "authorization", "X-Amz-Date", "x-amz-security-token", "X-AMZ-CONTENT-SHA256", "Date",
	};

	(void)state;
	r.headers = headers;
	r.header_count = sizeof(headers) / sizeof(headers[0]);
	assert_string_equal(canonical_line(&r, 4), "x-a:1,,3");
	assert_string_equal(canonical_line(&r, 6), "x-b:two words");
	assert_string_equal(canonical_line(&r, 8), "host;x-a;x-amz-date;x-b");

	r.headers = owned;
	r.header_count = 1;
	for (size_t i = 0; i < sizeof(owned_names) / sizeof(owned_names[0]); i++) {
		owned[0].name = owned_names[i];
		assert_non_null(strstr(refusal(&r, &example), "signer's to set"));
	}
	owned[0] = (struct sigv4_header){ "X-Bad", "a\r\nX-Injected: 1" };
	assert_non_null(strstr(refusal(&r, &example), "control character"));
	owned[0] = (struct sigv4_header){ "Bad Name", "v" };
	refusal(&r, &example);
	owned[0] = (struct sigv4_header){ "", "v" };
	refusal(&r, &example);
	r.headers = NULL;
	refusal(&r, &example);
}

static void
test_payloads(void **state)
{
	struct sigv4_request r = request("service", "/", "");
	struct sigv4_signed bytes, hashed;
	char err[256];

	(void)state;
	r.method = "PUT";
	r.body = "Param1=value1";
	r.body_len = 13;
	assert_int_equal(sigv4_sign(&r, &example, &bytes, err, sizeof(err)), 0);
	r.payload = SIGV4_PAYLOAD_HASH;
	r.payload_sha256 = "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e";
	assert_int_equal(sigv4_sign(&r, &example, &hashed, err, sizeof(err)), 0);
	assert_string_equal(bytes.authorization, hashed.authorization);
	assert_string_equal(bytes.content_sha256, "");
	sigv4_signed_free(&bytes);
	sigv4_signed_free(&hashed);

	r.payload_sha256 = "9095672BBD1F56DFC5B65F3E153ADC8731A4A654192329106275F4C7B24D0B6E";
	assert_non_null(strstr(refusal(&r, &example), "lower-case hex"));
	r.payload = SIGV4_PAYLOAD_UNSIGNED;
	assert_non_null(strstr(refusal(&r, &example), "only S3"));
	r.service = "s3";
	assert_string_equal(canonical_line(&r, 8), "UNSIGNED-PAYLOAD");
	assert_string_equal(canonical_line(&r, 4), "x-amz-content-sha256:UNSIGNED-PAYLOAD");
	r.payload = SIGV4_PAYLOAD_BYTES;
	r.body = NULL;
	refusal(&r, &example);
	r.payload = (enum sigv4_payload)7;
	refusal(&r, &example);
}

static void
test_session_token(void **state)
{
	struct sigv4_credentials cred = example;
	struct sigv4_request r = request("s3", "/", "");
	struct sigv4_signed s;
	char err[256];

	(void)state;
	cred.session_token = "token/with+base64=";
	assert_int_equal(sigv4_sign(&r, &cred, &s, err, sizeof(err)), 0);
	assert_int_equal(s.add_count, 4);
	assert_string_equal(s.add[0].name, "X-Amz-Date");
	assert_string_equal(s.add[1].name, "X-Amz-Security-Token");
	assert_string_equal(s.add[1].value, "token/with+base64=");
	assert_string_equal(s.add[2].name, "X-Amz-Content-Sha256");
	assert_string_equal(s.add[3].name, "Authorization");
	assert_non_null(strstr(s.authorization, "x-amz-date;x-amz-security-token, Signature="));
	/* The copy is the signer's: the caller's credentials may change. */
	assert_ptr_not_equal(s.security_token, cred.session_token);
	sigv4_signed_free(&s);
	assert_null(s.security_token);

	cred.session_token = "";
	assert_int_equal(sigv4_sign(&r, &cred, &s, err, sizeof(err)), 0);
	assert_null(added(&s, "X-Amz-Security-Token"));
	sigv4_signed_free(&s);
	cred.session_token = "a\nb";
	assert_non_null(strstr(refusal(&r, &cred), "control character"));
}

static void
test_scope_and_time(void **state)
{
	struct sigv4_credentials cred = example;
	struct sigv4_request r = request("service", "/", "");

	(void)state;
	r.time = 0;
	assert_string_equal(canonical_line(&r, 4), "x-amz-date:19700101T000000Z");
	r.time = INT64_C(253402300799);
	assert_string_equal(canonical_line(&r, 4), "x-amz-date:99991231T235959Z");
	r.time = -1;
	assert_non_null(strstr(refusal(&r, &cred), "outside"));
	r.time = INT64_C(253402300800);
	refusal(&r, &cred);
	r.time = 0;

	r.region = "us/east";
	assert_non_null(strstr(refusal(&r, &cred), "region"));
	r.region = "us-east-1";
	r.service = "";
	assert_non_null(strstr(refusal(&r, &cred), "service"));
	r.service = "service";
	r.host = "a b";
	assert_non_null(strstr(refusal(&r, &cred), "host"));
	r.host = "example.com:8443";
	r.method = "GE T";
	assert_non_null(strstr(refusal(&r, &cred), "method"));
	r.method = "GET";
	cred.access_key_id = "AKID/2";
	assert_non_null(strstr(refusal(&r, &cred), "access key"));
	cred.access_key_id = "AKID";
	cred.secret_access_key = "";
	assert_non_null(strstr(refusal(&r, &cred), "secret"));
}

static int
setup_sodium(void **state)
{
	(void)state;
	return sodium_init() < 0 ? -1 : 0;
}

int
main(void)
{
	struct CMUnitTest suite[VECTOR_COUNT + 1];
	const struct CMUnitTest more[] = {
		cmocka_unit_test(test_s3_reference_examples),
		cmocka_unit_test(test_paths),
		cmocka_unit_test(test_queries),
		cmocka_unit_test(test_headers),
		cmocka_unit_test(test_payloads),
		cmocka_unit_test(test_session_token),
		cmocka_unit_test(test_scope_and_time),
	};
	int failed = 0;

	for (size_t i = 0; i < VECTOR_COUNT; i++)
		suite[i] = (struct CMUnitTest){ .name = vectors[i], .test_func = test_vector,
			.initial_state = (void *)vectors[i] };
	suite[VECTOR_COUNT] = (struct CMUnitTest){ .name = "every vector runs",
		.test_func = test_every_vector_runs };
	failed += cmocka_run_group_tests_name("AWS SigV4 test suite", suite, setup_sodium, NULL);
	failed += cmocka_run_group_tests_name("sigv4", more, setup_sodium, NULL);
	return failed;
}
