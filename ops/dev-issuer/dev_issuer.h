/*
 * mcpd-dev-issuer (development tool, never in the server): what its files
 * share.  Private to ops/dev-issuer; mcpd includes none of it.
 *
 *	cli.c		main, usage, argument parsing, the four commands
 *	files.c		failure reporting, file reads and atomic writes, file:// URLs
 *	keys.c		RSA signing keys on disk and their public JWKs
 *	documents.c	the issuer on disk: jwks.json and openid-configuration.json
 *	tokens.c	claims and RS256 signing
 *
 * Functions that report a failure do so themselves (one line on stderr via
 * fail()), so a caller only passes the failure on.
 */
#ifndef MCPD_DEV_ISSUER_H
#define MCPD_DEV_ISSUER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <cjson/cJSON.h>

#define PROG "mcpd-dev-issuer"
#define DEFAULT_ISSUER "https://dev-issuer.mcpd.local"
#define DEFAULT_CLIENT_ID "mcpd-dev-client"
#define DEFAULT_SCOPE "mcp/tools"
#define DEFAULT_SUB "dev-user"
#define DEFAULT_TTL 3600
#define MAX_CLAIM_OPS 64

/* ---- files.c ---- */

/* Prints "mcpd-dev-issuer: <message>" on stderr; always returns -1. */
int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* "dir/name" in a new allocation, or NULL (reported). */
char *path_join(const char *dir, const char *name);

/* A whole file (at most 1 MiB), NUL-terminated, length in *lenp if set; NULL (reported). */
char *read_file(const char *path, size_t *lenp);

/* Writes all of `data` to fd (`path` names it in errors); 0 or -1 (reported). */
int write_all(int fd, const char *data, size_t len, const char *path);

/* Replaces dir/name atomically: readers see the old or the new file; 0 or -1 (reported). */
int write_file_atomic(const char *dir, const char *name, const char *data, size_t len, mode_t mode);

/* mkdir -p, missing directories world-readable (0755); 0 or -1 (reported). */
int make_dirs(const char *dir);

/* As root, notes on stderr a directory on the way to `abs` that mcpd's --user cannot search. */
void note_if_hidden(const char *abs);

/* The percent-encoded URL file://abspath/name in a new allocation, or NULL (reported). */
char *file_url(const char *abspath, const char *name);

/* ---- keys.c ---- */

/* Whether `kid` is safe as a file name: [A-Za-z0-9._-], 1 to 100 characters, no leading dot. */
bool kid_is_safe(const char *kid);

/* The "kid" of a JWK, or NULL when it has none. */
const char *jwk_kid(const cJSON *jwk);

/* A new key in DIR/keys/<kid>.pem, its random kid in kid[]; its public JWK or NULL (reported). */
cJSON *new_signing_key(const char *dir, char *kid, size_t kidlen);

/* The PEM of DIR/keys/<kid>.pem (a safe kid), length in *lenp; NULL (reported). Wipe after use. */
char *read_private_key(const char *dir, const char *kid, size_t *lenp);

/* Removes the .pem files in DIR/keys (init --force); 0 or -1 (reported). */
int remove_private_keys(const char *dir);

/* ---- documents.c ---- */

struct issuer {
	char *dir;		/* absolute */
	cJSON *discovery;	/* openid-configuration.json */
	cJSON *jwks;		/* jwks.json */
	const char *iss;	/* inside discovery */
	cJSON *keys;		/* inside jwks: the "keys" array */
};

/* Whether DIR holds an issuer (its discovery document exists). */
bool issuer_exists(const char *dir);

/* Loads and checks DIR's two documents into *is; 0, or -1 (reported) leaving *is empty. */
int issuer_load(struct issuer *is, const char *dir);

/* Frees what issuer_load() loaded; safe on an empty *is. */
void issuer_free(struct issuer *is);

/* Index of KID in is->keys, or -1. */
int issuer_find_key(const struct issuer *is, const char *kid);

/* Writes is->jwks back to jwks.json, atomically; 0 or -1 (reported). */
int issuer_save_jwks(const struct issuer *is);

/* Writes absolute DIR's jwks.json (`jwk` alone, consumed), then discovery; 0 or -1 (reported). */
int issuer_create(const char *dir, const char *iss, cJSON *jwk);

/* ---- tokens.c ---- */

/* One --claim NAME=VALUE or --drop-claim NAME, applied in command-line order. */
struct claim_op {
	const char *name;	/* for --claim, "NAME=VALUE": the name ends at '=' */
	const char *value;	/* NULL: drop the claim */
};

/* The token command's options, parsed by cli.c. */
struct token_opts {
	const char *dir, *kid, *client_id, *scope, *aud, *sub;
	long ttl, nbf_offset, iat_offset;
	bool id_token, has_nbf;
	struct claim_op ops[MAX_CLAIM_OPS];
	int nops;
};

/* Signs a token as `o` describes and prints it on stdout; the exit status, 0 or 1 (reported). */
int token_print(const struct token_opts *o);

#endif
