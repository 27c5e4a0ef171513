/*
 * The ACME client's state on the block device "acme" (every target: the
 * unikernels' only storage, --block:acme=FILE on unix when no --acme-dir
 * is given).  A fixed layout, no parser: three regions, each one PEM text
 * padded with NULs — the account key at 0 (8 KiB), the certificate chain
 * at 8 KiB (48 KiB), its key at 56 KiB (8 KiB); 64 KiB in all.  A chain
 * and key written apart and cut by a crash do not match and are ordered
 * again.
 */
#include "acme_internal.h"
#include <uweb/block.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct region {
    const char *file;
    uint64_t off;
    size_t len;
} regions[] = {
    { "account.key", 0, 8192 },
    { "cert.pem", 8192, 49152 },
    { "cert.key", 57344, 8192 },
};

static const struct region *region_of(const char *file)
{
    for (size_t i = 0; i < sizeof regions / sizeof regions[0]; i++)
        if (strcmp(regions[i].file, file) == 0) return &regions[i];
    return NULL;
}

int acme_block_check(char *why, size_t n)
{
    uw_block *b;
    if (uw_block_open(ACME_BLOCK, &b) != UW_OK) {
        snprintf(why, n, "no block device %s", ACME_BLOCK);
        return UW_EINVAL;
    }
    struct uw_block_info info;
    uw_block_info(b, &info);
    uw_block_close(b);
    if (info.size < ACME_BLOCK_SIZE || info.block_size > 8192 || info.read_only) {
        snprintf(why, n, "block device %s: needs %u writable bytes in blocks of at most 8 KiB (has %llu%s)",
                 ACME_BLOCK, ACME_BLOCK_SIZE, (unsigned long long)info.size, info.read_only ? ", read-only" : "");
        return UW_EINVAL;
    }
    return UW_OK;
}

char *acme_block_read(const char *file, size_t *len)
{
    const struct region *r = region_of(file);
    uw_block *b;
    if (!r || uw_block_open(ACME_BLOCK, &b) != UW_OK) return NULL;
    char *buf = malloc(r->len + 1);
    if (buf && uw_block_read(b, r->off, buf, r->len) == UW_OK) {
        buf[r->len] = 0;
        *len = strlen(buf);
    } else {
        free(buf);
        buf = NULL;
    }
    uw_block_close(b);
    if (buf && *len == 0) {
        free(buf);
        buf = NULL;
    }
    return buf;
}

int acme_block_write(const char *file, const char *data, size_t len)
{
    const struct region *r = region_of(file);
    if (!r || len >= r->len) return UW_ELIMIT;
    uw_block *b;
    int rc = uw_block_open(ACME_BLOCK, &b);
    if (rc != UW_OK) return rc;
    char *buf = calloc(1, r->len);
    if (!buf) {
        uw_block_close(b);
        return UW_ENOMEM;
    }
    memcpy(buf, data, len);
    rc = uw_block_write(b, r->off, buf, r->len);
    if (rc == UW_OK) rc = uw_block_flush(b);
    free(buf);
    uw_block_close(b);
    return rc;
}
