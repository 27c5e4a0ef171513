/*
 * libc_bench.c - the guest libc against glibc: the same source is built
 * as an spt unikernel (guest libc) and as a host program (glibc), and
 * bench/platform.sh prints the ratio of each figure.  Prints one line per
 * figure: "NAME NS_PER_OP".  argv[1] scales the work (default 1).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "uw_platform.h"

UW_PLAT_MANIFEST();

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void report(const char *name, uint64_t start, long ops)
{
    /* Integer arithmetic: the guest's printf has no %f. */
    unsigned long long centi = (unsigned long long)(now_ns() - start) * 100ull / (unsigned long long)ops;
    printf("%s %llu.%02llu\n", name, centi / 100, centi % 100);
}

/* Called through volatile pointers so the compiler cannot inline or drop them. */
static void *(*volatile copy)(void *, const void *, size_t) = memcpy;
static int (*volatile format)(char *, size_t, const char *, ...) = snprintf;
static size_t (*volatile length)(const char *) = strlen;

int main(int argc, char **argv)
{
    long scale = argc > 1 ? strtol(argv[1], NULL, 10) : 1;
    static void *slot[1024];
    static char src[65536], dst[65536], line[64];
    unsigned x = 1;
    long n;
    uint64_t t;
    volatile size_t sink = 0;

    memset(src, 'a', sizeof src - 1);
    n = 2000000 * scale;
    t = now_ns();
    for (long i = 0; i < n; i++) {
        x = x * 1103515245u + 12345u;
        unsigned k = (x >> 8) % 1024;
        free(slot[k]);
        slot[k] = malloc(16 + (x >> 20) % 1024);
    }
    report("malloc+free_16-1040B", t, n);
    for (int i = 0; i < 1024; i++)
        free(slot[i]);

    n = 10000000 * scale;
    t = now_ns();
    for (long i = 0; i < n; i++)
        copy(dst + (i & 7), src, 64);
    report("memcpy_64B", t, n);

    n = 20000 * scale;
    t = now_ns();
    for (long i = 0; i < n; i++)
        copy(dst, src, sizeof dst);
    report("memcpy_64KiB", t, n);

    src[100] = 0;
    n = 10000000 * scale;
    t = now_ns();
    for (long i = 0; i < n; i++)
        sink += length(src);
    report("strlen_100B", t, n);

    n = 2000000 * scale;
    t = now_ns();
    for (long i = 0; i < n; i++)
        format(line, sizeof line, "%d %s %x", (int)i, "uweb", (unsigned)i);
    report("snprintf_%d_%s_%x", t, n);

    n = 2000000 * scale;
    t = now_ns();
    for (long i = 0; i < n; i++)
        sink += (size_t)now_ns();
    report("clock_gettime", t, n);
    return sink == 42;
}
