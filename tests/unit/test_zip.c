/*
 * Unit tests of the streaming ZIP writer.  Each archive is read back by a
 * small independent reader below (central directory -> local header ->
 * data -> data descriptor, CRC-32 and inflate by zlib); tests/zip/ checks
 * the same archives with unzip, 7z, bsdtar, Python and zipdetails.
 */
#include "uweb/zip.h"
#include "../../src/zip/zip_internal.h"
#include "../check.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

/* ------------------------------------------------------------ sinks */

typedef struct membuf {
    unsigned char *p;
    size_t len, cap;
    size_t calls;
    size_t fail_at;     /* fail the Nth call (1-based); 0 never */
    size_t max_chunk;
} membuf;

static int mem_sink(void *ctx, const void *buf, size_t len)
{
    membuf *m = ctx;
    m->calls++;
    if (m->fail_at && m->calls >= m->fail_at)
        return -1;
    if (len > m->max_chunk)
        m->max_chunk = len;
    if (m->len + len > m->cap) {
        size_t cap = m->cap ? m->cap : 4096;
        while (cap < m->len + len)
            cap *= 2;
        m->p = realloc(m->p, cap);
        m->cap = cap;
    }
    memcpy(m->p + m->len, buf, len);
    m->len += len;
    return 0;
}

/* Counts bytes only, for big archives. */
typedef struct countsink {
    uint64_t bytes;
    unsigned char tail[256];    /* the last bytes seen */
    size_t tail_len;
} countsink;

static int count_sink(void *ctx, const void *buf, size_t len)
{
    countsink *c = ctx;
    c->bytes += len;
    if (len >= sizeof c->tail) {
        memcpy(c->tail, (const unsigned char *)buf + len - sizeof c->tail, sizeof c->tail);
        c->tail_len = sizeof c->tail;
    } else {
        size_t keep = sizeof c->tail - len < c->tail_len ? sizeof c->tail - len : c->tail_len;
        memmove(c->tail, c->tail + c->tail_len - keep, keep);
        memcpy(c->tail + keep, buf, len);
        c->tail_len = keep + len;
    }
    return 0;
}

/* ------------------------------------------------------------ a reader */

static uint16_t get16(const unsigned char *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t get32(const unsigned char *p) { return (uint32_t)get16(p) | (uint32_t)get16(p + 2) << 16; }
static uint64_t get64(const unsigned char *p) { return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32; }

typedef struct entry {
    char name[2048];
    unsigned method, flags;
    uint64_t usize, csize, offset;
    uint32_t crc, mtime;
    unsigned char *data;      /* inflated, malloc'd */
    int local_zip64, has_descriptor;
} entry;

typedef struct archive {
    entry *e;
    size_t n;
    int zip64_end;
} archive;

static void archive_free(archive *a)
{
    for (size_t i = 0; i < a->n; i++)
        free(a->e[i].data);
    free(a->e);
    memset(a, 0, sizeof *a);
}

/* Finds an extra field; returns its data or NULL. */
static const unsigned char *find_extra(const unsigned char *x, size_t len, uint16_t id, size_t *dlen)
{
    while (len >= 4) {
        size_t l = get16(x + 2);
        if (l + 4 > len)
            return NULL;
        if (get16(x) == id) {
            *dlen = l;
            return x + 4;
        }
        x += 4 + l;
        len -= 4 + l;
    }
    return NULL;
}

/* Reads a whole archive in memory; returns NULL or why it is bad. */
static const char *read_zip(const unsigned char *z, size_t len, archive *a)
{
    memset(a, 0, sizeof *a);
    if (len < 22 || get32(z + len - 22) != 0x06054b50)
        return "no end of central directory at the end";
    const unsigned char *eocd = z + len - 22;
    uint64_t n = get16(eocd + 10), cd_size = get32(eocd + 12), cd_off = get32(eocd + 16);
    if (len >= 42 && get32(eocd - 20) == 0x07064b50) {
        uint64_t at = get64(eocd - 20 + 8);
        if (at + 56 > len || get32(z + at) != 0x06064b50)
            return "bad ZIP64 end locator";
        n = get64(z + at + 32);
        cd_size = get64(z + at + 40);
        cd_off = get64(z + at + 48);
        if (at != cd_off + cd_size)
            return "ZIP64 end record not right after the central directory";
        a->zip64_end = 1;
    } else if (cd_off + cd_size != len - 22) {
        return "central directory not right before the end record";
    }
    a->e = calloc(n ? n : 1, sizeof *a->e);
    const unsigned char *p = z + cd_off;
    for (uint64_t i = 0; i < n; i++) {
        entry *e = &a->e[a->n++];
        if (p + 46 > z + len || get32(p) != 0x02014b50)
            return "bad central header";
        e->flags = get16(p + 8);
        e->method = get16(p + 10);
        e->crc = get32(p + 16);
        e->csize = get32(p + 20);
        e->usize = get32(p + 24);
        size_t nl = get16(p + 28), xl = get16(p + 30), cl = get16(p + 32);
        e->offset = get32(p + 42);
        memcpy(e->name, p + 46, nl);
        e->name[nl] = 0;
        size_t dl;
        const unsigned char *x = find_extra(p + 46 + nl, xl, 0x0001, &dl);
        if (x) {
            if (e->usize == 0xFFFFFFFF) { e->usize = get64(x); x += 8; }
            if (e->csize == 0xFFFFFFFF) { e->csize = get64(x); x += 8; }
            if (e->offset == 0xFFFFFFFF) { e->offset = get64(x); x += 8; }
        }
        const unsigned char *ut = find_extra(p + 46 + nl, xl, 0x5455, &dl);
        if (!ut || dl != 5 || ut[0] != 1)
            return "no extended timestamp in the central header";
        e->mtime = get32(ut + 1);
        if (!(e->flags & (1 << 11)))
            return "UTF-8 flag missing";
        p += 46 + nl + xl + cl;

        /* the local header */
        const unsigned char *l = z + e->offset;
        if (e->offset + 30 > len || get32(l) != 0x04034b50)
            return "bad local header";
        if (get16(l + 6) != e->flags || get16(l + 8) != e->method)
            return "local header differs from central";
        size_t lnl = get16(l + 26), lxl = get16(l + 28);
        if (lnl != nl || memcmp(l + 30, e->name, nl) != 0)
            return "local name differs from central";
        e->local_zip64 = find_extra(l + 30 + nl, lxl, 0x0001, &dl) != NULL;
        e->has_descriptor = (e->flags & 8) != 0;
        if (!e->has_descriptor && (get32(l + 14) != e->crc || get32(l + 18) != e->csize ||
                                   get32(l + 22) != e->usize))
            return "local sizes differ from central";
        const unsigned char *data = l + 30 + lnl + lxl;
        if (data + e->csize > z + len)
            return "data past the end";
        e->data = malloc(e->usize ? e->usize : 1);
        if (e->method == 0) {
            if (e->csize != e->usize)
                return "stored sizes differ";
            memcpy(e->data, data, e->usize);
        } else if (e->method == 8) {
            z_stream s;
            memset(&s, 0, sizeof s);
            inflateInit2(&s, -15);
            s.next_in = (Bytef *)data;
            s.avail_in = (uInt)e->csize;
            s.next_out = e->data;
            s.avail_out = (uInt)e->usize;
            int rc = inflate(&s, Z_FINISH);
            uLong in = s.total_in, out = s.total_out;
            inflateEnd(&s);
            if (rc != Z_STREAM_END || in != e->csize || out != e->usize)
                return "deflate data does not inflate to the sizes";
        } else {
            return "unknown method";
        }
        if ((uint32_t)crc32(0, e->data, (uInt)e->usize) != e->crc)
            return "CRC-32 mismatch";
        if (e->has_descriptor) {
            const unsigned char *d = data + e->csize;
            if (get32(d) != 0x08074b50 || get32(d + 4) != e->crc)
                return "bad data descriptor";
            if (e->local_zip64 ? get64(d + 8) != e->csize || get64(d + 16) != e->usize
                               : get32(d + 8) != e->csize || get32(d + 12) != e->usize)
                return "data descriptor sizes differ";
        }
    }
    if (p != z + cd_off + cd_size)
        return "central directory size wrong";
    return NULL;
}

/* ------------------------------------------------------------ helpers */

static void fill_random(unsigned char *p, size_t n, uint64_t seed)
{
    uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
    for (size_t i = 0; i < n; i++) {
        s ^= s << 13; s ^= s >> 7; s ^= s << 17;
        p[i] = (unsigned char)(s >> 24);
    }
}

static void fill_text(unsigned char *p, size_t n, uint64_t seed)
{
    static const char *w[] = { "zip ", "upload ", "stream ", "flat ", "memory ", "the ", "a\n" };
    uint64_t s = seed + 7;
    size_t i = 0;
    while (i < n) {
        s ^= s << 13; s ^= s >> 7; s ^= s << 17;
        const char *x = w[s % 7];
        while (*x && i < n)
            p[i++] = (unsigned char)*x++;
    }
}

typedef struct item {
    const char *name;
    const unsigned char *data;
    size_t len;
    uint64_t hint;
} item;

/* Writes items into m, split in writes of `split` bytes. */
static uw_zip_error build(membuf *m, const uw_zip_options *o, const item *it, size_t n, size_t split)
{
    uw_zip *z;
    uw_zip_error e = uw_zip_new(&z, o, mem_sink, m);
    if (e)
        return e;
    for (size_t i = 0; i < n && !e; i++) {
        e = uw_zip_entry_begin(z, it[i].name, strlen(it[i].name), 1700000000, it[i].hint);
        for (size_t off = 0; !e && off < it[i].len; off += split)
            e = uw_zip_entry_write(z, it[i].data + off, it[i].len - off < split ? it[i].len - off : split);
        if (!e)
            e = uw_zip_entry_end(z);
    }
    if (!e)
        e = uw_zip_finish(z);
    uw_zip_free(z);
    return e;
}

/* ------------------------------------------------------------ tests */

static void test_strerror(void)
{
    for (int e = UW_ZIP_OK; e <= UW_ZIP_EZLIB; e++)
        CHECK(uw_zip_strerror((uw_zip_error)e) && strcmp(uw_zip_strerror((uw_zip_error)e), "unknown error"));
    CHECK_EQ_STR(uw_zip_strerror((uw_zip_error)999), "unknown error");
}

static void test_empty_archive(void)
{
    membuf m = { 0 };
    CHECK_EQ_INT(build(&m, NULL, NULL, 0, 1), UW_ZIP_OK);
    static const unsigned char want[22] = { 'P', 'K', 5, 6 };
    CHECK_EQ_MEM(m.p, m.len, want, sizeof want);
    free(m.p);
}

static void test_one_empty_file(void)
{
    membuf m = { 0 };
    item it = { "empty.txt", (const unsigned char *)"", 0, UW_ZIP_SIZE_UNKNOWN };
    CHECK_EQ_INT(build(&m, NULL, &it, 1, 1), UW_ZIP_OK);
    archive a;
    const char *why = read_zip(m.p, m.len, &a);
    CHECK_EQ_STR(why ? why : "", "");
    CHECK_EQ_INT(a.n, 1);
    if (a.n == 1) {
        CHECK_EQ_STR(a.e[0].name, "empty.txt");
        CHECK_EQ_INT(a.e[0].usize, 0);
        CHECK_EQ_INT(a.e[0].method, 0);
        CHECK_EQ_INT(a.e[0].has_descriptor, 0);
        CHECK_EQ_INT(a.e[0].mtime, 1700000000);
    }
    /* 2023-11-14 22:13:20 UTC as DOS time and date, in the local header */
    CHECK_EQ_INT(get16(m.p + 10), (22 << 11) | (13 << 5) | (20 / 2));
    CHECK_EQ_INT(get16(m.p + 12), ((2023 - 1980) << 9) | (11 << 5) | 14);
    archive_free(&a);
    free(m.p);
}

/* The archive does not depend on how the input is split into writes, and
 * every entry reads back: small text (deflated, sizes in the local header),
 * big text (deflated, streamed with a descriptor), random (stored). */
static void test_round_trip_any_split(void)
{
    size_t big = 300 * 1024, small = 5000, rnd = 150 * 1024, exact = 64 * 1024;
    unsigned char *t = malloc(big), *r = malloc(rnd), *s = malloc(small), *x = malloc(exact);
    fill_text(t, big, 1);
    fill_random(r, rnd, 2);
    fill_text(s, small, 3);
    fill_text(x, exact, 4);
    item it[] = {
        { "big.txt", t, big, UW_ZIP_SIZE_UNKNOWN },
        { "random.bin", r, rnd, rnd },
        { "small.txt", s, small, small },
        { "exactly-64k.txt", x, exact, UW_ZIP_SIZE_UNKNOWN },
        { "random-small.bin", r, 100, 100 },
    };
    membuf ref = { 0 };
    CHECK_EQ_INT(build(&ref, NULL, it, 5, 1 << 20), UW_ZIP_OK);
    archive a;
    const char *why = read_zip(ref.p, ref.len, &a);
    CHECK_EQ_STR(why ? why : "", "");
    CHECK_EQ_INT(a.n, 5);
    if (a.n == 5) {
        for (size_t i = 0; i < 5; i++) {
            CHECK_EQ_STR(a.e[i].name, it[i].name);
            CHECK_EQ_MEM(a.e[i].data, a.e[i].usize, it[i].data, it[i].len);
        }
        CHECK_EQ_INT(a.e[0].method, 8);
        CHECK_EQ_INT(a.e[0].has_descriptor, 1);
        CHECK_EQ_INT(a.e[0].local_zip64, 1);   /* unknown size: might pass 4 GiB */
        CHECK(a.e[0].csize < big / 2);
        CHECK_EQ_INT(a.e[1].method, 0);        /* incompressible: stored */
        CHECK_EQ_INT(a.e[1].has_descriptor, 1);
        CHECK_EQ_INT(a.e[1].local_zip64, 0);   /* the hint says small */
        CHECK_EQ_INT(a.e[2].method, 8);
        CHECK_EQ_INT(a.e[2].has_descriptor, 0);/* ended within the probe */
        CHECK_EQ_INT(a.e[3].has_descriptor, 1);/* a full probe streams */
        CHECK_EQ_INT(a.e[4].method, 0);
        CHECK_EQ_INT(a.zip64_end, 0);
    }
    archive_free(&a);
    static const size_t splits[] = { 1, 7, 4096, 65535, 65536, 65537, 100000 };
    for (size_t k = 0; k < sizeof splits / sizeof splits[0]; k++) {
        membuf m = { 0 };
        CHECK_EQ_INT(build(&m, NULL, it, 5, splits[k]), UW_ZIP_OK);
        CHECK_EQ_MEM(m.p, m.len, ref.p, ref.len);
        CHECK(m.max_chunk <= 128 * 1024 || splits[k] >= 16 * 1024);
        free(m.p);
    }
    free(ref.p);
    free(t); free(r); free(s); free(x);
}

static void test_levels(void)
{
    size_t n = 200 * 1024;
    unsigned char *t = malloc(n);
    fill_text(t, n, 9);
    item it = { "t.txt", t, n, n };
    size_t sizes[10];
    for (int level = 0; level <= 9; level++) {
        uw_zip_options o;
        uw_zip_options_default(&o);
        o.level = level;
        membuf m = { 0 };
        CHECK_EQ_INT(build(&m, &o, &it, 1, 8192), UW_ZIP_OK);
        archive a;
        const char *why = read_zip(m.p, m.len, &a);
        CHECK_EQ_STR(why ? why : "", "");
        if (a.n == 1) {
            CHECK_EQ_INT(a.e[0].method, level ? 8 : 0);
            CHECK_EQ_MEM(a.e[0].data, a.e[0].usize, t, n);
        }
        sizes[level] = m.len;
        archive_free(&a);
        free(m.p);
    }
    CHECK(sizes[0] > n && sizes[1] < n / 2 && sizes[9] <= sizes[1]);
    free(t);
}

static void test_sanitized_names(void)
{
    static const struct { const char *in; const char *want; } cases[] = {
        { "/etc/passwd", "etc/passwd" },
        { "../../x", "x" },
        { "a/../b", "a/b" },
        { "C:\\Users\\me\\f.txt", "Users/me/f.txt" },
        { "dir\\sub\\f", "dir/sub/f" },
        { "./a//b/./c", "a/b (1)/c" },   /* "a/b" is a file above */
        { "", "unnamed" },
        { "..", "unnamed (1)" },
        { "/", "unnamed (2)" },
        { "tab\there", "tab_here" },
        { "bad\xff\xfe utf8", "bad__ utf8" },
        { "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac.txt", "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac.txt" },
        { "over\xc0\xaflong", "over__long" },
        { "trailing/", "trailing" },
    };
    size_t n = sizeof cases / sizeof cases[0];
    membuf m = { 0 };
    uw_zip *z;
    CHECK_EQ_INT(uw_zip_new(&z, NULL, mem_sink, &m), UW_ZIP_OK);
    CHECK(uw_zip_entry_name(z) == NULL);
    for (size_t i = 0; i < n; i++) {
        CHECK_EQ_INT(uw_zip_entry_begin(z, cases[i].in, strlen(cases[i].in), 0, 0), UW_ZIP_OK);
        CHECK_EQ_STR(uw_zip_entry_name(z), cases[i].want);
        CHECK_EQ_INT(uw_zip_entry_end(z), UW_ZIP_OK);
    }
    /* a name with a NUL inside, and a very long one */
    CHECK_EQ_INT(uw_zip_entry_begin(z, "nul\0byte", 8, 0, 0), UW_ZIP_OK);
    CHECK_EQ_STR(uw_zip_entry_name(z), "nul_byte");
    CHECK_EQ_INT(uw_zip_entry_end(z), UW_ZIP_OK);
    char longname[5000];
    memset(longname, 'x', sizeof longname);
    for (size_t i = 100; i < sizeof longname; i += 101)
        longname[i] = '/';
    CHECK_EQ_INT(uw_zip_entry_begin(z, longname, sizeof longname, 0, 0), UW_ZIP_OK);
    CHECK(strlen(uw_zip_entry_name(z)) <= 1024);
    CHECK_EQ_INT(uw_zip_entry_end(z), UW_ZIP_OK);
    memset(longname, 'y', sizeof longname);
    CHECK_EQ_INT(uw_zip_entry_begin(z, longname, sizeof longname, 0, 0), UW_ZIP_OK);
    CHECK_EQ_INT(strlen(uw_zip_entry_name(z)), 200);
    CHECK_EQ_INT(uw_zip_entry_end(z), UW_ZIP_OK);
    CHECK_EQ_INT(uw_zip_finish(z), UW_ZIP_OK);
    uw_zip_free(z);
    archive a;
    const char *why = read_zip(m.p, m.len, &a);
    CHECK_EQ_STR(why ? why : "", "");
    CHECK_EQ_INT(a.n, n + 3);
    for (size_t i = 0; i < n && i < a.n; i++)
        CHECK_EQ_STR(a.e[i].name, cases[i].want);
    archive_free(&a);
    free(m.p);
}

static void test_duplicate_names(void)
{
    static const char *in[] = { "a.txt", "a.txt", "A.TXT", "a (1).txt", "a.txt", "dir/a.txt",
                                "dir/a.txt", ".bashrc", ".bashrc", "noext", "noext", "x.tar.gz", "x.tar.gz",
                                /* files and directories of the same name */
                                "f", "f/b", "f/c", "d/y", "d", "D", "d/y/z", "f (1)", "F/e/g" };
    static const char *want[] = { "a.txt", "a (1).txt", "A (2).TXT", "a (1) (1).txt", "a (3).txt",
                                  "dir/a.txt", "dir/a (1).txt", ".bashrc", ".bashrc (1)", "noext",
                                  "noext (1)", "x.tar.gz", "x.tar (1).gz",
                                  "f", "f (1)/b", "f (1)/c", "d/y", "d (1)", "D (2)", "d/y (1)/z", "f (1) (1)",
                                  "F (1)/e/g" };
    membuf m = { 0 };
    uw_zip *z;
    CHECK_EQ_INT(uw_zip_new(&z, NULL, mem_sink, &m), UW_ZIP_OK);
    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
        CHECK_EQ_INT(uw_zip_entry_begin(z, in[i], strlen(in[i]), 0, 0), UW_ZIP_OK);
        CHECK_EQ_STR(uw_zip_entry_name(z), want[i]);
        CHECK_EQ_INT(uw_zip_entry_end(z), UW_ZIP_OK);
    }
    CHECK_EQ_INT(uw_zip_finish(z), UW_ZIP_OK);
    uw_zip_free(z);
    free(m.p);
}

static int utf8_valid(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned c = s[i];
        size_t k = c < 0x80 ? 1 : c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3
                 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
        if (!k || i + k > n)
            return 0;
        for (size_t j = 1; j < k; j++)
            if ((s[i + j] & 0xC0) != 0x80)
                return 0;
        if ((c == 0xE0 && s[i + 1] < 0xA0) || (c == 0xED && s[i + 1] > 0x9F) ||
            (c == 0xF0 && s[i + 1] < 0x90) || (c == 0xF4 && s[i + 1] > 0x8F))
            return 0;
        i += k;
    }
    return 1;
}

/* ------------------------------------------------------------ Unicode */

#define UCD_NORMALIZATION_TEST "/usr/share/unicode/NormalizationTest.txt"

/* UTF-8 of the code points in hex field f ("0044 0307"); returns its length. */
static size_t utf8_of_field(const char *f, char *out)
{
    size_t o = 0;
    char *end;
    for (unsigned long cp; (cp = strtoul(f, &end, 16)), end != f; f = end)
        o += zip_utf8_encode((uint32_t)cp, out + o);
    return o;
}

static size_t nfc_of(const char *s, size_t len, char *out)
{
    static uint32_t work[4096];
    return zip_nfc(s, len, out, 1024, work, sizeof work / sizeof work[0]);
}

static int keys_equal(const char *a, size_t al, const char *b, size_t bl)
{
    static uint32_t ka[4096], kb[4096];
    size_t n = zip_name_key(a, al, ka, 4096), m = zip_name_key(b, bl, kb, 4096);
    return n == m && memcmp(ka, kb, n * sizeof ka[0]) == 0;
}

/*
 * Unicode's NormalizationTest.txt (Debian's unicode-data ships it
 * compressed): for every line, NFC(c1) = NFC(c2) = NFC(c3) = c2 and
 * NFC(c4) = NFC(c5) = c4; canonically equivalent strings have equal keys;
 * and every code point that Part 1 does not list is its own NFC.
 */
static FILE *ucd_file;

static void test_nfc_known_answers(void)
{
    FILE *f = ucd_file;
    static char seen[0x110000];
    char line[1024], col[5][256], got[1024];
    size_t len[5];
    int part = -1, lines = 0, bad = 0, bad_keys = 0;
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#' || line[0] == '\n')
            continue;
        if (line[0] == '@') {
            part = atoi(line + 5);
            continue;
        }
        char *p = line;
        for (int i = 0; i < 5; i++) {
            char *semi = strchr(p, ';');
            if (!semi)
                break;
            *semi = 0;
            len[i] = utf8_of_field(p, col[i]);
            p = semi + 1;
        }
        lines++;
        if (part == 1)
            seen[strtoul(line, NULL, 16)] = 1;
        static const int want[5] = { 1, 1, 1, 3, 3 };
        for (int i = 0; i < 5; i++) {
            size_t n = nfc_of(col[i], len[i], got);
            const char *w = col[want[i]];
            if (n != len[want[i]] || memcmp(got, w, n) != 0) {
                if (bad++ < 5)
                    printf("# NFC of column %d of line %d differs (part %d)\n", i + 1, lines, part);
            }
        }
        if (!keys_equal(col[0], len[0], col[1], len[1]) || !keys_equal(col[0], len[0], col[2], len[2]) ||
            !keys_equal(col[3], len[3], col[4], len[4]))
            bad_keys++;
    }
    CHECK(lines > 19000);
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(bad_keys, 0);
    int bad_single = 0;
    for (uint32_t cp = 0; cp < 0x110000; cp++) {
        char s[4];
        if (seen[cp] || (cp >= 0xD800 && cp <= 0xDFFF))
            continue;
        size_t n = zip_utf8_encode(cp, s), m = nfc_of(s, n, got);
        if ((m != n || memcmp(s, got, n) != 0) && bad_single++ < 5)
            printf("# U+%04X is not its own NFC\n", (unsigned)cp);
    }
    CHECK_EQ_INT(bad_single, 0);
    printf("# %d lines of NormalizationTest.txt\n", lines);
}

/* Names a case-insensitive or normalizing file system takes for the same
 * have the same key; others do not. */
static void test_name_keys(void)
{
    static const struct { const char *a, *b; int same; } cases[] = {
        { "a.txt", "A.TXT", 1 },
        { "\xc3\xa9.txt", "e\xcc\x81.txt", 1 },                 /* é composed, decomposed */
        { "\xc3\xa4.txt", "\xc3\x84.txt", 1 },                  /* ä, Ä */
        { "\xc3\x84.txt", "a\xcc\x88.txt", 1 },                 /* Ä, a + U+0308 */
        { "\xe1\xba\x9e", "\xc3\x9f", 1 },                      /* ẞ, ß (simple folding) */
        { "\xc3\x9f", "ss", 0 },                                /* full folding only */
        { "\xe2\x84\xaa", "k", 1 },                             /* KELVIN SIGN */
        { "\xe2\x84\xab", "\xc3\xa5", 1 },                      /* ANGSTROM SIGN, å */
        { "\xce\xa3", "\xcf\x82", 1 },                          /* Σ, final ς */
        { "\xea\xb0\x80", "\xe1\x84\x80\xe1\x85\xa1", 1 },      /* 가, its jamo */
        { "a\xcc\x81\xcc\xa3", "a\xcc\xa3\xcc\x81", 1 },        /* marks in either order */
        { "\xe1\xbe\x88", "\xe1\xbe\x80", 1 },                  /* ᾈ, ᾀ (U+0345 folds to ι) */
        { "a/\xc3\x89", "A/e\xcc\x81", 1 },
        { "\xc3\xa9", "e", 0 },
        { "i", "\xc4\xb1", 0 },                                 /* i, dotless ı */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int same = keys_equal(cases[i].a, strlen(cases[i].a), cases[i].b, strlen(cases[i].b));
        if (same != cases[i].same)
            printf("# case %zu: \"%s\" and \"%s\"\n", i, cases[i].a, cases[i].b);
        CHECK_EQ_INT(same, cases[i].same);
    }
    /* the key of a prefix before '/' is the key's part before the '/' */
    uint32_t whole[64], prefix[64];
    const char *s = "E\xcc\x81t\xc3\xa9/\xe1\xbe\x88x/y";
    size_t n = zip_name_key(s, strlen(s), whole, 64);
    size_t m = zip_name_key(s, (size_t)(strchr(s, '/') - s), prefix, 64);
    CHECK(m < n && whole[m] == '/' && memcmp(whole, prefix, m * sizeof whole[0]) == 0);
}

static void one_name(uw_zip *z, const char *in, size_t len, const char *want)
{
    CHECK_EQ_INT(uw_zip_entry_begin(z, in, len, 0, 0), UW_ZIP_OK);
    CHECK_EQ_STR(uw_zip_entry_name(z), want);
    if (strcmp(uw_zip_entry_name(z), want))
        printf("# from \"%.*s\"\n", (int)len, in);
    CHECK_EQ_INT(uw_zip_entry_end(z), UW_ZIP_OK);
}

/*
 * Names are stored in NFC with the case they came in, and those that
 * differ only by case or normalization get counters, so they extract as
 * separate files on case-insensitive and normalizing file systems (macOS,
 * Windows) too.
 */
static void test_names_normalized_and_unique(void)
{
    static const char *cases[][2] = {
        { "e\xcc\x81t\xc3\xa9.txt", "\xc3\xa9t\xc3\xa9.txt" },              /* stored composed */
        { "\xc3\xa9t\xc3\xa9.txt", "\xc3\xa9t\xc3\xa9 (1).txt" },           /* the composed one */
        { "\xc3\x89T\xc3\x89.TXT", "\xc3\x89T\xc3\x89 (2).TXT" },           /* its case kept */
        { "\xc3\xa4.txt", "\xc3\xa4.txt" },
        { "\xc3\x84.txt", "\xc3\x84 (1).txt" },
        { "A\xcc\x88.txt", "\xc3\x84 (2).txt" },
        { "\xe2\x84\xab", "\xc3\x85" },                                     /* ANGSTROM SIGN -> Å */
        { "\xc3\xa5", "\xc3\xa5 (1)" },
        { "stra\xc3\x9f" "e", "stra\xc3\x9f" "e" },
        { "STRA\xe1\xba\x9e" "E", "STRA\xe1\xba\x9e" "E (1)" },
        { "strasse", "strasse" },                                           /* not the same name */
        /* directories and files: "Ä" is a file above, "Ä.txt" is not a directory */
        { "a\xcc\x88/x", "\xc3\xa4 (1)/x" },
        { "\xc3\x84/y", "\xc3\x84 (1)/y" },                                /* the same directory */
        { "d\xc3\xa9j\xc3\xa0/f", "d\xc3\xa9j\xc3\xa0/f" },
        { "DE\xcc\x81JA\xcc\x80", "D\xc3\x89J\xc3\x80 (1)" },              /* a directory above */
        { "DE\xcc\x81JA\xcc\x80/g", "D\xc3\x89J\xc3\x80/g" },              /* the same directory */
    };
    membuf m = { 0 };
    uw_zip *z;
    CHECK_EQ_INT(uw_zip_new(&z, NULL, mem_sink, &m), UW_ZIP_OK);
    one_name(z, "\xc3\x84", 2, "\xc3\x84");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        one_name(z, cases[i][0], strlen(cases[i][0]), cases[i][1]);
    CHECK_EQ_INT(uw_zip_finish(z), UW_ZIP_OK);
    uw_zip_free(z);
    archive a;
    const char *why = read_zip(m.p, m.len, &a);
    CHECK_EQ_STR(why ? why : "", "");
    CHECK_EQ_INT(a.n, 1 + sizeof cases / sizeof cases[0]);
    for (size_t i = 0; i + 1 < a.n; i++)
        CHECK_EQ_STR(a.e[i + 1].name, cases[i][1]);
    archive_free(&a);
    free(m.p);
}

/* Entries named cases[i][0], in order, in one archive are named cases[i][1]. */
static void names_in_one_archive(const char *const (*cases)[2], size_t n)
{
    uw_zip *z;
    countsink c = { 0 };
    CHECK_EQ_INT(uw_zip_new(&z, NULL, count_sink, &c), UW_ZIP_OK);
    for (size_t i = 0; i < n; i++)
        one_name(z, cases[i][0], strlen(cases[i][0]), cases[i][1]);
    uw_zip_free(z);
}

/* Bidirectional controls are dropped (they let "gpj.exe" show as
 * "exe.jpg"); what is left must still be a safe component. */
static void test_bidi_controls_dropped(void)
{
    static const char *const cases[][2] = {
        { "evil\xe2\x80\xae" "gpj.exe", "evilgpj.exe" },                    /* U+202E */
        { "\xe2\x80\xaa" "a\xe2\x80\xab" "b\xe2\x80\xac" "c\xe2\x80\xad" "d", "abcd" },
        { "\xe2\x81\xa6" "e\xe2\x81\xa7" "f\xe2\x81\xa8" "g\xe2\x81\xa9", "efg" },
        { "\xe2\x80\x8eh\xe2\x80\x8fi\xd8\x9cj", "hij" },                   /* U+200E, U+200F, U+061C */
        { ".\xe2\x80\xae./x", "x" },                                        /* no ".." made */
        { "\xe2\x80\xae/\xe2\x81\xa6", "unnamed" },
        { "\xd8\xb9\xd8\xb1\xd8\xa8\xd9\x8a.txt", "\xd8\xb9\xd8\xb1\xd8\xa8\xd9\x8a.txt" }, /* RTL text stays */
        { "a\xe2\x80\x8b" "b", "a\xe2\x80\x8b" "b" },                       /* U+200B is no bidi control */
    };
    names_in_one_archive(cases, sizeof cases / sizeof cases[0]);
}

/* A backslash is a path separator for the writer, wherever it came from
 * (multipart keeps the raw backslash of filename="a\b"). */
static void test_backslash_names(void)
{
    static const char *const cases[][2] = {
        { "a\\b", "a/b" },
        { "a\\\\b", "a/b (1)" },            /* empty component dropped, "a/b" taken */
        { "C:\\dir\\f.txt", "dir/f.txt" },
        { "x\\", "x" },
        { "\\\\server\\share\\y", "server/share/y" },
    };
    names_in_one_archive(cases, sizeof cases / sizeof cases[0]);
}

/* Long decomposed names: normalization never passes the limits. */
static void test_long_unicode_names(void)
{
    char in[3000], out_name[2048];
    size_t len = 0;
    while (len + 3 <= sizeof in) {          /* e + U+0301: 3 bytes, 2 once composed */
        memcpy(in + len, "e\xcc\x81", 3);
        len += 3;
    }
    uw_zip *z;
    countsink c = { 0 };
    CHECK_EQ_INT(uw_zip_new(&z, NULL, count_sink, &c), UW_ZIP_OK);
    CHECK_EQ_INT(uw_zip_entry_begin(z, in, len, 0, 0), UW_ZIP_OK);
    snprintf(out_name, sizeof out_name, "%s", uw_zip_entry_name(z));
    CHECK_EQ_INT(strlen(out_name), 200);
    CHECK(memcmp(out_name, "\xc3\xa9\xc3\xa9", 4) == 0);
    CHECK_EQ_INT(uw_zip_entry_end(z), UW_ZIP_OK);
    /* U+1D160 (4 bytes) decomposes to 12 bytes, and NFC keeps them */
    len = 0;
    for (int i = 0; i < 300; i++) {
        memcpy(in + len, i % 50 == 49 ? "/" : "\xf0\x9d\x85\xa0", i % 50 == 49 ? 1 : 4);
        len += i % 50 == 49 ? 1 : 4;
    }
    CHECK_EQ_INT(uw_zip_entry_begin(z, in, len, 0, 0), UW_ZIP_OK);
    const char *n = uw_zip_entry_name(z);
    CHECK(strlen(n) <= 1024 && utf8_valid((const unsigned char *)n, strlen(n)));
    for (const char *comp = n; comp;) {
        const char *end = strchr(comp, '/');
        CHECK((end ? (size_t)(end - comp) : strlen(comp)) <= 200);
        comp = end ? end + 1 : NULL;
    }
    CHECK_EQ_INT(uw_zip_entry_end(z), UW_ZIP_OK);
    uw_zip_free(z);
}

/* Random hostile names: every resulting name is valid UTF-8 in NFC without
 * control characters or bidi controls, relative, without "", "." or ".."
 * components or backslashes, within the length limits, unique (by key:
 * case-folded and normalized), and no name is a directory of another, so
 * any archive extracts cleanly, on case-insensitive file systems too. */
static void test_random_names(void)
{
    static const char *pieces[] = { "a", "B", "/", "\\", ".", "..", ":", "C:", "\xc3\xa9", "\xff", "\xe6\x97",
                                    "\x01", " ", "x.txt", "\xf0\x9f\x98\x80", "dir/", "(1)", "A.TXT",
                                    "e\xcc\x81", "\xc3\x89", "\xcc\x81", "\xe2\x80\xae", "\xc3\x84", "a\xcc\x88",
                                    "\xe1\x84\x80", "\xe1\x85\xa1", "\xcd\x85", "\xe2\x84\xaa" };
    enum { N = 3000 };
    char (*names)[1100] = calloc(N, sizeof *names);
    uint64_t rng = 12345;
    countsink c = { 0 };
    uw_zip *z;
    CHECK_EQ_INT(uw_zip_new(&z, NULL, count_sink, &c), UW_ZIP_OK);
    int bad = 0;
    for (int i = 0; i < N; i++) {
        char in[400];
        size_t len = 0;
        rng = rng * 6364136223846793005ull + 1442695040888963407ull;
        int count = (int)(rng >> 60) % 12;
        for (int k = 0; k < count; k++) {
            rng = rng * 6364136223846793005ull + 1442695040888963407ull;
            const char *p = pieces[(rng >> 33) % (sizeof pieces / sizeof pieces[0])];
            size_t l = strlen(p);
            memcpy(in + len, p, l);
            len += l;
        }
        CHECK_EQ_INT(uw_zip_entry_begin(z, in, len, 0, 0), UW_ZIP_OK);
        const char *n = uw_zip_entry_name(z);
        size_t nl = strlen(n);
        snprintf(names[i], sizeof names[i], "%s", n);
        char nfc[1100];
        int ok = nl > 0 && nl <= 1024 + 16 && utf8_valid((const unsigned char *)n, nl) && n[0] != '/' &&
                 !strchr(n, '\\') && n[nl - 1] != '/' && nfc_of(n, nl, nfc) == nl && !memcmp(n, nfc, nl);
        for (size_t k = 0; k < nl; k++)
            if ((unsigned char)n[k] < 0x20 || n[k] == 0x7F)
                ok = 0;
        for (size_t k = 0; k < nl;) {
            uint32_t cp;
            size_t l = zip_utf8_decode((const unsigned char *)n + k, nl - k, &cp);
            ok &= l && !zip_is_bidi_control(cp);
            k += l ? l : 1;
        }
        for (const char *comp = n; ok && comp;) {   /* components */
            const char *end = strchr(comp, '/');
            size_t cl = end ? (size_t)(end - comp) : strlen(comp);
            if (cl == 0 || (cl == 1 && comp[0] == '.') || (cl == 2 && comp[0] == '.' && comp[1] == '.'))
                ok = 0;
            comp = end ? end + 1 : NULL;
        }
        if (!ok && bad++ < 5)
            printf("# bad name from %d input bytes: \"%s\"\n", (int)len, n);
        uw_zip_entry_end(z);
    }
    CHECK_EQ_INT(bad, 0);
    /* clashes: equal keys, or a key that is a directory of another */
    uint32_t **keys = calloc(N, sizeof *keys);
    size_t *klen = calloc(N, sizeof *klen);
    for (int i = 0; i < N; i++) {
        keys[i] = malloc(ZIP_KEY_MAX * sizeof keys[i][0]);
        klen[i] = zip_name_key(names[i], strlen(names[i]), keys[i], ZIP_KEY_MAX);
    }
    int clashes = 0;
    for (int i = 0; i < N; i++) {
        for (int j = 0; j < N; j++) {
            size_t li = klen[i], lj = klen[j];
            if (i != j && (li == lj || (li < lj && keys[j][li] == '/')) &&
                !memcmp(keys[i], keys[j], li * sizeof keys[i][0])) {
                if (clashes++ < 5)
                    printf("# \"%s\" clashes with \"%s\"\n", names[i], names[j]);
            }
        }
    }
    for (int i = 0; i < N; i++)
        free(keys[i]);
    free(keys);
    free(klen);
    CHECK_EQ_INT(clashes, 0);
    CHECK_EQ_INT(uw_zip_finish(z), UW_ZIP_OK);
    uw_zip_free(z);
    free(names);
}

/* 20000 entries of the same name stay fast (no quadratic search). */
static void test_many_duplicates(void)
{
    countsink c = { 0 };
    uw_zip *z;
    CHECK_EQ_INT(uw_zip_new(&z, NULL, count_sink, &c), UW_ZIP_OK);
    for (int i = 0; i < 20000; i++) {
        CHECK_EQ_INT(uw_zip_entry_begin(z, "same", 4, 0, 0), UW_ZIP_OK);
        CHECK_EQ_INT(uw_zip_entry_end(z), UW_ZIP_OK);
    }
    CHECK_EQ_STR(uw_zip_entry_name(z), "same (19999)");
    CHECK_EQ_INT(uw_zip_finish(z), UW_ZIP_OK);
    uw_zip_free(z);
}

/* 65,534 entries: plain end record; 65,535: the count needs ZIP64. */
static void test_entry_count_zip64(void)
{
    for (int n = 65534; n <= 65536; n++) {
        membuf m = { 0 };
        uw_zip *z;
        CHECK_EQ_INT(uw_zip_new(&z, NULL, mem_sink, &m), UW_ZIP_OK);
        for (int i = 0; i < n; i++) {
            char name[32];
            int l = snprintf(name, sizeof name, "f%d", i);
            uw_zip_entry_begin(z, name, (size_t)l, 0, 0);
            uw_zip_entry_write(z, "x", 1);
            uw_zip_entry_end(z);
        }
        CHECK_EQ_INT(uw_zip_finish(z), UW_ZIP_OK);
        uw_zip_free(z);
        archive a;
        const char *why = read_zip(m.p, m.len, &a);
        CHECK_EQ_STR(why ? why : "", "");
        CHECK_EQ_INT(a.n, n);
        CHECK_EQ_INT(a.zip64_end, n >= 65535);
        CHECK_EQ_INT(get16(m.p + m.len - 22 + 10), n >= 65535 ? 0xFFFF : n);
        archive_free(&a);
        free(m.p);
    }
}

static void test_limits(void)
{
    uw_zip_options o;
    uw_zip_options_default(&o);
    o.max_entries = 3;
    membuf m = { 0 };
    uw_zip *z;
    CHECK_EQ_INT(uw_zip_new(&z, &o, mem_sink, &m), UW_ZIP_OK);
    for (int i = 0; i < 3; i++) {
        CHECK_EQ_INT(uw_zip_entry_begin(z, "f", 1, 0, 0), UW_ZIP_OK);
        CHECK_EQ_INT(uw_zip_entry_write(z, "data", 4), UW_ZIP_OK);
        CHECK_EQ_INT(uw_zip_entry_end(z), UW_ZIP_OK);
    }
    CHECK_EQ_INT(uw_zip_entry_begin(z, "g", 1, 0, 0), UW_ZIP_ELIMIT);
    CHECK_EQ_INT(uw_zip_entry_write(z, "data", 4), UW_ZIP_ESTATE);
    CHECK_EQ_INT(uw_zip_finish(z), UW_ZIP_OK);   /* the archive is still whole */
    uw_zip_free(z);
    archive a;
    const char *why = read_zip(m.p, m.len, &a);
    CHECK_EQ_STR(why ? why : "", "");
    CHECK_EQ_INT(a.n, 3);
    archive_free(&a);
    free(m.p);

    uw_zip_options_default(&o);
    o.max_name_bytes = 10;
    memset(&m, 0, sizeof m);
    CHECK_EQ_INT(uw_zip_new(&z, &o, mem_sink, &m), UW_ZIP_OK);
    CHECK_EQ_INT(uw_zip_entry_begin(z, "abcd", 4, 0, 0), UW_ZIP_OK);   /* 5 with its NUL */
    CHECK_EQ_INT(uw_zip_entry_end(z), UW_ZIP_OK);
    CHECK_EQ_INT(uw_zip_entry_begin(z, "efghi", 5, 0, 0), UW_ZIP_ELIMIT);
    CHECK_EQ_INT(uw_zip_entry_begin(z, "efgh", 4, 0, 0), UW_ZIP_OK);
    CHECK_EQ_INT(uw_zip_finish(z), UW_ZIP_OK);
    uw_zip_free(z);
    CHECK(read_zip(m.p, m.len, &a) == NULL && a.n == 2);
    archive_free(&a);
    free(m.p);
}

static void test_misuse_and_options(void)
{
    membuf m = { 0 };
    uw_zip *z = (uw_zip *)&m;
    uw_zip_options o;
    static const struct { int level, wbits, mem; } bad[] = { { -1, 15, 8 }, { 10, 15, 8 }, { 6, 8, 8 },
                                                            { 6, 16, 8 }, { 6, 15, 0 }, { 6, 15, 10 } };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uw_zip_options_default(&o);
        o.level = bad[i].level;
        o.window_bits = bad[i].wbits;
        o.mem_level = bad[i].mem;
        CHECK_EQ_INT(uw_zip_new(&z, &o, mem_sink, &m), UW_ZIP_EINVAL);
        CHECK(z == NULL);
    }
    CHECK_EQ_INT(uw_zip_new(&z, NULL, NULL, &m), UW_ZIP_EINVAL);
    CHECK_EQ_INT(uw_zip_new(&z, NULL, mem_sink, &m), UW_ZIP_OK);
    CHECK_EQ_INT(uw_zip_entry_write(z, "x", 1), UW_ZIP_ESTATE);
    CHECK_EQ_INT(uw_zip_entry_end(z), UW_ZIP_ESTATE);
    CHECK_EQ_INT(uw_zip_entry_begin(z, "a", 1, 0, 0), UW_ZIP_OK);
    CHECK_EQ_INT(uw_zip_entry_begin(z, "b", 1, 0, 0), UW_ZIP_ESTATE);
    CHECK_EQ_INT(uw_zip_entry_write(z, "x", 1), UW_ZIP_OK);
    CHECK_EQ_INT(uw_zip_finish(z), UW_ZIP_OK);   /* ends the open entry */
    CHECK_EQ_INT(uw_zip_finish(z), UW_ZIP_ESTATE);
    CHECK_EQ_INT(uw_zip_entry_begin(z, "c", 1, 0, 0), UW_ZIP_ESTATE);
    uw_zip_free(z);
    uw_zip_free(NULL);
    archive a;
    CHECK(read_zip(m.p, m.len, &a) == NULL && a.n == 1 && a.e[0].usize == 1);
    archive_free(&a);
    free(m.p);
}

/* A failing sink fails the call, and the error sticks. */
static void test_sink_failure(void)
{
    size_t n = 300 * 1024;
    unsigned char *t = malloc(n);
    fill_text(t, n, 5);
    item it[] = { { "a.txt", t, n, n }, { "b.bin", t, 1000, 1000 } };
    membuf ok = { 0 };
    CHECK_EQ_INT(build(&ok, NULL, it, 2, 4096), UW_ZIP_OK);
    for (size_t k = 1; k <= ok.calls; k++) {
        membuf m = { 0 };
        m.fail_at = k;
        CHECK_EQ_INT(build(&m, NULL, it, 2, 4096), UW_ZIP_ESINK);
        free(m.p);
    }
    unsigned char *r = malloc(n);
    fill_random(r, n, 5);
    membuf m = { 0 };
    m.fail_at = 1;
    uw_zip *z;
    CHECK_EQ_INT(uw_zip_new(&z, NULL, mem_sink, &m), UW_ZIP_OK);
    uw_zip_entry_begin(z, "a", 1, 0, UW_ZIP_SIZE_UNKNOWN);
    CHECK_EQ_INT(uw_zip_entry_write(z, r, n), UW_ZIP_ESINK);   /* stored: sent at once */
    CHECK_EQ_INT(uw_zip_entry_write(z, t, 10), UW_ZIP_ESINK);
    CHECK_EQ_INT(uw_zip_entry_begin(z, "b", 1, 0, 0), UW_ZIP_ESINK);
    CHECK_EQ_INT(uw_zip_finish(z), UW_ZIP_ESINK);
    uw_zip_free(z);
    free(ok.p);
    free(r);
    free(t);
}

/* ------------------------------------------------------------ countdown */

typedef struct countdown {
    long left;          /* allocations before the failing one; <0 never fail */
    long live;          /* blocks not freed */
    long calls;
} countdown;

static void *cd_alloc(void *ctx, size_t size)
{
    countdown *c = ctx;
    c->calls++;
    if (c->left == 0)
        return NULL;
    if (c->left > 0)
        c->left--;
    void *p = malloc(size);
    if (p)
        c->live++;
    return p;
}

static void cd_free(void *ctx, void *p)
{
    countdown *c = ctx;
    if (p) {
        c->live--;
        free(p);
    }
}

/* Fails the 1st, 2nd, ... allocation until the run needs no failure: each
 * must answer UW_ZIP_ENOMEM cleanly and leave nothing allocated. */
static void test_countdown_allocator(void)
{
    size_t n = 200 * 1024;
    unsigned char *t = malloc(n);
    fill_text(t, n, 6);
    item it[40];
    char names[40][16];
    for (int i = 0; i < 40; i++) {
        snprintf(names[i], sizeof names[i], "f%d.txt", i % 30);  /* some duplicates */
        it[i] = (item){ names[i], t, i % 3 ? (size_t)(100 + i) : n, UW_ZIP_SIZE_UNKNOWN };
    }
    membuf ref = { 0 };
    CHECK_EQ_INT(build(&ref, NULL, it, 40, 10000), UW_ZIP_OK);
    int succeeded = 0;
    long failures = 0;
    for (long k = 0; k < 1000 && !succeeded; k++) {
        countdown c = { k, 0, 0 };
        uw_zip_allocator al = { cd_alloc, cd_free, &c };
        uw_zip_options o;
        uw_zip_options_default(&o);
        o.allocator = &al;
        membuf m = { 0 };
        uw_zip_error e = build(&m, &o, it, 40, 10000);
        CHECK(e == UW_ZIP_OK || e == UW_ZIP_ENOMEM);
        CHECK_EQ_INT(c.live, 0);
        if (e == UW_ZIP_OK) {
            succeeded = 1;
            CHECK_EQ_MEM(m.p, m.len, ref.p, ref.len);
        } else {
            failures++;
        }
        free(m.p);
    }
    CHECK(succeeded);
    CHECK(failures >= 8);   /* the writer, zlib's blocks, the directory as it grows */
    free(ref.p);
    free(t);
}

/* Memory stays flat: the peak does not depend on the entry's size. */
typedef struct peak {
    size_t now, max;
} peak;

static void *pk_alloc(void *ctx, size_t size)
{
    peak *p = ctx;
    size_t *b = malloc(size + 16);
    if (!b)
        return NULL;
    *b = size;
    p->now += size;
    if (p->now > p->max)
        p->max = p->now;
    return b + 2;
}

static void pk_free(void *ctx, void *ptr)
{
    peak *p = ctx;
    if (!ptr)
        return;
    size_t *b = (size_t *)ptr - 2;
    p->now -= *b;
    free(b);
}

static void test_memory_flat(void)
{
    size_t chunk = 1 << 20;
    unsigned char *t = malloc(chunk);
    fill_text(t, chunk, 8);
    size_t peaks[2];
    for (int run = 0; run < 2; run++) {
        peak p = { 0, 0 };
        uw_zip_allocator al = { pk_alloc, pk_free, &p };
        uw_zip_options o;
        uw_zip_options_default(&o);
        o.allocator = &al;
        countsink c = { 0 };
        uw_zip *z;
        CHECK_EQ_INT(uw_zip_new(&z, &o, count_sink, &c), UW_ZIP_OK);
        uw_zip_entry_begin(z, "t", 1, 0, UW_ZIP_SIZE_UNKNOWN);
        for (int i = 0; i < (run ? 64 : 1); i++)
            CHECK_EQ_INT(uw_zip_entry_write(z, t, chunk), UW_ZIP_OK);
        CHECK_EQ_INT(uw_zip_finish(z), UW_ZIP_OK);
        uw_zip_free(z);
        CHECK_EQ_INT(p.now, 0);
        peaks[run] = p.max;
    }
    CHECK_EQ_INT(peaks[1], peaks[0]);
    CHECK(peaks[0] < 600 * 1024);
    printf("# writer peak memory: %zu bytes\n", peaks[0]);
    free(t);
}

/* An entry that passes 4 GiB after its hint said it would not fails
 * (its data descriptor could not hold the sizes); with no hint it gets
 * ZIP64 fields.  4 GiB of stored data through a counting sink. */
static void test_zip64_sizes(void)
{
    size_t chunk = 16 << 20;
    unsigned char *r = malloc(chunk);
    fill_random(r, chunk, 3);
    uint64_t total = (4ull << 30) + 5;
    for (int hinted = 0; hinted <= 1; hinted++) {
        countsink c = { 0 };
        uw_zip *z;
        uw_zip_options o;
        uw_zip_options_default(&o);
        CHECK_EQ_INT(uw_zip_new(&z, &o, count_sink, &c), UW_ZIP_OK);
        uw_zip_entry_begin(z, "big", 3, 0, hinted ? 1000 : UW_ZIP_SIZE_UNKNOWN);
        uw_zip_error e = UW_ZIP_OK;
        for (uint64_t left = total; left && !e; ) {
            size_t n = left < chunk ? (size_t)left : chunk;
            e = uw_zip_entry_write(z, r, n);
            left -= n;
        }
        if (!e)
            e = uw_zip_entry_end(z);
        if (!e)
            e = uw_zip_entry_begin(z, "after", 5, 0, 0);
        if (!e)
            e = uw_zip_entry_write(z, "hello", 5);
        if (!e)
            e = uw_zip_finish(z);
        uw_zip_free(z);
        if (hinted) {
            CHECK_EQ_INT(e, UW_ZIP_ETOOBIG);
            continue;
        }
        CHECK_EQ_INT(e, UW_ZIP_OK);
        /* tail: ... central headers, ZIP64 end record (56), locator (20), end (22) */
        const unsigned char *t = c.tail + c.tail_len - 98;
        CHECK_EQ_INT(get32(t), 0x06064b50);
        CHECK_EQ_INT(get64(t + 32), 2);
        uint64_t cd_size = get64(t + 40), cd_off = get64(t + 48);
        CHECK(cd_off > total);
        CHECK_EQ_INT(cd_off + cd_size + 98, c.bytes);
        CHECK_EQ_INT(get32(t + 56), 0x07064b50);
        CHECK_EQ_INT(get32(t + 76), 0x06054b50);
        CHECK_EQ_INT(get32(t + 76 + 16), 0xFFFFFFFF); /* the offset needs ZIP64 */
        CHECK_EQ_INT(get16(t + 76 + 10), 2);          /* the count does not */
        /* the second central header: only the offset in its ZIP64 field */
        const unsigned char *h = t - (46 + 5 + 12 + 9);
        CHECK_EQ_INT(get32(h), 0x02014b50);
        CHECK_EQ_INT(get32(h + 24), 5);
        CHECK_EQ_INT(get32(h + 42), 0xFFFFFFFF);
        CHECK_EQ_INT(get16(h + 51), 0x0001);
        CHECK_EQ_INT(get16(h + 53), 8);
        CHECK(get64(h + 55) > total);
    }
    free(r);
}

int main(void)
{
    RUN(test_strerror);
    RUN(test_empty_archive);
    RUN(test_one_empty_file);
    RUN(test_round_trip_any_split);
    RUN(test_levels);
    RUN(test_sanitized_names);
    RUN(test_duplicate_names);
    RUN(test_random_names);
    RUN(test_name_keys);
    RUN(test_names_normalized_and_unique);
    RUN(test_bidi_controls_dropped);
    RUN(test_backslash_names);
    RUN(test_long_unicode_names);
    int piped = 0;
    ucd_file = fopen(UCD_NORMALIZATION_TEST, "r");
    if (!ucd_file && access(UCD_NORMALIZATION_TEST ".bz2", R_OK) == 0) {
        ucd_file = popen("bzip2 -dc " UCD_NORMALIZATION_TEST ".bz2", "r");
        piped = 1;
    }
    if (ucd_file) {
        RUN(test_nfc_known_answers);
        if (piped)
            pclose(ucd_file);
        else
            fclose(ucd_file);
    } else {
        printf("skipped - test_nfc_known_answers: no " UCD_NORMALIZATION_TEST "[.bz2] (Debian package unicode-data)\n");
    }
    RUN(test_many_duplicates);
    RUN(test_entry_count_zip64);
    RUN(test_limits);
    RUN(test_misuse_and_options);
    RUN(test_sink_failure);
    RUN(test_countdown_allocator);
    RUN(test_memory_flat);
    RUN(test_zip64_sizes);
    return CHECK_DONE();
}
