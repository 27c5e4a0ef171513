/*
 * malloc.c - the guest heap (contracts: stdlib.h).
 *
 * Boundary-tag chunks in segregated free lists, over the one region the
 * start info gives (uwc_heap_init).  A chunk is an 8-byte header (size |
 * flags) followed by the payload, 16-byte aligned; a free chunk also
 * keeps its list links in the payload and its size in its last 8 bytes
 * (the footer), so free() merges with both neighbours in O(1).  No two
 * free chunks are ever adjacent.  Bins: exact 16-byte classes below
 * 1 KiB, then four bins per power of two; a bitmap finds the next
 * non-empty bin.  A sentinel header marks the end of the heap.
 *
 * Small chunks (up to QUICK_MAX bytes) freed go first to a per-size
 * "quick list" (at most QUICK_CAP each) without merging, and malloc of
 * that size takes them back in O(1), as most allocations are small and
 * short-lived.  They still count as in use for their neighbours; when a
 * request finds no fit, the quick lists are emptied into the bins
 * (merging) and the search is tried again, so nothing is lost to them.
 */
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include "uw_platform.h"
#include "guest.h"

#define INUSE 1ul
#define PREV_INUSE 2ul
#define QUICK 4ul              /* in a quick list (INUSE stays set) */
#define QUICK_MAX 1024ul
#define QUICK_CAP 64
#define FLAGS 15ul
#define HEADER 8ul
#define MIN_CHUNK 32ul
#define NBINS 256

struct chunk {
    size_t head;               /* size | INUSE | PREV_INUSE */
    struct chunk *next, *prev; /* free chunks only */
};

static struct chunk *bins[NBINS];
static uint64_t bitmap[NBINS / 64];
static uintptr_t heap_lo, heap_end;  /* first chunk, sentinel header */
static struct chunk *quick[QUICK_MAX / 16 + 1];   /* linked through ->next */
static unsigned quick_count[QUICK_MAX / 16 + 1];

static size_t csize(const struct chunk *c) { return c->head & ~FLAGS; }
static struct chunk *at(uintptr_t a) { return (struct chunk *)a; }
static struct chunk *next_of(struct chunk *c) { return at((uintptr_t)c + csize(c)); }
static void set_footer(struct chunk *c, size_t size) { *(size_t *)((uintptr_t)c + size - 8) = size; }

static unsigned bin_of(size_t size)
{
    if (size < 1024)
        return (unsigned)(size >> 4);
    unsigned log = 63u - (unsigned)__builtin_clzl(size);
    unsigned b = 64 + (log - 10) * 4 + (unsigned)((size >> (log - 2)) & 3);
    return b < NBINS ? b : NBINS - 1;
}

static void bin_insert(struct chunk *c)
{
    unsigned b = bin_of(csize(c));
    c->prev = NULL;
    c->next = bins[b];
    if (c->next)
        c->next->prev = c;
    bins[b] = c;
    bitmap[b / 64] |= 1ull << (b % 64);
}

static void bin_remove(struct chunk *c)
{
    unsigned b = bin_of(csize(c));
    if (c->prev)
        c->prev->next = c->next;
    else
        bins[b] = c->next;
    if (c->next)
        c->next->prev = c->prev;
    if (!bins[b])
        bitmap[b / 64] &= ~(1ull << (b % 64));
}

/* First non-empty bin at or after B, or NBINS. */
static unsigned bin_next(unsigned b)
{
    for (unsigned w = b / 64; w < NBINS / 64; w++) {
        uint64_t bits = bitmap[w];
        if (w == b / 64)
            bits &= ~0ull << (b % 64);
        if (bits)
            return w * 64 + (unsigned)__builtin_ctzll(bits);
    }
    return NBINS;
}

static void heap_corrupt(const char *what, const void *p)
{
    fprintf(stderr, "uweb guest: %s (%p): heap corrupted or bad pointer\n", what, p);
    uw_plat_abort();
}

size_t uwc_heap_size(void)
{
    return heap_end > heap_lo ? (size_t)(heap_end - heap_lo) : 0;
}

void uwc_heap_init(void *start, size_t size)
{
    uintptr_t lo = ((uintptr_t)start + HEADER + 15) / 16 * 16 - HEADER;
    uintptr_t top = (uintptr_t)start + size;
    memset(bins, 0, sizeof bins);
    memset(bitmap, 0, sizeof bitmap);
    memset(quick, 0, sizeof quick);
    memset(quick_count, 0, sizeof quick_count);
    heap_lo = heap_end = 0;
    if (top < (uintptr_t)start || top < lo + MIN_CHUNK + 16 + HEADER)
        return;
    uintptr_t end = (top - 2 * HEADER) / 16 * 16 + HEADER;   /* sentinel, fits below top */
    struct chunk *c = at(lo);
    c->head = (end - lo) | PREV_INUSE;
    set_footer(c, end - lo);
    at(end)->head = INUSE;
    heap_lo = lo;
    heap_end = end;
    bin_insert(c);
}

/* Chunk size for a request of N bytes, or 0 if it cannot fit. */
static size_t request_size(size_t n)
{
    if (n > heap_end - heap_lo)
        return 0;
    size_t s = (n + HEADER + 15) & ~(size_t)15;
    return s < MIN_CHUNK ? MIN_CHUNK : s;
}

/* Marks C (free, unlinked) in use at SIZE bytes, freeing what is left. */
static void take(struct chunk *c, size_t size)
{
    size_t have = csize(c);
    size_t prev = c->head & PREV_INUSE;
    if (have - size >= MIN_CHUNK) {
        struct chunk *rest = at((uintptr_t)c + size);
        rest->head = (have - size) | PREV_INUSE;
        set_footer(rest, have - size);
        bin_insert(rest);
        c->head = size | INUSE | prev;
    } else {
        c->head = have | INUSE | prev;
        next_of(c)->head |= PREV_INUSE;
    }
}

static void release(struct chunk *c);

/* Empties every quick list into the bins, merging neighbours. */
static void quick_flush(void)
{
    for (size_t q = 0; q <= QUICK_MAX / 16; q++) {
        while (quick[q]) {
            struct chunk *c = quick[q];
            quick[q] = c->next;
            c->head &= ~QUICK;
            release(c);
        }
        quick_count[q] = 0;
    }
}

/* A free chunk of at least SIZE bytes from the bins, unlinked, or NULL. */
static struct chunk *bin_search(size_t size)
{
    unsigned b = bin_of(size);
    struct chunk *c = NULL;
    if (b >= 64) {   /* ranged bin: first fit */
        for (c = bins[b]; c && csize(c) < size; c = c->next)
            ;
        if (!c)
            b++;
    }
    if (!c) {
        b = bin_next(b);
        if (b == NBINS)
            return NULL;
        c = bins[b];
    }
    bin_remove(c);
    return c;
}

void *malloc(size_t n)
{
    size_t size = request_size(n);
    if (!size) {
        errno = ENOMEM;
        return NULL;
    }
    if (size <= QUICK_MAX && quick[size / 16]) {
        struct chunk *c = quick[size / 16];
        quick[size / 16] = c->next;
        quick_count[size / 16]--;
        c->head &= ~QUICK;
        return (char *)c + HEADER;
    }
    struct chunk *c = bin_search(size);
    if (!c) {
        quick_flush();
        c = bin_search(size);
        if (!c) {
            errno = ENOMEM;
            return NULL;
        }
    }
    take(c, size);
    return (char *)c + HEADER;
}

static struct chunk *checked_chunk(void *p, const char *what)
{
    uintptr_t a = (uintptr_t)p - HEADER;
    struct chunk *c = at(a);
    if (a < heap_lo || a >= heap_end || (a & 15) != HEADER || !(c->head & INUSE)
        || (c->head & QUICK) || csize(c) < MIN_CHUNK || csize(c) > heap_end - a
        || !(next_of(c)->head & PREV_INUSE))
        heap_corrupt(what, p);
    return c;
}

void free(void *p)
{
    if (!p)
        return;
    struct chunk *c = checked_chunk(p, "free");
    size_t size = csize(c);
    if (size <= QUICK_MAX && quick_count[size / 16] < QUICK_CAP) {
        c->head |= QUICK;
        c->next = quick[size / 16];
        quick[size / 16] = c;
        quick_count[size / 16]++;
        return;
    }
    release(c);
}

/* Returns in-use chunk C to the bins, merged with free neighbours. */
static void release(struct chunk *c)
{
    size_t size = csize(c);
    struct chunk *n = next_of(c);
    if (!(n->head & INUSE)) {
        bin_remove(n);
        size += csize(n);
    }
    if (!(c->head & PREV_INUSE)) {
        size_t psize = *(size_t *)((uintptr_t)c - 8);
        struct chunk *pc = at((uintptr_t)c - psize);
        bin_remove(pc);
        size += psize;
        c = pc;
    }
    c->head = size | PREV_INUSE;
    set_footer(c, size);
    next_of(c)->head &= ~PREV_INUSE;
    bin_insert(c);
}

/* Shrinks in-use chunk C to SIZE, freeing the tail if it is big enough. */
static void trim(struct chunk *c, size_t size)
{
    size_t have = csize(c);
    if (have - size < MIN_CHUNK)
        return;
    struct chunk *rest = at((uintptr_t)c + size);
    rest->head = (have - size) | INUSE | PREV_INUSE;
    c->head = size | (c->head & FLAGS);
    free((char *)rest + HEADER);
}

void *realloc(void *p, size_t n)
{
    if (!p)
        return malloc(n);
    if (n == 0) {
        free(p);
        return NULL;
    }
    struct chunk *c = checked_chunk(p, "realloc");
    size_t size = request_size(n);
    if (!size) {
        errno = ENOMEM;
        return NULL;
    }
    if (csize(c) >= size) {
        trim(c, size);
        return p;
    }
    struct chunk *nx = next_of(c);
    if (!(nx->head & INUSE) && csize(c) + csize(nx) >= size) {
        bin_remove(nx);
        c->head += csize(nx);
        next_of(c)->head |= PREV_INUSE;
        trim(c, size);
        return p;
    }
    void *q = malloc(n);
    if (!q)
        return NULL;
    memcpy(q, p, csize(c) - HEADER);
    free(p);
    return q;
}

void *calloc(size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size) {
        errno = ENOMEM;
        return NULL;
    }
    void *p = malloc(count * size);
    return p ? memset(p, 0, count * size) : NULL;
}

int posix_memalign(void **out, size_t align, size_t n)
{
    if (align < sizeof(void *) || (align & (align - 1)))
        return EINVAL;
    if (align <= 16) {
        *out = malloc(n);
        return *out ? 0 : ENOMEM;
    }
    size_t size = request_size(n);
    if (!size || n > SIZE_MAX - align - MIN_CHUNK)
        return ENOMEM;
    char *p = malloc(n + align + MIN_CHUNK);
    if (!p)
        return ENOMEM;
    struct chunk *c = at((uintptr_t)p - HEADER);
    if ((uintptr_t)p % align) {
        uintptr_t a = ((uintptr_t)p + MIN_CHUNK + align - 1) / align * align;
        struct chunk *nc = at(a - HEADER);
        size_t lead = (uintptr_t)nc - (uintptr_t)c;
        nc->head = (csize(c) - lead) | INUSE | PREV_INUSE;
        c->head = lead | (c->head & FLAGS);
        free(p);
        c = nc;
        p = (char *)a;
    }
    trim(c, size);
    *out = p;
    return 0;
}

void *aligned_alloc(size_t align, size_t n)
{
    void *p;
    int e = posix_memalign(&p, align, n);
    if (e) {
        errno = e;
        return NULL;
    }
    return p;
}

size_t malloc_usable_size(void *p)
{
    return p ? csize(checked_chunk(p, "malloc_usable_size")) - HEADER : 0;
}
