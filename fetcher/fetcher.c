/* Runs in: the fetcher: set up before the sandbox, then fetching inside it. */
#define _GNU_SOURCE
#include "fetcher/fetcher.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <sodium.h>

#include "common/clock.h"
#include "common/counters.h"
#include "common/json.h"
#include "common/keyset.h"
#include "common/log.h"
#include "fetcher/http_get.h"
#include "fetcher/jwk.h"
#include "fetcher/seccomp.h"

#define FIRST_RETRY_S 1
/* Retries never wait longer than this, so a recovered issuer is seen soon. */
#define MAX_RETRY_S 300
#define OIDC_DISCOVERY_SUFFIX "/.well-known/openid-configuration"

struct fetcher {
	const struct config *cfg;
	struct keyset_region *region;
	union counters_block *blocks;		/* the counters region */
	struct fetcher_counters *counters;	/* our block of it */
	int refresh_fd;
	int sigfd;
	uint64_t last_fetch_ms;	/* monotonic; 0 = never fetched */
	uint64_t next_fetch_ms;
	unsigned backoff_s;	/* 0 after a success */
	bool have_keys;
	struct keyset staging;	/* built here, then published */
};

/* What one discovery document says. */
struct discovery {
	char issuer[KEYSET_ISSUER_MAX];
	char jwks_uri[CONFIG_URL_MAX];
};

static void
on_key_skipped(void *ctx, const char *kid, const char *reason)
{
	struct logline line;

	(void)ctx;
	logline_begin(&line, LOG_WARN, "jwk_skipped");
	logline_str(&line, "kid", kid);
	logline_str(&line, "reason", reason);
	logline_emit(&line);
}

static int
copy_string_member(const cJSON *obj, const char *name, char *dst, size_t cap, char *why, size_t whylen)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);

	if (!cJSON_IsString(v) || v->valuestring[0] == '\0' || strlen(v->valuestring) >= cap) {
		snprintf(why, whylen, "discovery document has no usable \"%s\"", name);
		return -1;
	}
	strcpy(dst, v->valuestring);
	return 0;
}

/*
 * The issuer must be the discovery URL's own prefix (OpenID Connect
 * Discovery §4.3): otherwise a document could vouch for another issuer.
 * File URLs (the local development issuer) are exempt.
 */
static int
check_discovery(const struct fetcher *f, const struct discovery *d, char *why, size_t whylen)
{
	const char *url = f->cfg->discovery_url;
	size_t n = strlen(d->issuer);

	if (strncmp(url, "file:", 5) != 0 &&
	    (strncmp(url, d->issuer, n) != 0 || strcmp(url + n, OIDC_DISCOVERY_SUFFIX) != 0)) {
		snprintf(why, whylen, "issuer \"%.200s\" does not match the discovery URL (expected "
		    "the URL minus " OIDC_DISCOVERY_SUFFIX ")", d->issuer);
		return -1;
	}
	if (strncmp(d->jwks_uri, "https://", 8) != 0 && !f->cfg->allow_insecure_issuer) {
		snprintf(why, whylen, "jwks_uri \"%.200s\" is not https", d->jwks_uri);
		return -1;
	}
	return 0;
}

static int
fetch_discovery(const struct fetcher *f, struct discovery *d, enum counters_fetch_failure *cause,
    char *why, size_t whylen)
{
	struct http_get_result res;
	struct json_doc doc;
	int rc = -1;

	if (http_get(f->cfg->discovery_url, f->cfg->allow_insecure_issuer, &res, why, whylen) < 0) {
		*cause = FETCH_DISCOVERY_UNREACHABLE;
		return -1;
	}
	if (json_doc_parse(&doc, res.body.data ? res.body.data : "", res.body.len) < 0 ||
	    !cJSON_IsObject(doc.root)) {
		snprintf(why, whylen, "discovery document at %.200s is not a JSON object",
		    f->cfg->discovery_url);
	} else if (copy_string_member(doc.root, "issuer", d->issuer, sizeof(d->issuer), why, whylen) == 0 &&
	    copy_string_member(doc.root, "jwks_uri", d->jwks_uri, sizeof(d->jwks_uri), why, whylen) == 0) {
		rc = check_discovery(f, d, why, whylen);
	}
	if (doc.root != NULL)
		json_doc_free(&doc);
	strbuf_free(&res.body);
	return rc;
}

/* Seconds until the next scheduled refresh: max-age within the bounds. */
static unsigned
refresh_interval(const struct config *cfg, long max_age)
{
	if (max_age < 0)
		return cfg->jwks_refresh_max;
	if (max_age < (long)cfg->jwks_refresh_min)
		return cfg->jwks_refresh_min;
	if (max_age > (long)cfg->jwks_refresh_max)
		return cfg->jwks_refresh_max;
	return (unsigned)max_age;
}

static void
log_published(const struct keyset *ks, uint64_t generation, const char *jwks_uri, unsigned interval)
{
	struct logline line;
	char kids[512] = "";

	for (uint32_t i = 0; i < ks->nkeys; i++) {
		size_t used = strlen(kids);

		snprintf(kids + used, sizeof(kids) - used, "%s%s", i ? "," : "", ks->keys[i].kid);
	}
	logline_begin(&line, LOG_INFO, "jwks_published");
	logline_int(&line, "generation", (long long)generation);
	logline_int(&line, "keys", ks->nkeys);
	logline_str(&line, "kids", kids);
	logline_str(&line, "issuer", ks->issuer);
	logline_str(&line, "jwks_uri", jwks_uri);
	logline_int(&line, "next_refresh_s", interval);
	logline_emit(&line);
}

/*
 * One full refresh.  Returns the seconds until the next one, or -1 with why
 * and the failure's cause.
 */
static long
refresh(struct fetcher *f, enum counters_fetch_failure *cause, char *why, size_t whylen)
{
	struct http_get_result res;
	struct discovery d;
	struct keyset *ks = &f->staging;
	unsigned interval;
	uint64_t generation;
	int kept;

	*cause = FETCH_DISCOVERY_INVALID;
	if (fetch_discovery(f, &d, cause, why, whylen) < 0)
		return -1;
	*cause = FETCH_JWKS_UNREACHABLE;
	if (http_get(d.jwks_uri, f->cfg->allow_insecure_issuer, &res, why, whylen) < 0)
		return -1;
	*cause = FETCH_JWKS_INVALID;
	memset(ks, 0, sizeof(*ks));
	kept = jwk_parse_set(res.body.data ? res.body.data : "", res.body.len, ks, on_key_skipped,
	    NULL, why, whylen);
	interval = refresh_interval(f->cfg, res.max_age);
	strbuf_free(&res.body);
	if (kept <= 0) {
		if (kept == 0)
			snprintf(why, whylen, "JWKS at %.200s holds no usable key", d.jwks_uri);
		return -1;
	}
	strcpy(ks->issuer, d.issuer);
	ks->fetched_at = time(NULL);
	ks->expires_at = ks->fetched_at + interval;
	generation = keyset_publish(f->region, ks);
	if (generation == 0) {
		*cause = FETCH_PUBLISH;
		snprintf(why, whylen, "key set from %.200s breaks the shared region's limits", d.jwks_uri);
		return -1;
	}
	log_published(ks, generation, d.jwks_uri, interval);
	counter_set(&f->counters->keyset_generation, generation);
	__atomic_store_n(&f->counters->keyset_published_at, ks->fetched_at, __ATOMIC_RELAXED);
	f->have_keys = true;
	return interval;
}

/* Retries come sooner than a refresh, doubling, with +-25% jitter. */
static uint64_t
retry_delay_ms(struct fetcher *f)
{
	uint64_t ms;

	f->backoff_s = f->backoff_s ? f->backoff_s * 2 : FIRST_RETRY_S;
	if (f->backoff_s > MAX_RETRY_S)
		f->backoff_s = MAX_RETRY_S;
	if (f->backoff_s > f->cfg->jwks_refresh_max)
		f->backoff_s = f->cfg->jwks_refresh_max;
	ms = f->backoff_s * 1000ULL;
	return ms * 3 / 4 + randombytes_uniform((uint32_t)(ms / 2 + 1));
}

static void
run_refresh(struct fetcher *f)
{
	enum counters_fetch_failure cause;
	char why[512] = "";
	long interval = refresh(f, &cause, why, sizeof(why));
	uint64_t now = now_ms();

	f->last_fetch_ms = now;
	if (interval >= 0) {
		counter_add(&f->counters->fetches_ok, 1);
		f->backoff_s = 0;
		f->next_fetch_ms = now + (uint64_t)interval * 1000;
		return;
	}
	counter_add(&f->counters->fetch_failures[cause], 1);
	f->next_fetch_ms = now + retry_delay_ms(f);
	log_msg(f->have_keys ? LOG_WARN : LOG_ERROR, "jwks_fetch_failed", "%s; %s; retrying in %llu ms",
	    why, f->have_keys ? "keeping the last good key set" :
	    "no key set yet, so /mcp answers 503", (unsigned long long)(f->next_fetch_ms - now));
}

/*
 * A worker met an unknown kid.  Fetch soon, but never sooner than
 * --jwks-refresh-min after the last fetch: a flood of bad kids costs the
 * issuer one request per interval, not one per token.
 */
static void
on_refresh_request(struct fetcher *f)
{
	uint64_t count, earliest;

	if (read(f->refresh_fd, &count, sizeof(count)) != sizeof(count))
		return;
	earliest = f->last_fetch_ms + f->cfg->jwks_refresh_min * 1000ULL;
	if (earliest < now_ms())
		earliest = now_ms();
	if (earliest < f->next_fetch_ms)
		f->next_fetch_ms = earliest;
}

/* Returns false once SIGTERM or SIGINT arrived. */
static bool
wait_for_work(struct fetcher *f)
{
	struct pollfd fds[2] = {{.fd = f->sigfd, .events = POLLIN}, {.fd = f->refresh_fd, .events = POLLIN}};
	uint64_t now = now_ms();
	int timeout = f->next_fetch_ms <= now ? 0 :
	    f->next_fetch_ms - now > INT32_MAX ? INT32_MAX : (int)(f->next_fetch_ms - now);

	if (poll(fds, 2, timeout) < 0 && errno != EINTR)
		log_errno("poll_failed", "fetcher poll");
	if ((fds[0].revents & POLLIN) && child_signals_stop(f->sigfd))
		return false;
	if (fds[1].revents & POLLIN)
		on_refresh_request(f);
	return true;
}

/*
 * glibc loads its NSS modules (shared objects) on the first lookup; do one
 * now so that no executable mapping is ever needed inside the sandbox.
 */
static void
prewarm_resolver(void)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;

	if (getaddrinfo("localhost", "443", &hints, &res) == 0)
		freeaddrinfo(res);
}

int
fetcher_main(const struct child_args *args)
{
	static struct fetcher f;

	f = (struct fetcher){.cfg = args->cfg, .refresh_fd = args->refresh_fd};
	if (sodium_init() < 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		log_msg(LOG_ERROR, "fetcher_setup_failed", "cannot initialise libsodium or libcurl");
		return CHILD_EXIT_CONFIG;
	}
	f.region = keyset_map(args->keyset_fd, true);
	f.sigfd = child_signals_open();
	f.blocks = counters_map(args->counters_fd, args->cfg->workers);
	if (f.region == NULL || f.sigfd < 0 || f.blocks == NULL) {
		log_errno("fetcher_setup_failed", "cannot map the key-set or counters region or watch signals");
		return CHILD_EXIT_CONFIG;
	}
	close(args->keyset_fd);
	close(args->counters_fd);
	f.counters = &f.blocks[args->counters_block].fetcher;
	prewarm_resolver();
	if (sandbox_enter(&fetcher_policy, f.cfg, args->supervisor_pid) < 0)
		return CHILD_EXIT_CONFIG;
	f.have_keys = keyset_generation(f.region) != 0;	/* a restarted fetcher keeps the set */
	/* A failure is logged; refreshing does not depend on the supervisor hearing of it. */
	child_ready("fetcher", args->ready_fd);
	f.next_fetch_ms = now_ms();
	while (wait_for_work(&f))
		if (now_ms() >= f.next_fetch_ms)
			run_refresh(&f);
	keyset_unmap(f.region);
	counters_unmap(f.blocks, f.cfg->workers);
	curl_global_cleanup();
	return 0;
}
