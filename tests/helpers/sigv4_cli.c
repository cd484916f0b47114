/* Runs in: tests only (tests/node/sigv4-smithy.test.mjs), never in mcpd. */
/*
 * sigv4-cli: signs requests with egress/sigv4.c for the comparison with
 * AWS's JavaScript signer.  One JSON object per line on stdin:
 *
 *   {"method", "host", "path", "query", "headers": [[name, value], ...],
 *    "body_hex" | "payload_sha256" | "unsigned_payload": true,
 *    "service", "region", "time", "access_key_id", "secret", "session_token"}
 *
 * and one per line on stdout, in the same order: {"authorization",
 * "x_amz_date", "x_amz_content_sha256", "x_amz_security_token",
 * "canonical_request", "string_to_sign", "added": [names]} or {"error"}.
 * One process signs them all, so that thousands of requests take a second.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <sodium.h>

#include "egress/sigv4.h"

#define MAX_HEADERS 64

static const char *
string_member(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* body_hex decoded into *body (malloc'd), or -1. */
static int
decode_body(const char *hex, unsigned char **body, size_t *len)
{
	size_t cap = strlen(hex) / 2 + 1;

	if ((*body = malloc(cap)) == NULL)
		return -1;
	return sodium_hex2bin(*body, cap, hex, strlen(hex), NULL, len, NULL);
}

static int
read_headers(const cJSON *list, struct sigv4_header *headers, size_t *count)
{
	const cJSON *pair;

	*count = 0;
	cJSON_ArrayForEach(pair, list) {
		const cJSON *name = cJSON_GetArrayItem(pair, 0), *value = cJSON_GetArrayItem(pair, 1);

		if (*count == MAX_HEADERS || !cJSON_IsString(name) || !cJSON_IsString(value))
			return -1;
		headers[(*count)++] = (struct sigv4_header){ name->valuestring, value->valuestring };
	}
	return 0;
}

static cJSON *
result(const struct sigv4_signed *s)
{
	cJSON *out = cJSON_CreateObject(), *added = cJSON_CreateArray();

	if (out == NULL || added == NULL) {
		cJSON_Delete(out);
		cJSON_Delete(added);
		return NULL;
	}
	cJSON_AddStringToObject(out, "authorization", s->authorization);
	cJSON_AddStringToObject(out, "x_amz_date", s->amz_date);
	if (s->content_sha256[0] != '\0')
		cJSON_AddStringToObject(out, "x_amz_content_sha256", s->content_sha256);
	if (s->security_token != NULL)
		cJSON_AddStringToObject(out, "x_amz_security_token", s->security_token);
	cJSON_AddStringToObject(out, "canonical_request", s->canonical_request);
	cJSON_AddStringToObject(out, "string_to_sign", s->string_to_sign);
	for (size_t i = 0; i < s->add_count; i++)
		cJSON_AddItemToArray(added, cJSON_CreateString(s->add[i].name));
	cJSON_AddItemToObject(out, "added", added);
	return out;
}

/* Signs the request of one input line and returns the output object. */
static cJSON *
sign_line(const cJSON *in)
{
	struct sigv4_header headers[MAX_HEADERS];
	struct sigv4_request req = { 0 };
	struct sigv4_credentials cred = { 0 };
	struct sigv4_signed s;
	unsigned char *body = NULL;
	char err[256] = "bad input line";
	const cJSON *time = cJSON_GetObjectItemCaseSensitive(in, "time");
	cJSON *out = NULL;

	req = (struct sigv4_request){ .method = string_member(in, "method"),
		.host = string_member(in, "host"), .path = string_member(in, "path"),
		.query = string_member(in, "query"), .headers = headers,
		.service = string_member(in, "service"), .region = string_member(in, "region"),
		.payload_sha256 = string_member(in, "payload_sha256") };
	cred = (struct sigv4_credentials){ string_member(in, "access_key_id"),
		string_member(in, "secret"), string_member(in, "session_token") };
	if (!cJSON_IsNumber(time) || read_headers(cJSON_GetObjectItemCaseSensitive(in, "headers"),
	    headers, &req.header_count) < 0)
		goto refused;
	req.time = (int64_t)time->valuedouble;
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(in, "unsigned_payload")))
		req.payload = SIGV4_PAYLOAD_UNSIGNED;
	else if (req.payload_sha256 != NULL)
		req.payload = SIGV4_PAYLOAD_HASH;
	else if (string_member(in, "body_hex") != NULL &&
	    decode_body(string_member(in, "body_hex"), &body, &req.body_len) < 0)
		goto refused;
	req.body = body;
	if (sigv4_sign(&req, &cred, &s, err, sizeof(err)) < 0)
		goto refused;
	out = result(&s);
	sigv4_signed_free(&s);
	free(body);
	return out;
refused:
	free(body);
	out = cJSON_CreateObject();
	if (out != NULL)
		cJSON_AddStringToObject(out, "error", err);
	return out;
}

int
main(void)
{
	char *line = NULL;
	size_t cap = 0;

	if (sodium_init() < 0)
		return 1;
	while (getline(&line, &cap, stdin) > 0) {
		cJSON *in = cJSON_Parse(line), *out = in != NULL ? sign_line(in) : NULL;
		char *text = out != NULL ? cJSON_PrintUnformatted(out) : NULL;

		if (text == NULL || puts(text) == EOF) {
			fprintf(stderr, "sigv4-cli: cannot handle line: %s", line);
			return 1;
		}
		free(text);
		cJSON_Delete(out);
		cJSON_Delete(in);
	}
	free(line);
	return fflush(stdout) == 0 ? 0 : 1;
}
