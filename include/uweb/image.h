/*
 * image.h — read-only site images: a folder or a Git tree, compressed,
 * served from a block device or a file.
 *
 * `uweb-image build` (tools/image/) writes an image; tools/image/README.md
 * describes its format.  This is the reader: it opens an image through a
 * read function (a file, a uw_block device, a buffer in a test), finds
 * files by path with a few reads of the image's sorted index, and reads
 * their bytes.  Every block read from the image is checked against its
 * SHA-256, and the block table against the Merkle root in the header, so
 * a corrupt image gives UW_EIO and a message (uw_image_error), never
 * wrong bytes.
 *
 * Memory: the reader keeps the header, a zstd decompression context, the
 * dictionary when the image has one, and a cache of decompressed blocks
 * and table pages bounded by uw_image_config.cache_bytes.  Nothing grows
 * with the number of files.
 *
 * Threads and tasks: an uw_image is used by one thread; calls do not
 * suspend the calling task but run the read function synchronously (a
 * uw_block read suspends the whole process or guest, see block.h).  Data
 * returned in a uw_image_file is the caller's; bytes read land in the
 * caller's buffer.
 *
 * Calling pattern:
 *
 *     uw_image *im;
 *     if (uw_image_open_file(&im, "site.img", NULL) != UW_OK) -> error in uw_image_open_error()
 *     uw_image_file f;
 *     int r = uw_image_lookup(im, "/docs/index.html", 16, &f);   // UW_OK, UW_ENOENT, UW_EIO
 *     r = uw_image_read(im, &f, offset, buf, n);                  // UW_OK or UW_EIO
 *     uw_image_close(im);
 *
 * The reader is the same on every target (zstd's decompressor is compiled
 * for the guests, platform/zstd/build.mk); the unikernels have no files,
 * so there uw_image_open_file fails (UW_EINVAL) and images come from block
 * devices (uw_image_open_device).
 */
#ifndef UWEB_IMAGE_H
#define UWEB_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "uweb/runtime.h"

/* Not in the runtime's list: no file at that path. */
#define UW_ENOENT (-100)

typedef struct uw_image uw_image;

/* Reads N bytes at OFFSET of the image into BUF: UW_OK or UW_EIO.  Any
 * offset and length within the size given to uw_image_open. */
typedef int (*uw_image_read_fn)(void *arg, uint64_t offset, void *buf, size_t n);

typedef struct uw_image_config {
    size_t cache_bytes;     /* 0: UW_IMAGE_CACHE_DEFAULT; at least one block is kept */
} uw_image_config;
#define UW_IMAGE_CACHE_DEFAULT (2u << 20)

/* What the header says. */
typedef struct uw_image_info {
    uint32_t version;
    uint64_t image_size;
    uint64_t files;         /* paths */
    uint64_t contents;      /* distinct contents (deduplicated) */
    uint64_t total_bytes;   /* sum of the files' sizes */
    uint64_t blocks;
    uint32_t chunk_size, solid_size;
    bool dictionary;
    int git;                /* 1: built from a Git tree */
    char commit[65];        /* hex commit id, "" for a folder */
    char ref[129];          /* the ref it was built from */
    int64_t source_time;    /* commit time, or newest modification time */
    uint8_t root[32];       /* Merkle root */
} uw_image_info;

/* A file found by uw_image_lookup (a copy: the caller's). */
typedef struct uw_image_file {
    char path[1026];        /* with its leading '/'; truncated past 1024 bytes */
    uint64_t size;
    int64_t mtime;          /* Last-Modified, seconds since the epoch */
    char content_type[128];
    char etag[36];          /* strong, quoted: from the content's SHA-256 */
    uint8_t hash[16];       /* the first 16 bytes of the content's SHA-256 */
    /* where the bytes are (the reader's business) */
    uint8_t location;
    uint32_t a, b;
} uw_image_file;

/*
 * Opens the image that READ reads, SIZE bytes long (a device may be
 * larger than the image it holds).  Checks the header (magic, version,
 * its own hash, sizes; an image longer than SIZE is truncated) and the
 * root page of the index.  UW_OK and *out set; UW_EIO with a line in
 * uw_image_open_error() for a bad or truncated image; UW_ENOMEM.
 * CFG may be NULL.
 */
int uw_image_open(uw_image **out, uw_image_read_fn read, void *arg, uint64_t size,
                  const uw_image_config *cfg);
/* The same over a file (unix; UW_EIO when it cannot be opened). */
int uw_image_open_file(uw_image **out, const char *path, const uw_image_config *cfg);
/* The same over the block device NAME (block.h: --block:NAME=FILE on
 * unix, the tender's device on spt and hvt); UW_EINVAL when there is no
 * such device. */
int uw_image_open_device(uw_image **out, const char *name, const uw_image_config *cfg);
/* The reason the last open in this thread failed: one line, no newline. */
const char *uw_image_open_error(void);

void uw_image_close(uw_image *im);

void uw_image_get_info(const uw_image *im, uw_image_info *info);

/* The reason of the last UW_EIO from IM: "block 12: SHA-256 mismatch". */
const char *uw_image_error(const uw_image *im);

/*
 * Finds PATH (with or without its leading '/'; no query).  UW_OK and *f
 * filled, UW_ENOENT, UW_EIO (a corrupt index page).
 */
int uw_image_lookup(uw_image *im, const char *path, size_t len, uw_image_file *f);

/*
 * Reads [OFFSET, OFFSET + N) of F's content into BUF (the range must lie
 * within the file: UW_EINVAL otherwise).  Reads and checks only the
 * blocks that hold the range.  UW_OK or UW_EIO.
 */
int uw_image_read(uw_image *im, const uw_image_file *f, uint64_t offset, void *buf, size_t n);

/*
 * Calls FN for every file in path order, from the first path not before
 * FROM (NULL: from the start); FN returns 0 to go on, anything else stops
 * the walk and is returned.  UW_EIO for a corrupt index page.
 */
int uw_image_each(uw_image *im, const char *from, int (*fn)(void *arg, const uw_image_file *f), void *arg);

/*
 * Checks the whole image: the header, every page of the block table and
 * of the Merkle levels, every block (hash, decompression, size), every
 * index page, and that nothing lies outside them (padding is zero).
 * REPORT gets one line per problem found (naming the block and, when the
 * index can be read, the files it holds).  Returns the number of
 * problems (0: the image is sound).
 */
int uw_image_verify(uw_image *im, void (*report)(void *arg, const char *line), void *arg);

/* ------------------------------------------------------------ serving
 * The glue with the web framework (web.h), in src/image/image_web.c. */

typedef struct uw_image_mount {
    uw_image *image;
    const char *cache_control;  /* NULL: "no-cache" */
} uw_image_mount;

struct uw_req;
struct uw_res;

/*
 * A route handler serving an image as uw_static_handler serves embedded
 * assets; the route's arg is a `uw_image_mount *`.  With a <rest:path>
 * capture the file path is "/" + the capture, else the request path.
 * GET and HEAD; ETag (strong) and If-None-Match / If-Modified-Since → 304,
 * Last-Modified, Range → 206 or 416 (If-Range), "dir/" serves
 * dir/index.html, "dir" with an index answers 308 to "dir/"; unknown path
 * 404; a file whose blocks are corrupt 500 (and the server log says why).
 */
void uw_image_handler(struct uw_req *req, struct uw_res *res);

#endif
