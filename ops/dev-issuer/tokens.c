/*
 * mcpd-dev-issuer (development tool, never in the server): token minting.
 * The claims of a Cognito-like access or id token, bent by --claim and
 * --drop-claim, signed RS256 with a key of DIR/keys through libjwt.
 */
#define _XOPEN_SOURCE 700	/* strndup under any -std */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jwt.h>
#include <sodium.h>

#include "dev_issuer.h"

/* Sets obj[name] = value, replacing what was there. */
static bool
set_claim(cJSON *obj, const char *name, cJSON *value)
{
	if (value == NULL)
		return false;
	cJSON_DeleteItemFromObjectCaseSensitive(obj, name);
	if (!cJSON_AddItemToObject(obj, name, value)) {
		cJSON_Delete(value);
		return false;
	}
	return true;
}

/* Applies one --claim NAME=VALUE or --drop-claim NAME. */
static bool
apply_claim_op(cJSON *claims, const struct claim_op *op)
{
	const char *eq;
	char *name;
	cJSON *value;
	bool ok;

	if (op->value == NULL) {
		cJSON_DeleteItemFromObjectCaseSensitive(claims, op->name);
		return true;
	}
	eq = strchr(op->name, '=');
	if ((name = strndup(op->name, (size_t)(eq - op->name))) == NULL)
		return false;
	value = cJSON_ParseWithOpts(op->value, NULL, true);
	if (value == NULL)
		value = cJSON_CreateString(op->value);
	ok = set_claim(claims, name, value);
	free(name);
	return ok;
}

/* The claims of a Cognito-like access or id token. */
static cJSON *
token_claims(const struct token_opts *o, const char *iss)
{
	unsigned char rnd[16];
	char jti[37];
	time_t now = time(NULL);
	long iat = (long)now + o->iat_offset;
	cJSON *c = cJSON_CreateObject();
	bool ok;

	randombytes_buf(rnd, sizeof(rnd));
	rnd[6] = (unsigned char)((rnd[6] & 0x0f) | 0x40);	/* a version 4 UUID */
	rnd[8] = (unsigned char)((rnd[8] & 0x3f) | 0x80);
	snprintf(jti, sizeof(jti), "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
	    rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5], rnd[6], rnd[7], rnd[8], rnd[9], rnd[10],
	    rnd[11], rnd[12], rnd[13], rnd[14], rnd[15]);
	ok = c != NULL && cJSON_AddStringToObject(c, "sub", o->sub) != NULL &&
	    cJSON_AddStringToObject(c, "iss", iss) != NULL &&
	    cJSON_AddStringToObject(c, "token_use", o->id_token ? "id" : "access") != NULL;
	if (ok && o->id_token)
		ok = cJSON_AddStringToObject(c, "aud", o->aud != NULL ? o->aud : o->client_id) != NULL &&
		    cJSON_AddStringToObject(c, "cognito:username", o->sub) != NULL;
	if (ok && !o->id_token) {
		ok = cJSON_AddStringToObject(c, "client_id", o->client_id) != NULL &&
		    cJSON_AddStringToObject(c, "username", o->sub) != NULL;
		if (ok && o->scope[0] != '\0')
			ok = cJSON_AddStringToObject(c, "scope", o->scope) != NULL;
		if (ok && o->aud != NULL)
			ok = cJSON_AddStringToObject(c, "aud", o->aud) != NULL;
	}
	ok = ok && cJSON_AddNumberToObject(c, "auth_time", (double)iat) != NULL &&
	    cJSON_AddNumberToObject(c, "iat", (double)iat) != NULL &&
	    cJSON_AddNumberToObject(c, "exp", (double)(iat + o->ttl)) != NULL &&
	    cJSON_AddStringToObject(c, "jti", jti) != NULL;
	if (ok && o->has_nbf)
		ok = cJSON_AddNumberToObject(c, "nbf", (double)((long)now + o->nbf_offset)) != NULL;
	for (int i = 0; ok && i < o->nops; i++)
		ok = apply_claim_op(c, &o->ops[i]);
	if (!ok) {
		cJSON_Delete(c);
		fail("out of memory");
		return NULL;
	}
	return c;
}

/* Signs `claims` with the PEM key through libjwt (RS256, kid header). */
static char *
sign_token(const char *claims_json, const char *kid, const char *pem, size_t pem_len)
{
	jwt_t *jwt = NULL;
	char *token = NULL;
	int err;

	if ((err = jwt_new(&jwt)) != 0) {
		fail("jwt_new: %s", strerror(err));
		return NULL;
	}
	if ((err = jwt_add_grants_json(jwt, claims_json)) != 0) {
		fail("cannot set the claims: %s", strerror(err));
		goto done;
	}
	if ((err = jwt_add_header(jwt, "kid", kid)) != 0) {
		fail("cannot set the kid header: %s", strerror(err));
		goto done;
	}
	if ((err = jwt_set_alg(jwt, JWT_ALG_RS256, (const unsigned char *)pem, (int)pem_len)) != 0) {
		fail("cannot use the key of %s: %s", kid, strerror(err));
		goto done;
	}
	token = jwt_encode_str(jwt);
	if (token == NULL)
		fail("cannot sign with key %s: %s (is it an RSA private key?)", kid, strerror(errno));
done:
	jwt_free(jwt);
	return token;
}

/*
 * The kid to sign with: --kid (checked by the parser), else the newest key
 * of jwks.json, whose kid names a file and so must be safe as a file name.
 */
static const char *
signing_kid(const struct token_opts *o, const struct issuer *is)
{
	int n = cJSON_GetArraySize(is->keys);
	const char *kid;

	if (o->kid != NULL)
		return o->kid;
	kid = n > 0 ? jwk_kid(cJSON_GetArrayItem(is->keys, n - 1)) : NULL;
	if (kid == NULL) {
		fail("%s/jwks.json has no key to sign with: run '" PROG " add-key %s'", is->dir, o->dir);
		return NULL;
	}
	if (!kid_is_safe(kid)) {
		fail("%s/jwks.json names an unusable kid '%s'", is->dir, kid);
		return NULL;
	}
	return kid;
}

int
token_print(const struct token_opts *o)
{
	struct issuer is;
	char *pem = NULL, *claims_json = NULL, *token = NULL;
	const char *kid;
	cJSON *claims = NULL;
	size_t pem_len;
	int rc = 1;

	if (issuer_load(&is, o->dir) < 0)
		return 1;
	if ((kid = signing_kid(o, &is)) == NULL || (pem = read_private_key(is.dir, kid, &pem_len)) == NULL)
		goto done;
	/* Signing with an unpublished key is allowed: it makes tokens that must be refused. */
	if (o->kid != NULL && issuer_find_key(&is, kid) < 0)
		fprintf(stderr, PROG ": note: %s is not published in jwks.json; verifiers will refuse "
		    "this token\n", kid);
	if ((claims = token_claims(o, is.iss)) == NULL)
		goto done;
	if ((claims_json = cJSON_PrintUnformatted(claims)) == NULL) {
		fail("out of memory");
		goto done;
	}
	if ((token = sign_token(claims_json, kid, pem, pem_len)) == NULL)
		goto done;
	printf("%s\n", token);
	rc = 0;
done:
	if (pem != NULL) {
		sodium_memzero(pem, pem_len);
		free(pem);
	}
	free(token);
	cJSON_free(claims_json);
	cJSON_Delete(claims);
	issuer_free(&is);
	return rc;
}
