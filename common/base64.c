/* Runs in: workers (token parts, header values) and the fetcher (JWK members). */
#include "common/base64.h"

/*
 * One table per alphabet: each character of the alphabet maps to 0x40 | its
 * value, every other byte (NUL, '=', whitespace, anything from 0x80 up) to
 * 0, so the characters of a group are all valid iff the AND of their entries
 * has 0x40 set.  The alphabets differ only in the characters for 62 and 63.
 */
#define B(v) (0x40 | (v))
#define LETTERS_AND_DIGITS \
	['A'] = B(0), B(1), B(2), B(3), B(4), B(5), B(6), B(7), B(8), B(9), B(10), \
	B(11), B(12), B(13), B(14), B(15), B(16), B(17), B(18), B(19), B(20), B(21), \
	B(22), B(23), B(24), B(25), \
	['a'] = B(26), B(27), B(28), B(29), B(30), B(31), B(32), B(33), B(34), B(35), \
	B(36), B(37), B(38), B(39), B(40), B(41), B(42), B(43), B(44), B(45), B(46), \
	B(47), B(48), B(49), B(50), B(51), \
	['0'] = B(52), B(53), B(54), B(55), B(56), B(57), B(58), B(59), B(60), B(61)

static const unsigned char base64url_value[256] = {
	LETTERS_AND_DIGITS, ['-'] = B(62), ['_'] = B(63),
};
static const unsigned char base64_value[256] = {
	LETTERS_AND_DIGITS, ['+'] = B(62), ['/'] = B(63),
};
#undef LETTERS_AND_DIGITS
#undef B

/*
 * Decodes unpadded text in the alphabet of `value`.  A table instead of
 * libsodium's constant-time decoder: what we decode (tokens, public keys,
 * header values) is public, so there is no secret whose timing to hide,
 * and this is several times faster.
 */
static int
decode(const unsigned char value[256], const char *s, size_t n, unsigned char *out, size_t cap,
    size_t *outlen)
{
	const unsigned char *in = (const unsigned char *)s;
	size_t tail = n % 4, len = n / 4 * 3 + (tail == 0 ? 0 : tail - 1);
	unsigned a, b, c, d;

	/* A length of 1 mod 4 leaves 6 bits: never a whole byte. */
	if (tail == 1 || len > cap)
		return -1;
	for (; n >= 4; n -= 4, in += 4, out += 3) {
		a = value[in[0]], b = value[in[1]], c = value[in[2]], d = value[in[3]];
		if ((a & b & c & d & 0x40) == 0)
			return -1;
		out[0] = (unsigned char)(a << 2 | (b & 0x3f) >> 4);
		out[1] = (unsigned char)(b << 4 | (c & 0x3f) >> 2);
		out[2] = (unsigned char)(c << 6 | (d & 0x3f));
	}
	if (tail != 0) {
		/*
		 * Two characters carry 12 bits for one byte, three carry 18 for
		 * two.  The 4 or 2 bits left over must be zero (RFC 4648 §3.5):
		 * otherwise many texts would decode to the same bytes.
		 */
		a = value[in[0]], b = value[in[1]];
		c = tail == 3 ? value[in[2]] : 0x40;
		if ((a & b & c & 0x40) == 0 || (tail == 2 ? b & 0x0f : c & 0x03) != 0)
			return -1;
		out[0] = (unsigned char)(a << 2 | (b & 0x3f) >> 4);
		if (tail == 3)
			out[1] = (unsigned char)(b << 4 | (c & 0x3f) >> 2);
	}
	*outlen = len;
	return 0;
}

int
base64url_decode(const char *s, size_t n, unsigned char *out, size_t cap, size_t *outlen)
{
	return decode(base64url_value, s, n, out, cap, outlen);
}

/*
 * Padding only says how long the last group is, which the unpadded decoder
 * can tell from the length alone: check the padding, drop it, decode the
 * rest.  With n a multiple of 4, dropping one '=' leaves a group of three
 * characters and two leave a group of two, exactly the lengths padding
 * stands for.  A third '=', or one anywhere else, is then a character
 * outside the alphabet and the decoder refuses it.
 */
int
base64_decode_padded(const char *s, size_t n, unsigned char *out, size_t cap, size_t *outlen)
{
	size_t pad = 0;

	if (n % 4 != 0)
		return -1;
	while (pad < 2 && pad < n && s[n - 1 - pad] == '=')
		pad++;
	return decode(base64_value, s, n - pad, out, cap, outlen);
}
