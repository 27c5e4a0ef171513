/*
 * elf.c - reading and checking a guest image, loading its segments
 * (contracts: uw_tender.h).  Everything in the file is untrusted: every
 * offset, size and address is checked, overflow-safe, before use.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "uw_tender.h"

/* Fills ERR; returns -1. */
int uw_tender_fail(struct uw_tender_error *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return -1;
}
#define fail uw_tender_fail

/* [A, A + B) inside [0, LIMIT), without overflow. */
static int fits(uint64_t a, uint64_t b, uint64_t limit)
{
    return a <= limit && b <= limit - a;
}

static uint64_t page_up(uint64_t a)
{
    return (a + UW_TENDER_PAGE - 1) & ~(uint64_t)(UW_TENDER_PAGE - 1);
}

int uw_tender_read_file(const char *path, uint8_t **data, size_t *size,
                        struct uw_tender_error *err)
{
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return fail(err, "%s: %s", path, strerror(errno));
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return fail(err, "%s: not a regular file", path);
    }
    if ((uint64_t)st.st_size > UW_TENDER_IMAGE_MAX) {
        close(fd);
        return fail(err, "%s: larger than %u MiB", path, UW_TENDER_IMAGE_MAX >> 20);
    }
    size_t n = (size_t)st.st_size, done = 0;
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf) {
        close(fd);
        return fail(err, "out of memory");
    }
    while (done < n) {
        ssize_t r = read(fd, buf + done, n - done);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        done += (size_t)r;
    }
    close(fd);
    if (done != n) {
        free(buf);
        return fail(err, "%s: cannot read the image", path);
    }
    *data = buf;
    *size = n;
    return 0;
}

/* Finds the manifest note in the PT_NOTE segment P; 0 or -1. */
static int find_manifest(const uint8_t *file, const Elf64_Phdr *p, struct uw_tender_image *img,
                         struct uw_tender_error *err)
{
    const uint8_t *notes = file + p->p_offset;
    uint64_t align = p->p_align == 8 ? 8 : 4;
    uint64_t off = 0;
    while (p->p_filesz - off >= sizeof(Elf64_Nhdr)) {
        Elf64_Nhdr nh;
        memcpy(&nh, notes + off, sizeof nh);
        uint64_t name_off = off + sizeof nh;
        if (!fits(name_off, nh.n_namesz, p->p_filesz))
            break;
        uint64_t desc_off = (name_off + nh.n_namesz + align - 1) & ~(align - 1);
        if (!fits(desc_off, nh.n_descsz, p->p_filesz))
            break;
        if (nh.n_type == UW_PLAT_NOTE_MANIFEST && nh.n_namesz == sizeof UW_PLAT_NOTE_NAME
            && memcmp(notes + name_off, UW_PLAT_NOTE_NAME, sizeof UW_PLAT_NOTE_NAME) == 0) {
            if (img->manifest_size)
                return fail(err, "two manifest notes");
            if ((p->p_offset + desc_off) % 8 || nh.n_descsz < sizeof(struct uw_plat_manifest))
                return fail(err, "malformed manifest note");
            img->manifest_offset = p->p_offset + desc_off;
            img->manifest_size = nh.n_descsz;
        }
        off = (desc_off + nh.n_descsz + align - 1) & ~(align - 1);
        if (off >= p->p_filesz)
            break;
    }
    return 0;
}

int uw_tender_elf_parse(const uint8_t *file, size_t size, struct uw_tender_image *img,
                        struct uw_tender_error *err)
{
    Elf64_Ehdr eh;
    Elf64_Phdr ph[UW_TENDER_MAX_PHDRS];
    memset(img, 0, sizeof *img);
    if (size < sizeof eh)
        return fail(err, "not an ELF file (too short)");
    memcpy(&eh, file, sizeof eh);
    if (memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0)
        return fail(err, "not an ELF file");
    if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB
        || eh.e_ident[EI_VERSION] != EV_CURRENT || eh.e_machine != EM_X86_64
        || eh.e_version != EV_CURRENT)
        return fail(err, "not an x86-64 ELF64 image");
    if (eh.e_type != ET_EXEC)
        return fail(err, "not a static executable (ELF type %u); guests are linked by "
                    "platform/guest/guest.ld", eh.e_type);
    if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == 0
        || eh.e_phnum > UW_TENDER_MAX_PHDRS
        || !fits(eh.e_phoff, (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr), size))
        return fail(err, "bad program header table");
    memcpy(ph, file + eh.e_phoff, eh.e_phnum * sizeof(Elf64_Phdr));

    int entry_ok = 0;
    uint64_t end = UW_TENDER_GUEST_MIN_BASE;
    for (int i = 0; i < eh.e_phnum; i++) {
        const Elf64_Phdr *p = &ph[i];
        if (p->p_type == PT_INTERP || p->p_type == PT_DYNAMIC)
            return fail(err, "dynamically linked; guests must be static");
        if (p->p_type == PT_NOTE) {
            if (p->p_filesz > UW_TENDER_NOTES_MAX || !fits(p->p_offset, p->p_filesz, size))
                return fail(err, "bad note segment %d", i);
            if (find_manifest(file, p, img, err) < 0)
                return -1;
            continue;
        }
        if (p->p_type != PT_LOAD || p->p_memsz == 0)
            continue;
        if (img->nseg == UW_TENDER_MAX_SEGMENTS)
            return fail(err, "more than %d loadable segments", UW_TENDER_MAX_SEGMENTS);
        if (p->p_vaddr != p->p_paddr)
            return fail(err, "segment %d: virtual and physical addresses differ", i);
        if ((p->p_flags & PF_W) && (p->p_flags & PF_X))
            return fail(err, "segment %d is both writable and executable", i);
        if (p->p_filesz > p->p_memsz || !fits(p->p_offset, p->p_filesz, size))
            return fail(err, "segment %d: bad file offset or size", i);
        if (p->p_vaddr % UW_TENDER_PAGE || p->p_vaddr < UW_TENDER_GUEST_MIN_BASE
            || !fits(p->p_vaddr, p->p_memsz, UW_TENDER_ADDR_MAX))
            return fail(err, "segment %d (0x%llx, %llu bytes) is outside guest memory or "
                        "not page-aligned", i, (unsigned long long)p->p_vaddr,
                        (unsigned long long)p->p_memsz);
        uint64_t seg_end = page_up(p->p_vaddr + p->p_memsz);
        /* Page ranges of loaded segments must not overlap: a later one
         * would silently overwrite an earlier one's bytes or permissions. */
        for (int j = 0; j < img->nseg; j++) {
            const struct uw_tender_segment *q = &img->seg[j];
            if (p->p_vaddr < page_up(q->vaddr + q->memsz) && q->vaddr < seg_end)
                return fail(err, "loadable segments overlap (0x%llx and 0x%llx)",
                            (unsigned long long)q->vaddr, (unsigned long long)p->p_vaddr);
        }
        img->seg[img->nseg++] = (struct uw_tender_segment){
            .vaddr = p->p_vaddr, .memsz = p->p_memsz,
            .offset = p->p_offset, .filesz = p->p_filesz, .flags = p->p_flags,
        };
        if ((p->p_flags & PF_X) && eh.e_entry >= p->p_vaddr && eh.e_entry - p->p_vaddr < p->p_memsz)
            entry_ok = 1;
        if (seg_end > end)
            end = seg_end;
    }
    if (img->nseg == 0)
        return fail(err, "no loadable segment");
    if (!entry_ok)
        return fail(err, "entry point 0x%llx is not in an executable segment",
                    (unsigned long long)eh.e_entry);
    img->entry = eh.e_entry;
    img->end = end;
    return 0;
}

void uw_tender_elf_load(const uint8_t *file, const struct uw_tender_image *img,
                        uint8_t *mem, uint64_t base)
{
    for (int i = 0; i < img->nseg; i++) {
        const struct uw_tender_segment *s = &img->seg[i];
        uint8_t *dst = mem + (s->vaddr - base);
        memcpy(dst, file + s->offset, s->filesz);
        memset(dst + s->filesz, 0, s->memsz - s->filesz);
    }
}
