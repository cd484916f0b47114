/*
 * jwk: turns a JWKS document (RFC 7517) into keyset keys the verifier can
 * use, keeping only keys that are safe to trust.
 */
#ifndef MCPD_FETCHER_JWK_H
#define MCPD_FETCHER_JWK_H

#include <stddef.h>

#include "common/keyset.h"

/* Smallest RSA modulus accepted (RFC 7518 §3.3 requires 2048 bits). */
#define JWK_MIN_RSA_BITS 2048

/*
 * Called once per key that is skipped, with its kid (or "" when it has none)
 * and a short reason such as "RSA modulus of 1024 bits is below 2048".
 */
typedef void (*jwk_skip_fn)(void *ctx, const char *kid, const char *reason);

/**
 * Parses a JWKS JSON document into ks->keys (ks->nkeys set; issuer and times
 * untouched).  Keeps keys with kty "RSA", `use` absent or "sig", `alg` absent
 * or "RS256", a kid of 1..127 bytes, a modulus of at least JWK_MIN_RSA_BITS
 * and a sane public exponent (odd, 3..2^32); every other key is skipped and
 * reported through `skip` (which may be NULL).  Duplicate kids keep the first.
 *
 * Returns the number of keys kept (0 is valid: an issuer may publish none we
 * can use), or -1 when the document itself is not a JWKS (not JSON, no "keys"
 * array, too large).  `why` gets a one-line reason on -1.
 */
int jwk_parse_set(const char *json, size_t len, struct keyset *ks, jwk_skip_fn skip, void *ctx,
    char *why, size_t whylen);

#endif
