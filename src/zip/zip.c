/* The streaming ZIP writer (see include/uweb/zip.h for the contract). */
#include "uweb/zip.h"
#include "zip_internal.h"

#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define PROBE_SIZE (64 * 1024)          /* first bytes of an entry, buffered */
#define OUT_CAP (128 * 1024)            /* output buffer */
#define HEADER_MAX (30 + ZIP_NAME_MAX + ZIP_SUFFIX_MAX + 20 + 9)
#define DIRECT_MIN (16 * 1024)          /* stored writes this big skip the copy */
#define ZIP64_HINT_LIMIT 0xFF000000u    /* hints above this may pass 4 GiB once deflated */
#define MAX32 0xFFFFFFFFu
#define MAX16 0xFFFFu

enum { ST_IDLE, ST_PROBE, ST_STREAM, ST_DONE };

/* One central directory record, kept until uw_zip_finish. */
typedef struct zip_record {
    uint64_t offset, csize, usize;
    uint32_t crc;
    uint32_t name_off;      /* into names */
    uint32_t dup_next;      /* next counter to try for a duplicate of this name */
    uint32_t dir_alias;     /* n when "name/..." became "name (n)/...", or 0 */
    uint32_t mtime;         /* for the 0x5455 field */
    uint16_t name_len, method, dos_time, dos_date;
    uint8_t descriptor;     /* bit 3 set: sizes follow the data */
    uint8_t local_zip64;    /* the local header had a ZIP64 extra field */
} zip_record;
_Static_assert(sizeof(zip_record) == 56, "zip.h documents 56 bytes per entry");

/* A directory some entry's name implies ("a/b/c" implies "a" and "a/b"):
 * a prefix of that entry's name. */
typedef struct zip_dir {
    uint32_t name_off, len;
    uint32_t dup_next;      /* next counter to try for a file named like it */
} zip_dir;

/* Names of records or directories, by open addressing: a slot holds
 * index + 1 of the record (or directory), 0 when empty, and the hash of
 * its name's key; at most half full. */
typedef struct name_slot {
    uint32_t index, hash;
} name_slot;

typedef struct name_set {
    name_slot *slots;
    size_t cap;
    bool dirs;                      /* indexes z->dirs, else z->records */
} name_set;

struct uw_zip {
    uw_zip_allocator al;
    uw_zip_write_fn write;
    void *write_ctx;
    int level, window_bits, mem_level;
    size_t max_entries, max_name_bytes;

    int state;
    uw_zip_error error;             /* sticky */
    uint64_t offset;                /* bytes produced (sent + buffered) */

    /* the current entry */
    uint64_t size_hint;
    size_t probe_len;
    int deflating;
    z_stream zs;
    int zs_ready;

    /* the central directory */
    zip_record *records;
    size_t count, records_cap;
    char *names;
    size_t names_len, names_cap;
    name_set files;                 /* the records by name */
    zip_dir *dirs;                  /* directories the names imply */
    size_t dirs_count, dirs_cap;
    name_set dir_set;               /* the directories by name */

    size_t out_len;
    unsigned char out[OUT_CAP];
    unsigned char probe[PROBE_SIZE];
    char name_buf[ZIP_NAME_MAX + ZIP_SUFFIX_MAX + 1];
    uint32_t key[ZIP_KEY_MAX];      /* the key of the name looked up */
    uint32_t other[ZIP_KEY_MAX];    /* the key of a name it is compared with */
};

const char *uw_zip_strerror(uw_zip_error err)
{
    switch (err) {
    case UW_ZIP_OK: return "success";
    case UW_ZIP_ENOMEM: return "out of memory";
    case UW_ZIP_ESINK: return "the output sink failed";
    case UW_ZIP_ELIMIT: return "too many entries or too many name bytes for the central directory";
    case UW_ZIP_ESTATE: return "call out of order";
    case UW_ZIP_ETOOBIG: return "entry reached 4 GiB although its size hint said it would not";
    case UW_ZIP_EINVAL: return "option out of range";
    case UW_ZIP_EZLIB: return "deflate failed";
    }
    return "unknown error";
}

/* ------------------------------------------------------------ memory */

static void *std_alloc(void *ctx, size_t size) { (void)ctx; return malloc(size); }
static void std_free(void *ctx, void *ptr) { (void)ctx; free(ptr); }
static const uw_zip_allocator std_allocator = { std_alloc, std_free, NULL };

static voidpf z_alloc(voidpf opaque, uInt items, uInt size)
{
    uw_zip *z = opaque;
    if (size && items > SIZE_MAX / size)
        return Z_NULL;
    return z->al.alloc(z->al.ctx, (size_t)items * size);
}

static void z_free(voidpf opaque, voidpf ptr)
{
    uw_zip *z = opaque;
    z->al.free(z->al.ctx, ptr);
}

/* Grows *arr (elem bytes each) to hold at least need elements. */
static int grow(uw_zip *z, void **arr, size_t *cap, size_t need, size_t elem, size_t first)
{
    if (need <= *cap)
        return 0;
    size_t n = *cap ? *cap : first;
    while (n < need) {
        if (n > SIZE_MAX / 2 / elem)
            return -1;
        n *= 2;
    }
    void *p = z->al.alloc(z->al.ctx, n * elem);
    if (!p)
        return -1;
    if (*cap)
        memcpy(p, *arr, *cap * elem);
    z->al.free(z->al.ctx, *arr);
    *arr = p;
    *cap = n;
    return 0;
}

/* ------------------------------------------------------------ output */

static void put16(unsigned char *p, uint32_t v) { p[0] = (unsigned char)v; p[1] = (unsigned char)(v >> 8); }
static void put32(unsigned char *p, uint32_t v) { put16(p, v & 0xFFFF); put16(p + 2, v >> 16); }
static void put64(unsigned char *p, uint64_t v) { put32(p, (uint32_t)v); put32(p + 4, (uint32_t)(v >> 32)); }

static uw_zip_error fail(uw_zip *z, uw_zip_error e)
{
    if (!z->error)
        z->error = e;
    return z->error;
}

static uw_zip_error flush_out(uw_zip *z)
{
    if (z->out_len && z->write(z->write_ctx, z->out, z->out_len) != 0)
        return fail(z, UW_ZIP_ESINK);
    z->out_len = 0;
    return UW_ZIP_OK;
}

/* Makes room for n bytes (n <= OUT_CAP) at the end of the output buffer. */
static uw_zip_error room(uw_zip *z, size_t n)
{
    if (OUT_CAP - z->out_len < n)
        return flush_out(z);
    return UW_ZIP_OK;
}

static uw_zip_error emit(uw_zip *z, const void *buf, size_t len)
{
    const unsigned char *p = buf;
    z->offset += len;
    if (len >= DIRECT_MIN) {
        if (flush_out(z))
            return z->error;
        if (z->write(z->write_ctx, p, len) != 0)
            return fail(z, UW_ZIP_ESINK);
        return UW_ZIP_OK;
    }
    while (len) {
        if (room(z, 1))
            return z->error;
        size_t n = OUT_CAP - z->out_len < len ? OUT_CAP - z->out_len : len;
        memcpy(z->out + z->out_len, p, n);
        z->out_len += n;
        p += n;
        len -= n;
    }
    return UW_ZIP_OK;
}

/* ------------------------------------------------------------ lifecycle */

void uw_zip_options_default(uw_zip_options *o)
{
    o->level = 6;
    o->window_bits = 15;
    o->mem_level = 8;
    o->max_entries = 100000;
    o->max_name_bytes = 8u << 20;
    o->allocator = NULL;
}

uw_zip_error uw_zip_new(uw_zip **out, const uw_zip_options *opts,
                        uw_zip_write_fn write, void *write_ctx)
{
    uw_zip_options d;
    *out = NULL;
    if (!opts) {
        uw_zip_options_default(&d);
        opts = &d;
    }
    if (!write || opts->level < 0 || opts->level > 9 || opts->window_bits < 9 ||
        opts->window_bits > 15 || opts->mem_level < 1 || opts->mem_level > 9 ||
        opts->max_entries == 0 || opts->max_entries > UINT32_MAX - 1 ||
        opts->max_name_bytes > UINT32_MAX)
        return UW_ZIP_EINVAL;
    const uw_zip_allocator *al = opts->allocator ? opts->allocator : &std_allocator;
    uw_zip *z = al->alloc(al->ctx, sizeof *z);
    if (!z)
        return UW_ZIP_ENOMEM;
    memset(z, 0, offsetof(uw_zip, out));
    z->al = *al;
    z->write = write;
    z->write_ctx = write_ctx;
    z->level = opts->level;
    z->window_bits = opts->window_bits;
    z->mem_level = opts->mem_level;
    z->max_entries = opts->max_entries;
    z->max_name_bytes = opts->max_name_bytes;
    z->dir_set.dirs = true;
    z->state = ST_IDLE;
    *out = z;
    return UW_ZIP_OK;
}

void uw_zip_free(uw_zip *z)
{
    if (!z)
        return;
    if (z->zs_ready)
        deflateEnd(&z->zs);
    z->al.free(z->al.ctx, z->records);
    z->al.free(z->al.ctx, z->names);
    z->al.free(z->al.ctx, z->files.slots);
    z->al.free(z->al.ctx, z->dirs);
    z->al.free(z->al.ctx, z->dir_set.slots);
    z->al.free(z->al.ctx, z);
}

uint64_t uw_zip_bytes_out(const uw_zip *z)
{
    return z->offset;
}

const char *uw_zip_entry_name(const uw_zip *z)
{
    return z->count ? z->names + z->records[z->count - 1].name_off : NULL;
}

/* ------------------------------------------------------------ names */

/*
 * Names are compared by their keys (zip_name_key: NFC and simple case
 * folding), so that names a case-insensitive or normalizing file system
 * would take for the same ("a.txt" and "A.TXT", "\u00e9" and "e\u0301",
 * "\u00e4" and "\u00c4") get counters.  A lookup computes the key of the
 * name once; the key of a name in a set is computed only when the hashes
 * are equal.
 */
#define HASH_INIT 2166136261u
static uint32_t hash_step(uint32_t h, uint32_t c) { return (h ^ c) * 16777619u; }

static uint32_t key_hash(const uint32_t *key, size_t n)
{
    uint32_t h = HASH_INIT;
    for (size_t i = 0; i < n; i++)
        h = hash_step(h, key[i]);
    return h;
}

/* The key of s[0..len) in z->key; returns its length. */
_Static_assert(ZIP_KEY_MAX >= ZIP_WORK_CPS(ZIP_COMPONENT_IN), "z->key is zip_sanitize_name's work");

static size_t key_of(uw_zip *z, const char *s, size_t len)
{
    return zip_name_key(s, len, z->key, ZIP_KEY_MAX);
}

/* The name of entry i of set t. */
static const char *set_key(const uw_zip *z, const name_set *t, size_t i, size_t *len)
{
    if (t->dirs) {
        *len = z->dirs[i].len;
        return z->names + z->dirs[i].name_off;
    }
    *len = z->records[i].name_len;
    return z->names + z->records[i].name_off;
}

/* Index + 1 of the entry of t whose name has the key z->key[0..n) (of
 * hash h), or 0. */
static size_t set_find(uw_zip *z, const name_set *t, size_t n, uint32_t h)
{
    if (!t->cap)
        return 0;
    size_t mask = t->cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        name_slot e = t->slots[i];
        if (!e.index)
            return 0;
        if (e.hash != h)
            continue;
        size_t kl;
        const char *k = set_key(z, t, e.index - 1, &kl);
        if (zip_name_key(k, kl, z->other, ZIP_KEY_MAX) == n &&
            memcmp(z->other, z->key, n * sizeof z->key[0]) == 0)
            return e.index;
    }
}

static void set_insert(name_set *t, size_t index, uint32_t h)
{
    size_t mask = t->cap - 1;
    size_t i = h & mask;
    while (t->slots[i].index)
        i = (i + 1) & mask;
    t->slots[i] = (name_slot){ (uint32_t)(index + 1), h };
}

/* Room for `entries` entries in t: keeps it at most half full, moving
 * the slots when it doubles. */
static int set_reserve(uw_zip *z, name_set *t, size_t entries)
{
    if (entries * 2 <= t->cap)
        return 0;
    size_t cap = t->cap ? t->cap : 64;
    while (entries * 2 > cap)
        cap *= 2;
    name_slot *slots = z->al.alloc(z->al.ctx, cap * sizeof *slots);
    if (!slots)
        return -1;
    memset(slots, 0, cap * sizeof *slots);
    name_set old = *t;
    t->slots = slots;
    t->cap = cap;
    for (size_t i = 0; i < old.cap; i++)
        if (old.slots[i].index)
            set_insert(t, old.slots[i].index - 1, old.slots[i].hash);
    z->al.free(z->al.ctx, old.slots);
    return 0;
}

/* Index + 1 of the record named like s[0..len), or 0. */
static size_t name_find(uw_zip *z, const char *s, size_t len)
{
    size_t n = key_of(z, s, len);
    return set_find(z, &z->files, n, key_hash(z->key, n));
}

static size_t format_suffix(char *p, uint32_t n)
{
    char digits[12];
    size_t k = 0, o = 0;
    do {
        digits[k++] = (char)('0' + n % 10);
        n /= 10;
    } while (n);
    p[o++] = ' ';
    p[o++] = '(';
    while (k)
        p[o++] = digits[--k];
    p[o++] = ')';
    return o;
}

/* Room for n directories and their names. */
static int dirs_reserve(uw_zip *z, size_t n)
{
    if (grow(z, (void **)&z->dirs, &z->dirs_cap, n, sizeof(zip_dir), 16))
        return -1;
    return set_reserve(z, &z->dir_set, n);
}

/* A counter to start from: where the last search for this name ended. */
static uint32_t *counter_of(uw_zip *z, size_t file, size_t dir)
{
    return file ? &z->records[file - 1].dup_next : &z->dirs[dir - 1].dup_next;
}

/*
 * Makes z->name_buf[0..*len) safe to extract beside the earlier names:
 * 1. a directory component named like an earlier file gets a counter
 *    ("a" then "a/b" -> "a (1)/b"; later "a/c" -> "a (1)/c" as well);
 * 2. a name taken by an earlier file or directory gets a counter before
 *    its extension ("a.txt" -> "a (1).txt", "a (2).txt"...).
 * At most count names are taken, so a free counter is found within
 * count + 1 tries; the counters kept per name skip those tried before.
 * Leaves the key of the name in z->key and returns its length.
 */
static size_t make_unique(uw_zip *z, size_t *len)
{
    char *s = z->name_buf;
    char keep[ZIP_NAME_MAX + ZIP_SUFFIX_MAX + 1];
    /* the key of the whole name once; that of each directory prefix is
     * the part before the matching '/', hashed on the way */
    size_t kn = key_of(z, s, *len), k = 0;
    uint32_t h = HASH_INIT;
    for (size_t p = 0; p < *len; p++) {
        if (s[p] != '/')
            continue;
        while (k < kn && z->key[k] != '/')
            h = hash_step(h, z->key[k++]);
        size_t file = set_find(z, &z->files, k, h);
        if (file) {
            size_t rest = *len - p;
            if (p + ZIP_SUFFIX_MAX + rest > ZIP_NAME_MAX) {
                /* no room for a counter: give up the path */
                memcpy(s, "unnamed", 7);
                *len = 7;
                kn = key_of(z, s, *len);
                break;
            }
            memcpy(keep, s + p, rest);
            /* the same alias every time, so "a/b" and "a/c" stay together;
             * an alias never becomes a file later (step 2 renames such a file) */
            uint32_t *alias = &z->records[file - 1].dir_alias;
            for (uint32_t n = *alias ? *alias : 1;; n++) {
                size_t o = p + format_suffix(s + p, n);
                if (!name_find(z, s, o)) {
                    *alias = n;
                    memcpy(s + o, keep, rest);
                    *len = o + rest;
                    p = o;
                    break;
                }
            }
            /* the new key, up to the '/' now at p */
            size_t slashes = 0;
            for (size_t i = 0; i < p; i++)
                slashes += s[i] == '/';
            kn = key_of(z, s, *len);
            h = HASH_INIT;
            for (k = 0; k < kn && (z->key[k] != '/' || slashes--); k++)
                h = hash_step(h, z->key[k]);
        }
        h = hash_step(h, '/');
        k++;
    }
    h = key_hash(z->key, kn);
    size_t file = set_find(z, &z->files, kn, h), dir = file ? 0 : set_find(z, &z->dir_set, kn, h);
    if (!file && !dir)
        return kn;
    uint32_t *next = counter_of(z, file, dir);
    size_t dot = zip_extension_start(s, *len);
    size_t ext_len = *len - dot;
    memcpy(keep, s + dot, ext_len);
    for (uint32_t n = *next ? *next : 1;; n++) {
        size_t o = dot + format_suffix(s + dot, n);
        memcpy(s + o, keep, ext_len);
        o += ext_len;
        size_t kl = key_of(z, s, o);
        uint32_t kh = key_hash(z->key, kl);
        if (!set_find(z, &z->files, kl, kh) && !set_find(z, &z->dir_set, kl, kh)) {
            *next = n + 1;
            *len = o;
            return kl;
        }
    }
}

/* ------------------------------------------------------------ entries */

uw_zip_error uw_zip_entry_begin(uw_zip *z, const char *name, size_t name_len,
                                int64_t mtime, uint64_t size_hint)
{
    if (z->error)
        return z->error;
    if (z->state != ST_IDLE)
        return UW_ZIP_ESTATE;
    if (z->count >= z->max_entries)
        return UW_ZIP_ELIMIT;
    size_t len = zip_sanitize_name(name ? name : "", name ? name_len : 0, z->name_buf, z->key, ZIP_KEY_MAX);
    if (len == 0) {
        memcpy(z->name_buf, "unnamed", 7);
        len = 7;
    }
    size_t kn = make_unique(z, &len), k = 0;
    if (z->names_len + len + 1 > z->max_name_bytes)
        return UW_ZIP_ELIMIT;
    size_t slashes = 0;
    for (size_t i = 0; i < len; i++)
        slashes += z->name_buf[i] == '/';
    if (grow(z, (void **)&z->records, &z->records_cap, z->count + 1, sizeof(zip_record), 16) ||
        grow(z, (void **)&z->names, &z->names_cap, z->names_len + len + 1, 1, 1024) ||
        set_reserve(z, &z->files, z->count + 1) || dirs_reserve(z, z->dirs_count + slashes))
        return UW_ZIP_ENOMEM;

    zip_record *r = &z->records[z->count];
    memset(r, 0, sizeof *r);
    r->name_off = (uint32_t)z->names_len;
    r->name_len = (uint16_t)len;
    memcpy(z->names + z->names_len, z->name_buf, len);
    z->names[z->names_len + len] = '\0';
    z->names_len += len + 1;
    zip_dos_time(mtime, &r->dos_time, &r->dos_date);
    r->mtime = (uint32_t)(mtime < 0 ? 0 : mtime > INT32_MAX ? INT32_MAX : mtime);
    set_insert(&z->files, z->count, key_hash(z->key, kn));
    z->count++;
    /* the directories it implies: prefixes before each '/', whose keys
     * are the parts of the key before the matching '/' */
    uint32_t h = HASH_INIT;
    for (size_t i = 0; i < len; i++) {
        if (z->name_buf[i] != '/')
            continue;
        while (k < kn && z->key[k] != '/')
            h = hash_step(h, z->key[k++]);
        if (!set_find(z, &z->dir_set, k, h)) {
            z->dirs[z->dirs_count] = (zip_dir){ r->name_off, (uint32_t)i, 0 };
            set_insert(&z->dir_set, z->dirs_count++, h);
        }
        h = hash_step(h, '/');
        k++;
    }

    z->size_hint = size_hint;
    z->probe_len = 0;
    z->deflating = 0;
    z->state = ST_PROBE;
    return UW_ZIP_OK;
}

static size_t local_header_len(const zip_record *r)
{
    return 30 + r->name_len + (r->local_zip64 ? 20 : 0) + 9;
}

/* Writes r's local header at p (local_header_len(r) bytes). */
static void local_header(const zip_record *r, unsigned char *p)
{
    put32(p, 0x04034b50);
    put16(p + 4, r->local_zip64 ? 45 : 20);
    put16(p + 6, (1u << 11) | (r->descriptor ? 1u << 3 : 0));
    put16(p + 8, r->method);
    put16(p + 10, r->dos_time);
    put16(p + 12, r->dos_date);
    put32(p + 14, r->descriptor ? 0 : r->crc);
    put32(p + 18, r->local_zip64 ? MAX32 : r->descriptor ? 0 : (uint32_t)r->csize);
    put32(p + 22, r->local_zip64 ? MAX32 : r->descriptor ? 0 : (uint32_t)r->usize);
    put16(p + 26, r->name_len);
    put16(p + 28, (r->local_zip64 ? 20 : 0) + 9);
    p += 30;
    p += r->name_len; /* the caller copies the name */
    if (r->local_zip64) {
        put16(p, 0x0001);
        put16(p + 2, 16);
        put64(p + 4, 0);
        put64(p + 12, 0);
        p += 20;
    }
    put16(p, 0x5455);
    put16(p + 2, 5);
    p[4] = 1;
    put32(p + 5, r->mtime);
}

static uint32_t crc_update(uint32_t crc, const unsigned char *p, size_t len)
{
    while (len) {
        uInt n = len > UINT_MAX ? UINT_MAX : (uInt)len;
        crc = (uint32_t)crc32(crc, p, n);
        p += n;
        len -= n;
    }
    return crc;
}

static uw_zip_error deflate_ready(uw_zip *z)
{
    if (z->zs_ready)
        return deflateReset(&z->zs) == Z_OK ? UW_ZIP_OK : fail(z, UW_ZIP_EZLIB);
    memset(&z->zs, 0, sizeof z->zs);
    z->zs.zalloc = z_alloc;
    z->zs.zfree = z_free;
    z->zs.opaque = z;
    int rc = deflateInit2(&z->zs, z->level, Z_DEFLATED, -z->window_bits, z->mem_level,
                          Z_DEFAULT_STRATEGY);
    if (rc == Z_MEM_ERROR)
        return UW_ZIP_ENOMEM;
    if (rc != Z_OK)
        return UW_ZIP_EZLIB;
    z->zs_ready = 1;
    return UW_ZIP_OK;
}

/* Deflates in[0..len) with flush into the output buffer, sending it each
 * time it fills.  Counts the compressed bytes into r->csize. */
static uw_zip_error deflate_out(uw_zip *z, zip_record *r, const unsigned char *in, size_t len, int flush)
{
    z->zs.next_in = (Bytef *)in;
    for (;;) {
        uInt chunk = len > UINT_MAX ? UINT_MAX : (uInt)len;
        z->zs.avail_in = chunk;
        for (;;) {
            if (OUT_CAP - z->out_len < 4096 && flush_out(z))
                return z->error;
            uInt avail = (uInt)(OUT_CAP - z->out_len);
            z->zs.next_out = z->out + z->out_len;
            z->zs.avail_out = avail;
            int rc = deflate(&z->zs, chunk == len ? flush : Z_NO_FLUSH);
            size_t produced = avail - z->zs.avail_out;
            z->out_len += produced;
            z->offset += produced;
            r->csize += produced;
            if (rc == Z_STREAM_END)
                return UW_ZIP_OK;
            if (rc != Z_OK && rc != Z_BUF_ERROR)
                return fail(z, UW_ZIP_EZLIB);
            if (z->zs.avail_in == 0 && z->zs.avail_out != 0)
                break;
        }
        len -= chunk;
        if (len == 0)
            return UW_ZIP_OK;
    }
}

/*
 * Chooses the method from the probe buffer and sends the local header with
 * what is known.  final: the entry ends with the probe (its sizes and CRC
 * go in the local header, no descriptor); otherwise the entry streams on.
 *
 * The trial deflate runs straight into the output buffer behind room left
 * for the header, so a deflated entry is compressed once; if the result
 * does not fit in PROBE_SIZE or does not shrink enough, the entry is stored
 * and the trial is thrown away.
 */
static uw_zip_error decide(uw_zip *z, int final)
{
    zip_record *r = &z->records[z->count - 1];
    size_t in = z->probe_len;
    r->offset = z->offset;
    r->crc = crc_update((uint32_t)crc32(0, Z_NULL, 0), z->probe, in);
    r->usize = in;
    r->descriptor = !final;
    r->local_zip64 = !final && z->size_hint >= ZIP64_HINT_LIMIT;
    size_t hlen = local_header_len(r);
    if (room(z, hlen + PROBE_SIZE + 64))
        return z->error;
    unsigned char *h = z->out + z->out_len;
    unsigned char *data = h + hlen;
    size_t space = OUT_CAP - z->out_len - hlen;

    int deflated = 0;
    size_t csize = 0;
    if (z->level > 0 && in > 0) {
        uw_zip_error e = deflate_ready(z);
        if (e)
            return fail(z, e);
        z->zs.next_in = z->probe;
        z->zs.avail_in = (uInt)in;
        z->zs.next_out = data;
        z->zs.avail_out = (uInt)(space < in ? space : in);
        int rc = deflate(&z->zs, final ? Z_FINISH : Z_BLOCK);
        if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR)
            return fail(z, UW_ZIP_EZLIB);
        csize = (size_t)(z->zs.next_out - data);
        int complete = final ? rc == Z_STREAM_END : z->zs.avail_in == 0 && z->zs.avail_out != 0;
        /* final: any gain; streaming: at least 3 % over the probe */
        deflated = complete && (final ? csize < in : csize <= in - in / 32);
    }
    if (deflated) {
        r->method = 8;
        z->deflating = !final;
    } else {
        r->method = 0;
        csize = in;
        memcpy(data, z->probe, in);
    }
    r->csize = csize;
    local_header(r, h);
    memcpy(h + 30, z->names + r->name_off, r->name_len);
    z->out_len += hlen + csize;
    z->offset += hlen + csize;
    z->probe_len = 0;
    return UW_ZIP_OK;
}

static uw_zip_error check_size(uw_zip *z, const zip_record *r)
{
    if (!r->local_zip64 && r->descriptor && (r->usize >= MAX32 || r->csize >= MAX32))
        return fail(z, UW_ZIP_ETOOBIG);
    return UW_ZIP_OK;
}

uw_zip_error uw_zip_entry_write(uw_zip *z, const void *buf, size_t len)
{
    const unsigned char *p = buf;
    if (z->error)
        return z->error;
    if (z->state != ST_PROBE && z->state != ST_STREAM)
        return UW_ZIP_ESTATE;
    if (len == 0)
        return UW_ZIP_OK;
    zip_record *r = &z->records[z->count - 1];
    if (z->state == ST_PROBE) {
        size_t n = PROBE_SIZE - z->probe_len < len ? PROBE_SIZE - z->probe_len : len;
        memcpy(z->probe + z->probe_len, p, n);
        z->probe_len += n;
        p += n;
        len -= n;
        if (len == 0)
            return UW_ZIP_OK; /* a full probe waits: the entry may end right here */
        if (decide(z, 0))
            return z->error;
        z->state = ST_STREAM;
    }
    r->crc = crc_update(r->crc, p, len);
    r->usize += len;
    if (z->deflating) {
        if (deflate_out(z, r, p, len, Z_NO_FLUSH))
            return z->error;
    } else {
        r->csize += len;
        if (emit(z, p, len))
            return z->error;
    }
    return check_size(z, r);
}

uw_zip_error uw_zip_entry_end(uw_zip *z)
{
    if (z->error)
        return z->error;
    if (z->state != ST_PROBE && z->state != ST_STREAM)
        return UW_ZIP_ESTATE;
    zip_record *r = &z->records[z->count - 1];
    if (z->state == ST_PROBE) {
        /* A full probe with nothing after it still streams: the entry
         * could not be known to end when the probe filled. */
        if (decide(z, z->probe_len < PROBE_SIZE))
            return z->error;
    }
    if (z->deflating && deflate_out(z, r, NULL, 0, Z_FINISH))
        return z->error;
    if (check_size(z, r))
        return z->error;
    if (r->descriptor) {
        unsigned char d[24];
        put32(d, 0x08074b50);
        put32(d + 4, r->crc);
        if (r->local_zip64) {
            put64(d + 8, r->csize);
            put64(d + 16, r->usize);
        } else {
            put32(d + 8, (uint32_t)r->csize);
            put32(d + 12, (uint32_t)r->usize);
        }
        if (emit(z, d, r->local_zip64 ? 24 : 16))
            return z->error;
    }
    z->deflating = 0;
    z->state = ST_IDLE;
    return UW_ZIP_OK;
}

/* ------------------------------------------------------------ the end */

static uw_zip_error central_record(uw_zip *z, const zip_record *r)
{
    int zu = r->usize >= MAX32, zc = r->csize >= MAX32, zo = r->offset >= MAX32;
    size_t z64 = (zu + zc + zo) * 8u;
    size_t extra = (z64 ? 4 + z64 : 0) + 9;
    int v45 = z64 || r->local_zip64;
    size_t len = 46 + r->name_len + extra;
    if (room(z, len))
        return z->error;
    unsigned char *p = z->out + z->out_len;
    put32(p, 0x02014b50);
    put16(p + 4, (3u << 8) | (v45 ? 45 : 20)); /* made by: Unix */
    put16(p + 6, v45 ? 45 : 20);
    put16(p + 8, (1u << 11) | (r->descriptor ? 1u << 3 : 0));
    put16(p + 10, r->method);
    put16(p + 12, r->dos_time);
    put16(p + 14, r->dos_date);
    put32(p + 16, r->crc);
    put32(p + 20, zc ? MAX32 : (uint32_t)r->csize);
    put32(p + 24, zu ? MAX32 : (uint32_t)r->usize);
    put16(p + 28, r->name_len);
    put16(p + 30, (uint32_t)extra);
    put16(p + 32, 0);              /* comment */
    put16(p + 34, 0);              /* disk */
    put16(p + 36, 0);              /* internal attributes */
    put32(p + 38, 0100644u << 16); /* external: a regular file, rw-r--r-- */
    put32(p + 42, zo ? MAX32 : (uint32_t)r->offset);
    memcpy(p + 46, z->names + r->name_off, r->name_len);
    p += 46 + r->name_len;
    if (z64) {
        put16(p, 0x0001);
        put16(p + 2, (uint32_t)z64);
        p += 4;
        if (zu) { put64(p, r->usize); p += 8; }
        if (zc) { put64(p, r->csize); p += 8; }
        if (zo) { put64(p, r->offset); p += 8; }
    }
    put16(p, 0x5455);
    put16(p + 2, 5);
    p[4] = 1;
    put32(p + 5, r->mtime);
    z->out_len += len;
    z->offset += len;
    return UW_ZIP_OK;
}

uw_zip_error uw_zip_finish(uw_zip *z)
{
    if (z->error)
        return z->error;
    if (z->state == ST_DONE)
        return UW_ZIP_ESTATE;
    if (z->state != ST_IDLE && uw_zip_entry_end(z))
        return z->error;
    uint64_t cd_offset = z->offset;
    for (size_t i = 0; i < z->count; i++)
        if (central_record(z, &z->records[i]))
            return z->error;
    uint64_t cd_size = z->offset - cd_offset;
    uint64_t n = z->count;
    int zn = n >= MAX16, zs = cd_size >= MAX32, zo = cd_offset >= MAX32;
    unsigned char e[56 + 20 + 22], *p = e;
    if (zn || zs || zo) {
        uint64_t at = z->offset;
        put32(p, 0x06064b50);
        put64(p + 4, 44);
        put16(p + 12, (3u << 8) | 45);
        put16(p + 14, 45);
        put32(p + 16, 0);
        put32(p + 20, 0);
        put64(p + 24, n);
        put64(p + 32, n);
        put64(p + 40, cd_size);
        put64(p + 48, cd_offset);
        p += 56;
        put32(p, 0x07064b50);
        put32(p + 4, 0);
        put64(p + 8, at);
        put32(p + 16, 1);
        p += 20;
    }
    put32(p, 0x06054b50);
    put16(p + 4, 0);
    put16(p + 6, 0);
    put16(p + 8, zn ? MAX16 : (uint32_t)n);
    put16(p + 10, zn ? MAX16 : (uint32_t)n);
    put32(p + 12, zs ? MAX32 : (uint32_t)cd_size);
    put32(p + 16, zo ? MAX32 : (uint32_t)cd_offset);
    put16(p + 20, 0);
    p += 22;
    if (emit(z, e, (size_t)(p - e)) || flush_out(z))
        return z->error;
    z->state = ST_DONE;
    return UW_ZIP_OK;
}
