/*
 * format.h — the on-disk layout of a uweb image, shared by the reader
 * (src/image/) and the writer (tools/image/).  tools/image/README.md
 * describes it for people; this is the same in C.  Not a public interface.
 *
 * Every integer is little-endian.  An image is:
 *
 *   [0, 4096)                 the header (struct below, zero-padded; its
 *                             last 32 bytes are SHA-256 of the rest)
 *   [4096, blocks_end)        the blocks, back to back: data (solid blocks
 *                             of small files, chunks of large ones), the
 *                             zstd dictionary, the path index pages
 *   zero padding to 4096
 *   [table_offset, ...)       the block table: 4096-byte pages of 64
 *                             entries (offset, sizes, method, SHA-256 of
 *                             the stored bytes)
 *   the Merkle levels         level k+1 holds the SHA-256 of each page of
 *                             level k, 128 per 4096-byte page, up to a
 *                             level of one page; the header's root is the
 *                             SHA-256 of that page
 *
 * The image's size is a multiple of 4096.
 */
#ifndef UWEB_IMAGE_FORMAT_H
#define UWEB_IMAGE_FORMAT_H

#include <stdint.h>
#include <string.h>

#define IMG_MAGIC "uwebimg\x1a"
#define IMG_VERSION 1
#define IMG_PAGE 4096u
#define IMG_MAX_LEVELS 8
#define IMG_ENTRY_SIZE 64u
#define IMG_ENTRIES_PER_PAGE (IMG_PAGE / IMG_ENTRY_SIZE)   /* 64 */
#define IMG_HASHES_PER_PAGE (IMG_PAGE / 32u)               /* 128 */
#define IMG_NONE 0xffffffffu

/* Limits the reader enforces on what it reads (a writer stays below). */
#define IMG_MAX_BLOCK (4u << 20)          /* stored or decompressed block */
#define IMG_MAX_PATH 4096u
#define IMG_MAX_DEPTH 16u

/* Header field offsets. */
enum {
    H_MAGIC = 0,            /* 8 bytes */
    H_VERSION = 8,          /* u32 */
    H_HEADER_SIZE = 12,     /* u32, 4096 */
    H_IMAGE_SIZE = 16,      /* u64 */
    H_NFILES = 24,          /* u64: paths in the index */
    H_NCONTENTS = 32,       /* u64: distinct contents */
    H_TOTAL_BYTES = 40,     /* u64: sum of the file sizes */
    H_NBLOCKS = 48,         /* u64: entries in the block table */
    H_BLOCKS_END = 56,      /* u64 */
    H_TABLE_OFFSET = 64,    /* u64 */
    H_NLEVELS = 72,         /* u32: the table is level 0 */
    H_INDEX_ROOT = 76,      /* u32: block of the index's root page */
    H_INDEX_DEPTH = 80,     /* u32: 1 when the root is a leaf */
    H_DICT_BLOCK = 84,      /* u32 or IMG_NONE */
    H_CHUNK_SIZE = 88,      /* u32: bytes per chunk of a large file */
    H_SOLID_SIZE = 92,      /* u32: target bytes per solid block */
    H_SOURCE_TIME = 96,     /* i64: commit time, or newest mtime */
    H_LEVEL_OFFSET = 104,   /* u64[8] */
    H_LEVEL_PAGES = 168,    /* u32[8] */
    H_LEVEL_ZSTD = 200,     /* u32: compression level used (informative) */
    H_SOURCE_KIND = 204,    /* u32: 0 directory, 1 Git */
    H_SOURCE_COMMIT = 208,  /* 64 bytes: hex commit id, NUL-padded */
    H_SOURCE_REF = 272,     /* 128 bytes: the ref as given, NUL-padded */
    H_ROOT = 4032,          /* 32 bytes: Merkle root */
    H_HASH = 4064,          /* 32 bytes: SHA-256 of [0, 4064) */
};

/* Block table entry (64 bytes). */
enum {
    E_OFFSET = 0,           /* u64 */
    E_CSIZE = 8,            /* u32: stored bytes */
    E_USIZE = 12,           /* u32: bytes once decompressed */
    E_METHOD = 16,          /* u8 */
    E_KIND = 17,            /* u8 */
    E_HASH = 24,            /* 32 bytes: SHA-256 of the stored bytes */
};
enum { IMG_STORED = 0, IMG_ZSTD = 1, IMG_ZSTD_DICT = 2 };
enum { IMG_KIND_DATA = 0, IMG_KIND_INDEX = 1, IMG_KIND_DICT = 2 };

/*
 * Index pages (decompressed): u8 level (0 = leaf), u8 0, u16 count, then
 * count entries sorted by path (bytewise, a prefix first).
 *   leaf:      u16 path_len, path (no leading '/'), u64 size, i64 mtime,
 *              u8 type_len, type, the first 16 bytes of the content's
 *              SHA-256 (IMG_CONTENT_HASH),
 *              u8 location (IMG_LOC_*), u32 a, u32 b
 *                packed:  block a holds the content at offset b
 *                chunked: blocks a .. a + ceil(size / chunk_size) - 1
 *                empty:   no block (a = b = IMG_NONE)
 *   internal:  u16 key_len, key (the first path under the child), u32 child
 */
enum { IMG_LOC_EMPTY = 0, IMG_LOC_PACKED = 1, IMG_LOC_CHUNKED = 2 };
#define IMG_INDEX_PAGE 16384u  /* target decompressed size of an index page */
#define IMG_CONTENT_HASH 16u   /* bytes of SHA-256 kept per file: its ETag */

static inline uint16_t img_get16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static inline uint32_t img_get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t img_get64(const uint8_t *p) { return img_get32(p) | (uint64_t)img_get32(p + 4) << 32; }
static inline void img_put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static inline void img_put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static inline void img_put64(uint8_t *p, uint64_t v)
{
    img_put32(p, (uint32_t)v);
    img_put32(p + 4, (uint32_t)(v >> 32));
}

/* The order of paths in the index: bytewise, a shorter prefix first. */
static inline int img_path_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
    size_t n = alen < blen ? alen : blen;
    int c = n ? memcmp(a, b, n) : 0;
    if (c) return c < 0 ? -1 : 1;
    return alen < blen ? -1 : alen > blen ? 1 : 0;
}

#endif
