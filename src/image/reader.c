/* The image reader: header, verified block table, cache, index, contents.
 * The same on every target: libzstd from Debian on unix, its decompressor
 * compiled for the guests on the unikernels (platform/zstd/build.mk).
 * Images in files: file_unix.c. */
#include "uweb/image.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "format.h"
#include "image_internal.h"
#include "sha256.h"

#define CACHE_SLOTS 256
#define PAGE_KEY(level, page) (1ull << 63 | (uint64_t)(level) << 40 | (page))

struct slot {
    uint64_t key;
    uint8_t *data;
    uint32_t len;
    uint64_t used;      /* 0: empty */
};

struct uw_image {
    uw_image_read_fn read;
    void *arg;
    uint64_t size;
    void (*on_close)(void *);
    void *close_arg;

    uint8_t header[IMG_PAGE];
    uint64_t image_size, nblocks, blocks_end, table_offset;
    uint32_t nlevels, index_root, index_depth, dict_block, chunk_size;
    uint64_t level_offset[IMG_MAX_LEVELS];
    uint32_t level_pages[IMG_MAX_LEVELS];

    struct slot slots[CACHE_SLOTS];
    size_t cache_bytes, cache_cap;
    uint64_t clock;

    ZSTD_DCtx *dctx;
    ZSTD_DDict *ddict;
    char err[256];
};

/* Per thread on unix (guests have one thread and no TLS). */
#ifdef __STDC_HOSTED__
#if __STDC_HOSTED__
#define OPEN_ERR_TLS __thread
#endif
#endif
#ifndef OPEN_ERR_TLS
#define OPEN_ERR_TLS
#endif
static OPEN_ERR_TLS char open_err[300];

const char *uw_image_open_error(void) { return open_err; }
void uw__image_set_open_error(const char *why) { snprintf(open_err, sizeof open_err, "%s", why); }

void uw__image_on_close(uw_image *im, void (*fn)(void *), void *arg)
{
    im->on_close = fn;
    im->close_arg = arg;
}
const char *uw_image_error(const uw_image *im) { return im->err; }

__attribute__((format(printf, 2, 3)))
static int fail(uw_image *im, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(im->err, sizeof im->err, fmt, ap);
    va_end(ap);
    return UW_EIO;
}

static int dev_read(uw_image *im, uint64_t off, void *buf, size_t n)
{
    if (off > im->size || n > im->size - off) return fail(im, "read past the end of the image at %llu", (unsigned long long)off);
    if (im->read(im->arg, off, buf, n) != UW_OK) return fail(im, "read error at offset %llu", (unsigned long long)off);
    return UW_OK;
}

/* ------------------------------------------------------------ cache */

static const uint8_t *cache_get(uw_image *im, uint64_t key, uint32_t *len)
{
    for (int i = 0; i < CACHE_SLOTS; i++) {
        struct slot *s = &im->slots[i];
        if (s->used && s->key == key) {
            s->used = ++im->clock;
            if (len) *len = s->len;
            return s->data;
        }
    }
    return NULL;
}

static void slot_free(uw_image *im, struct slot *s)
{
    im->cache_bytes -= s->len;
    free(s->data);
    memset(s, 0, sizeof *s);
}

/* Takes ownership of data; evicts the least recently used entries until
 * it fits (an entry larger than the whole cache is kept alone). */
static const uint8_t *cache_put(uw_image *im, uint64_t key, uint8_t *data, uint32_t len)
{
    for (;;) {
        struct slot *lru = NULL, *empty = NULL;
        for (int i = 0; i < CACHE_SLOTS; i++) {
            struct slot *s = &im->slots[i];
            if (!s->used) { if (!empty) empty = s; continue; }
            if (!lru || s->used < lru->used) lru = s;
        }
        if (empty && (im->cache_bytes + len <= im->cache_cap || !lru)) {
            *empty = (struct slot){ key, data, len, ++im->clock };
            im->cache_bytes += len;
            return data;
        }
        slot_free(im, lru);
    }
}

/* ------------------------------------------------------------ table */

/* Page P of Merkle level L (0: the block table), checked up to the root. */
static const uint8_t *get_page(uw_image *im, uint32_t level, uint64_t p)
{
    const uint8_t *c = cache_get(im, PAGE_KEY(level, p), NULL);
    if (c) return c;
    if (level >= im->nlevels || p >= im->level_pages[level]) { fail(im, "table page %u/%llu out of range", level, (unsigned long long)p); return NULL; }
    uint8_t *buf = malloc(IMG_PAGE);
    if (!buf) { fail(im, "out of memory"); return NULL; }
    if (dev_read(im, im->level_offset[level] + p * IMG_PAGE, buf, IMG_PAGE) != UW_OK) { free(buf); return NULL; }
    uint8_t h[32], want[32];
    uw__sha256(buf, IMG_PAGE, h);
    if (level + 1 == im->nlevels) {
        memcpy(want, im->header + H_ROOT, 32);
    } else {
        const uint8_t *parent = get_page(im, level + 1, p / IMG_HASHES_PER_PAGE);
        if (!parent) { free(buf); return NULL; }
        memcpy(want, parent + (p % IMG_HASHES_PER_PAGE) * 32, 32);
    }
    if (memcmp(h, want, 32) != 0) {
        free(buf);
        fail(im, "table page %u/%llu: SHA-256 mismatch", level, (unsigned long long)p);
        return NULL;
    }
    return cache_put(im, PAGE_KEY(level, p), buf, IMG_PAGE);
}

struct entry {
    uint64_t offset;
    uint32_t csize, usize;
    uint8_t method, kind;
    uint8_t hash[32];
};

static int get_entry(uw_image *im, uint32_t b, struct entry *e)
{
    if (b >= im->nblocks) return fail(im, "block %u out of range", b);
    const uint8_t *page = get_page(im, 0, b / IMG_ENTRIES_PER_PAGE);
    if (!page) return UW_EIO;
    const uint8_t *p = page + (b % IMG_ENTRIES_PER_PAGE) * IMG_ENTRY_SIZE;
    e->offset = img_get64(p + E_OFFSET);
    e->csize = img_get32(p + E_CSIZE);
    e->usize = img_get32(p + E_USIZE);
    e->method = p[E_METHOD];
    e->kind = p[E_KIND];
    memcpy(e->hash, p + E_HASH, 32);
    if (e->offset < IMG_PAGE || e->offset > im->blocks_end || e->csize > im->blocks_end - e->offset ||
        e->csize > IMG_MAX_BLOCK || e->usize > IMG_MAX_BLOCK || e->method > IMG_ZSTD_DICT || e->kind > IMG_KIND_DICT)
        return fail(im, "block %u: bad table entry", b);
    return UW_OK;
}

/* ------------------------------------------------------------ blocks */

static int load_dict(uw_image *im);

/* Decompresses the first bytes of a zstd frame, at least NEED of them,
 * into *dst (malloc'd); *len is how many. */
static int decompress_prefix(uw_image *im, uint32_t b, const struct entry *e, const uint8_t *raw, uint32_t need,
                             uint8_t **dst, uint32_t *len)
{
    uint32_t cap = need + (64u << 10) < e->usize ? need + (64u << 10) : e->usize;
    *dst = malloc(cap ? cap : 1);
    if (!*dst) return fail(im, "out of memory");
    ZSTD_DCtx_reset(im->dctx, ZSTD_reset_session_and_parameters);
    if (e->method == IMG_ZSTD_DICT) ZSTD_DCtx_refDDict(im->dctx, im->ddict);
    ZSTD_inBuffer in = { raw, e->csize, 0 };
    ZSTD_outBuffer out = { *dst, cap, 0 };
    for (;;) {
        size_t r = ZSTD_decompressStream(im->dctx, &out, &in);
        if (ZSTD_isError(r)) { free(*dst); return fail(im, "block %u: does not decompress (%s)", b, ZSTD_getErrorName(r)); }
        if (out.pos == out.size || r == 0) break;
        if (in.pos == in.size) { free(*dst); return fail(im, "block %u: does not decompress (truncated)", b); }
    }
    if (out.pos < cap) { free(*dst); return fail(im, "block %u: does not decompress (size)", b); }
    ZSTD_DCtx_reset(im->dctx, ZSTD_reset_session_and_parameters);
    *len = (uint32_t)out.pos;
    return UW_OK;
}

/* Reads, checks and decompresses block B into a malloc'd buffer: all of
 * it, or of a zstd block a prefix of at least NEED bytes (*len says how
 * much).  The stored bytes are always read and checked whole. */
static int load_block(uw_image *im, uint32_t b, uint8_t kind, uint32_t need, uint8_t **out, uint32_t *len)
{
    struct entry e;
    int r = get_entry(im, b, &e);
    if (r != UW_OK) return r;
    if (e.kind != kind) return fail(im, "block %u: kind %u where %u was expected", b, e.kind, kind);
    if (e.method == IMG_ZSTD_DICT && !im->ddict && (r = load_dict(im)) != UW_OK) return r;
    uint8_t *raw = malloc(e.csize ? e.csize : 1);
    if (!raw) return fail(im, "out of memory");
    if ((r = dev_read(im, e.offset, raw, e.csize)) != UW_OK) { free(raw); return r; }
    uint8_t h[32];
    uw__sha256(raw, e.csize, h);
    if (memcmp(h, e.hash, 32) != 0) { free(raw); return fail(im, "block %u: SHA-256 mismatch", b); }
    if (e.method == IMG_STORED) {
        if (e.usize != e.csize) { free(raw); return fail(im, "block %u: bad stored size", b); }
        *out = raw;
        *len = e.usize;
        return UW_OK;
    }
    if (need < e.usize) {
        r = decompress_prefix(im, b, &e, raw, need, out, len);
        free(raw);
        return r;
    }
    uint8_t *dst = malloc(e.usize ? e.usize : 1);
    if (!dst) { free(raw); return fail(im, "out of memory"); }
    size_t n = e.method == IMG_ZSTD_DICT ? ZSTD_decompress_usingDDict(im->dctx, dst, e.usize, raw, e.csize, im->ddict)
                                          : ZSTD_decompressDCtx(im->dctx, dst, e.usize, raw, e.csize);
    free(raw);
    if (ZSTD_isError(n) || n != e.usize) {
        free(dst);
        return fail(im, "block %u: does not decompress (%s)", b, ZSTD_isError(n) ? ZSTD_getErrorName(n) : "size");
    }
    *out = dst;
    *len = e.usize;
    return UW_OK;
}

/* The first NEED bytes (or more) of block B through the cache (a cached
 * prefix too short is replaced); the pointer is valid until the next
 * cache insertion.  *len: the bytes there. */
static const uint8_t *get_block_prefix(uw_image *im, uint32_t b, uint8_t kind, uint32_t need, uint32_t *len)
{
    const uint8_t *c = cache_get(im, b, len);
    if (c && *len >= need) return c;
    if (c)
        for (int i = 0; i < CACHE_SLOTS; i++)
            if (im->slots[i].used && im->slots[i].key == b) slot_free(im, &im->slots[i]);
    uint8_t *data;
    if (load_block(im, b, kind, need, &data, len) != UW_OK) return NULL;
    return cache_put(im, b, data, *len);
}

static const uint8_t *get_block(uw_image *im, uint32_t b, uint8_t kind, uint32_t *len)
{
    return get_block_prefix(im, b, kind, UINT32_MAX, len);
}

static int load_dict(uw_image *im)
{
    if (im->dict_block == IMG_NONE) return fail(im, "a block needs the dictionary and the image has none");
    uint8_t *d;
    uint32_t n;
    int r = load_block(im, im->dict_block, IMG_KIND_DICT, UINT32_MAX, &d, &n);
    if (r != UW_OK) return r;
    im->ddict = ZSTD_createDDict(d, n);
    free(d);
    return im->ddict ? UW_OK : fail(im, "the dictionary does not load");
}

/* ------------------------------------------------------------ open */

static uint64_t pages_up(uint64_t n, uint64_t per) { return (n + per - 1) / per; }

int uw_image_open(uw_image **out, uw_image_read_fn read, void *arg, uint64_t size, const uw_image_config *cfg)
{
    *out = NULL;
    open_err[0] = 0;
    uw_image *im = calloc(1, sizeof *im);
    if (!im) { snprintf(open_err, sizeof open_err, "out of memory"); return UW_ENOMEM; }
    im->read = read;
    im->arg = arg;
    im->size = size;
    im->cache_cap = cfg && cfg->cache_bytes ? cfg->cache_bytes : UW_IMAGE_CACHE_DEFAULT;
    im->dctx = ZSTD_createDCtx();
    if (!im->dctx) { free(im); snprintf(open_err, sizeof open_err, "out of memory"); return UW_ENOMEM; }
    const char *why = NULL;
    uint8_t *h = im->header;
    if (size < IMG_PAGE) { why = "not an image (shorter than its header)"; goto bad; }
    if (read(arg, 0, h, IMG_PAGE) != UW_OK) { why = "cannot read the header"; goto bad; }
    if (memcmp(h + H_MAGIC, IMG_MAGIC, 8) != 0) { why = "not a uweb image (bad magic)"; goto bad; }
    uint8_t hh[32];
    uw__sha256(h, H_HASH, hh);
    if (memcmp(hh, h + H_HASH, 32) != 0) { why = "corrupt header (SHA-256 mismatch)"; goto bad; }
    if (img_get32(h + H_VERSION) != IMG_VERSION) { why = "unsupported image version"; goto bad; }
    im->image_size = img_get64(h + H_IMAGE_SIZE);
    im->nblocks = img_get64(h + H_NBLOCKS);
    im->blocks_end = img_get64(h + H_BLOCKS_END);
    im->table_offset = img_get64(h + H_TABLE_OFFSET);
    im->nlevels = img_get32(h + H_NLEVELS);
    im->index_root = img_get32(h + H_INDEX_ROOT);
    im->index_depth = img_get32(h + H_INDEX_DEPTH);
    im->dict_block = img_get32(h + H_DICT_BLOCK);
    im->chunk_size = img_get32(h + H_CHUNK_SIZE);
    if (im->image_size > size) {
        snprintf(open_err, sizeof open_err, "truncated image: %llu of %llu bytes", (unsigned long long)size,
                 (unsigned long long)im->image_size);
        goto bad_set;
    }
    if (im->image_size % IMG_PAGE || im->nlevels < 1 || im->nlevels > IMG_MAX_LEVELS || im->nblocks == 0 ||
        im->nblocks > UINT32_MAX || im->blocks_end < IMG_PAGE || im->table_offset < im->blocks_end ||
        im->table_offset % IMG_PAGE || im->index_depth < 1 || im->index_depth > IMG_MAX_DEPTH ||
        im->index_root >= im->nblocks || im->chunk_size == 0 || im->chunk_size > IMG_MAX_BLOCK ||
        (im->dict_block != IMG_NONE && im->dict_block >= im->nblocks)) {
        why = "inconsistent header";
        goto bad;
    }
    uint64_t off = im->table_offset, pages = pages_up(im->nblocks, IMG_ENTRIES_PER_PAGE);
    for (uint32_t l = 0; l < im->nlevels; l++) {
        im->level_offset[l] = img_get64(h + H_LEVEL_OFFSET + 8 * l);
        im->level_pages[l] = img_get32(h + H_LEVEL_PAGES + 4 * l);
        if (im->level_offset[l] != off || im->level_pages[l] != pages) { why = "inconsistent header (table levels)"; goto bad; }
        off += pages * IMG_PAGE;
        pages = pages_up(pages, IMG_HASHES_PER_PAGE);
    }
    if (im->level_pages[im->nlevels - 1] != 1 || off != im->image_size) { why = "inconsistent header (table size)"; goto bad; }
    if (!get_page(im, im->nlevels - 1, 0)) { snprintf(open_err, sizeof open_err, "%s", im->err); goto bad_set; }
    uint32_t n;
    if (!get_block(im, im->index_root, IMG_KIND_INDEX, &n)) { snprintf(open_err, sizeof open_err, "index: %s", im->err); goto bad_set; }
    *out = im;
    return UW_OK;
bad:
    snprintf(open_err, sizeof open_err, "%s", why);
bad_set:
    uw_image_close(im);
    return UW_EIO;
}

void uw_image_close(uw_image *im)
{
    if (!im) return;
    for (int i = 0; i < CACHE_SLOTS; i++)
        if (im->slots[i].used) slot_free(im, &im->slots[i]);
    ZSTD_freeDCtx(im->dctx);
    ZSTD_freeDDict(im->ddict);
    if (im->on_close) im->on_close(im->close_arg);
    free(im);
}

void uw_image_get_info(const uw_image *im, uw_image_info *info)
{
    const uint8_t *h = im->header;
    memset(info, 0, sizeof *info);
    info->version = img_get32(h + H_VERSION);
    info->image_size = im->image_size;
    info->files = img_get64(h + H_NFILES);
    info->contents = img_get64(h + H_NCONTENTS);
    info->total_bytes = img_get64(h + H_TOTAL_BYTES);
    info->blocks = im->nblocks;
    info->chunk_size = im->chunk_size;
    info->solid_size = img_get32(h + H_SOLID_SIZE);
    info->dictionary = im->dict_block != IMG_NONE;
    info->git = img_get32(h + H_SOURCE_KIND) == 1;
    memcpy(info->commit, h + H_SOURCE_COMMIT, 64);
    memcpy(info->ref, h + H_SOURCE_REF, 128);
    info->source_time = (int64_t)img_get64(h + H_SOURCE_TIME);
    memcpy(info->root, h + H_ROOT, 32);
}

/* ------------------------------------------------------------ index */

struct cursor { const uint8_t *p; size_t n; bool bad; };

static const uint8_t *take(struct cursor *c, size_t n)
{
    if (c->bad || n > c->n) { c->bad = true; return NULL; }
    const uint8_t *p = c->p;
    c->p += n;
    c->n -= n;
    return p;
}
static uint32_t take8(struct cursor *c) { const uint8_t *p = take(c, 1); return p ? p[0] : 0; }
static uint32_t take16(struct cursor *c) { const uint8_t *p = take(c, 2); return p ? img_get16(p) : 0; }
static uint32_t take32(struct cursor *c) { const uint8_t *p = take(c, 4); return p ? img_get32(p) : 0; }
static uint64_t take64(struct cursor *c) { const uint8_t *p = take(c, 8); return p ? img_get64(p) : 0; }

static const char hexdigits[] = "0123456789abcdef";

/* Parses one leaf entry into f (path without its '/': *path, *plen). */
static bool leaf_entry(struct cursor *c, const uint8_t **path, size_t *plen, uw_image_file *f)
{
    *plen = take16(c);
    *path = take(c, *plen);
    f->size = take64(c);
    f->mtime = (int64_t)take64(c);
    uint32_t tl = take8(c);
    const uint8_t *t = take(c, tl);
    const uint8_t *hash = take(c, IMG_CONTENT_HASH);
    f->location = (uint8_t)take8(c);
    f->a = take32(c);
    f->b = take32(c);
    if (c->bad || *plen > IMG_MAX_PATH || tl >= sizeof f->content_type || f->location > IMG_LOC_CHUNKED) return false;
    memcpy(f->content_type, t, tl);
    f->content_type[tl] = 0;
    memcpy(f->hash, hash, IMG_CONTENT_HASH);
    f->etag[0] = '"';
    for (int i = 0; i < 16; i++) {
        f->etag[1 + 2 * i] = hexdigits[hash[i] >> 4];
        f->etag[2 + 2 * i] = hexdigits[hash[i] & 15];
    }
    f->etag[33] = '"';
    f->etag[34] = 0;
    size_t keep = *plen < sizeof f->path - 2 ? *plen : sizeof f->path - 2;
    f->path[0] = '/';
    memcpy(f->path + 1, *path, keep);
    f->path[1 + keep] = 0;
    return true;
}

/* The page's header; false (and im->err) when it is not an index page of
 * that level. */
static bool page_head(uw_image *im, uint32_t b, struct cursor *c, uint32_t level, uint32_t *count)
{
    uint32_t lv = take8(c);
    take8(c);
    *count = take16(c);
    if (c->bad || lv != level || *count == 0) { fail(im, "block %u: bad index page", b); return false; }
    return true;
}

int uw_image_lookup(uw_image *im, const char *path, size_t len, uw_image_file *f)
{
    if (len && path[0] == '/') { path++; len--; }
    if (len > IMG_MAX_PATH) return UW_ENOENT;
    uint32_t node = im->index_root;
    for (uint32_t level = im->index_depth; level-- > 0;) {
        uint32_t n, count;
        const uint8_t *page = get_block(im, node, IMG_KIND_INDEX, &n);
        if (!page) return UW_EIO;
        struct cursor c = { page, n, false };
        if (!page_head(im, node, &c, level, &count)) return UW_EIO;
        if (level > 0) {
            uint32_t child = IMG_NONE;
            for (uint32_t i = 0; i < count; i++) {
                uint32_t kl = take16(&c);
                const uint8_t *k = take(&c, kl);
                uint32_t ch = take32(&c);
                if (c.bad) return fail(im, "block %u: bad index page", node), UW_EIO;
                if (img_path_cmp((const char *)k, kl, path, len) > 0) break;
                child = ch;
            }
            if (child == IMG_NONE) return UW_ENOENT;
            node = child;
            continue;
        }
        for (uint32_t i = 0; i < count; i++) {
            const uint8_t *p;
            size_t pl;
            if (!leaf_entry(&c, &p, &pl, f)) return fail(im, "block %u: bad index page", node), UW_EIO;
            int cmp = img_path_cmp((const char *)p, pl, path, len);
            if (cmp == 0) return UW_OK;
            if (cmp > 0) break;
        }
        return UW_ENOENT;
    }
    return UW_ENOENT;
}

static int each_page(uw_image *im, uint32_t node, uint32_t level, const char *from, size_t flen,
                     int (*fn)(void *, const uw_image_file *), void *arg)
{
    uint32_t n, count;
    const uint8_t *page = get_block(im, node, IMG_KIND_INDEX, &n);
    if (!page) return UW_EIO;
    uint8_t *copy = malloc(n);       /* the walk below replaces cache entries */
    if (!copy) return fail(im, "out of memory");
    memcpy(copy, page, n);
    struct cursor c = { copy, n, false };
    int r = 0;
    if (!page_head(im, node, &c, level, &count)) { r = UW_EIO; goto out; }
    for (uint32_t i = 0; i < count && r == 0; i++) {
        if (level > 0) {
            uint32_t kl = take16(&c);
            take(&c, kl);
            uint32_t child = take32(&c);
            if (c.bad) { r = fail(im, "block %u: bad index page", node); break; }
            r = each_page(im, child, level - 1, from, flen, fn, arg);
        } else {
            uw_image_file f;
            const uint8_t *p;
            size_t pl;
            if (!leaf_entry(&c, &p, &pl, &f)) { r = fail(im, "block %u: bad index page", node); break; }
            if (!from || img_path_cmp((const char *)p, pl, from, flen) >= 0) r = fn(arg, &f);
        }
    }
out:
    free(copy);
    return r;
}

int uw_image_each(uw_image *im, const char *from, int (*fn)(void *arg, const uw_image_file *f), void *arg)
{
    if (from && from[0] == '/') from++;
    return each_page(im, im->index_root, im->index_depth - 1, from, from ? strlen(from) : 0, fn, arg);
}

/* ------------------------------------------------------------ contents */

int uw_image_read(uw_image *im, const uw_image_file *f, uint64_t offset, void *buf, size_t n)
{
    if (offset > f->size || n > f->size - offset) return UW_EINVAL;
    if (n == 0) return UW_OK;
    uint8_t *dst = buf;
    uint32_t len;
    if (f->location == IMG_LOC_PACKED) {
        if (f->b > IMG_MAX_BLOCK || f->size > IMG_MAX_BLOCK - f->b) return fail(im, "block %u: file %s past its end", f->a, f->path);
        uint32_t end = (uint32_t)(f->b + offset + n);
        const uint8_t *d = get_block_prefix(im, f->a, IMG_KIND_DATA, end, &len);
        if (!d) return UW_EIO;
        if (end > len) return fail(im, "block %u: file %s past its end", f->a, f->path);
        memcpy(dst, d + f->b + offset, n);
        return UW_OK;
    }
    if (f->location != IMG_LOC_CHUNKED) return fail(im, "%s: no data", f->path);
    uint64_t cs = im->chunk_size;
    while (n) {
        uint64_t i = offset / cs, within = offset % cs;
        if (f->a + i >= im->nblocks) return fail(im, "%s: chunk %llu out of range", f->path, (unsigned long long)i);
        uint64_t want = f->size - i * cs < cs ? f->size - i * cs : cs;
        size_t take_n = (size_t)(cs - within < n ? cs - within : n);
        if (want > IMG_MAX_BLOCK) return fail(im, "%s: chunk too large", f->path);
        const uint8_t *d = get_block_prefix(im, (uint32_t)(f->a + i), IMG_KIND_DATA, (uint32_t)(within + take_n), &len);
        if (!d) return UW_EIO;
        if (len < within + take_n || len > want)
            return fail(im, "block %llu: chunk of %s has the wrong size", (unsigned long long)(f->a + i), f->path);
        memcpy(dst, d + within, take_n);
        dst += take_n;
        n -= take_n;
        offset += take_n;
    }
    return UW_OK;
}

/* ------------------------------------------------------------ verify */

struct verifier {
    uw_image *im;
    void (*report)(void *, const char *);
    void *arg;
    int problems;
    uint8_t *bad;           /* one bit per block */
    uint8_t *buf;
};

__attribute__((format(printf, 2, 3)))
static void problem(struct verifier *v, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    v->problems++;
    if (v->report) v->report(v->arg, line);
}

static bool is_bad(struct verifier *v, uint64_t b) { return b < v->im->nblocks && (v->bad[b / 8] >> (b % 8) & 1); }

/* Every file: its blocks exist, its bytes read back and hash to its ETag. */
static int verify_file(void *arg, const uw_image_file *f)
{
    struct verifier *v = arg;
    uw_image *im = v->im;
    uint64_t first = f->a, count = 0;
    if (f->location == IMG_LOC_PACKED) count = 1;
    else if (f->location == IMG_LOC_CHUNKED) count = (f->size + im->chunk_size - 1) / im->chunk_size;
    else if (f->size != 0) { problem(v, "%s: %llu bytes and no data", f->path, (unsigned long long)f->size); return 0; }
    for (uint64_t b = first; b < first + count; b++)
        if (is_bad(v, b)) { problem(v, "block %llu holds %s", (unsigned long long)b, f->path); return 0; }
    uw__sha256_ctx s;
    uw__sha256_init(&s);
    uint8_t h[32];
    for (uint64_t off = 0; off < f->size;) {
        size_t n = f->size - off < (1u << 20) ? (size_t)(f->size - off) : (1u << 20);
        if (uw_image_read(im, f, off, v->buf, n) != UW_OK) {
            uw__sha256_final(&s, h);
            problem(v, "%s: %s", f->path, im->err);
            return 0;
        }
        uw__sha256_update(&s, v->buf, n);
        off += n;
    }
    uw__sha256_final(&s, h);
    if (memcmp(h, f->hash, IMG_CONTENT_HASH) != 0) problem(v, "%s: content does not match its hash", f->path);
    return 0;
}

static void verify_zero(struct verifier *v, uint64_t from, uint64_t to)
{
    while (from < to) {
        size_t n = to - from < (1u << 20) ? (size_t)(to - from) : (1u << 20);
        if (dev_read(v->im, from, v->buf, n) != UW_OK) { problem(v, "%s", v->im->err); return; }
        for (size_t i = 0; i < n; i++)
            if (v->buf[i]) { problem(v, "nonzero padding at offset %llu", (unsigned long long)(from + i)); return; }
        from += n;
    }
}

int uw_image_verify(uw_image *im, void (*report)(void *, const char *), void *arg)
{
    struct verifier v = { im, report, arg, 0, calloc(im->nblocks / 8 + 1, 1), malloc(1u << 20) };
    if (!v.bad || !v.buf) {
        free(v.bad); free(v.buf);
        if (report) report(arg, "out of memory");
        return 1;
    }
    /* The table and Merkle levels, top down, each page against its parent. */
    bool table_ok = true;
    for (uint32_t l = im->nlevels; l-- > 0;)
        for (uint64_t p = 0; p < im->level_pages[l]; p++)
            if (!get_page(im, l, p)) { problem(&v, "%s", im->err); table_ok = false; }
    if (table_ok) {
        uint64_t end = IMG_PAGE;
        for (uint32_t b = 0; b < im->nblocks; b++) {
            struct entry e;
            if (get_entry(im, b, &e) != UW_OK) { problem(&v, "%s", im->err); v.bad[b / 8] |= (uint8_t)(1 << b % 8); continue; }
            if (e.offset != end) problem(&v, "block %u: at offset %llu, expected %llu", b, (unsigned long long)e.offset, (unsigned long long)end);
            end = e.offset + e.csize;
            uint8_t *d;
            uint32_t n;
            if (load_block(im, b, e.kind, UINT32_MAX, &d, &n) != UW_OK) {
                problem(&v, "%s", im->err);
                v.bad[b / 8] |= (uint8_t)(1 << b % 8);
                continue;
            }
            free(d);
        }
        if (end != im->blocks_end) problem(&v, "blocks end at %llu, the header says %llu", (unsigned long long)end, (unsigned long long)im->blocks_end);
        verify_zero(&v, im->blocks_end, im->table_offset);
        int r = uw_image_each(im, NULL, verify_file, &v);
        if (r != 0) problem(&v, "index: %s", im->err);
    }
    verify_zero(&v, im->image_size, im->size < im->image_size + IMG_PAGE ? im->size : im->image_size);
    free(v.bad);
    free(v.buf);
    return v.problems;
}
