/*
 * bench/store_open.c — the record store's start: fills a store file with N
 * records of 400 bytes through store.h (no flushes: only the open is
 * measured; the close checkpoints the index), then opens it RUNS times
 * from the checkpoint and RUNS times by a full replay of the log
 * (replay_all), alternating, and prints the time and the index's memory
 * (heap in use after the open, less before) of each open.  Run by
 * bench/pasteur.sh.
 *
 *     store_open FILE N RUNS
 */
#include <uweb/block.h>
#include <uweb/runtime.h>
#include <uweb/store.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <malloc.h>

static int no_flush(void *ctx) { (void)ctx; return UW_OK; }

/* Bytes of heap in use (glibc), mapped blocks included. */
static long heap(void)
{
    struct mallinfo2 m = mallinfo2();
    return (long)(m.uordblks + m.hblkhd);
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: store_open FILE N RUNS\n");
        return 2;
    }
    int n = atoi(argv[2]), runs = atoi(argv[3]);
    uw_block *b;
    if (uw_block_attach("store", argv[1], 0) != UW_OK || uw_block_open("store", &b) != UW_OK) {
        fprintf(stderr, "store_open: cannot open %s\n", argv[1]);
        return 1;
    }
    uw_store_dev dev;
    uw_store_dev_block(&dev, b);
    uint8_t key[16];
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    memcpy(key, &now, sizeof key < sizeof now ? sizeof key : sizeof now);   /* a fresh key: old records are not ours */
    uw_store_dev fill = dev;
    fill.flush = no_flush;
    uw_store *s;
    if (uw_store_open(&s, &fill, &(uw_store_options){ .format = UW_STORE_FORMAT_ALWAYS, .key = key }, 0) != UW_OK) return 1;
    char data[400];
    memset(data, 'x', sizeof data);
    for (int i = 1; i <= n; i++) {
        int r = uw_store_put(s, (uint64_t)i * 0x9E3779B97F4A7C15ull, data, sizeof data, 0, 0);
        if (r != UW_OK) {
            fprintf(stderr, "store_open: put %d: %s\n", i, uw_store_strerror(r));
            return 1;
        }
    }
    uw_store_close(s);
    for (int run = 0; run < 2 * runs; run++) {
        long before = heap();
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        if (uw_store_open(&s, &dev, &(uw_store_options){ .replay_all = run & 1 }, 0) != UW_OK) return 1;
        clock_gettime(CLOCK_MONOTONIC, &t1);
        struct uw_store_stats st;
        uw_store_stats(s, &st);
        long grown = heap() - before;
        printf("open %llu records (%s): %.1f ms, index %.1f MB (%.1f bytes per record)\n", (unsigned long long)st.records,
               st.from_checkpoint ? "checkpoint" : "full replay",
               (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6, grown / 1e6,
               (double)grown / (double)st.records);
        uw_store_close(s);
    }
    uw_block_close(b);
    return 0;
}
