/* Runs in: the supervisor, before anything else; children only read the result. */
#include "common/config_values.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

static void
release_egress_allow(struct config *cfg, const struct option_row *row)
{
	egress_allow_free(field_of(cfg, row));
}

/* A later value replaces an earlier one (the flag the variable). */
static int
parse_egress_allow(struct config *cfg, const struct option_row *row, const char *value)
{
	struct egress_allow parsed;

	if (row->size != sizeof(parsed) || egress_allow_parse(value, &parsed, NULL, 0) < 0)
		return -1;
	release_egress_allow(cfg, row);
	memcpy(field_of(cfg, row), &parsed, sizeof(parsed));
	return 0;
}

static void
explain_egress_allow(const char *value, char *why, size_t whylen)
{
	struct egress_allow parsed;

	if (egress_allow_parse(value, &parsed, why, whylen) == 0) {
		egress_allow_free(&parsed);
		snprintf(why, whylen, "could not be stored");
	}
}

/* Why `path` cannot be used as a file to read; NULL when it can. */
static const char *
unreadable_because(const char *path, char *why, size_t whylen)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	bool regular;

	if (fd < 0) {
		snprintf(why, whylen, "%s", strerror(errno));
		return why;
	}
	regular = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
	close(fd);
	if (!regular) {
		snprintf(why, whylen, "not a regular file");
		return why;
	}
	return NULL;
}

/*
 * A file opened and read later, in a child (the egress's CA bundle): it is
 * checked now, so that a wrong path stops mcpd at start-up rather than
 * fail every request.  Started as root, the child reads it as --user.
 */
static int
parse_readable_file(struct config *cfg, const struct option_row *row, const char *value)
{
	char why[128];

	if (unreadable_because(value, why, sizeof(why)) != NULL)
		return -1;
	return store_string(cfg, row, value);
}

static void
explain_readable_file(const char *value, char *why, size_t whylen)
{
	char cause[128];

	if (strlen(value) >= CONFIG_PATH_MAX)
		snprintf(why, whylen, "'%.60s...': a path of at most %d bytes", value, CONFIG_PATH_MAX - 1);
	else if (unreadable_because(value, cause, sizeof(cause)) != NULL)
		snprintf(why, whylen, "'%.200s' cannot be read: %s", value, cause);
	else
		snprintf(why, whylen, "'%.200s' could not be stored", value);
}

/* A rate of requests a second, with up to three decimals, in thousandths: "0.5" is 500. */
static int
parse_rate_milli(const char *value, size_t len, unsigned long long max, unsigned long long *milli)
{
	char digits[32];
	size_t whole = strspn(value, "0123456789"), frac = 0;
	unsigned long long w, f = 0;

	if (whole == 0 || whole > 9 || len >= sizeof(digits))
		return -1;
	if (whole < len) {
		if (value[whole] != '.')
			return -1;
		frac = len - whole - 1;
		if (frac == 0 || frac > 3 || strspn(value + whole + 1, "0123456789") < frac)
			return -1;
	}
	memcpy(digits, value, whole);
	digits[whole] = '\0';
	if (parse_unsigned(digits, 0, max, &w) < 0)
		return -1;
	for (size_t i = 0; i < 3; i++)
		f = f * 10 + (i < frac ? (unsigned long long)(value[whole + 1 + i] - '0') : 0);
	*milli = w * 1000 + f;
	return *milli >= 1 && *milli <= max * 1000 ? 0 : -1;
}

/* RATE:BURST (RATE and BURST up to row->max, BURST at least row->min), or "off". */
static int
parse_rate_limit(struct config *cfg, const struct option_row *row, const char *value)
{
	struct client_rate_limit limit = {0};
	const char *colon = strchr(value, ':');
	unsigned long long milli, burst;

	if (strcmp(value, "off") == 0)
		return store(cfg, row, &limit, sizeof(limit));
	if (colon == NULL || parse_rate_milli(value, (size_t)(colon - value), row->max, &milli) < 0 ||
	    parse_unsigned(colon + 1, row->min, row->max, &burst) < 0)
		return -1;
	limit = (struct client_rate_limit){.rate_milli = milli, .burst = burst};
	return store(cfg, row, &limit, sizeof(limit));
}

int
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

const struct option_kind kind_integer = {.parse = parse_number, .accepted = "an integer {range}"};
const struct option_kind kind_seconds = {.parse = parse_number, .accepted = "whole seconds {range}"};
const struct option_kind kind_size = {.parse = parse_size,
	.accepted = "a size of {sizes} in bytes, or with a K/KiB, M/MiB or G/GiB suffix"};
const struct option_kind kind_switch = {.parse = parse_bool,
	.accepted = "true or false (1/0, yes/no, on/off)", .is_switch = true};
const struct option_kind kind_on_off = {.parse = parse_bool,
	.accepted = "on or off (also true/false, 1/0, yes/no)"};
const struct option_kind kind_words = {.parse = parse_words, .accepted = "{words}"};
const struct option_kind kind_address = {.parse = parse_address, .accepted = "an IPv4 or IPv6 address"};
const struct option_kind kind_listen = {.parse = parse_listen,
	.accepted = "an IPv4 address and a port {range}"};
const struct option_kind kind_origins = {.parse = parse_origins, .release = release_origins,
	.accepted = "'*' or a comma-separated list of up to {max} origins"};
const struct option_kind kind_list = {.parse = parse_list, .release = release_list,
	.separators = ",", .accepted = "a comma-separated list of up to {max}"};
const struct option_kind kind_spaced_list = {.parse = parse_list, .release = release_list,
	.separators = ", ", .accepted = "a list of up to {max}"};
const struct option_kind kind_issuer_url = {.parse = parse_issuer_url, .accepted = "an https URL"};
const struct option_kind kind_http_url = {.parse = parse_http_url, .accepted = "an http(s) URL"};
const struct option_kind kind_user_name = {.parse = parse_user_name, .accepted = "a user name"};
const struct option_kind kind_namespace = {.parse = parse_namespace,
	.accepted = "{range} letters, digits and . - _ / # : not starting with a colon"};
const struct option_kind kind_egress_allow = {.parse = parse_egress_allow, .release = release_egress_allow,
	.explain = explain_egress_allow,
	.accepted = "a comma-separated list of up to {max} [TOOL=][-]HOST[:PORT] entries"};
const struct option_kind kind_rate_limit = {.parse = parse_rate_limit,
	.accepted = "off, or RATE:BURST: RATE requests a second, 0.001 to {max} with up to three "
	"decimals, and BURST requests, 1 to {max}"};
const struct option_kind kind_readable_file = {.parse = parse_readable_file,
	.explain = explain_readable_file, .accepted = "the path of a readable file"};

