/*
 * hvt_abi.h - the hypercall interface between an hvt guest and uweb-hvt.
 *
 * What it is for: the hvt bindings (guest side, platform/hvt/bindings*.c)
 * and the tender (host side, platform/hvt/tender/) both include this file;
 * it is the only thing they share.  Applications never see it: they use
 * the platform ABI (uw_platform.h), which the bindings implement on top of
 * these hypercalls.
 *
 * Calling pattern: the guest fills an argument struct in its own memory and
 * executes `outl %eax, %dx` with %dx = UW_HVT_PIO_BASE + call number and
 * %eax = the guest-physical address of the struct.  The vCPU exits to the
 * tender, which copies the struct out of guest memory, checks every address
 * and length in it against guest memory, does the work, writes the OUT
 * fields back and resumes the guest.  One vCPU, so the guest is stopped for
 * the whole call.  Guest memory is identity-mapped (virtual == physical).
 *
 * Memory: every struct lives in guest memory and belongs to the guest.
 * Every field is fixed-width so both sides agree on the layout whatever
 * their compiler; guest pointers travel as uint64_t guest-physical
 * addresses and are never dereferenced by the tender without a check.
 *
 * The tender is the judge: a call with a bad address, a bad length or an
 * unknown number stops the guest with a message on stderr.
 *
 * Self-contained: needs only <stdint.h>.
 */
#ifndef UW_HVT_ABI_H
#define UW_HVT_ABI_H

#include <stdint.h>

/* Bumped whenever a struct or number below changes meaning. */
#define UW_HVT_ABI_VERSION 2   /* 2: seed */

/* Hypercall port base: call N is an outl to port UW_HVT_PIO_BASE + N. */
#define UW_HVT_PIO_BASE 0x500

/*
 * Guest-physical memory map, set up by the tender before the first
 * instruction.  Page tables identity-map all of guest memory: page 0 is
 * not mapped, the area below UW_HVT_GUEST_MIN_BASE (page tables, GDT, the
 * structures below) is read-only, the image's pages have their segment's
 * permissions (never writable and executable), the rest (heap, stack) is
 * writable and not executable, except one unmapped guard page below the
 * stack, so a stack overflow faults instead of overwriting the heap.  The
 * image is loaded at or above UW_HVT_GUEST_MIN_BASE.  Buffers the tender
 * writes (argument structs, read buffers) must lie at or above it too;
 * buffers it only reads may also be in the read-only area (the command
 * line, the manifest copy).
 */
#define UW_HVT_GDT_BASE        0x1000
#define UW_HVT_PML4_BASE       0x2000
#define UW_HVT_PDPT_BASE       0x3000
#define UW_HVT_PD_BASE         0x4000   /* 4 pages: up to 4 GiB */
#define UW_HVT_BOOT_BASE       0x8000   /* struct uw_hvt_boot */
#define UW_HVT_CMDLINE_BASE    0x9000
#define UW_HVT_CMDLINE_SIZE    0x1000   /* bytes, terminator included */
#define UW_HVT_MANIFEST_BASE   0xb000   /* the filled manifest copy */
#define UW_HVT_MANIFEST_SIZE   0x1000
#define UW_HVT_PT_BASE         0x10000  /* 4 KiB page tables of the image */
#define UW_HVT_PT_END          UW_HVT_GUEST_MIN_BASE
#define UW_HVT_GUEST_MIN_BASE  0x100000
#define UW_HVT_PAGE_SIZE       0x200000 /* guest memory is a multiple */
#define UW_HVT_MEM_MAX         0x100000000ULL /* addresses fit outl's 32 bits */
#define UW_HVT_STACK_SIZE      0x100000 /* top of memory */
#define UW_HVT_GUARD_SIZE      0x1000   /* unmapped, below the stack */
/* The heap ends at mem_size - UW_HVT_STACK_SIZE - UW_HVT_GUARD_SIZE. */

/*
 * Start information, written by the tender at UW_HVT_BOOT_BASE; the entry
 * point receives its address in %rdi.
 */
struct uw_hvt_boot {
    uint64_t abi_version;   /* UW_HVT_ABI_VERSION of the tender */
    uint64_t mem_size;      /* bytes of guest memory */
    uint64_t heap_start;    /* first free byte after the image (page aligned) */
    uint64_t heap_end;      /* one past the last heap byte; the stack is above */
    uint64_t cmdline;       /* address of the NUL-terminated command line */
    uint64_t manifest;      /* address of the tender's filled copy of the
                               guest's manifest (struct uw_plat_manifest) */
    uint64_t manifest_size; /* its size in bytes */
    uint64_t random;        /* 8 random bytes from the host (stack canary) */
    uint8_t seed[32];       /* 32 more, fresh from getrandom, for uw_plat_seed */
};

enum uw_hvt_call {
    /* 0 is reserved */
    UW_HVT_CALL_CONSOLE = 1,
    UW_HVT_CALL_CLOCK,
    UW_HVT_CALL_YIELD,
    UW_HVT_CALL_NET_READ,
    UW_HVT_CALL_NET_WRITE,
    UW_HVT_CALL_BLOCK_READ,
    UW_HVT_CALL_BLOCK_WRITE,
    UW_HVT_CALL_HALT,
    UW_HVT_CALL_ABORT,
    UW_HVT_CALL_FAULT,      /* = 10, used by start.S */
    UW_HVT_CALL_MAX
};

/* Result codes in the `result` fields (the values of uw_plat_result_t). */
enum uw_hvt_result {
    UW_HVT_OK = 0,
    UW_HVT_AGAIN = 1,   /* nothing to read, or the device would block */
    UW_HVT_EINVAL = 2,  /* bad handle, offset or length */
    UW_HVT_EUNSPEC = 3  /* the host operation failed */
};

/* UW_HVT_CALL_CONSOLE: write len bytes to the tender's stdout. */
struct uw_hvt_console {
    uint64_t data;      /* IN */
    uint64_t len;       /* IN */
};

/* UW_HVT_CALL_CLOCK: both clocks at once, in nanoseconds. */
struct uw_hvt_clock {
    uint64_t monotonic; /* OUT: since an arbitrary point, never goes back */
    uint64_t wall;      /* OUT: since the Unix epoch */
};

/*
 * UW_HVT_CALL_YIELD: wait until the monotonic clock reaches `deadline` or
 * one of the guest's net devices has input.  ready_set has bit N set when
 * handle N (its index in the manifest) is readable.  Returns at once if
 * input is already waiting.
 */
struct uw_hvt_yield {
    uint64_t deadline;  /* IN: monotonic nanoseconds */
    uint64_t ready_set; /* OUT */
};

/* UW_HVT_CALL_NET_READ: one frame into data[0..len); read_size is its size. */
struct uw_hvt_net_read {
    uint64_t handle;    /* IN */
    uint64_t data;      /* IN */
    uint64_t len;       /* IN */
    uint64_t read_size; /* OUT */
    uint64_t result;    /* OUT: enum uw_hvt_result */
};

/* UW_HVT_CALL_NET_WRITE: send one frame, 14 bytes (its header) to mtu + 14. */
struct uw_hvt_net_write {
    uint64_t handle;    /* IN */
    uint64_t data;      /* IN */
    uint64_t len;       /* IN */
    uint64_t result;    /* OUT */
};

/*
 * UW_HVT_CALL_BLOCK_READ / _WRITE: len bytes at byte offset `offset`; both
 * must be multiples of the device's block size and inside the device.
 */
struct uw_hvt_block_io {
    uint64_t handle;    /* IN */
    uint64_t offset;    /* IN */
    uint64_t data;      /* IN */
    uint64_t len;       /* IN */
    uint64_t result;    /* OUT */
};

/* UW_HVT_CALL_HALT: the guest is done; the tender exits with status & 0xff. */
struct uw_hvt_halt {
    uint64_t status;    /* IN */
};

/*
 * UW_HVT_CALL_ABORT: the guest gave up (failed assertion, stack smashing,
 * heap corruption); the tender prints the message, if any, and exits with
 * status 255 (UW_PLAT_EXIT_ABORT).
 */
struct uw_hvt_abort {
    uint64_t message;   /* IN: address of the text, may be 0 */
    uint64_t len;       /* IN: its length, at most 4096 */
};

/*
 * UW_HVT_CALL_FAULT: a CPU exception in the guest (start.S builds this on
 * the stack); the tender reports it and exits with status 139.
 */
struct uw_hvt_fault {
    uint64_t cr2;        /* last page-fault address */
    uint64_t vector;     /* 0..31 */
    uint64_t error_code; /* 0 for vectors without one */
    uint64_t rip, cs, rflags, rsp, ss; /* as the CPU pushed them */
};

#ifndef UW_HVT_HOST
/* Guest side: issue hypercall `call` with the struct at `arg`. */
static inline void uw_hvt_hypercall(enum uw_hvt_call call, volatile void *arg)
{
    __asm__ __volatile__("outl %0, %1"
                         :
                         : "a"((uint32_t)(uintptr_t)arg),
                           "d"((uint16_t)(UW_HVT_PIO_BASE + call))
                         : "memory");
}
#endif

#endif /* UW_HVT_ABI_H */
