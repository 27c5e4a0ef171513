/*
 * Internals shared by the files of the multipart parser.
 */
#ifndef UWEB_MP_INTERNAL_H
#define UWEB_MP_INTERNAL_H

#include "uweb/multipart.h"

enum mp_state {
    MP_ST_SCAN,        /* looking for the current level's delimiter */
    MP_ST_DELIM,       /* just after "CRLF--boundary" */
    MP_ST_DELIM_DASH,  /* after the delimiter and one '-' */
    MP_ST_PAD,         /* transport padding after a delimiter */
    MP_ST_CR,          /* the CR ending a delimiter line */
    MP_ST_HEADERS,     /* collecting a part's header block */
    MP_ST_DONE,        /* top-level close delimiter seen: epilogue */
    MP_ST_ERROR,
};

enum mp_mode {
    MP_MODE_PREAMBLE,  /* before the first delimiter of the current level */
    MP_MODE_DATA,      /* inside a leaf part of the current level */
    MP_MODE_EPILOGUE,  /* after a nested close delimiter, inside its container part */
};

/* Sets the sticky error and returns it. */
uw_mp_err mp_fail(uw_mp_parser *mp, uw_mp_err err);

/* Hands n decoded bytes of the current leaf part to part_data. */
uw_mp_err mp_deliver(uw_mp_parser *mp, const void *data, size_t n);

/* Decoders of the current part (mp_decode.c): start, push bytes, end. */
void mp_decode_start(uw_mp_parser *mp);
uw_mp_err mp_decode(uw_mp_parser *mp, const unsigned char *p, size_t n);
uw_mp_err mp_decode_end(uw_mp_parser *mp);

/* Turns the collected header block of the current level's part into its
 * uw_mp_part record (mp_header.c).  Sets the part's arena_end. */
uw_mp_err mp_parse_headers(uw_mp_parser *mp);

/* Checks a boundary (1-70 bchars, not ending in a space). */
int mp_boundary_ok(const char *b, size_t len);

#endif
