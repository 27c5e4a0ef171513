/*
 * uw_tender.h - what the spt and hvt tenders share (host side): reading
 * and checking a guest image (ELF program headers, segments, the manifest
 * note), matching the command line's devices against the manifest and
 * opening their host resources, the guest command line, and a seccomp
 * filter builder.  As Solo5's tenders/common: one copy of the code that
 * decides what a guest may be, so the two tenders cannot drift.
 *
 * Trust: the image file is untrusted input.  uw_tender_elf_parse() checks
 * every offset, size and address in it, overflow-safe, before anything
 * else looks at it; later calls only use what it recorded.  Nothing here
 * touches guest memory except uw_tender_elf_load(), which copies the
 * checked segments.
 *
 * Memory: the caller owns everything.  The image bytes are read whole into
 * one malloc'd buffer (uw_tender_read_file); the manifest copy is
 * malloc'd; nothing is freed behind the caller's back.
 *
 * Errors are values: each function returns 0 (or a result >= 0) or -1
 * with one line (no "uweb-TARGET: " prefix, no newline) in ERR; the tender
 * prints it with its prefix and exits 125.  Nothing here prints or exits,
 * so the parsers can be fuzzed (tests/fuzz/fuzz_elf.c).
 */
#ifndef UW_TENDER_H
#define UW_TENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <linux/filter.h>
#include "uw_platform.h"

/* Guest images are linked at or above this address (guest.ld, both targets). */
#define UW_TENDER_GUEST_MIN_BASE 0x100000
/* Segments are page-aligned; permissions are per 4 KiB page. */
#define UW_TENDER_PAGE 0x1000
/* Program headers and loadable segments an image may have. */
#define UW_TENDER_MAX_PHDRS 64
#define UW_TENDER_MAX_SEGMENTS 16
/* Largest image file read, and largest note segment. */
#define UW_TENDER_IMAGE_MAX (1u << 30)
#define UW_TENDER_NOTES_MAX (1u << 20)
/* No guest address at or above this (user space of x86-64, 47 bits). */
#define UW_TENDER_ADDR_MAX (1ull << 47)
/* The block size of every block device. */
#define UW_TENDER_BLOCK_SIZE 512

struct uw_tender_error {
    char msg[320];
};

/* Formats the message into ERR; returns -1 (for "return uw_tender_fail(...)"). */
int uw_tender_fail(struct uw_tender_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* One loadable segment, checked. */
struct uw_tender_segment {
    uint64_t vaddr, memsz;    /* guest memory [vaddr, vaddr + memsz), vaddr page-aligned */
    uint64_t offset, filesz;  /* file bytes [offset, offset + filesz), filesz <= memsz */
    uint32_t flags;           /* PF_R / PF_W / PF_X; never PF_W and PF_X */
};

/* What uw_tender_elf_parse() found. */
struct uw_tender_image {
    uint64_t entry;           /* inside an executable segment */
    uint64_t end;             /* first byte after the highest segment, page-aligned */
    int nseg;                 /* >= 1 */
    struct uw_tender_segment seg[UW_TENDER_MAX_SEGMENTS]; /* page ranges disjoint */
    uint64_t manifest_offset; /* the manifest note's descriptor in the file */
    uint64_t manifest_size;   /* its size; 0 if the image has none */
};

/*
 * Reads the regular file PATH whole (at most UW_TENDER_IMAGE_MAX bytes)
 * into a malloc'd buffer *DATA of *SIZE bytes.  0 or -1.
 */
int uw_tender_read_file(const char *path, uint8_t **data, size_t *size,
                        struct uw_tender_error *err);

/*
 * Checks FILE[0, SIZE) as a guest image and fills IMG: a static x86-64
 * ELF executable (no PT_INTERP, no PT_DYNAMIC), a program header table
 * inside the file, 1 to UW_TENDER_MAX_SEGMENTS non-empty PT_LOAD segments
 * each inside the file, p_vaddr == p_paddr, page-aligned, at or above
 * UW_TENDER_GUEST_MIN_BASE and below UW_TENDER_ADDR_MAX, filesz <= memsz,
 * never writable and executable, no two sharing a page; the entry point
 * inside an executable segment; at most one manifest note (owner
 * UW_PLAT_NOTE_NAME, type UW_PLAT_NOTE_MANIFEST, 8-byte aligned) in the
 * PT_NOTE segments.  Does not check the manifest's contents (see
 * uw_tender_manifest_copy) nor whether IMG->end fits the guest's memory
 * (the tender compares it with its heap's end).  0 or -1.
 */
int uw_tender_elf_parse(const uint8_t *file, size_t size, struct uw_tender_image *img,
                        struct uw_tender_error *err);

/*
 * Copies the segments of IMG from FILE into guest memory and zeroes their
 * bss: guest address A is host address MEM + (A - BASE).  The caller has
 * made [BASE, IMG->end) addressable at MEM and zeroed (a fresh mapping);
 * BASE is at or below every segment (UW_TENDER_GUEST_MIN_BASE is; spt
 * refuses segments below its own, higher base first).
 */
void uw_tender_elf_load(const uint8_t *file, const struct uw_tender_image *img,
                        uint8_t *mem, uint64_t base);

/*
 * Checks a manifest descriptor M of SIZE bytes: magic, ABI version
 * UW_PLAT_ABI_VERSION, count <= UW_PLAT_MANIFEST_MAX and SIZE exactly the
 * header plus count devices, every name 1..UW_PLAT_NAME_MAX-1 bytes of
 * [a-zA-Z0-9_] and NUL-terminated, every type net or block, no name
 * twice.  M must be 8-byte aligned.  0 or -1.
 */
int uw_tender_manifest_check(const struct uw_plat_manifest *m, size_t size,
                             struct uw_tender_error *err);

/*
 * The image's manifest: a malloc'd, checked copy (uw_tender_manifest_check)
 * with every [tender] field reset (attached 0, hostfd -1, info zero), its
 * size in *SIZE.  NULL with ERR filled if the image has none or it is bad.
 */
struct uw_plat_manifest *uw_tender_manifest_copy(const uint8_t *file,
                                                 const struct uw_tender_image *img,
                                                 size_t *size, struct uw_tender_error *err);

/* "net" or "block". */
const char *uw_tender_type_name(uint32_t type);

/* ------------------------------------------------------------ devices */

/* A device given on the command line: --net:NAME=TAPIF or --block:NAME=FILE. */
struct uw_tender_device_arg {
    uint32_t type;                 /* enum uw_plat_device_type */
    char name[UW_PLAT_NAME_MAX];
    const char *host;              /* the tap interface or the file (points into OPTION) */
    const char *option;            /* the whole option, for messages */
};

/*
 * If OPTION is --net:NAME=TAPIF or --block:NAME=FILE, appends it to
 * ARGS[*NARGS] (room for UW_PLAT_MANIFEST_MAX) and returns 1; returns 0
 * for any other option; -1 if it is malformed, a name is given twice or
 * there are too many.  OPTION must outlive ARGS.
 */
int uw_tender_device_option(const char *option, struct uw_tender_device_arg *args,
                            int *nargs, struct uw_tender_error *err);

/*
 * Matches the devices given with those M declares: each given device must
 * be declared with its type, each declared device given unless it is
 * optional (UW_PLAT_DEVICE_OPTIONAL).  On 0, MATCH[k] is the index in
 * ARGS of declared device k, or -1 for an optional device not given (the
 * caller leaves it unattached).  Opens nothing.  0 or -1.
 */
int uw_tender_devices_match(const struct uw_plat_manifest *m,
                            const struct uw_tender_device_arg *args, int nargs,
                            int match[UW_PLAT_MANIFEST_MAX], struct uw_tender_error *err);

/*
 * Opens the host resource of ARG for the declared device D and fills D's
 * info (net: a random locally administered unicast MAC and the
 * interface's MTU; block: capacity and UW_TENDER_BLOCK_SIZE) and sets
 * D->attached; D->hostfd is the caller's.  Net: the tap interface must
 * exist (it is never created here), opened non-blocking.  Block: a
 * regular file or a block device, read-write, its size a non-zero
 * multiple of UW_TENDER_BLOCK_SIZE.  Returns the host fd or -1.
 */
int uw_tender_device_open(struct uw_plat_device *d, const struct uw_tender_device_arg *arg,
                          struct uw_tender_error *err);

/*
 * Net devices declared with UW_PLAT_DEVICE_NET_OFFLOADS are opened with
 * IFF_VNET_HDR and TUNSETOFFLOAD (checksums, TSO4/6; info.net.offloads
 * says what the kernel took) unless this is false (--net-offloads=off).
 */
extern bool uw_tender_net_offloads;

/* ------------------------------------------------------------ command line, entropy */

/*
 * Writes the guest command line into OUT (SIZE bytes, terminator
 * included): GUEST's file name, then ARGS, separated by single spaces; a
 * word that is empty or holds a space, tab, quote or backslash is quoted
 * with "...", inside which " and \ are escaped with \ (platform/README.md).
 * 0 or -1 if it does not fit.
 */
int uw_tender_cmdline(char *out, size_t size, const char *guest, char *const *args,
                      int nargs, struct uw_tender_error *err);

/* Fills BUF with N bytes from getrandom(2).  0 or -1. */
int uw_tender_random(void *buf, size_t n, struct uw_tender_error *err);

/* ------------------------------------------------------------ seccomp */

/*
 * A seccomp filter built call by call, with a listing of what it allows
 * written by the same calls that emit the BPF (so --show-filter prints the
 * filter that is installed, not a description of it).  Every allow_*
 * call adds one section; anything no section allows gets DENY
 * (SECCOMP_RET_TRAP or SECCOMP_RET_KILL_PROCESS), and so does any other
 * architecture's system call ABI.  Argument checks look at the low 32
 * bits of fd, clock and request arguments (the kernel reads them as int),
 * and at all 64 bits of pointers, offsets and sizes.
 */
#define UW_TENDER_FILTER_MAX 4096     /* BPF_MAXINSNS */
struct uw_tender_filter {
    uint32_t deny;
    size_t len;
    int overflow;
    int syscalls;
    struct sock_filter prog[UW_TENDER_FILTER_MAX];
    char listing[8192];
    size_t listing_len;
};

/* Starts F: the architecture check, then the system call number. */
void uw_tender_filter_begin(struct uw_tender_filter *f, uint32_t deny);
/* NR (named NAME) with any arguments. */
void uw_tender_filter_allow(struct uw_tender_filter *f, int nr, const char *name);
/* NR when argument ARG (low 32 bits; named ARGNAME) is one of VALS[0, N);
 * WHAT says what they are. */
void uw_tender_filter_allow_arg_in(struct uw_tender_filter *f, int nr, const char *name,
                                   int arg, const char *argname, const int *vals, int n,
                                   const char *what);
/* NR when argument ARG (64 bits) is 0; WHAT names it. */
void uw_tender_filter_allow_arg_zero(struct uw_tender_filter *f, int nr, const char *name,
                                     int arg, const char *what);
/*
 * pread64 and pwrite64 on FDS[i] only when offset + count <= CAPS[i]
 * (64-bit, overflow-safe: count < 2^32 and the offset's high half at most
 * the capacity's), so a guest can neither read nor grow a file past its
 * device.
 */
void uw_tender_filter_allow_block_io(struct uw_tender_filter *f, const int *fds,
                                     const uint64_t *caps, int n);
/* ioctl on FD only, with a request among REQS[0, N) (named in WHAT). */
void uw_tender_filter_allow_ioctl(struct uw_tender_filter *f, int fd, const uint32_t *reqs,
                                  int n, const char *what);
/* Ends F with the final DENY.  0, or -1 if the program is too long. */
int uw_tender_filter_end(struct uw_tender_filter *f, struct uw_tender_error *err);
/* Prints the listing and the program's size on OUT. */
void uw_tender_filter_print(const struct uw_tender_filter *f, FILE *out);
/* no_new_privs, then the filter.  0 or -1. */
int uw_tender_filter_install(const struct uw_tender_filter *f, struct uw_tender_error *err);

#endif
