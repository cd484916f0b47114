/*
 * Unit tests for worker/jwt.c, preparing keys: jwt_key_prepare binds a key
 * to a verification context that is then the one used, a context that is
 * not ready fails closed, and release frees what prepare made.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/ec.h>
#include <openssl/err.h>

#include "tests/unit/worker/jwt_fixture.h"

/*
 * A prepared key verifies with its context: a context made for another key
 * (of the same size) refuses what pkey alone would accept, and accepts what
 * that other key signed.
 */
static void
test_prepared_context_is_used(void **state)
{
	struct jwt_key swapped = {.kid = "k1", .alg = "RS256", .pkey = other_key};
	char mine[16384], theirs[16384];

	(void)state;
	strcpy(mine, signed_token(ACCESS("")));
	strcpy(theirs, make_token("{\"alg\":\"RS256\",\"kid\":\"k1\"}", ACCESS(""), other_key, NULL, 0));
	assert_int_equal(jwt_key_prepare(&swapped), 0);
	swapped.pkey = signing_key;
	assert_int_equal(verify_with(mine, &swapped).status, JWT_INVALID);
	assert_int_equal(verify_with(theirs, &swapped).status, JWT_VALID);
	/* Released, the key falls back to pkey. */
	jwt_key_release(&swapped);
	assert_null(swapped.verify_ctx);
	assert_int_equal(verify_with(mine, &swapped).status, JWT_VALID);
	assert_int_equal(verify_with(theirs, &swapped).status, JWT_INVALID);
}

/* A context that is not ready to verify (a caller's bug) fails closed. */
static void
test_unready_context_fails_closed(void **state)
{
	struct jwt_key key = {.kid = "k1", .alg = "RS256", .pkey = signing_key};

	(void)state;
	key.verify_ctx = EVP_PKEY_CTX_new_from_pkey(NULL, signing_key, NULL);
	assert_non_null(key.verify_ctx);
	assert_int_equal(verify_with(signed_token(ACCESS("")), &key).status, JWT_INVALID);
	assert_int_equal(EVP_PKEY_sign_init(key.verify_ctx), 1);
	assert_int_equal(verify_with(signed_token(ACCESS("")), &key).status, JWT_INVALID);
	jwt_key_release(&key);
	ERR_clear_error();
}

static void
test_prepare_and_release(void **state)
{
	struct jwt_key key = {.kid = "k1", .alg = "RS256", .pkey = signing_key};
	EVP_PKEY *ec = EVP_EC_gen("P-256");

	(void)state;
	jwt_key_release(&key);	/* unprepared: nothing to free */
	assert_null(key.verify_ctx);
	assert_int_equal(jwt_key_prepare(&key), 0);
	assert_non_null(key.verify_ctx);
	/* Again: the first context is freed (ASan would report the leak). */
	assert_int_equal(jwt_key_prepare(&key), 0);
	assert_non_null(key.verify_ctx);
	assert_int_equal(verify_with(signed_token(ACCESS("")), &key).status, JWT_VALID);
	jwt_key_release(&key);
	assert_null(key.verify_ctx);
	jwt_key_release(&key);
	assert_null(key.verify_ctx);
	/* Not an RSA key: no context, the caller keeps the slow path. */
	assert_non_null(ec);
	key.pkey = ec;
	assert_int_equal(jwt_key_prepare(&key), -1);
	assert_null(key.verify_ctx);
	ERR_clear_error();
	EVP_PKEY_free(ec);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prepared_context_is_used),
		cmocka_unit_test(test_unready_context_fails_closed),
		cmocka_unit_test(test_prepare_and_release),
	};

	return cmocka_run_group_tests_name("prepared key", tests, setup_prepared, teardown);
}
