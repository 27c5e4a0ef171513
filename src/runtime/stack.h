/* Task stacks: allocation is target-specific (stack_unix.c: mmap with a
 * guard page and a small cache of free stacks). */
#ifndef UWEB_RUNTIME_STACK_H
#define UWEB_RUNTIME_STACK_H
#include <stddef.h>

typedef struct uw_stack {
    void *base;      /* lowest usable address */
    size_t size;     /* usable bytes */
} uw_stack;

int uw_stack_alloc(uw_stack *s, size_t size);
void uw_stack_free(uw_stack *s);
void uw_stack_cache_drain(void);

#endif
