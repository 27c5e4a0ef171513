/*
 * elf.c - loading the static guest image into guest memory.
 *
 * The image is untrusted input: every header field that becomes an offset
 * or a size is checked against the file and against guest memory, without
 * overflow, before anything is copied.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hvt.h"

#define MAX_PHDRS 64

/* Is [off, off + len) inside [0, size)?  Overflow-safe. */
static int inside(uint64_t off, uint64_t len, uint64_t size)
{
    return off <= size && len <= size - off;
}

static void read_exact(int fd, void *buf, uint64_t len, uint64_t off,
                       const char *path)
{
    uint8_t *p = buf;
    while (len > 0) {
        ssize_t n = pread(fd, p, len, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            hvt_die("%s: cannot read the image: %s", path,
                    n < 0 ? strerror(errno) : "unexpected end of file");
        p += n;
        off += (uint64_t)n;
        len -= (uint64_t)n;
    }
}

/*
 * Opens `path` and reads its ELF and program headers into *eh and ph
 * (MAX_PHDRS entries); returns the fd and the file size in *fsize.
 */
static int open_image(const char *path, Elf64_Ehdr *eh, Elf64_Phdr *ph,
                      uint64_t *fsize)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        hvt_die("%s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
        hvt_die("%s: not a regular file", path);
    *fsize = (uint64_t)st.st_size;
    if (*fsize < sizeof(*eh))
        hvt_die("%s: not an ELF file (too short)", path);
    read_exact(fd, eh, sizeof(*eh), 0, path);
    if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0)
        hvt_die("%s: not an ELF file", path);
    if (eh->e_ident[EI_CLASS] != ELFCLASS64 ||
        eh->e_ident[EI_DATA] != ELFDATA2LSB || eh->e_machine != EM_X86_64 ||
        eh->e_ident[EI_VERSION] != EV_CURRENT)
        hvt_die("%s: not an x86-64 ELF64 image", path);
    if (eh->e_type != ET_EXEC)
        hvt_die("%s: not a static executable (hvt guests are linked with "
                "the hvt link rule)", path);
    if (eh->e_phentsize != sizeof(Elf64_Phdr) || eh->e_phnum == 0 ||
        eh->e_phnum > MAX_PHDRS ||
        !inside(eh->e_phoff, (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr),
                *fsize))
        hvt_die("%s: bad program header table", path);
    read_exact(fd, ph, (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr),
               eh->e_phoff, path);
    return fd;
}

void hvt_elf_load(struct hvt *h, const char *path)
{
    Elf64_Ehdr eh;
    Elf64_Phdr ph[MAX_PHDRS];
    uint64_t fsize;
    int fd = open_image(path, &eh, ph, &fsize);
    /* Stack and guard page take the top of memory; the image stays below. */
    uint64_t limit = h->mem_size - UW_HVT_STACK_SIZE - UW_HVT_GUARD_SIZE;
    uint64_t end = 0;
    int entry_ok = 0, loads = 0;

    for (int i = 0; i < eh.e_phnum; i++) {
        const Elf64_Phdr *p = &ph[i];
        if (p->p_type == PT_INTERP || p->p_type == PT_DYNAMIC)
            hvt_die("%s: dynamically linked; hvt guests must be static", path);
        if (p->p_type != PT_LOAD || p->p_memsz == 0)
            continue;
        if (loads == (int)(sizeof(h->seg) / sizeof(h->seg[0])))
            hvt_die("%s: too many loadable segments", path);
        loads++;
        if (p->p_vaddr != p->p_paddr)
            hvt_die("%s: segment %d: virtual and physical addresses differ",
                    path, i);
        if ((p->p_flags & PF_W) && (p->p_flags & PF_X))
            hvt_die("%s: segment %d is both writable and executable", path, i);
        if (p->p_filesz > p->p_memsz || !inside(p->p_offset, p->p_filesz, fsize))
            hvt_die("%s: segment %d: bad file offset or size", path, i);
        if (p->p_paddr < UW_HVT_GUEST_MIN_BASE ||
            !inside(p->p_paddr, p->p_memsz, limit))
            hvt_die("%s: segment %d (0x%llx, %llu bytes) does not fit in guest "
                    "memory [0x%x, 0x%llx); try a larger --mem",
                    path, i, (unsigned long long)p->p_paddr,
                    (unsigned long long)p->p_memsz, UW_HVT_GUEST_MIN_BASE,
                    (unsigned long long)limit);
        read_exact(fd, h->mem + p->p_paddr, p->p_filesz, p->p_offset, path);
        memset(h->mem + p->p_paddr + p->p_filesz, 0, p->p_memsz - p->p_filesz);
        h->seg[h->nseg].start = p->p_paddr;
        h->seg[h->nseg].end = p->p_paddr + p->p_memsz;
        h->seg[h->nseg].flags = p->p_flags;
        h->nseg++;
        if (p->p_paddr + p->p_memsz > end)
            end = p->p_paddr + p->p_memsz;
        if ((p->p_flags & PF_X) && eh.e_entry >= p->p_paddr &&
            eh.e_entry - p->p_paddr < p->p_memsz)
            entry_ok = 1;
    }
    close(fd);
    if (loads == 0)
        hvt_die("%s: no loadable segment", path);
    if (!entry_ok)
        hvt_die("%s: entry point 0x%llx is not in an executable segment",
                path, (unsigned long long)eh.e_entry);
    h->entry = eh.e_entry;
    h->image_end = end;
}

void *hvt_elf_note(const char *path, const char *name, uint32_t type,
                   size_t *size)
{
    Elf64_Ehdr eh;
    Elf64_Phdr ph[MAX_PHDRS];
    uint64_t fsize;
    int fd = open_image(path, &eh, ph, &fsize);
    size_t name_len = strlen(name) + 1;

    for (int i = 0; i < eh.e_phnum; i++) {
        const Elf64_Phdr *p = &ph[i];
        if (p->p_type != PT_NOTE)
            continue;
        if (p->p_filesz > (1u << 20) || !inside(p->p_offset, p->p_filesz, fsize))
            hvt_die("%s: bad note segment", path);
        uint8_t *buf = malloc(p->p_filesz ? p->p_filesz : 1);
        if (buf == NULL)
            hvt_die("out of memory");
        read_exact(fd, buf, p->p_filesz, p->p_offset, path);
        uint64_t off = 0;
        while (off + sizeof(Elf64_Nhdr) <= p->p_filesz) {
            Elf64_Nhdr nh;
            memcpy(&nh, buf + off, sizeof(nh));
            uint64_t nsz = ((uint64_t)nh.n_namesz + 3) & ~3ULL;
            uint64_t dsz = ((uint64_t)nh.n_descsz + 3) & ~3ULL;
            uint64_t noff = off + sizeof(nh);
            if (!inside(noff, nsz, p->p_filesz) ||
                !inside(noff + nsz, dsz, p->p_filesz))
                break;
            if (nh.n_type == type && nh.n_namesz == name_len &&
                memcmp(buf + noff, name, name_len) == 0) {
                void *desc = malloc(nh.n_descsz ? nh.n_descsz : 1);
                if (desc == NULL)
                    hvt_die("out of memory");
                memcpy(desc, buf + noff + nsz, nh.n_descsz);
                *size = nh.n_descsz;
                free(buf);
                close(fd);
                return desc;
            }
            off = noff + nsz + dsz;
        }
        free(buf);
    }
    close(fd);
    *size = 0;
    return NULL;
}
