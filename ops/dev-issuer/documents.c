/*
 * mcpd-dev-issuer (development tool, never in the server): the issuer's
 * documents in DIR, which mcpd reads through --discovery-url file://...
 *
 *	keys/<kid>.pem			private keys (keys.c)
 *	jwks.json			public keys; the last one signs by default
 *	openid-configuration.json	issuer and jwks_uri (file://DIR/jwks.json)
 *
 * Only keys/ is private.  DIR and the two documents are world-readable on
 * purpose: they are public by nature, and mcpd started as root reads them
 * from its fetcher after dropping to an unprivileged --user (nobody), which
 * a 0700 DIR would lock out.
 */
#define _XOPEN_SOURCE 700	/* realpath under any -std */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dev_issuer.h"

#define DOC_MODE 0644		/* jwks.json, openid-configuration.json */

/* Writes a JSON document (pretty, newline-terminated) atomically. */
static int
write_json(const char *dir, const char *name, const cJSON *doc)
{
	char *text = cJSON_Print(doc), *withnl;
	size_t n;
	int rc;

	if (text == NULL)
		return fail("out of memory");
	n = strlen(text);
	withnl = malloc(n + 2);
	if (withnl == NULL) {
		cJSON_free(text);
		return fail("out of memory");
	}
	memcpy(withnl, text, n);
	withnl[n] = '\n';
	withnl[n + 1] = '\0';
	cJSON_free(text);
	rc = write_file_atomic(dir, name, withnl, n + 1, DOC_MODE);
	free(withnl);
	return rc;
}

static cJSON *
read_json(const char *dir, const char *name)
{
	char *path, *text;
	cJSON *doc;

	if ((path = path_join(dir, name)) == NULL)
		return NULL;
	text = read_file(path, NULL);
	if (text == NULL) {
		free(path);
		return NULL;
	}
	doc = cJSON_Parse(text);
	if (doc == NULL)
		fail("%s is not valid JSON", path);
	free(text);
	free(path);
	return doc;
}

void
issuer_free(struct issuer *is)
{
	free(is->dir);
	cJSON_Delete(is->discovery);
	cJSON_Delete(is->jwks);
	memset(is, 0, sizeof(*is));
}

bool
issuer_exists(const char *dir)
{
	char *path = path_join(dir, "openid-configuration.json");
	bool found;

	if (path == NULL)
		return false;
	found = access(path, F_OK) == 0;
	free(path);
	return found;
}

/* Loads DIR's discovery document and JWKS and checks their shape. */
int
issuer_load(struct issuer *is, const char *dir)
{
	const cJSON *iss;

	memset(is, 0, sizeof(*is));
	if (!issuer_exists(dir))
		return fail("%s holds no issuer: run '" PROG " init %s' first", dir, dir);
	if ((is->dir = realpath(dir, NULL)) == NULL)
		return fail("cannot resolve %s: %s", dir, strerror(errno));
	if ((is->discovery = read_json(is->dir, "openid-configuration.json")) == NULL)
		goto fail;
	iss = cJSON_GetObjectItemCaseSensitive(is->discovery, "issuer");
	if (!cJSON_IsString(iss) || iss->valuestring[0] == '\0') {
		fail("%s/openid-configuration.json has no issuer", is->dir);
		goto fail;
	}
	is->iss = iss->valuestring;
	if ((is->jwks = read_json(is->dir, "jwks.json")) == NULL)
		goto fail;
	is->keys = cJSON_GetObjectItemCaseSensitive(is->jwks, "keys");
	if (!cJSON_IsArray(is->keys)) {
		fail("%s/jwks.json has no \"keys\" array", is->dir);
		goto fail;
	}
	return 0;
fail:
	issuer_free(is);
	return -1;
}

/* Index of KID in the JWKS, or -1. */
int
issuer_find_key(const struct issuer *is, const char *kid)
{
	int i = 0;
	const cJSON *jwk;

	cJSON_ArrayForEach(jwk, is->keys) {
		const char *k = jwk_kid(jwk);

		if (k != NULL && strcmp(k, kid) == 0)
			return i;
		i++;
	}
	return -1;
}

int
issuer_save_jwks(const struct issuer *is)
{
	return write_json(is->dir, "jwks.json", is->jwks);
}

/* A JWKS holding `jwk` alone, or NULL (reported); `jwk` is consumed either way. */
static cJSON *
jwks_new(cJSON *jwk)
{
	cJSON *jwks = cJSON_CreateObject(), *keys;

	if (jwks == NULL || (keys = cJSON_AddArrayToObject(jwks, "keys")) == NULL ||
	    !cJSON_AddItemToArray(keys, jwk)) {
		cJSON_Delete(jwks);
		cJSON_Delete(jwk);
		fail("out of memory");
		return NULL;
	}
	return jwks;
}

/* Sets obj[name] to the issuer URL followed by `path`. */
static bool
add_endpoint(cJSON *obj, const char *name, const char *iss, const char *path)
{
	size_t n = strlen(iss) + strlen(path) + 1;
	char *url = malloc(n);
	bool ok;

	if (url == NULL)
		return false;
	snprintf(url, n, "%s%s", iss, path);
	ok = cJSON_AddStringToObject(obj, name, url) != NULL;
	free(url);
	return ok;
}

/* Sets obj[name] to an array of `n` strings. */
static bool
add_strings(cJSON *obj, const char *name, const char *const *strings, int n)
{
	cJSON *a = cJSON_CreateStringArray(strings, n);

	if (a == NULL)
		return false;
	if (!cJSON_AddItemToObject(obj, name, a)) {
		cJSON_Delete(a);
		return false;
	}
	return true;
}

/*
 * The discovery document.  mcpd reads only issuer and jwks_uri; the other
 * fields make it look like a real OIDC document, but this issuer serves
 * none of those endpoints.
 */
static cJSON *
discovery_new(const char *dir, const char *iss)
{
	static const char *const resp[] = {"code", "token"}, *const subj[] = {"public"},
	    *const algs[] = {"RS256"}, *const scopes[] = {"openid", DEFAULT_SCOPE},
	    *const grants[] = {"client_credentials", "authorization_code"};
	char *jwks_uri = file_url(dir, "jwks.json");
	cJSON *disc;
	bool ok;

	if (jwks_uri == NULL)
		return NULL;
	disc = cJSON_CreateObject();
	ok = disc != NULL && cJSON_AddStringToObject(disc, "issuer", iss) != NULL &&
	    cJSON_AddStringToObject(disc, "jwks_uri", jwks_uri) != NULL &&
	    add_endpoint(disc, "authorization_endpoint", iss, "/oauth2/authorize") &&
	    add_endpoint(disc, "token_endpoint", iss, "/oauth2/token") &&
	    add_strings(disc, "response_types_supported", resp, 2) &&
	    add_strings(disc, "subject_types_supported", subj, 1) &&
	    add_strings(disc, "id_token_signing_alg_values_supported", algs, 1) &&
	    add_strings(disc, "scopes_supported", scopes, 2) &&
	    add_strings(disc, "grant_types_supported", grants, 2);
	free(jwks_uri);
	if (!ok) {
		cJSON_Delete(disc);
		fail("out of memory");
		return NULL;
	}
	return disc;
}

int
issuer_create(const char *dir, const char *iss, cJSON *jwk)
{
	cJSON *jwks = jwks_new(jwk), *disc = NULL;
	int rc = -1;

	if (jwks == NULL || (disc = discovery_new(dir, iss)) == NULL)
		goto done;
	/* The discovery document last: its presence marks a complete issuer. */
	if (write_json(dir, "jwks.json", jwks) < 0 || write_json(dir, "openid-configuration.json", disc) < 0)
		goto done;
	rc = 0;
done:
	cJSON_Delete(disc);
	cJSON_Delete(jwks);
	return rc;
}
