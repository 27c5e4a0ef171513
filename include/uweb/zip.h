/*
 * zip.h — a streaming ZIP writer.
 *
 * What it is for: building a ZIP archive while its input is still arriving
 * (an upload being read) and handing the archive out as it grows (a
 * response being written), with memory that stays flat whatever the sizes.
 * It is a protocol engine: it does no I/O.  Every byte of the archive goes
 * out through the caller's sink, in order: headers and deflated data
 * gathered in chunks of up to 128 KiB, stored data of 16 KiB or more in
 * one call per uw_zip_entry_write straight from the caller's buffer.  The
 * whole archive is never held.
 *
 * Memory: the writer lives in memory it gets from one allocator hook (or
 * malloc/free): about 206 KiB of buffers, zlib's deflate state (about
 * 268 KiB with the default window_bits 15 and mem_level 8, allocated the
 * first time an entry is deflated) and the central directory, which must
 * be kept until uw_zip_finish: per entry a 56-byte record, 16 bytes of
 * name index and its name, and 28 bytes per directory the names imply
 * (arrays that double as they grow: at most twice that).  max_entries
 * and max_name_bytes bound it; past them uw_zip_entry_begin answers
 * UW_ZIP_ELIMIT.  The Unicode tables names are normalized with are 25 KiB
 * of constant data.  The caller owns the input buffers it passes; the writer
 * never keeps a pointer to them after a call returns.
 *
 * Calling pattern:
 *
 *     uw_zip *z;
 *     uw_zip_options o; uw_zip_options_default(&o);
 *     if (uw_zip_new(&z, &o, sink, sink_ctx) != UW_ZIP_OK) ...
 *     for each file:
 *         uw_zip_entry_begin(z, name, name_len, mtime, UW_ZIP_SIZE_UNKNOWN);
 *         uw_zip_entry_write(z, buf, len);      (any number of times)
 *         uw_zip_entry_end(z);
 *     uw_zip_finish(z);                          (central directory, end records)
 *     uw_zip_free(z);
 *
 * The sink is called from inside these functions and may block or suspend
 * the calling coroutine; a non-zero answer from it makes the call fail with
 * UW_ZIP_ESINK.
 *
 * Format: entries are deflated (raw deflate, level 1..9, default 6) or
 * stored.  The writer buffers the first 64 KiB of each entry (one buffer,
 * reused) and stores the entry when that much does not shrink by at least
 * 3 % (JPEG, PNG, ZIP, MP4 ... are not deflated again).  An entry that ends
 * within those 64 KiB is written with its sizes and CRC-32 in the local
 * header; a longer one has the data-descriptor flag (bit 3) and a data
 * descriptor with its signature after the data.  Names are UTF-8 (flag bit
 * 11); times are a DOS time (UTC) plus an extended-timestamp extra field
 * (0x5455).
 *
 * ZIP64 appears only when needed: in the central directory for an entry
 * whose sizes or offset reach 4 GiB, and as ZIP64 end records when the
 * archive has 65,535 entries or more or its central directory starts or
 * ends past 4 GiB.  A streamed entry's local header cannot know its final
 * size, so it carries a ZIP64 extra field (sizes 0, header sizes
 * 0xFFFFFFFF) and its data descriptor 8-byte sizes exactly when the entry
 * might reach 4 GiB: when the size hint given to uw_zip_entry_begin is
 * UW_ZIP_SIZE_UNKNOWN or near 4 GiB.  This is what Info-ZIP's zip does
 * when it streams; unzip, 7-Zip, libarchive and Python's zipfile read it.
 * An entry that passes 4 GiB after a hint said it would not fails with
 * UW_ZIP_ETOOBIG.
 *
 * Names are sanitized before use: backslashes become '/', a leading drive
 * letter ("C:"), empty, "." and ".." components are dropped (so no absolute
 * paths), control characters and invalid UTF-8 bytes become '_',
 * bidirectional controls (U+061C, U+200E, U+200F, U+202A..U+202E,
 * U+2066..U+2069, which let "gpj.exe" show as "exe.jpg") are dropped, the
 * name is normalized to NFC (its case kept), each component is cut to 200
 * bytes and the name to 1024; an empty result becomes "unnamed".  A name
 * equal to an earlier one gets a counter before its extension: "a.txt",
 * "a (1).txt", "a (2).txt"; so does a file named like a directory of an
 * earlier name ("a/b" then "a" -> "a (1)"), and a directory named like an
 * earlier file ("a" then "a/b" and "a/c" -> "a (1)/b", "a (1)/c"), so the
 * archive extracts without clashes.  Names are equal here when they are
 * canonically equivalent after Unicode simple case folding ("A.TXT" and
 * "a.txt", "\u00c4" and "\u00e4", "\u00e9" and "e\u0301"), so they do
 * not overwrite each other on case-insensitive file systems (Windows,
 * macOS) nor on normalization-insensitive ones (macOS).
 *
 * Errors: uw_zip_entry_begin's errors leave the archive as it was (the
 * caller may skip that entry and go on), and so does UW_ZIP_ESTATE from
 * any call.  Any other error is sticky: the archive already sent is
 * broken, every later call returns the same error, and the caller should
 * abort the output (and still call uw_zip_free).
 */
#ifndef UWEB_ZIP_H
#define UWEB_ZIP_H

#include <stddef.h>
#include <stdint.h>

typedef enum uw_zip_error {
    UW_ZIP_OK = 0,
    UW_ZIP_ENOMEM,   /* the allocator refused */
    UW_ZIP_ESINK,    /* the sink answered non-zero */
    UW_ZIP_ELIMIT,   /* max_entries or max_name_bytes reached */
    UW_ZIP_ESTATE,   /* call out of order (write outside an entry, ...) */
    UW_ZIP_ETOOBIG,  /* entry reached 4 GiB although its size hint said it would not */
    UW_ZIP_EINVAL,   /* an option out of range */
    UW_ZIP_EZLIB,    /* zlib failed unexpectedly */
} uw_zip_error;

/* Human-readable text for an error; never NULL. */
const char *uw_zip_strerror(uw_zip_error err);

/* The sink: receives the archive's bytes in order; returns 0, or non-zero
 * to fail the writer (UW_ZIP_ESINK). */
typedef int (*uw_zip_write_fn)(void *ctx, const void *buf, size_t len);

/* One allocator hook.  alloc returns NULL to refuse; free accepts NULL. */
typedef struct uw_zip_allocator {
    void *(*alloc)(void *ctx, size_t size);
    void (*free)(void *ctx, void *ptr);
    void *ctx;
} uw_zip_allocator;

typedef struct uw_zip_options {
    int level;              /* 0 (store everything) .. 9; default 6 */
    int window_bits;        /* deflate window 9..15; default 15 (32 KiB) */
    int mem_level;          /* zlib memLevel 1..9; default 8 */
    size_t max_entries;     /* default 100000 */
    size_t max_name_bytes;  /* total of the sanitized names; default 8 MiB */
    const uw_zip_allocator *allocator; /* NULL: malloc and free */
} uw_zip_options;

/* For uw_zip_entry_begin's size_hint: the entry's size is not known. */
#define UW_ZIP_SIZE_UNKNOWN UINT64_MAX

typedef struct uw_zip uw_zip;

/* Fills *o with the defaults above. */
void uw_zip_options_default(uw_zip_options *o);

/* Creates a writer sending its bytes to write(write_ctx, ...).  opts may
 * be NULL (defaults).  On success *out owns the writer; nothing is written
 * yet.  UW_ZIP_EINVAL for options out of range, UW_ZIP_ENOMEM. */
uw_zip_error uw_zip_new(uw_zip **out, const uw_zip_options *opts,
                        uw_zip_write_fn write, void *write_ctx);

/* Starts an entry.  name need not be NUL-terminated nor valid (see the
 * sanitizing rules above); mtime is seconds since 1970 (UTC); size_hint is
 * an upper bound of the entry's size, or UW_ZIP_SIZE_UNKNOWN.  Nothing is
 * sent yet: the local header waits until the method is chosen.  Errors
 * (ESTATE, ELIMIT, ENOMEM) leave the archive unchanged. */
uw_zip_error uw_zip_entry_begin(uw_zip *z, const char *name, size_t name_len,
                                int64_t mtime, uint64_t size_hint);

/* The sanitized, de-duplicated name of the entry begun last with success
 * (NUL-terminated, valid until uw_zip_free), or NULL before the first. */
const char *uw_zip_entry_name(const uw_zip *z);

/* Adds len bytes to the current entry.  May call the sink (or not, while
 * the first 64 KiB are buffered). */
uw_zip_error uw_zip_entry_write(uw_zip *z, const void *buf, size_t len);

/* Ends the current entry: the rest of its data and its data descriptor. */
uw_zip_error uw_zip_entry_end(uw_zip *z);

/* Ends the archive: the central directory and end records, then sends all
 * that is buffered.  An entry still open is ended first. */
uw_zip_error uw_zip_finish(uw_zip *z);

/* Bytes of archive produced so far (sent, or buffered to be sent). */
uint64_t uw_zip_bytes_out(const uw_zip *z);

/* Frees the writer and all it allocated; z may be NULL.  Sends nothing. */
void uw_zip_free(uw_zip *z);

#endif
