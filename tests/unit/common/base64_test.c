/*
 * Unit tests for common/base64.c: known values, lengths, the alphabets,
 * padding, the bits left over in the last character and the capacity, for
 * both forms; then libsodium's decoders as the reference for every input
 * they decode strictly (all but bytes from 0x80 up).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "common/base64.h"

typedef int (*decoder)(const char *, size_t, unsigned char *, size_t, size_t *);

static const char url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
static const char std_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/*
 * Decodes s with `fn` and returns the decoded text (static), or NULL when
 * refused.
 */
static const char *
decode_with(decoder fn, const char *s, size_t cap)
{
	static unsigned char out[256];
	size_t n = 12345;

	assert_true(cap < sizeof(out));
	memset(out, 0xAA, sizeof(out));
	if (fn(s, strlen(s), out, cap, &n) < 0) {
		/* Nothing written past the capacity, no length reported. */
		for (size_t i = cap; i < sizeof(out); i++)
			assert_int_equal(out[i], 0xAA);
		assert_int_equal(n, 12345);
		return NULL;
	}
	assert_true(n <= cap);
	assert_int_equal(out[n], 0xAA);
	out[n] = '\0';
	return (const char *)out;
}

/* Unpadded base64url. */
static const char *
decode(const char *s, size_t cap)
{
	return decode_with(base64url_decode, s, cap);
}

/* Padded base64. */
static const char *
padded(const char *s, size_t cap)
{
	return decode_with(base64_decode_padded, s, cap);
}

/* --- base64url --- */

static void
test_b64url_known_values(void **state)
{
	(void)state;
	/* RFC 4648 §10, unpadded. */
	assert_string_equal(decode("", 0), "");
	assert_string_equal(decode("Zg", 8), "f");
	assert_string_equal(decode("Zm8", 8), "fo");
	assert_string_equal(decode("Zm9v", 8), "foo");
	assert_string_equal(decode("Zm9vYg", 8), "foob");
	assert_string_equal(decode("Zm9vYmE", 8), "fooba");
	assert_string_equal(decode("Zm9vYmFy", 8), "foobar");
	/* The two characters that differ from base64: 62 and 63. */
	assert_string_equal(decode("-_-_", 8), "\xfb\xff\xbf");
	assert_string_equal(decode("__8", 8), "\xff\xff");
	assert_string_equal(decode("-w", 8), "\xfb");
}

static void
test_b64url_lengths(void **state)
{
	unsigned char out[16];
	size_t n;

	(void)state;
	/* A length of 1 mod 4 leaves 6 bits: never a whole byte. */
	assert_null(decode("Z", 8));
	assert_null(decode("Zm9vY", 8));
	assert_null(decode("Zm9vYmFyZ", 16));
	assert_null(decode("A", 8));
	assert_null(decode("AAAAA", 8));
	/* Also when what follows the counted characters would complete them. */
	assert_int_equal(base64url_decode("QQ", 1, out, sizeof(out), &n), -1);
	assert_int_equal(base64url_decode("Zm9vYQ", 5, out, sizeof(out), &n), -1);
	assert_int_equal(base64url_decode("Zm9vYQ", 6, out, sizeof(out), &n), 0);
	assert_int_equal(n, 4);
	/* And the counted characters alone decide, whatever follows them. */
	assert_int_equal(base64url_decode("Zm9v=", 4, out, sizeof(out), &n), 0);
	assert_memory_equal(out, "foo", 3);
	assert_int_equal(n, 3);
}

static void
test_b64url_character_classes(void **state)
{
	static const char *bad[] = {
		"Zm9=", "Zg==", "Zm8=",		/* padding */
		"Zm9v\n", " Zm9v", "Zm 9v", "Zm9v\t", "Zm9\r",	/* whitespace */
		"Zm+v", "Zm/v", "+w", "/w",	/* base64, not base64url */
		"Zm.v", "Zm9v*", "Zm%v", "Zm9v~", "Zm9v@", "Zm9v[", "Zm9v`", "Zm9v{",
		"\xc3\xa9Zm", "Zm9v\x80\x80", "Zm9v\xff\xff",	/* bytes past ASCII */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (decode(bad[i], 16) != NULL)
			fail_msg("accepted \"%s\"", bad[i]);
}

/*
 * libsodium 1.0.18 took every byte from 0x80 up for '_': each of them, in
 * each position of a full and of both partial groups, is refused.
 */
static void
test_b64url_high_bytes(void **state)
{
	const char *texts[] = {"____", "__8", "_w", "AAA_", "A_8", "Aw", "____Aw"};
	unsigned char out[8];
	size_t n;
	char s[8];

	(void)state;
	for (size_t t = 0; t < sizeof(texts) / sizeof(texts[0]); t++) {
		size_t len = strlen(texts[t]);

		assert_int_equal(base64url_decode(texts[t], len, out, sizeof(out), &n), 0);
		for (size_t pos = 0; pos < len; pos++)
			for (int c = 0x80; c <= 0xff; c++) {
				memcpy(s, texts[t], len);
				s[pos] = (char)c;
				if (base64url_decode(s, len, out, sizeof(out), &n) != -1)
					fail_msg("accepted byte 0x%02x at %zu of \"%s\"", c, pos, texts[t]);
			}
	}
}

/* A NUL byte is outside the alphabet too, wherever it sits. */
static void
test_b64url_nul_byte(void **state)
{
	unsigned char out[8];
	size_t n;

	(void)state;
	assert_int_equal(base64url_decode("Zm9v", 4, out, sizeof(out), &n), 0);
	for (size_t i = 0; i < 4; i++) {
		char s[5] = "Zm9v";

		s[i] = '\0';
		assert_int_equal(base64url_decode(s, 4, out, sizeof(out), &n), -1);
	}
	assert_int_equal(base64url_decode("Zg\0", 3, out, sizeof(out), &n), -1);
}

/* The bits of the last character that fall past the last byte must be zero. */
static void
test_b64url_trailing_bits(void **state)
{
	(void)state;
	assert_non_null(decode("Zg", 8));
	assert_null(decode("Zh", 8));		/* "f" with bit 0 of 4 spare set */
	assert_null(decode("Zv", 8));
	assert_non_null(decode("Zm8", 8));
	assert_null(decode("Zm9", 8));		/* "fo" with a spare bit set */
	assert_null(decode("Zm_", 8));
	for (int v = 0; v < 64; v++) {
		char two[3] = {'Q', url_alphabet[v], '\0'}, three[4] = {'Q', 'Q', url_alphabet[v], '\0'};

		assert_int_equal(decode(two, 8) != NULL, v % 16 == 0);
		assert_int_equal(decode(three, 8) != NULL, v % 4 == 0);
	}
}

static void
test_b64url_capacity(void **state)
{
	(void)state;
	assert_null(decode("Zm9vYmFy", 5));
	assert_string_equal(decode("Zm9vYmFy", 6), "foobar");
	assert_null(decode("Zm9vYmE", 4));
	assert_string_equal(decode("Zm9vYmE", 5), "fooba");
	assert_null(decode("Zm9vYg", 3));
	assert_string_equal(decode("Zm9vYg", 4), "foob");
	assert_null(decode("Zg", 0));
	assert_string_equal(decode("", 0), "");
}

/* --- padded base64 --- */

static void
test_padded_known_values(void **state)
{
	(void)state;
	/* RFC 4648 §10. */
	assert_string_equal(padded("", 0), "");
	assert_string_equal(padded("Zg==", 8), "f");
	assert_string_equal(padded("Zm8=", 8), "fo");
	assert_string_equal(padded("Zm9v", 8), "foo");
	assert_string_equal(padded("Zm9vYg==", 8), "foob");
	assert_string_equal(padded("Zm9vYmE=", 8), "fooba");
	assert_string_equal(padded("Zm9vYmFy", 8), "foobar");
	/* The two characters that differ from base64url: 62 and 63. */
	assert_string_equal(padded("+/+/", 8), "\xfb\xff\xbf");
	assert_string_equal(padded("//8=", 8), "\xff\xff");
	assert_string_equal(padded("+w==", 8), "\xfb");
}

/* The padding must be there: the length is always a multiple of 4. */
static void
test_padded_lengths(void **state)
{
	static const char *bad[] = {
		"Zg", "Zm8", "Zm9vYg", "Zm9vYmE",	/* padding missing */
		"Zg=", "Zm9vYg=",			/* padding short */
		"Z", "Zm9vY", "Zm9v=", "Zm8==", "Zg===",	/* not a multiple of 4 */
	};
	unsigned char out[16];
	size_t n;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (padded(bad[i], 16) != NULL)
			fail_msg("accepted \"%s\"", bad[i]);
	/* The counted characters alone decide, whatever follows them. */
	assert_int_equal(base64_decode_padded("Zg==", 2, out, sizeof(out), &n), -1);
	assert_int_equal(base64_decode_padded("Zg==", 3, out, sizeof(out), &n), -1);
	assert_int_equal(base64_decode_padded("Zm9vZg==", 4, out, sizeof(out), &n), 0);
	assert_memory_equal(out, "foo", 3);
	assert_int_equal(n, 3);
	assert_int_equal(base64_decode_padded("Zm9v", 0, out, sizeof(out), &n), 0);
	assert_int_equal(n, 0);
}

/* One or two '=', only at the end, and only as many as the last group needs. */
static void
test_padded_positions(void **state)
{
	static const char *bad[] = {
		"Z===", "====", "Zm9v====", "Zm9vZ===",	/* three or four */
		"Zm9vY===", "Zm9v=A==",
		"Zg=A", "Z=g=", "=Zg=", "Zm=v", "=Zm9", "Zg=\n",	/* in the middle */
		"Zg==Zm9v", "Zg==Zg==", "Zm8=Zm9v",	/* in a group before the last */
		"Zm9v=g==", "Zm9vZ=g=",
		"Zm9v===A", "===A",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (padded(bad[i], 16) != NULL)
			fail_msg("accepted \"%s\"", bad[i]);
}

static void
test_padded_character_classes(void **state)
{
	static const char *bad[] = {
		"Zm9v\n===", " Zm9v===", "Zm 9", "Zm9v\t===", "Zm9\r",	/* whitespace */
		"Zm-v", "Zm_v", "-w==", "_w==", "__8=",	/* base64url, not base64 */
		"Zm.v", "Zm9*", "Zm%v", "Zm9~", "Zm9@", "Zm9[", "Zm9`", "Zm9{",
		"\xc3\xa9Zm", "Zm9v\x80\x80==", "Zm9v\xff\xff\xff\xff",	/* bytes past ASCII */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (padded(bad[i], 16) != NULL)
			fail_msg("accepted \"%s\"", bad[i]);
}

/* libsodium 1.0.18 took every byte from 0x80 up for '/'. */
static void
test_padded_high_bytes(void **state)
{
	const char *texts[] = {"////", "//8=", "/w==", "AAA/", "AA8=", "Aw==", "////Aw=="};
	unsigned char out[8];
	size_t n;
	char s[16];

	(void)state;
	for (size_t t = 0; t < sizeof(texts) / sizeof(texts[0]); t++) {
		size_t len = strlen(texts[t]);

		assert_int_equal(base64_decode_padded(texts[t], len, out, sizeof(out), &n), 0);
		for (size_t pos = 0; pos < len; pos++)
			for (int c = 0x80; c <= 0xff; c++) {
				memcpy(s, texts[t], len);
				s[pos] = (char)c;
				if (base64_decode_padded(s, len, out, sizeof(out), &n) != -1)
					fail_msg("accepted byte 0x%02x at %zu of \"%s\"", c, pos, texts[t]);
			}
	}
}

static void
test_padded_nul_byte(void **state)
{
	unsigned char out[8];
	size_t n;

	(void)state;
	assert_int_equal(base64_decode_padded("Zm8=", 4, out, sizeof(out), &n), 0);
	for (size_t i = 0; i < 4; i++) {
		char s[5] = "Zm8=";

		s[i] = '\0';
		assert_int_equal(base64_decode_padded(s, 4, out, sizeof(out), &n), -1);
	}
}

/* The padded form has spare bits too: 4 before "==", 2 before "=". */
static void
test_padded_trailing_bits(void **state)
{
	(void)state;
	assert_non_null(padded("Zg==", 8));
	assert_null(padded("Zh==", 8));		/* "f" with bit 0 of 4 spare set */
	assert_null(padded("Zv==", 8));
	assert_non_null(padded("Zm8=", 8));
	assert_null(padded("Zm9=", 8));		/* "fo" with a spare bit set */
	assert_null(padded("Zm/=", 8));
	assert_null(padded("Zm==", 8));		/* "fo" cut to one byte */
	assert_null(padded("Zm9vYm==", 8));
	for (int v = 0; v < 64; v++) {
		char two[5] = {'Q', std_alphabet[v], '=', '=', '\0'};
		char three[5] = {'Q', 'Q', std_alphabet[v], '=', '\0'};

		assert_int_equal(padded(two, 8) != NULL, v % 16 == 0);
		assert_int_equal(padded(three, 8) != NULL, v % 4 == 0);
	}
}

static void
test_padded_capacity(void **state)
{
	(void)state;
	assert_null(padded("Zm9vYmFy", 5));
	assert_string_equal(padded("Zm9vYmFy", 6), "foobar");
	assert_null(padded("Zm9vYmE=", 4));
	assert_string_equal(padded("Zm9vYmE=", 5), "fooba");
	assert_null(padded("Zm9vYg==", 3));
	assert_string_equal(padded("Zm9vYg==", 4), "foob");
	assert_null(padded("Zg==", 0));
	assert_string_equal(padded("Zg==", 1), "f");
	assert_string_equal(padded("", 0), "");
}

/* --- against libsodium --- */

/* libsodium's strict use: every character consumed, none ignored. */
static int
sodium_decode(const char *s, size_t n, unsigned char *out, size_t cap, size_t *outlen, int variant)
{
	const char *end;

	if (sodium_base642bin(out, cap, s, n, NULL, outlen, &end, variant) != 0 || end != s + n)
		return -1;
	return 0;
}

/* Decodes s[0..len) with both and asserts the same verdict and bytes. */
static void
same_as_sodium(decoder fn, int variant, const char *s, size_t len, size_t cap)
{
	unsigned char mine[64], theirs[64];
	size_t n1, n2;
	int rc;

	assert_true(cap <= sizeof(mine));
	rc = fn(s, len, mine, cap, &n1);
	if (rc != sodium_decode(s, len, theirs, cap, &n2, variant))
		fail_msg("\"%.*s\" (cap %zu): ours %d, libsodium's %d", (int)len, s, cap, rc, -1 - rc);
	if (rc == 0) {
		assert_int_equal(n1, n2);
		assert_memory_equal(mine, theirs, n1);
	}
}

/*
 * Every byte in every position of a full group and of the partial groups:
 * the verdict and the bytes must match libsodium's, except that it took
 * any byte past ASCII for the 63rd character.
 */
static void
exhaustive(decoder fn, int variant, const char *const *bases, size_t nbases)
{
	unsigned char out[64];
	size_t n;
	char s[32];

	for (size_t b = 0; b < nbases; b++) {
		size_t len = strlen(bases[b]);

		for (size_t pos = 0; pos < len; pos++)
			for (int c = 0; c < 256; c++) {
				memcpy(s, bases[b], len);
				s[pos] = (char)c;
				if (c >= 0x80)
					assert_int_equal(fn(s, len, out, sizeof(out), &n), -1);
				else
					same_as_sodium(fn, variant, s, len, sizeof(out));
			}
	}
}

static void
test_b64url_matches_sodium(void **state)
{
	static const char *const bases[] = {"QUJD", "QUJDQQ", "QUJDQUI"};
	static const char pool[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_+/= .\n";
	const int variant = sodium_base64_VARIANT_URLSAFE_NO_PADDING;
	char s[32];

	(void)state;
	exhaustive(base64url_decode, variant, bases, sizeof(bases) / sizeof(bases[0]));
	/* Random strings: of the alphabet alone, or with its neighbours. */
	for (int i = 0; i < 200000; i++) {
		size_t len = randombytes_uniform(24), cap = randombytes_uniform(20);

		for (size_t k = 0; k < len; k++)
			s[k] = pool[randombytes_uniform(i % 2 ? 64 : sizeof(pool) - 1)];
		same_as_sodium(base64url_decode, variant, s, len, cap);
	}
}

static void
test_padded_matches_sodium(void **state)
{
	static const char *const bases[] = {"QUJD", "QUI=", "QQ==", "QUJDQUI=", "QUJDQQ=="};
	static const char pool[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_= .\n";
	const int variant = sodium_base64_VARIANT_ORIGINAL;
	char s[32];

	(void)state;
	exhaustive(base64_decode_padded, variant, bases, sizeof(bases) / sizeof(bases[0]));
	/*
	 * Random strings: of the alphabet alone, the same ending in one or two
	 * '=' (mostly well-formed), or with its neighbours.
	 */
	for (int i = 0; i < 200000; i++) {
		size_t len = randombytes_uniform(24), cap = randombytes_uniform(20);

		for (size_t k = 0; k < len; k++)
			s[k] = pool[randombytes_uniform(i % 3 != 2 ? 64 : sizeof(pool) - 1)];
		if (i % 3 == 1)
			for (size_t k = 1 + randombytes_uniform(2); k > 0 && len >= k; k--)
				s[len - k] = '=';
		same_as_sodium(base64_decode_padded, variant, s, len, cap);
	}
}

static int
setup_sodium(void **state)
{
	(void)state;
	return sodium_init() < 0 ? -1 : 0;
}

int
main(void)
{
	const struct CMUnitTest url[] = {
		cmocka_unit_test(test_b64url_known_values),
		cmocka_unit_test(test_b64url_lengths),
		cmocka_unit_test(test_b64url_character_classes),
		cmocka_unit_test(test_b64url_high_bytes),
		cmocka_unit_test(test_b64url_nul_byte),
		cmocka_unit_test(test_b64url_trailing_bits),
		cmocka_unit_test(test_b64url_capacity),
		cmocka_unit_test(test_b64url_matches_sodium),
	};
	const struct CMUnitTest std[] = {
		cmocka_unit_test(test_padded_known_values),
		cmocka_unit_test(test_padded_lengths),
		cmocka_unit_test(test_padded_positions),
		cmocka_unit_test(test_padded_character_classes),
		cmocka_unit_test(test_padded_high_bytes),
		cmocka_unit_test(test_padded_nul_byte),
		cmocka_unit_test(test_padded_trailing_bits),
		cmocka_unit_test(test_padded_capacity),
		cmocka_unit_test(test_padded_matches_sodium),
	};
	int failed = 0;

	failed += cmocka_run_group_tests_name("base64url", url, setup_sodium, NULL);
	failed += cmocka_run_group_tests_name("padded base64", std, setup_sodium, NULL);
	return failed;
}
