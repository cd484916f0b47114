/* Runs in: the supervisor, before anything else; children only read the result. */
#include "common/config_table.h"

#include "common/config_values.h"

#define FIELD(member) .offset = offsetof(struct config, member), \
	.size = sizeof(((struct config *)NULL)->member)
#define WORDS(...) (const struct option_word[]){__VA_ARGS__, {NULL, 0}}

/* Every flag, in --help order (docs/configuration.md's table follows it too). */
const struct option_row config_options[] = {
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
	{"max-buffered", "MCPD_MAX_BUFFERED", &kind_size, FIELD(max_buffered),
	    .min = 4ULL << 20, .max = 64ULL << 30, .def = "64MiB", .metavar = "SIZE",
	    .help = "everything a worker buffers for clients (bodies, pipelined input, answers), {sizes}; "
	    "past it, bodies still arriving wait and new large ones get 503"},
	{"shutdown-timeout", "MCPD_SHUTDOWN_TIMEOUT", &kind_seconds, FIELD(shutdown_timeout),
	    .min = 0, .max = 3600, .def = "10", .metavar = "SECS",
	    .help = "how long SIGTERM, or a SIGHUP retiring a worker, waits for in-flight requests, {range} s"},
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
	    .note = "such as 127.0.0.1:9100 or 10.0.1.5:9100, or an IPv6 address in brackets such as [::1]:9100"},
	{"metrics-emf", "MCPD_METRICS_EMF", &kind_seconds, FIELD(metrics_emf),
	    .min = 0, .max = 3600, .def = "0", .metavar = "SECS",
	    .help = "write CloudWatch Embedded Metric Format lines to stdout every SECS seconds, {range}; "
	    "0 turns them off", .note = "(0 turns it off)"},
	{"metrics-namespace", "MCPD_METRICS_NAMESPACE", &kind_namespace, FIELD(metrics_namespace),
	    .min = 1, .max = 255, .def = "mcpd", .metavar = "NAME",
	    .help = "CloudWatch namespace of the EMF metrics"},
	{"egress-allow", "MCPD_EGRESS_ALLOW", &kind_egress_allow, FIELD(egress_allow),
	    .max = EGRESS_ALLOW_MAX_ENTRIES, .metavar = "LIST",
	    .help = "destinations tools may reach besides their own: HOST[:PORT] for tools that take the "
	    "operator's, TOOL=HOST[:PORT] for one tool, TOOL=-HOST[:PORT] to narrow a tool's own list",
	    .note = "such as docs.example.com,weather=*.weather.gov:*,s3=-*.s3.us-west-2.amazonaws.com"},
	/* Read by the egress process, after it dropped to --user: see kind_readable_file. */
	{"egress-ca-file", "MCPD_EGRESS_CA_FILE", &kind_readable_file, FIELD(egress_ca_file),
	    .def_text = "the system's CA bundle", .metavar = "PATH",
	    .help = "PEM file of the CA certificates the egress process verifies TLS servers with",
	    .note = "such as /etc/mcpd/ca.pem"},
	{"egress-max-response", "MCPD_EGRESS_MAX_RESPONSE", &kind_size, FIELD(egress_max_response),
	    .min = 1, .max = 16ULL << 20, .def = "1MiB", .metavar = "SIZE",
	    .help = "largest response body a tool's outbound request takes, {sizes}; a bigger one fails "
	    "with too_large"},
	/* The egress process refuses more than 1024 per worker whatever this says. */
	{"egress-max-in-flight", "MCPD_EGRESS_MAX_IN_FLIGHT", &kind_integer, FIELD(egress_max_in_flight),
	    .min = 1, .max = 1024, .def = "1024", .metavar = "N",
	    .help = "outbound requests a worker has in flight at once, {range}; more fail with egress_busy"},
	{"client-rate-limit", "MCPD_CLIENT_RATE_LIMIT", &kind_rate_limit, FIELD(client_rate_limit),
	    .min = 1, .max = 1000000, .def = "off", .metavar = "RATE:BURST",
	    .help = "requests a second each client may make, all workers together, and how many at once "
	    "after a pause; more get 429", .note = "such as 10:20 or 0.5:5"},
	{"client-concurrency", "MCPD_CLIENT_CONCURRENCY", &kind_integer, FIELD(client_concurrency),
	    .min = 0, .max = 1000000, .def = "0", .metavar = "N",
	    .help = "requests each client may have in flight at once, all workers together, {range}; "
	    "more get 429; 0 turns the cap off", .note = "(0 turns it off)"},
	{"client-limit-key", "MCPD_CLIENT_LIMIT_KEY", &kind_words, FIELD(client_limit_key),
	    .words = WORDS({"client_id", CLIENT_KEY_CLIENT_ID}, {"sub", CLIENT_KEY_SUB}),
	    .def = "client_id", .metavar = "CLAIM",
	    .help = "the token claim that names a client for the two limits above: {words}"},
};

const size_t config_n_options = sizeof(config_options) / sizeof(config_options[0]);
