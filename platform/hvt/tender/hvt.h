/*
 * hvt.h - internals of uweb-hvt, the KVM tender (host side).
 *
 * What it is for: uweb-hvt runs one hvt unikernel as a KVM guest with a
 * single vCPU.  The image, manifest and device checks are the tenders'
 * shared code (platform/tender/uw_tender.h); main.c parses the command
 * line, manifest.c attaches the devices, kvm.c creates the VM, loads the
 * image and runs the vCPU, hypercall.c serves the guest's calls
 * (hvt_abi.h), seccomp.c locks the tender down.
 *
 * Memory: struct hvt owns the guest memory mapping and the host file
 * descriptors; it lives for the whole run.  Guest memory is never touched
 * through a guest-supplied address except via hvt_gpa(), the one checked
 * translation.
 *
 * Errors: setup failures print one line and exit 125; a misbehaving or
 * crashed guest is stopped through hvt_guest_fault() (exit status 139).
 */
#ifndef UW_HVT_TENDER_H
#define UW_HVT_TENDER_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define UW_HVT_HOST
#include "../hvt_abi.h"
#include "uw_platform.h"
#include "uw_tender.h"

#define HVT_EXIT_TENDER 125      /* refused to start (as uweb-spt) */
#define HVT_EXIT_GUEST_FAULT 139 /* guest crashed or misbehaved (128+SIGSEGV,
                                    as a crashing guest on uweb-spt) */

/* A device the guest declared, with its host resource attached. */
struct hvt_device {
    uint32_t type;           /* enum uw_plat_device_type */
    int fd;
    uint32_t mtu;            /* net: bytes of payload */
    uint32_t offloads;       /* net: UW_PLAT_NET_OFFLOAD_* */
    uint64_t capacity;       /* block: bytes */
    uint64_t block_size;     /* block: bytes */
};

struct hvt {
    int kvm_fd, vm_fd, vcpu_fd;
    struct kvm_run *run;
    size_t run_size;
    uint8_t *mem;            /* host mapping of guest-physical 0 */
    uint64_t mem_size;       /* bytes, a multiple of UW_HVT_PAGE_SIZE */
    uint64_t entry;          /* guest entry point */
    uint64_t image_end;      /* one past the highest loaded byte */
    struct {
        uint64_t start, end; /* guest-physical [start, end) */
        uint32_t flags;      /* PF_R / PF_W / PF_X */
    } seg[16];               /* the image's loaded segments */
    int nseg;
    struct uw_plat_manifest *mft; /* the guest's manifest, filled in */
    size_t mft_size;
    struct hvt_device dev[UW_PLAT_MANIFEST_MAX]; /* same index as mft */
    int ndev;                     /* mft->count */
};

enum hvt_access {
    HVT_READ,   /* the tender reads the range: [0x1000, mem_size) */
    HVT_WRITE   /* the tender writes it: [UW_HVT_GUEST_MIN_BASE, mem_size),
                   never the page tables or the boot information */
};

/*
 * The one checked translation from a guest-physical range to a host
 * pointer: returns mem + gpa when [gpa, gpa + len) lies inside the part of
 * guest memory allowed for `access`, computed without overflow; otherwise
 * stops the guest (exit 139) with a message naming `what`.  len may be 0.
 */
void *hvt_gpa(struct hvt *h, uint64_t gpa, uint64_t len,
              enum hvt_access access, const char *what);

/* Start of the unmapped guard page below the stack. */
#define HVT_GUARD(h) ((h)->mem_size - UW_HVT_STACK_SIZE - UW_HVT_GUARD_SIZE)

/*
 * Print "uweb-hvt: <prefix><message>" on stderr in one write, without
 * stdio or allocation (safe after the seccomp lockdown).
 */
void hvt_vsay(const char *prefix, const char *fmt, va_list ap);
void hvt_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints "uweb-hvt: guest stopped: <message>" and exits 139. */
_Noreturn void hvt_guest_fault(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

/* Prints "uweb-hvt: <message>" and exits 125 (cannot start the guest). */
_Noreturn void hvt_die(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

/*
 * Opens /dev/kvm, creates the VM with mem_size bytes of zeroed guest
 * memory and one vCPU.  Exits with one line when KVM is missing or unusable.
 */
void hvt_kvm_init(struct hvt *h, uint64_t mem_size);

/*
 * Copies the checked image (uw_tender_elf_parse) into guest memory and
 * records its segments for the page tables.  Exits with one line if it
 * does not fit below the stack's guard page.
 */
void hvt_load_image(struct hvt *h, const char *path, const uint8_t *file,
                    const struct uw_tender_image *img);

/*
 * Attaches the command-line devices to the manifest's (the shared checks
 * of uw_tender.h: exit 125 with one line on any mismatch or host error),
 * filling h->dev and the manifest's [tender] fields.  With PLACEHOLDERS
 * (for --show-filter) device k gets fd 3 + k and nothing stays open (a
 * block file is opened for its capacity and closed).
 */
void hvt_attach_devices(struct hvt *h, struct uw_tender_device_arg *args, int nargs,
                        int placeholders);

/*
 * Sets page tables, GDT, control registers and the entry registers.  The
 * page tables give the image's pages the permissions of their segments
 * (never writable and executable), leave page 0 and the guard page below
 * the stack unmapped (a NULL access or a stack overflow faults), make the tender's low area read-only and the rest of memory
 * (heap, stack) writable and not executable.
 */
void hvt_vcpu_setup(struct hvt *h, uint64_t boot_gpa);

/*
 * Builds the seccomp filter that leaves the tender only what serving the
 * guest needs (seccomp.c) for h's device fds and vCPU fd, into F.  Exits
 * with one line if it cannot be built.
 */
void hvt_seccomp_build(const struct hvt *h, struct uw_tender_filter *f);

/* Builds and installs it.  Call after every host resource is open. */
void hvt_seccomp_lock(struct hvt *h);

/* Runs the vCPU until the guest halts; returns the exit status. */
int hvt_vcpu_run(struct hvt *h);

/*
 * Serves hypercall `nr` with the argument struct at `gpa`.  Returns -1 to
 * keep running, or the guest's exit status when it halted.
 */
int hvt_hypercall(struct hvt *h, unsigned nr, uint64_t gpa);

/* Monotonic and wall clocks in nanoseconds. */
uint64_t hvt_now_monotonic(void);
uint64_t hvt_now_wall(void);

#endif
