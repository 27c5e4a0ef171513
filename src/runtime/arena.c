#include <uweb/arena.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct uw_arena_block {
    uw_arena_block *next;
    size_t size;
    _Alignas(16) unsigned char data[];
};

void uw_arena_init(uw_arena *a, size_t block_size, size_t limit)
{
    memset(a, 0, sizeof *a);
    a->block_size = block_size ? block_size : 4096;
    a->limit = limit;
}

void *uw_arena_alloc(uw_arena *a, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    if (n == 0) n = 16;
    if (a->head && a->head->size - a->used >= n) {
        void *p = a->head->data + a->used;
        a->used += n;
        return p;
    }
    size_t size = n > a->block_size ? n : a->block_size;
    if (a->limit && a->total + size > a->limit) return NULL;
    uw_arena_block *b = malloc(sizeof *b + size);
    if (!b) return NULL;
    b->size = size;
    a->total += size;
    if (a->head && n > a->block_size) {
        /* An oversized allocation gets its own block behind the current
         * one, so the current block's free space stays usable. */
        b->next = a->head->next;
        a->head->next = b;
        return b->data;
    }
    b->next = a->head;
    a->head = b;
    a->used = n;
    return b->data;
}

char *uw_arena_strndup(uw_arena *a, const char *s, size_t n)
{
    char *p = uw_arena_alloc(a, n + 1);
    if (!p) return NULL;
    memcpy(p, s, n);
    p[n] = 0;
    return p;
}

char *uw_arena_printf(uw_arena *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) return NULL;
    char *p = uw_arena_alloc(a, (size_t)n + 1);
    if (!p) return NULL;
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

void uw_arena_reset(uw_arena *a)
{
    if (!a->head) return;
    /* Keep the oldest block (the first one allocated) of default size. */
    uw_arena_block *keep = NULL;
    uw_arena_block *b = a->head;
    while (b) {
        uw_arena_block *next = b->next;
        if (!next && b->size == a->block_size) keep = b;
        else free(b);
        b = next;
    }
    a->head = keep;
    if (keep) keep->next = NULL;
    a->total = keep ? keep->size : 0;
    a->used = 0;
}

void uw_arena_fini(uw_arena *a)
{
    uw_arena_block *b = a->head;
    while (b) {
        uw_arena_block *next = b->next;
        free(b);
        b = next;
    }
    a->head = NULL;
    a->used = a->total = 0;
}
