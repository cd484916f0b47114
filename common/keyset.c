/* Runs in: the supervisor (creates), the fetcher (publishes), workers (read, in the sandbox). */
#define _GNU_SOURCE	/* memfd_create, F_ADD_SEALS */
/*
 * keyset: the shared key-set region (layout, writer, reader).
 *
 * The region is one sealed memfd:
 *
 *	header	magic, layout version, active slot index, generation
 *	slot 0	sequence, generation, checksum, struct keyset
 *	slot 1	the same
 *
 * The writer (the JWKS fetcher, one process at a time) fills the slot that is
 * not active under its own sequence number, then switches the index.  A
 * reader copies the active slot between two reads of its sequence (a
 * seqlock), so it never blocks the writer; the checksum catches what the
 * sequence cannot (a stray write, a bug, a half-written slot after a crash
 * that somehow became active).  Everything is fixed-size and position
 * independent: the processes map the region at different addresses.
 *
 * sodium_init() is called by keyset_region_create() and keyset_map(); it is
 * idempotent, and calling it there (before any sandbox) means the other
 * functions never touch the file system.
 */
#include "common/keyset.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#define KEYSET_MAGIC 0x4b44504dU	/* "MPDK" little-endian */
#define KEYSET_LAYOUT_VERSION 1U
#define KEYSET_CHECKSUM_LEN crypto_generichash_BYTES
/* Torn reads in a row before giving up; a live writer needs ~1 to clear. */
#define KEYSET_READ_TRIES 16
#define KEYSET_SEALS (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL)

/*
 * The atomics live in memory shared between processes, which is only sound
 * when they are lock-free (an address-based lock table is per process).
 */
_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "atomic int must be lock-free");
_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2, "atomic 64-bit integers must be lock-free");

struct keyset_header {
	uint32_t magic;
	uint32_t version;
	_Atomic uint32_t active;	/* 0 or 1 */
	uint32_t reserved;
	_Atomic uint64_t generation;	/* of the active slot; 0 = never published */
};

struct keyset_slot {
	/* 0 = never written, odd = being written, even = complete. */
	_Atomic uint64_t seq;
	uint64_t generation;		/* covered by seq and checksum */
	uint8_t checksum[KEYSET_CHECKSUM_LEN];
	struct keyset payload;
};

struct keyset_region {
	struct keyset_header hdr;
	struct keyset_slot slot[2];
};

/* What one attempt at reading the active slot saw. */
enum keyset_try {
	KEYSET_TRY_OK,
	KEYSET_TRY_EMPTY,
	KEYSET_TRY_CORRUPT,
	KEYSET_TRY_TORN,	/* a writer was (or is) in the slot: read again */
};

size_t
keyset_region_size(void)
{
	return sizeof(struct keyset_region);
}

/* Hashes the slot's generation and payload, which is what a reader trusts. */
static void
slot_checksum(uint64_t generation, const struct keyset *ks, uint8_t out[KEYSET_CHECKSUM_LEN])
{
	crypto_generichash_state st;
	uint8_t gen[8];

	for (int i = 0; i < 8; i++)
		gen[i] = (uint8_t)(generation >> (8 * i));
	/* With the default output length and no key these calls cannot fail. */
	(void)crypto_generichash_init(&st, NULL, 0, KEYSET_CHECKSUM_LEN);
	(void)crypto_generichash_update(&st, gen, sizeof(gen));
	(void)crypto_generichash_update(&st, (const unsigned char *)ks, sizeof(*ks));
	(void)crypto_generichash_final(&st, out, KEYSET_CHECKSUM_LEN);
}

static bool
terminated(const char *s, size_t size)
{
	return memchr(s, '\0', size) != NULL;
}

/* The bounds a verifier relies on: a set failing them is never handed out. */
static bool
keyset_valid(const struct keyset *ks)
{
	if (ks->nkeys > KEYSET_MAX_KEYS || !terminated(ks->issuer, sizeof(ks->issuer)))
		return false;
	for (uint32_t i = 0; i < ks->nkeys; i++) {
		const struct keyset_key *k = &ks->keys[i];

		if (!terminated(k->kid, sizeof(k->kid)) || k->n_len > KEYSET_MODULUS_MAX ||
		    k->e_len > KEYSET_EXPONENT_MAX)
			return false;
	}
	return true;
}

static bool
header_valid(const struct keyset_region *r)
{
	return r->hdr.magic == KEYSET_MAGIC && r->hdr.version == KEYSET_LAYOUT_VERSION;
}

/*
 * The mapping stays valid only while the file cannot shrink; a region
 * without the seals (or of the wrong size) is not one of ours.
 */
static int
check_memfd(int fd)
{
	struct stat st;
	int seals;

	if (fstat(fd, &st) == -1)
		return -1;
	seals = fcntl(fd, F_GET_SEALS);
	if (seals == -1)
		return -1;
	if ((seals & KEYSET_SEALS) != KEYSET_SEALS || st.st_size != (off_t)keyset_region_size()) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

static struct keyset_region *
map_fd(int fd, int prot)
{
	void *p;

	p = mmap(NULL, keyset_region_size(), prot, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return NULL;
	return p;
}

static int
init_header(int fd)
{
	struct keyset_region *r;

	r = map_fd(fd, PROT_READ | PROT_WRITE);
	if (r == NULL)
		return -1;
	/* The slots are already zero (ftruncate), i.e. never written. */
	r->hdr.magic = KEYSET_MAGIC;
	r->hdr.version = KEYSET_LAYOUT_VERSION;
	atomic_store_explicit(&r->hdr.active, 0, memory_order_relaxed);
	atomic_store_explicit(&r->hdr.generation, 0, memory_order_release);
	if (munmap(r, keyset_region_size()) == -1)
		return -1;
	return 0;
}

int
keyset_region_create(void)
{
	int fd, saved;

	if (sodium_init() < 0) {
		errno = EIO;
		return -1;
	}
	fd = memfd_create("mcpd-keyset", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd == -1)
		return -1;
	if (ftruncate(fd, (off_t)keyset_region_size()) == -1)
		goto fail;
	/* Fixed size from here on: no mapping can ever fault with SIGBUS. */
	if (fcntl(fd, F_ADD_SEALS, KEYSET_SEALS) == -1)
		goto fail;
	if (init_header(fd) == -1)
		goto fail;
	return fd;
fail:
	saved = errno;
	(void)close(fd);
	errno = saved;
	return -1;
}

/*
 * A read-only mapping comes from a fresh O_RDONLY open of the memfd: a
 * mapping made from that fd can never be upgraded by mprotect(PROT_WRITE),
 * which it could if it came from the original read-write fd.
 */
static struct keyset_region *
map_readonly(int fd)
{
	struct keyset_region *r;
	char path[64];
	int rofd, saved;

	if (snprintf(path, sizeof(path), "/proc/self/fd/%d", fd) >= (int)sizeof(path)) {
		errno = EINVAL;
		return NULL;
	}
	rofd = open(path, O_RDONLY | O_CLOEXEC);
	if (rofd == -1)
		return NULL;
	r = check_memfd(rofd) == -1 ? NULL : map_fd(rofd, PROT_READ);
	saved = errno;
	(void)close(rofd);
	errno = saved;
	return r;
}

struct keyset_region *
keyset_map(int fd, bool writable)
{
	struct keyset_region *r;

	if (fd < 0) {
		errno = EBADF;
		return NULL;
	}
	if (sodium_init() < 0) {
		errno = EIO;
		return NULL;
	}
	if (writable)
		r = check_memfd(fd) == -1 ? NULL : map_fd(fd, PROT_READ | PROT_WRITE);
	else
		r = map_readonly(fd);
	if (r == NULL)
		return NULL;
	if (!header_valid(r)) {
		keyset_unmap(r);
		errno = EINVAL;
		return NULL;
	}
	return r;
}

void
keyset_unmap(struct keyset_region *r)
{
	int saved = errno;

	if (r != NULL)
		(void)munmap(r, keyset_region_size());
	errno = saved;
}

uint64_t
keyset_publish(struct keyset_region *r, const struct keyset *ks)
{
	uint32_t target;
	uint64_t seq, generation;
	struct keyset_slot *slot;

	if (!keyset_valid(ks))
		return 0;
	/* Single writer: nobody else changes the index or the generation. */
	target = 1 - (atomic_load_explicit(&r->hdr.active, memory_order_relaxed) & 1);
	generation = atomic_load_explicit(&r->hdr.generation, memory_order_relaxed) + 1;
	slot = &r->slot[target];

	/*
	 * Odd first.  A writer killed mid-write left the slot odd: step over
	 * to the next odd value so readers that saw the old one still retry.
	 */
	seq = (atomic_load_explicit(&slot->seq, memory_order_relaxed) + 1) | 1;
	atomic_store_explicit(&slot->seq, seq, memory_order_relaxed);
	/* No payload store may become visible before the odd sequence. */
	atomic_thread_fence(memory_order_release);
	slot->generation = generation;
	memcpy(&slot->payload, ks, sizeof(*ks));
	slot_checksum(generation, ks, slot->checksum);
	/* Even again: the payload is complete before anyone can see this. */
	atomic_store_explicit(&slot->seq, seq + 1, memory_order_release);

	/* Index before generation: a reader that sees the new generation sees the new slot. */
	atomic_store_explicit(&r->hdr.active, target, memory_order_release);
	atomic_store_explicit(&r->hdr.generation, generation, memory_order_release);
	return generation;
}

uint64_t
keyset_generation(const struct keyset_region *r)
{
	return atomic_load_explicit(&r->hdr.generation, memory_order_acquire);
}

/*
 * One seqlock read of the active slot.  The copies race with a writer that
 * re-enters the slot (it must have published twice since we loaded the
 * index): a formal data race, by design.  The second sequence read throws
 * such a copy away, and the checksum backs it up.  ThreadSanitizer reports
 * this function; suppress it there rather than "fixing" it with a lock the
 * writer would have to wait for.
 */
static enum keyset_try
keyset_try_read(const struct keyset_region *r, struct keyset *out, uint64_t *generation)
{
	const struct keyset_slot *slot;
	uint8_t stored[KEYSET_CHECKSUM_LEN], computed[KEYSET_CHECKSUM_LEN];
	uint64_t seq1, seq2, gen;
	uint32_t active;

	if (!header_valid(r))
		return KEYSET_TRY_CORRUPT;
	active = atomic_load_explicit(&r->hdr.active, memory_order_acquire);
	if (active > 1)
		return KEYSET_TRY_CORRUPT;
	slot = &r->slot[active];
	seq1 = atomic_load_explicit(&slot->seq, memory_order_acquire);
	if (seq1 == 0)
		return KEYSET_TRY_EMPTY;
	if (seq1 & 1)
		return KEYSET_TRY_TORN;
	gen = slot->generation;
	memcpy(stored, slot->checksum, sizeof(stored));
	memcpy(out, &slot->payload, sizeof(*out));
	/* The copies' loads complete before the sequence is read again. */
	atomic_thread_fence(memory_order_acquire);
	seq2 = atomic_load_explicit(&slot->seq, memory_order_relaxed);
	if (seq2 != seq1 || atomic_load_explicit(&r->hdr.active, memory_order_relaxed) != active)
		return KEYSET_TRY_TORN;

	/* A stable copy: it must also be the one the writer hashed. */
	slot_checksum(gen, out, computed);
	if (sodium_memcmp(computed, stored, sizeof(stored)) != 0 || !keyset_valid(out))
		return KEYSET_TRY_CORRUPT;
	*generation = gen;
	return KEYSET_TRY_OK;
}

enum keyset_read
keyset_snapshot(const struct keyset_region *r, struct keyset *out, uint64_t *generation)
{
	uint64_t gen = 0;

	for (int i = 0; i < KEYSET_READ_TRIES; i++) {
		switch (keyset_try_read(r, out, &gen)) {
		case KEYSET_TRY_OK:
			if (generation != NULL)
				*generation = gen;
			return KEYSET_OK;
		case KEYSET_TRY_EMPTY:
			return KEYSET_EMPTY;
		case KEYSET_TRY_CORRUPT:
			return KEYSET_CORRUPT;
		case KEYSET_TRY_TORN:
			break;
		}
	}
	return KEYSET_BUSY;
}

const struct keyset_key *
keyset_find(const struct keyset *ks, const char *kid, size_t kid_len)
{
	uint32_t n = ks->nkeys < KEYSET_MAX_KEYS ? ks->nkeys : KEYSET_MAX_KEYS;

	if (kid == NULL || kid_len == 0 || kid_len >= KEYSET_KID_MAX)
		return NULL;
	for (uint32_t i = 0; i < n; i++) {
		const struct keyset_key *k = &ks->keys[i];

		/* Length first: a kid with an embedded NUL must not match its prefix. */
		if (strnlen(k->kid, sizeof(k->kid)) == kid_len && memcmp(k->kid, kid, kid_len) == 0)
			return k;
	}
	return NULL;
}
