/*
 * arena.h — a per-request bump allocator.
 *
 * Everything a handler allocates from its request's arena is freed at once
 * when the request ends, so early returns never leak.  The first block is
 * kept across resets, so a request that fits in it costs no malloc.  A
 * limit caps the total bytes; past it allocations return NULL.
 */
#ifndef UWEB_ARENA_H
#define UWEB_ARENA_H

#include <stddef.h>

typedef struct uw_arena_block uw_arena_block;
typedef struct uw_arena {
    uw_arena_block *head;   /* current block; older ones follow */
    size_t used;            /* bytes used in head */
    size_t block_size;      /* default size of a new block */
    size_t total, limit;    /* bytes in blocks, cap (0: none) */
} uw_arena;

void uw_arena_init(uw_arena *a, size_t block_size, size_t limit);
/* 16-byte aligned memory, or NULL when out of memory or past the limit. */
void *uw_arena_alloc(uw_arena *a, size_t n);
/* A NUL-terminated copy of s[0..n). */
char *uw_arena_strndup(uw_arena *a, const char *s, size_t n);
/* printf into the arena. */
char *uw_arena_printf(uw_arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Frees every block but the first and empties it. */
void uw_arena_reset(uw_arena *a);
/* Frees everything. */
void uw_arena_fini(uw_arena *a);

#endif
