/* Runs in: the supervisor (creates it) and every child (maps it; each writes its own block). */
#define _GNU_SOURCE	/* memfd_create, F_ADD_SEALS */
/*
 * counters: the region (created by the supervisor before any child, mapped
 * by every process before its sandbox) and the label sets.  See counters.h.
 */
#include "common/counters.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define SEALS (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL)

const int counters_status_codes[N_STATUS] = {
#define X(code) [STATUS_##code] = code,
	COUNTERS_STATUS_CODES
#undef X
	[STATUS_OTHER] = 0,
};

const char *const counters_method_names[N_METHOD] = {
	[METHOD_INITIALIZE] = "initialize", [METHOD_PING] = "ping",
	[METHOD_TOOLS_LIST] = "tools/list", [METHOD_TOOLS_CALL] = "tools/call",
	[METHOD_PROMPTS_LIST] = "prompts/list", [METHOD_PROMPTS_GET] = "prompts/get",
	[METHOD_RESOURCES_LIST] = "resources/list",
	[METHOD_RESOURCE_TEMPLATES_LIST] = "resources/templates/list",
	[METHOD_RESOURCES_READ] = "resources/read", [METHOD_SERVER_DISCOVER] = "server/discover",
	[METHOD_NOTIFICATION] = "notifications", [METHOD_OTHER] = "other",
};

const char *const counters_refusal_names[N_REFUSAL] = {
	[REFUSAL_NO_TOKEN] = "no_token", [REFUSAL_MALFORMED] = "malformed",
	[REFUSAL_UNKNOWN_KID] = "unknown_kid", [REFUSAL_ALGORITHM] = "algorithm",
	[REFUSAL_BAD_SIGNATURE] = "bad_signature", [REFUSAL_EXPIRED] = "expired",
	[REFUSAL_NOT_YET_VALID] = "not_yet_valid", [REFUSAL_TOKEN_USE] = "token_use",
	[REFUSAL_WRONG_CLIENT] = "wrong_client", [REFUSAL_WRONG_AUDIENCE] = "wrong_audience",
	[REFUSAL_WRONG_ISSUER] = "wrong_issuer", [REFUSAL_INSUFFICIENT_SCOPE] = "insufficient_scope",
	[REFUSAL_TOOL_SCOPE] = "tool_scope", [REFUSAL_KEYS_NOT_LOADED] = "keys_not_loaded",
};

const char *const counters_limited_names[N_LIMITED] = {
	[LIMITED_RATE] = "rate", [LIMITED_CONCURRENCY] = "concurrency", [LIMITED_TABLE_FULL] = "table_full",
};

const char *const counters_fetch_failure_names[N_FETCH_FAILURE] = {
	[FETCH_DISCOVERY_UNREACHABLE] = "discovery_unreachable",
	[FETCH_DISCOVERY_INVALID] = "discovery_invalid",
	[FETCH_JWKS_UNREACHABLE] = "jwks_unreachable", [FETCH_JWKS_INVALID] = "jwks_invalid",
	[FETCH_PUBLISH] = "publish",
};

const char *const counters_role_names[N_ROLE] = {
	[ROLE_WORKER] = "worker", [ROLE_FETCHER] = "fetcher", [ROLE_METRICS] = "metrics",
	[ROLE_EGRESS] = "egress",
};

const char *const counters_exit_names[N_EXIT] = {
	[EXIT_CLEAN] = "clean", [EXIT_ERROR] = "error", [EXIT_CONFIG] = "config", [EXIT_CRASH] = "crash",
};

const uint64_t counters_duration_bounds_us[N_DURATION_BUCKETS - 1] = {COUNTERS_DURATION_BOUNDS_US};
const uint64_t counters_egress_duration_bounds_us[N_EGRESS_DURATION_BUCKETS - 1] = {
	COUNTERS_EGRESS_DURATION_BOUNDS_US
};

enum counters_status
counters_status_of(int code)
{
	switch (code) {
#define X(c) case c: return STATUS_##c;
	COUNTERS_STATUS_CODES
#undef X
	default:
		return STATUS_OTHER;
	}
}

enum counters_method
counters_method_of(const char *method)
{
	if (strncmp(method, "notifications/", 14) == 0)
		return METHOD_NOTIFICATION;
	for (int m = 0; m < METHOD_NOTIFICATION; m++)
		if (strcmp(counters_method_names[m], method) == 0)
			return (enum counters_method)m;
	return METHOD_OTHER;
}

/* The first of the n - 1 bounds at or above us, else n - 1 (+Inf). */
static size_t
bucket_of(const uint64_t *bounds, size_t n, uint64_t us)
{
	size_t b = 0;

	while (b < n - 1 && us > bounds[b])
		b++;
	return b;
}

size_t
counters_bucket_of(uint64_t us)
{
	return bucket_of(counters_duration_bounds_us, N_DURATION_BUCKETS, us);
}

size_t
counters_egress_bucket_of(uint64_t us)
{
	return bucket_of(counters_egress_duration_bounds_us, N_EGRESS_DURATION_BUCKETS, us);
}

static size_t
region_size(int workers)
{
	return COUNTERS_BLOCKS(workers) * COUNTERS_BLOCK_SIZE;
}

int
counters_region_create(int workers)
{
	int fd = memfd_create("mcpd-counters", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	if (fd < 0)
		return -1;
	/* Sealed: no process can shrink it under another's mapping (SIGBUS). */
	if (ftruncate(fd, (off_t)region_size(workers)) < 0 || fcntl(fd, F_ADD_SEALS, SEALS) < 0) {
		int saved = errno;

		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

union counters_block *
counters_map(int fd, int workers)
{
	void *p = mmap(NULL, region_size(workers), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	return p == MAP_FAILED ? NULL : p;
}

const union counters_block *
counters_map_readonly(int fd, int workers)
{
	char path[64];
	void *p;
	int rofd, saved;

	if (snprintf(path, sizeof(path), "/proc/self/fd/%d", fd) >= (int)sizeof(path)) {
		errno = EINVAL;
		return NULL;
	}
	rofd = open(path, O_RDONLY | O_CLOEXEC);
	if (rofd < 0)
		return NULL;
	p = mmap(NULL, region_size(workers), PROT_READ, MAP_SHARED, rofd, 0);
	saved = errno;
	close(rofd);
	errno = saved;
	return p == MAP_FAILED ? NULL : p;
}

void
counters_unmap(const union counters_block *blocks, int workers)
{
	if (blocks != NULL)
		munmap((void *)blocks, region_size(workers));
}
