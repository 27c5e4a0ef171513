/*
 * store.c — the log-structured record store of store.h: the on-disk
 * format, the scan that rebuilds the index at open, the cleaner ahead of
 * the write position, and the operations.
 *
 * Layout (little-endian):
 *   block 0   superblock: "UWSTORE1", version u32, block size u32, blocks
 *             u64, key[16], crc32c of the bytes before it at 40.
 *   blocks 1… the log, positions 0..L-1.  A record at position p takes
 *             k = ceil((64 + len) / bs) blocks, wrapping at L.
 *   header    magic "UWPR" u32 | type u8 | flags u8 | 0 u16 | seq u64 |
 *             id u64 | expires i64 | len u32 | data crc32c u32 |
 *             blocks u32 | 0 (12 bytes) | crc32c(key || bytes 0..59) at 60.
 */
#include <uweb/store.h>
#include <uweb/block.h>
#include <uweb/runtime.h>

#include <stdlib.h>
#include <string.h>

#include "store_internal.h"

#define SUPER_MAGIC "UWSTORE1"
#define SUPER_VERSION 2u

/* ------------------------------------------------------------ CRC32C */

/* Slicing by 8: eight tables, eight bytes a step. */
static uint32_t crc_table[8][256];

static void crc_init(void)
{
    if (crc_table[0][1]) return;
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1)));
        crc_table[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++)
        for (int t = 1; t < 8; t++)
            crc_table[t][i] = (crc_table[t - 1][i] >> 8) ^ crc_table[0][crc_table[t - 1][i] & 0xff];
}

uint32_t uw__crc32c(uint32_t crc, const void *buf, size_t n)
{
    crc_init();
    const unsigned char *p = buf;
    crc = ~crc;
    for (; n >= 8; n -= 8, p += 8) {
        uint32_t lo = crc ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
        crc = crc_table[7][lo & 0xff] ^ crc_table[6][(lo >> 8) & 0xff] ^ crc_table[5][(lo >> 16) & 0xff] ^
              crc_table[4][lo >> 24] ^ crc_table[3][p[4]] ^ crc_table[2][p[5]] ^ crc_table[1][p[6]] ^
              crc_table[0][p[7]];
    }
    while (n--) crc = crc_table[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return ~crc;
}

/* ------------------------------------------------------------ encoding */

static void put32(unsigned char *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i)); }
static void put64(unsigned char *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i)); }
static uint32_t get32(const unsigned char *p) { uint32_t v = 0; for (int i = 3; i >= 0; i--) v = v << 8 | p[i]; return v; }
static uint64_t get64(const unsigned char *p) { uint64_t v = 0; for (int i = 7; i >= 0; i--) v = v << 8 | p[i]; return v; }

static uint32_t header_crc(const uint8_t key[16], const unsigned char *h)
{
    return uw__crc32c(uw__crc32c(0, key, 16), h, 60);
}

void uw__store_encode_header(unsigned char *h, const uint8_t key[16], const uw__store_hdr *r)
{
    memset(h, 0, UW__STORE_HDR);
    put32(h, UW__STORE_MAGIC);
    h[4] = r->type;
    h[5] = r->flags;
    put64(h + 8, r->seq);
    put64(h + 16, r->id);
    put64(h + 24, (uint64_t)r->expires);
    put32(h + 32, r->len);
    put32(h + 36, r->data_crc);
    put32(h + 40, r->blocks);
    put32(h + 60, header_crc(key, h));
}

int uw__store_decode_header(const unsigned char *h, const uint8_t key[16], uint32_t bs,
                            uint32_t log_blocks, uw__store_hdr *r)
{
    if (get32(h) != UW__STORE_MAGIC || get32(h + 60) != header_crc(key, h)) return 0;
    r->type = h[4];
    r->flags = h[5];
    r->seq = get64(h + 8);
    r->id = get64(h + 16);
    r->expires = (int64_t)get64(h + 24);
    r->len = get32(h + 32);
    r->data_crc = get32(h + 36);
    r->blocks = get32(h + 40);
    if (r->type != UW__STORE_PASTE && r->type != UW__STORE_TOMB) return 0;
    if (r->type == UW__STORE_TOMB && r->len) return 0;
    uint64_t need = ((uint64_t)UW__STORE_HDR + r->len + bs - 1) / bs;
    if (r->blocks != need || r->blocks > log_blocks || r->seq == 0) return 0;
    return 1;
}

/* ------------------------------------------------------------ index */

typedef struct entry {
    uint64_t id;            /* 0: empty slot (ids are never 0) */
    uint32_t pos;
    uint32_t expires;       /* seconds since the epoch, 0 never (until 2106) */
    uint32_t blocks : 24, flags : 7, hot : 1;
} __attribute__((packed, aligned(4))) entry;

/* A record in log order; its blocks are its entry's (a queue entry whose
 * id no longer has an entry at pos is stale). */
typedef struct qent {
    uint64_t id;
    uint32_t pos;
} __attribute__((packed, aligned(4))) qent;

struct uw_store {
    uw_store_dev dev;
    uint32_t bs;
    uint32_t log_blocks;        /* L */
    uint32_t ck_blocks;         /* blocks of each checkpoint slot; 0: none */
    uint8_t key[16];
    int full;
    int open;                   /* mounted: close may checkpoint */
    int formatted;              /* by this open: the log holds nothing under the new key */
    size_t max_record;
    uint64_t seq;               /* of the next record */
    uint32_t head;              /* next write position */
    uint32_t free;              /* blocks known free from head on */
    uint32_t reserve;           /* free blocks kept beyond a write: the largest record */
    entry *tab;                 /* open addressing, linear probing, any capacity */
    size_t tab_cap, tab_n;
    qent *q;                    /* live records in log order (may hold stale ones) */
    size_t q_cap, q_head, q_n;
    uint64_t live_blocks;
    uint64_t evicted, copied, torn;
    /* The newest durable checkpoint: its slot and generation, the blocks
     * and records written since (a checkpoint is written before a write
     * that would take the blocks past a quarter of the log). */
    unsigned ck_slot;
    uint64_t ck_gen, ck_since, ck_appends, ck_loaded, replayed;
};

/* An expiry as the index keeps it: 0 never, else at most 2106. */
static uint32_t expiry32(int64_t t)
{
    return t <= 0 ? 0 : t > (int64_t)UINT32_MAX ? UINT32_MAX : (uint32_t)t;
}

/* The table grows by half when 4/5 full, so it is 8/15 to 4/5 full: 25 to
 * 38 bytes a record; the queue by half when 7/8 full after its stale
 * entries are dropped: at most 21 bytes a record. */
static size_t slot_of(size_t cap, uint64_t id)
{
    uint64_t h = id;                    /* mixed (ids may be anything), then scaled to cap */
    h ^= h >> 33;
    h *= 0xFF51AFD7ED558CCDull;
    h ^= h >> 33;
    h *= 0xC4CEB9FE1A85EC53ull;
    h ^= h >> 33;
    return (size_t)(((h & 0xFFFFFFFFu) * (uint64_t)cap) >> 32);
}

static size_t next_slot(const uw_store *s, size_t i) { return i + 1 == s->tab_cap ? 0 : i + 1; }

static entry *find(uw_store *s, uint64_t id)
{
    if (!s->tab_cap || id == 0) return NULL;
    for (size_t i = slot_of(s->tab_cap, id);; i = next_slot(s, i)) {
        if (s->tab[i].id == id) return &s->tab[i];
        if (s->tab[i].id == 0) return NULL;
    }
}

static int table_full(const uw_store *s, size_t n) { return (uint64_t)n * 5 > (uint64_t)s->tab_cap * 4; }

/* Makes the table hold n records. */
static int grow_table(uw_store *s, size_t n)
{
    size_t cap = s->tab_cap ? s->tab_cap : 64;
    while ((uint64_t)n * 5 > (uint64_t)cap * 4) cap += cap / 2;
    if (cap == s->tab_cap) return UW_OK;
    entry *old = s->tab;
    size_t old_cap = s->tab_cap;
    entry *t = calloc(cap, sizeof *t);
    if (!t) return UW_ENOMEM;
    s->tab = t;
    s->tab_cap = cap;
    for (size_t i = 0; i < old_cap; i++) {
        if (!old[i].id) continue;
        size_t j = slot_of(cap, old[i].id);
        while (t[j].id) j = next_slot(s, j);
        t[j] = old[i];
    }
    free(old);
    return UW_OK;
}

/* Inserts or replaces; NULL when out of memory. */
static entry *insert(uw_store *s, uint64_t id)
{
    entry *e = find(s, id);
    if (e) return e;
    if (table_full(s, s->tab_n + 1) && grow_table(s, s->tab_n + 1) != UW_OK) return NULL;
    size_t i = slot_of(s->tab_cap, id);
    while (s->tab[i].id) i = next_slot(s, i);
    s->tab[i] = (entry){ .id = id };
    s->tab_n++;
    return &s->tab[i];
}

/* Removes e (backward-shift deletion keeps probe chains whole). */
static void remove_entry(uw_store *s, entry *e)
{
    size_t cap = s->tab_cap, i = (size_t)(e - s->tab);
    s->live_blocks -= e->blocks;
    s->tab[i].id = 0;
    s->tab_n--;
    for (size_t j = next_slot(s, i); s->tab[j].id; j = next_slot(s, j)) {
        size_t home = slot_of(cap, s->tab[j].id);
        /* Move j into the hole i when its home is not in (i, j]. */
        if ((j + cap - home) % cap >= (j + cap - i) % cap) {
            s->tab[i] = s->tab[j];
            s->tab[j].id = 0;
            i = j;
        }
    }
}

static int q_live(uw_store *s, const qent *f)
{
    entry *e = find(s, f->id);
    return e && e->pos == f->pos;
}

/* Makes the empty queue hold n entries before it compacts. */
static int q_reserve(uw_store *s, size_t n)
{
    size_t cap = n + n / 7 + 64;
    qent *q = malloc(cap * sizeof *q);
    if (!q) return UW_ENOMEM;
    free(s->q);
    s->q = q;
    s->q_cap = cap;
    s->q_head = s->q_n = 0;
    return UW_OK;
}

static int q_push(uw_store *s, uint64_t id, uint32_t pos)
{
    if (s->q_n == s->q_cap) {
        /* Drop the stale entries in place (the write index never passes
         * the read index), and grow when that freed less than an eighth. */
        size_t j = 0;
        for (size_t i = 0; i < s->q_n; i++) {
            qent f = s->q[(s->q_head + i) % s->q_cap];
            if (q_live(s, &f)) s->q[(s->q_head + j++) % s->q_cap] = f;
        }
        s->q_n = j;
        if ((uint64_t)s->q_n * 8 >= (uint64_t)s->q_cap * 7) {
            size_t cap = s->q_cap ? s->q_cap + s->q_cap / 2 : 64;
            qent *q = malloc(cap * sizeof *q);
            if (!q) return UW_ENOMEM;
            for (size_t i = 0; i < s->q_n; i++) q[i] = s->q[(s->q_head + i) % s->q_cap];
            free(s->q);
            s->q = q;
            s->q_cap = cap;
            s->q_head = 0;
        }
    }
    s->q[(s->q_head + s->q_n) % s->q_cap] = (qent){ id, pos };
    s->q_n++;
    return UW_OK;
}

static void q_pop(uw_store *s)
{
    s->q_head = (s->q_head + 1) % s->q_cap;
    s->q_n--;
}

/* The oldest live record in log order, after dropping stale queue
 * entries; NULL when none. */
static entry *q_front(uw_store *s)
{
    while (s->q_n) {
        const qent *f = &s->q[s->q_head];
        entry *e = find(s, f->id);
        if (e && e->pos == f->pos) return e;
        q_pop(s);
    }
    return NULL;
}

/* Empties the index (a checkpoint that did not check out). */
static void index_reset(uw_store *s)
{
    free(s->tab);
    free(s->q);
    s->tab = NULL;
    s->q = NULL;
    s->tab_cap = s->tab_n = s->q_cap = s->q_head = s->q_n = 0;
    s->live_blocks = 0;
}

/* ------------------------------------------------------------ log I/O */

static uint64_t log_offset(const uw_store *s, uint32_t pos)
{
    return (uint64_t)s->bs * (1 + (uint64_t)pos);
}

/* Reads or writes n blocks at log position pos, wrapping at the end. */
static int log_io(uw_store *s, int write, uint32_t pos, void *buf, uint32_t n)
{
    uint32_t first = n;
    if (pos + (uint64_t)n > s->log_blocks) first = s->log_blocks - pos;
    for (int part = 0; part < 2; part++) {
        uint32_t p = part ? 0 : pos, k = part ? n - first : first;
        unsigned char *b = (unsigned char *)buf + (part ? (size_t)first * s->bs : 0);
        if (!k) continue;
        int r = write ? s->dev.write(s->dev.ctx, log_offset(s, p), b, (size_t)k * s->bs)
                      : s->dev.read(s->dev.ctx, log_offset(s, p), b, (size_t)k * s->bs);
        if (r != UW_OK) return r == UW_EINVAL ? UW_EINVAL : UW_EIO;
    }
    return UW_OK;
}

static uint32_t blocks_for(const uw_store *s, size_t len)
{
    return (uint32_t)((UW__STORE_HDR + (uint64_t)len + s->bs - 1) / s->bs);
}

/* Reads the record of e and checks it; a malloc'd buffer of its blocks. */
static int read_record(uw_store *s, const entry *e, unsigned char **out, uw__store_hdr *h)
{
    unsigned char *buf = malloc((size_t)e->blocks * s->bs);
    if (!buf) return UW_ENOMEM;
    int r = log_io(s, 0, e->pos, buf, e->blocks);
    if (r == UW_OK) {
        if (!uw__store_decode_header(buf, s->key, s->bs, s->log_blocks, h) || h->id != e->id ||
            h->type != UW__STORE_PASTE || h->blocks != e->blocks ||
            uw__crc32c(0, buf + UW__STORE_HDR, h->len) != h->data_crc)
            r = UW_STORE_ECORRUPT;
    }
    if (r != UW_OK) {
        free(buf);
        return r;
    }
    *out = buf;
    return UW_OK;
}

/* ------------------------------------------------------------ checkpoints
 *
 * Two slots after the log, each ck_blocks long, room for an entry per log
 * block.  A checkpoint is the index as of the record seq at position head:
 *   header  magic "UWCK" u32 | 0 u32 | generation u64 | seq u64 | head u32 |
 *           count u32 | crc32c of the entries u32 | 0 … | crc32c(key ||
 *           bytes 0..59) at 60
 *   entries count × (id u64 | pos u32 | blocks u24, flags u8 | expires u32),
 *           the live records in log order from the oldest.
 * The records written after it follow one another from head with seq,
 * seq + 1, …: the open reads the newest valid checkpoint and then that
 * chain only.  A checkpoint goes to the slot not holding the newest one,
 * so a torn checkpoint leaves the previous one; one is written before a
 * write that would put more than a quarter of the log after the newest,
 * so the chain of either slot is never overwritten by the log wrapping. */

#define CK_MAGIC 0x4B435755u        /* "UWCK" */
#define CK_ENTRY 20

static uint64_t ck_offset(const uw_store *s, unsigned slot)
{
    return (uint64_t)s->bs * (1 + (uint64_t)s->log_blocks + (uint64_t)slot * s->ck_blocks);
}

static uint32_t ck_header_crc(const uw_store *s, const unsigned char *h)
{
    return uw__crc32c(uw__crc32c(0, s->key, 16), h, 60);
}

/* Blocks per slot on a device of `blocks` blocks of bs bytes: an entry per
 * log block; 0 when that would leave fewer than 8 log blocks. */
static uint32_t ck_blocks_for(uint64_t blocks, uint32_t bs)
{
    uint64_t c = 0;
    for (;;) {
        if (blocks < 9 + 2 * c) return 0;
        uint64_t need = (64 + CK_ENTRY * (blocks - 1 - 2 * c) + bs - 1) / bs;
        if (need <= c) return (uint32_t)c;
        c = need;
    }
}

typedef struct qsort_ent {
    uint32_t key, pos;
    uint64_t id;
} qsort_ent;

static int by_key(const void *a, const void *b)
{
    uint32_t x = ((const qsort_ent *)a)->key, y = ((const qsort_ent *)b)->key;
    return x < y ? -1 : x > y;
}

/* Rebuilds the queue from the index, in log order from the head. */
static int q_rebuild(uw_store *s)
{
    size_t n = 0, cap = s->tab_n + s->tab_n / 2 + 64;
    qsort_ent *v = malloc(s->tab_n * sizeof *v + 1);
    qent *q = malloc(cap * sizeof *q);
    if (!v || !q) {
        free(v);
        free(q);
        return UW_ENOMEM;
    }
    for (size_t i = 0; i < s->tab_cap; i++)
        if (s->tab[i].id)
            v[n++] = (qsort_ent){ (uint32_t)(((uint64_t)s->tab[i].pos + s->log_blocks - s->head) % s->log_blocks),
                                  s->tab[i].pos, s->tab[i].id };
    qsort(v, n, sizeof *v, by_key);
    for (size_t i = 0; i < n; i++) q[i] = (qent){ v[i].id, v[i].pos };
    free(v);
    free(s->q);
    s->q = q;
    s->q_cap = cap;
    s->q_head = 0;
    s->q_n = n;
    return UW_OK;
}

/* Writes the index as a checkpoint into the slot not holding the newest. */
static int ck_write(uw_store *s)
{
    size_t bytes = 64 + (size_t)CK_ENTRY * s->tab_n;
    uint32_t k = (uint32_t)((bytes + s->bs - 1) / s->bs);
    if (k > s->ck_blocks) return UW_EIO;        /* cannot be: an entry per block */
    unsigned char *b = calloc(k, s->bs);
    if (!b) return UW_ENOMEM;
    unsigned char *p = b + 64;
    size_t n = 0;
    for (size_t i = 0; i < s->q_n && n < s->tab_n; i++) {
        const qent *f = &s->q[(s->q_head + i) % s->q_cap];
        entry *e = find(s, f->id);
        if (!e || e->pos != f->pos) continue;
        put64(p, e->id);
        put32(p + 8, e->pos);
        put32(p + 12, e->blocks | (uint32_t)e->flags << 24);
        put32(p + 16, e->expires);
        p += CK_ENTRY;
        n++;
    }
    unsigned slot = s->ck_slot ^ 1;
    put32(b, CK_MAGIC);
    put64(b + 8, s->ck_gen + 1);
    put64(b + 16, s->seq);
    put32(b + 24, s->head);
    put32(b + 28, (uint32_t)n);
    put32(b + 32, uw__crc32c(0, b + 64, (size_t)CK_ENTRY * n));
    put32(b + 60, ck_header_crc(s, b));
    int r = UW_OK;
    if (n != s->tab_n) {                    /* the queue must hold every live record */
        free(b);
        r = q_rebuild(s);
        return r == UW_OK ? ck_write(s) : r;
    }
    r = s->dev.write(s->dev.ctx, ck_offset(s, slot), b, (size_t)k * s->bs);
    if (r == UW_OK) r = s->dev.flush(s->dev.ctx);
    if (r == UW_OK && s->ck_since >= UINT64_MAX / 4) {
        /* After a full replay the other slot may predate the log: clear it. */
        memset(b, 0, s->bs);
        if (s->dev.write(s->dev.ctx, ck_offset(s, slot ^ 1), b, s->bs) == UW_OK) s->dev.flush(s->dev.ctx);
    }
    free(b);
    if (r != UW_OK) return UW_EIO;
    s->ck_slot = slot;
    s->ck_gen++;
    s->ck_since = s->ck_appends = 0;
    return UW_OK;
}

/* Writes a record image of k blocks at head under the next seq (h's
 * other fields are the record's), after a checkpoint when one is due:
 * the chain after the newest stays within a quarter of the log, and the
 * records of the index are checkpointed every eighth of their number. */
static int write_at_head(uw_store *s, unsigned char *img, uint32_t k, uw__store_hdr *h)
{
    if (s->ck_blocks && s->ck_since && (s->ck_since + k > s->log_blocks / 4 ||
                         s->ck_appends >= (s->tab_n / 8 > 1024 ? s->tab_n / 8 : 1024))) {
        int c = ck_write(s);
        if (c != UW_OK) return c;
    }
    h->seq = s->seq;
    uw__store_encode_header(img, s->key, h);
    int r = log_io(s, 1, s->head, img, k);
    if (r == UW_OK) r = s->dev.flush(s->dev.ctx) == UW_OK ? UW_OK : UW_EIO;
    if (r != UW_OK) return r;
    s->seq++;
    s->head = (s->head + k) % s->log_blocks;
    s->free -= k;
    s->ck_since += k;
    s->ck_appends++;
    return UW_OK;
}

/* Moves the live record e (the oldest) to the head; the copy is durable
 * before its original's blocks become free. */
static int copy_forward(uw_store *s, entry *e)
{
    unsigned char *buf;
    uw__store_hdr h;
    int r = read_record(s, e, &buf, &h);
    if (r == UW_STORE_ECORRUPT) {           /* damaged on the device: drop it */
        q_pop(s);
        s->free += e->blocks;
        remove_entry(s, e);
        return UW_OK;
    }
    if (r != UW_OK) return r;
    uint32_t k = e->blocks, pos = s->head;
    r = write_at_head(s, buf, k, &h);
    free(buf);
    if (r != UW_OK) return r;
    q_pop(s);
    s->free += k;                           /* the original */
    e->pos = pos;
    e->hot = 0;
    s->copied++;
    return q_push(s, e->id, pos);
}

/* Makes k blocks free at the head, and tries for the reserve beyond them
 * (room to copy a live record forward).  Dead records are passed; a live
 * one is copied forward (UW_STORE_REFUSE: always; UW_STORE_EVICT: when read
 * since written) when the free blocks hold it, else evicted (_EVICT) or the
 * cleaning stops (_REFUSE). */
static int make_room(uw_store *s, uint32_t k)
{
    if (k > s->log_blocks) return UW_ELIMIT;
    uint64_t goal = (uint64_t)k + s->reserve, copied = 0;
    if (goal > s->log_blocks) goal = s->log_blocks;
    while (s->free < goal) {
        entry *e = q_front(s);
        if (!e) {
            s->free = s->log_blocks;
            break;
        }
        uint32_t c = (s->head + s->free) % s->log_blocks;
        uint32_t d = (e->pos + s->log_blocks - c) % s->log_blocks;
        if (d) {                            /* dead blocks before it */
            s->free += d;
            continue;
        }
        int copy = s->full == UW_STORE_REFUSE ? 1 : e->hot;
        if (copy && s->free >= e->blocks && copied <= s->live_blocks) {
            copied += e->blocks;
            int r = copy_forward(s, e);
            if (r != UW_OK) return r;
            continue;
        }
        if (s->full == UW_STORE_REFUSE) break;
        q_pop(s);
        s->free += e->blocks;
        remove_entry(s, e);
        s->evicted++;
    }
    return s->free >= k ? UW_OK : UW_STORE_EFULL;
}

/* Appends a record; *pos gets its position. */
static int append(uw_store *s, uint8_t type, uint64_t id, const void *data, size_t len,
                  int64_t expires, unsigned flags, uint32_t *pos)
{
    uint32_t k = blocks_for(s, len);
    int r = make_room(s, k);
    if (r != UW_OK) return r;
    unsigned char *img = calloc(k, s->bs);
    if (!img) return UW_ENOMEM;
    if (len) memcpy(img + UW__STORE_HDR, data, len);
    uw__store_hdr h = { .type = type, .flags = (uint8_t)flags, .id = id,
                        .expires = expires, .len = (uint32_t)len, .blocks = k,
                        .data_crc = uw__crc32c(0, data, len) };
    *pos = s->head;
    r = write_at_head(s, img, k, &h);
    free(img);
    return r;
}

/* ------------------------------------------------------------ open */

typedef struct scanned {
    uint64_t seq, id;
    int64_t expires;
    uint32_t pos, blocks;
    uint8_t type, flags;
} scanned;

static int by_seq(const void *a, const void *b)
{
    uint64_t x = ((const scanned *)a)->seq, y = ((const scanned *)b)->seq;
    return x < y ? -1 : x > y;
}

/* Sets the geometry: the log between the superblock and the checkpoints. */
static void set_geometry(uw_store *s, uint32_t ck_blocks)
{
    s->ck_blocks = ck_blocks;
    s->log_blocks = (uint32_t)(s->dev.size / s->bs - 1 - 2 * (uint64_t)ck_blocks);
}

/* Writes a superblock for key and clears both checkpoint slots' headers. */
static int format(uw_store *s, const uint8_t *key)
{
    uint64_t blocks = s->dev.size / s->bs;
    unsigned char *b = calloc(1, s->bs);
    if (!b) return UW_ENOMEM;
    set_geometry(s, ck_blocks_for(blocks, s->bs));
    int r = UW_OK;
    for (unsigned slot = 0; slot < 2 && s->ck_blocks && r == UW_OK; slot++)
        r = s->dev.write(s->dev.ctx, ck_offset(s, slot), b, s->bs);
    memcpy(b, SUPER_MAGIC, 8);
    put32(b + 8, SUPER_VERSION);
    put32(b + 12, s->bs);
    put64(b + 16, blocks);
    memcpy(b + 24, key, 16);
    put32(b + 40, s->ck_blocks);
    put32(b + 44, uw__crc32c(0, b, 44));
    if (r == UW_OK) r = s->dev.write(s->dev.ctx, 0, b, s->bs);
    if (r == UW_OK) r = s->dev.flush(s->dev.ctx);
    free(b);
    if (r != UW_OK) return UW_EIO;
    memcpy(s->key, key, 16);
    return UW_OK;
}

static int mount_super(uw_store *s, const uw_store_options *o)
{
    unsigned char *b = malloc(s->bs);
    if (!b) return UW_ENOMEM;
    int r = s->dev.read(s->dev.ctx, 0, b, s->bs);
    if (r != UW_OK) {
        free(b);
        return UW_EIO;
    }
    /* Version 1 has no checkpoints (its CRC at 40); version 2 says how
     * long its two checkpoint slots are (at 40, the CRC at 44). */
    uint64_t blocks = s->dev.size / s->bs;
    uint32_t version = get32(b + 8), ck = version == 2 ? get32(b + 40) : 0;
    int valid = memcmp(b, SUPER_MAGIC, 8) == 0 && get32(b + 12) == s->bs && get64(b + 16) == blocks &&
                ((version == 1 && get32(b + 40) == uw__crc32c(0, b, 40)) ||
                 (version == 2 && get32(b + 44) == uw__crc32c(0, b, 44) &&
                  (ck == 0 || ck == ck_blocks_for(blocks, s->bs))));
    int blank = 1;
    for (uint32_t i = 0; i < s->bs && blank; i++) blank = b[i] == 0;
    if (valid && o->format != UW_STORE_FORMAT_ALWAYS) {
        memcpy(s->key, b + 24, 16);
        set_geometry(s, ck);
    }
    free(b);
    if (valid && o->format != UW_STORE_FORMAT_ALWAYS) return UW_OK;
    int may = o->format == UW_STORE_FORMAT_ALWAYS || (o->format == UW_STORE_FORMAT_BLANK && blank);
    if (!may || !o->key) return UW_STORE_ECORRUPT;
    r = format(s, o->key);
    s->formatted = r == UW_OK;
    return r;
}

/* Whether the data of the record h at p checks out, from blk when the
 * buffer it is in holds the whole record: 1, 0, or an error. */
static int data_ok(uw_store *s, uint32_t p, const uw__store_hdr *h, const unsigned char *blk, int whole)
{
    if (whole) return uw__crc32c(0, blk + UW__STORE_HDR, h->len) == h->data_crc;
    unsigned char *rec = malloc((size_t)h->blocks * s->bs);
    if (!rec) return UW_ENOMEM;
    int r = log_io(s, 0, p, rec, h->blocks);
    int ok = r == UW_OK ? uw__crc32c(0, rec + UW__STORE_HDR, h->len) == h->data_crc : UW_EIO;
    free(rec);
    return ok;
}

static int push_scanned(scanned **v, size_t *n, size_t *cap, scanned x)
{
    if (*n == *cap) {
        size_t c2 = *cap ? *cap * 2 : 256;
        scanned *nv = realloc(*v, c2 * sizeof *nv);
        if (!nv) return UW_ENOMEM;
        *v = nv;
        *cap = c2;
    }
    (*v)[(*n)++] = x;
    return UW_OK;
}

/* Reads the log once: every record whose header and data check out. */
static int scan(uw_store *s, scanned **out, size_t *nout)
{
    enum { WINDOW = 128 };
    unsigned char *win = malloc((size_t)WINDOW * s->bs);
    scanned *v = NULL;
    size_t n = 0, cap = 0;
    int r = win ? UW_OK : UW_ENOMEM;
    uint32_t wstart = 0, wlen = 0;
    for (uint32_t p = 0; r == UW_OK && p < s->log_blocks;) {
        if (p < wstart || p >= wstart + wlen) {
            wstart = p;
            wlen = s->log_blocks - p < WINDOW ? s->log_blocks - p : WINDOW;
            r = log_io(s, 0, wstart, win, wlen);
            if (r != UW_OK) break;
        }
        unsigned char *blk = win + (size_t)(p - wstart) * s->bs;
        uw__store_hdr h;
        if (!uw__store_decode_header(blk, s->key, s->bs, s->log_blocks, &h)) {
            p++;
            continue;
        }
        /* The data: from the window when it is all there, else read. */
        int ok = data_ok(s, p, &h, blk, p + (uint64_t)h.blocks <= wstart + wlen);
        if (ok < 0) { r = ok; break; }
        if (!ok) {
            s->torn++;
            p++;
            continue;
        }
        r = push_scanned(&v, &n, &cap, (scanned){ h.seq, h.id, h.expires, p, h.blocks, h.type, h.flags });
        if (r != UW_OK) break;
        /* A record wrapping past the end covers the first blocks too: the
         * scan stops there (those blocks were its data). */
        if (p + (uint64_t)h.blocks >= s->log_blocks) break;
        p += h.blocks;
    }
    free(win);
    if (r != UW_OK) {
        free(v);
        return r;
    }
    /* A wrapping record's data covers the blocks at the log's start: drop
     * what the scan read there that lies inside it. */
    if (n && v[n - 1].pos + (uint64_t)v[n - 1].blocks > s->log_blocks) {
        uint32_t end = (uint32_t)(v[n - 1].pos + (uint64_t)v[n - 1].blocks - s->log_blocks);
        size_t j = 0;
        for (size_t i = 0; i < n; i++)
            if (i == n - 1 || v[i].pos >= end) v[j++] = v[i];
        n = j;
    }
    *out = v;
    *nout = n;
    return UW_OK;
}

/* Applies records in seq order to the index, and queues the pastes that
 * stay (after the records already queued). */
static int apply(uw_store *s, const scanned *v, size_t n, int64_t now)
{
    int r = UW_OK;
    for (size_t i = 0; i < n && r == UW_OK; i++) {
        if (v[i].type == UW__STORE_TOMB) {
            entry *e = find(s, v[i].id);
            if (e) remove_entry(s, e);
            continue;
        }
        if (v[i].expires && v[i].expires <= now) continue;
        entry *e = insert(s, v[i].id);
        if (!e) { r = UW_ENOMEM; break; }
        s->live_blocks -= e->blocks;        /* 0 for a new entry */
        e->pos = v[i].pos;
        e->blocks = v[i].blocks;
        e->expires = expiry32(v[i].expires);
        e->flags = v[i].flags & 0x7f;
        s->live_blocks += e->blocks;
    }
    for (size_t i = 0; i < n && r == UW_OK; i++) {
        entry *e = v[i].type == UW__STORE_PASTE ? find(s, v[i].id) : NULL;
        if (e && e->pos == v[i].pos) r = q_push(s, e->id, e->pos);
    }
    return r;
}

/* The full replay: every record of the log. */
static int rebuild(uw_store *s, int64_t now)
{
    scanned *v;
    size_t n;
    int r = scan(s, &v, &n);
    if (r != UW_OK) return r;
    if (n) qsort(v, n, sizeof *v, by_seq);
    s->seq = n ? v[n - 1].seq + 1 : 1;
    s->head = n ? (uint32_t)((v[n - 1].pos + (uint64_t)v[n - 1].blocks) % s->log_blocks) : 0;
    s->free = n ? 0 : s->log_blocks;
    s->replayed = n;
    r = apply(s, v, n, now);
    free(v);
    return r;
}

/* ------------------------------------------------------------ open from a checkpoint */

typedef struct ckhdr {
    uint64_t gen, seq;
    uint32_t head, count, crc;
} ckhdr;

/* 1 when the header of slot checks out (its fields in *c), else 0. */
static int ck_header(uw_store *s, unsigned slot, unsigned char *blk, ckhdr *c)
{
    if (s->dev.read(s->dev.ctx, ck_offset(s, slot), blk, s->bs) != UW_OK) return 0;
    if (get32(blk) != CK_MAGIC || get32(blk + 60) != ck_header_crc(s, blk)) return 0;
    *c = (ckhdr){ get64(blk + 8), get64(blk + 16), get32(blk + 24), get32(blk + 28), get32(blk + 32) };
    return c->seq >= 1 && c->head < s->log_blocks && c->count <= s->log_blocks &&
           64 + (uint64_t)CK_ENTRY * c->count <= (uint64_t)s->ck_blocks * s->bs;
}

/* Loads the entries of checkpoint c into the empty index and queue: 1, 0
 * when they do not check out (CRC, bounds, records overlapping or out of
 * log order, an id twice), or an error. */
static int ck_entries(uw_store *s, unsigned slot, const ckhdr *c, int64_t now)
{
    uint32_t L = s->log_blocks;
    size_t bytes = 64 + (size_t)CK_ENTRY * c->count;
    size_t k = (bytes + s->bs - 1) / s->bs;
    unsigned char *b = malloc(k * s->bs);
    if (!b) return UW_ENOMEM;
    int ok = s->dev.read(s->dev.ctx, ck_offset(s, slot), b, k * s->bs) == UW_OK ? 1 : UW_EIO;
    if (ok == 1 && uw__crc32c(0, b + 64, (size_t)CK_ENTRY * c->count) != c->crc) ok = 0;
    if (ok == 1 && (grow_table(s, c->count) != UW_OK || q_reserve(s, c->count) != UW_OK)) ok = UW_ENOMEM;
    uint64_t base = 0, end = 0;
    for (uint32_t i = 0; i < c->count && ok == 1; i++) {
        const unsigned char *p = b + 64 + (size_t)CK_ENTRY * i;
        uint64_t id = get64(p);
        uint32_t pos = get32(p + 8), bf = get32(p + 12), blocks = bf & 0xffffff, exp = get32(p + 16);
        if (i == 0) base = pos;
        uint64_t off = ((uint64_t)pos + L - base) % L;
        if (!id || pos >= L || !blocks || bf >> 31 || off < end || off + blocks > L) ok = 0;
        end = off + blocks;
        if (ok != 1 || (exp && exp <= now)) continue;
        size_t had = s->tab_n;
        entry *e = insert(s, id);
        if (!e) { ok = UW_ENOMEM; break; }
        if (s->tab_n == had) { ok = 0; break; }    /* an id twice */
        *e = (entry){ .id = id, .pos = pos, .blocks = blocks, .expires = exp, .flags = bf >> 24 };
        s->live_blocks += blocks;
        if (q_push(s, id, pos) != UW_OK) ok = UW_ENOMEM;
    }
    free(b);
    return ok;
}

/* Reads the chain after checkpoint c: the records at its head on with seq
 * c->seq, c->seq + 1, … up to the first that does not check out.  1 (and
 * *out, *nout, *blocks), 0 when a record there is newer than the chain (the
 * log does not continue the checkpoint), or an error. */
static int ck_chain(uw_store *s, const ckhdr *c, scanned **out, size_t *nout, uint64_t *blocks)
{
    enum { WINDOW = 128 };
    uint32_t L = s->log_blocks, p = c->head, wstart = 0, wlen = 0;
    unsigned char *win = malloc((size_t)WINDOW * s->bs);
    scanned *v = NULL;
    size_t n = 0, cap = 0;
    uint64_t t = 0, seq = c->seq;
    int r = win ? 1 : UW_ENOMEM;
    while (r == 1 && t < L) {
        if (!wlen || p < wstart || p >= wstart + wlen) {
            wstart = p;
            wlen = L - p < WINDOW ? L - p : WINDOW;
            if (log_io(s, 0, wstart, win, wlen) != UW_OK) { r = UW_EIO; break; }
        }
        unsigned char *blk = win + (size_t)(p - wstart) * s->bs;
        uw__store_hdr h;
        if (!uw__store_decode_header(blk, s->key, s->bs, L, &h)) break;
        if (h.seq != seq) {
            if (h.seq > seq) r = 0;
            break;
        }
        if (t + h.blocks > L) { r = 0; break; }
        int ok = data_ok(s, p, &h, blk, p + (uint64_t)h.blocks <= wstart + wlen);
        if (ok != 1) {                      /* a torn write ends the chain */
            if (ok < 0) r = ok;
            break;
        }
        if (push_scanned(&v, &n, &cap, (scanned){ h.seq, h.id, h.expires, p, h.blocks, h.type, h.flags }) != UW_OK) {
            r = UW_ENOMEM;
            break;
        }
        seq++;
        t += h.blocks;
        p = (uint32_t)((p + (uint64_t)h.blocks) % L);
    }
    free(win);
    if (r != 1) {
        free(v);
        return r;
    }
    *out = v;
    *nout = n;
    *blocks = t;
    return 1;
}

/* Whether [a, a + x) and [b, b + y) meet in the circular log. */
static int overlap(const uw_store *s, uint32_t a, uint64_t x, uint32_t b, uint64_t y)
{
    uint32_t L = s->log_blocks;
    return ((uint64_t)b + L - a) % L < x || ((uint64_t)a + L - b) % L < y;
}

/* Drops the entries in [a, a + x), or (check) only those among them whose
 * record does not read back whole. */
static int drop_range(uw_store *s, uint32_t a, uint64_t x, int check)
{
    if (!x) return UW_OK;
    for (size_t i = 0; i < s->tab_cap;) {
        entry *e = &s->tab[i];
        if (e->id && overlap(s, a, x, e->pos, e->blocks)) {
            int r = UW_STORE_ECORRUPT;
            if (check) {
                unsigned char *buf;
                uw__store_hdr h;
                if ((r = read_record(s, e, &buf, &h)) == UW_OK) free(buf);
            }
            if (r == UW_STORE_ECORRUPT) {
                remove_entry(s, e);         /* may shift another entry into i */
                continue;
            }
            if (r != UW_OK) return r;
        }
        i++;
    }
    return UW_OK;
}

/* Opens from the newest checkpoint that checks out, and the chain after
 * it: 1, 0 (the index is then to be rebuilt from the whole log; so
 * without use, which only learns the newest generation), or an error.  The records the chain overwrote leave the index; so do those
 * that a write torn at its end may have hit (up to a largest record past
 * it) unless they read back whole. */
static int ck_open(uw_store *s, int64_t now, int use)
{
    unsigned char *blk = malloc(s->bs);
    if (!blk) return UW_ENOMEM;
    ckhdr c[2];
    int valid[2];
    for (unsigned i = 0; i < 2; i++) valid[i] = ck_header(s, i, blk, &c[i]);
    free(blk);
    for (unsigned i = 0; i < 2; i++)
        if (valid[i] && c[i].gen > s->ck_gen) s->ck_gen = c[i].gen;
    unsigned first = valid[1] && (!valid[0] || c[1].gen > c[0].gen);
    for (unsigned k = 0; k < 2 && use; k++) {
        unsigned slot = first ^ k;
        if (!valid[slot]) continue;
        int r = ck_entries(s, slot, &c[slot], now);
        if (r == 1) {
            scanned *v;
            size_t n;
            uint64_t t;
            r = ck_chain(s, &c[slot], &v, &n, &t);
            if (r != 1) return r;
            s->seq = c[slot].seq + n;
            s->head = (uint32_t)((c[slot].head + t) % s->log_blocks);
            s->free = 0;
            s->replayed = n;
            r = drop_range(s, c[slot].head, t, 0);
            if (r == UW_OK) r = apply(s, v, n, now);
            free(v);
            if (r == UW_OK) r = drop_range(s, s->head, s->reserve, 1);
            if (r != UW_OK) return r;
            s->ck_slot = slot;
            s->ck_since = t;
            s->ck_appends = n;
            s->ck_loaded = 1;
            return 1;
        }
        if (r < 0) return r;
        index_reset(s);
    }
    return 0;
}

/* The index from a checkpoint when o allows and one checks out, else from
 * the whole log; then a checkpoint is due before the first write (the
 * ones on the device may be older than the log). */
static int load(uw_store *s, const uw_store_options *o, int64_t now)
{
    if (s->ck_blocks) {
        int r = ck_open(s, now, !o->replay_all);  /* the newest generation in any case */
        if (r == 1) return UW_OK;
        index_reset(s);
        if (r == UW_ENOMEM) return r;
    }
    s->ck_since = UINT64_MAX / 2;
    if (s->formatted) {                     /* a new key: no record there is ours */
        s->seq = 1;
        s->free = s->log_blocks;
        return UW_OK;
    }
    return rebuild(s, now);
}

int uw_store_open(uw_store **out, const uw_store_dev *dev, const uw_store_options *o, int64_t now)
{
    static const uw_store_options defaults;
    if (!o) o = &defaults;
    uint32_t bs = dev->block_size;
    if (bs < 512 || (bs & (bs - 1)) || dev->size % bs) return UW_EINVAL;
    uint64_t blocks = dev->size / bs;
    if (blocks < 9 || blocks - 1 > UINT32_MAX / 2) return UW_STORE_ECORRUPT;
    uw_store *s = calloc(1, sizeof *s);
    if (!s) return UW_ENOMEM;
    s->dev = *dev;
    s->bs = bs;
    set_geometry(s, 0);                     /* until the superblock says */
    s->full = o->full;
    int r = mount_super(s, o);
    uint64_t max = o->max_record ? o->max_record : 16u << 20;
    uint64_t quarter = (uint64_t)s->log_blocks * bs / 4;
    quarter = quarter > UW__STORE_HDR ? quarter - UW__STORE_HDR : 0;
    uint64_t index_max = ((1u << 24) - 1) * (uint64_t)bs - UW__STORE_HDR;   /* blocks: 24 bits */
    if (quarter > index_max) quarter = index_max;
    s->max_record = (size_t)(max < quarter ? max : quarter);
    s->reserve = blocks_for(s, s->max_record);
    if (r == UW_OK) r = load(s, o, now);
    if (r != UW_OK) {
        uw_store_close(s);
        return r;
    }
    s->open = 1;
    *out = s;
    return UW_OK;
}

void uw_store_close(uw_store *s)
{
    if (!s) return;
    if (s->open && s->ck_blocks && (s->ck_appends || !s->ck_loaded)) ck_write(s);  /* start fast next time */
    free(s->tab);
    free(s->q);
    free(s);
}

/* ------------------------------------------------------------ operations */

static entry *live(uw_store *s, uint64_t id, int64_t now)
{
    entry *e = find(s, id);
    if (e && e->expires && e->expires <= now) {
        remove_entry(s, e);
        return NULL;
    }
    return e;
}

int uw_store_put(uw_store *s, uint64_t id, const void *data, size_t len, int64_t expires, unsigned flags)
{
    if (id == 0) return UW_EINVAL;
    if (len > s->max_record) return UW_ELIMIT;
    if (find(s, id)) return UW_STORE_EEXIST;
    uint32_t k = blocks_for(s, len);
    if (s->full == UW_STORE_REFUSE && s->live_blocks + k + s->reserve > s->log_blocks) return UW_STORE_EFULL;
    /* Room first (it may evict or move records), then the index entry. */
    if (table_full(s, s->tab_n + 1) && grow_table(s, s->tab_n + 1) != UW_OK) return UW_ENOMEM;
    uint32_t pos;
    int r = append(s, UW__STORE_PASTE, id, data, len, expires, flags, &pos);
    if (r != UW_OK) return r;
    entry *e = insert(s, id);
    if (!e) return UW_ENOMEM;               /* cannot happen: grown above */
    *e = (entry){ .id = id, .pos = pos, .blocks = k, .expires = expiry32(expires), .flags = flags & 0x7f };
    s->live_blocks += k;
    r = q_push(s, id, pos);
    if (r != UW_OK) remove_entry(s, e);
    return r;
}

/* Appends the tombstone of id, then drops id from the index (the cleaner
 * may have moved or evicted it meanwhile: it is looked up again). */
static int burn_or_delete(uw_store *s, uint64_t id)
{
    uint32_t pos;
    int r = append(s, UW__STORE_TOMB, id, NULL, 0, 0, 0, &pos);
    if (r != UW_OK) return r;
    entry *e = find(s, id);
    if (e) remove_entry(s, e);
    return UW_OK;
}

static int get(uw_store *s, uint64_t id, int64_t now, void **data, size_t *len, unsigned *flags, int peek)
{
    entry *e = live(s, id, now);
    if (!e) return UW_STORE_ENOTFOUND;
    unsigned char *buf;
    uw__store_hdr h;
    int r = read_record(s, e, &buf, &h);
    if (r == UW_STORE_ECORRUPT) remove_entry(s, e);
    if (r != UW_OK) return r;
    if (peek) {
        /* nothing to change */
    } else if (e->flags & UW_STORE_BURN) {
        /* The tombstone first: if it cannot be written the record stays, in
         * the index as on the device.  No other task runs meanwhile (block
         * calls hold the whole process), so no second reader gets it. */
        r = burn_or_delete(s, id);
        if (r != UW_OK) {
            free(buf);
            return r;
        }
    } else {
        e->hot = 1;
    }
    memmove(buf, buf + UW__STORE_HDR, h.len);
    *data = buf;
    *len = h.len;
    if (flags) *flags = h.flags;
    return UW_OK;
}

int uw_store_get(uw_store *s, uint64_t id, int64_t now, void **data, size_t *len, unsigned *flags)
{
    return get(s, id, now, data, len, flags, 0);
}

int uw_store_peek(uw_store *s, uint64_t id, int64_t now, void **data, size_t *len, unsigned *flags)
{
    return get(s, id, now, data, len, flags, 1);
}

int uw_store_stat(uw_store *s, uint64_t id, int64_t now, unsigned *flags, int64_t *expires)
{
    entry *e = live(s, id, now);
    if (!e) return UW_STORE_ENOTFOUND;
    if (flags) *flags = e->flags;
    if (expires) *expires = e->expires;
    return UW_OK;
}

int uw_store_delete(uw_store *s, uint64_t id)
{
    if (!find(s, id)) return UW_STORE_ENOTFOUND;
    return burn_or_delete(s, id);
}

size_t uw_store_sweep(uw_store *s, int64_t now)
{
    size_t n = 0;
    for (size_t i = 0; i < s->tab_cap;) {
        entry *e = &s->tab[i];
        if (e->id && e->expires && e->expires <= now) {
            remove_entry(s, e);             /* may shift another entry into i */
            n++;
            continue;
        }
        i++;
    }
    return n;
}

void uw_store_stats(const uw_store *s, struct uw_store_stats *st)
{
    *st = (struct uw_store_stats){
        .records = s->tab_n, .live_bytes = s->live_blocks * s->bs,
        .log_bytes = (uint64_t)s->log_blocks * s->bs, .evicted = s->evicted,
        .copied = s->copied, .torn = s->torn, .max_record = s->max_record,
        .replayed = s->replayed, .from_checkpoint = (int)s->ck_loaded,
    };
}

const char *uw_store_strerror(int err)
{
    switch (err) {
    case UW_OK: return "ok";
    case UW_STORE_ENOTFOUND: return "no such record";
    case UW_STORE_EFULL: return "the store is full";
    case UW_STORE_ECORRUPT: return "not a store, or a damaged record";
    case UW_STORE_EEXIST: return "a record with this id exists";
    case UW_ELIMIT: return "record too large";
    case UW_EIO: return "device I/O error";
    case UW_ENOMEM: return "out of memory";
    case UW_EINVAL: return "invalid argument";
    default: return "unknown error";
    }
}

/* ------------------------------------------------------------ uw_block */

static int blk_read(void *ctx, uint64_t off, void *buf, size_t n) { return uw_block_read(ctx, off, buf, n); }
static int blk_write(void *ctx, uint64_t off, const void *buf, size_t n) { return uw_block_write(ctx, off, buf, n); }
static int blk_flush(void *ctx) { return uw_block_flush(ctx); }

void uw_store_dev_block(uw_store_dev *dev, struct uw_block *b)
{
    struct uw_block_info info;
    uw_block_info(b, &info);
    *dev = (uw_store_dev){ b, blk_read, blk_write, blk_flush, info.size, info.block_size };
}
