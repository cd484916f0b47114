/* Runs in: the supervisor, before anything else; children only read the result. */
#include "common/config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern char **environ;

/* A parser stores one textual value in cfg, or returns -1 if it is not accepted. */
typedef int (*option_parser)(struct config *cfg, const char *value);

struct option_row {
	bool is_switch;		/* a flag without a value: --x means "true" */
	const char *flag;	/* without the leading "--" */
	const char *env;
	const char *metavar;
	const char *help;
	const char *accepted;	/* says what a valid value looks like */
	option_parser parse;
};

static int
parse_unsigned(const char *value, unsigned long long min, unsigned long long max,
    unsigned long long *out)
{
	char *end;
	unsigned long long v;

	if (value[0] < '0' || value[0] > '9')
		return -1;
	errno = 0;
	v = strtoull(value, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static int
parse_host(struct config *cfg, const char *value)
{
	unsigned char addr[16];

	if (strlen(value) >= sizeof(cfg->host))
		return -1;
	if (inet_pton(AF_INET, value, addr) != 1 && inet_pton(AF_INET6, value, addr) != 1)
		return -1;
	strcpy(cfg->host, value);
	return 0;
}

static int
parse_seconds(unsigned *dst, const char *value, unsigned long long min, unsigned long long max)
{
	unsigned long long v;

	if (parse_unsigned(value, min, max, &v) < 0)
		return -1;
	*dst = (unsigned)v;
	return 0;
}

static int
parse_port(struct config *cfg, const char *value)
{
	unsigned long long v;

	if (parse_unsigned(value, 0, 65535, &v) < 0)
		return -1;
	cfg->port = (uint16_t)v;
	return 0;
}

static int
parse_workers(struct config *cfg, const char *value)
{
	unsigned long long v;

	if (parse_unsigned(value, 1, CONFIG_MAX_WORKERS, &v) < 0)
		return -1;
	cfg->workers = (int)v;
	return 0;
}

/* A size in bytes, with an optional K/KiB, M/MiB or G/GiB suffix, within [min, max]. */
static int
parse_size(const char *value, unsigned long long min, unsigned long long max, size_t *out)
{
	static const struct { const char *suffix; unsigned long long mult; } units[] = {
		{"", 1}, {"K", 1ULL << 10}, {"KiB", 1ULL << 10}, {"M", 1ULL << 20}, {"MiB", 1ULL << 20},
		{"G", 1ULL << 30}, {"GiB", 1ULL << 30},
	};
	char digits[32];
	size_t n = strspn(value, "0123456789");
	unsigned long long v;

	if (n == 0 || n >= sizeof(digits))
		return -1;
	memcpy(digits, value, n);
	digits[n] = '\0';
	if (parse_unsigned(digits, 0, 1ULL << 40, &v) < 0)
		return -1;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(value + n, units[i].suffix) != 0)
			continue;
		v *= units[i].mult;
		if (v < min || v > max)
			return -1;
		*out = (size_t)v;
		return 0;
	}
	return -1;
}

static int
parse_max_body(struct config *cfg, const char *value)
{
	/* Bodies are buffered whole; h2o spills >= 32 MiB buffers to /tmp. */
	return parse_size(value, 1024, 16ULL << 20, &cfg->max_body);
}

static int
parse_max_pending_output(struct config *cfg, const char *value)
{
	return parse_size(value, 1ULL << 20, 64ULL << 30, &cfg->max_pending_output);
}

static int
parse_shutdown_timeout(struct config *cfg, const char *value)
{
	return parse_seconds(&cfg->shutdown_timeout, value, 0, 3600);
}

static int
parse_idle_timeout(struct config *cfg, const char *value)
{
	return parse_seconds(&cfg->idle_timeout, value, 1, 3600);
}

static int
parse_log_level(struct config *cfg, const char *value)
{
	return log_level_parse(value, &cfg->log_level);
}

/* An origin is scheme "://" host [":" port], exactly as browsers send it. */
static bool
origin_well_formed(const char *o)
{
	const char *host;

	if (strncmp(o, "http://", 7) == 0)
		host = o + 7;
	else if (strncmp(o, "https://", 8) == 0)
		host = o + 8;
	else
		return false;
	return host[0] != '\0' && strpbrk(host, "/?#@ \t") == NULL;
}

static void
free_origins(struct config *cfg)
{
	for (size_t i = 0; i < cfg->n_allowed_origins; i++)
		free(cfg->allowed_origins[i]);
	cfg->n_allowed_origins = 0;
	cfg->allow_any_origin = false;
}

static int
parse_allowed_origins(struct config *cfg, const char *value)
{
	const char *p = value;

	free_origins(cfg);
	if (strcmp(value, "*") == 0) {
		cfg->allow_any_origin = true;
		return 0;
	}
	while (*p != '\0') {
		size_t n = strcspn(p, ",");
		char *origin;

		if (n == 0 || cfg->n_allowed_origins == CONFIG_MAX_ORIGINS)
			return -1;
		origin = strndup(p, n);
		if (origin == NULL)
			return -1;
		cfg->allowed_origins[cfg->n_allowed_origins++] = origin;
		if (!origin_well_formed(origin))
			return -1;
		p += n;
		if (*p == ',' && *++p == '\0')
			return -1;
	}
	return cfg->n_allowed_origins > 0 ? 0 : -1;
}

static int
parse_auth(struct config *cfg, const char *value)
{
	if (strcmp(value, "none") != 0)
		return -1;
	cfg->auth = AUTH_NONE;
	return 0;
}

static int
parse_url_into(char *dst, const char *value)
{
	if (strlen(value) >= CONFIG_URL_MAX || strpbrk(value, " \t\r\n#") != NULL)
		return -1;
	if (strncmp(value, "https://", 8) != 0 && strncmp(value, "http://", 7) != 0 &&
	    strncmp(value, "file:///", 8) != 0)
		return -1;
	strcpy(dst, value);
	return 0;
}

static int
parse_discovery_url(struct config *cfg, const char *value)
{
	return parse_url_into(cfg->discovery_url, value);
}

static int
parse_resource_url(struct config *cfg, const char *value)
{
	if (strncmp(value, "file:", 5) == 0)
		return -1;
	return parse_url_into(cfg->resource_url, value);
}

static int
parse_switch(bool *dst, const char *value)
{
	static const char *const yes[] = {"1", "true", "yes", "on"}, *const no[] = {"0", "false", "no", "off"};

	for (size_t i = 0; i < 4; i++) {
		if (strcmp(value, yes[i]) == 0 || strcmp(value, no[i]) == 0) {
			*dst = strcmp(value, yes[i]) == 0;
			return 0;
		}
	}
	return -1;
}

static int
parse_allow_insecure_issuer(struct config *cfg, const char *value)
{
	return parse_switch(&cfg->allow_insecure_issuer, value);
}

void
strlist_free(struct strlist *list)
{
	for (size_t i = 0; i < list->n; i++)
		free(list->items[i]);
	list->n = 0;
}

bool
strlist_contains(const struct strlist *list, const char *s, size_t n)
{
	for (size_t i = 0; i < list->n; i++)
		if (strlen(list->items[i]) == n && memcmp(list->items[i], s, n) == 0)
			return true;
	return false;
}

/* Splits on any of `seps`; items are printable ASCII without quotes. */
static int
parse_list(struct strlist *list, const char *value, const char *seps)
{
	const char *p = value;

	strlist_free(list);
	while (*p != '\0') {
		size_t n = strcspn(p, seps);

		if (n > 0) {
			if (list->n == CONFIG_MAX_LIST || n > 256)
				return -1;
			for (size_t i = 0; i < n; i++)
				if (p[i] <= ' ' || p[i] > '~' || p[i] == '"' || p[i] == '\\')
					return -1;
			list->items[list->n] = strndup(p, n);
			if (list->items[list->n] == NULL)
				return -1;
			list->n++;
		}
		p += n;
		p += strspn(p, seps);
	}
	return list->n > 0 ? 0 : -1;
}

static int
parse_allowed_clients(struct config *cfg, const char *value)
{
	return parse_list(&cfg->allowed_clients, value, ",");
}

static int
parse_allowed_audiences(struct config *cfg, const char *value)
{
	return parse_list(&cfg->allowed_audiences, value, ",");
}

static int
parse_required_scopes(struct config *cfg, const char *value)
{
	return parse_list(&cfg->required_scopes, value, ", ");
}


static int
parse_clock_skew(struct config *cfg, const char *value)
{
	return parse_seconds(&cfg->clock_skew, value, 0, 600);
}

static int
parse_jwks_refresh_min(struct config *cfg, const char *value)
{
	return parse_seconds(&cfg->jwks_refresh_min, value, 1, 86400);
}

static int
parse_jwks_refresh_max(struct config *cfg, const char *value)
{
	return parse_seconds(&cfg->jwks_refresh_max, value, 1, 86400);
}

static int
parse_public_ping(struct config *cfg, const char *value)
{
	return parse_switch(&cfg->public_ping, value);
}

/* ADDR:PORT, with an IPv6 address in brackets ([::1]:9100); the port may not be 0. */
static int
parse_metrics_listen(struct config *cfg, const char *value)
{
	const char *colon = strrchr(value, ':');
	char host[sizeof(cfg->host)];
	unsigned char addr[16];
	unsigned long long port;
	size_t n;

	if (colon == NULL || parse_unsigned(colon + 1, 1, 65535, &port) < 0)
		return -1;
	n = (size_t)(colon - value);
	if (n == 0 || n >= sizeof(host))
		return -1;
	/* An IPv6 address needs its brackets: "::1:9100" is itself an address. */
	if (value[0] == '[' && value[n - 1] == ']') {
		memcpy(host, value + 1, n - 2);
		host[n - 2] = '\0';
		if (inet_pton(AF_INET6, host, addr) != 1)
			return -1;
	} else {
		memcpy(host, value, n);
		host[n] = '\0';
		if (inet_pton(AF_INET, host, addr) != 1)
			return -1;
	}
	strcpy(cfg->metrics_host, host);
	cfg->metrics_port = (uint16_t)port;
	cfg->metrics_listen = true;
	return 0;
}

static int
parse_metrics_emf(struct config *cfg, const char *value)
{
	return parse_seconds(&cfg->metrics_emf, value, 0, 3600);
}

/* CloudWatch namespaces: 1..255 of letters, digits and . - _ / # : (no leading colon). */
static int
parse_metrics_namespace(struct config *cfg, const char *value)
{
	size_t n = strlen(value);

	if (n == 0 || n >= sizeof(cfg->metrics_namespace) || value[0] == ':' ||
	    strspn(value, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-_/#:") != n)
		return -1;
	strcpy(cfg->metrics_namespace, value);
	return 0;
}

static int
parse_sandbox(struct config *cfg, const char *value)
{
	if (strcmp(value, "strict") == 0)
		cfg->sandbox = SANDBOX_STRICT;
	else if (strcmp(value, "best-effort") == 0)
		cfg->sandbox = SANDBOX_BEST_EFFORT;
	else
		return -1;
	return 0;
}

static int
parse_user(struct config *cfg, const char *value)
{
	if (strlen(value) >= sizeof(cfg->user) || strpbrk(value, ":/ \t") != NULL)
		return -1;
	strcpy(cfg->user, value);
	return 0;
}

static const struct option_row options[] = {
	{false, "host", "MCPD_HOST", "ADDR", "address to listen on (default 0.0.0.0)",
	    "an IPv4 or IPv6 address such as 0.0.0.0, 127.0.0.1 or ::", parse_host},
	{false, "port", "MCPD_PORT", "PORT", "TCP port (default 8000; 0 picks a free one)",
	    "an integer 0..65535 (0 picks a free port)", parse_port},
	{false, "workers", "MCPD_WORKERS", "N", "worker processes, 1..256 (default: online CPUs)",
	    "an integer 1..256", parse_workers},
	{false, "max-body", "MCPD_MAX_BODY", "SIZE", "largest request body; bigger ones get 413 (default 1MiB)",
	    "a size of 1 KiB..16 MiB in bytes, or with a K/KiB, M/MiB or G/GiB suffix", parse_max_body},
	{false, "max-pending-output", "MCPD_MAX_PENDING_OUTPUT", "SIZE", "large answers a worker holds for slow readers before it refuses large requests with 503 (default 64MiB)",
	    "a size of 1 MiB..64 GiB in bytes, or with a K/KiB, M/MiB or G/GiB suffix", parse_max_pending_output},
	{false, "shutdown-timeout", "MCPD_SHUTDOWN_TIMEOUT", "SECS", "how long SIGTERM waits for in-flight requests (default 10)",
	    "whole seconds 0..3600", parse_shutdown_timeout},
	{false, "idle-timeout", "MCPD_IDLE_TIMEOUT", "SECS", "close connections idle or stalled this long (default 10)",
	    "whole seconds 1..3600", parse_idle_timeout},
	{false, "log-level", "MCPD_LOG_LEVEL", "LEVEL", "debug, info, warn or error (default info)",
	    "debug, info, warn or error", parse_log_level},
	{false, "allowed-origins", "MCPD_ALLOWED_ORIGINS", "LIST", "Origin values allowed on /mcp, comma-separated, or '*' (default: loopback origins only)",
	    "'*' or a comma-separated list of up to 32 origins such as "
	    "https://app.example.com,http://localhost:3000", parse_allowed_origins},
	{false, "auth", "MCPD_AUTH", "MODE", "'none' serves without verifying tokens (logged as a warning)",
	    "none (token verification is turned on by --discovery-url)", parse_auth},
	{false, "discovery-url", "MCPD_DISCOVERY_URL", "URL", "OIDC discovery document of the token issuer; turns verification on",
	    "an https URL such as https://cognito-idp.us-east-1.amazonaws.com/POOL/.well-known/openid-configuration "
	    "(http on loopback and file URLs need --allow-insecure-issuer)", parse_discovery_url},
	{true, "allow-insecure-issuer", "MCPD_ALLOW_INSECURE_ISSUER", "", "accept an http (loopback only) or file discovery URL, for development",
	    "true or false (1/0, yes/no, on/off)", parse_allow_insecure_issuer},
	{false, "allowed-clients", "MCPD_ALLOWED_CLIENTS", "LIST", "client ids accepted in access tokens' client_id, comma-separated",
	    "a comma-separated list of up to 32 client ids", parse_allowed_clients},
	{false, "allowed-audiences", "MCPD_ALLOWED_AUDIENCES", "LIST", "audiences accepted in tokens' aud, comma-separated",
	    "a comma-separated list of up to 32 audiences", parse_allowed_audiences},
	{false, "required-scopes", "MCPD_REQUIRED_SCOPES", "LIST", "scopes every token must carry (else 403), comma- or space-separated",
	    "a list of up to 32 scopes separated by commas or spaces", parse_required_scopes},
	{false, "clock-skew", "MCPD_CLOCK_SKEW", "SECS", "leeway on exp, nbf and iat (default 60)",
	    "whole seconds 0..600", parse_clock_skew},
	{false, "jwks-refresh-min", "MCPD_JWKS_REFRESH_MIN", "SECS", "shortest time between two key-set fetches (default 30)",
	    "whole seconds 1..86400", parse_jwks_refresh_min},
	{false, "jwks-refresh-max", "MCPD_JWKS_REFRESH_MAX", "SECS", "longest time a key set is used before refetching (default 3600)",
	    "whole seconds 1..86400", parse_jwks_refresh_max},
	{false, "sandbox", "MCPD_SANDBOX", "MODE", "strict (default): refuse to serve if a sandbox step fails; best-effort: log and go on",
	    "strict or best-effort", parse_sandbox},
	{false, "user", "MCPD_USER", "NAME", "user the workers and the fetcher run as when started as root (default nobody)",
	    "a user name such as nobody", parse_user},
	{false, "resource-url", "MCPD_RESOURCE_URL", "URL", "public URL of /mcp for OAuth metadata (default: from the Host header)",
	    "an http(s) URL such as https://mcp.example.com/mcp", parse_resource_url},
	{false, "public-ping", "MCPD_PUBLIC_PING", "on|off", "answer a lone JSON-RPC ping without a token, for health probes (default on)",
	    "on or off (also true/false, 1/0, yes/no)", parse_public_ping},
	{false, "metrics-listen", "MCPD_METRICS_LISTEN", "ADDR:PORT", "serve Prometheus /metrics on a second listener (default: not served)",
	    "an IPv4 address and a port 1..65535 such as 127.0.0.1:9100 or 0.0.0.0:9100, or an IPv6 address in brackets such as [::1]:9100", parse_metrics_listen},
	{false, "metrics-emf", "MCPD_METRICS_EMF", "SECS", "write CloudWatch Embedded Metric Format lines to stdout every SECS seconds (default 0: off)",
	    "whole seconds 0..3600 (0 turns it off)", parse_metrics_emf},
	{false, "metrics-namespace", "MCPD_METRICS_NAMESPACE", "NAME", "CloudWatch namespace of the EMF metrics (default mcpd)",
	    "1..255 letters, digits and . - _ / # : not starting with a colon", parse_metrics_namespace},
};
#define N_OPTIONS (sizeof(options) / sizeof(options[0]))

static void
set_defaults(struct config *cfg)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	memset(cfg, 0, sizeof(*cfg));
	strcpy(cfg->host, "0.0.0.0");
	cfg->port = 8000;
	cfg->workers = cpus < 1 ? 1 : cpus > CONFIG_MAX_WORKERS ? CONFIG_MAX_WORKERS : (int)cpus;
	cfg->max_body = 1024 * 1024;
	cfg->max_pending_output = 64 * 1024 * 1024;
	cfg->shutdown_timeout = 10;
	cfg->idle_timeout = 10;
	cfg->log_level = LOG_INFO;
	cfg->auth = AUTH_UNSET;
	cfg->clock_skew = 60;
	cfg->jwks_refresh_min = 30;
	cfg->jwks_refresh_max = 3600;
	cfg->sandbox = SANDBOX_STRICT;
	strcpy(cfg->user, "nobody");
	cfg->public_ping = true;
	strcpy(cfg->metrics_namespace, "mcpd");
}

static int
fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static int
apply(struct config *cfg, const struct option_row *opt, const char *value,
    const char *source, char *err, size_t errlen)
{
	if (value[0] == '\0')
		return fail(err, errlen, "%s is empty: give %s, or leave it out for the default",
		    source, opt->accepted);
	if (opt->parse(cfg, value) == 0)
		return 0;
	return fail(err, errlen, "invalid %s value '%.160s%s': expected %s", source, value,
	    strlen(value) > 160 ? "..." : "", opt->accepted);
}

static const struct option_row *
find_option(const char *name, size_t len)
{
	for (size_t i = 0; i < N_OPTIONS; i++)
		if (strlen(options[i].flag) == len && strncmp(options[i].flag, name, len) == 0)
			return &options[i];
	return NULL;
}

/* Every MCPD_* variable must be one we know: a typo must not pass silently. */
static int
load_environment(struct config *cfg, char *err, size_t errlen)
{
	for (char **e = environ; *e != NULL; e++) {
		const char *eq = strchr(*e, '=');
		const struct option_row *opt = NULL;

		if (strncmp(*e, "MCPD_", 5) != 0 || eq == NULL)
			continue;
		for (size_t i = 0; i < N_OPTIONS; i++)
			if (strlen(options[i].env) == (size_t)(eq - *e) &&
			    strncmp(options[i].env, *e, (size_t)(eq - *e)) == 0)
				opt = &options[i];
		if (opt == NULL)
			return fail(err, errlen, "unknown environment variable %.*s: see mcpd --help for the MCPD_* variables",
			    (int)(eq - *e), *e);
		if (apply(cfg, opt, eq + 1, opt->env, err, errlen) < 0)
			return -1;
	}
	return 0;
}

static int
load_flags(struct config *cfg, int argc, char **argv, char *err, size_t errlen)
{
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i], *name, *eq, *value;
		const struct option_row *opt;
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
			return fail(err, errlen, "unexpected argument '%s': flags look like --port 8000 (see --help)", arg);
		name = arg + 2;
		eq = strchr(name, '=');
		len = eq ? (size_t)(eq - name) : strlen(name);
		opt = find_option(name, len);
		if (opt == NULL)
			return fail(err, errlen, "unknown flag '--%.*s': see mcpd --help", (int)len, name);
		if (eq != NULL)
			value = eq + 1;
		else if (opt->is_switch)
			value = "true";
		else if (i + 1 < argc)
			value = argv[++i];
		else
			return fail(err, errlen, "flag --%s needs a value (%s)", opt->flag, opt->metavar);
		snprintf(source, sizeof(source), "--%s", opt->flag);
		if (apply(cfg, opt, value, source, err, errlen) < 0)
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
		return fail(err, errlen, "--auth none and --discovery-url contradict each other: "
		    "give one of them");
	if (url[0] != '\0')
		cfg->auth = AUTH_JWT;
	if (cfg->auth == AUTH_UNSET)
		return fail(err, errlen, "no authentication configured: pass --discovery-url URL "
		    "(the token issuer's OIDC discovery document) to verify tokens, or --auth none "
		    "to serve without");
	if (cfg->auth != AUTH_JWT)
		return 0;
	if (strncmp(url, "https://", 8) != 0 && !cfg->allow_insecure_issuer)
		return fail(err, errlen, "--discovery-url '%.200s' is not https: pass "
		    "--allow-insecure-issuer for a loopback or file issuer in development", url);
	if (strncmp(url, "http://", 7) == 0 && !url_host_is_loopback(url))
		return fail(err, errlen, "--discovery-url '%.200s': plain http is allowed only on "
		    "loopback (localhost, 127.0.0.1, [::1]); use https", url);
	if (cfg->allowed_clients.n == 0 && cfg->allowed_audiences.n == 0)
		return fail(err, errlen, "token verification needs --allowed-clients (matched "
		    "against client_id) or --allowed-audiences (matched against aud)");
	if (cfg->jwks_refresh_min > cfg->jwks_refresh_max)
		return fail(err, errlen, "--jwks-refresh-min %u is above --jwks-refresh-max %u",
		    cfg->jwks_refresh_min, cfg->jwks_refresh_max);
	return 0;
}

int
config_load(struct config *cfg, int argc, char **argv, char *err, size_t errlen)
{
	set_defaults(cfg);
	/* Environment first so that flags, applied second, win. */
	if (load_environment(cfg, err, errlen) < 0 || load_flags(cfg, argc, argv, err, errlen) < 0 ||
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
		return fail(err, errlen, "--user %s: no such user; create it or pass --user NAME "
		    "of an unprivileged user", cfg->user);
	if (pw->pw_uid == 0)
		return fail(err, errlen, "--user %s is root: children must run unprivileged", cfg->user);
	cfg->run_uid = pw->pw_uid;
	cfg->run_gid = pw->pw_gid;
	return 0;
}

void
config_free(struct config *cfg)
{
	free_origins(cfg);
	strlist_free(&cfg->allowed_clients);
	strlist_free(&cfg->allowed_audiences);
	strlist_free(&cfg->required_scopes);
}

void
config_print_usage(const char *prog)
{
	printf("Usage: %s [flags]\n\n"
	    "mcpd serves the Model Context Protocol (Streamable HTTP, stateless) at /mcp.\n"
	    "Each flag has an environment variable; a flag wins over its variable.\n\n", prog);
	for (size_t i = 0; i < N_OPTIONS; i++) {
		char left[48];

		snprintf(left, sizeof(left), "--%s%s%s", options[i].flag, options[i].is_switch ? "" : " ",
		    options[i].metavar);
		printf("  %-26s %-28s %s\n", left, options[i].env, options[i].help);
	}
	printf("  %-26s %-28s %s\n", "--help", "", "print this help and exit");
	printf("  %-26s %-28s %s\n", "--version", "", "print the version and exit");
}
