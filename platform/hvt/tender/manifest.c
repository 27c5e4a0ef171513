/*
 * manifest.c - attaching the command line's devices to the guest's
 * manifest and loading the checked image (contracts: hvt.h; the checks
 * themselves are the tenders' shared code, platform/tender/).
 */
#include <string.h>
#include <unistd.h>

#include "hvt.h"

void hvt_attach_devices(struct hvt *h, struct uw_tender_device_arg *args, int nargs,
                        int placeholders)
{
    struct uw_tender_error err;
    int match[UW_PLAT_MANIFEST_MAX];
    if (uw_tender_devices_match(h->mft, args, nargs, match, &err) < 0)
        hvt_die("%s", err.msg);
    for (int i = 0; i < h->ndev; i++) {
        struct uw_plat_device *d = &h->mft->devices[i];
        int fd = 3 + i;
        if (match[i] < 0) {
            /* Optional and not given: unattached, and no device of any
             * type for the hypercalls and the seccomp filter (type 0). */
            d->hostfd = -1;
            h->dev[i] = (struct hvt_device){ .type = 0, .fd = -1 };
            continue;
        }
        if (placeholders && d->type == UW_PLAT_DEVICE_NET) {
            /* no tap is opened */
        } else if ((fd = uw_tender_device_open(d, &args[match[i]], &err)) < 0) {
            hvt_die("%s", err.msg);
        } else if (placeholders) {
            close(fd);   /* a block file is opened for its capacity only */
            fd = 3 + i;
        }
        d->hostfd = -1;   /* the guest has no use for host fds on hvt */
        h->dev[i] = (struct hvt_device){
            .type = d->type, .fd = fd, .mtu = d->info.net.mtu, .offloads = d->info.net.offloads,
            .capacity = d->info.block.capacity, .block_size = d->info.block.block_size,
        };
        if (d->type != UW_PLAT_DEVICE_NET)
            h->dev[i].mtu = h->dev[i].offloads = 0;
        else
            h->dev[i].capacity = h->dev[i].block_size = 0;
    }
}

void hvt_load_image(struct hvt *h, const char *path, const uint8_t *file,
                    const struct uw_tender_image *img)
{
    /* Stack and guard page take the top of memory; the image stays below. */
    if (img->end > HVT_GUARD(h))
        hvt_die("%s: the image (up to 0x%llx) does not fit in guest memory below 0x%llx; "
                "try a larger --mem", path, (unsigned long long)img->end,
                (unsigned long long)HVT_GUARD(h));
    if (img->nseg > (int)(sizeof h->seg / sizeof h->seg[0]))
        hvt_die("%s: too many loadable segments", path);
    uw_tender_elf_load(file, img, h->mem, 0);
    h->nseg = img->nseg;
    for (int i = 0; i < img->nseg; i++) {
        h->seg[i].start = img->seg[i].vaddr;
        h->seg[i].end = img->seg[i].vaddr + img->seg[i].memsz;
        h->seg[i].flags = img->seg[i].flags;
    }
    h->entry = img->entry;
    h->image_end = img->end;
}
