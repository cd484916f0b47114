#define _GNU_SOURCE	/* memfd_create, F_ADD_SEALS; before any header */
/*
 * Unit tests for common/keyset.c: region creation and seals, read-only
 * mappings, publish/snapshot round trips, corruption, a writer killed
 * mid-write, and torn reads against a writer in another process.
 *
 * The file includes keyset.c itself (as h2o's t/00unit does) so that the
 * tests can reach the private layout and damage it on purpose.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "common/keyset.c"

/*
 * A set whose every byte is derived from `v`: the issuer ends in v, kids
 * end in v, and each key's n and e are all v.  A torn copy mixes values.
 */
static void
make_set(struct keyset *ks, char v, uint32_t nkeys)
{
	memset(ks, 0, sizeof(*ks));
	(void)snprintf(ks->issuer, sizeof(ks->issuer), "https://issuer.example/%c", v);
	ks->fetched_at = v;
	ks->expires_at = v + 1;
	ks->nkeys = nkeys;
	for (uint32_t i = 0; i < nkeys; i++) {
		struct keyset_key *k = &ks->keys[i];

		(void)snprintf(k->kid, sizeof(k->kid), "kid-%u-%c", i, v);
		k->alg = KEYSET_ALG_RS256;
		k->n_len = 256;
		k->e_len = 3;
		memset(k->n, v, k->n_len);
		memset(k->e, v, k->e_len);
	}
}

/* True when every part of ks agrees on one value (the issuer's last char). */
static bool
set_consistent(const struct keyset *ks)
{
	size_t ilen = strnlen(ks->issuer, sizeof(ks->issuer));
	char v;

	if (ilen == 0 || ilen == sizeof(ks->issuer) || ks->nkeys == 0 || ks->nkeys > KEYSET_MAX_KEYS)
		return false;
	v = ks->issuer[ilen - 1];
	if (ks->fetched_at != v || ks->expires_at != v + 1)
		return false;
	for (uint32_t i = 0; i < ks->nkeys; i++) {
		const struct keyset_key *k = &ks->keys[i];
		size_t klen = strnlen(k->kid, sizeof(k->kid));

		if (klen == 0 || k->kid[klen - 1] != v || k->n_len != 256 || k->e_len != 3)
			return false;
		for (uint32_t j = 0; j < k->n_len; j++)
			if (k->n[j] != (uint8_t)v)
				return false;
		for (uint32_t j = 0; j < k->e_len; j++)
			if (k->e[j] != (uint8_t)v)
				return false;
	}
	return true;
}

/* The fixture: a fresh region, a writer mapping and a reader mapping. */
struct fixture {
	int fd;
	struct keyset_region *w, *ro;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	f->fd = keyset_region_create();
	if (f->fd == -1)
		return -1;
	f->w = keyset_map(f->fd, true);
	f->ro = keyset_map(f->fd, false);
	if (f->w == NULL || f->ro == NULL)
		return -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	keyset_unmap(f->w);
	keyset_unmap(f->ro);
	(void)close(f->fd);
	free(f);
	return 0;
}

static void
assert_snapshot(const struct keyset_region *r, const struct keyset *want, uint64_t want_gen)
{
	struct keyset got;
	uint64_t gen = 0;

	assert_int_equal(keyset_snapshot(r, &got, &gen), KEYSET_OK);
	assert_int_equal(gen, want_gen);
	assert_memory_equal(&got, want, sizeof(got));
}

/* --- creation and mapping --- */

static void
test_create_is_sealed_and_sized(void **state)
{
	struct fixture *f = *state;
	struct stat st;
	int seals;

	assert_int_equal(fstat(f->fd, &st), 0);
	assert_int_equal(st.st_size, keyset_region_size());
	seals = fcntl(f->fd, F_GET_SEALS);
	assert_int_equal(seals & KEYSET_SEALS, KEYSET_SEALS);
	assert_int_not_equal(fcntl(f->fd, F_GETFD) & FD_CLOEXEC, 0);

	/* Neither grow nor shrink, and no more seals (F_SEAL_SEAL). */
	assert_int_equal(ftruncate(f->fd, (off_t)keyset_region_size() * 2), -1);
	assert_int_equal(errno, EPERM);
	assert_int_equal(ftruncate(f->fd, 0), -1);
	assert_int_equal(errno, EPERM);
	assert_int_equal(fcntl(f->fd, F_ADD_SEALS, F_SEAL_WRITE), -1);
	assert_int_equal(errno, EPERM);
}

static void
test_empty_before_first_publish(void **state)
{
	struct fixture *f = *state;
	struct keyset ks;
	uint64_t gen = 77;

	assert_int_equal(keyset_generation(f->ro), 0);
	assert_int_equal(keyset_generation(f->w), 0);
	assert_int_equal(keyset_snapshot(f->ro, &ks, &gen), KEYSET_EMPTY);
	assert_int_equal(gen, 77);
	assert_int_equal(keyset_snapshot(f->w, &ks, NULL), KEYSET_EMPTY);
}

static void
test_readonly_mapping_cannot_be_made_writable(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(mprotect(f->ro, keyset_region_size(), PROT_READ | PROT_WRITE), -1);
	assert_int_equal(errno, EACCES);
	/* The writer's mapping is writable, so the check above means something. */
	assert_int_equal(mprotect(f->w, keyset_region_size(), PROT_READ | PROT_WRITE), 0);
}

static void
test_map_rejects_foreign_fds(void **state)
{
	int fd;

	(void)state;
	errno = 0;
	assert_null(keyset_map(-1, false));
	assert_int_equal(errno, EBADF);
	assert_null(keyset_map(-1, true));

	/* The right size but not sealed: it could shrink under a mapping. */
	fd = memfd_create("test", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	assert_int_not_equal(fd, -1);
	assert_int_equal(ftruncate(fd, (off_t)keyset_region_size()), 0);
	assert_null(keyset_map(fd, true));
	assert_int_equal(errno, EINVAL);
	assert_null(keyset_map(fd, false));
	assert_int_equal(errno, EINVAL);

	/* Sealed, but never initialised: no magic. */
	assert_int_equal(fcntl(fd, F_ADD_SEALS, KEYSET_SEALS), 0);
	assert_null(keyset_map(fd, false));
	assert_int_equal(errno, EINVAL);
	assert_null(keyset_map(fd, true));
	assert_int_equal(errno, EINVAL);
	(void)close(fd);
}

/* --- publish and snapshot --- */

static void
test_round_trip_and_generations(void **state)
{
	struct fixture *f = *state;
	struct keyset ks;

	for (uint64_t g = 1; g <= 10; g++) {
		make_set(&ks, (char)('A' + g), (uint32_t)(g % KEYSET_MAX_KEYS) + 1);
		assert_int_equal(keyset_publish(f->w, &ks), g);
		assert_int_equal(keyset_generation(f->ro), g);
		assert_int_equal(keyset_generation(f->w), g);
		/* The slots alternate; the first publication fills slot 1. */
		assert_int_equal(atomic_load(&f->ro->hdr.active), g % 2);
		assert_snapshot(f->ro, &ks, g);
		assert_snapshot(f->w, &ks, g);
	}
}

static void
test_full_set_round_trips(void **state)
{
	struct fixture *f = *state;
	struct keyset ks;

	make_set(&ks, 'Q', KEYSET_MAX_KEYS);
	memset(ks.issuer, 'i', sizeof(ks.issuer) - 1);
	ks.keys[3].n_len = KEYSET_MODULUS_MAX;
	memset(ks.keys[3].n, 0x5a, KEYSET_MODULUS_MAX);
	ks.keys[3].e_len = KEYSET_EXPONENT_MAX;
	memset(ks.keys[3].kid, 'k', KEYSET_KID_MAX - 1);
	assert_int_equal(keyset_publish(f->w, &ks), 1);
	assert_snapshot(f->ro, &ks, 1);
}

static void
test_publish_refuses_out_of_bounds_sets(void **state)
{
	struct fixture *f = *state;
	struct keyset ks;

	make_set(&ks, 'A', 1);
	ks.nkeys = KEYSET_MAX_KEYS + 1;
	assert_int_equal(keyset_publish(f->w, &ks), 0);
	make_set(&ks, 'A', 1);
	memset(ks.issuer, 'x', sizeof(ks.issuer));
	assert_int_equal(keyset_publish(f->w, &ks), 0);
	make_set(&ks, 'A', 1);
	memset(ks.keys[0].kid, 'x', sizeof(ks.keys[0].kid));
	assert_int_equal(keyset_publish(f->w, &ks), 0);
	make_set(&ks, 'A', 1);
	ks.keys[0].n_len = KEYSET_MODULUS_MAX + 1;
	assert_int_equal(keyset_publish(f->w, &ks), 0);
	make_set(&ks, 'A', 1);
	ks.keys[0].e_len = KEYSET_EXPONENT_MAX + 1;
	assert_int_equal(keyset_publish(f->w, &ks), 0);

	assert_int_equal(keyset_generation(f->ro), 0);
	assert_int_equal(keyset_snapshot(f->ro, &ks, NULL), KEYSET_EMPTY);
}

/* A restarted fetcher maps the region again and carries on counting. */
static void
test_second_writer_mapping_continues(void **state)
{
	struct fixture *f = *state;
	struct keyset_region *w2;
	struct keyset ks;

	make_set(&ks, 'A', 2);
	assert_int_equal(keyset_publish(f->w, &ks), 1);
	w2 = keyset_map(f->fd, true);
	assert_non_null(w2);
	make_set(&ks, 'B', 3);
	assert_int_equal(keyset_publish(w2, &ks), 2);
	assert_snapshot(f->ro, &ks, 2);
	keyset_unmap(w2);
}

/* --- damage --- */

static void
test_flipped_payload_byte_is_corrupt(void **state)
{
	struct fixture *f = *state;
	struct keyset_region *w2;
	struct keyset ks, out;
	struct keyset_slot *slot;

	make_set(&ks, 'C', 4);
	assert_int_equal(keyset_publish(f->w, &ks), 1);
	w2 = keyset_map(f->fd, true);
	assert_non_null(w2);
	slot = &w2->slot[atomic_load(&w2->hdr.active)];

	slot->payload.keys[2].n[100] ^= 0x01;
	assert_int_equal(keyset_snapshot(f->ro, &out, NULL), KEYSET_CORRUPT);
	slot->payload.keys[2].n[100] ^= 0x01;
	assert_snapshot(f->ro, &ks, 1);

	slot->checksum[0] ^= 0x80;
	assert_int_equal(keyset_snapshot(f->ro, &out, NULL), KEYSET_CORRUPT);
	slot->checksum[0] ^= 0x80;

	slot->generation++;
	assert_int_equal(keyset_snapshot(f->ro, &out, NULL), KEYSET_CORRUPT);
	slot->generation--;
	assert_snapshot(f->ro, &ks, 1);
	keyset_unmap(w2);
}

/* A checksum that matches does not excuse a set a verifier could overrun on. */
static void
test_out_of_bounds_set_with_good_checksum_is_corrupt(void **state)
{
	struct fixture *f = *state;
	struct keyset_slot *slot;
	struct keyset ks, out;

	make_set(&ks, 'D', 1);
	assert_int_equal(keyset_publish(f->w, &ks), 1);
	slot = &f->w->slot[atomic_load(&f->w->hdr.active)];
	slot->payload.keys[0].n_len = KEYSET_MODULUS_MAX + 1;
	slot_checksum(slot->generation, &slot->payload, slot->checksum);
	assert_int_equal(keyset_snapshot(f->ro, &out, NULL), KEYSET_CORRUPT);

	slot->payload.keys[0].n_len = 256;
	slot->payload.nkeys = KEYSET_MAX_KEYS + 1;
	slot_checksum(slot->generation, &slot->payload, slot->checksum);
	assert_int_equal(keyset_snapshot(f->ro, &out, NULL), KEYSET_CORRUPT);
}

static void
test_bad_header_is_corrupt(void **state)
{
	struct fixture *f = *state;
	struct keyset ks, out;

	make_set(&ks, 'E', 1);
	assert_int_equal(keyset_publish(f->w, &ks), 1);
	f->w->hdr.version++;
	assert_int_equal(keyset_snapshot(f->ro, &out, NULL), KEYSET_CORRUPT);
	f->w->hdr.version--;
	f->w->hdr.magic ^= 1;
	assert_int_equal(keyset_snapshot(f->ro, &out, NULL), KEYSET_CORRUPT);
	f->w->hdr.magic ^= 1;
	atomic_store(&f->w->hdr.active, 2);
	assert_int_equal(keyset_snapshot(f->ro, &out, NULL), KEYSET_CORRUPT);
	atomic_store(&f->w->hdr.active, 1);
	assert_snapshot(f->ro, &ks, 1);
}

/*
 * A writer killed mid-write leaves the inactive slot odd and half-filled:
 * readers of the active slot do not notice, and the next writer recovers it.
 */
static void
test_writer_killed_mid_write(void **state)
{
	struct fixture *f = *state;
	struct keyset a, b, out;
	struct keyset_slot *dead;
	uint32_t active;

	make_set(&a, 'A', 3);
	assert_int_equal(keyset_publish(f->w, &a), 1);
	active = atomic_load(&f->w->hdr.active);
	dead = &f->w->slot[1 - active];
	atomic_store(&dead->seq, 3);
	memset(&dead->payload, 0xff, sizeof(dead->payload) / 2);

	for (int i = 0; i < 100; i++)
		assert_snapshot(f->ro, &a, 1);

	make_set(&b, 'B', 5);
	assert_int_equal(keyset_publish(f->w, &b), 2);
	assert_int_equal(atomic_load(&dead->seq) % 2, 0);
	assert_true(atomic_load(&dead->seq) > 3);
	assert_snapshot(f->ro, &b, 2);

	/* An active slot stuck odd must not make readers spin forever. */
	atomic_fetch_add(&dead->seq, 1);
	assert_int_equal(keyset_snapshot(f->ro, &out, NULL), KEYSET_BUSY);
	atomic_fetch_add(&dead->seq, 1);
	assert_snapshot(f->ro, &b, 2);
}

/* --- lookup --- */

static void
test_find(void **state)
{
	struct fixture *f = *state;
	struct keyset ks, out;
	const struct keyset_key *k;
	static const char nul_kid[] = "kid-1-F\0x";

	make_set(&ks, 'F', 3);
	assert_int_equal(keyset_publish(f->w, &ks), 1);
	assert_int_equal(keyset_snapshot(f->ro, &out, NULL), KEYSET_OK);

	k = keyset_find(&out, "kid-1-F", 7);
	assert_non_null(k);
	assert_ptr_equal(k, &out.keys[1]);
	assert_null(keyset_find(&out, "kid-1-Fx", 8));
	assert_null(keyset_find(&out, "kid-1-F", 6));
	assert_null(keyset_find(&out, "kid-1-f", 7));
	assert_null(keyset_find(&out, nul_kid, sizeof(nul_kid) - 1));
	assert_null(keyset_find(&out, "", 0));
	assert_null(keyset_find(&out, NULL, 3));
	/* Keys past nkeys are never found, even if the bytes are there. */
	out.nkeys = 1;
	assert_null(keyset_find(&out, "kid-1-F", 7));
	out.nkeys = 1000;
	assert_non_null(keyset_find(&out, "kid-2-F", 7));
}

/* --- concurrency --- */

struct shared_ctl {
	_Atomic int stop;
	_Atomic uint64_t published;
	_Atomic int failed;
};

/* The child: publish alternating sets until told to stop. */
static void __attribute__((noreturn))
writer_main(int fd, struct shared_ctl *ctl)
{
	struct keyset_region *w = keyset_map(fd, true);
	static struct keyset ks;
	uint64_t gen = 0;

	if (w == NULL)
		_exit(2);
	while (!atomic_load(&ctl->stop) && gen < 2000000) {
		uint64_t next = gen + 1;

		make_set(&ks, (char)('A' + next % 26), (uint32_t)(next % KEYSET_MAX_KEYS) + 1);
		gen = keyset_publish(w, &ks);
		if (gen != next) {
			atomic_store(&ctl->failed, 1);
			_exit(3);
		}
		atomic_store(&ctl->published, gen);
	}
	_exit(0);
}

struct read_counts {
	unsigned long ok, torn, busy, empty, generations_seen;
};

/* One reader pass: a raw attempt (to count retries) and a full snapshot. */
static void
read_once(const struct keyset_region *ro, struct read_counts *c, uint64_t *last_gen)
{
	static struct keyset out;
	uint64_t gen = 0;

	switch (keyset_try_read(ro, &out, &gen)) {
	case KEYSET_TRY_OK:
		assert_true(set_consistent(&out));
		break;
	case KEYSET_TRY_TORN:
		c->torn++;
		break;
	case KEYSET_TRY_EMPTY:
		break;
	case KEYSET_TRY_CORRUPT:
		fail_msg("a raw read saw a corrupt slot");
	}
	switch (keyset_snapshot(ro, &out, &gen)) {
	case KEYSET_OK:
		c->ok++;
		assert_true(set_consistent(&out));
		/* The generation belongs to the payload, and never goes back. */
		assert_int_equal(out.issuer[strlen(out.issuer) - 1], 'A' + gen % 26);
		assert_int_equal(out.nkeys, gen % KEYSET_MAX_KEYS + 1);
		assert_true(gen >= *last_gen);
		if (gen != *last_gen)
			c->generations_seen++;
		*last_gen = gen;
		break;
	case KEYSET_BUSY:
		c->busy++;
		break;
	case KEYSET_EMPTY:
		c->empty++;
		break;
	case KEYSET_CORRUPT:
		fail_msg("snapshot reported corrupt under a live writer");
	}
}

static void
test_torn_reads_against_forked_writer(void **state)
{
	struct fixture *f = *state;
	struct read_counts c = {0};
	struct shared_ctl *ctl;
	uint64_t last_gen = 0;
	int status;
	pid_t pid;

	ctl = mmap(NULL, sizeof(*ctl), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	assert_true(ctl != MAP_FAILED);
	/* Unflushed stdio would be written twice, once by each process. */
	(void)fflush(stdout);
	(void)fflush(stderr);
	pid = fork();
	assert_int_not_equal(pid, -1);
	if (pid == 0)
		writer_main(f->fd, ctl);

	/* Wait (bounded) for the writer to start, then read while it runs. */
	for (int i = 0; i < 10000 && atomic_load(&ctl->published) == 0; i++)
		(void)usleep(1000);
	assert_int_not_equal(atomic_load(&ctl->published), 0);
	for (int i = 0; i < 20000 || atomic_load(&ctl->published) < 1000; i++) {
		read_once(f->ro, &c, &last_gen);
		if (i > 2000000)
			break;
	}
	atomic_store(&ctl->stop, 1);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(atomic_load(&ctl->failed), 0);

	print_message("keyset torn-read test: %lu published, %lu snapshots ok, %lu raw reads torn "
	    "(retried), %lu busy, %lu empty, %lu generations seen\n",
	    (unsigned long)atomic_load(&ctl->published), c.ok, c.torn, c.busy, c.empty,
	    c.generations_seen);
	assert_true(atomic_load(&ctl->published) >= 1000);
	assert_true(c.ok > 0);
	assert_true(c.generations_seen > 1);
	(void)munmap(ctl, sizeof(*ctl));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_create_is_sealed_and_sized, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty_before_first_publish, setup, teardown),
		cmocka_unit_test_setup_teardown(test_readonly_mapping_cannot_be_made_writable, setup, teardown),
		cmocka_unit_test(test_map_rejects_foreign_fds),
		cmocka_unit_test_setup_teardown(test_round_trip_and_generations, setup, teardown),
		cmocka_unit_test_setup_teardown(test_full_set_round_trips, setup, teardown),
		cmocka_unit_test_setup_teardown(test_publish_refuses_out_of_bounds_sets, setup, teardown),
		cmocka_unit_test_setup_teardown(test_second_writer_mapping_continues, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flipped_payload_byte_is_corrupt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_out_of_bounds_set_with_good_checksum_is_corrupt, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_bad_header_is_corrupt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_writer_killed_mid_write, setup, teardown),
		cmocka_unit_test_setup_teardown(test_find, setup, teardown),
		cmocka_unit_test_setup_teardown(test_torn_reads_against_forked_writer, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
