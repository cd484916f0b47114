/* Runs in: the egress process. */
#define _GNU_SOURCE
/*
 * imds: the AWS credential chain of the egress.  The sealed environment's
 * AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN come first;
 * without them, IMDSv2 (token PUT, role listing, the role's credentials)
 * at AWS_EC2_METADATA_SERVICE_ENDPOINT or 169.254.169.254, unless
 * AWS_EC2_METADATA_DISABLED is true.  The fetch runs as easy handles on the
 * egress's own multi handle, so the loop never blocks on it, and without
 * the tools' address checks: it is the egress's own request, and the only
 * way anything reaches the metadata address.  A signed request that finds
 * no usable credentials is parked (transfer->awaiting_credentials) and
 * launched again when the fetch ends.  No secret or token is ever logged.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"
#include "egress/state.h"

enum imds_step { STEP_TOKEN, STEP_ROLE, STEP_CREDENTIALS };

#define IMDS_DEFAULT_BASE "http://169.254.169.254"
#define IMDS_TOKEN_TTL_S 21600
/* Each step's limits: the metadata service is on the host's link and answers in milliseconds. */
#define IMDS_CONNECT_TIMEOUT_MS 1000
#define IMDS_STEP_TIMEOUT_MS 2000
#define IMDS_BODY_MAX (64u << 10)
/* After a failed fetch, requests fail at once (or use still-valid keys) this long. */
#define IMDS_RETRY_S 1

static const char *const step_names[] = {"the token PUT", "the role listing", "the role's credentials"};

static void
log_credentials(const struct aws_chain *c)
{
	struct logline line;
	char expires[32] = "never";
	struct tm tm;

	if (c->cred.expiration != 0 && gmtime_r(&c->cred.expiration, &tm) != NULL)
		strftime(expires, sizeof(expires), "%Y-%m-%dT%H:%M:%SZ", &tm);
	logline_begin(&line, LOG_INFO, "aws_credentials");
	logline_str(&line, "source", c->source == CREDENTIALS_ENVIRONMENT ? "environment" : "imds");
	if (c->source == CREDENTIALS_IMDS)
		logline_str(&line, "role", c->role);
	logline_str(&line, "expires", expires);
	logline_emit(&line);
}

static char *
dup_env(const struct egress *eg, const char *name)
{
	const char *v = aws_env_get(&eg->aws, name);

	return v != NULL && v[0] != '\0' ? strdup(v) : NULL;
}

void
imds_setup(struct egress *eg)
{
	struct aws_chain *c = &eg->chain;
	const char *disabled = aws_env_get(&eg->aws, "AWS_EC2_METADATA_DISABLED");
	const char *base = aws_env_get(&eg->aws, "AWS_EC2_METADATA_SERVICE_ENDPOINT");
	size_t n;

	strbuf_init(&c->body);
	c->parked_timer = (struct watch){.kind = WATCH_PARKED, .fd = -1};
	c->cred.access_key_id = dup_env(eg, "AWS_ACCESS_KEY_ID");
	c->cred.secret_access_key = dup_env(eg, "AWS_SECRET_ACCESS_KEY");
	c->cred.session_token = dup_env(eg, "AWS_SESSION_TOKEN");
	if (c->cred.access_key_id != NULL && c->cred.secret_access_key != NULL) {
		c->source = CREDENTIALS_ENVIRONMENT;
		log_credentials(c);
		return;
	}
	credentials_clear(&c->cred);
	c->imds_disabled = disabled != NULL && strcasecmp(disabled, "true") == 0;
	snprintf(c->imds_base, sizeof(c->imds_base), "%s", base != NULL && base[0] ? base : IMDS_DEFAULT_BASE);
	n = strlen(c->imds_base);
	while (n > 0 && c->imds_base[n - 1] == '/')
		c->imds_base[--n] = '\0';
	/* Opened now: the sandbox allows arming a timerfd, not creating one. */
	c->parked_timer.fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (c->parked_timer.fd < 0)
		log_errno("egress_setup_failed", "cannot open the timerfd of requests waiting for credentials: "
		    "they wait for the fetch to end");
}

/* Arms the timer at the earliest deadline of the parked requests; disarms it without any. */
static void
arm_parked_timer(struct egress *eg)
{
	struct aws_chain *c = &eg->chain;
	struct itimerspec its = {0};
	uint64_t earliest = 0, now = now_ms();

	if (c->parked_timer.fd < 0)
		return;
	for (struct peer *p = eg->peers; p != NULL; p = p->next)
		for (struct transfer *t = p->transfers; t != NULL; t = t->next)
			if (t->awaiting_credentials && (earliest == 0 || t->deadline_at_ms < earliest))
				earliest = t->deadline_at_ms;
	if (earliest != 0) {
		uint64_t in = earliest > now ? earliest - now : 1;

		its.it_value.tv_sec = (time_t)(in / 1000);
		its.it_value.tv_nsec = (long)(in % 1000) * 1000000L;
		if (its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0)
			its.it_value.tv_nsec = 1;
	}
	if (timerfd_settime(c->parked_timer.fd, 0, &its, NULL) < 0 ||
	    loop_watch(eg, &c->parked_timer, earliest != 0 ? EPOLLIN : 0) < 0)
		log_errno("egress_timer_failed", "cannot arm the timer of requests waiting for credentials");
}

void
imds_on_parked_timer(struct egress *eg)
{
	uint64_t expirations, now = now_ms();

	if (read(eg->chain.parked_timer.fd, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN)
		log_errno("egress_timer_failed", "cannot read the timerfd of requests waiting for credentials");
	for (struct peer *p = eg->peers; p != NULL; p = p->next) {
		struct transfer *next;

		for (struct transfer *t = p->transfers; t != NULL; t = next) {
			next = t->next;
			if (t->awaiting_credentials && now >= t->deadline_at_ms)
				transfer_fail(t, EGRESS_WIRE_OUTCOME_TIMEOUT, "the deadline passed while the AWS "
				    "credentials were being fetched");
		}
	}
	arm_parked_timer(eg);
}

bool
imds_owns(const struct egress *eg, const CURL *easy)
{
	return eg->chain.easy != NULL && eg->chain.easy == easy;
}

static size_t
on_body(char *data, size_t size, size_t nmemb, void *user)
{
	struct aws_chain *c = user;
	size_t n = size * nmemb;

	if (c->body.len + n > IMDS_BODY_MAX)
		return 0;
	strbuf_append(&c->body, data, n);
	return strbuf_ok(&c->body) ? n : 0;
}

static int
add_header(struct aws_chain *c, const char *name, const char *value)
{
	char *line = NULL;
	struct curl_slist *l;

	if (asprintf(&line, "%s: %s", name, value) < 0)
		return -1;
	l = curl_slist_append(c->headers, line);
	explicit_bzero(line, strlen(line));	/* the token is a credential */
	free(line);
	if (l == NULL)
		return -1;
	c->headers = l;
	return 0;
}

static void
end_step(struct egress *eg)
{
	struct aws_chain *c = &eg->chain;

	if (c->easy != NULL) {
		curl_multi_remove_handle(eg->multi, c->easy);
		curl_easy_cleanup(c->easy);
		c->easy = NULL;
	}
	curl_slist_free_all(c->headers);	/* its lines were wiped as they were copied */
	c->headers = NULL;
	if (c->body.data != NULL)
		explicit_bzero(c->body.data, c->body.len);
	c->body.len = 0;
}

/* Adds the current step's request to the multi handle; -1 if it cannot. */
static int
launch_step(struct egress *eg)
{
	struct aws_chain *c = &eg->chain;
	char url[600];
	int ok;

	end_step(eg);
	if (c->step == STEP_TOKEN) {
		char ttl[16];

		snprintf(url, sizeof(url), "%s/latest/api/token", c->imds_base);
		snprintf(ttl, sizeof(ttl), "%d", IMDS_TOKEN_TTL_S);
		ok = add_header(c, "X-aws-ec2-metadata-token-ttl-seconds", ttl) == 0 &&
		    (c->headers = curl_slist_append(c->headers, "Content-Type:")) != NULL;
	} else {
		snprintf(url, sizeof(url), "%s/latest/meta-data/iam/security-credentials/%s", c->imds_base,
		    c->step == STEP_CREDENTIALS ? c->role : "");
		ok = add_header(c, "X-aws-ec2-metadata-token", c->token) == 0;
	}
	if (!ok || (c->easy = curl_easy_init()) == NULL)
		return -1;
	c->errbuf[0] = '\0';
	curl_easy_setopt(c->easy, CURLOPT_URL, url);
	curl_easy_setopt(c->easy, CURLOPT_ERRORBUFFER, c->errbuf);
	curl_easy_setopt(c->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c->easy, CURLOPT_PROTOCOLS_STR, "http");
	curl_easy_setopt(c->easy, CURLOPT_PROXY, "");
	curl_easy_setopt(c->easy, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c->easy, CURLOPT_CONNECTTIMEOUT_MS, (long)IMDS_CONNECT_TIMEOUT_MS);
	curl_easy_setopt(c->easy, CURLOPT_TIMEOUT_MS, (long)IMDS_STEP_TIMEOUT_MS);
	curl_easy_setopt(c->easy, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c->easy, CURLOPT_WRITEDATA, c);
	curl_easy_setopt(c->easy, CURLOPT_HTTPHEADER, c->headers);
	if (c->step == STEP_TOKEN) {
		curl_easy_setopt(c->easy, CURLOPT_CUSTOMREQUEST, "PUT");
		curl_easy_setopt(c->easy, CURLOPT_POSTFIELDSIZE, 0L);
		curl_easy_setopt(c->easy, CURLOPT_POSTFIELDS, "");
	}
	if (curl_multi_add_handle(eg->multi, c->easy) != CURLM_OK) {
		curl_easy_cleanup(c->easy);
		c->easy = NULL;
		return -1;
	}
	return 0;
}

/* The fetch ended: launch the requests that waited for it. */
static void
resume(struct egress *eg)
{
	for (struct peer *p = eg->peers; p != NULL; p = p->next) {
		struct transfer *next;

		for (struct transfer *t = p->transfers; t != NULL; t = next) {
			next = t->next;
			if (t->awaiting_credentials) {
				t->awaiting_credentials = false;
				transfer_launch(t);
			}
		}
	}
	arm_parked_timer(eg);
}

static void
fetch_failed(struct egress *eg, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
fetch_failed(struct egress *eg, const char *fmt, ...)
{
	struct aws_chain *c = &eg->chain;
	char what[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	end_step(eg);
	snprintf(c->failed_why, sizeof(c->failed_why), "the instance metadata service at %.200s: %s", c->imds_base,
	    what);
	c->retry_at = time(NULL) + IMDS_RETRY_S;
	log_msg(LOG_WARN, "aws_credentials_failed", "%s", c->failed_why);
	resume(eg);
}

static void
start_fetch(struct egress *eg)
{
	struct aws_chain *c = &eg->chain;

	c->token_retried = false;
	c->step = c->token != NULL && time(NULL) < c->token_expires ? STEP_ROLE : STEP_TOKEN;
	if (launch_step(eg) < 0)
		fetch_failed(eg, "cannot start %s", step_names[c->step]);
}

bool
imds_hold(struct transfer *t)
{
	struct aws_chain *c = &t->eg->chain;
	time_t now = time(NULL);

	if (c->source == CREDENTIALS_ENVIRONMENT || c->imds_disabled)
		return false;
	if (c->cred.access_key_id != NULL && now < c->refresh_at)
		return false;
	if (c->easy == NULL && now >= c->retry_at)
		start_fetch(t->eg);
	if (c->easy == NULL)
		return false;	/* the fetch failed or waits to retry: signing says why */
	t->awaiting_credentials = true;
	arm_parked_timer(t->eg);
	return true;
}

static void
drop_token(struct aws_chain *c)
{
	if (c->token != NULL) {
		explicit_bzero(c->token, strlen(c->token));
		free(c->token);
		c->token = NULL;
	}
}

/* The body as a trimmed string in place (IMDS answers text). */
static char *
body_text(struct aws_chain *c)
{
	size_t n;

	strbuf_putc(&c->body, '\0');
	if (!strbuf_ok(&c->body))
		return NULL;
	n = strlen(c->body.data);
	while (n > 0 && (c->body.data[n - 1] == '\n' || c->body.data[n - 1] == '\r' || c->body.data[n - 1] == ' '))
		c->body.data[--n] = '\0';
	return c->body.data;
}

/* The role listing's first line, if it is a role name (letters, digits and +=,.@_-). */
static int
take_role(struct aws_chain *c, const char *text)
{
	size_t n = strcspn(text, "\r\n");

	if (n == 0 || n >= sizeof(c->role) || strspn(text, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789+=,.@_-") < n)
		return -1;
	memcpy(c->role, text, n);
	c->role[n] = '\0';
	return 0;
}

static void
take_credentials(struct egress *eg, const char *text)
{
	struct aws_chain *c = &eg->chain;
	struct aws_credentials fresh;
	char err[160];
	time_t now = time(NULL);

	if (credentials_parse_imds(text, strlen(text), &fresh, err, sizeof(err)) < 0) {
		fetch_failed(eg, "%s", err);
		return;
	}
	if (fresh.expiration <= now) {
		credentials_clear(&fresh);
		fetch_failed(eg, "the credentials of role %.100s have expired already", c->role);
		return;
	}
	end_step(eg);
	credentials_clear(&c->cred);
	c->cred = fresh;
	c->source = CREDENTIALS_IMDS;
	c->refresh_at = credentials_refresh_at(now, fresh.expiration);
	c->failed_why[0] = '\0';
	log_credentials(c);
	resume(eg);
}

/* A step answered 200: go on to the next one. */
static void
next_step(struct egress *eg)
{
	struct aws_chain *c = &eg->chain;
	char *text = body_text(c);

	if (text == NULL || text[0] == '\0') {
		fetch_failed(eg, "%s answered nothing", step_names[c->step]);
		return;
	}
	if (c->step == STEP_CREDENTIALS) {
		take_credentials(eg, text);
		return;
	}
	if (c->step == STEP_TOKEN) {
		drop_token(c);
		if ((c->token = strdup(text)) == NULL) {
			fetch_failed(eg, "no memory for the token");
			return;
		}
		c->token_expires = time(NULL) + IMDS_TOKEN_TTL_S - 60;
		c->step = STEP_ROLE;
	} else if (take_role(c, text) < 0) {
		fetch_failed(eg, "the role listing holds no role name");
		return;
	} else
		c->step = STEP_CREDENTIALS;
	if (launch_step(eg) < 0)
		fetch_failed(eg, "cannot start %s", step_names[c->step]);
}

void
imds_finished(struct egress *eg, CURLcode rc)
{
	struct aws_chain *c = &eg->chain;
	long status = 0;

	curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &status);
	if (rc != CURLE_OK)
		fetch_failed(eg, "%s failed: %s", step_names[c->step], c->errbuf[0] ? c->errbuf : curl_easy_strerror(rc));
	else if (status == 401 && c->step != STEP_TOKEN && !c->token_retried) {
		/* The token expired or the service restarted: one new token, then the step again. */
		drop_token(c);
		c->token_retried = true;
		c->step = STEP_TOKEN;
		if (launch_step(eg) < 0)
			fetch_failed(eg, "cannot start %s", step_names[c->step]);
	} else if (status != 200)
		fetch_failed(eg, "%s answered HTTP %ld", step_names[c->step], status);
	else
		next_step(eg);
}

int
imds_credentials(const struct egress *eg, struct sigv4_credentials *out, char *why, size_t whylen)
{
	const struct aws_chain *c = &eg->chain;

	if (c->cred.access_key_id != NULL &&
	    (c->source == CREDENTIALS_ENVIRONMENT || time(NULL) < c->cred.expiration)) {
		*out = (struct sigv4_credentials){c->cred.access_key_id, c->cred.secret_access_key,
		    c->cred.session_token};
		return 0;
	}
	if (c->imds_disabled)
		snprintf(why, whylen, "no AWS credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set "
		    "and AWS_EC2_METADATA_DISABLED is true");
	else
		snprintf(why, whylen, "no AWS credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set "
		    "and %s", c->failed_why[0] ? c->failed_why : "the instance metadata service gave none yet");
	return -1;
}

void
imds_close(struct egress *eg)
{
	struct aws_chain *c = &eg->chain;

	end_step(eg);
	strbuf_free(&c->body);
	drop_token(c);
	credentials_clear(&c->cred);
	/* kind says imds_setup opened it: a zeroed chain's fd 0 is not ours. */
	if (c->parked_timer.kind == WATCH_PARKED && c->parked_timer.fd >= 0) {
		loop_unwatch(eg, &c->parked_timer);
		close(c->parked_timer.fd);
		c->parked_timer.fd = -1;
	}
}
