/*
 * Fuzz target of the multipart parser.
 *
 * Input: a Content-Type value, '\n', 8 bytes choosing cut points and
 * limits, then the body.  The body is parsed whole, then cut at the chosen
 * offsets (each piece in its own exact-size heap buffer), then byte by
 * byte when short; every run must report the same error and the same
 * parts, and the same data when it succeeds.  A difference traps.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "uweb/multipart.h"

typedef struct digest {
    uint64_t parts, data;   /* FNV-1a of the part events, of the data bytes */
    unsigned open;
} digest;

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++) h = (h ^ s[i]) * 1099511628211ull;
    return h;
}

static uint64_t fnv_str(uint64_t h, const char *s)
{
    return s ? fnv(h, s, strlen(s) + 1) : fnv(h, "\xff", 1);
}

static int on_begin(void *u, const uw_mp_part *p)
{
    digest *d = u;
    unsigned v[6] = { p->depth, p->index, p->number, (unsigned)p->is_multipart, p->encoding, p->header_count };
    if (p->depth && (!p->parent || !p->parent->is_multipart || p->parent->depth + 1 != p->depth)) __builtin_trap();
    d->parts = fnv(d->parts, "B", 1);
    d->parts = fnv(d->parts, v, sizeof v);
    d->parts = fnv_str(d->parts, p->disposition);
    d->parts = fnv_str(d->parts, p->name);
    d->parts = fnv_str(d->parts, p->filename);
    d->parts = fnv_str(d->parts, p->content_type);
    d->parts = fnv_str(d->parts, p->charset);
    d->parts = fnv_str(d->parts, p->boundary);
    for (unsigned i = 0; i < p->header_count; i++) {
        const char *n, *val;
        if (uw_mp_header_at(p, i, &n, &val) != 0) __builtin_trap();
        d->parts = fnv_str(fnv_str(d->parts, n), val);
        if (uw_mp_header(p, n) == NULL) __builtin_trap();
    }
    d->open++;
    return 0;
}

static int on_data(void *u, const uw_mp_part *p, const void *data, size_t n)
{
    digest *d = u;
    if (p->is_multipart || n == 0) __builtin_trap();
    d->data = fnv(d->data, data, n);
    return 0;
}

static int on_end(void *u, const uw_mp_part *p)
{
    digest *d = u;
    if (!d->open) __builtin_trap();
    d->open--;
    d->parts = fnv(d->parts, "E", 1);
    d->parts = fnv(d->parts, &p->number, sizeof p->number);
    d->data = fnv(d->data, "|", 1);
    return 0;
}

static const uw_mp_callbacks cb = { on_begin, on_data, on_end };

static uw_mp_err run(uw_mp_parser *mp, const char *ct, size_t ctlen, const uw_mp_limits *lim,
                     const uint8_t *body, size_t len, const size_t *cuts, int ncuts, digest *d)
{
    memset(d, 0, sizeof *d);
    uw_mp_err e = uw_mp_init(mp, ct, ctlen, lim, &cb, d);
    if (e) return e;
    size_t at = 0;
    for (int i = 0; i <= ncuts && !e; i++) {
        size_t end = i < ncuts ? cuts[i] : len;
        if (end < at) end = at;
        uint8_t *piece = malloc(end - at + 1);
        memcpy(piece, body + at, end - at);
        e = uw_mp_feed(mp, piece, end - at);
        free(piece);
        at = end;
    }
    return e ? e : uw_mp_finish(mp);
}

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uw_mp_parser mp;
    const uint8_t *nl = memchr(data, '\n', size < 256 ? size : 256);
    if (!nl || (size_t)(nl - data) + 1 + 8 > size) return 0;
    const char *ct = (const char *)data;
    size_t ctlen = (size_t)(nl - data);
    const uint8_t *spec = nl + 1, *body = spec + 8;
    size_t len = size - (size_t)(body - data);

    uw_mp_limits lim = { 0 };
    if (spec[0] & 1) {          /* small limits, so the fuzzer reaches them */
        lim.max_parts = 1 + spec[0] % 8;
        lim.max_header_bytes = 16 + spec[1];
        lim.max_header_lines = 1 + spec[2] % 4;
        lim.max_depth = 1 + spec[3] % 3;
        lim.max_preamble_bytes = spec[4];
    }
    size_t cuts[7];
    int ncuts = 0;
    for (int i = 1; i < 8; i++)
        if (spec[i]) cuts[ncuts++] = len * spec[i] / 256;
    qsort(cuts, (size_t)ncuts, sizeof cuts[0], cmp_size);

    digest whole, split;
    uw_mp_err ew = run(&mp, ct, ctlen, &lim, body, len, NULL, 0, &whole);
    uw_mp_err es = run(&mp, ct, ctlen, &lim, body, len, cuts, ncuts, &split);
    if (es != ew || split.parts != whole.parts || (ew == UW_MP_OK && split.data != whole.data)) __builtin_trap();
    if (ew == UW_MP_OK && whole.open) __builtin_trap();
    if (len <= 1024) {
        size_t all[1024];
        for (size_t i = 0; i < len; i++) all[i] = i + 1;
        es = run(&mp, ct, ctlen, &lim, body, len, all, (int)len, &split);
        if (es != ew || split.parts != whole.parts || (ew == UW_MP_OK && split.data != whole.data)) __builtin_trap();
    }
    if (uw_mp_strerror(ew) == NULL) __builtin_trap();
    return 0;
}
