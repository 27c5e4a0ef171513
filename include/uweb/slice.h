/*
 * slice.h — a borrowed run of bytes.
 *
 * A uw_slice points at bytes someone else owns (read-only data of an
 * embedded asset, a request arena, a caller's buffer).  Lists of slices are
 * how uweb sends a body without copying it: the HTTP server hands them to
 * one gathered write.
 */
#ifndef UWEB_SLICE_H
#define UWEB_SLICE_H

#include <stddef.h>

typedef struct uw_slice {
    const void *ptr;
    size_t len;
} uw_slice;

#define UW_SLICE_LIT(s) ((uw_slice){ (s), sizeof(s) - 1 })

#endif
