/*
 * kvm.c - the VM and its one vCPU: guest memory, long mode, the run loop.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/kvm.h>

#include "hvt.h"

/* Control register bits used below. */
#define CR0_PE (1ULL << 0)   /* protected mode */
#define CR0_MP (1ULL << 1)   /* monitor coprocessor: FPU/SSE state in use */
#define CR0_NE (1ULL << 5)   /* native FPU error reporting */
#define CR0_WP (1ULL << 16)  /* write-protect applies to ring 0 */
#define CR0_PG (1ULL << 31)  /* paging */
#define CR4_PAE (1ULL << 5)
#define CR4_OSFXSR (1ULL << 9)      /* SSE enabled (FXSAVE/FXRSTOR) */
#define CR4_OSXMMEXCPT (1ULL << 10) /* SSE exceptions as #XM */
#define EFER_LME (1ULL << 8)
#define EFER_LMA (1ULL << 10)
#define EFER_NXE (1ULL << 11)
#define PTE_P (1ULL << 0)
#define PTE_RW (1ULL << 1)
#define PTE_PS (1ULL << 7)
#define PTE_NX (1ULL << 63)

/*
 * Writes "uweb-hvt: <prefix><message>\n" to stderr in one write(2): no
 * allocation and no stdio, so it works under the seccomp filter.
 */
void hvt_vsay(const char *prefix, const char *fmt, va_list ap)
{
    char msg[1024];
    int n = snprintf(msg, sizeof(msg), "uweb-hvt: %s", prefix);
    if (n < 0 || n >= (int)sizeof(msg) - 1)
        n = 0;
    int m = vsnprintf(msg + n, sizeof(msg) - (size_t)n - 1, fmt, ap);
    if (m < 0)
        m = 0;
    size_t len = (size_t)n + (size_t)m;
    if (len > sizeof(msg) - 2)
        len = sizeof(msg) - 2;
    msg[len++] = '\n';
    ssize_t w = write(STDERR_FILENO, msg, len);
    (void)w; /* nothing better to do if stderr is gone */
}

void hvt_say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    hvt_vsay("", fmt, ap);
    va_end(ap);
}

void hvt_die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    hvt_vsay("", fmt, ap);
    va_end(ap);
    _exit(HVT_EXIT_TENDER);
}

void hvt_guest_fault(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    hvt_vsay("guest stopped: ", fmt, ap);
    va_end(ap);
    _exit(HVT_EXIT_GUEST_FAULT);
}

void *hvt_gpa(struct hvt *h, uint64_t gpa, uint64_t len,
              enum hvt_access access, const char *what)
{
    uint64_t low = access == HVT_WRITE ? UW_HVT_GUEST_MIN_BASE : 0x1000;
    /* gpa < mem_size first, so mem_size - gpa cannot wrap. */
    if (gpa < low || gpa >= h->mem_size || len > h->mem_size - gpa)
        hvt_guest_fault("%s: bad address 0x%llx length %llu (guest memory "
                        "the tender may %s: 0x%llx to 0x%llx)", what,
                        (unsigned long long)gpa, (unsigned long long)len,
                        access == HVT_WRITE ? "write" : "read",
                        (unsigned long long)low,
                        (unsigned long long)h->mem_size);
    return h->mem + gpa;
}

void hvt_kvm_init(struct hvt *h, uint64_t mem_size)
{
    h->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (h->kvm_fd < 0)
        hvt_die("cannot open /dev/kvm: %s (is KVM available and are you "
                "allowed to use it?)", strerror(errno));
    int api = ioctl(h->kvm_fd, KVM_GET_API_VERSION, 0);
    if (api < 0)
        hvt_die("/dev/kvm is unusable: %s", strerror(errno));
    if (api != KVM_API_VERSION)
        hvt_die("/dev/kvm is unusable: API version %d, expected %d", api,
                KVM_API_VERSION);
    h->vm_fd = ioctl(h->kvm_fd, KVM_CREATE_VM, 0);
    if (h->vm_fd < 0)
        hvt_die("/dev/kvm is unusable: cannot create a VM: %s",
                strerror(errno));

    h->mem_size = mem_size;
    h->mem = mmap(NULL, mem_size, PROT_READ | PROT_WRITE,
                  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (h->mem == MAP_FAILED)
        hvt_die("cannot allocate %llu bytes of guest memory: %s",
                (unsigned long long)mem_size, strerror(errno));
    struct kvm_userspace_memory_region region = {
        .slot = 0,
        .guest_phys_addr = 0,
        .memory_size = mem_size,
        .userspace_addr = (uint64_t)(uintptr_t)h->mem,
    };
    if (ioctl(h->vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0)
        hvt_die("KVM: cannot map guest memory: %s", strerror(errno));

    h->vcpu_fd = ioctl(h->vm_fd, KVM_CREATE_VCPU, 0);
    if (h->vcpu_fd < 0)
        hvt_die("KVM: cannot create a vCPU: %s", strerror(errno));
    int run_size = ioctl(h->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (run_size < (int)sizeof(struct kvm_run))
        hvt_die("KVM: bad vCPU mmap size %d", run_size);
    h->run_size = (size_t)run_size;
    h->run = mmap(NULL, h->run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
                  h->vcpu_fd, 0);
    if (h->run == MAP_FAILED)
        hvt_die("KVM: cannot map the vCPU state: %s", strerror(errno));
}

/* Page-table bits for a 4 KiB page of the image from its segments' flags. */
static uint64_t image_page_bits(const struct hvt *h, uint64_t page)
{
    uint64_t bits = 0;
    int exec = 0;
    for (int i = 0; i < h->nseg; i++) {
        if (page + 0x1000 <= h->seg[i].start || page >= h->seg[i].end)
            continue;
        bits |= PTE_P;
        if (h->seg[i].flags & PF_W)
            bits |= PTE_RW;
        if (h->seg[i].flags & PF_X)
            exec = 1;
    }
    if (bits == 0)
        return 0;           /* a hole between segments: not mapped */
    if (!exec)
        bits |= PTE_NX;
    else
        bits &= ~PTE_RW;    /* W^X: a page shared by code and data is r-x */
    return bits;
}

/*
 * Identity map of all guest memory (see hvt_abi.h for the permissions):
 * 4 KiB pages in the 2 MiB regions holding the low area and the image,
 * 2 MiB pages above.  One PML4 entry, up to four PDPT entries, one PD page
 * per GiB.
 */
static void setup_page_tables(struct hvt *h)
{
    uint64_t *pml4 = (uint64_t *)(h->mem + UW_HVT_PML4_BASE);
    uint64_t *pdpt = (uint64_t *)(h->mem + UW_HVT_PDPT_BASE);
    uint64_t *pd = (uint64_t *)(h->mem + UW_HVT_PD_BASE);
    uint64_t pt_next = UW_HVT_PT_BASE;
    uint64_t image_top = (h->image_end + 0xfff) & ~0xfffULL;

    memset(h->mem + UW_HVT_PML4_BASE, 0, UW_HVT_PD_BASE + 4 * 0x1000 - UW_HVT_PML4_BASE);
    pml4[0] = UW_HVT_PDPT_BASE | PTE_P | PTE_RW;
    for (uint64_t gib = 0; gib * (1ULL << 30) < h->mem_size; gib++)
        pdpt[gib] = (UW_HVT_PD_BASE + gib * 0x1000) | PTE_P | PTE_RW;
    uint64_t guard = HVT_GUARD(h);
    for (uint64_t pa = 0, i = 0; pa < h->mem_size; pa += UW_HVT_PAGE_SIZE, i++) {
        int holds_guard = guard >= pa && guard - pa < UW_HVT_PAGE_SIZE;
        if (pa >= image_top && !holds_guard) {
            pd[i] = pa | PTE_P | PTE_RW | PTE_PS | PTE_NX;
            continue;
        }
        if (pt_next >= UW_HVT_PT_END)
            hvt_die("guest image too large for the page tables");
        uint64_t *pt = (uint64_t *)(h->mem + pt_next);
        pd[i] = pt_next | PTE_P | PTE_RW;
        pt_next += 0x1000;
        for (uint64_t j = 0; j < 512; j++) {
            uint64_t page = pa + j * 0x1000;
            if (page == 0 || page == guard)
                pt[j] = 0;                              /* these fault */
            else if (page < UW_HVT_GUEST_MIN_BASE)
                pt[j] = page | PTE_P | PTE_NX;          /* tender's, r-- */
            else if (page < image_top)
                pt[j] = page | image_page_bits(h, page);
            else
                pt[j] = page | PTE_P | PTE_RW | PTE_NX; /* heap, stack */
            if ((pt[j] & PTE_P) == 0)
                pt[j] = 0;
        }
    }
}

/* Flat 64-bit code and data segments; the GDT only backs the selectors. */
static const struct kvm_segment code_seg = {
    .base = 0, .limit = 0xffffffff, .selector = 1 * 8,
    .type = 11 /* execute/read, accessed */, .present = 1, .dpl = 0,
    .db = 0, .s = 1, .l = 1, .g = 1,
};
static const struct kvm_segment data_seg = {
    .base = 0, .limit = 0xffffffff, .selector = 2 * 8,
    .type = 3 /* read/write, accessed */, .present = 1, .dpl = 0,
    .db = 1, .s = 1, .l = 0, .g = 1,
};

static uint64_t gdt_entry(const struct kvm_segment *s)
{
    uint64_t limit = s->g ? s->limit >> 12 : s->limit;
    return (limit & 0xffff) | ((s->base & 0xffffffULL) << 16) |
           ((uint64_t)s->type << 40) | ((uint64_t)s->s << 44) |
           ((uint64_t)s->dpl << 45) | ((uint64_t)s->present << 47) |
           (((limit >> 16) & 0xf) << 48) | ((uint64_t)s->l << 53) |
           ((uint64_t)s->db << 54) | ((uint64_t)s->g << 55) |
           (((s->base >> 24) & 0xff) << 56);
}

/* Passes the host's CPUID (as KVM supports it) to the guest; best effort. */
static void setup_cpuid(struct hvt *h)
{
    int n = 128;
    struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));
    if (c == NULL)
        hvt_die("out of memory");
    c->nent = n;
    if (ioctl(h->kvm_fd, KVM_GET_SUPPORTED_CPUID, c) == 0)
        (void)ioctl(h->vcpu_fd, KVM_SET_CPUID2, c);
    free(c);
}

void hvt_vcpu_setup(struct hvt *h, uint64_t boot_gpa)
{
    setup_page_tables(h);
    uint64_t *gdt = (uint64_t *)(h->mem + UW_HVT_GDT_BASE);
    gdt[0] = 0;
    gdt[1] = gdt_entry(&code_seg);
    gdt[2] = gdt_entry(&data_seg);

    setup_cpuid(h);

    struct kvm_sregs sregs;
    if (ioctl(h->vcpu_fd, KVM_GET_SREGS, &sregs) < 0)
        hvt_die("KVM: cannot read vCPU special registers: %s",
                strerror(errno));
    /*
     * Long mode with paging.  SSE is enabled (CR0.MP, CR4.OSFXSR and
     * OSXMMEXCPT, EM clear) so guests built for real KVM hosts may use it;
     * guests built with -mgeneral-regs-only never execute it.
     */
    sregs.cr0 = CR0_PE | CR0_MP | CR0_NE | CR0_WP | CR0_PG;
    sregs.cr3 = UW_HVT_PML4_BASE;
    sregs.cr4 = CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT;
    sregs.efer = EFER_LME | EFER_LMA | EFER_NXE;
    sregs.cs = code_seg;
    sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = data_seg;
    sregs.gdt.base = UW_HVT_GDT_BASE;
    sregs.gdt.limit = 3 * 8 - 1;
    sregs.idt.base = 0;
    sregs.idt.limit = 0;
    sregs.tr = (struct kvm_segment){
        .base = 0, .limit = 0x67, .selector = 0, .type = 11 /* busy TSS */,
        .present = 1, .s = 0,
    };
    sregs.ldt = (struct kvm_segment){ .selector = 0, .unusable = 1 };
    if (ioctl(h->vcpu_fd, KVM_SET_SREGS, &sregs) < 0)
        hvt_die("KVM: cannot enter long mode: %s", strerror(errno));

    /* SysV ABI at entry: (%rsp + 8) % 16 == 0, first argument in %rdi. */
    struct kvm_regs regs = {
        .rip = h->entry,
        .rflags = 0x2,
        .rsp = h->mem_size - 8,
        .rdi = boot_gpa,
    };
    if (ioctl(h->vcpu_fd, KVM_SET_REGS, &regs) < 0)
        hvt_die("KVM: cannot set vCPU registers: %s", strerror(errno));
}

static unsigned long long guest_cr2(struct hvt *h)
{
    struct kvm_sregs sregs;
    if (ioctl(h->vcpu_fd, KVM_GET_SREGS, &sregs) < 0)
        return 0;
    return sregs.cr2;
}

static unsigned long long guest_rip(struct hvt *h)
{
    struct kvm_regs regs;
    if (ioctl(h->vcpu_fd, KVM_GET_REGS, &regs) < 0)
        return 0;
    return regs.rip;
}

int hvt_vcpu_run(struct hvt *h)
{
    struct kvm_run *run = h->run;
    for (;;) {
        if (ioctl(h->vcpu_fd, KVM_RUN, 0) < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            if (errno == EFAULT)
                hvt_guest_fault("memory fault at rip=0x%llx", guest_rip(h));
            hvt_die("KVM: cannot run the vCPU: %s", strerror(errno));
        }
        switch (run->exit_reason) {
        case KVM_EXIT_IO: {
            unsigned port = run->io.port;
            if (run->io.direction != KVM_EXIT_IO_OUT || run->io.size != 4 ||
                run->io.count != 1 || port <= UW_HVT_PIO_BASE ||
                port >= UW_HVT_PIO_BASE + UW_HVT_CALL_MAX)
                hvt_guest_fault("bad port access: port=0x%x at rip=0x%llx",
                                port, guest_rip(h));
            uint32_t gpa;
            memcpy(&gpa, (uint8_t *)run + run->io.data_offset, sizeof(gpa));
            int status = hvt_hypercall(h, port - UW_HVT_PIO_BASE, gpa);
            if (status >= 0)
                return status;
            break;
        }
        case KVM_EXIT_HLT:
            hvt_guest_fault("the guest executed hlt at rip=0x%llx",
                            guest_rip(h));
        case KVM_EXIT_SHUTDOWN:
            if (guest_cr2(h) - HVT_GUARD(h) < UW_HVT_GUARD_SIZE)
                hvt_guest_fault("stack overflow: the guest used up its %d KiB "
                                "stack (rip=0x%llx, page fault address "
                                "0x%llx)", UW_HVT_STACK_SIZE / 1024,
                                guest_rip(h), guest_cr2(h));
            hvt_guest_fault("CPU exception the guest could not report "
                            "(triple fault) at rip=0x%llx, last page fault "
                            "address 0x%llx",
                            guest_rip(h), guest_cr2(h));
        case KVM_EXIT_MMIO:
            hvt_guest_fault("access to unmapped address 0x%llx at rip=0x%llx",
                            (unsigned long long)run->mmio.phys_addr,
                            guest_rip(h));
        case KVM_EXIT_FAIL_ENTRY:
            hvt_die("KVM: cannot enter the guest: hardware reason 0x%llx",
                    (unsigned long long)
                        run->fail_entry.hardware_entry_failure_reason);
        case KVM_EXIT_INTERNAL_ERROR:
            hvt_guest_fault("KVM could not run an instruction at rip=0x%llx "
                            "(internal error %u); on a host whose KVM is "
                            "emulated in software this is usually SSE: "
                            "build hvt guests with HVT_SOFT_KVM=1",
                            guest_rip(h), run->internal.suberror);
        default:
            hvt_guest_fault("unexpected exit %u at rip=0x%llx",
                            run->exit_reason, guest_rip(h));
        }
    }
}
