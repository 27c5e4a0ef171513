/*
 * store.h — a crash-safe record store on a block device (Pasteur's pastes).
 *
 * The device holds a superblock (block 0: magic, geometry, a random 16-byte
 * key chosen at format) and a circular log of records after it.  A record
 * is a 64-byte header at the start of a block and its data right after,
 * padded to whole blocks; it may wrap from the last block to the first of
 * the log.  The header carries a CRC32C keyed with the store's key, the
 * data a CRC32C of its own: a torn write (the process or the host dying
 * part-way through a record) leaves a record that fails its check and is
 * ignored, so the store reopens in the state of its last complete write.
 * The key also keeps a record forged inside a paste's own bytes from ever
 * being taken for a header.
 *
 * Writes go forward only.  A new record overwrites the oldest blocks of the
 * log; before that, a cleaner walks ahead of the write position: dead
 * records (deleted, burned, expired, superseded) are simply passed, a live
 * record that was read since it was last written is copied forward (a
 * second chance: least recently used pastes go first), and any other live
 * record is evicted (UW_STORE_EVICT, the default).  With UW_STORE_REFUSE
 * every live record is copied forward instead, and a write that would not
 * leave room for one largest record (max_record) beside the live ones is
 * refused with UW_STORE_EFULL, changing nothing: that room is what lets a
 * live record always be moved.  The cleaner keeps the same room free in
 * both modes.  A deletion or
 * a burn appends a tombstone, which always outlives the record it kills
 * (it lies after it in the log), so a deleted paste never comes back.
 *
 * uw_store_put, uw_store_delete and a burning uw_store_get flush the
 * device before they return UW_OK: what they acknowledged survives a
 * crash.
 *
 * Checkpoints: two slots at the end of the device (20 bytes per log
 * block each: 8% of a device of 512-byte blocks) hold the index as of a
 * point of the log, checksummed under the key, written alternately, so a
 * torn checkpoint leaves the previous one.  One is written at
 * uw_store_close, after every max(1024, records / 8) writes, and before
 * a write that would put more than a quarter of the log after the last
 * one.  uw_store_open reads the newest checkpoint that checks out and the
 * records written after it (at most about a quarter of the log); without
 * one, or when it does not match the log, it reads the whole log once.
 * A store of version 1 (no checkpoint slots) still opens, by a full
 * replay.
 *
 * Memory: the index holds a 20-byte hash slot (8/15 to 4/5 full, grown
 * by half) and a 12-byte log-order entry (at least 4/7 full after it
 * grows) per live record: 39 to 52 bytes per record measured from
 * 10,000 to 1,000,000 records (bench/store_open.c), under 64 at every
 * count; nothing of the data; uw_store_get returns a malloc'd copy of
 * one record.  One thread; the block calls are synchronous, so
 * every call here is atomic with respect to the other tasks of a uweb
 * process: of two concurrent uw_store_get of a burn-after-reading record,
 * exactly one gets it, and the tombstone is durable before it returns.
 *
 * Time is the caller's (seconds since the epoch, passed in), so tests can
 * move the clock.
 */
#ifndef UWEB_STORE_H
#define UWEB_STORE_H

#include <stddef.h>
#include <stdint.h>

struct uw_block;

/* The device, as the store sees it: uw_store_dev_block wraps a uw_block;
 * tests give a memory device that can be cut at any write. */
typedef struct uw_store_dev {
    void *ctx;
    int (*read)(void *ctx, uint64_t offset, void *buf, size_t n);
    int (*write)(void *ctx, uint64_t offset, const void *buf, size_t n);
    int (*flush)(void *ctx);
    uint64_t size;          /* bytes, a multiple of block_size */
    uint32_t block_size;    /* 512 or more, a power of two */
} uw_store_dev;

/* Fills dev with the operations of an open block device. */
void uw_store_dev_block(uw_store_dev *dev, struct uw_block *b);

/* Errors beside the runtime's UW_EIO, UW_EINVAL, UW_ENOMEM, UW_ELIMIT. */
enum {
    UW_STORE_ENOTFOUND = -200,  /* no such record, or expired */
    UW_STORE_EFULL = -201,      /* no room without evicting (UW_STORE_REFUSE) */
    UW_STORE_ECORRUPT = -202,   /* the device is not a store, or a record read back damaged */
    UW_STORE_EEXIST = -203,     /* a live record has this id */
};

enum { UW_STORE_EVICT = 0, UW_STORE_REFUSE = 1 };
enum { UW_STORE_FORMAT_NEVER = 0, UW_STORE_FORMAT_BLANK = 1, UW_STORE_FORMAT_ALWAYS = 2 };

/* Record flags. */
#define UW_STORE_BURN 1u    /* uw_store_get deletes it (atomically) */

typedef struct uw_store_options {
    int format;             /* _NEVER (default): refuse a device without a store;
                             * _BLANK: format a device whose block 0 is all zeros;
                             * _ALWAYS: format whatever is there */
    const uint8_t *key;     /* 16 bytes for a format (e.g. from uw_random); NULL: format refused */
    int full;               /* UW_STORE_EVICT (default) or UW_STORE_REFUSE */
    size_t max_record;      /* largest data accepted; 0: 16 MiB, and at most a quarter of the log */
    int replay_all;         /* 1: rebuild the index from the whole log, not from a checkpoint */
} uw_store_options;

typedef struct uw_store uw_store;

/* Mounts the store on dev (formatting it as o says) and rebuilds the index.
 * UW_OK and *out, UW_STORE_ECORRUPT (no store and no format allowed, or a
 * device too small), UW_EINVAL, UW_EIO, UW_ENOMEM.  now: for expiry. */
int uw_store_open(uw_store **out, const uw_store_dev *dev, const uw_store_options *o, int64_t now);

/* Adds a record.  expires: seconds since the epoch, 0 never.  UW_OK once
 * durable; UW_STORE_EEXIST, UW_ELIMIT (larger than max_record),
 * UW_STORE_EFULL, UW_EIO (then the record may or may not survive a
 * restart, and no other record was harmed), UW_ENOMEM. */
int uw_store_put(uw_store *s, uint64_t id, const void *data, size_t len, int64_t expires, unsigned flags);

/* Reads a record: *data (malloc'd, the caller frees), *len, *flags.  A
 * record with UW_STORE_BURN is deleted durably before this returns UW_OK;
 * it answers every later call UW_STORE_ENOTFOUND.  UW_STORE_ENOTFOUND,
 * UW_STORE_ECORRUPT (the record failed its check: dropped), UW_EIO, UW_ENOMEM. */
int uw_store_get(uw_store *s, uint64_t id, int64_t now, void **data, size_t *len, unsigned *flags);

/* Reads a record as uw_store_get does, without burning it or counting the
 * read for eviction (to check a delete token). */
int uw_store_peek(uw_store *s, uint64_t id, int64_t now, void **data, size_t *len, unsigned *flags);

/* Whether a live record has this id, and its flags and expiry; no I/O. */
int uw_store_stat(uw_store *s, uint64_t id, int64_t now, unsigned *flags, int64_t *expires);

/* Deletes a record durably.  UW_OK, UW_STORE_ENOTFOUND, UW_EIO (the record
 * is still there, in the index as on the device; so is a burn record whose
 * uw_store_get failed with UW_EIO). */
int uw_store_delete(uw_store *s, uint64_t id);

/* Drops expired records from the index (their space is reused by later
 * writes); no I/O.  Returns how many. */
size_t uw_store_sweep(uw_store *s, int64_t now);

struct uw_store_stats {
    uint64_t records;        /* live records */
    uint64_t live_bytes;     /* their blocks, in bytes */
    uint64_t log_bytes;      /* the log's size */
    uint64_t evicted;        /* since open */
    uint64_t copied;         /* copied forward since open */
    uint64_t torn;           /* records found damaged at open (full replay) */
    size_t max_record;
    uint64_t replayed;       /* records read from the log at open */
    int from_checkpoint;     /* 1: the open started from a checkpoint */
};
void uw_store_stats(const uw_store *s, struct uw_store_stats *st);

void uw_store_close(uw_store *s);

const char *uw_store_strerror(int err);

#endif
