/*
 * Stacks on the unikernels: blocks from the guest heap.  There is no
 * memory protection to build a guard page from; a task that needs more
 * than its stack is a bug the stack size given to uw_spawn must prevent.
 * Freed stacks of the most common sizes are kept in a small cache, as on
 * unix, so a connection task per request costs no allocation.
 */
#include "stack.h"

#include <stdlib.h>

#define CACHE_MAX 64

static struct { void *base[CACHE_MAX]; size_t size[CACHE_MAX]; int n; } cache;

int uw_stack_alloc(uw_stack *s, size_t size)
{
    size = (size + 15) & ~(size_t)15;
    for (int i = cache.n - 1; i >= 0; i--) {
        if (cache.size[i] == size) {
            s->base = cache.base[i];
            s->size = size;
            cache.base[i] = cache.base[cache.n - 1];
            cache.size[i] = cache.size[cache.n - 1];
            cache.n--;
            return 0;
        }
    }
    void *m = NULL;
    if (posix_memalign(&m, 16, size) != 0) return -1;
    s->base = m;
    s->size = size;
    return 0;
}

void uw_stack_free(uw_stack *s)
{
    if (!s->base) return;
    if (cache.n < CACHE_MAX) {
        cache.base[cache.n] = s->base;
        cache.size[cache.n] = s->size;
        cache.n++;
    } else {
        free(s->base);
    }
    s->base = NULL;
}

void uw_stack_cache_drain(void)
{
    while (cache.n > 0) {
        cache.n--;
        free(cache.base[cache.n]);
    }
}
