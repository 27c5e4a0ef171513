/*
 * Fuzz target of the image reader (include/uweb/image.h).
 *
 * Input: one byte of mode, then an image.  Mode even: the image as it is
 * (header, hash and Merkle checks).  Mode odd: the image "re-sealed"
 * first — every block hash, table page hash, the root and the header hash
 * recomputed over the mutated bytes — so the mutations reach what the
 * hashes protect: table entries, index pages, decompression, locations.
 * Then every path is listed, looked up and read whole and in pieces, and
 * the image verified; the reader must never read outside the image,
 * crash or loop.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "uweb/image.h"
#include "../../src/image/format.h"
#include "../../src/image/sha256.h"

struct mem { const uint8_t *p; size_t n; };

static int mem_read(void *arg, uint64_t off, void *buf, size_t n)
{
    const struct mem *m = arg;
    if (off > m->n || n > m->n - off) __builtin_trap();   /* the reader checks sizes first */
    memcpy(buf, m->p + off, n);
    return UW_OK;
}

static void reseal(uint8_t *p, size_t n)
{
    if (n < IMG_PAGE) return;
    uint64_t nblocks = img_get64(p + H_NBLOCKS), table = img_get64(p + H_TABLE_OFFSET);
    uint32_t nlevels = img_get32(p + H_NLEVELS);
    if (nlevels < 1 || nlevels > IMG_MAX_LEVELS || table > n) return;
    for (uint64_t b = 0; b < nblocks && table + (b + 1) * IMG_ENTRY_SIZE <= n; b++) {
        uint8_t *e = p + table + b * IMG_ENTRY_SIZE;
        uint64_t off = img_get64(e + E_OFFSET);
        uint32_t cs = img_get32(e + E_CSIZE);
        if (off <= n && cs <= n - off) uw__sha256(p + off, cs, e + E_HASH);
    }
    for (uint32_t l = 0; l + 1 < nlevels; l++) {
        uint64_t at = img_get64(p + H_LEVEL_OFFSET + 8 * l), up = img_get64(p + H_LEVEL_OFFSET + 8 * (l + 1));
        uint32_t pages = img_get32(p + H_LEVEL_PAGES + 4 * l);
        for (uint32_t k = 0; k < pages; k++) {
            uint64_t src = at + (uint64_t)k * IMG_PAGE, dst = up + (uint64_t)k * 32;
            if (src > n || n - src < IMG_PAGE || dst > n || n - dst < 32) break;
            uw__sha256(p + src, IMG_PAGE, p + dst);
        }
    }
    uint64_t top = img_get64(p + H_LEVEL_OFFSET + 8 * (nlevels - 1));
    if (top <= n && n - top >= IMG_PAGE) uw__sha256(p + top, IMG_PAGE, p + H_ROOT);
    uw__sha256(p, H_HASH, p + H_HASH);
}

static int visit(void *arg, const uw_image_file *f)
{
    uw_image *im = arg;
    uw_image_file g;
    if (uw_image_lookup(im, f->path, strlen(f->path), &g) == UW_OK) {
        size_t n = g.size < (1u << 20) ? (size_t)g.size : (1u << 20);
        uint8_t *buf = malloc(n + 1);
        uw_image_read(im, &g, 0, buf, n);
        if (n > 2) uw_image_read(im, &g, n / 2, buf, n - n / 2);
        free(buf);
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    uint8_t *copy = malloc(size);
    memcpy(copy, data + 1, size - 1);
    struct mem m = { copy, size - 1 };
    if (data[0] & 1) reseal(copy, m.n);
    uw_image *im;
    if (uw_image_open(&im, mem_read, &m, m.n, &(uw_image_config){ .cache_bytes = 64u << 10 }) == UW_OK) {
        uw_image_file f;
        uw_image_lookup(im, "/index.html", 11, &f);
        uw_image_lookup(im, "zzz", 3, &f);
        uw_image_each(im, NULL, visit, im);
        uw_image_verify(im, NULL, NULL);
        uw_image_close(im);
    }
    free(copy);
    return 0;
}
