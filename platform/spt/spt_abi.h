/*
 * spt_abi.h - what the spt tender (uweb-spt) and the spt guest bindings
 * share: the guest memory map and the boot information.
 *
 * What it is for: on spt the guest runs inside the tender's own process,
 * at fixed addresses, after the tender has installed a seccomp filter.
 * The guest talks to the host with plain Linux system calls on the file
 * descriptors the tender opened (in the manifest copy's `hostfd`); this
 * header only describes how the guest is started.
 *
 * Memory: guest memory is [UW_SPT_GUEST_BASE, UW_SPT_GUEST_BASE + mem_size)
 * at the same addresses in the tender's process, 4 MiB and up: above the
 * vm.mmap_min_addr of any Linux host (65536 on Debian), as an ordinary
 * non-PIE executable.  From the bottom: the image (linked at
 * UW_SPT_GUEST_BASE, platform/build.mk), the heap, a guard page, the stack,
 * and at the top the boot area (boot info, command line, manifest copy),
 * which belongs to the tender and is read-only to the guest once it runs.
 *
 * Calling pattern: the tender maps guest memory, loads the image, fills
 * the boot area, locks down and calls the image's entry with %rdi = the
 * address of struct uw_spt_boot (UW_SPT_BOOT(mem_size)) and %rsp = the
 * bottom of the boot area (16-byte aligned, as after a call).
 */
#ifndef UW_SPT_ABI_H
#define UW_SPT_ABI_H

#include <stdint.h>

#define UW_SPT_ABI_VERSION 4   /* 2: seed; 3: memory at 4 MiB, boot area at its top; 4: writev, not write */

#define UW_SPT_GUEST_BASE     0x400000  /* guest memory and the image (guest.ld) start here */
#define UW_SPT_BOOT_SIZE      0x3000    /* the boot area, the top of guest memory: */
#define UW_SPT_CMDLINE_OFFSET 0x1000    /*   struct uw_spt_boot at its start, then */
#define UW_SPT_CMDLINE_SIZE   0x1000    /*   the command line (terminator included), */
#define UW_SPT_MANIFEST_OFFSET 0x2000   /*   then the manifest copy */
#define UW_SPT_MANIFEST_SIZE  0x1000    /* fits 16 + 63 * 64 bytes */
#define UW_SPT_STACK_SIZE     0x100000  /* below the boot area */
#define UW_SPT_GUARD_SIZE     0x1000    /* no access, below the stack */
#define UW_SPT_PAGE           0x1000
/* The boot area's address for MEM_SIZE bytes of guest memory. */
#define UW_SPT_BOOT(mem_size) (UW_SPT_GUEST_BASE + (mem_size) - UW_SPT_BOOT_SIZE)

struct uw_spt_boot {
    uint64_t abi_version;   /* UW_SPT_ABI_VERSION */
    uint64_t mem_size;      /* bytes of guest memory, from UW_SPT_GUEST_BASE */
    uint64_t heap_start;    /* page aligned, after the image */
    uint64_t heap_end;      /* the guard page below the stack */
    uint64_t cmdline;       /* address of the NUL-terminated command line */
    uint64_t manifest;      /* address of the filled manifest copy */
    uint64_t canary;        /* random, for __stack_chk_guard */
    uint64_t clock_gettime; /* address of the vDSO's clock_gettime, or 0 */
    uint8_t seed[32];       /* fresh from getrandom, for uw_plat_seed */
};

#endif
