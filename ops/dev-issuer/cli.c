/*
 * mcpd-dev-issuer (development tool, never in the server): the command line.
 * main, usage, argument parsing and the four commands; the work itself is
 * done by keys.c, documents.c and tokens.c.
 *
 * A token issuer for development, entirely on disk.  It keeps RSA signing
 * keys, a JWKS and an OIDC discovery document in one directory, and signs
 * Cognito-like RS256 tokens with them, so that mcpd can verify real tokens
 * on a machine with no identity provider:
 *
 *	mcpd-dev-issuer init .dev/issuer       prints file://.../openid-configuration.json
 *	mcpd --discovery-url file://... --allow-insecure-issuer --allowed-clients mcpd-dev-client
 *	mcpd-dev-issuer token .dev/issuer      prints a token
 *
 * Exit status: 0 done, 1 failed (one line on stderr), 2 bad arguments.
 */
#define _XOPEN_SOURCE 700	/* realpath under any -std */

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "dev_issuer.h"

#define OFFSET_MAX 315360000L	/* ten years, in seconds */
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

/* Reports bad arguments: the cause, then how to get the usage. */
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

/* ---- Argument parsing ---- */

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

struct init_opts {
	const char *dir, *issuer;
	bool force;
};

/* Parses init's arguments; returns 0 or EXIT_USAGE. */
static int
init_parse(struct init_opts *o, int argc, char **argv)
{
	const char *v;
	int r;

	o->dir = NULL;
	o->issuer = DEFAULT_ISSUER;
	o->force = false;
	for (int i = 0; i < argc; i++) {
		if ((r = take_option(argc, argv, &i, "--issuer", &v)) != 0) {
			if (r < 0)
				return EXIT_USAGE;
			o->issuer = v;
		} else if (strcmp(argv[i], "--force") == 0) {
			o->force = true;
		} else if (argv[i][0] == '-' && argv[i][1] != '\0') {
			usage_error("init: unknown option '%s'", argv[i]);
			return EXIT_USAGE;
		} else if (o->dir == NULL) {
			o->dir = argv[i];
		} else {
			usage_error("init: unexpected argument '%s'", argv[i]);
			return EXIT_USAGE;
		}
	}
	if (o->dir == NULL || o->dir[0] == '\0') {
		usage_error("init needs a directory");
		return EXIT_USAGE;
	}
	if ((strncmp(o->issuer, "https://", 8) != 0 && strncmp(o->issuer, "http://", 7) != 0) ||
	    strcspn(o->issuer, " \t\r\n\"\\") != strlen(o->issuer) || strlen(o->issuer) > 400) {
		usage_error("init: --issuer '%s' is not an http(s) URL", o->issuer);
		return EXIT_USAGE;
	}
	return 0;
}

/* init without --force where an issuer exists: it is kept, and reported. */
static int
init_keep(const char *abs, const char *disc_url)
{
	struct issuer is;

	if (issuer_load(&is, abs) < 0)
		return 1;
	fprintf(stderr, PROG ": %s already holds an issuer (%s); nothing changed "
	    "(--force replaces it)\n", abs, is.iss);
	issuer_free(&is);
	note_if_hidden(abs);
	printf("%s\n", disc_url);
	return 0;
}

static int
cmd_init(int argc, char **argv)
{
	struct init_opts o;
	char kid[64], *abs = NULL, *disc_url = NULL;
	cJSON *jwk;
	int rc = 1;

	if (init_parse(&o, argc, argv) != 0)
		return EXIT_USAGE;
	if (make_dirs(o.dir) < 0)
		return 1;
	if ((abs = realpath(o.dir, NULL)) == NULL) {
		fail("cannot resolve %s: %s", o.dir, strerror(errno));
		return 1;
	}
	if ((disc_url = file_url(abs, "openid-configuration.json")) == NULL)
		goto done;
	if (issuer_exists(abs) && !o.force) {
		rc = init_keep(abs, disc_url);
		goto done;
	}
	if (o.force && remove_private_keys(abs) < 0)
		goto done;
	if ((jwk = new_signing_key(abs, kid, sizeof(kid))) == NULL ||
	    issuer_create(abs, o.issuer, jwk) < 0)
		goto done;
	fprintf(stderr, PROG ": created issuer %s in %s with signing key %s\n", o.issuer, abs, kid);
	note_if_hidden(abs);
	printf("%s\n", disc_url);
	rc = 0;
done:
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
	if (!cJSON_AddItemToArray(is.keys, jwk)) {
		cJSON_Delete(jwk);
		fail("out of memory");
		goto done;
	}
	if (issuer_save_jwks(&is) < 0)
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
	if (issuer_save_jwks(&is) < 0)
		goto done;
	fprintf(stderr, PROG ": retired %s; keys left in jwks.json: %d; %s signs by default\n", argv[1],
	    cJSON_GetArraySize(is.keys), jwk_kid(cJSON_GetArrayItem(is.keys, cJSON_GetArraySize(is.keys) - 1)));
	rc = 0;
done:
	issuer_free(&is);
	return rc;
}

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

static int
cmd_token(int argc, char **argv)
{
	struct token_opts o;
	int rc;

	if ((rc = token_parse(&o, argc, argv)) != 0)
		return rc;
	return token_print(&o);
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
