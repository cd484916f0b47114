/* Runs in: the egress process. */
#define _GNU_SOURCE
/*
 * credentials: pure functions of the AWS credential chain and endpoint
 * rule (credentials.h): no clock, no network, so that the unit tests cover
 * them whole.
 */
#include "egress/credentials.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

static void
wipe_free(char *s)
{
	if (s != NULL) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

void
credentials_clear(struct aws_credentials *c)
{
	wipe_free(c->access_key_id);
	wipe_free(c->secret_access_key);
	wipe_free(c->session_token);
	*c = (struct aws_credentials){0};
}

int
credentials_parse_time(const char *text, time_t *out)
{
	struct tm tm = {0};
	int used = 0;
	const char *rest;
	time_t t;

	if (sscanf(text, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
	    &tm.tm_min, &tm.tm_sec, &used) != 6 || used != 19)
		return -1;
	rest = text + used;
	if (*rest == '.')
		for (rest++; isdigit((unsigned char)*rest); rest++)
			;
	if (strcmp(rest, "Z") != 0 || tm.tm_year < 1970 || tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 ||
	    tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	t = timegm(&tm);
	if (t == (time_t)-1 || tm.tm_mday != atoi(text + 8))
		return -1;	/* timegm normalised an impossible date (February 30) */
	*out = t;
	return 0;
}

static const char *
string_field(const cJSON *doc, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, name);

	return cJSON_IsString(v) && v->valuestring[0] != '\0' ? v->valuestring : NULL;
}

int
credentials_parse_imds(const char *json, size_t len, struct aws_credentials *out, char *err, size_t errlen)
{
	cJSON *doc = cJSON_ParseWithLength(json, len);
	const char *code, *names[] = {"AccessKeyId", "SecretAccessKey", "Token", "Expiration"};
	const char *values[4];
	int rc = -1;

	*out = (struct aws_credentials){0};
	if (!cJSON_IsObject(doc)) {
		snprintf(err, errlen, "the credentials document is not a JSON object");
		goto done;
	}
	code = string_field(doc, "Code");
	if (code == NULL || strcmp(code, "Success") != 0) {
		snprintf(err, errlen, "the credentials document's Code is %s", code ? "not Success" : "missing");
		goto done;
	}
	for (size_t i = 0; i < 4; i++)
		if ((values[i] = string_field(doc, names[i])) == NULL) {
			snprintf(err, errlen, "the credentials document has no %s", names[i]);
			goto done;
		}
	if (credentials_parse_time(values[3], &out->expiration) < 0) {
		snprintf(err, errlen, "the credentials document's Expiration is not YYYY-MM-DDTHH:MM:SSZ");
		goto done;
	}
	out->access_key_id = strdup(values[0]);
	out->secret_access_key = strdup(values[1]);
	out->session_token = strdup(values[2]);
	if (!out->access_key_id || !out->secret_access_key || !out->session_token) {
		snprintf(err, errlen, "no memory for the credentials");
		credentials_clear(out);
		goto done;
	}
	rc = 0;
done:
	/* The parsed document holds the secret: wipe its strings before freeing. */
	for (cJSON *v = doc && cJSON_IsObject(doc) ? doc->child : NULL; v != NULL; v = v->next)
		if (cJSON_IsString(v))
			explicit_bzero(v->valuestring, strlen(v->valuestring));
	cJSON_Delete(doc);
	return rc;
}

time_t
credentials_refresh_at(time_t fetched, time_t expiration)
{
	time_t life = expiration - fetched;

	if (life <= 0)
		return fetched;
	if (life < 2 * CREDENTIALS_REFRESH_AHEAD_S)
		return fetched + life / 2;
	return expiration - CREDENTIALS_REFRESH_AHEAD_S;
}

void
credentials_endpoint_variable(const char *service, char *out, size_t outlen)
{
	size_t n = (size_t)snprintf(out, outlen, "AWS_ENDPOINT_URL_%s", service);

	for (size_t i = strlen("AWS_ENDPOINT_URL_"); i < n && i < outlen; i++)
		out[i] = out[i] == ' ' || out[i] == '-' ? '_' : (char)toupper((unsigned char)out[i]);
}

/* The endpoint's scheme, host and port; -1 unless it is http(s)://host[:port][/]. */
static int
read_endpoint(const char *endpoint, char **scheme, char **host, char **port)
{
	CURLU *u = curl_url();
	char *path = NULL, *query = NULL, *user = NULL, *fragment = NULL;
	int rc = -1;

	if (u != NULL && curl_url_set(u, CURLUPART_URL, endpoint, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_SCHEME, scheme, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, host, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_PATH, &path, 0) == CURLUE_OK &&
	    (strcasecmp(*scheme, "http") == 0 || strcasecmp(*scheme, "https") == 0) && strcmp(path, "/") == 0 &&
	    curl_url_get(u, CURLUPART_QUERY, &query, 0) == CURLUE_NO_QUERY &&
	    curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_NO_USER &&
	    curl_url_get(u, CURLUPART_FRAGMENT, &fragment, 0) == CURLUE_NO_FRAGMENT) {
		if (curl_url_get(u, CURLUPART_PORT, port, 0) != CURLUE_OK)
			*port = NULL;
		rc = 0;
	}
	curl_free(path);
	curl_free(query);
	curl_free(user);
	curl_free(fragment);
	curl_url_cleanup(u);
	return rc;
}

static bool
is_default_host(const char *host, const char *service, const char *region)
{
	char want[512];

	if (region == NULL)
		return false;
	snprintf(want, sizeof(want), "%s.%s.amazonaws.com", service, region);
	return strcasecmp(host, want) == 0;
}

int
credentials_endpoint_url(const struct aws_env *env, const char *service, const char *region,
    const char *url, char **out, char *why, size_t whylen)
{
	char name[160];
	const char *endpoint;
	CURLU *u;
	char *host = NULL, *e_scheme = NULL, *e_host = NULL, *e_port = NULL, *rebuilt = NULL;
	int rc = -1;

	*out = NULL;
	credentials_endpoint_variable(service, name, sizeof(name));
	endpoint = aws_env_get(env, name);
	if (endpoint == NULL || endpoint[0] == '\0')
		endpoint = aws_env_get(env, "AWS_ENDPOINT_URL");
	if (endpoint == NULL || endpoint[0] == '\0')
		return 0;
	if ((u = curl_url()) == NULL) {
		snprintf(why, whylen, "no memory");
		return -1;
	}
	if (curl_url_set(u, CURLUPART_URL, url, CURLU_PATH_AS_IS | CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || !is_default_host(host, service, region))
		rc = 0;	/* not the default endpoint: the URL goes as the tool wrote it */
	else if (read_endpoint(endpoint, &e_scheme, &e_host, &e_port) < 0)
		snprintf(why, whylen, "%s is not an http(s) URL of a host and port alone",
		    aws_env_get(env, name) ? name : "AWS_ENDPOINT_URL");
	else if (curl_url_set(u, CURLUPART_SCHEME, e_scheme, CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK ||
	    curl_url_set(u, CURLUPART_HOST, e_host, 0) != CURLUE_OK ||
	    curl_url_set(u, CURLUPART_PORT, e_port, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_URL, &rebuilt, 0) != CURLUE_OK || (*out = strdup(rebuilt)) == NULL)
		snprintf(why, whylen, "the URL cannot be rebuilt with the endpoint of %s",
		    aws_env_get(env, name) ? name : "AWS_ENDPOINT_URL");
	else
		rc = 0;
	curl_free(host);
	curl_free(e_scheme);
	curl_free(e_host);
	curl_free(e_port);
	curl_free(rebuilt);
	curl_url_cleanup(u);
	return rc;
}
