/*
 * mcpd-dev-issuer: a token issuer for development, entirely on disk.
 *
 * It keeps RSA signing keys, a JWKS and an OIDC discovery document in one
 * directory, and signs Cognito-like RS256 tokens with them, so that mcpd can
 * verify real tokens on a machine with no identity provider:
 *
 *	mcpd-dev-issuer init .dev/issuer       prints file://.../openid-configuration.json
 *	mcpd --discovery-url file://... --allow-insecure-issuer --allowed-clients mcpd-dev-client
 *	mcpd-dev-issuer token .dev/issuer      prints a token
 *
 * Layout of DIR:
 *	keys/<kid>.pem			private keys (keys/ 0700, each file 0600)
 *	jwks.json			public keys; the last one signs by default
 *	openid-configuration.json	issuer and jwks_uri (file://DIR/jwks.json)
 *
 * Only keys/ is private.  DIR and the two documents are world-readable on
 * purpose: they are public by nature, and mcpd started as root reads them
 * from its fetcher after dropping to an unprivileged --user (nobody), which
 * a 0700 DIR would lock out.
 *
 * Files that a verifier may read at any moment are replaced atomically
 * (written aside, then renamed), so it never sees half a document.
 *
 * Exit status: 0 done, 1 failed (one line on stderr), 2 bad arguments.
 */
#define _XOPEN_SOURCE 700	/* realpath, mkstemp, strndup, O_CLOEXEC under any -std */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <jwt.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sodium.h>

#define PROG "mcpd-dev-issuer"
#define DEFAULT_ISSUER "https://dev-issuer.mcpd.local"
#define DEFAULT_CLIENT_ID "mcpd-dev-client"
#define DEFAULT_SCOPE "mcp/tools"
#define DEFAULT_SUB "dev-user"
#define DEFAULT_TTL 3600
#define RSA_BITS 2048
#define FILE_MAX (1024 * 1024)	/* largest document or key we read */
#define OFFSET_MAX 315360000L	/* ten years, in seconds */
#define MAX_CLAIM_OPS 64
#define DIR_MODE 0755		/* DIR and missing parents: public documents */
#define KEYS_DIR_MODE 0700	/* DIR/keys: private keys */
#define DOC_MODE 0644		/* jwks.json, openid-configuration.json */

#define EXIT_USAGE 2

static const char usage_text[] =
    "usage: " PROG " COMMAND DIR [options]\n"
    "\n"
    "A development token issuer on disk, for mcpd --discovery-url file://...\n"
    "\n"
    "commands:\n"
    "  init DIR [--issuer URL] [--force]\n"
    "      create DIR with one RSA-2048 signing key (DIR/keys, 0700), jwks.json\n"
    "      and openid-configuration.json (world-readable, for mcpd's fetcher),\n"
    "      and print the discovery URL. If DIR already holds an issuer, change\n"
    "      nothing (--force replaces it).\n"
    "      Default issuer: " DEFAULT_ISSUER "\n"
    "  add-key DIR\n"
    "      add a signing key (rotation): published in jwks.json and used by\n"
    "      default from now on. Prints its kid.\n"
    "  retire-key DIR KID\n"
    "      remove KID from jwks.json (its private key stays in DIR/keys, so\n"
    "      tokens can still be signed with it to test that they are refused).\n"
    "  token DIR [options]\n"
    "      print a signed RS256 JWT with Cognito-like claims:\n"
    "        --kid KID            signing key (default: the newest in jwks.json)\n"
    "        --client-id ID       client_id, or aud of an id token (default " DEFAULT_CLIENT_ID ")\n"
    "        --scope \"A B\"        space-separated scopes; \"\" leaves scope out\n"
    "                             (default " DEFAULT_SCOPE ")\n"
    "        --ttl SECS           exp = iat + SECS (default 3600; negative: expired)\n"
    "        --token-use USE      access or id (default access)\n"
    "        --aud AUD            aud claim (id tokens default to the client id)\n"
    "        --sub SUB            sub and username (default " DEFAULT_SUB ")\n"
    "        --claim NAME=VALUE   set a claim; VALUE is JSON if it parses, else a\n"
    "                             string (repeatable, applied last)\n"
    "        --drop-claim NAME    leave a claim out (repeatable)\n"
    "        --nbf-offset SECS    add nbf = now + SECS\n"
    "        --iat-offset SECS    iat = auth_time = now + SECS (default 0)\n"
    "\n"
    "The discovery document's other endpoints are placeholders: this issuer\n"
    "only signs tokens locally. Never use its keys outside development.\n";

static void usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, PROG ": ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nusage: " PROG " init|add-key|retire-key|token DIR [options]  (" PROG " --help)\n",
	    stderr);
}

/* Reports a failure: one line on stderr, by the code that knows the cause. */
static int
fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, PROG ": ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -1;
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

/* ---- Small helpers ---- */

static char *
path_join(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *p = malloc(n);

	if (p == NULL) {
		fail("out of memory");
		return NULL;
	}
	snprintf(p, n, "%s/%s", dir, name);
	return p;
}

/*
 * A kid becomes a file name, so only a conservative alphabet is accepted:
 * no path separators, no leading dot.
 */
static bool
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

/* Parses a whole decimal integer within [min, max]. */
static bool
parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		return false;
	*out = v;
	return true;
}

/* Reads a whole file (at most FILE_MAX bytes), NUL-terminated. */
static char *
read_file(const char *path, size_t *lenp)
{
	char *buf = NULL;
	size_t len = 0;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fail("cannot open %s: %s", path, strerror(errno));
		return NULL;
	}
	buf = malloc(FILE_MAX + 1);
	if (buf == NULL) {
		fail("out of memory");
		goto fail;
	}
	for (;;) {
		n = read(fd, buf + len, FILE_MAX + 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fail("cannot read %s: %s", path, strerror(errno));
			goto fail;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > FILE_MAX) {
			fail("%s is larger than %d bytes", path, FILE_MAX);
			goto fail;
		}
	}
	close(fd);
	buf[len] = '\0';
	if (lenp != NULL)
		*lenp = len;
	return buf;
fail:
	close(fd);
	free(buf);
	return NULL;
}

static int
write_all(int fd, const char *data, size_t len, const char *path)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return fail("cannot write %s: %s", path, strerror(errno));
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Replaces dir/name with `data` atomically: a temporary file in the same
 * directory, fsync, rename.  A reader sees the old or the new document.
 */
static int
write_file_atomic(const char *dir, const char *name, const char *data, size_t len, mode_t mode)
{
	char *path = NULL, *tmp = NULL;
	int fd = -1, rc = -1;

	if ((path = path_join(dir, name)) == NULL)
		return -1;
	if ((tmp = malloc(strlen(path) + 16)) == NULL) {
		fail("out of memory");
		goto done;
	}
	sprintf(tmp, "%s.tmp.XXXXXX", path);
	fd = mkstemp(tmp);
	if (fd < 0) {
		fail("cannot create a file in %s: %s", dir, strerror(errno));
		goto done;
	}
	if (fchmod(fd, mode) < 0) {
		fail("cannot chmod %s: %s", tmp, strerror(errno));
		goto unlink;
	}
	if (write_all(fd, data, len, tmp) < 0)
		goto unlink;
	if (fsync(fd) < 0) {
		fail("cannot sync %s: %s", tmp, strerror(errno));
		goto unlink;
	}
	if (close(fd) < 0) {
		fd = -1;
		fail("cannot write %s: %s", tmp, strerror(errno));
		goto unlink;
	}
	fd = -1;
	if (rename(tmp, path) < 0) {
		fail("cannot rename %s to %s: %s", tmp, path, strerror(errno));
		goto unlink;
	}
	rc = 0;
	goto done;
unlink:
	unlink(tmp);
done:
	if (fd >= 0)
		close(fd);
	free(tmp);
	free(path);
	return rc;
}

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

/* mkdir -p; missing components get DIR_MODE. */
static int
make_dirs(const char *dir)
{
	struct stat st;
	char *p = strdup(dir);
	int rc = -1;

	if (p == NULL)
		return fail("out of memory");
	for (char *s = p + 1;; s++) {
		char saved = *s;

		if (saved != '/' && saved != '\0')
			continue;
		*s = '\0';
		if (mkdir(p, DIR_MODE) == 0) {
			/* Our own directory: its mode, whatever the umask. */
			if (chmod(p, DIR_MODE) < 0) {
				fail("cannot chmod %s: %s", p, strerror(errno));
				goto done;
			}
		} else if (errno != EEXIST) {
			fail("cannot create directory %s: %s", p, strerror(errno));
			goto done;
		}
		*s = saved;
		if (saved == '\0')
			break;
	}
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		fail("%s is not a directory", dir);
		goto done;
	}
	rc = 0;
done:
	free(p);
	return rc;
}

/*
 * mcpd started as root fetches the discovery document as its unprivileged
 * --user (nobody by default).  Says so, once, when that user could not
 * reach DIR: every directory on the way must be searchable by others.
 */
static void
note_if_hidden(const char *abs)
{
	char *p;
	struct stat st;

	if (geteuid() != 0 || (p = strdup(abs)) == NULL)
		return;
	for (char *s = p + 1;; s++) {
		char saved = *s;

		if (saved != '/' && saved != '\0')
			continue;
		*s = '\0';
		if (stat(p, &st) == 0 && (st.st_mode & S_IXOTH) == 0) {
			fprintf(stderr, PROG ": note: %s is not searchable by other users, so mcpd started "
			    "as root (its fetcher runs as --user, default nobody) cannot read %s\n", p, abs);
			break;
		}
		*s = saved;
		if (saved == '\0')
			break;
	}
	free(p);
}

/* Percent-encodes a path for a file:// URL (unreserved and '/' stay). */
static char *
file_url(const char *abspath, const char *name)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(abspath), m = strlen(name);
	char *url = malloc(7 + 3 * (n + 1 + m) + 1), *o;

	if (url == NULL) {
		fail("out of memory");
		return NULL;
	}
	o = url + sprintf(url, "file://");
	for (size_t i = 0; i < n + 1 + m; i++) {
		unsigned char c = (unsigned char)(i < n ? abspath[i] : i == n ? '/' : name[i - n - 1]);

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.' || c == '~' || c == '/') {
			*o++ = (char)c;
		} else {
			*o++ = '%';
			*o++ = hex[c >> 4];
			*o++ = hex[c & 15];
		}
	}
	*o = '\0';
	return url;
}

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

/* ---- Keys ---- */

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
static cJSON *
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
static int
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

/* ---- The issuer on disk ---- */

struct issuer {
	char *dir;		/* absolute */
	cJSON *discovery;	/* openid-configuration.json */
	cJSON *jwks;		/* jwks.json */
	const char *iss;	/* inside discovery */
	cJSON *keys;		/* inside jwks: the "keys" array */
};

static void
issuer_free(struct issuer *is)
{
	free(is->dir);
	cJSON_Delete(is->discovery);
	cJSON_Delete(is->jwks);
	memset(is, 0, sizeof(*is));
}

static bool
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
static int
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

static const char *
jwk_kid(const cJSON *jwk)
{
	const cJSON *kid = cJSON_GetObjectItemCaseSensitive(jwk, "kid");

	return cJSON_IsString(kid) ? kid->valuestring : NULL;
}

/* Index of KID in the JWKS, or -1. */
static int
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

/* ---- Argument parsing ---- */

/*
 * Matches argv[*i] against "--name VALUE" or "--name=VALUE".  Returns 1 and
 * sets *value on a match, 0 when it is another argument, -1 when the value
 * is missing (already reported).
 */
static int
take_option(int argc, char **argv, int *i, const char *name, const char **value)
{
	const char *arg = argv[*i];
	size_t n = strlen(name);

	if (strncmp(arg, name, n) != 0)
		return 0;
	if (arg[n] == '=') {
		*value = arg + n + 1;
		return 1;
	}
	if (arg[n] != '\0')
		return 0;
	if (*i + 1 >= argc) {
		usage_error("%s needs a value", name);
		return -1;
	}
	*value = argv[++*i];
	return 1;
}

/* ---- Commands ---- */

static int
cmd_init(int argc, char **argv)
{
	const char *dir = NULL, *issuer = DEFAULT_ISSUER, *v;
	bool force = false;
	char kid[64], *abs = NULL, *jwks_uri = NULL, *disc_url = NULL, *endpoint = NULL;
	cJSON *jwks = NULL, *disc = NULL, *keys, *jwk;
	int rc = 1, r;

	for (int i = 0; i < argc; i++) {
		if ((r = take_option(argc, argv, &i, "--issuer", &v)) != 0) {
			if (r < 0)
				return EXIT_USAGE;
			issuer = v;
		} else if (strcmp(argv[i], "--force") == 0) {
			force = true;
		} else if (argv[i][0] == '-' && argv[i][1] != '\0') {
			usage_error("init: unknown option '%s'", argv[i]);
			return EXIT_USAGE;
		} else if (dir == NULL) {
			dir = argv[i];
		} else {
			usage_error("init: unexpected argument '%s'", argv[i]);
			return EXIT_USAGE;
		}
	}
	if (dir == NULL || dir[0] == '\0') {
		usage_error("init needs a directory");
		return EXIT_USAGE;
	}
	if ((strncmp(issuer, "https://", 8) != 0 && strncmp(issuer, "http://", 7) != 0) ||
	    strcspn(issuer, " \t\r\n\"\\") != strlen(issuer) || strlen(issuer) > 400) {
		usage_error("init: --issuer '%s' is not an http(s) URL", issuer);
		return EXIT_USAGE;
	}
	if (make_dirs(dir) < 0)
		return 1;
	if ((abs = realpath(dir, NULL)) == NULL) {
		fail("cannot resolve %s: %s", dir, strerror(errno));
		return 1;
	}
	if ((disc_url = file_url(abs, "openid-configuration.json")) == NULL)
		goto done;
	if (issuer_exists(abs) && !force) {
		struct issuer is;

		if (issuer_load(&is, abs) < 0)
			goto done;
		fprintf(stderr, PROG ": %s already holds an issuer (%s); nothing changed "
		    "(--force replaces it)\n", abs, is.iss);
		issuer_free(&is);
		note_if_hidden(abs);
		printf("%s\n", disc_url);
		rc = 0;
		goto done;
	}
	if (force && remove_private_keys(abs) < 0)
		goto done;
	if ((jwk = new_signing_key(abs, kid, sizeof(kid))) == NULL)
		goto done;
	if ((jwks = cJSON_CreateObject()) == NULL ||
	    (keys = cJSON_AddArrayToObject(jwks, "keys")) == NULL) {
		cJSON_Delete(jwk);
		fail("out of memory");
		goto done;
	}
	cJSON_AddItemToArray(keys, jwk);
	if ((jwks_uri = file_url(abs, "jwks.json")) == NULL)
		goto done;
	if ((endpoint = malloc(strlen(issuer) + 32)) == NULL) {
		fail("out of memory");
		goto done;
	}
	disc = cJSON_CreateObject();
	if (disc == NULL || cJSON_AddStringToObject(disc, "issuer", issuer) == NULL ||
	    cJSON_AddStringToObject(disc, "jwks_uri", jwks_uri) == NULL)
		goto oom;
	sprintf(endpoint, "%s/oauth2/authorize", issuer);
	if (cJSON_AddStringToObject(disc, "authorization_endpoint", endpoint) == NULL)
		goto oom;
	sprintf(endpoint, "%s/oauth2/token", issuer);
	if (cJSON_AddStringToObject(disc, "token_endpoint", endpoint) == NULL)
		goto oom;
	{
		static const char *resp[] = {"code", "token"}, *subj[] = {"public"}, *algs[] = {"RS256"},
		    *scopes[] = {"openid", DEFAULT_SCOPE},
		    *grants[] = {"client_credentials", "authorization_code"};
		cJSON *a;

		if ((a = cJSON_CreateStringArray(resp, 2)) == NULL)
			goto oom;
		cJSON_AddItemToObject(disc, "response_types_supported", a);
		if ((a = cJSON_CreateStringArray(subj, 1)) == NULL)
			goto oom;
		cJSON_AddItemToObject(disc, "subject_types_supported", a);
		if ((a = cJSON_CreateStringArray(algs, 1)) == NULL)
			goto oom;
		cJSON_AddItemToObject(disc, "id_token_signing_alg_values_supported", a);
		if ((a = cJSON_CreateStringArray(scopes, 2)) == NULL)
			goto oom;
		cJSON_AddItemToObject(disc, "scopes_supported", a);
		if ((a = cJSON_CreateStringArray(grants, 2)) == NULL)
			goto oom;
		cJSON_AddItemToObject(disc, "grant_types_supported", a);
	}
	/* The discovery document last: its presence marks a complete issuer. */
	if (write_json(abs, "jwks.json", jwks) < 0 || write_json(abs, "openid-configuration.json", disc) < 0)
		goto done;
	fprintf(stderr, PROG ": created issuer %s in %s with signing key %s\n", issuer, abs, kid);
	note_if_hidden(abs);
	printf("%s\n", disc_url);
	rc = 0;
	goto done;
oom:
	fail("out of memory");
done:
	cJSON_Delete(disc);
	cJSON_Delete(jwks);
	free(endpoint);
	free(jwks_uri);
	free(disc_url);
	free(abs);
	return rc;
}

static int
cmd_add_key(int argc, char **argv)
{
	struct issuer is;
	char kid[64];
	cJSON *jwk;
	int rc = 1;

	if (argc != 1 || argv[0][0] == '-') {
		usage_error("add-key takes exactly one argument: DIR");
		return EXIT_USAGE;
	}
	if (issuer_load(&is, argv[0]) < 0)
		return 1;
	if ((jwk = new_signing_key(is.dir, kid, sizeof(kid))) == NULL)
		goto done;
	/* Appended: the last key of the set is the default signing key. */
	cJSON_AddItemToArray(is.keys, jwk);
	if (write_json(is.dir, "jwks.json", is.jwks) < 0)
		goto done;
	fprintf(stderr, PROG ": added signing key %s (now the default); keys in jwks.json: %d\n",
	    kid, cJSON_GetArraySize(is.keys));
	printf("%s\n", kid);
	rc = 0;
done:
	issuer_free(&is);
	return rc;
}

static int
cmd_retire_key(int argc, char **argv)
{
	struct issuer is;
	int rc = 1, idx;

	if (argc != 2 || argv[0][0] == '-' || argv[1][0] == '-') {
		usage_error("retire-key takes exactly two arguments: DIR KID");
		return EXIT_USAGE;
	}
	if (issuer_load(&is, argv[0]) < 0)
		return 1;
	idx = issuer_find_key(&is, argv[1]);
	if (idx < 0) {
		fail("%s is not in %s/jwks.json", argv[1], is.dir);
		goto done;
	}
	if (cJSON_GetArraySize(is.keys) == 1) {
		fail("%s is the only key of %s: add-key first", argv[1], is.dir);
		goto done;
	}
	cJSON_DeleteItemFromArray(is.keys, idx);
	if (write_json(is.dir, "jwks.json", is.jwks) < 0)
		goto done;
	fprintf(stderr, PROG ": retired %s; keys left in jwks.json: %d; %s signs by default\n", argv[1],
	    cJSON_GetArraySize(is.keys), jwk_kid(cJSON_GetArrayItem(is.keys, cJSON_GetArraySize(is.keys) - 1)));
	rc = 0;
done:
	issuer_free(&is);
	return rc;
}

struct claim_op {
	const char *name;
	const char *value;	/* NULL: drop the claim */
};

struct token_opts {
	const char *dir, *kid, *client_id, *scope, *aud, *sub;
	long ttl, nbf_offset, iat_offset;
	bool id_token, has_nbf;
	struct claim_op ops[MAX_CLAIM_OPS];
	int nops;
};

/* Records one --claim NAME=VALUE (value != NULL) or --drop-claim NAME. */
static int
token_add_op(struct token_opts *o, const char *name, const char *value)
{
	if (o->nops == MAX_CLAIM_OPS) {
		usage_error("token: more than %d --claim/--drop-claim", MAX_CLAIM_OPS);
		return EXIT_USAGE;
	}
	o->ops[o->nops].name = name;
	o->ops[o->nops++].value = value;
	return 0;
}

/* Handles one option whose value is `v`; returns 0 or EXIT_USAGE. */
static int
token_option(struct token_opts *o, const char *opt, const char *v)
{
	const char *eq;
	long *num = NULL;

	if (strcmp(opt, "--kid") == 0)
		o->kid = v;
	else if (strcmp(opt, "--client-id") == 0)
		o->client_id = v;
	else if (strcmp(opt, "--scope") == 0)
		o->scope = v;
	else if (strcmp(opt, "--aud") == 0)
		o->aud = v;
	else if (strcmp(opt, "--sub") == 0)
		o->sub = v;
	else if (strcmp(opt, "--ttl") == 0)
		num = &o->ttl;
	else if (strcmp(opt, "--iat-offset") == 0)
		num = &o->iat_offset;
	else if (strcmp(opt, "--nbf-offset") == 0) {
		num = &o->nbf_offset;
		o->has_nbf = true;
	} else if (strcmp(opt, "--token-use") == 0) {
		if (strcmp(v, "access") != 0 && strcmp(v, "id") != 0) {
			usage_error("token: --token-use must be access or id, not '%s'", v);
			return EXIT_USAGE;
		}
		o->id_token = strcmp(v, "id") == 0;
	} else if (strcmp(opt, "--claim") == 0) {
		eq = strchr(v, '=');
		if (eq == NULL || eq == v) {
			usage_error("token: --claim wants NAME=VALUE, not '%s'", v);
			return EXIT_USAGE;
		}
		return token_add_op(o, v, eq + 1);	/* the name ends at '=' */
	} else if (strcmp(opt, "--drop-claim") == 0) {
		return token_add_op(o, v, NULL);
	}
	if (num != NULL && !parse_long(v, -OFFSET_MAX, OFFSET_MAX, num)) {
		usage_error("token: %s value '%s' is not a whole number of seconds within +-%ld", opt, v,
		    OFFSET_MAX);
		return EXIT_USAGE;
	}
	return 0;
}

/* Parses the token command's arguments; returns 0 or EXIT_USAGE. */
static int
token_parse(struct token_opts *o, int argc, char **argv)
{
	static const char *const valued[] = {"--kid", "--client-id", "--scope", "--aud", "--sub", "--ttl",
	    "--iat-offset", "--nbf-offset", "--token-use", "--claim", "--drop-claim"};

	memset(o, 0, sizeof(*o));
	o->client_id = DEFAULT_CLIENT_ID;
	o->scope = DEFAULT_SCOPE;
	o->sub = DEFAULT_SUB;
	o->ttl = DEFAULT_TTL;
	for (int i = 0; i < argc; i++) {
		const char *v = "";
		int r = 0;
		size_t k;

		for (k = 0; k < sizeof(valued) / sizeof(valued[0]); k++)
			if ((r = take_option(argc, argv, &i, valued[k], &v)) != 0)
				break;
		if (r < 0)
			return EXIT_USAGE;
		if (r > 0) {
			if (token_option(o, valued[k], v) != 0)
				return EXIT_USAGE;
		} else if (argv[i][0] == '-' && argv[i][1] != '\0') {
			usage_error("token: unknown option '%s'", argv[i]);
			return EXIT_USAGE;
		} else if (o->dir != NULL) {
			usage_error("token: unexpected argument '%s'", argv[i]);
			return EXIT_USAGE;
		} else {
			o->dir = argv[i];
		}
	}
	if (o->dir == NULL || o->dir[0] == '\0') {
		usage_error("token needs a directory");
		return EXIT_USAGE;
	}
	if (o->kid != NULL && !kid_is_safe(o->kid)) {
		usage_error("token: --kid '%s' is not a key id of this issuer", o->kid);
		return EXIT_USAGE;
	}
	return 0;
}

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

static int
cmd_token(int argc, char **argv)
{
	struct token_opts o;
	struct issuer is;
	char name[128], *keyfile = NULL, *pem = NULL, *claims_json = NULL, *token = NULL;
	const char *kid;
	cJSON *claims = NULL;
	size_t pem_len;
	int rc = 1;

	if ((rc = token_parse(&o, argc, argv)) != 0)
		return rc;
	rc = 1;
	if (issuer_load(&is, o.dir) < 0)
		return 1;
	kid = o.kid;
	if (kid == NULL) {
		int n = cJSON_GetArraySize(is.keys);

		kid = n > 0 ? jwk_kid(cJSON_GetArrayItem(is.keys, n - 1)) : NULL;
		if (kid == NULL) {
			fail("%s/jwks.json has no key to sign with: run '" PROG " add-key %s'", is.dir, o.dir);
			goto done;
		}
		if (!kid_is_safe(kid)) {
			fail("%s/jwks.json names an unusable kid '%s'", is.dir, kid);
			goto done;
		}
	}
	snprintf(name, sizeof(name), "keys/%s.pem", kid);
	if ((keyfile = path_join(is.dir, name)) == NULL || (pem = read_file(keyfile, &pem_len)) == NULL)
		goto done;
	if (o.kid != NULL && issuer_find_key(&is, kid) < 0)
		fprintf(stderr, PROG ": note: %s is not published in jwks.json; verifiers will refuse "
		    "this token\n", kid);
	if ((claims = token_claims(&o, is.iss)) == NULL)
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
	free(keyfile);
	issuer_free(&is);
	return rc;
}

int
main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*run)(int, char **);
	} commands[] = {
		{"init", cmd_init},
		{"add-key", cmd_add_key},
		{"retire-key", cmd_retire_key},
		{"token", cmd_token},
	};
	int rc;

	if (argc < 2) {
		fputs(usage_text, stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
		fputs(usage_text, stdout);
		return 0;
	}
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			fputs(usage_text, stdout);
			return 0;
		}
	}
	if (sodium_init() < 0) {
		fail("libsodium failed to initialise");
		return 1;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[1], commands[i].name) == 0) {
			rc = commands[i].run(argc - 2, argv + 2);
			if (fflush(stdout) != 0 || ferror(stdout)) {
				fail("cannot write to stdout: %s", strerror(errno));
				return 1;
			}
			return rc;
		}
	}
	usage_error("unknown command '%s'", argv[1]);
	return EXIT_USAGE;
}
