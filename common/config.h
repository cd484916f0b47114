/*
 * config: the server's settings, from command-line flags and their MCPD_*
 * environment equivalents (a flag wins over its variable).
 */
#ifndef MCPD_COMMON_CONFIG_H
#define MCPD_COMMON_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/egress_allow.h"
#include "common/log.h"

#define CONFIG_MAX_WORKERS 256
#define CONFIG_MAX_ORIGINS 32
#define CONFIG_MAX_LIST 32
#define CONFIG_URL_MAX 1024
#define CONFIG_PATH_MAX 4096

enum auth_mode {
	AUTH_UNSET,	/* neither --auth none nor --discovery-url: refused */
	AUTH_NONE,	/* explicitly off */
	AUTH_JWT,	/* verify bearer tokens from the discovery URL's issuer */
};

/* The claim of a verified token that names the client of --client-rate-limit and --client-concurrency. */
enum client_limit_key {
	CLIENT_KEY_CLIENT_ID,
	CLIENT_KEY_SUB,
};

/* --client-rate-limit RATE:BURST; rate_milli 0: no rate limit. */
struct client_rate_limit {
	uint64_t rate_milli;	/* RATE x 1000: RATE has up to three decimals */
	uint64_t burst;		/* requests a client may make at once after a pause */
};

enum sandbox_mode {
	SANDBOX_STRICT,		/* refuse to serve if a sandbox step fails */
	SANDBOX_BEST_EFFORT,	/* log the failed step and serve anyway */
};

/* A comma-separated list flag, split and owned. */
struct strlist {
	char *items[CONFIG_MAX_LIST];
	size_t n;
};

void strlist_free(struct strlist *list);
/** True when `s` (of length n) is one of the list's items, exactly. */
bool strlist_contains(const struct strlist *list, const char *s, size_t n);

struct config {
	char host[64];
	uint16_t port;
	int workers;
	size_t max_body;		/* bytes */
	size_t max_pending_output;	/* bytes of large answers a worker holds for slow readers */
	size_t max_buffered;		/* bytes a worker buffers for clients, in and out */
	unsigned shutdown_timeout;	/* seconds */
	unsigned idle_timeout;		/* seconds */
	enum log_level log_level;
	/* Origins allowed to call /mcp; none configured means loopback only. */
	char *allowed_origins[CONFIG_MAX_ORIGINS];
	size_t n_allowed_origins;
	bool allow_any_origin;
	enum auth_mode auth;
	char discovery_url[CONFIG_URL_MAX];	/* OIDC discovery document */
	bool allow_insecure_issuer;	/* http (loopback) and file URLs, for development */
	struct strlist allowed_clients;	/* matched against client_id */
	struct strlist allowed_audiences; /* matched against aud */
	struct strlist required_scopes;	/* every one must be in the token's scope */
	unsigned clock_skew;		/* seconds of leeway on exp/nbf/iat */
	unsigned jwks_refresh_min;	/* seconds: floor of the refresh interval and of refetches */
	unsigned jwks_refresh_max;	/* seconds: ceiling of the refresh interval */
	char resource_url[CONFIG_URL_MAX]; /* canonical URL of /mcp, for RFC 9728; "" = from Host */
	bool public_ping;		/* a lone JSON-RPC ping needs no token (liveness probes) */
	/* --metrics-listen: a second listener serving only /metrics; port 0 = none asked for. */
	bool metrics_listen;
	char metrics_host[64];
	uint16_t metrics_port;
	unsigned metrics_emf;		/* seconds between EMF lines on stdout; 0 = off */
	char metrics_namespace[256];	/* the CloudWatch namespace of EMF lines */
	struct egress_allow egress_allow; /* the operator's destinations for tools (egress_allow.h) */
	char egress_ca_file[CONFIG_PATH_MAX];	/* PEM bundle the egress verifies TLS with; "" = the system's */
	size_t egress_max_response;	/* bytes of a response body a tool's request takes */
	unsigned egress_max_in_flight;	/* outbound requests a worker has in flight at once */
	struct client_rate_limit client_rate_limit;	/* per client, all workers together */
	unsigned client_concurrency;	/* requests in flight per client; 0 = no cap */
	enum client_limit_key client_limit_key;
	/*
	 * AWS_REGION (else AWS_DEFAULT_REGION), read by the supervisor from the
	 * sealed AWS variables (common/aws_env.h), not a flag: a region is no
	 * secret, and tools build service URLs with it (mcpd_aws_region).
	 * "" when unset.
	 */
	char aws_region[32];
	enum sandbox_mode sandbox;
	char user[64];			/* children run as this user when started as root */
	uid_t run_uid;			/* resolved from user by config_resolve_user */
	gid_t run_gid;
	bool show_help;
	bool show_version;
};

/**
 * Fills `cfg` from argv and the environment.  Returns 0, or -1 with a
 * one-line message in `err` that names the value and what is accepted.
 */
int config_load(struct config *cfg, int argc, char **argv, char *err, size_t errlen);
/**
 * Looks up --user when running as root (it must exist), so that children can
 * drop privileges without reading /etc/passwd inside their sandbox.
 * Returns 0, or -1 with a one-line message in err.
 */
int config_resolve_user(struct config *cfg, char *err, size_t errlen);
/** Releases what config_load allocated. */
void config_free(struct config *cfg);
/** Writes the flag reference to stdout. */
void config_print_usage(const char *prog);

/* One flag of the option table as users see it (docs/configuration.md, --help). */
struct config_option_doc {
	const char *flag;		/* without the leading "--" */
	const char *metavar;		/* "" for a switch */
	const char *env;		/* its MCPD_* variable */
	const char *default_text;	/* "" when there is none */
	bool default_is_value;		/* default_text is a value the flag accepts */
};

/** Describes flag i of the option table in doc; false when there are fewer flags. */
bool config_option_doc(size_t i, struct config_option_doc *doc);

#endif
