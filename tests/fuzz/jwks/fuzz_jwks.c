/*
 * Fuzz driver for what the JWKS fetcher reads from the network and what the
 * workers make of it: fetcher/jwk.c (JWKS -> key set), the discovery-document
 * checks of fetcher/fetcher.c, common/keyset.c (publish to the shared
 * region) and the OpenSSL keys worker/auth.c builds from a published set.
 *
 * Input: one JSON document, read both as a JWKS and as an OpenID discovery
 * document (the corpus holds both kinds).
 *
 * fetcher.c is included, not linked, to reach its static functions (as h2o's
 * t/00unit does); the CMake project leaves it out of the fuzz library.  Its
 * fetch_discovery does HTTP, so the few lines that follow the GET are
 * repeated in check_discovery_document below.
 */
#include "fetcher/fetcher.c"

#include "worker/auth.h"
#include "tests/fuzz/fuzz_check.h"

#define DEFAULT_ISSUER "https://issuer.example"

/* A deployed issuer, and the development issuer's file URL. */
static struct config cfg_https = {
	.discovery_url = DEFAULT_ISSUER OIDC_DISCOVERY_SUFFIX,
};
static struct config cfg_file = {
	.discovery_url = "file:///srv/dev-issuer/openid-configuration",
	.allow_insecure_issuer = true,
};
/* What the workers are configured with: only auth_init reads it. */
static struct config cfg_worker = {.auth = AUTH_JWT};

static struct keyset_region *region;
static struct keyset staging;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	int fd;

	(void)argc, (void)argv;
	log_init("fuzz", LOG_ERROR);
	if (sodium_init() < 0 || (fd = keyset_region_create()) < 0 ||
	    (region = keyset_map(fd, true)) == NULL || auth_init(&cfg_worker, dup(fd), -1) < 0)
		abort();
	close(fd);
	return 0;
}

static bool
printable(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s < 0x20 || *s > 0x7e)
			return false;
	return true;
}

/* jwk_skip_fn: what a skipped key reports goes into the fetcher's log. */
static void
on_skip(void *ctx, const char *kid, const char *reason)
{
	(void)ctx;
	FUZZ_CHECK(kid != NULL && strlen(kid) < KEYSET_KID_MAX && printable(kid));
	FUZZ_CHECK(reason != NULL && reason[0] != '\0' && strlen(reason) < 160 && printable(reason));
}

static unsigned
bits_of(const uint8_t *b, uint32_t len)
{
	unsigned bits = len ? (len - 1) * 8 : 0;

	for (uint8_t top = len ? b[0] : 0; top != 0; top >>= 1)
		bits++;
	return bits;
}

/* What jwk.h promises of every key it keeps. */
static void
check_kept_keys(const struct keyset *ks, int kept)
{
	FUZZ_CHECK(kept == (int)ks->nkeys && ks->nkeys <= KEYSET_MAX_KEYS);
	for (uint32_t i = 0; i < ks->nkeys; i++) {
		const struct keyset_key *k = &ks->keys[i];
		size_t kidlen = strnlen(k->kid, sizeof(k->kid));

		FUZZ_CHECK(kidlen > 0 && kidlen < sizeof(k->kid) && printable(k->kid));
		FUZZ_CHECK(k->alg == KEYSET_ALG_RS256);
		FUZZ_CHECK(k->n_len <= sizeof(k->n) && bits_of(k->n, k->n_len) >= JWK_MIN_RSA_BITS);
		FUZZ_CHECK(k->n_len > 0 && (k->n[k->n_len - 1] & 1) == 1);
		FUZZ_CHECK(k->e_len > 0 && k->e_len <= 4 && (k->e[k->e_len - 1] & 1) == 1);
		FUZZ_CHECK(k->e[0] != 0 && (k->e_len > 1 || k->e[0] >= 3));
		for (uint32_t j = 0; j < i; j++)
			FUZZ_CHECK(strcmp(k->kid, ks->keys[j].kid) != 0);
	}
}

/*
 * fetch_discovery after its GET: parse, take issuer and jwks_uri, check them
 * against each discovery URL.  True when *d holds both members.
 */
static bool
check_discovery_document(const char *body, size_t len, struct discovery *d)
{
	struct fetcher f_https = {.cfg = &cfg_https}, f_file = {.cfg = &cfg_file};
	struct json_doc doc;
	char why[512];
	bool usable = false;

	if (json_doc_parse(&doc, body, len) == 0 && cJSON_IsObject(doc.root) &&
	    copy_string_member(doc.root, "issuer", d->issuer, sizeof(d->issuer), why, sizeof(why)) == 0 &&
	    copy_string_member(doc.root, "jwks_uri", d->jwks_uri, sizeof(d->jwks_uri), why, sizeof(why)) == 0) {
		FUZZ_CHECK(d->issuer[0] != '\0' && d->jwks_uri[0] != '\0');
		(void)check_discovery(&f_https, d, why, sizeof(why));
		(void)check_discovery(&f_file, d, why, sizeof(why));
		usable = true;
	}
	if (doc.root != NULL)
		json_doc_free(&doc);
	return usable;
}

/* refresh() after jwk_parse_set, then a worker picking the set up. */
static void
publish_and_load(struct keyset *ks, const char *issuer)
{
	uint64_t generation;
	const char *loaded;

	strcpy(ks->issuer, issuer);
	ks->fetched_at = 1800000000;
	ks->expires_at = ks->fetched_at + 3600;
	/* Keys jwk.c kept must always fit the region's bounds. */
	generation = keyset_publish(region, ks);
	FUZZ_CHECK(generation != 0);
	/* auth_issuer rebuilds the worker's OpenSSL keys from the new generation. */
	loaded = auth_issuer();
	FUZZ_CHECK(loaded != NULL && strcmp(loaded, issuer) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *body = malloc(size ? size : 1);
	struct discovery d;
	char why[512];
	bool have_issuer;
	int kept;

	if (body == NULL)
		abort();
	if (size > 0)
		memcpy(body, data, size);
	have_issuer = check_discovery_document(body, size, &d);

	memset(&staging, 0, sizeof(staging));
	why[0] = '\0';
	kept = jwk_parse_set(body, size, &staging, on_skip, NULL, why, sizeof(why));
	if (kept < 0) {
		FUZZ_CHECK(kept == -1 && why[0] != '\0');
	} else {
		check_kept_keys(&staging, kept);
		if (kept > 0)
			publish_and_load(&staging, have_issuer ? d.issuer : DEFAULT_ISSUER);
	}
	free(body);
	return 0;
}
