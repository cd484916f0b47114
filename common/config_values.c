/* Runs in: the supervisor, before anything else; children only read the result. */
/*
 * config: flags and MCPD_* variables, each declared once in the option table
 * below; parsing, defaults, --help and the "expected ..." part of error
 * messages are all generated from its rows.
 */
#include "common/config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/fail.h"
#include "common/strbuf.h"

extern char **environ;

/* No default is written for --auth: the zeroed config must mean "not chosen". */
_Static_assert(AUTH_UNSET == 0, "a zeroed config has no authentication mode");

struct option_row;

/* Stores one textual value in cfg, or returns -1 if it is not accepted. */
typedef int (*option_parser)(struct config *cfg, const struct option_row *row, const char *value);

/* What kind of value a flag takes: how it is parsed, described and released. */
struct option_kind {
	option_parser parse;
	/* What a valid value looks like.  Placeholders take the row's values:
	 * {range} is min..max, {sizes} the same in KiB/MiB/GiB, {max} is max and
	 * {words} lists the enum's words ("a, b or c"). */
	const char *accepted;
	void (*release)(struct config *cfg, const struct option_row *row); /* NULL: owns nothing */
	const char *separators;	/* list kinds: what separates items */
	bool is_switch;		/* --x alone means "true" */
};

/* One word of an enum-of-words flag and the value it stores. */
struct option_word {
	const char *word;
	int value;
};

struct option_row {
	const char *flag;	/* without the leading "--" */
	const char *env;
	const struct option_kind *kind;
	size_t offset, size;	/* the destination field in struct config */
	unsigned long long min, max;	/* of the value, of a list's length or of a name's length */
	const struct option_word *words;	/* an enum's words, ending with {NULL} */
	const char *def;	/* the default, parsed like a given value; NULL: zero */
	const char *def_text;	/* a default that is not a value, e.g. "online CPUs" */
	int (*set_default)(struct config *cfg, const struct option_row *row); /* what def_text says */
	const char *metavar;	/* NULL for a switch */
	const char *help;	/* may use the kind's {...} placeholders */
	const char *note;	/* ends the accepted text: an example, or what a special value means */
};

static void *
field_of(struct config *cfg, const struct option_row *row)
{
	return (char *)cfg + row->offset;
}

/* Copies a value of `size` bytes into the row's field, which must be exactly that wide. */
static int
store(struct config *cfg, const struct option_row *row, const void *value, size_t size)
{
	if (size != row->size)
		return -1;
	memcpy(field_of(cfg, row), value, size);
	return 0;
}

/* Stores v in the row's unsigned field, whatever its width (uint16_t, unsigned or int, size_t). */
static int
store_number(struct config *cfg, const struct option_row *row, unsigned long long v)
{
	if (row->size == sizeof(uint16_t))
		return store(cfg, row, &(uint16_t){(uint16_t)v}, sizeof(uint16_t));
	if (row->size == sizeof(uint32_t))
		return store(cfg, row, &(uint32_t){(uint32_t)v}, sizeof(uint32_t));
	return store(cfg, row, &(uint64_t){v}, sizeof(uint64_t));
}

static int
store_string(struct config *cfg, const struct option_row *row, const char *value)
{
	size_t n = strlen(value);

	if (n >= row->size)
		return -1;
	memcpy(field_of(cfg, row), value, n + 1);
	return 0;
}

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
parse_number(struct config *cfg, const struct option_row *row, const char *value)
{
	unsigned long long v;

	if (parse_unsigned(value, row->min, row->max, &v) < 0)
		return -1;
	return store_number(cfg, row, v);
}

/* A size in bytes, with an optional K/KiB, M/MiB or G/GiB suffix. */
static int
parse_size(struct config *cfg, const struct option_row *row, const char *value)
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
		if (v < row->min || v > row->max)
			return -1;
		return store_number(cfg, row, v);
	}
	return -1;
}

static int
parse_bool(struct config *cfg, const struct option_row *row, const char *value)
{
	static const char *const yes[] = {"1", "true", "yes", "on"}, *const no[] = {"0", "false", "no", "off"};

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcmp(value, yes[i]) == 0 || strcmp(value, no[i]) == 0) {
			bool b = strcmp(value, yes[i]) == 0;

			return store(cfg, row, &b, sizeof(b));
		}
	}
	return -1;
}

static int
parse_words(struct config *cfg, const struct option_row *row, const char *value)
{
	for (const struct option_word *w = row->words; w->word != NULL; w++)
		if (strcmp(value, w->word) == 0)
			return store(cfg, row, &w->value, sizeof(w->value));
	return -1;
}

static int
parse_address(struct config *cfg, const struct option_row *row, const char *value)
{
	unsigned char addr[16];

	if (inet_pton(AF_INET, value, addr) != 1 && inet_pton(AF_INET6, value, addr) != 1)
		return -1;
	return store_string(cfg, row, value);
}

/* ADDR:PORT into the row's host field, with an IPv6 address in brackets ([::1]:9100). */
static int
parse_listen(struct config *cfg, const struct option_row *row, const char *value)
{
	const char *colon = strrchr(value, ':');
	char host[64];
	unsigned char addr[16];
	unsigned long long port;
	size_t n;

	if (colon == NULL || parse_unsigned(colon + 1, row->min, row->max, &port) < 0)
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
	if (store_string(cfg, row, host) < 0)
		return -1;
	cfg->metrics_port = (uint16_t)port;
	cfg->metrics_listen = true;
	return 0;
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
release_origins(struct config *cfg, const struct option_row *row)
{
	(void)row;
	for (size_t i = 0; i < cfg->n_allowed_origins; i++)
		free(cfg->allowed_origins[i]);
	cfg->n_allowed_origins = 0;
	cfg->allow_any_origin = false;
}

/* "*", or up to row->max origins; a later value replaces an earlier one. */
static int
parse_origins(struct config *cfg, const struct option_row *row, const char *value)
{
	const char *p = value;

	release_origins(cfg, row);
	if (strcmp(value, "*") == 0) {
		cfg->allow_any_origin = true;
		return 0;
	}
	while (*p != '\0') {
		size_t n = strcspn(p, ",");
		char *origin;

		/* The array's size caps whatever bound the row gives. */
		if (n == 0 || cfg->n_allowed_origins >= row->max || cfg->n_allowed_origins >= CONFIG_MAX_ORIGINS)
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

static void
release_list(struct config *cfg, const struct option_row *row)
{
	strlist_free(field_of(cfg, row));
}

/* Splits on the kind's separators; items are printable ASCII without quotes. */
static int
parse_list(struct config *cfg, const struct option_row *row, const char *value)
{
	const char *seps = row->kind->separators, *p = value;
	struct strlist *list = field_of(cfg, row);

	strlist_free(list);
	while (*p != '\0') {
		size_t n = strcspn(p, seps);

		if (n > 0) {
			/* The array's size caps whatever bound the row gives. */
			if (list->n >= row->max || list->n >= CONFIG_MAX_LIST || n > 256)
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

static bool
url_well_formed(const char *value, bool file_allowed)
{
	if (strpbrk(value, " \t\r\n#") != NULL)
		return false;
	return strncmp(value, "https://", 8) == 0 || strncmp(value, "http://", 7) == 0 ||
	    (file_allowed && strncmp(value, "file:///", 8) == 0);
}

/* https, or http and file:/// that validate() allows only with --allow-insecure-issuer. */
static int
parse_issuer_url(struct config *cfg, const struct option_row *row, const char *value)
{
	return url_well_formed(value, true) ? store_string(cfg, row, value) : -1;
}

static int
parse_http_url(struct config *cfg, const struct option_row *row, const char *value)
{
	return url_well_formed(value, false) ? store_string(cfg, row, value) : -1;
}

static int
parse_user_name(struct config *cfg, const struct option_row *row, const char *value)
{
	return strpbrk(value, ":/ \t") == NULL ? store_string(cfg, row, value) : -1;
}

/* CloudWatch namespaces: letters, digits and . - _ / # : (no leading colon). */
static int
parse_namespace(struct config *cfg, const struct option_row *row, const char *value)
{
	size_t n = strlen(value);

	if (n < row->min || n > row->max || value[0] == ':' ||
	    strspn(value, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-_/#:") != n)
		return -1;
	return store_string(cfg, row, value);
}

/* --workers: one per online CPU, within the row's bounds. */
static int
default_online_cpus(struct config *cfg, const struct option_row *row)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned long long n = cpus < 1 ? row->min : (unsigned long long)cpus;

	if (n < row->min)
		n = row->min;
	if (n > row->max)
		n = row->max;
	return store_number(cfg, row, n);
}

static const struct option_kind kind_integer = {.parse = parse_number, .accepted = "an integer {range}"};
static const struct option_kind kind_seconds = {.parse = parse_number, .accepted = "whole seconds {range}"};
static const struct option_kind kind_size = {.parse = parse_size,
	.accepted = "a size of {sizes} in bytes, or with a K/KiB, M/MiB or G/GiB suffix"};
static const struct option_kind kind_switch = {.parse = parse_bool,
	.accepted = "true or false (1/0, yes/no, on/off)", .is_switch = true};
static const struct option_kind kind_on_off = {.parse = parse_bool,
	.accepted = "on or off (also true/false, 1/0, yes/no)"};
static const struct option_kind kind_words = {.parse = parse_words, .accepted = "{words}"};
static const struct option_kind kind_address = {.parse = parse_address, .accepted = "an IPv4 or IPv6 address"};
static const struct option_kind kind_listen = {.parse = parse_listen,
	.accepted = "an IPv4 address and a port {range}"};
static const struct option_kind kind_origins = {.parse = parse_origins, .release = release_origins,
	.accepted = "'*' or a comma-separated list of up to {max} origins"};
static const struct option_kind kind_list = {.parse = parse_list, .release = release_list,
	.separators = ",", .accepted = "a comma-separated list of up to {max}"};
static const struct option_kind kind_spaced_list = {.parse = parse_list, .release = release_list,
	.separators = ", ", .accepted = "a list of up to {max}"};
static const struct option_kind kind_issuer_url = {.parse = parse_issuer_url, .accepted = "an https URL"};
static const struct option_kind kind_http_url = {.parse = parse_http_url, .accepted = "an http(s) URL"};
static const struct option_kind kind_user_name = {.parse = parse_user_name, .accepted = "a user name"};
static const struct option_kind kind_namespace = {.parse = parse_namespace,
	.accepted = "{range} letters, digits and . - _ / # : not starting with a colon"};

#define FIELD(member) .offset = offsetof(struct config, member), \
	.size = sizeof(((struct config *)NULL)->member)
#define WORDS(...) (const struct option_word[]){__VA_ARGS__, {NULL, 0}}

/* Every flag, in --help order (the README's configuration table follows it too). */
static const struct option_row options[] = {
	{"host", "MCPD_HOST", &kind_address, FIELD(host), .def = "0.0.0.0", .metavar = "ADDR",
	    .help = "address to listen on", .note = "such as 0.0.0.0, 127.0.0.1 or ::"},
	{"port", "MCPD_PORT", &kind_integer, FIELD(port), .min = 0, .max = 65535, .def = "8000", .metavar = "PORT",
	    .help = "TCP port, {range}; 0 picks a free one", .note = "(0 picks a free port)"},
	{"workers", "MCPD_WORKERS", &kind_integer, FIELD(workers), .min = 1, .max = CONFIG_MAX_WORKERS,
	    .def_text = "online CPUs", .set_default = default_online_cpus, .metavar = "N",
	    .help = "worker processes, {range}"},
	/* Bodies are buffered whole; h2o spills >= 32 MiB buffers to /tmp. */
	{"max-body", "MCPD_MAX_BODY", &kind_size, FIELD(max_body), .min = 1ULL << 10, .max = 16ULL << 20,
	    .def = "1MiB", .metavar = "SIZE", .help = "largest request body, {sizes}; bigger ones get 413"},
	{"max-pending-output", "MCPD_MAX_PENDING_OUTPUT", &kind_size, FIELD(max_pending_output),
	    .min = 1ULL << 20, .max = 64ULL << 30, .def = "64MiB", .metavar = "SIZE",
	    .help = "large answers a worker holds for slow readers, {sizes}, before it refuses large requests with 503"},
	{"shutdown-timeout", "MCPD_SHUTDOWN_TIMEOUT", &kind_seconds, FIELD(shutdown_timeout),
	    .min = 0, .max = 3600, .def = "10", .metavar = "SECS",
	    .help = "how long SIGTERM waits for in-flight requests, {range} s"},
	{"idle-timeout", "MCPD_IDLE_TIMEOUT", &kind_seconds, FIELD(idle_timeout),
	    .min = 1, .max = 3600, .def = "10", .metavar = "SECS",
	    .help = "close connections idle or stalled this long, {range} s"},
	{"log-level", "MCPD_LOG_LEVEL", &kind_words, FIELD(log_level),
	    .words = WORDS({"debug", LOG_DEBUG}, {"info", LOG_INFO}, {"warn", LOG_WARN}, {"error", LOG_ERROR}),
	    .def = "info", .metavar = "LEVEL", .help = "{words}"},
	{"allowed-origins", "MCPD_ALLOWED_ORIGINS", &kind_origins, FIELD(allowed_origins),
	    .max = CONFIG_MAX_ORIGINS, .def_text = "loopback origins", .metavar = "LIST",
	    .help = "Origin values allowed on /mcp, comma-separated, or '*'",
	    .note = "such as https://app.example.com,http://localhost:3000"},
	{"auth", "MCPD_AUTH", &kind_words, FIELD(auth), .words = WORDS({"none", AUTH_NONE}), .metavar = "MODE",
	    .help = "'none' serves without verifying tokens (logged as a warning)",
	    .note = "(token verification is turned on by --discovery-url)"},
	{"discovery-url", "MCPD_DISCOVERY_URL", &kind_issuer_url, FIELD(discovery_url), .metavar = "URL",
	    .help = "OIDC discovery document of the token issuer; turns verification on",
	    .note = "such as https://cognito-idp.us-east-1.amazonaws.com/POOL/.well-known/openid-configuration "
	    "(http on loopback and file URLs need --allow-insecure-issuer)"},
	{"allow-insecure-issuer", "MCPD_ALLOW_INSECURE_ISSUER", &kind_switch, FIELD(allow_insecure_issuer),
	    .def = "off", .help = "accept an http (loopback only) or file discovery URL, for development"},
	{"allowed-clients", "MCPD_ALLOWED_CLIENTS", &kind_list, FIELD(allowed_clients),
	    .max = CONFIG_MAX_LIST, .metavar = "LIST",
	    .help = "client ids accepted in access tokens' client_id, comma-separated", .note = "client ids"},
	{"allowed-audiences", "MCPD_ALLOWED_AUDIENCES", &kind_list, FIELD(allowed_audiences),
	    .max = CONFIG_MAX_LIST, .metavar = "LIST",
	    .help = "audiences accepted in tokens' aud, comma-separated", .note = "audiences"},
	{"required-scopes", "MCPD_REQUIRED_SCOPES", &kind_spaced_list, FIELD(required_scopes),
	    .max = CONFIG_MAX_LIST, .metavar = "LIST",
	    .help = "scopes every token must carry (else 403), comma- or space-separated",
	    .note = "scopes separated by commas or spaces"},
	{"clock-skew", "MCPD_CLOCK_SKEW", &kind_seconds, FIELD(clock_skew),
	    .min = 0, .max = 600, .def = "60", .metavar = "SECS",
	    .help = "leeway on exp, nbf and iat, {range} s"},
	{"jwks-refresh-min", "MCPD_JWKS_REFRESH_MIN", &kind_seconds, FIELD(jwks_refresh_min),
	    .min = 1, .max = 86400, .def = "30", .metavar = "SECS",
	    .help = "shortest time between two key-set fetches, {range} s"},
	{"jwks-refresh-max", "MCPD_JWKS_REFRESH_MAX", &kind_seconds, FIELD(jwks_refresh_max),
	    .min = 1, .max = 86400, .def = "3600", .metavar = "SECS",
	    .help = "longest time a key set is used before refetching, {range} s"},
	{"resource-url", "MCPD_RESOURCE_URL", &kind_http_url, FIELD(resource_url),
	    .def_text = "from the Host header", .metavar = "URL",
	    .help = "public URL of /mcp for OAuth metadata", .note = "such as https://mcp.example.com/mcp"},
	{"public-ping", "MCPD_PUBLIC_PING", &kind_on_off, FIELD(public_ping), .def = "on", .metavar = "on|off",
	    .help = "answer a lone JSON-RPC ping without a token, for health probes"},
	{"sandbox", "MCPD_SANDBOX", &kind_words, FIELD(sandbox),
	    .words = WORDS({"strict", SANDBOX_STRICT}, {"best-effort", SANDBOX_BEST_EFFORT}),
	    .def = "strict", .metavar = "MODE",
	    .help = "strict: refuse to serve if a sandbox step fails; best-effort: log and go on"},
	{"user", "MCPD_USER", &kind_user_name, FIELD(user), .def = "nobody", .metavar = "NAME",
	    .help = "user the workers and the fetcher run as when started as root", .note = "such as nobody"},
	{"metrics-listen", "MCPD_METRICS_LISTEN", &kind_listen, FIELD(metrics_host),
	    .min = 1, .max = 65535, .def_text = "not served", .metavar = "ADDR:PORT",
	    .help = "serve Prometheus /metrics on a second listener",
	    .note = "such as 127.0.0.1:9100 or 0.0.0.0:9100, or an IPv6 address in brackets such as [::1]:9100"},
	{"metrics-emf", "MCPD_METRICS_EMF", &kind_seconds, FIELD(metrics_emf),
	    .min = 0, .max = 3600, .def = "0", .metavar = "SECS",
	    .help = "write CloudWatch Embedded Metric Format lines to stdout every SECS seconds, {range}; "
	    "0 turns them off", .note = "(0 turns it off)"},
	{"metrics-namespace", "MCPD_METRICS_NAMESPACE", &kind_namespace, FIELD(metrics_namespace),
	    .min = 1, .max = 255, .def = "mcpd", .metavar = "NAME",
	    .help = "CloudWatch namespace of the EMF metrics"},
};
#define N_OPTIONS (sizeof(options) / sizeof(options[0]))

/* A bound in bytes as people write it: 1 KiB, 16 MiB, 64 GiB. */
static void
put_size(struct strbuf *sb, unsigned long long bytes)
{
	static const char *const units[] = {"GiB", "MiB", "KiB"};

	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		unsigned long long unit = 1ULL << (30 - 10 * i);

		if (bytes >= unit && bytes % unit == 0) {
			strbuf_printf(sb, "%llu %s", bytes / unit, units[i]);
			return;
		}
	}
	strbuf_printf(sb, "%llu", bytes);
}

/* "a, b or c" */
static void
put_words(struct strbuf *sb, const struct option_word *words)
{
	for (size_t i = 0; words[i].word != NULL; i++) {
		if (i > 0)
			strbuf_puts(sb, words[i + 1].word == NULL ? " or " : ", ");
		strbuf_puts(sb, words[i].word);
	}
}

/* Appends what the placeholder at text stands for; returns how much of text it used.
 * An unknown one is copied as is, so that a test reading the output sees it. */
static size_t
put_placeholder(struct strbuf *sb, const char *text, const struct option_row *row)
{
	if (strncmp(text, "{range}", 7) == 0) {
		strbuf_printf(sb, "%llu..%llu", row->min, row->max);
	} else if (strncmp(text, "{sizes}", 7) == 0) {
		put_size(sb, row->min);
		strbuf_puts(sb, "..");
		put_size(sb, row->max);
	} else if (strncmp(text, "{max}", 5) == 0) {
		strbuf_printf(sb, "%llu", row->max);
	} else if (strncmp(text, "{words}", 7) == 0 && row->words != NULL) {
		put_words(sb, row->words);
	} else {
		strbuf_putc(sb, '{');
		return 1;
	}
	return (size_t)(strchr(text, '}') - text) + 1;
}

/* Appends text with the row's bounds and words in place of its placeholders. */
static void
put_described(struct strbuf *sb, const char *text, const struct option_row *row)
{
	while (*text != '\0') {
		size_t n = strcspn(text, "{");

		strbuf_append(sb, text, n);
		text += n;
		if (*text != '\0')
			text += put_placeholder(sb, text, row);
	}
}

/* What a valid value of the row looks like, for error messages. */
static const char *
accepted_text(const struct option_row *row, char *buf, size_t len)
{
	struct strbuf sb;

	strbuf_init_fixed(&sb, buf, len);
	put_described(&sb, row->kind->accepted, row);
	if (row->note != NULL) {
		strbuf_putc(&sb, ' ');
		strbuf_puts(&sb, row->note);
	}
	return buf;
}

/* Every default comes from its row: a value parsed like a given one, or computed. */
static int
set_defaults(struct config *cfg, char *err, size_t errlen)
{
	memset(cfg, 0, sizeof(*cfg));
	for (size_t i = 0; i < N_OPTIONS; i++) {
		const struct option_row *row = &options[i];
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
	accepted_text(row, accepted, sizeof(accepted));
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
	for (size_t i = 0; i < N_OPTIONS; i++) {
		const char *key = by_env ? options[i].env : options[i].flag;

		if (strlen(key) == len && strncmp(key, name, len) == 0)
			return &options[i];
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
	for (size_t i = 0; i < N_OPTIONS; i++)
		if (options[i].kind->release != NULL)
			options[i].kind->release(cfg, &options[i]);
}

bool
config_option_doc(size_t i, struct config_option_doc *doc)
{
	const struct option_row *row;

	if (i >= N_OPTIONS)
		return false;
	row = &options[i];
	doc->flag = row->flag;
	doc->metavar = row->metavar != NULL ? row->metavar : "";
	doc->env = row->env;
	doc->default_text = row->def != NULL ? row->def : row->def_text != NULL ? row->def_text : "";
	doc->default_is_value = row->def != NULL;
	return true;
}

static void
print_option(const struct option_row *row)
{
	char left[48], help[512];
	struct strbuf sb;

	snprintf(left, sizeof(left), "--%s%s%s", row->flag, row->metavar != NULL ? " " : "",
	    row->metavar != NULL ? row->metavar : "");
	strbuf_init_fixed(&sb, help, sizeof(help));
	put_described(&sb, row->help, row);
	if (row->def != NULL)
		strbuf_printf(&sb, " (default %s)", row->def);
	else if (row->def_text != NULL)
		strbuf_printf(&sb, " (default: %s)", row->def_text);
	printf("  %-26s %-28s %s\n", left, row->env, help);
}

void
config_print_usage(const char *prog)
{
	printf("Usage: %s [flags]\n\n"
	    "mcpd serves the Model Context Protocol (Streamable HTTP, stateless) at /mcp.\n"
	    "Each flag has an environment variable; a flag wins over its variable.\n\n", prog);
	for (size_t i = 0; i < N_OPTIONS; i++)
		print_option(&options[i]);
	printf("  %-26s %-28s %s\n", "--help", "", "print this help and exit");
	printf("  %-26s %-28s %s\n", "--version", "", "print the version and exit");
}
