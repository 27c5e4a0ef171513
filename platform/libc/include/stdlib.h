/*
 * stdlib.h - allocation, conversions and process end for uweb guests.
 *
 * The heap is the start info's heap (platform/guest/start.c sets it up
 * before main).  malloc/calloc/realloc return NULL with errno ENOMEM when
 * it is used up, never abort.  free of a pointer malloc did not return,
 * or a double free, is detected where cheap and aborts the guest (that is
 * a programming error, not bad input).
 */
#ifndef UWC_STDLIB_H
#define UWC_STDLIB_H
#include <stddef.h>

#define EXIT_SUCCESS 0
#define EXIT_FAILURE 1
#define RAND_MAX 0x7fffffff

void *malloc(size_t size);
void *calloc(size_t count, size_t size);
void *realloc(void *ptr, size_t size);
void free(void *ptr);
/* ALIGN a power of two >= sizeof(void *); 0 or EINVAL/ENOMEM. */
int posix_memalign(void **out, size_t align, size_t size);
void *aligned_alloc(size_t align, size_t size);
/* Bytes usable at PTR (at least what was asked for). */
size_t malloc_usable_size(void *ptr);

void abort(void) __attribute__((noreturn));
void exit(int status) __attribute__((noreturn));
void _Exit(int status) __attribute__((noreturn));
char *getenv(const char *name);   /* always NULL: guests have no environment */

int abs(int x);
long labs(long x);
long long llabs(long long x);
int atoi(const char *s);
long atol(const char *s);
long strtol(const char *s, char **end, int base);
long long strtoll(const char *s, char **end, int base);
unsigned long strtoul(const char *s, char **end, int base);
unsigned long long strtoull(const char *s, char **end, int base);
void qsort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *));
void *bsearch(const void *key, const void *base, size_t n, size_t size,
              int (*cmp)(const void *, const void *));
int rand(void);
void srand(unsigned seed);

#endif
