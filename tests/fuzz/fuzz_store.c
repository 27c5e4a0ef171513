/*
 * Fuzz target of the paste store's on-disk parser: the mount scan, the
 * index rebuilt from whatever the device holds, and the operations on it.
 *
 * Input: a 16-byte key, a flags byte, then the log's blocks (512 bytes
 * each; the image is padded to at least 8).  The superblock is made for
 * that key.  Flags bit 0: every block opening with the record magic gets
 * its header CRC fixed, bit 1: its data CRC too, so the fuzzer reaches
 * the index logic and not only the checks.  After the mount every record
 * named in the input is read, some deleted, one written, and the store
 * reopened (from the checkpoint its close wrote); an answer outside the
 * contract traps.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "uweb/store.h"
#include "uweb/runtime.h"
#include "../../src/store/store_internal.h"

#define BS 512

typedef struct img { unsigned char *p; size_t size; } img;

static int rd(void *ctx, uint64_t off, void *buf, size_t n)
{
    img *m = ctx;
    if (off % BS || n % BS || off + n > m->size) __builtin_trap();
    memcpy(buf, m->p + off, n);
    return UW_OK;
}

static int wr(void *ctx, uint64_t off, const void *buf, size_t n)
{
    img *m = ctx;
    if (off % BS || n % BS || off + n > m->size) __builtin_trap();
    memcpy(m->p + off, buf, n);
    return UW_OK;
}

static int fl(void *ctx) { (void)ctx; return UW_OK; }

static void put32(unsigned char *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i)); }
static uint32_t get32(const unsigned char *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 17 || size > 64 * BS) return 0;
    const uint8_t *key = data;
    unsigned flags = data[16];
    data += 17;
    size -= 17;
    size_t blocks = (size + BS - 1) / BS;
    if (blocks < 8) blocks = 8;
    img m = { calloc(blocks + 1, BS), (blocks + 1) * BS };
    memcpy(m.p + BS, data, size);
    for (size_t b = 1; b <= blocks; b++) {
        unsigned char *h = m.p + b * BS;
        if (get32(h) != UW__STORE_MAGIC) continue;
        uint32_t len = get32(h + 32);
        if ((flags & 2) && (uint64_t)len + UW__STORE_HDR <= (blocks + 1 - b) * BS)
            put32(h + 36, uw__crc32c(0, h + UW__STORE_HDR, len));
        if (flags & 1) put32(h + 60, uw__crc32c(uw__crc32c(0, key, 16), h, 60));
    }
    /* A superblock for key (format writes exactly this). */
    uw_store_dev dev = { &m, rd, wr, fl, m.size, BS };
    uw_store *s;
    if (uw_store_open(&s, &dev, &(uw_store_options){ .format = UW_STORE_FORMAT_ALWAYS, .key = key }, 0) != UW_OK)
        __builtin_trap();
    uw_store_close(s);
    memcpy(m.p + BS, data, size);                   /* format does not touch the log */
    for (int round = 0; round < 2; round++) {
        /* Round 0 reads the whole log; its close checkpoints the index,
         * which round 1 opens from. */
        if (uw_store_open(&s, &dev, &(uw_store_options){ .replay_all = round == 0 }, 1000) != UW_OK)
            __builtin_trap();
        struct uw_store_stats st;
        uw_store_stats(s, &st);
        if (st.live_bytes > st.log_bytes) __builtin_trap();
        for (size_t b = 1; b <= blocks; b++) {
            const unsigned char *h = m.p + b * BS;
            if (get32(h) != UW__STORE_MAGIC) continue;
            uint64_t id = 0;
            for (int i = 7; i >= 0; i--) id = id << 8 | h[16 + i];
            void *d;
            size_t n;
            int r = uw_store_get(s, id, 1000, &d, &n, NULL);
            if (r == UW_OK) {
                if (n > st.max_record) __builtin_trap();
                free(d);
                if (b & 1) uw_store_delete(s, id);
            } else if (r != UW_STORE_ENOTFOUND && r != UW_STORE_ECORRUPT) {
                __builtin_trap();
            }
        }
        int r = uw_store_put(s, 0x1234567890ull + (uint64_t)round, "fuzz", 4, 0, 0);
        if (r != UW_OK && r != UW_STORE_EEXIST) __builtin_trap();
        uw_store_sweep(s, 5000);
        uw_store_close(s);
    }
    free(m.p);
    return 0;
}
