/* Runs in: workers, one arena per request, after the sandbox. */
#include "common/json_arena.h"

#include <stdalign.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cJSON.h>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
/* Freed arena memory stays poisoned, so AddressSanitizer still sees a use after free. */
#define ARENA_POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define ARENA_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define ARENA_POISON(p, n) do { (void)(p); (void)(n); } while (0)
#define ARENA_UNPOISON(p, n) do { (void)(p); (void)(n); } while (0)
#endif

#define ARENA_ALIGN alignof(max_align_t)

static struct {
	alignas(max_align_t) unsigned char data[JSON_ARENA_BYTES];
	size_t used;	/* bytes handed out since the last rewind */
	size_t live;	/* of those, not yet freed */
} arena;

static bool
in_arena(const void *p)
{
	uintptr_t a = (uintptr_t)p, start = (uintptr_t)arena.data;

	return a >= start && a < start + sizeof(arena.data);
}

static void *
arena_malloc(size_t n)
{
	size_t size = (n + ARENA_ALIGN - 1) & ~(ARENA_ALIGN - 1);
	void *p;

	if (n == 0 || size < n || size > sizeof(arena.data) - arena.used)
		return malloc(n);
	p = arena.data + arena.used;
	arena.used += size;
	arena.live++;
	ARENA_UNPOISON(p, n);
	return p;
}

static void
arena_free(void *p)
{
	if (!in_arena(p)) {
		free(p);
		return;
	}
	/* Nothing is returned piecemeal: the block is rewound when it is all free. */
	if (--arena.live == 0) {
		arena.used = 0;
		ARENA_POISON(arena.data, sizeof(arena.data));
	}
}

void
json_arena_install(void)
{
	cJSON_Hooks hooks = {.malloc_fn = arena_malloc, .free_fn = arena_free};

	ARENA_POISON(arena.data, sizeof(arena.data));
	cJSON_InitHooks(&hooks);
}

size_t
json_arena_live(void)
{
	return arena.live;
}

size_t
json_arena_used(void)
{
	return arena.used;
}
