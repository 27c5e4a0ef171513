/*
 * Unit tests of the paste store (store.h) on a memory device that can be
 * cut at any block of any write (the process dying there), with an
 * optional torn block (only its first bytes reached the device).
 */
#include "uweb/store.h"
#include "uweb/runtime.h"
#include "../../src/store/store_internal.h"
#include "../check.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define BS 512

typedef struct memdev {
    unsigned char *disk;
    size_t size;
    long budget;            /* blocks that still reach the device; <0: all */
    size_t torn;            /* bytes of the cut block that reach it */
    int crashed;
    uint64_t blocks_written, blocks_read;
    uint64_t rec_from;      /* with rec: the index of each block written at or past this offset */
    long *rec;
    size_t nrec;
} memdev;

static int md_read(void *ctx, uint64_t off, void *buf, size_t n)
{
    memdev *m = ctx;
    if (off % BS || n % BS || off + n > m->size) return UW_EINVAL;
    memcpy(buf, m->disk + off, n);
    m->blocks_read += n / BS;
    return UW_OK;
}

static int md_write(void *ctx, uint64_t off, const void *buf, size_t n)
{
    memdev *m = ctx;
    if (off % BS || n % BS || off + n > m->size) return UW_EINVAL;
    if (m->crashed) return UW_EIO;
    for (size_t i = 0; i < n; i += BS) {
        if (m->budget == 0) {
            memcpy(m->disk + off + i, (const unsigned char *)buf + i, m->torn);
            m->crashed = 1;
            return UW_EIO;
        }
        if (m->budget > 0) m->budget--;
        if (m->rec && off + i >= m->rec_from && m->nrec < 4096) m->rec[m->nrec++] = (long)m->blocks_written;
        memcpy(m->disk + off + i, (const unsigned char *)buf + i, BS);
        m->blocks_written++;
    }
    return UW_OK;
}

static int md_flush(void *ctx)
{
    memdev *m = ctx;
    return m->crashed ? UW_EIO : UW_OK;
}

static memdev *md_new(size_t blocks)
{
    memdev *m = calloc(1, sizeof *m);
    m->size = blocks * BS;
    m->disk = calloc(1, m->size);
    m->budget = -1;
    return m;
}

static void md_free(memdev *m)
{
    free(m->disk);
    free(m);
}

static uw_store_dev dev_of(memdev *m)
{
    return (uw_store_dev){ m, md_read, md_write, md_flush, m->size, BS };
}

static const uint8_t KEY[16] = "0123456789abcdef";

static size_t max_record;       /* of the stores opened; 0: the default */

static uw_store *open_store_all(memdev *m, int full, int64_t now, int replay_all)
{
    uw_store *s = NULL;
    uw_store_dev d = dev_of(m);
    int r = uw_store_open(&s, &d, &(uw_store_options){ .format = UW_STORE_FORMAT_BLANK, .key = KEY, .full = full,
                                                       .max_record = max_record, .replay_all = replay_all }, now);
    CHECK_EQ_INT(r, UW_OK);
    return s;
}

static uw_store *open_store(memdev *m, int full, int64_t now) { return open_store_all(m, full, now, 0); }

/* Deterministic payloads: record i of length len. */
static void fill(unsigned char *p, size_t len, uint64_t seed)
{
    uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
    for (size_t i = 0; i < len; i++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        p[i] = (unsigned char)x;
    }
}

static int has(uw_store *s, uint64_t id, size_t len, int64_t now)
{
    void *d;
    size_t n;
    unsigned f;
    int r = uw_store_get(s, id, now, &d, &n, &f);
    if (r != UW_OK) return r == UW_STORE_ENOTFOUND ? 0 : -1;
    unsigned char *want = malloc(len ? len : 1);
    fill(want, len, id);
    int ok = n == len && memcmp(d, want, len) == 0;
    free(want);
    free(d);
    return ok ? 1 : -1;
}

static int put(uw_store *s, uint64_t id, size_t len, int64_t expires, unsigned flags)
{
    unsigned char *p = malloc(len ? len : 1);
    fill(p, len, id);
    int r = uw_store_put(s, id, p, len, expires, flags);
    free(p);
    return r;
}

/* ------------------------------------------------------------ tests */

static void test_crc32c_known_answer(void)
{
    CHECK_EQ_INT(uw__crc32c(0, "123456789", 9), 0xE3069283u);
    CHECK_EQ_INT(uw__crc32c(0, "", 0), 0);
}

static void test_format_refused_without_permission(void)
{
    memdev *m = md_new(64);
    memset(m->disk, 0xAA, BS);
    uw_store *s = NULL;
    uw_store_dev d = dev_of(m);
    CHECK_EQ_INT(uw_store_open(&s, &d, &(uw_store_options){ .format = UW_STORE_FORMAT_BLANK, .key = KEY }, 0), UW_STORE_ECORRUPT);
    CHECK_EQ_INT(uw_store_open(&s, &d, NULL, 0), UW_STORE_ECORRUPT);
    CHECK_EQ_INT(uw_store_open(&s, &d, &(uw_store_options){ .format = UW_STORE_FORMAT_ALWAYS, .key = KEY }, 0), UW_OK);
    uw_store_close(s);
    CHECK_EQ_INT(uw_store_open(&s, &d, NULL, 0), UW_OK);    /* now a store */
    uw_store_close(s);
    md_free(m);
}

static void test_put_get_delete_reopen(void)
{
    memdev *m = md_new(256);
    uw_store *s = open_store(m, UW_STORE_EVICT, 100);
    CHECK_EQ_INT(put(s, 1, 0, 0, 0), UW_OK);
    CHECK_EQ_INT(put(s, 2, 100, 0, 0), UW_OK);
    CHECK_EQ_INT(put(s, 3, 5000, 0, 0), UW_OK);
    CHECK_EQ_INT(put(s, 3, 10, 0, 0), UW_STORE_EEXIST);
    CHECK_EQ_INT(put(s, 0, 10, 0, 0), UW_EINVAL);
    CHECK_EQ_INT(has(s, 1, 0, 100), 1);
    CHECK_EQ_INT(has(s, 2, 100, 100), 1);
    CHECK_EQ_INT(has(s, 3, 5000, 100), 1);
    CHECK_EQ_INT(has(s, 4, 0, 100), 0);
    CHECK_EQ_INT(uw_store_delete(s, 2), UW_OK);
    CHECK_EQ_INT(uw_store_delete(s, 2), UW_STORE_ENOTFOUND);
    CHECK_EQ_INT(has(s, 2, 100, 100), 0);
    struct uw_store_stats st;
    uw_store_stats(s, &st);
    CHECK_EQ_INT(st.records, 2);
    uw_store_close(s);
    s = open_store(m, UW_STORE_EVICT, 100);
    CHECK_EQ_INT(has(s, 1, 0, 100), 1);
    CHECK_EQ_INT(has(s, 2, 100, 100), 0);
    CHECK_EQ_INT(has(s, 3, 5000, 100), 1);
    uw_store_stats(s, &st);
    CHECK_EQ_INT(st.records, 2);
    CHECK_EQ_INT(put(s, 4, 1000, 0, 0), UW_OK);     /* appends after the old log */
    uw_store_close(s);
    s = open_store(m, UW_STORE_EVICT, 100);
    CHECK_EQ_INT(has(s, 4, 1000, 100), 1);
    CHECK_EQ_INT(has(s, 3, 5000, 100), 1);
    uw_store_close(s);
    md_free(m);
}

static void test_too_large_is_refused(void)
{
    memdev *m = md_new(65);
    uw_store *s = open_store(m, UW_STORE_EVICT, 0);
    struct uw_store_stats st;
    uw_store_stats(s, &st);
    CHECK_EQ_INT(st.max_record, st.log_bytes / 4 - 64);
    CHECK(st.log_bytes >= 56 * BS);             /* the checkpoints take the rest */
    CHECK_EQ_INT(put(s, 1, st.max_record + 1, 0, 0), UW_ELIMIT);
    CHECK_EQ_INT(put(s, 1, st.max_record, 0, 0), UW_OK);
    CHECK_EQ_INT(has(s, 1, st.max_record, 0), 1);
    uw_store_close(s);
    md_free(m);
}

static void test_burn_after_reading(void)
{
    memdev *m = md_new(64);
    uw_store *s = open_store(m, UW_STORE_EVICT, 0);
    CHECK_EQ_INT(put(s, 7, 300, 0, UW_STORE_BURN), UW_OK);
    unsigned f = 0;
    CHECK_EQ_INT(uw_store_stat(s, 7, 0, &f, NULL), UW_OK);
    CHECK_EQ_INT(f, UW_STORE_BURN);
    void *d;
    size_t n;
    CHECK_EQ_INT(uw_store_peek(s, 7, 0, &d, &n, NULL), UW_OK);    /* a peek does not burn */
    CHECK_EQ_INT(n, 300);
    free(d);
    CHECK_EQ_INT(has(s, 7, 300, 0), 1);
    CHECK_EQ_INT(has(s, 7, 300, 0), 0);
    uw_store_close(s);
    s = open_store(m, UW_STORE_EVICT, 0);
    CHECK_EQ_INT(has(s, 7, 300, 0), 0);         /* the tombstone was durable */
    uw_store_close(s);
    md_free(m);
}

/* A burn or a delete whose tombstone cannot be written fails and leaves
 * the record where it was: readable, and burned once the device works. */
static void test_failed_tombstone_keeps_the_record(void)
{
    memdev *m = md_new(64);
    uw_store *s = open_store(m, UW_STORE_EVICT, 0);
    CHECK_EQ_INT(put(s, 8, 200, 0, UW_STORE_BURN), UW_OK);
    CHECK_EQ_INT(put(s, 9, 200, 0, 0), UW_OK);
    m->crashed = 1;                             /* every write fails */
    void *d;
    size_t n;
    CHECK_EQ_INT(uw_store_get(s, 8, 0, &d, &n, NULL), UW_EIO);
    CHECK_EQ_INT(uw_store_delete(s, 9), UW_EIO);
    m->crashed = 0;
    CHECK_EQ_INT(has(s, 9, 200, 0), 1);
    CHECK_EQ_INT(has(s, 8, 200, 0), 1);
    CHECK_EQ_INT(has(s, 8, 200, 0), 0);
    uw_store_close(s);
    s = open_store(m, UW_STORE_EVICT, 0);
    CHECK_EQ_INT(has(s, 8, 200, 0), 0);
    CHECK_EQ_INT(has(s, 9, 200, 0), 1);
    uw_store_close(s);
    md_free(m);
}

static void test_expiry_on_read_sweep_and_reopen(void)
{
    memdev *m = md_new(64);
    uw_store *s = open_store(m, UW_STORE_EVICT, 1000);
    CHECK_EQ_INT(put(s, 1, 10, 1010, 0), UW_OK);
    CHECK_EQ_INT(put(s, 2, 10, 1020, 0), UW_OK);
    CHECK_EQ_INT(put(s, 3, 10, 0, 0), UW_OK);
    CHECK_EQ_INT(has(s, 1, 10, 1009), 1);
    CHECK_EQ_INT(has(s, 1, 10, 1010), 0);
    CHECK_EQ_INT(uw_store_sweep(s, 1015), 0);
    CHECK_EQ_INT(uw_store_sweep(s, 1020), 1);
    CHECK_EQ_INT(uw_store_stat(s, 2, 1000, NULL, NULL), UW_STORE_ENOTFOUND);
    uw_store_close(s);                          /* the checkpoint keeps the sweep */
    s = open_store(m, UW_STORE_EVICT, 1015);
    CHECK_EQ_INT(has(s, 1, 10, 1015), 0);
    CHECK_EQ_INT(has(s, 2, 10, 1015), 0);
    CHECK_EQ_INT(has(s, 3, 10, 99999), 1);
    uw_store_close(s);
    s = open_store_all(m, UW_STORE_EVICT, 1015, 1);    /* the whole log: expiry as of 1015 */
    CHECK_EQ_INT(has(s, 1, 10, 1015), 0);
    CHECK_EQ_INT(has(s, 2, 10, 1015), 1);
    CHECK_EQ_INT(has(s, 3, 10, 99999), 1);
    uw_store_close(s);
    md_free(m);
}

/* A small log written round many times: the newest records stay, the
 * oldest go first, a deleted record never comes back, and every record
 * reopened is whole. */
static void test_eviction_wraps_the_log(void)
{
    memdev *m = md_new(41);                     /* 40 log blocks */
    uw_store *s = open_store(m, UW_STORE_EVICT, 0);
    for (uint64_t id = 1; id <= 200; id++) {
        size_t len = (size_t)(id * 37 % 1500);
        CHECK_EQ_INT(put(s, id, len, 0, 0), UW_OK);
        if (id % 5 == 0) CHECK_EQ_INT(uw_store_delete(s, id - 1), UW_OK);
        CHECK_EQ_INT(has(s, id, len, 0) == 1 || 0, 0 || 1);
    }
    struct uw_store_stats st;
    uw_store_stats(s, &st);
    CHECK(st.evicted > 100);
    CHECK(st.records > 5);
    CHECK(st.live_bytes <= st.log_bytes);
    for (int pass = 0; pass < 2; pass++) {
        int present = 0;
        for (uint64_t id = 1; id <= 200; id++) {
            int h = has(s, id, (size_t)(id * 37 % 1500), 0);
            CHECK(h >= 0);
            if (id % 5 == 4) CHECK_EQ_INT(h, 0);
            present += h == 1;
        }
        CHECK(present > 5);
        CHECK_EQ_INT(has(s, 200, 200 * 37 % 1500, 0), 1);
        uw_store_close(s);
        s = open_store(m, UW_STORE_EVICT, 0);
    }
    uw_store_close(s);
    md_free(m);
}

/* Records read since they were written get a second chance: a paste read
 * often outlives many writes, the others are evicted. */
static void test_recently_read_survive_eviction(void)
{
    memdev *m = md_new(65);
    uw_store *s = open_store(m, UW_STORE_EVICT, 0);
    CHECK_EQ_INT(put(s, 1000, 700, 0, 0), UW_OK);
    for (uint64_t id = 1; id <= 300; id++) {
        CHECK_EQ_INT(put(s, id, 600, 0, 0), UW_OK);
        CHECK_EQ_INT(has(s, 1000, 700, 0), 1);      /* read: hot */
    }
    CHECK_EQ_INT(has(s, 1, 600, 0), 0);
    struct uw_store_stats st;
    uw_store_stats(s, &st);
    CHECK(st.copied > 0);
    uw_store_close(s);
    s = open_store(m, UW_STORE_EVICT, 0);
    CHECK_EQ_INT(has(s, 1000, 700, 0), 1);
    uw_store_close(s);
    md_free(m);
}

/* UW_STORE_REFUSE: a full store says so and keeps every record; deleting
 * makes room again (live records are moved forward, not lost). */
static void test_full_refuses_and_keeps_records(void)
{
    memdev *m = md_new(33);
    uw_store *s = open_store(m, UW_STORE_REFUSE, 0);
    uint64_t id = 1;
    int r;
    while ((r = put(s, id, 700, 0, 0)) == UW_OK) id++;
    CHECK_EQ_INT(r, UW_STORE_EFULL);
    uint64_t n = id - 1;
    CHECK(n >= 10);
    for (uint64_t i = 1; i <= n; i++) CHECK_EQ_INT(has(s, i, 700, 0), 1);
    CHECK_EQ_INT(uw_store_delete(s, 2), UW_OK);
    CHECK_EQ_INT(uw_store_delete(s, 3), UW_OK);
    CHECK_EQ_INT(put(s, 500, 700, 0, 0), UW_OK);
    for (uint64_t i = 1; i <= n; i++) CHECK_EQ_INT(has(s, i, 700, 0), i == 2 || i == 3 ? 0 : 1);
    uw_store_close(s);
    s = open_store(m, UW_STORE_REFUSE, 0);
    for (uint64_t i = 1; i <= n; i++) CHECK_EQ_INT(has(s, i, 700, 0), i == 2 || i == 3 ? 0 : 1);
    CHECK_EQ_INT(has(s, 500, 700, 0), 1);
    struct uw_store_stats st;
    uw_store_stats(s, &st);
    CHECK_EQ_INT(st.evicted, 0);
    uw_store_close(s);
    md_free(m);
}

/* A record whose bytes inside contain a perfect header under another key
 * is still one record. */
static void test_forged_header_in_data_is_data(void)
{
    memdev *m = md_new(64);
    uw_store *s = open_store(m, UW_STORE_EVICT, 0);
    unsigned char data[3 * BS];
    memset(data, 'x', sizeof data);
    uw__store_hdr h = { .type = UW__STORE_PASTE, .seq = 999999, .id = 42, .len = 10, .blocks = 1,
                        .data_crc = uw__crc32c(0, "xxxxxxxxxx", 10) };
    static const uint8_t other[16] = "another key 1234";
    uw__store_encode_header(data + BS - UW__STORE_HDR, other, &h);
    CHECK_EQ_INT(uw_store_put(s, 5, data, sizeof data, 0, 0), UW_OK);
    uw_store_close(s);
    s = open_store(m, UW_STORE_EVICT, 0);
    CHECK_EQ_INT(uw_store_stat(s, 42, 0, NULL, NULL), UW_STORE_ENOTFOUND);
    struct uw_store_stats st;
    uw_store_stats(s, &st);
    CHECK_EQ_INT(st.records, 1);
    uw_store_close(s);
    md_free(m);
}

/* A flipped bit in a stored record: reading it says so, never returns it. */
static void test_damaged_record_is_detected(void)
{
    memdev *m = md_new(64);
    uw_store *s = open_store(m, UW_STORE_EVICT, 0);
    CHECK_EQ_INT(put(s, 9, 900, 0, 0), UW_OK);
    m->disk[BS + 64 + 500] ^= 1;
    void *d;
    size_t n;
    CHECK_EQ_INT(uw_store_get(s, 9, 0, &d, &n, NULL), UW_STORE_ECORRUPT);
    CHECK_EQ_INT(uw_store_get(s, 9, 0, &d, &n, NULL), UW_STORE_ENOTFOUND);
    uw_store_close(s);
    s = open_store(m, UW_STORE_EVICT, 0);
    CHECK_EQ_INT(has(s, 9, 900, 0), 0);
    uw_store_close(s);
    s = open_store_all(m, UW_STORE_EVICT, 0, 1);
    CHECK_EQ_INT(has(s, 9, 900, 0), 0);
    struct uw_store_stats st;
    uw_store_stats(s, &st);
    CHECK_EQ_INT(st.torn, 1);
    uw_store_close(s);
    md_free(m);
}

/* ------------------------------------------------------------ crashes */

enum { OP_PUT, OP_DEL, OP_BURN };
typedef struct op { int kind; uint64_t id; size_t len; unsigned flags; } op;

/* A fixed workload: puts of 0..3 blocks (some burn), deletes, burn reads. */
static size_t workload(op *ops, size_t max)
{
    size_t n = 0;
    uint64_t x = 12345;
    for (uint64_t id = 1; n + 2 < max; id++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        ops[n++] = (op){ OP_PUT, id, (size_t)(x % 1800), id % 4 == 0 ? UW_STORE_BURN : 0 };
        if (id % 4 == 0) ops[n++] = (op){ OP_BURN, id, 0, 0 };
        else if (id % 3 == 0) ops[n++] = (op){ OP_DEL, id - 1, 0, 0 };
    }
    return n;
}

/* state: 0 never, 1 acknowledged present, 2 acknowledged gone, 3 in flight. */
static void crash_run(size_t log_blocks, int full, size_t nops, long budget, size_t torn,
                      int expect_all, int *failures)
{
    op ops[400];
    nops = workload(ops, nops < 400 ? nops : 400);
    memdev *m = md_new(log_blocks + 1);
    uw_store *s = open_store(m, full, 0);
    m->budget = budget;
    m->torn = torn;
    static int state[1000];
    memset(state, 0, sizeof state);
    size_t i;
    for (i = 0; i < nops && !m->crashed; i++) {
        op *o = &ops[i];
        int r;
        void *d;
        size_t n;
        int prev = state[o->id];
        state[o->id] = 3;
        if (o->kind == OP_PUT) r = put(s, o->id, o->len, 0, o->flags);
        else if (o->kind == OP_DEL) r = uw_store_delete(s, o->id);
        else if ((r = uw_store_get(s, o->id, 0, &d, &n, NULL)) == UW_OK) free(d);
        if (r == UW_OK) state[o->id] = o->kind == OP_PUT ? 1 : 2;
        else if (r == UW_STORE_ENOTFOUND || r == UW_STORE_EFULL) state[o->id] = prev;
        else if (!m->crashed) { if (*failures < 3) printf("# op %zu kind %d: %s\n", i, o->kind, uw_store_strerror(r)); (*failures)++; break; }
    }
    uw_store_close(s);
    m->budget = -1;
    m->crashed = 0;
    s = open_store(m, full, 0);
    for (uint64_t id = 1; id < 1000 && s; id++) {
        size_t len = 0;
        for (size_t k = 0; k < nops; k++) if (ops[k].kind == OP_PUT && ops[k].id == id) len = ops[k].len;
        int h = has(s, id, len, 0);
        int ok = h >= 0;                                /* never damaged */
        if (state[id] == 0 || state[id] == 2) ok = ok && h == 0;
        if (state[id] == 1 && expect_all) ok = ok && h == 1;
        if (!ok) {
            if (*failures < 3)
                printf("# budget %ld torn %zu: record %llu state %d read %d\n", budget, torn,
                       (unsigned long long)id, state[id], h);
            (*failures)++;
        }
    }
    /* And it keeps working after the crash. */
    int r = s ? put(s, 999, 100, 0, 0) : UW_EIO;
    if (r != UW_OK && !(full == UW_STORE_REFUSE && r == UW_STORE_EFULL)) (*failures)++;
    if (r == UW_OK && has(s, 999, 100, 0) != 1) (*failures)++;
    uw_store_close(s);
    md_free(m);
}

/* The workload without crashes. */
static void run_workload(uw_store *s, const op *ops, size_t nops)
{
    for (size_t i = 0; i < nops; i++) {
        void *d;
        size_t n;
        if (ops[i].kind == OP_PUT) put(s, ops[i].id, ops[i].len, 0, ops[i].flags);
        else if (ops[i].kind == OP_DEL) uw_store_delete(s, ops[i].id);
        else if (uw_store_get(s, ops[i].id, 0, &d, &n, NULL) == UW_OK) free(d);
    }
}

static uint64_t blocks_of_workload(size_t log_blocks, int full, size_t nops)
{
    op ops[400];
    nops = workload(ops, nops);
    memdev *m = md_new(log_blocks + 1);
    uw_store *s = open_store(m, full, 0);
    uint64_t before = m->blocks_written;
    run_workload(s, ops, nops);
    uw_store_close(s);                          /* its checkpoint too */
    uint64_t w = m->blocks_written - before;
    md_free(m);
    return w;
}

/* Cut the workload at every block it writes (and tear that block at a few
 * byte offsets): every acknowledged record is there and whole, nothing
 * deleted or burned comes back. */
static void test_crash_at_every_block(void)
{
    size_t nops = 60;
    uint64_t w = blocks_of_workload(400, UW_STORE_EVICT, nops);
    CHECK(w > 50);
    int failures = 0;
    static const size_t torn[] = { 0, 1, 63, 64, 300 };
    for (long cut = 0; cut <= (long)w; cut++)
        for (size_t t = 0; t < sizeof torn / sizeof torn[0]; t++)
            crash_run(400, UW_STORE_EVICT, nops, cut, torn[t], 1, &failures);
    CHECK_EQ_INT(failures, 0);
}

/* A write cut inside a block, at every byte offset, for the first blocks
 * of the workload (each a record's header block or a data block). */
static void test_crash_torn_at_every_byte(void)
{
    int failures = 0;
    for (long cut = 0; cut < 6; cut++)
        for (size_t torn = 0; torn < BS; torn++) crash_run(400, UW_STORE_EVICT, 8, cut, torn, 1, &failures);
    CHECK_EQ_INT(failures, 0);
}

/* The same on a log small enough to wrap and evict: what is read back is
 * whole, and nothing deleted or burned returns. */
static void test_crash_while_wrapping(void)
{
    size_t nops = 120;
    uint64_t w = blocks_of_workload(24, UW_STORE_EVICT, nops);
    CHECK(w > 100);
    int failures = 0;
    for (long cut = 0; cut <= (long)w; cut++) {
        crash_run(24, UW_STORE_EVICT, nops, cut, 0, 0, &failures);
        crash_run(24, UW_STORE_EVICT, nops, cut, 100, 0, &failures);
    }
    CHECK_EQ_INT(failures, 0);
}

static void test_crash_when_full_refuses(void)
{
    size_t nops = 120;
    uint64_t w = blocks_of_workload(60, UW_STORE_REFUSE, nops);
    int failures = 0;
    for (long cut = 0; cut <= (long)w; cut++) crash_run(60, UW_STORE_REFUSE, nops, cut, 0, 1, &failures);
    CHECK_EQ_INT(failures, 0);
    /* The workload filled the store: some puts were refused. */
    memdev *m = md_new(61);
    uw_store *s = open_store(m, UW_STORE_REFUSE, 0);
    int refused = 0;
    for (uint64_t id = 1; id <= 60; id++) refused += put(s, id, 1000, 0, 0) == UW_STORE_EFULL;
    CHECK(refused > 0);
    uw_store_close(s);
    md_free(m);
}

/* A log that wraps between checkpoints (a quarter of it apart, and the
 * cleaner keeps less than that free: records up to 2000 bytes): the
 * records written after the last checkpoint overwrite records it holds,
 * and a torn write may hit more of them; a reopen from it is whole. */
static void test_crash_wrapping_between_checkpoints(void)
{
    size_t nops = 400;
    max_record = 2000;
    uint64_t w = blocks_of_workload(400, UW_STORE_EVICT, nops);
    CHECK(w > 500);
    int failures = 0;
    for (long cut = (long)w / 2; cut <= (long)w; cut++) {
        crash_run(400, UW_STORE_EVICT, nops, cut, 0, 0, &failures);
        crash_run(400, UW_STORE_EVICT, nops, cut, 100, 0, &failures);
    }
    max_record = 0;
    CHECK_EQ_INT(failures, 0);
}

/* ------------------------------------------------------------ checkpoints */

/* The offset of checkpoint slot k (the superblock gives their length). */
static size_t ck_slot_offset(memdev *m, uw_store *s, int k)
{
    struct uw_store_stats st;
    uw_store_stats(s, &st);
    uint32_t c = (uint32_t)m->disk[40] | (uint32_t)m->disk[41] << 8 | (uint32_t)m->disk[42] << 16;
    return (size_t)(BS + st.log_bytes + (uint64_t)k * c * BS);
}

static uint64_t ck_gen(memdev *m, size_t off)
{
    uint64_t g = 0;
    for (int i = 7; i >= 0; i--) g = g << 8 | m->disk[off + 8 + i];
    return g;
}

/* A clean close checkpoints the index: the next open reads it and the
 * records written after it, not the log; after a crash it reads the
 * records since the last checkpoint.  Same answers as a full replay. */
static void test_checkpoint_open_reads_only_the_tail(void)
{
    memdev *m = md_new(4000);
    uw_store *s = open_store(m, UW_STORE_EVICT, 0);
    for (uint64_t id = 1; id <= 600; id++) CHECK_EQ_INT(put(s, id, (size_t)(id * 7 % 900), 0, id % 9 == 0 ? UW_STORE_BURN : 0), UW_OK);
    for (uint64_t id = 5; id <= 600; id += 10) CHECK_EQ_INT(uw_store_delete(s, id), UW_OK);
    uw_store_close(s);
    m->blocks_read = 0;
    s = open_store_all(m, UW_STORE_EVICT, 0, 1);
    uint64_t full_reads = m->blocks_read;
    struct uw_store_stats st;
    uw_store_stats(s, &st);
    CHECK_EQ_INT(st.from_checkpoint, 0);
    uint64_t records = st.records;
    CHECK_EQ_INT(records, 540);
    uw_store_close(s);
    m->blocks_read = 0;
    s = open_store(m, UW_STORE_EVICT, 0);
    uw_store_stats(s, &st);
    CHECK_EQ_INT(st.from_checkpoint, 1);
    CHECK_EQ_INT(st.replayed, 0);
    CHECK_EQ_INT(st.records, records);
    CHECK(m->blocks_read * 20 < full_reads);
    for (uint64_t id = 601; id <= 620; id++) CHECK_EQ_INT(put(s, id, 300, 0, 0), UW_OK);
    CHECK_EQ_INT(uw_store_delete(s, 7), UW_OK);
    CHECK_EQ_INT(has(s, 9, 9 * 7 % 900, 0), 1);      /* burned */
    m->crashed = 1;                             /* no checkpoint at close */
    uw_store_close(s);
    m->crashed = 0;
    s = open_store(m, UW_STORE_EVICT, 0);
    uw_store_stats(s, &st);
    CHECK_EQ_INT(st.from_checkpoint, 1);
    CHECK_EQ_INT(st.replayed, 22);
    CHECK_EQ_INT(st.records, records + 20 - 2);
    for (uint64_t id = 1; id <= 620; id++) {
        size_t len = id > 600 ? 300 : (size_t)(id * 7 % 900);
        int want = !(id <= 600 && id % 10 == 5) && id != 7 && id != 9;
        CHECK_EQ_INT(uw_store_stat(s, id, 0, NULL, NULL) == UW_OK, want);
        if (want && id % 9) CHECK_EQ_INT(has(s, id, len, 0), 1);
    }
    uw_store_close(s);
    md_free(m);
}

/* A damaged newest checkpoint: the open takes the previous one (and the
 * longer chain after it); both damaged: the whole log.  Nothing lost. */
static void test_damaged_checkpoint_falls_back(void)
{
    memdev *m = md_new(2000);
    uw_store *s = open_store(m, UW_STORE_EVICT, 0);
    for (uint64_t id = 1; id <= 100; id++) CHECK_EQ_INT(put(s, id, 200, 0, 0), UW_OK);
    uw_store_close(s);
    s = open_store(m, UW_STORE_EVICT, 0);
    for (uint64_t id = 101; id <= 150; id++) CHECK_EQ_INT(put(s, id, 200, 0, 0), UW_OK);
    CHECK_EQ_INT(uw_store_delete(s, 3), UW_OK);
    uw_store_close(s);
    size_t a = ck_slot_offset(m, s = open_store(m, UW_STORE_EVICT, 0), 0);
    uw_store_close(s);
    size_t b = ck_slot_offset(m, s = open_store(m, UW_STORE_EVICT, 0), 1);
    uw_store_close(s);
    size_t newest = ck_gen(m, a) > ck_gen(m, b) ? a : b, older = newest == a ? b : a;
    CHECK(ck_gen(m, older) > 0);
    for (int pass = 0; pass < 2; pass++) {
        m->disk[(pass ? older : newest) + 64 + 20 * 40 + 3] ^= 0x10;    /* an entry */
        s = open_store(m, UW_STORE_EVICT, 0);
        struct uw_store_stats st;
        uw_store_stats(s, &st);
        CHECK_EQ_INT(st.from_checkpoint, pass == 0);
        CHECK_EQ_INT(st.records, 149);
        for (uint64_t id = 1; id <= 150; id++) CHECK_EQ_INT(has(s, id, 200, 0), id != 3);
        m->crashed = 1;                         /* keep the damage for the next pass */
        uw_store_close(s);
        m->crashed = 0;
    }
    md_free(m);
}

/* A store of version 1 (no checkpoint slots; its superblock's CRC at 40)
 * still opens, by a full replay, and takes writes. */
static void test_version_1_store_opens(void)
{
    memdev *m = md_new(300);
    uw_store *s = open_store(m, UW_STORE_EVICT, 0);
    for (uint64_t id = 1; id <= 20; id++) CHECK_EQ_INT(put(s, id, 300, 0, 0), UW_OK);
    m->crashed = 1;                             /* no checkpoint */
    uw_store_close(s);
    m->crashed = 0;
    memset(m->disk + 300 * BS - 40 * BS, 0, 40 * BS);   /* whatever the slots held */
    m->disk[8] = 1;
    memset(m->disk + 40, 0, 8);
    uint32_t crc = uw__crc32c(0, m->disk, 40);
    for (int i = 0; i < 4; i++) m->disk[40 + i] = (unsigned char)(crc >> (8 * i));
    s = open_store(m, UW_STORE_EVICT, 0);
    struct uw_store_stats st;
    uw_store_stats(s, &st);
    CHECK_EQ_INT(st.from_checkpoint, 0);
    CHECK_EQ_INT(st.log_bytes, 299 * BS);
    CHECK_EQ_INT(st.records, 20);
    CHECK_EQ_INT(put(s, 21, 300, 0, 0), UW_OK);
    uw_store_close(s);
    s = open_store(m, UW_STORE_EVICT, 0);
    for (uint64_t id = 1; id <= 21; id++) CHECK_EQ_INT(has(s, id, 300, 0), 1);
    uw_store_close(s);
    md_free(m);
}

/* A checkpoint cut at every byte of its first blocks, on a small log that
 * checkpoints often and refuses when full: every acknowledged record is
 * there, nothing deleted comes back. */
static void test_crash_torn_checkpoint_at_every_byte(void)
{
    size_t nops = 120;
    op ops[400];
    nops = workload(ops, nops);
    memdev *m = md_new(61);
    uw_store *s = open_store(m, UW_STORE_REFUSE, 0);
    long rec[4096];
    m->rec = rec;
    m->rec_from = ck_slot_offset(m, s, 0);
    uint64_t before = m->blocks_written;
    run_workload(s, ops, nops);
    uw_store_close(s);
    size_t nrec = m->nrec;
    md_free(m);
    CHECK(nrec >= 10);                          /* it checkpointed */
    int failures = 0;
    for (size_t k = 0; k < nrec && k < 8; k++)
        for (size_t torn = 0; torn < BS; torn++)
            crash_run(60, UW_STORE_REFUSE, nops, rec[k] - (long)before, torn, 1, &failures);
    CHECK_EQ_INT(failures, 0);
}

int main(void)
{
    RUN(test_crc32c_known_answer);
    RUN(test_format_refused_without_permission);
    RUN(test_put_get_delete_reopen);
    RUN(test_too_large_is_refused);
    RUN(test_burn_after_reading);
    RUN(test_failed_tombstone_keeps_the_record);
    RUN(test_expiry_on_read_sweep_and_reopen);
    RUN(test_eviction_wraps_the_log);
    RUN(test_recently_read_survive_eviction);
    RUN(test_full_refuses_and_keeps_records);
    RUN(test_forged_header_in_data_is_data);
    RUN(test_damaged_record_is_detected);
    RUN(test_crash_at_every_block);
    RUN(test_crash_torn_at_every_byte);
    RUN(test_crash_while_wrapping);
    RUN(test_crash_when_full_refuses);
    RUN(test_crash_wrapping_between_checkpoints);
    RUN(test_checkpoint_open_reads_only_the_tail);
    RUN(test_damaged_checkpoint_falls_back);
    RUN(test_version_1_store_opens);
    RUN(test_crash_torn_checkpoint_at_every_byte);
    return CHECK_DONE();
}
