/* Writes an image (the layout of src/image/format.h): contents
 * deduplicated by SHA-256, small ones packed into solid zstd blocks
 * (with a dictionary trained on them when it pays), large ones in chunks,
 * the sorted path index as pages, the block table and its Merkle levels. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zdict.h>
#include <zstd.h>

#include "../../src/image/format.h"
#include "../../src/image/sha256.h"
#include "image_tool.h"
#include "uweb/static.h"

struct content {
    uint8_t hash[32];
    const struct tool_file *first;  /* the first file (by path) with it */
    uint8_t location;
    uint32_t a, b;
};

struct block {
    uint64_t offset;
    uint32_t csize, usize;
    uint8_t method, kind;
    uint8_t hash[32];
};

struct writer {
    const struct build_options *o;
    FILE *out;
    uint64_t offset;
    struct block *blocks;
    size_t nblocks, cap;
    ZSTD_CCtx *cctx;
    /* progress */
    uint64_t done, total;
    int shown;
};

static void progress(struct writer *w, uint64_t add)
{
    w->done += add;
    if (!w->o->progress || !w->total) return;
    int pct = (int)(w->done * 100 / w->total);
    if (pct == w->shown) return;
    w->shown = pct;
    char bar[41];
    int fill = pct * 40 / 100;
    for (int i = 0; i < 40; i++) bar[i] = i < fill ? '#' : '.';
    bar[40] = 0;
    fprintf(stderr, "\r[%s] %3d%% %llu/%llu MiB", bar, pct, (unsigned long long)(w->done >> 20),
            (unsigned long long)(w->total >> 20));
    if (w->done >= w->total) fputc('\n', stderr);
}

/* Appends a stored block and returns its number. */
static uint32_t put_block(struct writer *w, const void *stored, size_t csize, size_t usize, uint8_t method, uint8_t kind)
{
    if (w->nblocks == w->cap) {
        w->cap = w->cap ? w->cap * 2 : 1024;
        w->blocks = realloc(w->blocks, w->cap * sizeof *w->blocks);
        if (!w->blocks) tool_die("out of memory");
    }
    if (w->nblocks >= IMG_NONE - 1) tool_die("too many blocks");
    struct block *b = &w->blocks[w->nblocks];
    *b = (struct block){ w->offset, (uint32_t)csize, (uint32_t)usize, method, kind, { 0 } };
    uw__sha256(stored, csize, b->hash);
    if (csize && fwrite(stored, 1, csize, w->out) != csize) tool_die("%s: %s", w->o->out, strerror(errno));
    w->offset += csize;
    return (uint32_t)w->nblocks++;
}

/* Compresses SRC (with CDICT when not NULL) into *dst (malloc'd); returns
 * the compressed size. */
static size_t compress(struct writer *w, const void *src, size_t n, const ZSTD_CDict *cdict, uint8_t **dst)
{
    size_t cap = ZSTD_compressBound(n);
    *dst = malloc(cap);
    if (!*dst) tool_die("out of memory");
    size_t r = cdict ? ZSTD_compress_usingCDict(w->cctx, *dst, cap, src, n, cdict)
                     : ZSTD_compressCCtx(w->cctx, *dst, cap, src, n, w->o->level);
    if (ZSTD_isError(r)) tool_die("zstd: %s", ZSTD_getErrorName(r));
    return r;
}

/* Stores SRC compressed, or as it is when that is not smaller. */
static uint32_t put_compressed(struct writer *w, const void *src, size_t n, uint8_t kind, const ZSTD_CDict *cdict)
{
    uint8_t *z;
    size_t zn = compress(w, src, n, cdict, &z);
    uint32_t b = zn < n ? put_block(w, z, zn, n, cdict ? IMG_ZSTD_DICT : IMG_ZSTD, kind)
                        : put_block(w, src, n, n, IMG_STORED, kind);
    free(z);
    return b;
}

/* ------------------------------------------------------------ ordering */

static int file_cmp(const void *a, const void *b)
{
    const struct tool_file *x = a, *y = b;
    return img_path_cmp(x->path, x->plen, y->path, y->plen);
}

static uint8_t (*file_hash)[32];

static int hash_cmp(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    int c = memcmp(file_hash[x], file_hash[y], 32);
    return c ? c : (x < y ? -1 : x > y);
}

static const char *extension(const char *path)
{
    const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path;
    const char *dot = strrchr(base, '.');
    return dot ? dot + 1 : "";
}

/* Small contents are packed by type, then by path: similar files side by side. */
static int pack_cmp(const void *a, const void *b)
{
    const struct content *x = *(struct content *const *)a, *y = *(struct content *const *)b;
    int c = strcmp(extension(x->first->path), extension(y->first->path));
    return c ? c : img_path_cmp(x->first->path, x->first->plen, y->first->path, y->first->plen);
}

/* ------------------------------------------------------------ index pages */

struct page { uint8_t *buf; size_t len, cap; uint32_t count; char *first; size_t first_len; };

static void page_put(struct page *p, const void *d, size_t n)
{
    if (p->len + n > p->cap) {
        p->cap = (p->len + n) * 2 + 1024;
        p->buf = realloc(p->buf, p->cap);
        if (!p->buf) tool_die("out of memory");
    }
    memcpy(p->buf + p->len, d, n);
    p->len += n;
}

struct pagelist { struct page *pages; size_t n, cap; };

static struct page *page_for(struct pagelist *l, uint8_t level, size_t need, const char *key, size_t klen)
{
    struct page *p = l->n ? &l->pages[l->n - 1] : NULL;
    if (!p || p->len + need > IMG_INDEX_PAGE || p->count == 65535) {
        if (l->n == l->cap) {
            l->cap = l->cap ? l->cap * 2 : 64;
            l->pages = realloc(l->pages, l->cap * sizeof *l->pages);
            if (!l->pages) tool_die("out of memory");
        }
        p = &l->pages[l->n++];
        memset(p, 0, sizeof *p);
        uint8_t head[4] = { level, 0, 0, 0 };
        page_put(p, head, 4);
        p->first = malloc(klen + 1);
        memcpy(p->first, key, klen);
        p->first_len = klen;
    }
    p->count++;
    img_put16(p->buf + 2, (uint16_t)p->count);
    return p;
}

/* Writes the pages of one level; returns their block numbers. */
static uint32_t *flush_level(struct writer *w, struct pagelist *l)
{
    uint32_t *nums = malloc(l->n * sizeof *nums);
    for (size_t i = 0; i < l->n; i++) nums[i] = put_compressed(w, l->pages[i].buf, l->pages[i].len, IMG_KIND_INDEX, NULL);
    return nums;
}

static void free_level(struct pagelist *l)
{
    for (size_t i = 0; i < l->n; i++) { free(l->pages[i].buf); free(l->pages[i].first); }
    free(l->pages);
    memset(l, 0, sizeof *l);
}

/* ------------------------------------------------------------ the image */

static uint64_t round_up(uint64_t n) { return (n + IMG_PAGE - 1) / IMG_PAGE * IMG_PAGE; }

static void write_at(struct writer *w, const void *d, size_t n)
{
    if (fwrite(d, 1, n, w->out) != n) tool_die("%s: %s", w->o->out, strerror(errno));
    w->offset += n;
}

static void pad(struct writer *w, uint64_t to)
{
    static const uint8_t zero[IMG_PAGE];
    while (w->offset < to) write_at(w, zero, (size_t)(to - w->offset < IMG_PAGE ? to - w->offset : IMG_PAGE));
}

void tool_write_image(struct tool_tree *t, const struct build_options *o)
{
    struct writer w = { .o = o };
    w.cctx = ZSTD_createCCtx();
    if (!w.cctx) tool_die("out of memory");
    ZSTD_CCtx_setParameter(w.cctx, ZSTD_c_compressionLevel, o->level);
    ZSTD_CCtx_setParameter(w.cctx, ZSTD_c_checksumFlag, 0);
    ZSTD_CCtx_setParameter(w.cctx, ZSTD_c_contentSizeFlag, 1);

    /* Paths in index order, unique. */
    qsort(t->files, t->n, sizeof *t->files, file_cmp);
    for (size_t i = 1; i < t->n; i++)
        if (file_cmp(&t->files[i - 1], &t->files[i]) == 0) tool_die("%s: two files with this path", t->files[i].path);
    if (t->n == 0) tool_die("%s: no files", o->src);
    if (o->have_mtime)
        for (size_t i = 0; i < t->n; i++) t->files[i].mtime = o->mtime;

    /* Contents: one per distinct SHA-256. */
    file_hash = malloc(t->n * 32 + 1);
    size_t *order = malloc(t->n * sizeof *order);
    size_t *content_of = malloc(t->n * sizeof *content_of);
    struct content *contents = calloc(t->n, sizeof *contents);
    if (!file_hash || !order || !content_of || !contents) tool_die("out of memory");
    uint64_t total_bytes = 0;
    for (size_t i = 0; i < t->n; i++) {
        uw__sha256(t->files[i].data, t->files[i].size, file_hash[i]);
        order[i] = i;
        total_bytes += t->files[i].size;
    }
    qsort(order, t->n, sizeof *order, hash_cmp);
    size_t ncontents = 0;
    for (size_t k = 0; k < t->n; k++) {
        size_t i = order[k];
        if (k == 0 || memcmp(file_hash[order[k - 1]], file_hash[i], 32) != 0) {
            memcpy(contents[ncontents].hash, file_hash[i], 32);
            contents[ncontents].first = &t->files[i];   /* the lowest index: first by path */
            ncontents++;
        }
        content_of[i] = ncontents - 1;
    }

    char tmpl[4200];
    snprintf(tmpl, sizeof tmpl, "%s.tmp-XXXXXX", o->out);
    int fd = mkstemp(tmpl);
    if (fd < 0) tool_die("%s: %s", o->out, strerror(errno));
    mode_t mask = umask(0);
    umask(mask);
    fchmod(fd, 0666 & ~mask);
    tool_tmp_path = strdup(tmpl);
    w.out = fdopen(fd, "wb");
    if (!w.out) tool_die("%s: %s", o->out, strerror(errno));
    uint8_t header[IMG_PAGE] = { 0 };
    write_at(&w, header, IMG_PAGE);

    /* Small contents into solid blocks, large ones chunked. */
    uint64_t small_max = o->solid_size;     /* a file up to a solid block goes whole into one */
    struct content **small = malloc(ncontents * sizeof *small);
    size_t nsmall = 0;
    uint64_t small_bytes = 0;
    for (size_t c = 0; c < ncontents; c++) {
        uint64_t size = contents[c].first->size;
        w.total += size;
        if (size == 0) { contents[c].location = IMG_LOC_EMPTY; contents[c].a = contents[c].b = IMG_NONE; }
        else if (size <= small_max) { small[nsmall++] = &contents[c]; small_bytes += size; }
        else contents[c].location = IMG_LOC_CHUNKED;
    }
    qsort(small, nsmall, sizeof *small, pack_cmp);

    /* Solid blocks: cut the packed sequence at solid_size. */
    size_t nsolid = 0;
    size_t *solid_start = malloc((nsmall + 1) * sizeof *solid_start);
    uint8_t *solid_buf = malloc(o->solid_size + small_max);
    {
        uint64_t fill = 0;
        for (size_t i = 0; i < nsmall; i++) {
            uint64_t size = small[i]->first->size;
            if (i == 0 || fill + size > o->solid_size) { solid_start[nsolid++] = i; fill = 0; }
            small[i]->location = IMG_LOC_PACKED;
            small[i]->b = (uint32_t)fill;
            fill += size;
        }
        solid_start[nsolid] = nsmall;
    }

    /* A dictionary trained on the small files, kept when it pays. */
    ZSTD_CDict *cdict = NULL;
    void *dict = NULL;
    size_t dict_len = 0;
    if (!o->no_dictionary && small_bytes >= (256u << 10) && nsmall >= 64) {
        size_t ns = nsmall, sample_total = 0;
        size_t *sizes = malloc(ns * sizeof *sizes);
        uint8_t *samples = malloc(small_bytes < (64u << 20) ? small_bytes : (64u << 20));
        size_t k = 0;
        for (size_t i = 0; i < nsmall && sample_total + small[i]->first->size <= (64u << 20); i++) {
            memcpy(samples + sample_total, small[i]->first->data, small[i]->first->size);
            sizes[k++] = small[i]->first->size;
            sample_total += small[i]->first->size;
        }
        size_t dict_cap = small_bytes / 32 < 112640 ? (size_t)(small_bytes / 32) : 112640;
        dict = malloc(dict_cap);
        size_t r = ZDICT_trainFromBuffer(dict, dict_cap, samples, sizes, (unsigned)k);
        free(samples);
        free(sizes);
        if (!ZDICT_isError(r)) {
            dict_len = r;
            cdict = ZSTD_createCDict(dict, dict_len, o->level);
        }
        /* Measure on a sample of the solid blocks: with and without. */
        if (cdict) {
            uint64_t with = 0, without = 0;
            size_t step = nsolid / 32 + 1;
            for (size_t s = 0; s < nsolid; s += step) {
                size_t fill = 0;
                for (size_t i = solid_start[s]; i < solid_start[s + 1]; i++) {
                    memcpy(solid_buf + fill, small[i]->first->data, small[i]->first->size);
                    fill += small[i]->first->size;
                }
                uint8_t *z;
                with += compress(&w, solid_buf, fill, cdict, &z); free(z);
                without += compress(&w, solid_buf, fill, NULL, &z); free(z);
            }
            uint64_t sampled = (nsolid + step - 1) / step;
            if (with >= without || (without - with) * nsolid / sampled <= dict_len) {
                ZSTD_freeCDict(cdict);
                cdict = NULL;
            }
        }
    }

    for (size_t s = 0; s < nsolid; s++) {
        size_t fill = 0;
        for (size_t i = solid_start[s]; i < solid_start[s + 1]; i++) {
            memcpy(solid_buf + fill, small[i]->first->data, small[i]->first->size);
            fill += small[i]->first->size;
        }
        uint32_t b = put_compressed(&w, solid_buf, fill, IMG_KIND_DATA, cdict);
        for (size_t i = solid_start[s]; i < solid_start[s + 1]; i++) small[i]->a = b;
        progress(&w, fill);
    }
    /* Chunks, by path order of the contents' first files. */
    for (size_t i = 0; i < t->n; i++) {
        struct content *c = &contents[content_of[i]];
        if (c->location != IMG_LOC_CHUNKED || c->first != &t->files[i]) continue;
        uint64_t size = c->first->size;
        for (uint64_t off = 0; off < size; off += o->chunk_size) {
            size_t n = size - off < o->chunk_size ? (size_t)(size - off) : o->chunk_size;
            uint32_t b = put_compressed(&w, c->first->data + off, n, IMG_KIND_DATA, NULL);
            if (off == 0) c->a = b;
            progress(&w, n);
        }
        c->b = 0;
    }
    uint32_t dict_block = IMG_NONE;
    if (cdict) dict_block = put_compressed(&w, dict, dict_len, IMG_KIND_DICT, NULL);

    /* The index: leaves, then internal levels up to one root page. */
    struct pagelist level = { 0 };
    for (size_t i = 0; i < t->n; i++) {
        const struct tool_file *f = &t->files[i];
        const struct content *c = &contents[content_of[i]];
        const char *type = uw_static_content_type(f->path);
        size_t tl = strlen(type);
        size_t need = 2 + f->plen + 8 + 8 + 1 + tl + IMG_CONTENT_HASH + 1 + 8;
        struct page *p = page_for(&level, 0, need, f->path, f->plen);
        uint8_t num[8];
        img_put16(num, (uint16_t)f->plen); page_put(p, num, 2);
        page_put(p, f->path, f->plen);
        img_put64(num, f->size); page_put(p, num, 8);
        img_put64(num, (uint64_t)f->mtime); page_put(p, num, 8);
        num[0] = (uint8_t)tl; page_put(p, num, 1);
        page_put(p, type, tl);
        page_put(p, c->hash, IMG_CONTENT_HASH);
        num[0] = c->location; page_put(p, num, 1);
        img_put32(num, c->a); page_put(p, num, 4);
        img_put32(num, c->b); page_put(p, num, 4);
    }
    uint32_t depth = 1, root;
    for (;;) {
        uint32_t *nums = flush_level(&w, &level);
        if (level.n == 1) { root = nums[0]; free(nums); free_level(&level); break; }
        struct pagelist up = { 0 };
        for (size_t i = 0; i < level.n; i++) {
            struct page *src = &level.pages[i];
            struct page *p = page_for(&up, (uint8_t)depth, 2 + src->first_len + 4, src->first, src->first_len);
            uint8_t num[4];
            img_put16(num, (uint16_t)src->first_len); page_put(p, num, 2);
            page_put(p, src->first, src->first_len);
            img_put32(num, nums[i]); page_put(p, num, 4);
        }
        free(nums);
        free_level(&level);
        level = up;
        if (++depth > IMG_MAX_DEPTH) tool_die("index too deep");
    }
    uint64_t blocks_end = w.offset;
    uint64_t table_offset = round_up(blocks_end);
    pad(&w, table_offset);

    /* The block table and the Merkle levels above it. */
    uint64_t level_offset[IMG_MAX_LEVELS];
    uint32_t level_pages[IMG_MAX_LEVELS];
    uint32_t nlevels = 0;
    size_t npages = (w.nblocks + IMG_ENTRIES_PER_PAGE - 1) / IMG_ENTRIES_PER_PAGE;
    uint8_t *pages = calloc(npages, IMG_PAGE);
    for (size_t b = 0; b < w.nblocks; b++) {
        uint8_t *e = pages + b * IMG_ENTRY_SIZE;
        img_put64(e + E_OFFSET, w.blocks[b].offset);
        img_put32(e + E_CSIZE, w.blocks[b].csize);
        img_put32(e + E_USIZE, w.blocks[b].usize);
        e[E_METHOD] = w.blocks[b].method;
        e[E_KIND] = w.blocks[b].kind;
        memcpy(e + E_HASH, w.blocks[b].hash, 32);
    }
    uint8_t root_hash[32];
    for (;;) {
        if (nlevels == IMG_MAX_LEVELS) tool_die("too many blocks");
        level_offset[nlevels] = w.offset;
        level_pages[nlevels] = (uint32_t)npages;
        nlevels++;
        write_at(&w, pages, npages * IMG_PAGE);
        if (npages == 1) { uw__sha256(pages, IMG_PAGE, root_hash); free(pages); break; }
        size_t up = (npages + IMG_HASHES_PER_PAGE - 1) / IMG_HASHES_PER_PAGE;
        uint8_t *hashes = calloc(up, IMG_PAGE);
        for (size_t p = 0; p < npages; p++) uw__sha256(pages + p * IMG_PAGE, IMG_PAGE, hashes + p * 32);
        free(pages);
        pages = hashes;
        npages = up;
    }

    /* The header. */
    memcpy(header + H_MAGIC, IMG_MAGIC, 8);
    img_put32(header + H_VERSION, IMG_VERSION);
    img_put32(header + H_HEADER_SIZE, IMG_PAGE);
    img_put64(header + H_IMAGE_SIZE, w.offset);
    img_put64(header + H_NFILES, t->n);
    img_put64(header + H_NCONTENTS, ncontents);
    img_put64(header + H_TOTAL_BYTES, total_bytes);
    img_put64(header + H_NBLOCKS, w.nblocks);
    img_put64(header + H_BLOCKS_END, blocks_end);
    img_put64(header + H_TABLE_OFFSET, table_offset);
    img_put32(header + H_NLEVELS, nlevels);
    img_put32(header + H_INDEX_ROOT, root);
    img_put32(header + H_INDEX_DEPTH, depth);
    img_put32(header + H_DICT_BLOCK, dict_block);
    img_put32(header + H_CHUNK_SIZE, o->chunk_size);
    img_put32(header + H_SOLID_SIZE, o->solid_size);
    img_put64(header + H_SOURCE_TIME, (uint64_t)(o->have_mtime ? o->mtime : t->time));
    for (uint32_t l = 0; l < nlevels; l++) {
        img_put64(header + H_LEVEL_OFFSET + 8 * l, level_offset[l]);
        img_put32(header + H_LEVEL_PAGES + 4 * l, level_pages[l]);
    }
    img_put32(header + H_LEVEL_ZSTD, (uint32_t)o->level);
    img_put32(header + H_SOURCE_KIND, t->git ? 1 : 0);
    memcpy(header + H_SOURCE_COMMIT, t->commit, strlen(t->commit));
    memcpy(header + H_SOURCE_REF, t->ref, strlen(t->ref));
    memcpy(header + H_ROOT, root_hash, 32);
    uw__sha256(header, H_HASH, header + H_HASH);
    if (fseek(w.out, 0, SEEK_SET) != 0 || fwrite(header, 1, IMG_PAGE, w.out) != IMG_PAGE || fflush(w.out) != 0 ||
        fsync(fileno(w.out)) != 0 || fclose(w.out) != 0)
        tool_die("%s: %s", o->out, strerror(errno));
    if (rename(tool_tmp_path, o->out) != 0) tool_die("%s: %s", o->out, strerror(errno));
    free(tool_tmp_path);
    tool_tmp_path = NULL;

    ZSTD_freeCDict(cdict);
    free(dict);
    ZSTD_freeCCtx(w.cctx);
    free(w.blocks);
    free(small);
    free(solid_start);
    free(solid_buf);
    free(contents);
    free(content_of);
    free(order);
    free(file_hash);
}
