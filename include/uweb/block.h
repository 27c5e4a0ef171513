/*
 * block.h — block devices an app declared, on every target.
 *
 * An app names its block devices ("tls", "site", "store", ...):
 *
 *   unix      a file given on the command line, --block:NAME=FILE (uw_main
 *             calls uw_block_attach for each), or by the app itself with
 *             uw_block_attach; reads and writes are pread/pwrite, flush is
 *             fdatasync.
 *   spt, hvt  the block device NAME the app declared in its manifest
 *             (UK_MANIFEST_<app> := ... block:NAME in its build.mk) and the
 *             tender attached (uweb-spt --block:NAME=FILE).
 *
 * Every call is synchronous and suspends the whole process or guest for
 * its duration, not only the calling task: no other task runs until it
 * returns (a read from the host's page cache takes microseconds; a write
 * followed by uw_block_flush can take milliseconds).  Keep reads to what
 * a request needs and cache above this layer.
 *
 * Offsets and lengths must be multiples of the block size (512 or more, a
 * power of two) and stay within the device; a call that breaks a rule
 * returns UW_EINVAL and transfers nothing.  A device is used by one thread.
 */
#ifndef UWEB_BLOCK_H
#define UWEB_BLOCK_H

#include <stddef.h>
#include <stdint.h>

typedef struct uw_block uw_block;

struct uw_block_info {
    uint64_t size;        /* bytes; a multiple of block_size */
    uint32_t block_size;  /* bytes per block */
    int read_only;        /* 1: writes return UW_EINVAL */
};

/* uw_block_attach flags. */
#define UW_BLOCK_READ_ONLY 1

/*
 * unix: makes FILE the device NAME for later uw_block_open calls (a file
 * or a host block device; one whose size is not a non-zero multiple of
 * 512 is refused with UW_EINVAL, as the tenders refuse it; one that
 * cannot be opened, or opened for writing without UW_BLOCK_READ_ONLY,
 * with UW_EIO).  Attaching a name again replaces its file.  On spt and hvt the tender
 * attaches devices and this returns UW_EINVAL.
 */
int uw_block_attach(const char *name, const char *file, int flags);

/*
 * Opens the device NAME.  UW_OK and *out set, UW_EINVAL if no device of
 * that name was declared and attached, UW_ENOMEM.  Opening the same name
 * twice gives two handles on the same device.
 */
int uw_block_open(const char *name, uw_block **out);

void uw_block_info(const uw_block *b, struct uw_block_info *info);

/* Reads N bytes at OFFSET into BUF.  UW_OK, UW_EINVAL, UW_EIO. */
int uw_block_read(uw_block *b, uint64_t offset, void *buf, size_t n);

/* Writes N bytes from BUF at OFFSET.  UW_OK, UW_EINVAL, UW_EIO.  The data
 * is the device's (a later read sees it), durable only after a flush. */
int uw_block_write(uw_block *b, uint64_t offset, const void *buf, size_t n);

/* Makes every completed write durable on the host.  UW_OK or UW_EIO.
 * On spt and hvt it returns UW_OK and does nothing more: the platform ABI
 * has no flush call, and needs none: the tenders open block files with
 * O_DSYNC, so a completed write is already durable (across a guest crash
 * and a host crash or power loss, as far as the host's disk keeps what
 * its fdatasync acknowledged). */
int uw_block_flush(uw_block *b);

void uw_block_close(uw_block *b);

/*
 * Reads a whole small device into memory (a certificate, a CA bundle, a
 * config file): *len is the device's size minus trailing NUL bytes (a
 * file padded to the block size reads back as written).  Returns a
 * malloc'd buffer with a NUL after *len bytes, or NULL with UW_EINVAL /
 * UW_EIO / UW_ELIMIT (larger than MAX) in *status.
 */
char *uw_block_slurp(const char *name, size_t max, size_t *len, int *status);

#endif
