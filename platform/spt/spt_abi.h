/*
 * spt_abi.h - what the spt tender (uweb-spt) and the spt guest bindings
 * share: the guest memory map and the boot information.
 *
 * What it is for: on spt the guest runs inside the tender's own process,
 * at fixed low addresses, after the tender has installed a seccomp filter.
 * The guest talks to the host with plain Linux system calls on the file
 * descriptors the tender opened (in the manifest copy's `hostfd`); this
 * header only describes how the guest is started.
 *
 * Memory: the boot area (boot info, command line, manifest copy) belongs
 * to the tender and is read-only to the guest once it runs.
 *
 * Calling pattern: the tender maps guest memory at UW_SPT_BOOT_BASE ..
 * mem_size, loads the image, fills struct uw_spt_boot at UW_SPT_BOOT_BASE,
 * locks down and calls the image's entry with %rdi = UW_SPT_BOOT_BASE and
 * %rsp = mem_size (16-byte aligned, as after a call).
 */
#ifndef UW_SPT_ABI_H
#define UW_SPT_ABI_H

#include <stdint.h>

#define UW_SPT_ABI_VERSION 2   /* 2: seed */

#define UW_SPT_BOOT_BASE      0x10000   /* struct uw_spt_boot */
#define UW_SPT_CMDLINE_BASE   0x11000
#define UW_SPT_CMDLINE_SIZE   0x1000    /* bytes, terminator included */
#define UW_SPT_MANIFEST_BASE  0x12000
#define UW_SPT_MANIFEST_SIZE  0x1000    /* fits 16 + 63 * 64 bytes */
#define UW_SPT_BOOT_END       0x13000
#define UW_SPT_GUEST_MIN_BASE 0x100000  /* images are linked here (guest.ld) */
#define UW_SPT_STACK_SIZE     0x100000  /* top of memory */
#define UW_SPT_GUARD_SIZE     0x1000    /* no access, below the stack */
#define UW_SPT_PAGE           0x1000

struct uw_spt_boot {
    uint64_t abi_version;   /* UW_SPT_ABI_VERSION */
    uint64_t mem_size;      /* bytes; guest memory is [UW_SPT_BOOT_BASE, mem_size) */
    uint64_t heap_start;    /* page aligned, after the image */
    uint64_t heap_end;      /* the guard page below the stack */
    uint64_t cmdline;       /* address of the NUL-terminated command line */
    uint64_t manifest;      /* address of the filled manifest copy */
    uint64_t canary;        /* random, for __stack_chk_guard */
    uint64_t clock_gettime; /* address of the vDSO's clock_gettime, or 0 */
    uint8_t seed[32];       /* fresh from getrandom, for uw_plat_seed */
};

#endif
