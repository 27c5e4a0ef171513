/*
 * block.c — the target-neutral part of the block API (block.h): the
 * argument check both targets use and uw_block_slurp.
 */
#include "block_internal.h"

#include <stdlib.h>
#include <uweb/runtime.h>

int uw__block_check(const struct uw_block_info *info, uint64_t offset, size_t n)
{
    uint64_t bs = info->block_size;
    if (bs == 0 || offset % bs || n % bs) return UW_EINVAL;
    if (offset > info->size || n > info->size - offset) return UW_EINVAL;
    return UW_OK;
}

char *uw_block_slurp(const char *name, size_t max, size_t *len, int *status)
{
    uw_block *b;
    int r = uw_block_open(name, &b);
    if (r != UW_OK) {
        *status = r;
        return NULL;
    }
    struct uw_block_info info;
    uw_block_info(b, &info);
    char *buf = NULL;
    /* The device may be padded past MAX with NULs: read it in blocks and
     * refuse only when data (not padding) lies beyond MAX. */
    size_t cap = info.size < (uint64_t)max + info.block_size ? (size_t)info.size
                                                             : max + info.block_size;
    cap -= cap % info.block_size;
    buf = malloc(cap + 1);
    if (!buf) {
        r = UW_ENOMEM;
        goto out;
    }
    r = cap ? uw_block_read(b, 0, buf, cap) : UW_OK;
    if (r != UW_OK) goto out;
    size_t n = cap;
    while (n > 0 && buf[n - 1] == '\0') n--;
    if (n > max) {
        r = UW_ELIMIT;
        goto out;
    }
    if (cap < info.size) {
        /* Everything past cap must be padding too (a small file on a
         * larger disk image); read it in 64 KiB steps. */
        size_t step = info.block_size > 65536 ? info.block_size : 65536;
        char *blk = malloc(step);
        if (!blk) { r = UW_ENOMEM; goto out; }
        for (uint64_t off = cap; off < info.size && r == UW_OK; off += step) {
            size_t k = info.size - off < step ? (size_t)(info.size - off) : step;
            r = uw_block_read(b, off, blk, k);
            for (size_t i = 0; r == UW_OK && i < k; i++)
                if (blk[i]) r = UW_ELIMIT;
        }
        free(blk);
        if (r != UW_OK) goto out;
    }
    buf[n] = '\0';
    *len = n;
    uw_block_close(b);
    *status = UW_OK;
    return buf;
out:
    free(buf);
    uw_block_close(b);
    *status = r;
    return NULL;
}
