/*
 * tender.h - the pieces of uweb-spt, the spt tender (host side).
 *
 * What it is for: uweb-spt runs a uweb unikernel image inside its own
 * process.  The image, manifest and device checks are the tenders'
 * shared code (platform/tender/uw_tender.h); main.c parses the command
 * line, opens the devices and loads the image; elf.c gives the loaded
 * segments their permissions; lockdown.c builds the seccomp filter (with
 * the shared builder), installs the fault handlers and enters the
 * guest.  Once the filter is installed nothing allocates or calls libc:
 * only the guest runs, and the handlers, which use raw system calls.
 *
 * Memory: guest memory is one fixed mapping at UW_SPT_GUEST_BASE; the
 * tender never frees anything (the process ends with the guest).
 * Trust: the image file is untrusted input (the shared parser checks every
 * offset, size and address in it); once running, the guest reaches the host only
 * through the system calls the filter allows, so the tender has no guest
 * pointer to check.
 * Errors: each function returns 0 or -1 after printing one line
 * "uweb-spt: ..." on stderr.
 */
#ifndef UW_SPT_TENDER_H
#define UW_SPT_TENDER_H

#include <stddef.h>
#include <stdint.h>
#include "uw_platform.h"
#include "spt_abi.h"

/* Exit status when the tender refuses to start a guest. */
#define SPT_EXIT_REFUSED 125
/* Exit status when the guest makes a forbidden system call (128 + SIGSYS). */
#define SPT_EXIT_FORBIDDEN 159

struct uw_tender_image;

/* Prints "uweb-spt: MESSAGE" on stderr. */
void spt_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * After uw_tender_elf_load() (platform/tender/): makes the gaps in the
 * image inaccessible and gives each segment its permissions.  0 or -1.
 */
int spt_protect_image(const struct uw_tender_image *img);

/*
 * The vDSO's clock_gettime, or 0 if the vDSO is missing or has none.
 */
uint64_t spt_vdso_clock_gettime(void);

/* File descriptors the guest may use, for the filter. */
struct spt_fds {
    int net[UW_PLAT_MANIFEST_MAX];
    int nnet;
    int block[UW_PLAT_MANIFEST_MAX];
    uint64_t block_capacity[UW_PLAT_MANIFEST_MAX];   /* bytes, same index */
    int nblock;
};

/*
 * Installs the fault handlers (on their own stack), then the seccomp
 * filter allowing only what the bindings need on FDS, then calls the
 * guest's ENTRY with %rsp = STACK_TOP and %rdi = BOOT.  Returns -1 only
 * if the lockdown failed (nothing of the guest has run then).
 */
int spt_run(const struct spt_fds *fds, uint64_t entry, uint64_t stack_top, uint64_t boot);

/*
 * Prints the seccomp filter as a readable listing on stdout (for
 * --show-filter): what the guest may call, with which arguments.  0, or
 * -1 if it cannot be built.
 */
int spt_print_filter(const struct spt_fds *fds);

#endif
