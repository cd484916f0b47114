/*
 * mcpd-dev-issuer (development tool, never in the server): the signing keys.
 * RSA-2048 private keys in DIR/keys/<kid>.pem (keys/ 0700, each file 0600),
 * and the public JWKs that jwks.json publishes for them.
 */
#define _XOPEN_SOURCE 700	/* O_CLOEXEC under any -std */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sodium.h>

#include "dev_issuer.h"

#define RSA_BITS 2048
#define KEYS_DIR_MODE 0700	/* DIR/keys: private keys */

/*
 * A kid becomes a file name, so only a conservative alphabet is accepted:
 * no path separators, no leading dot.
 */
bool
kid_is_safe(const char *kid)
{
	size_t n = strlen(kid);

	if (n == 0 || n > 100 || kid[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = kid[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.'))
			return false;
	}
	return true;
}

/* Like fail(), with OpenSSL's most recent error appended. */
static int
fail_ssl(const char *what)
{
	unsigned long e = ERR_get_error();
	char buf[256];

	ERR_error_string_n(e, buf, sizeof(buf));
	ERR_clear_error();
	return fail("%s: %s", what, e != 0 ? buf : "unknown OpenSSL error");
}

/* JWK numbers are unpadded base64url (RFC 7518, section 6.3.1). */
static char *
b64url(const unsigned char *bin, size_t len)
{
	size_t n = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	char *out = malloc(n);

	if (out == NULL) {
		fail("out of memory");
		return NULL;
	}
	sodium_bin2base64(out, n, bin, len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	return out;
}

/* Adds the base64url big-endian bytes of an RSA parameter to `jwk`. */
static int
jwk_add_bn(cJSON *jwk, const char *field, const EVP_PKEY *pkey, const char *param)
{
	BIGNUM *bn = NULL;
	unsigned char *bin = NULL;
	char *text = NULL;
	int n, rc = -1;

	if (!EVP_PKEY_get_bn_param(pkey, param, &bn))
		return fail_ssl("cannot read the RSA key");
	n = BN_num_bytes(bn);
	if ((bin = malloc((size_t)n + 1)) == NULL) {
		fail("out of memory");
		goto done;
	}
	BN_bn2bin(bn, bin);
	if ((text = b64url(bin, (size_t)n)) == NULL)
		goto done;
	if (cJSON_AddStringToObject(jwk, field, text) == NULL) {
		fail("out of memory");
		goto done;
	}
	rc = 0;
done:
	free(text);
	free(bin);
	BN_free(bn);
	return rc;
}

/* The public JWK of `pkey`: kty, use, alg, kid, n, e. */
static cJSON *
jwk_from_pkey(const EVP_PKEY *pkey, const char *kid)
{
	cJSON *jwk = cJSON_CreateObject();

	if (jwk == NULL || cJSON_AddStringToObject(jwk, "kty", "RSA") == NULL ||
	    cJSON_AddStringToObject(jwk, "use", "sig") == NULL ||
	    cJSON_AddStringToObject(jwk, "alg", "RS256") == NULL ||
	    cJSON_AddStringToObject(jwk, "kid", kid) == NULL) {
		cJSON_Delete(jwk);
		fail("out of memory");
		return NULL;
	}
	if (jwk_add_bn(jwk, "n", pkey, OSSL_PKEY_PARAM_RSA_N) < 0 ||
	    jwk_add_bn(jwk, "e", pkey, OSSL_PKEY_PARAM_RSA_E) < 0) {
		cJSON_Delete(jwk);
		return NULL;
	}
	return jwk;
}

/* Writes the private key as PKCS#8 PEM to a new file, mode 0600. */
static int
write_private_key(const EVP_PKEY *pkey, const char *path)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *pem;
	long len;
	int fd, rc = -1;

	if (bio == NULL)
		return fail_ssl("cannot allocate a buffer");
	if (!PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL)) {
		fail_ssl("cannot encode the private key");
		goto done;
	}
	len = BIO_get_mem_data(bio, &pem);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		fail("cannot create %s: %s", path, strerror(errno));
		goto done;
	}
	if (write_all(fd, pem, (size_t)len, path) < 0 ||
	    (fsync(fd) < 0 && fail("cannot sync %s: %s", path, strerror(errno)) < 0)) {
		close(fd);
		unlink(path);
		goto done;
	}
	if (close(fd) < 0) {
		fail("cannot write %s: %s", path, strerror(errno));
		unlink(path);
		goto done;
	}
	rc = 0;
done:
	BIO_free(bio);
	return rc;
}

/*
 * Creates a new RSA-2048 key in DIR/keys/<kid>.pem with a fresh random kid
 * and returns its public JWK.
 */
cJSON *
new_signing_key(const char *dir, char *kid, size_t kidlen)
{
	unsigned char rnd[4];
	char hex[2 * sizeof(rnd) + 1], name[64];
	char *keys = NULL, *path = NULL;
	EVP_PKEY *pkey = NULL;
	cJSON *jwk = NULL;

	randombytes_buf(rnd, sizeof(rnd));
	sodium_bin2hex(hex, sizeof(hex), rnd, sizeof(rnd));
	snprintf(kid, kidlen, "dev-%s", hex);
	snprintf(name, sizeof(name), "%s.pem", kid);
	if ((keys = path_join(dir, "keys")) == NULL)
		goto done;
	if (mkdir(keys, KEYS_DIR_MODE) < 0 && errno != EEXIST) {
		fail("cannot create directory %s: %s", keys, strerror(errno));
		goto done;
	}
	if ((path = path_join(keys, name)) == NULL)
		goto done;
	pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)RSA_BITS);
	if (pkey == NULL) {
		fail_ssl("cannot generate an RSA key");
		goto done;
	}
	if ((jwk = jwk_from_pkey(pkey, kid)) == NULL)
		goto done;
	if (write_private_key(pkey, path) < 0) {
		cJSON_Delete(jwk);
		jwk = NULL;
	}
done:
	EVP_PKEY_free(pkey);
	free(path);
	free(keys);
	return jwk;
}

/* Removes the private keys in DIR/keys (init --force starts afresh). */
int
remove_private_keys(const char *dir)
{
	char *keys = path_join(dir, "keys"), *path;
	struct dirent *de;
	DIR *d;
	int rc = 0;

	if (keys == NULL)
		return -1;
	d = opendir(keys);
	if (d == NULL) {
		rc = errno == ENOENT ? 0 : fail("cannot open %s: %s", keys, strerror(errno));
		free(keys);
		return rc;
	}
	while ((de = readdir(d)) != NULL) {
		size_t n = strlen(de->d_name);

		if (n < 5 || strcmp(de->d_name + n - 4, ".pem") != 0)
			continue;
		if ((path = path_join(keys, de->d_name)) == NULL) {
			rc = -1;
			break;
		}
		if (unlink(path) < 0 && errno != ENOENT)
			rc = fail("cannot remove %s: %s", path, strerror(errno));
		free(path);
		if (rc < 0)
			break;
	}
	closedir(d);
	free(keys);
	return rc;
}

const char *
jwk_kid(const cJSON *jwk)
{
	const cJSON *kid = cJSON_GetObjectItemCaseSensitive(jwk, "kid");

	return cJSON_IsString(kid) ? kid->valuestring : NULL;
}

char *
read_private_key(const char *dir, const char *kid, size_t *lenp)
{
	char name[128], *path, *pem;

	snprintf(name, sizeof(name), "keys/%s.pem", kid);
	if ((path = path_join(dir, name)) == NULL)
		return NULL;
	pem = read_file(path, lenp);
	free(path);
	return pem;
}
