/* Runs in: the supervisor, before anything else; children only read the result. */
/*
 * config: loads the settings.  Every flag and MCPD_* variable is declared
 * once, as a row of the option table (config_table.c); defaults, parsing,
 * --help and the "expected ..." part of error messages are all generated
 * from the rows.  This file applies the defaults, then the environment,
 * then the flags, and checks the settings that depend on each other.
 */
#include "common/config.h"

#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/config_help.h"
#include "common/config_table.h"
#include "common/fail.h"

extern char **environ;

/* No default is written for --auth: the zeroed config must mean "not chosen". */
_Static_assert(AUTH_UNSET == 0, "a zeroed config has no authentication mode");

/* Every default comes from its row: a value parsed like a given one, or computed. */
static int
set_defaults(struct config *cfg, char *err, size_t errlen)
{
	memset(cfg, 0, sizeof(*cfg));
	for (size_t i = 0; i < config_n_options; i++) {
		const struct option_row *row = &config_options[i];
		int rc = 0;

		if (row->set_default != NULL)
			rc = row->set_default(cfg, row);
		else if (row->def != NULL)
			rc = row->kind->parse(cfg, row, row->def);
		if (rc < 0)
			return fail_because(err, errlen, "the built-in default of --%s is not accepted", row->flag);
	}
	return 0;
}

static int
apply(struct config *cfg, const struct option_row *row, const char *value,
    const char *source, char *err, size_t errlen)
{
	char accepted[512];

	/* An empty value is refused here, whatever the kind, with its own message. */
	if (value[0] != '\0' && row->kind->parse(cfg, row, value) == 0)
		return 0;
	if (value[0] != '\0' && row->kind->explain != NULL) {
		row->kind->explain(value, accepted, sizeof(accepted));
		return fail_because(err, errlen, "%s %s", source, accepted);
	}
	config_accepted_text(row, accepted, sizeof(accepted));
	if (value[0] == '\0')
		return fail_because(err, errlen, "%s is empty: give %s, or leave it out for the default",
		    source, accepted);
	return fail_because(err, errlen, "invalid %s value '%.160s%s': expected %s", source, value,
	    strlen(value) > 160 ? "..." : "", accepted);
}

/* The row whose flag (or, with by_env, variable) is name[0..len), or NULL. */
static const struct option_row *
find_row(const char *name, size_t len, bool by_env)
{
	for (size_t i = 0; i < config_n_options; i++) {
		const char *key = by_env ? config_options[i].env : config_options[i].flag;

		if (strlen(key) == len && strncmp(key, name, len) == 0)
			return &config_options[i];
	}
	return NULL;
}

/* Every MCPD_* variable must be one we know: a typo must not pass silently. */
static int
load_environment(struct config *cfg, char *err, size_t errlen)
{
	for (char **e = environ; *e != NULL; e++) {
		const char *eq = strchr(*e, '=');
		const struct option_row *row;

		if (strncmp(*e, "MCPD_", 5) != 0 || eq == NULL)
			continue;
		row = find_row(*e, (size_t)(eq - *e), true);
		if (row == NULL)
			return fail_because(err, errlen, "unknown environment variable %.*s: "
			    "see mcpd --help for the MCPD_* variables", (int)(eq - *e), *e);
		if (apply(cfg, row, eq + 1, row->env, err, errlen) < 0)
			return -1;
	}
	return 0;
}

static int
load_flags(struct config *cfg, int argc, char **argv, char *err, size_t errlen)
{
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i], *name, *eq, *value;
		const struct option_row *row;
		char source[64];
		size_t len;

		if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
			cfg->show_help = true;
			continue;
		}
		if (strcmp(arg, "--version") == 0) {
			cfg->show_version = true;
			continue;
		}
		if (strncmp(arg, "--", 2) != 0)
			return fail_because(err, errlen,
			    "unexpected argument '%s': flags look like --port 8000 (see --help)", arg);
		name = arg + 2;
		eq = strchr(name, '=');
		len = eq ? (size_t)(eq - name) : strlen(name);
		row = find_row(name, len, false);
		if (row == NULL)
			return fail_because(err, errlen, "unknown flag '--%.*s': see mcpd --help", (int)len, name);
		if (eq != NULL)
			value = eq + 1;
		else if (row->kind->is_switch)
			value = "true";
		else if (i + 1 < argc)
			value = argv[++i];
		else
			return fail_because(err, errlen, "flag --%s needs a value (%s)", row->flag, row->metavar);
		snprintf(source, sizeof(source), "--%s", row->flag);
		if (apply(cfg, row, value, source, err, errlen) < 0)
			return -1;
	}
	return 0;
}

static bool
url_host_is_loopback(const char *url)
{
	const char *host = strstr(url, "://") + 3;
	size_t n = strcspn(host, "/?");
	const char *colon = host[0] == '[' ? memchr(host, ']', n) : memchr(host, ':', n);

	if (colon != NULL && host[0] == '[')
		colon++;
	if (colon != NULL)
		n = (size_t)(colon - host);
	return (n == 9 && strncmp(host, "localhost", 9) == 0) ||
	    (n == 9 && strncmp(host, "127.0.0.1", 9) == 0) || (n == 5 && strncmp(host, "[::1]", 5) == 0);
}

/* Checks that depend on several settings together. */
static int
validate(struct config *cfg, char *err, size_t errlen)
{
	const char *url = cfg->discovery_url;

	if (url[0] != '\0' && cfg->auth == AUTH_NONE)
		return fail_because(err, errlen, "--auth none and --discovery-url contradict each other: "
		    "give one of them");
	if (url[0] != '\0')
		cfg->auth = AUTH_JWT;
	if (cfg->auth == AUTH_UNSET)
		return fail_because(err, errlen, "no authentication configured: pass --discovery-url URL "
		    "(the token issuer's OIDC discovery document) to verify tokens, or --auth none "
		    "to serve without");
	/* The limits key on a verified token's claim: without verification there is none. */
	if (cfg->auth != AUTH_JWT && (cfg->client_rate_limit.rate_milli > 0 || cfg->client_concurrency > 0))
		return fail_because(err, errlen, "--client-rate-limit and --client-concurrency limit each "
		    "client by its verified token's %s, and --auth none verifies no token: give "
		    "--discovery-url to verify tokens, or leave the limits off",
		    cfg->client_limit_key == CLIENT_KEY_SUB ? "sub" : "client_id");
	if (cfg->auth != AUTH_JWT)
		return 0;
	if (strncmp(url, "https://", 8) != 0 && !cfg->allow_insecure_issuer)
		return fail_because(err, errlen, "--discovery-url '%.200s' is not https: pass "
		    "--allow-insecure-issuer for a loopback or file issuer in development", url);
	if (strncmp(url, "http://", 7) == 0 && !url_host_is_loopback(url))
		return fail_because(err, errlen, "--discovery-url '%.200s': plain http is allowed only on "
		    "loopback (localhost, 127.0.0.1, [::1]); use https", url);
	if (cfg->allowed_clients.n == 0 && cfg->allowed_audiences.n == 0)
		return fail_because(err, errlen, "token verification needs --allowed-clients (matched "
		    "against client_id) or --allowed-audiences (matched against aud)");
	if (cfg->jwks_refresh_min > cfg->jwks_refresh_max)
		return fail_because(err, errlen, "--jwks-refresh-min %u is above --jwks-refresh-max %u",
		    cfg->jwks_refresh_min, cfg->jwks_refresh_max);
	return 0;
}

int
config_load(struct config *cfg, int argc, char **argv, char *err, size_t errlen)
{
	/* Environment first so that flags, applied second, win. */
	if (set_defaults(cfg, err, errlen) < 0 || load_environment(cfg, err, errlen) < 0 ||
	    load_flags(cfg, argc, argv, err, errlen) < 0 ||
	    (!cfg->show_help && !cfg->show_version && validate(cfg, err, errlen) < 0)) {
		config_free(cfg);
		return -1;
	}
	return 0;
}

int
config_resolve_user(struct config *cfg, char *err, size_t errlen)
{
	struct passwd *pw;

	cfg->run_uid = geteuid();
	cfg->run_gid = getegid();
	if (geteuid() != 0)
		return 0;
	pw = getpwnam(cfg->user);
	if (pw == NULL)
		return fail_because(err, errlen, "--user %s: no such user; create it or pass --user NAME "
		    "of an unprivileged user", cfg->user);
	if (pw->pw_uid == 0)
		return fail_because(err, errlen, "--user %s is root: children must run unprivileged", cfg->user);
	cfg->run_uid = pw->pw_uid;
	cfg->run_gid = pw->pw_gid;
	return 0;
}

void
config_free(struct config *cfg)
{
	for (size_t i = 0; i < config_n_options; i++)
		if (config_options[i].kind->release != NULL)
			config_options[i].kind->release(cfg, &config_options[i]);
}
