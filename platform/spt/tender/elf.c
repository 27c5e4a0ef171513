/*
 * elf.c - reading a guest image: its manifest note and its segments
 * (contracts: tender.h).  Everything in the file is untrusted: every
 * offset, size and address is checked, overflow-safe, before use.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "tender.h"

#define MAX_PHDRS 64
#define MAX_NOTES 65536

struct elf_file {
    int fd;
    uint64_t size;
    Elf64_Ehdr eh;
    Elf64_Phdr ph[MAX_PHDRS];
};

/* Reads exactly N bytes at OFF; 0 or -1. */
static int read_at(int fd, void *buf, size_t n, uint64_t off)
{
    char *p = buf;
    while (n > 0) {
        ssize_t r = pread(fd, p, n, (off_t)off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        p += r;
        n -= (size_t)r;
        off += (uint64_t)r;
    }
    return 0;
}

/* A + B <= LIMIT without overflow. */
static int fits(uint64_t a, uint64_t b, uint64_t limit)
{
    return a <= limit && b <= limit - a;
}

static int elf_open(const char *path, struct elf_file *f)
{
    struct stat st;
    f->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (f->fd < 0) {
        spt_error("%s: %s", path, strerror(errno));
        return -1;
    }
    if (fstat(f->fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        spt_error("%s: not a regular file", path);
        goto fail;
    }
    f->size = (uint64_t)st.st_size;
    const Elf64_Ehdr *e = &f->eh;
    if (read_at(f->fd, &f->eh, sizeof f->eh, 0) < 0
        || memcmp(e->e_ident, ELFMAG, SELFMAG) != 0
        || e->e_ident[EI_CLASS] != ELFCLASS64 || e->e_ident[EI_DATA] != ELFDATA2LSB
        || e->e_machine != EM_X86_64 || e->e_version != EV_CURRENT) {
        spt_error("%s: not an x86-64 ELF image", path);
        goto fail;
    }
    if (e->e_type != ET_EXEC) {
        spt_error("%s: not a static executable (ELF type %u); guests are linked by platform/guest/guest.ld",
                  path, e->e_type);
        goto fail;
    }
    if (e->e_phentsize != sizeof(Elf64_Phdr) || e->e_phnum == 0 || e->e_phnum > MAX_PHDRS
        || !fits(e->e_phoff, (uint64_t)e->e_phnum * sizeof(Elf64_Phdr), f->size)
        || read_at(f->fd, f->ph, e->e_phnum * sizeof(Elf64_Phdr), e->e_phoff) < 0) {
        spt_error("%s: bad program headers", path);
        goto fail;
    }
    return 0;
fail:
    close(f->fd);
    return -1;
}

static int check_manifest(const char *path, const struct uw_plat_manifest *m, uint64_t descsz)
{
    if (descsz < sizeof *m || m->magic != UW_PLAT_MANIFEST_MAGIC) {
        spt_error("%s: malformed manifest note", path);
        return -1;
    }
    if (m->version != UW_PLAT_ABI_VERSION) {
        spt_error("%s: built for platform ABI version %u, this tender runs version %u",
                  path, m->version, UW_PLAT_ABI_VERSION);
        return -1;
    }
    if (m->count > UW_PLAT_MANIFEST_MAX
        || descsz != sizeof *m + (uint64_t)m->count * sizeof(struct uw_plat_device)) {
        spt_error("%s: manifest declares %u devices in %lu bytes", path, m->count,
                  (unsigned long)descsz);
        return -1;
    }
    for (uint32_t i = 0; i < m->count; i++) {
        const struct uw_plat_device *d = &m->devices[i];
        size_t len = strnlen(d->name, UW_PLAT_NAME_MAX);
        if (len == 0 || len == UW_PLAT_NAME_MAX
            || strspn(d->name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") != len) {
            spt_error("%s: manifest device %u has a bad name", path, i);
            return -1;
        }
        if (d->type != UW_PLAT_DEVICE_NET && d->type != UW_PLAT_DEVICE_BLOCK) {
            spt_error("%s: manifest device '%s' has unknown type %u", path, d->name, d->type);
            return -1;
        }
        for (uint32_t j = 0; j < i; j++)
            if (strcmp(m->devices[j].name, d->name) == 0) {
                spt_error("%s: manifest declares '%s' twice", path, d->name);
                return -1;
            }
    }
    return 0;
}

int spt_elf_manifest(const char *path, struct spt_image *img)
{
    struct elf_file f;
    if (elf_open(path, &f) < 0)
        return -1;
    img->manifest = NULL;
    for (int i = 0; i < f.eh.e_phnum && !img->manifest; i++) {
        const Elf64_Phdr *p = &f.ph[i];
        if (p->p_type != PT_NOTE)
            continue;
        if (p->p_filesz > MAX_NOTES || !fits(p->p_offset, p->p_filesz, f.size)) {
            spt_error("%s: bad note segment", path);
            goto fail;
        }
        uint64_t align = p->p_align == 8 ? 8 : 4;
        uint8_t *notes = malloc(p->p_filesz + 1);
        if (!notes || read_at(f.fd, notes, p->p_filesz, p->p_offset) < 0) {
            free(notes);
            spt_error("%s: cannot read notes", path);
            goto fail;
        }
        uint64_t off = 0;
        while (off + sizeof(Elf64_Nhdr) <= p->p_filesz) {
            Elf64_Nhdr nh;
            memcpy(&nh, notes + off, sizeof nh);
            uint64_t name_off = off + sizeof nh;
            uint64_t desc_off = (name_off + nh.n_namesz + align - 1) & ~(align - 1);
            uint64_t next = (desc_off + nh.n_descsz + align - 1) & ~(align - 1);
            if (!fits(name_off, nh.n_namesz, p->p_filesz) || !fits(desc_off, nh.n_descsz, p->p_filesz))
                break;
            if (nh.n_type == UW_PLAT_NOTE_MANIFEST && nh.n_namesz == sizeof UW_PLAT_NOTE_NAME
                && memcmp(notes + name_off, UW_PLAT_NOTE_NAME, sizeof UW_PLAT_NOTE_NAME) == 0) {
                if (desc_off % 8 || nh.n_descsz < sizeof(struct uw_plat_manifest)) {
                    spt_error("%s: malformed manifest note", path);
                    free(notes);
                    goto fail;
                }
                img->manifest = malloc(nh.n_descsz);
                if (!img->manifest) {
                    free(notes);
                    spt_error("out of memory");
                    goto fail;
                }
                memcpy(img->manifest, notes + desc_off, nh.n_descsz);
                img->manifest_size = nh.n_descsz;
                break;
            }
            off = next;
        }
        free(notes);
    }
    if (!img->manifest) {
        spt_error("%s: no manifest (declare one with UW_PLAT_MANIFEST)", path);
        goto fail;
    }
    if (check_manifest(path, img->manifest, img->manifest_size) < 0)
        goto fail;
    close(f.fd);
    return 0;
fail:
    close(f.fd);
    return -1;
}

int spt_elf_load(const char *path, uint64_t limit, struct spt_image *img)
{
    struct elf_file f;
    if (elf_open(path, &f) < 0)
        return -1;
    uint64_t end = UW_SPT_GUEST_MIN_BASE;
    int entry_ok = 0, nload = 0;
    for (int i = 0; i < f.eh.e_phnum; i++) {
        const Elf64_Phdr *p = &f.ph[i];
        if (p->p_type != PT_LOAD)
            continue;
        nload++;
        uint64_t mem_end;
        if (p->p_filesz > p->p_memsz || p->p_vaddr % UW_SPT_PAGE
            || p->p_vaddr < UW_SPT_GUEST_MIN_BASE || !fits(p->p_vaddr, p->p_memsz, limit)
            || !fits(p->p_offset, p->p_filesz, f.size)) {
            spt_error("%s: segment %d (0x%lx, %lu bytes) is outside guest memory or malformed",
                      path, i, (unsigned long)p->p_vaddr, (unsigned long)p->p_memsz);
            goto fail;
        }
        if ((p->p_flags & PF_W) && (p->p_flags & PF_X)) {
            spt_error("%s: segment %d is both writable and executable", path, i);
            goto fail;
        }
        mem_end = (p->p_vaddr + p->p_memsz + UW_SPT_PAGE - 1) & ~(uint64_t)(UW_SPT_PAGE - 1);
        if (mem_end > limit) {
            spt_error("%s: image does not fit in guest memory", path);
            goto fail;
        }
        /* Page ranges of loaded segments must not overlap. */
        for (int j = 0; j < i; j++) {
            const Elf64_Phdr *q = &f.ph[j];
            if (q->p_type != PT_LOAD)
                continue;
            uint64_t q_end = (q->p_vaddr + q->p_memsz + UW_SPT_PAGE - 1) & ~(uint64_t)(UW_SPT_PAGE - 1);
            if (p->p_vaddr < q_end && q->p_vaddr < mem_end) {
                spt_error("%s: segments %d and %d overlap", path, j, i);
                goto fail;
            }
        }
        if (read_at(f.fd, (void *)(uintptr_t)p->p_vaddr, p->p_filesz, p->p_offset) < 0) {
            spt_error("%s: cannot read segment %d", path, i);
            goto fail;
        }
        /* The rest (bss) is still zero: the mapping is fresh. */
        if ((p->p_flags & PF_X) && f.eh.e_entry >= p->p_vaddr && f.eh.e_entry - p->p_vaddr < p->p_memsz)
            entry_ok = 1;
        if (mem_end > end)
            end = mem_end;
    }
    if (!nload || !entry_ok) {
        spt_error("%s: entry point 0x%lx is not in an executable segment", path,
                  (unsigned long)f.eh.e_entry);
        goto fail;
    }
    /* Gaps in the image: no access.  Then each segment its permissions. */
    if (mprotect((void *)UW_SPT_GUEST_MIN_BASE, end - UW_SPT_GUEST_MIN_BASE, PROT_NONE) < 0)
        goto fail_prot;
    for (int i = 0; i < f.eh.e_phnum; i++) {
        const Elf64_Phdr *p = &f.ph[i];
        if (p->p_type != PT_LOAD || p->p_memsz == 0)
            continue;
        int prot = (p->p_flags & PF_R ? PROT_READ : 0) | (p->p_flags & PF_W ? PROT_WRITE : 0)
                   | (p->p_flags & PF_X ? PROT_EXEC : 0);
        uint64_t len = (p->p_memsz + UW_SPT_PAGE - 1) & ~(uint64_t)(UW_SPT_PAGE - 1);
        if (mprotect((void *)(uintptr_t)p->p_vaddr, len, prot) < 0)
            goto fail_prot;
    }
    img->entry = f.eh.e_entry;
    img->end = end;
    close(f.fd);
    return 0;
fail_prot:
    spt_error("mprotect: %s", strerror(errno));
fail:
    close(f.fd);
    return -1;
}
