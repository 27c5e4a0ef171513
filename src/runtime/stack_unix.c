/*
 * Stacks on unix: anonymous mappings with a PROT_NONE guard page below, so
 * an overflow faults instead of corrupting a neighbour.  Freed stacks of
 * the default size are kept in a small cache: a connection task per request
 * then costs no mmap/munmap.
 */
#include "stack.h"
#include <sys/mman.h>
#include <unistd.h>

#define CACHE_MAX 64

static struct { void *map[CACHE_MAX]; size_t size[CACHE_MAX]; int n; } cache;

static size_t page_size(void)
{
    static size_t ps;
    if (!ps) ps = (size_t)sysconf(_SC_PAGESIZE);
    return ps;
}

int uw_stack_alloc(uw_stack *s, size_t size)
{
    size_t ps = page_size();
    size = (size + ps - 1) & ~(ps - 1);
    for (int i = cache.n - 1; i >= 0; i--) {
        if (cache.size[i] == size) {
            s->base = (char *)cache.map[i] + ps;
            s->size = size;
            cache.map[i] = cache.map[cache.n - 1];
            cache.size[i] = cache.size[cache.n - 1];
            cache.n--;
            return 0;
        }
    }
    void *m = mmap(NULL, size + ps, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m == MAP_FAILED) return -1;
    if (mprotect(m, ps, PROT_NONE) != 0) {
        munmap(m, size + ps);
        return -1;
    }
    s->base = (char *)m + ps;
    s->size = size;
    return 0;
}

void uw_stack_free(uw_stack *s)
{
    if (!s->base) return;
    size_t ps = page_size();
    void *m = (char *)s->base - ps;
    if (cache.n < CACHE_MAX) {
        cache.map[cache.n] = m;
        cache.size[cache.n] = s->size;
        cache.n++;
    } else {
        munmap(m, s->size + ps);
    }
    s->base = NULL;
}

void uw_stack_cache_drain(void)
{
    size_t ps = page_size();
    while (cache.n > 0) {
        cache.n--;
        munmap(cache.map[cache.n], cache.size[cache.n] + ps);
    }
}
