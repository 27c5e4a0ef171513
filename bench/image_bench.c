/*
 * bench/image_bench.c — the measurements of bench/image.sh that need C:
 *
 *   image_bench ram IMAGE [N]        the reader's heap (mallinfo2) after
 *                                    uw_image_open and after N random
 *                                    lookups + whole-file reads (10,000)
 *   image_bench http IMAGE PORT [N]  N random GETs of the image's files on
 *                                    one keep-alive connection to
 *                                    127.0.0.1:PORT (any server of that
 *                                    tree); prints p50/p99/max in µs and
 *                                    checks every answer is a 200 of the
 *                                    right length
 *
 * Paths are drawn with a fixed seed, so every server gets the same list.
 */
#include <arpa/inet.h>
#include <malloc.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "uweb/image.h"

struct list { char **path; uint64_t *size; size_t n, cap; };

static int collect(void *arg, const uw_image_file *f)
{
    struct list *l = arg;
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 4096;
        l->path = realloc(l->path, l->cap * sizeof *l->path);
        l->size = realloc(l->size, l->cap * sizeof *l->size);
    }
    l->path[l->n] = strdup(f->path);
    l->size[l->n++] = f->size;
    return 0;
}

static uint64_t rng = 88172645463325252ull;
static uint64_t next(void) { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; return rng; }

static size_t heap(void) { struct mallinfo2 m = mallinfo2(); return m.uordblks + m.hblkhd; }

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Percent-encodes what a request line cannot carry as it is. */
static void encode(const char *p, char *out, size_t cap)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (; *p && o + 4 < cap; p++) {
        unsigned char c = (unsigned char)*p;
        if (c > 32 && c < 127 && c != '%' && c != '?' && c != '#') out[o++] = (char)c;
        else { out[o++] = '%'; out[o++] = hex[c >> 4]; out[o++] = hex[c & 15]; }
    }
    out[o] = 0;
}

int main(int argc, char **argv)
{
    if (argc < 3) { fprintf(stderr, "usage: image_bench ram IMAGE [N] | http IMAGE PORT [N]\n"); return 2; }
    bool http = strcmp(argv[1], "http") == 0;
    size_t n = (size_t)atol(argc > (http ? 4 : 3) ? argv[http ? 4 : 3] : "10000");
    size_t before = heap();
    uw_image *im;
    if (uw_image_open_file(&im, argv[2], NULL) != UW_OK) { fprintf(stderr, "%s: %s\n", argv[2], uw_image_open_error()); return 1; }
    size_t mounted = heap() - before;
    /* The path list is the harness's, not the reader's: it is taken after. */
    struct list l = { 0 };
    uw_image_each(im, NULL, collect, &l);
    if (!http) {
        size_t listed = heap();
        size_t peak = 0;
        char *buf = malloc(64u << 20);
        double *lat = malloc(n * sizeof *lat);
        for (size_t k = 0; k < n; k++) {
            size_t i = next() % l.n;
            double t0 = now_us();
            uw_image_file f;
            if (uw_image_lookup(im, l.path[i], strlen(l.path[i]), &f) != UW_OK) { fprintf(stderr, "lookup %s failed\n", l.path[i]); return 1; }
            size_t len = f.size < (64u << 20) ? (size_t)f.size : (64u << 20);
            if (uw_image_read(im, &f, 0, buf, len) != UW_OK) { fprintf(stderr, "%s: %s\n", l.path[i], uw_image_error(im)); return 1; }
            lat[k] = now_us() - t0;
            size_t h = heap() - listed;
            if (h > peak) peak = h;
        }
        qsort(lat, n, sizeof *lat, cmp_double);
        printf("read_p50_us %.0f\nread_p99_us %.0f\n", lat[n / 2], lat[n * 99 / 100]);
        printf("reader_ram_mount %zu\nreader_ram_after %zu\nreader_ram_peak %zu\nfiles %zu\n", mounted,
               mounted + (heap() - listed) - (64u << 20), mounted + peak - (64u << 20), l.n);
        return 0;
    }
    int port = atoi(argv[3]);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    /* UWEB_BENCH_ADDR: another server address (a guest on its tap). */
    const char *addr = getenv("UWEB_BENCH_ADDR");
    inet_pton(AF_INET, addr ? addr : "127.0.0.1", &sa.sin_addr);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) { perror("connect"); return 1; }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    double *lat = malloc(n * sizeof *lat);
    size_t cap = 1u << 20;
    char *buf = malloc(cap);
    for (size_t k = 0; k < n; k++) {
        size_t i = next() % l.n;
        char path[4200], req[4400];
        encode(l.path[i], path, sizeof path);
        int rl = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: bench\r\n\r\n", path);
        double t0 = now_us();
        if (write(fd, req, (size_t)rl) != rl) { perror("write"); return 1; }
        size_t have = 0, head = 0;
        long long clen = -1;
        int status = 0;
        for (;;) {
            if (have == cap) { cap *= 2; buf = realloc(buf, cap); }
            ssize_t r = read(fd, buf + have, cap - have);
            if (r <= 0) { fprintf(stderr, "connection closed at %s\n", l.path[i]); return 1; }
            have += (size_t)r;
            if (!head) {
                char *e = memmem(buf, have, "\r\n\r\n", 4);
                if (!e) continue;
                head = (size_t)(e - buf) + 4;
                status = atoi(buf + 9);
                char *cl = memmem(buf, head, "Content-Length: ", 16);
                if (!cl) cl = memmem(buf, head, "content-length: ", 16);
                clen = cl ? atoll(cl + 16) : -1;
                if (clen < 0) { fprintf(stderr, "%s: no Content-Length\n", l.path[i]); return 1; }
                if (head + (size_t)clen > cap) { cap = head + (size_t)clen; buf = realloc(buf, cap); }
            }
            if (have >= head + (size_t)clen) break;
        }
        lat[k] = now_us() - t0;
        if (status != 200 || (uint64_t)clen != l.size[i]) {
            fprintf(stderr, "%s: status %d, %lld bytes, expected %llu\n", l.path[i], status, clen, (unsigned long long)l.size[i]);
            return 1;
        }
    }
    qsort(lat, n, sizeof *lat, cmp_double);
    printf("p50_us %.0f\np99_us %.0f\nmax_us %.0f\n", lat[n / 2], lat[n * 99 / 100], lat[n - 1]);
    return 0;
}
