/*
 * multipart.h — a streaming multipart/form-data parser (RFC 7578 on the
 * RFC 2046 grammar).
 *
 * What it is for: reading an upload body as it arrives, in chunks of any
 * size, without ever holding a whole part.  The parser is a protocol
 * engine: it does no I/O.  The caller feeds it the bytes of the request
 * body; it calls back at each part's start, with each run of the part's
 * (decoded) data, and at each part's end.
 *
 * Memory: the caller owns the uw_mp_parser (about 20 KiB, fixed: put it in
 * the request's arena or a task's frame with room, not on a tiny stack) and
 * every buffer it feeds.  The parser never allocates.  Data pointers given
 * to callbacks point into the caller's buffer or into the parser and are
 * valid only during the callback.  uw_mp_part records, and the strings
 * they point to, live inside the parser and are valid from the part_begin
 * callback to the part_end callback of that part (so a part's `parent` is
 * valid while its children are parsed).  Do not move or copy a parser that
 * is in use.
 *
 * Calling pattern (an upload handler zipping each file part, zip.h):
 *
 *     // A file part; a plain field has no filename, and a browser sends
 *     // filename="" for a file input left empty.
 *     static int is_file(const uw_mp_part *p) { return p->filename && p->filename[0]; }
 *
 *     static int begin(void *z, const uw_mp_part *p)
 *     {
 *         return is_file(p) && uw_zip_entry_begin(z, p->filename, strlen(p->filename),
 *                                                 mtime, UW_ZIP_SIZE_UNKNOWN) != UW_ZIP_OK;
 *     }
 *     static int data(void *z, const uw_mp_part *p, const void *d, size_t n)
 *     {
 *         return is_file(p) && uw_zip_entry_write(z, d, n) != UW_ZIP_OK;
 *     }
 *     static int end(void *z, const uw_mp_part *p)
 *     {
 *         return is_file(p) && uw_zip_entry_end(z) != UW_ZIP_OK;
 *     }
 *
 *     uw_mp_callbacks cb = { begin, data, end };
 *     uw_mp_err e = uw_mp_init(&mp, content_type_value, ct_len, NULL, &cb, zip);
 *     while (e == UW_MP_OK && (n = read_body(buf, sizeof buf)) > 0)
 *         e = uw_mp_feed(&mp, buf, n);
 *     if (e == UW_MP_OK) e = uw_mp_finish(&mp);   // at the end of the body
 *     if (e != UW_MP_OK) answer 400 with uw_mp_strerror(e)
 *                        (413 when uw_mp_err_is_limit(e))
 *
 * Callbacks run inside uw_mp_feed, on the caller's stack, so they may wait
 * (suspend the calling coroutine); they must not call uw_mp_feed or
 * uw_mp_finish on the same parser.  A callback returning non-zero stops
 * parsing: that feed returns UW_MP_E_ABORTED, and so does every later call.
 *
 * Events: part_begin for every part, in order; for a part whose type is
 * multipart/... (is_multipart) its children follow (depth + 1, parent set)
 * and it gets no data; a leaf part gets zero or more part_data calls; then
 * part_end.  Any split of the same body into chunks gives the same events
 * and the same data bytes (only the sizes of the data runs differ).  After
 * an error no more callbacks are made; parts begun and not ended are
 * simply abandoned.
 *
 * Accepted input: preamble and epilogue are ignored; spaces and tabs after
 * a boundary delimiter are skipped; lines end with CRLF.  A delimiter
 * ("CRLF--boundary") followed by anything other than "--", padding or CRLF
 * is an error (RFC 2046 forbids the delimiter inside a body).  Since a
 * body line must not start with "--boundary", a part whose header block
 * is followed at once by "--boundary" is an empty part.  Header lines may
 * be folded.  Content-Transfer-Encoding base64 and
 * quoted-printable are decoded; 7bit, 8bit and binary pass through; any
 * other is an error.  A nested multipart must carry its own boundary.
 *
 * Backslashes in quoted parameter values (names and filenames): browsers
 * and curl -F (7.81 and later) send a name as it is, backslashes raw, and
 * write `"` as %22 (kept as sent: %22 is not decoded); curl --form-escape
 * and older curl escape `"` and `\` with a backslash.  So in a quoted
 * string `\"` stands for `"` and `\\` for `\`, and any other backslash is
 * itself (`filename="a\b"` is `a\b`, `"C:\dir\f"` is `C:\dir\f`).  A
 * Content-Disposition that does not parse that way (a browser's
 * `filename="a\"` for a file named `a\`) is read again with every backslash
 * itself and the first `"` ending each string.  The one ambiguity left: a
 * browser's raw `a\\b` reads as `a\b` (the ZIP writer makes "a/b" of both).
 */
#ifndef UWEB_MULTIPART_H
#define UWEB_MULTIPART_H

#include <stddef.h>
#include <stdint.h>

/* Errors.  Every function returns one; errors are sticky. */
typedef enum uw_mp_err {
    UW_MP_OK = 0,
    UW_MP_E_CONTENT_TYPE,       /* the body's Content-Type is not multipart/... */
    UW_MP_E_BOUNDARY,           /* boundary parameter missing, empty, > 70 chars or bad chars */
    UW_MP_E_DELIMITER,          /* a delimiter line not followed by "--", padding or CRLF */
    UW_MP_E_HEADER,             /* a malformed part header */
    UW_MP_E_ENCODING,           /* bad base64, or an unknown Content-Transfer-Encoding */
    UW_MP_E_TRUNCATED,          /* the body ended before its close delimiter (from finish) */
    UW_MP_E_LIMIT_PARTS,        /* more parts than limits.max_parts */
    UW_MP_E_LIMIT_HEADER_BYTES, /* a part's header block longer than limits.max_header_bytes */
    UW_MP_E_LIMIT_HEADER_LINES, /* a part with more header lines than limits.max_header_lines */
    UW_MP_E_LIMIT_DEPTH,        /* multipart nested deeper than limits.max_depth */
    UW_MP_E_LIMIT_PREAMBLE,     /* a preamble or epilogue longer than limits.max_preamble_bytes */
    UW_MP_E_ABORTED,            /* a callback returned non-zero */
    UW_MP_E_INVALID,            /* misuse: NULL argument, bad limits */
} uw_mp_err;

/* A short English description of an error ("part header block too long"). */
const char *uw_mp_strerror(uw_mp_err err);

/* Nonzero when err is one of the UW_MP_E_LIMIT_* (an HTTP server answers 413). */
int uw_mp_err_is_limit(uw_mp_err err);

#define UW_MP_BOUNDARY_MAX 70         /* RFC 2046 */
#define UW_MP_DEPTH_MAX 8             /* hard cap on limits.max_depth */
#define UW_MP_HEADER_BYTES_MAX 8192   /* hard cap on limits.max_header_bytes */
#define UW_MP_ARENA_SIZE 16384        /* header storage shared by all open levels */
#define UW_MP_DECODE_BUF 2048         /* decoded data is delivered in runs of at most this */

/*
 * Limits.  Zero in a field means its default.  Header storage of all the
 * parts open at once (a part and its ancestors) shares UW_MP_ARENA_SIZE
 * bytes; running out counts as UW_MP_E_LIMIT_HEADER_BYTES.
 */
typedef struct uw_mp_limits {
    uint32_t max_parts;          /* parts in the whole body, nested ones included; default 1000 */
    uint32_t max_header_bytes;   /* bytes of one part's header block, CRLFs included; default 4096 */
    uint32_t max_header_lines;   /* header lines of one part (folded lines count); default 32 */
    uint32_t max_depth;          /* multipart bodies nested in each other, the top one
                                    included (1: no nested multipart); default 4 */
    uint64_t max_preamble_bytes; /* each preamble and each epilogue; default 16384 */
} uw_mp_limits;

/* How a part's data was encoded on the wire (it is delivered decoded). */
typedef enum uw_mp_encoding {
    UW_MP_ENC_IDENTITY = 0,      /* none, 7bit, 8bit or binary */
    UW_MP_ENC_BASE64,
    UW_MP_ENC_QUOTED_PRINTABLE,
} uw_mp_encoding;

/*
 * One part.  Strings are NUL-terminated; those from the peer are untrusted
 * (a filename may hold "/", "..", or any UTF-8).
 */
typedef struct uw_mp_part {
    const struct uw_mp_part *parent; /* the multipart part containing this one; NULL at depth 0 */
    unsigned depth;              /* 0 for the parts of the top-level body */
    unsigned index;              /* position among its siblings, from 0 */
    unsigned number;             /* position in the whole body (document order), from 0 */
    int is_multipart;            /* its body is a nested multipart: children follow, no data */
    const char *disposition;     /* Content-Disposition type, lowercased ("form-data"); "" if none */
    const char *name;            /* the "name" parameter; NULL if absent */
    const char *filename;        /* "filename*" (RFC 5987, percent-decoded, UTF-8; or its
                                    RFC 2231 continuations filename*0*, filename*1, ...) if
                                    usable, else "filename" (backslashes as described
                                    above); NULL if absent; "" from a browser's empty
                                    file input */
    const char *content_type;    /* media type lowercased, no parameters; "text/plain" if absent */
    const char *charset;         /* Content-Type's charset parameter; NULL if absent */
    const char *boundary;        /* for a multipart part, its boundary; else NULL */
    uw_mp_encoding encoding;     /* Content-Transfer-Encoding */
    unsigned header_count;       /* header lines, after unfolding */
    const char *headers_;        /* internal: "name\0value\0" x header_count (use uw_mp_header) */
} uw_mp_part;

/* Callbacks; any may be NULL.  Return 0 to go on, non-zero to abort. */
typedef struct uw_mp_callbacks {
    int (*part_begin)(void *user, const uw_mp_part *part);
    int (*part_data)(void *user, const uw_mp_part *part, const void *data, size_t len);
    int (*part_end)(void *user, const uw_mp_part *part);
} uw_mp_callbacks;

/* The parser.  Opaque: read it only through the functions below. */
typedef struct uw_mp_level {
    uw_mp_part part;             /* the current part of this level */
    char delim[4 + UW_MP_BOUNDARY_MAX]; /* "\r\n--" boundary */
    uint8_t delim_len;
    uint8_t part_open;
    uint32_t arena_base;         /* where this level's part headers start */
    uint32_t arena_end;          /* end of the current part's header storage */
    uint32_t siblings;           /* parts begun at this level */
} uw_mp_level;

typedef struct uw_mp_parser {
    uw_mp_callbacks cb;
    void *user;
    uw_mp_limits limits;
    uw_mp_err err;
    uint8_t state, mode, level, lb_virtual;
    uint32_t lb_len;             /* bytes of the delimiter matched at the end of the last chunk */
    uint64_t discarded;          /* bytes of the current preamble/epilogue */
    uint32_t parts;
    uint32_t hdr_len, hdr_lines, hdr_line_start; /* header block being collected */
    uint32_t dec_state, dec_acc, dec_count; /* decoder of the current part */
    uint8_t dec_pending[80];
    uint32_t dec_pending_len;
    uw_mp_level levels[UW_MP_DEPTH_MAX];
    unsigned char out[UW_MP_DECODE_BUF];
    char arena[UW_MP_ARENA_SIZE];
} uw_mp_parser;

/*
 * Finds and checks the boundary of a Content-Type header value such as
 * `multipart/form-data; boundary="--x y"` (a token or quoted string of 1-70
 * RFC 2046 bchars, not ending in a space).  Copies it, NUL-terminated, to
 * out (UW_MP_BOUNDARY_MAX + 1 bytes) and its length to *out_len.  Returns
 * UW_MP_OK, UW_MP_E_CONTENT_TYPE (not multipart/...) or UW_MP_E_BOUNDARY.
 */
uw_mp_err uw_mp_boundary(const char *content_type, size_t len,
                         char out[UW_MP_BOUNDARY_MAX + 1], size_t *out_len);

/*
 * Prepares mp for one body whose Content-Type value is content_type (len
 * bytes, no NUL needed).  limits may be NULL (defaults); limits above the
 * hard caps give UW_MP_E_INVALID.  cb is copied; user is passed to each
 * callback.  Returns UW_MP_OK or the error of uw_mp_boundary.
 */
uw_mp_err uw_mp_init(uw_mp_parser *mp, const char *content_type, size_t len,
                     const uw_mp_limits *limits, const uw_mp_callbacks *cb, void *user);

/*
 * Parses the next len bytes of the body, calling back as parts begin, have
 * data and end.  Consumes all of buf, keeping at most a partial delimiter
 * (a few dozen bytes) inside mp.  Bytes after the close delimiter are
 * ignored as the epilogue.  Returns UW_MP_OK or an error.
 */
uw_mp_err uw_mp_feed(uw_mp_parser *mp, const void *buf, size_t len);

/*
 * Ends the body.  UW_MP_OK when the top-level close delimiter was seen,
 * else UW_MP_E_TRUNCATED (or the earlier error).
 */
uw_mp_err uw_mp_finish(uw_mp_parser *mp);

/*
 * The value of part's first header called name (case-insensitive), with
 * surrounding whitespace removed and folding undone; NULL if none.  Valid
 * as long as part.
 */
const char *uw_mp_header(const uw_mp_part *part, const char *name);

/*
 * The i-th header (0 <= i < part->header_count): sets *name and *value;
 * returns 0, or -1 when i is out of range.
 */
int uw_mp_header_at(const uw_mp_part *part, unsigned i, const char **name, const char **value);

#endif
