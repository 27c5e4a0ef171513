/*
 * Fuzz target for the tenders' shared image and manifest parsers
 * (platform/tender/): the input is a guest image.  Whatever
 * uw_tender_elf_parse accepts must hold what its contract promises
 * (segments inside the file and above the guest base, page-aligned,
 * pairwise disjoint, never writable and executable, the entry inside an
 * executable one, the end page-aligned and above every segment); it is
 * then loaded into a buffer of exactly [base, end) (ASan catches any
 * write past it), its manifest copied and checked (names terminated, no
 * tender field left from the image), and matched against a fixed device
 * list, which must accept only exactly the declared devices.
 */
#include <elf.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "uw_tender.h"

#define LOAD_MAX (16u << 20)

static void check_image(size_t size, const struct uw_tender_image *img)
{
    int exec_entry = 0;
    if (img->nseg < 1 || img->nseg > UW_TENDER_MAX_SEGMENTS || img->end % UW_TENDER_PAGE)
        abort();
    for (int i = 0; i < img->nseg; i++) {
        const struct uw_tender_segment *s = &img->seg[i];
        if (s->vaddr < UW_TENDER_GUEST_MIN_BASE || s->vaddr % UW_TENDER_PAGE || s->memsz == 0
            || s->filesz > s->memsz || s->offset > size || s->filesz > size - s->offset
            || s->vaddr + s->memsz > img->end || img->end > UW_TENDER_ADDR_MAX
            || ((s->flags & PF_W) && (s->flags & PF_X)))
            abort();
        if ((s->flags & PF_X) && img->entry >= s->vaddr && img->entry - s->vaddr < s->memsz)
            exec_entry = 1;
        for (int j = 0; j < i; j++) {
            const struct uw_tender_segment *q = &img->seg[j];
            uint64_t q_end = (q->vaddr + q->memsz + UW_TENDER_PAGE - 1) & ~(uint64_t)(UW_TENDER_PAGE - 1);
            uint64_t s_end = (s->vaddr + s->memsz + UW_TENDER_PAGE - 1) & ~(uint64_t)(UW_TENDER_PAGE - 1);
            if (s->vaddr < q_end && q->vaddr < s_end)
                abort();
        }
    }
    if (!exec_entry)
        abort();
    if (img->manifest_size
        && (img->manifest_offset > size || img->manifest_size > size - img->manifest_offset
            || img->manifest_offset % 8))
        abort();
}

static void check_manifest(const struct uw_plat_manifest *m, size_t msize)
{
    if (m->count > UW_PLAT_MANIFEST_MAX
        || msize != sizeof *m + m->count * sizeof(struct uw_plat_device))
        abort();
    for (uint32_t i = 0; i < m->count; i++) {
        const struct uw_plat_device *d = &m->devices[i];
        if (memchr(d->name, 0, UW_PLAT_NAME_MAX) == NULL || d->name[0] == 0 || d->attached
            || d->hostfd != -1 || d->info.block.capacity || d->info.block.block_size)
            abort();
        if (d->type != UW_PLAT_DEVICE_NET && d->type != UW_PLAT_DEVICE_BLOCK)
            abort();
        if (d->flags & ~(UW_PLAT_DEVICE_OPTIONAL
                         | (d->type == UW_PLAT_DEVICE_NET ? UW_PLAT_DEVICE_NET_OFFLOADS : 0)))
            abort();
    }
    /* The devices the test unikernels use, as a command line gives them. */
    static const char *const options[] = { "--net:service0=tap0", "--block:storage=disk.img",
                                           "--net:service=tap1", "--block:tls=cert.pem" };
    struct uw_tender_device_arg args[UW_PLAT_MANIFEST_MAX];
    struct uw_tender_error err;
    int nargs = 0, match[UW_PLAT_MANIFEST_MAX];
    for (size_t i = 0; i < sizeof options / sizeof options[0]; i++)
        if (uw_tender_device_option(options[i], args, &nargs, &err) != 1)
            abort();
    /* Accepted exactly when the manifest declares these four, by name and
     * type, and nothing else that is not optional. */
    int want = 1;
    for (int a = 0; a < nargs && want; a++) {
        int found = 0;
        for (uint32_t k = 0; k < m->count; k++)
            found |= strcmp(m->devices[k].name, args[a].name) == 0 && m->devices[k].type == args[a].type;
        want = found;
    }
    for (uint32_t k = 0; k < m->count; k++) {
        int named = 0;
        for (int a = 0; a < nargs; a++)
            named |= strcmp(m->devices[k].name, args[a].name) == 0;
        if (!named && !(m->devices[k].flags & UW_PLAT_DEVICE_OPTIONAL))
            want = 0;
    }
    int got = uw_tender_devices_match(m, args, nargs, match, &err) == 0;
    if (got != want)
        abort();
    for (uint32_t k = 0; got && k < m->count; k++) {
        if (match[k] < 0 && (m->devices[k].flags & UW_PLAT_DEVICE_OPTIONAL))
            continue;
        if (match[k] < 0 || match[k] >= nargs || strcmp(args[match[k]].name, m->devices[k].name))
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct uw_tender_image img;
    struct uw_tender_error err;
    if (uw_tender_elf_parse(data, size, &img, &err) < 0) {
        if (memchr(err.msg, 0, sizeof err.msg) == NULL || err.msg[0] == 0)
            abort();
        return 0;
    }
    check_image(size, &img);
    uint64_t span = img.end - UW_TENDER_GUEST_MIN_BASE;
    if (span <= LOAD_MAX) {
        uint8_t *mem = malloc(span ? span : 1);
        if (mem) {
            uw_tender_elf_load(data, &img, mem, UW_TENDER_GUEST_MIN_BASE);
            free(mem);
        }
    }
    size_t msize;
    struct uw_plat_manifest *m = uw_tender_manifest_copy(data, &img, &msize, &err);
    if (m) {
        check_manifest(m, msize);
        free(m);
    }
    return 0;
}
