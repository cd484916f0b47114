/*
 * state: the egress process's objects, shared by its files: the loop
 * (loop.c: epoll, signals, timer, control socket, libcurl's multi handle),
 * a worker connection (peer.c), one outbound request (transfer.c, its end
 * in finish.c) and AWS signing (sign.c).  Nothing outside egress/ includes
 * this header.
 */
#ifndef MCPD_EGRESS_STATE_H
#define MCPD_EGRESS_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>

#include "common/aws_env.h"
#include "common/egress_allow.h"
#include "common/egress_wire.h"
#include "common/strbuf.h"
#include "egress/credentials.h"
#include "egress/egress.h"
#include "egress/sigv4.h"

/* Requests one worker may have in flight; more are answered egress_busy. */
#define EGRESS_MAX_IN_FLIGHT 1024
/* Redirects the egress follows for a request that asks (each hop checked). */
#define EGRESS_MAX_REDIRECTS 5
/* What this egress's decoder accepts from a worker (its HELLO says so). */
#define EGRESS_MAX_REQUEST_PAYLOAD (16u << 20)
#define EGRESS_MAX_REQUEST_HEADERS 256
#define EGRESS_MAX_REQUEST_HEADER_BYTES (64u << 10)
/* Answers queued for a worker beyond which the egress stops reading its requests. */
#define EGRESS_PEER_QUEUE_HIGH (32u << 20)

/* What an epoll registration points at. */
enum watch_kind { WATCH_SIGNAL, WATCH_CONTROL, WATCH_TIMER, WATCH_PEER, WATCH_CURL, WATCH_PARKED };

struct watch {
	enum watch_kind kind;
	int fd;
	void *owner;	/* struct peer for WATCH_PEER; NULL otherwise */
	uint32_t events;	/* what epoll watches now */
};

struct transfer;

struct owned_header {
	char *name;
	char *value;
};

/* One worker connection. */
struct peer {
	struct egress *eg;
	struct watch watch;
	int slot;				/* the worker's slot, for logs */
	struct egress_wire_decoder *dec;
	bool hello_seen;
	struct egress_wire_limits limits;	/* the worker's: what we may send */
	struct strbuf out;			/* frames not yet written */
	size_t out_sent;			/* bytes of out already written */
	struct transfer *transfers;		/* in flight, a list */
	size_t in_flight;
	bool closed;				/* waiting for peer_reap */
	bool write_failed;			/* closed by peer_reap, after the loop's turn */
	struct peer *next;
};

/* One outbound request, hop by hop when it follows redirects. */
struct transfer {
	struct egress *eg;
	struct peer *peer;
	uint32_t id;
	struct transfer *prev, *next;		/* in peer->transfers */
	CURL *easy;
	struct curl_slist *headers_out;
	/* The request, copied out of the decoder. */
	char *tool, *method, *url;
	struct owned_header *headers;		/* as the tool gave them */
	size_t n_headers;
	char *body;
	size_t body_len;
	uint32_t response_cap, header_cap;
	bool follow;
	char *aws_service, *aws_region;
	uint64_t started_ms, deadline_at_ms;
	unsigned hops;
	/* The current hop. */
	char host[EGRESS_HOST_MAX + 3];		/* canonical, IPv6 in brackets */
	uint16_t port;
	char host_header[EGRESS_HOST_MAX + 10];	/* Host as sent: host[:port] */
	char *path, *query;			/* as sent (curl_free) */
	bool no_memory;
	struct egress_pattern admitted;
	bool refused;				/* an address was refused */
	char refused_why[200];
	char errbuf[CURL_ERROR_SIZE];
	/* The answer being collected. */
	struct strbuf body_in;
	struct strbuf header_block;		/* "name\0value\0" pairs of the last response */
	size_t header_bytes;
	bool too_large;
	char too_large_why[120];
	bool awaiting_credentials;		/* parked until the IMDS fetch ends */
};

/* Where the signing credentials come from (imds.c). */
enum credentials_source { CREDENTIALS_NONE, CREDENTIALS_ENVIRONMENT, CREDENTIALS_IMDS };

/* The credential chain: the environment's, or IMDS's fetched on the multi handle. */
struct aws_chain {
	enum credentials_source source;
	bool imds_disabled;
	char imds_base[256];			/* http://host[:port], no trailing slash */
	struct aws_credentials cred;
	char role[256];
	time_t refresh_at;			/* fetch again from then on */
	time_t retry_at;			/* after a failed fetch, not before */
	char failed_why[400];			/* the last fetch's failure, for FAILUREs */
	/* The fetch in progress. */
	CURL *easy;				/* NULL: none */
	int step;				/* imds.c's enum */
	struct curl_slist *headers;
	struct strbuf body;
	char *token;				/* IMDSv2 session token, kept for refreshes */
	time_t token_expires;
	bool token_retried;			/* a 401 made us fetch a new token once */
	char errbuf[CURL_ERROR_SIZE];
	/* Fires at the earliest deadline of the parked requests. */
	struct watch parked_timer;
};

struct egress {
	const struct config *cfg;
	const struct egress_options *options;
	int epfd;
	struct watch signal, control, timer;
	CURLM *multi;
	struct peer *peers;
	struct peer *closed;			/* freed by peer_reap after the batch */
	struct aws_env aws;
	struct aws_chain chain;
	struct curl_blob ca_bundle;		/* --egress-ca-file, read before the sandbox; data NULL: the system's */
	bool stopping;
};

/* loop.c */
/** Adds, changes or removes (events 0 and remove) an fd in the epoll set. */
int loop_watch(struct egress *eg, struct watch *w, uint32_t events);
void loop_unwatch(struct egress *eg, struct watch *w);

/* peer.c */
/** Takes a worker connection: sends the egress's HELLO. */
int peer_adopt(struct egress *eg, int fd, int slot);
void peer_on_event(struct peer *p, uint32_t events);
/** Queues msg for the worker; an answer it would refuse becomes a FAILURE. */
void peer_send(struct peer *p, const struct egress_wire_message *msg);
/** Sends FAILURE outcome for id, message formatted like printf. */
void peer_fail(struct peer *p, uint32_t id, enum egress_wire_outcome outcome, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/** Cancels p's transfers, closes its socket; p is freed by peer_reap. */
void peer_close(struct peer *p);
/** Closes the peers whose writes failed and frees the closed ones: after each turn. */
void peer_reap(struct egress *eg);
/** Writes what is queued, waiting at most until deadline_ms (monotonic); for stopping. */
void peer_drain(struct peer *p, uint64_t deadline_ms);

/* transfer.c */
/** Starts the request msg of peer p, or answers it at once with a FAILURE. */
void transfer_start(struct peer *p, const struct egress_wire_message *msg);
/** Configures and adds the current hop to the multi handle; -1 after answering. */
int transfer_launch(struct transfer *t);
/** Frees what the current hop holds (its easy handle, headers, answer so far). */
void transfer_end_hop(struct transfer *t);
/** Removes t from everything and frees it, without answering. */
void transfer_free(struct transfer *t);
struct transfer *transfer_find(struct peer *p, uint32_t id);

/* finish.c */
/** libcurl finished t's hop with rc: follow a redirect, or answer and free t. */
void transfer_finished(struct transfer *t, CURLcode rc);
/** Answers FAILURE with outcome and a message, logs, and frees t. */
void transfer_fail(struct transfer *t, enum egress_wire_outcome outcome, const char *why);
/** Logs t as cancelled and frees it, without answering: its worker is gone. */
void transfer_drop(struct transfer *t);

/* imds.c */
/** Picks the chain's first link (the environment's keys, else IMDS) and logs it. */
void imds_setup(struct egress *eg);
/** True when t must wait for a fetch of credentials (it is parked); starts one if due. */
bool imds_hold(struct transfer *t);
/** The multi handle finished the fetch's current step with rc. */
void imds_finished(struct egress *eg, CURLcode rc);
/** The parked requests' timer fired: fails those whose deadline passed. */
void imds_on_parked_timer(struct egress *eg);
/** True when easy is the fetch's handle. */
bool imds_owns(const struct egress *eg, const CURL *easy);
/** The credentials to sign with now; -1 with why ("no AWS credentials: ...") without. */
int imds_credentials(const struct egress *eg, struct sigv4_credentials *out, char *why, size_t whylen);
/** Ends a fetch in progress and wipes what the chain holds. */
void imds_close(struct egress *eg);

/* sign.c */
/** Adds the SigV4 headers for the current hop; -1 with why when it cannot sign. */
int sign_transfer(struct transfer *t, char *why, size_t whylen);

#endif
