/* An image on a uw_block device: reads of any offset and length, through
 * a bounce buffer when they do not fall on the device's blocks. */
#include "uweb/image.h"

#include <stdlib.h>
#include <string.h>

#include "uweb/block.h"
#include "image_internal.h"

struct device {
    uw_block *b;
    uint32_t bs;
};

static int device_read(void *arg, uint64_t off, void *buf, size_t n)
{
    struct device *d = arg;
    uint64_t start = off / d->bs * d->bs, end = (off + n + d->bs - 1) / d->bs * d->bs;
    if (start == off && end == off + n) return uw_block_read(d->b, off, buf, n) == UW_OK ? UW_OK : UW_EIO;
    uint8_t *bounce = malloc((size_t)(end - start));
    if (!bounce) return UW_EIO;
    int r = uw_block_read(d->b, start, bounce, (size_t)(end - start));
    if (r == UW_OK) memcpy(buf, bounce + (off - start), n);
    free(bounce);
    return r == UW_OK ? UW_OK : UW_EIO;
}

static void device_close(void *arg)
{
    struct device *d = arg;
    uw_block_close(d->b);
    free(d);
}

int uw_image_open_device(uw_image **out, const char *name, const uw_image_config *cfg)
{
    *out = NULL;
    struct device *d = calloc(1, sizeof *d);
    if (!d) return UW_ENOMEM;
    int r = uw_block_open(name, &d->b);
    if (r != UW_OK) {
        free(d);
        uw__image_set_open_error("no block device of that name");
        return r;
    }
    struct uw_block_info info;
    uw_block_info(d->b, &info);
    d->bs = info.block_size ? info.block_size : 512;
    r = uw_image_open(out, device_read, d, info.size, cfg);
    if (r != UW_OK) { device_close(d); return r; }
    uw__image_on_close(*out, device_close, d);
    return UW_OK;
}
