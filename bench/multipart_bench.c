/*
 * Benchmark driver of the multipart parser: parses a body held in memory,
 * fed in chunks like an HTTP server would: one warm-up run, then RUNS
 * timed runs; prints the median throughput.  Built and run by bench/multipart.sh.
 *
 *   multipart_bench BODY CONTENT-TYPE [CHUNK_BYTES [RUNS]]
 *   -> "uweb MBps=1234.5 parts=3 bytes=268435456"
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "uweb/multipart.h"

typedef struct counts {
    unsigned long long bytes;
    unsigned parts;
} counts;

static int on_begin(void *u, const uw_mp_part *p)
{
    (void)p;
    ((counts *)u)->parts++;
    return 0;
}

static int on_data(void *u, const uw_mp_part *p, const void *d, size_t n)
{
    (void)p;
    (void)d;
    ((counts *)u)->bytes += n;
    return 0;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s BODY CONTENT-TYPE [CHUNK_BYTES [RUNS]]\n", argv[0]);
        return 2;
    }
    size_t chunk = argc > 3 ? strtoul(argv[3], NULL, 10) : 65536;
    int runs = argc > 4 ? atoi(argv[4]) : 5;
    FILE *f = fopen(argv[1], "rb");
    if (!f) { perror(argv[1]); return 1; }
    fseek(f, 0, SEEK_END);
    size_t len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *body = malloc(len);
    if (!body || fread(body, 1, len, f) != len) { fprintf(stderr, "cannot read %s\n", argv[1]); return 1; }
    fclose(f);

    static uw_mp_parser mp;
    uw_mp_callbacks cb = { on_begin, on_data, NULL };
    double mbps[64];
    counts c = { 0, 0 };
    if (runs > 64) runs = 64;
    for (int r = -1; r < runs; r++) {      /* run -1 warms caches, untimed */
        c = (counts){ 0, 0 };
        double t0 = now();
        uw_mp_err e = uw_mp_init(&mp, argv[2], strlen(argv[2]), NULL, &cb, &c);
        for (size_t at = 0; at < len && !e; at += chunk)
            e = uw_mp_feed(&mp, body + at, len - at < chunk ? len - at : chunk);
        if (!e) e = uw_mp_finish(&mp);
        double t = now() - t0;
        if (e) { fprintf(stderr, "parse error: %s\n", uw_mp_strerror(e)); return 1; }
        if (r >= 0) mbps[r] = len / t / 1e6;
    }
    qsort(mbps, (size_t)runs, sizeof mbps[0], cmp_double);
    printf("uweb MBps=%.1f parts=%u bytes=%llu\n", mbps[runs / 2], c.parts, c.bytes);
    return 0;
}
