/*
 * base64: strict decoders for the two base64 forms mcpd reads from the
 * outside (RFC 4648): unpadded base64url in JWTs and JWKS members, padded
 * base64 in the `=?base64?...?=` values of Mcp-Method and Mcp-Name.
 *
 * Both accept exactly one text for each byte string: only their own
 * alphabet, no whitespace, no set bits left over in the last character.
 * libsodium 1.0.18's decoder, which they replace, took every byte from 0x80
 * up for the last character of the alphabet.
 *
 * Both return 0 with the decoded length in *outlen, or -1.  They never
 * write past out[cap - 1]; on -1, out[0..cap) may hold part of the bytes
 * and *outlen is unchanged.
 */
#ifndef MCPD_COMMON_BASE64_H
#define MCPD_COMMON_BASE64_H

#include <stddef.h>

/**
 * Decodes s[0..n) as unpadded base64url (RFC 7515 §2): only A-Z a-z 0-9
 * - _, no '=' and no length of 1 mod 4.  Only the n counted characters are
 * read, whatever follows them.
 */
int base64url_decode(const char *s, size_t n, unsigned char *out, size_t cap, size_t *outlen);

/**
 * Decodes s[0..n) as padded base64 (RFC 4648 §4): only A-Z a-z 0-9 + /,
 * n a multiple of 4, and the one or two '=' the last group needs at its
 * end, nowhere else.  "" decodes to no bytes.
 */
int base64_decode_padded(const char *s, size_t n, unsigned char *out, size_t cap, size_t *outlen);

#endif
