/*
 * block_uk.c — block devices on spt and hvt (block.h): the device NAME
 * of the guest's manifest, through the platform ABI (uw_plat_block_*).
 *
 * Flush: the platform ABI has no flush call (uw_platform.h); both tenders
 * open block files with O_DSYNC, so a write is durable on the host when
 * uw_plat_block_write returns (spt: the guest's pwrite on the host file;
 * hvt: the tender's pwrite), and uw_block_flush has nothing left to do.
 */
#include "block_internal.h"

#include <stdlib.h>
#include <uweb/runtime.h>
#include "uw_platform.h"

struct uw_block {
    uw_plat_handle_t handle;
    struct uw_block_info info;
};

int uw_block_attach(const char *name, const char *file, int flags)
{
    (void)name, (void)file, (void)flags;
    return UW_EINVAL;        /* the tender attaches devices */
}

int uw_block_open(const char *name, uw_block **out)
{
    uw_plat_handle_t h;
    struct uw_plat_block_info pi;
    if (!name || uw_plat_block_acquire(name, &h, &pi) != UW_PLAT_OK) return UW_EINVAL;
    if (pi.block_size == 0 || pi.block_size > UINT32_MAX) return UW_EIO;
    uw_block *b = malloc(sizeof *b);
    if (!b) return UW_ENOMEM;
    b->handle = h;
    b->info = (struct uw_block_info){ .size = pi.capacity, .block_size = (uint32_t)pi.block_size };
    *out = b;
    return UW_OK;
}

void uw_block_info(const uw_block *b, struct uw_block_info *info)
{
    *info = b->info;
}

static int result(uw_plat_result_t r)
{
    return r == UW_PLAT_OK ? UW_OK : r == UW_PLAT_EINVAL ? UW_EINVAL : UW_EIO;
}

int uw_block_read(uw_block *b, uint64_t offset, void *buf, size_t n)
{
    int r = uw__block_check(&b->info, offset, n);
    if (r != UW_OK || n == 0) return r;
    return result(uw_plat_block_read(b->handle, offset, buf, n));
}

int uw_block_write(uw_block *b, uint64_t offset, const void *buf, size_t n)
{
    int r = uw__block_check(&b->info, offset, n);
    if (r != UW_OK || n == 0) return r;
    return result(uw_plat_block_write(b->handle, offset, buf, n));
}

int uw_block_flush(uw_block *b)
{
    (void)b;
    return UW_OK;
}

void uw_block_close(uw_block *b)
{
    free(b);
}
