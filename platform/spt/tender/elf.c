/*
 * elf.c - the loaded image's page permissions (contracts: tender.h).  The
 * image was checked and copied by the shared code (platform/tender/elf.c).
 */
#include <elf.h>
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include "tender.h"
#include "uw_tender.h"

int spt_protect_image(const struct uw_tender_image *img)
{
    /* Gaps in the image: no access.  Then each segment its permissions. */
    if (mprotect((void *)UW_SPT_GUEST_BASE, img->end - UW_SPT_GUEST_BASE, PROT_NONE) < 0)
        goto fail;
    for (int i = 0; i < img->nseg; i++) {
        const struct uw_tender_segment *s = &img->seg[i];
        int prot = (s->flags & PF_R ? PROT_READ : 0) | (s->flags & PF_W ? PROT_WRITE : 0)
                   | (s->flags & PF_X ? PROT_EXEC : 0);
        uint64_t len = (s->memsz + UW_SPT_PAGE - 1) & ~(uint64_t)(UW_SPT_PAGE - 1);
        if (mprotect((void *)(uintptr_t)s->vaddr, len, prot) < 0)
            goto fail;
    }
    return 0;
fail:
    spt_error("mprotect: %s", strerror(errno));
    return -1;
}
