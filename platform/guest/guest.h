/*
 * guest.h - what the common guest code (platform/guest/, platform/libc/)
 * and every target's bindings share inside a uweb unikernel.
 *
 * Not for applications: they use uw_platform.h and the libc headers.
 *
 * Calling pattern (the bindings' start code, see platform/README.md):
 *   1. set __stack_chk_guard to a random value (from a function that is not
 *      stack-protected and never returns);
 *   2. uw_guest_set_manifest(filled copy from the tender);
 *      uw_guest_set_seed(the tender's 32 seed bytes);
 *   3. ret = uw_plat_app_main(&start_info); uw_plat_exit(ret).
 * Then the binding's acquire/read/write functions look devices up with
 * uw_guest_device_find() and check handles with uw_guest_device_get().
 *
 * Memory: the manifest copy belongs to the tender's boot area and must
 * stay valid for the guest's life; nothing here allocates.
 */
#ifndef UW_GUEST_H
#define UW_GUEST_H

#include <stddef.h>
#include <stdint.h>
#include "uw_platform.h"

/* The stack-protector canary (-mstack-protector-guard=global). */
extern uintptr_t __stack_chk_guard;

/* Makes MANIFEST (the tender-filled copy, or NULL for none) the one the
 * device lookups below use. */
void uw_guest_set_manifest(const struct uw_plat_manifest *manifest);

/* The manifest set above, or NULL. */
const struct uw_plat_manifest *uw_guest_manifest(void);

/* The handle of the attached device NAME of TYPE (enum
 * uw_plat_device_type), or -1 if there is none. */
int64_t uw_guest_device_find(const char *name, uint32_t type);

/* The attached device of HANDLE if it has TYPE, else NULL: the check
 * every read/write call makes before touching a device. */
const struct uw_plat_device *uw_guest_device_get(uw_plat_handle_t handle, uint32_t type);

/* Keeps a copy of the tender's UW_PLAT_SEED_SIZE seed bytes for
 * uw_plat_seed() (platform/guest/seed.c, common to every target). */
void uw_guest_set_seed(const uint8_t *seed);

/* Hands [START, START + SIZE) to malloc; called once by uw_plat_app_main. */
void uwc_heap_init(void *start, size_t size);

/* Bytes of the heap malloc manages (0 before uwc_heap_init): what a
 * service sizes its memory budget from. */
size_t uwc_heap_size(void);

/*
 * Splits the command line LINE into at most MAX_ARGS words in BUF (SIZE
 * bytes): words are separated by spaces; "..." quotes, and inside quotes
 * \" and \\ stand for " and \.  Fills ARGV (MAX_ARGS + 1 entries, NULL
 * after the last word) and returns the word count, or -1 if the line does
 * not fit (too long, too many words, an unterminated quote).
 */
int uw_guest_split_cmdline(const char *line, char *buf, size_t size,
                           char **argv, int max_args);

#endif
