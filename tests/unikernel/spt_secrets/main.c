/*
 * spt_secrets: a hostile spt guest looks for its tender's secrets.  The
 * guest runs inside the tender's process, so it can read whatever the
 * tender left in memory.  The runner starts the tender with a marker in
 * an environment variable, in the directory of the image's path and as
 * the guest's argument (argv[1]); this guest searches the tender's
 * memory (outside guest memory) for it and must not find it:
 *   - the pages around the vDSO (whose address the guest is given): the
 *     tender's own image, its data and bss, and what follows;
 *   - the top 32 GiB of the address space, where the kernel puts the
 *     initial stack (argv, environment, auxiliary vector; at least
 *     132 KiB, randomized within 16 GiB), probed every 128 KiB;
 *   - every page a pointer-like word in those regions points to (the
 *     heap: glibc keeps pointers to it in its data).
 * Whether a page is readable is asked of the kernel without faulting:
 * write(1, page, 1) fails with EFAULT when it is not (so stdout must be
 * a pipe that copies, not /dev/null).  Results go to stderr (fd 2).
 * Prints SUCCESS when the marker is nowhere; "found at ADDR: ..." and
 * exit 1 for each place it is.  spt only: raw Linux system calls.
 */
#include <stdint.h>
#include <string.h>
#include "uw_platform.h"
#include "spt_abi.h"

UW_PLAT_MANIFEST();

#define PAGE 0x1000ull
#define REGION_CAP (256ull << 20)

static long sys3(long nr, long a, long b, long c)
{
    long ret;
    __asm__ __volatile__("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b), "d"(c)
                         : "rcx", "r11", "memory");
    return ret;
}

struct iov { const void *base; unsigned long len; };

static void say(const char *s)
{
    struct iov v = { s, strlen(s) };
    sys3(20, 2, (long)&v, 1);   /* writev: what the filter allows */
}

static int readable(uint64_t a)
{
    struct iov v = { (const void *)(uintptr_t)a, 1 };
    return sys3(20, 1, (long)&v, 1) == 1;
}

static const char *marker;
static size_t marker_len;
static int hits;
static unsigned long probes, scanned_bytes;
static struct { uint64_t lo, hi; } regions[256];
static int nregions;

static int known(uint64_t a)
{
    for (int i = 0; i < nregions; i++)
        if (a >= regions[i].lo && a < regions[i].hi)
            return 1;
    return 0;
}

static void hex(char *out, uint64_t v)
{
    for (int i = 15; i >= 0; i--, v >>= 4)
        out[i] = "0123456789abcdef"[v & 15];
    out[16] = 0;
}

static void report(uint64_t at)
{
    char line[160], addr[17];
    hex(addr, at);
    strcpy(line, "found at 0x");
    strcat(line, addr);
    strcat(line, ": ");
    size_t n = strlen(line);
    const char *p = (const char *)(uintptr_t)at;
    for (size_t i = 0; i < 60 && p[i]; i++)
        line[n++] = p[i] >= ' ' && p[i] < 127 ? p[i] : '.';
    line[n++] = '\n';
    line[n] = 0;
    say(line);
    hits++;
}

/* The readable run of pages around the readable page A, scanned once. */
static void region_at(uint64_t a)
{
    if (known(a) || nregions == (int)(sizeof regions / sizeof regions[0]))
        return;
    uint64_t lo = a, hi = a + PAGE;
    while (lo > a - REGION_CAP && lo > PAGE && !known(lo - PAGE) && readable(lo - PAGE))
        lo -= PAGE;
    while (hi < a + REGION_CAP && !known(hi) && readable(hi))
        hi += PAGE;
    regions[nregions].lo = lo;
    regions[nregions].hi = hi;
    nregions++;
    const char *p = (const char *)(uintptr_t)lo;
    size_t len = hi - lo;
    scanned_bytes += len;
    for (size_t i = 0; i + marker_len <= len; i++)
        if (p[i] == marker[0] && memcmp(p + i, marker, marker_len) == 0)
            report(lo + i);
}

static void probe(uint64_t a)
{
    probes++;
    if (!known(a) && readable(a))
        region_at(a);
}

/* The boot area (spt_abi.h) is the page right above the stack: the first
 * page up from this frame that holds a struct uw_spt_boot describing
 * itself.  NULL if none within the stack's size. */
static const struct uw_spt_boot *boot_info(void)
{
    volatile char here;
    uint64_t a = (uintptr_t)&here & ~(PAGE - 1);
    for (uint64_t end = a + UW_SPT_STACK_SIZE + PAGE; a < end; a += PAGE) {
        const struct uw_spt_boot *b = (const struct uw_spt_boot *)(uintptr_t)a;
        if (b->abi_version == UW_SPT_ABI_VERSION && UW_SPT_BOOT(b->mem_size) == a)
            return b;
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 2 || strlen(argv[1]) < 8) {
        say("usage: spt_secrets MARKER (8 bytes or more)\n");
        return 2;
    }
    marker = argv[1];
    marker_len = strlen(marker);
    const struct uw_spt_boot *b = boot_info();
    if (!b) {
        say("no boot area above the stack\n");
        return 2;
    }
    if (readable(b->heap_end)) {   /* the guard page, PROT_NONE: must not read as readable */
        say("stdout does not copy what is written (run with stdout a pipe)\n");
        return 2;
    }
    uint64_t vdso = b->clock_gettime & ~(PAGE - 1);
    if (vdso) {
        for (uint64_t a = vdso - (16ull << 20); a < vdso + REGION_CAP; a += PAGE)
            probe(a);
    } else {
        say("no vDSO address: its neighbourhood is not searched\n");
    }
    for (uint64_t a = 0x7ff800000000ull; a < 0x7ffffffff000ull; a += 0x20000)
        probe(a);
    /* Pages that words of the regions found so far point to. */
    int first = nregions;
    for (int r = 0; r < first; r++)
        for (uint64_t a = regions[r].lo; a < regions[r].hi; a += 8) {
            uint64_t v = *(const uint64_t *)(uintptr_t)a;
            if (v >= 0x1000000000ull && v < 0x800000000000ull && (v < UW_SPT_GUEST_BASE || v - UW_SPT_GUEST_BASE >= b->mem_size))
                probe(v & ~(PAGE - 1));
            if (probes > 4000000)
                break;
        }
    char line[160], n[17];
    strcpy(line, "searched ");
    hex(n, scanned_bytes);
    strcat(line, "0x");
    strcat(line, n);
    strcat(line, " bytes of tender memory in ");
    hex(n, (uint64_t)nregions);
    strcat(line, "0x");
    strcat(line, n);
    strcat(line, " regions\n");
    say(line);
    if (hits)
        return 1;
    say("SUCCESS\n");
    return 0;
}
