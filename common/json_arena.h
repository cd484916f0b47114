/*
 * json_arena: a bump allocator for cJSON in a process that parses one small
 * document per request.
 *
 * cJSON allocates every node, member name and string separately, and a
 * request's tree is freed before the next request is read.  With the arena
 * installed those allocations come from one static block that is rewound
 * when the last of them is freed; an allocation that does not fit falls back
 * to malloc, so a large or long-lived tree still works, only slower.  Single
 * threaded by design (a worker is one thread).
 */
#ifndef MCPD_COMMON_JSON_ARENA_H
#define MCPD_COMMON_JSON_ARENA_H

#include <stddef.h>

#define JSON_ARENA_BYTES (32 * 1024)

/** Makes cJSON allocate from the arena for the rest of the process. */
void json_arena_install(void);
/** Arena allocations not yet freed (for tests). */
size_t json_arena_live(void);
/** Bytes of the arena in use (for tests). */
size_t json_arena_used(void);

#endif
