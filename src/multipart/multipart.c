/*
 * The multipart engine: finds delimiters, collects part headers, hands
 * part data to the decoder.  See include/uweb/multipart.h.
 *
 * The data path tests 32 positions at a time for a CR with the
 * delimiter's last byte where it would end (find_candidate) and compares
 * the delimiter only there, so large parts move at memory speed and part
 * data is handed out as pointers into the caller's chunk.  A chunk ending in a
 * prefix of the delimiter leaves only a count behind (lb_len): the held
 * bytes are always the first lb_len bytes of the delimiter itself, so they
 * can be re-emitted from levels[].delim when the match fails.  A delimiter
 * holds one CR (boundaries have none), so a failed match can resume right
 * after the held bytes.
 *
 * At the start of a body (and of each part's data) the CRLF that begins a
 * delimiter may be the one that ended the previous line; lb_virtual marks a
 * held "\r\n" that is not data and is dropped, not emitted, on mismatch.
 */
#include <string.h>

#include "mp_internal.h"

static const uw_mp_limits default_limits = {
    .max_parts = 1000,
    .max_header_bytes = 4096,
    .max_header_lines = 32,
    .max_depth = 4,
    .max_preamble_bytes = 16384,
};

uw_mp_err mp_fail(uw_mp_parser *mp, uw_mp_err err)
{
    mp->err = err;
    mp->state = MP_ST_ERROR;
    return err;
}

const char *uw_mp_strerror(uw_mp_err err)
{
    switch (err) {
    case UW_MP_OK: return "ok";
    case UW_MP_E_CONTENT_TYPE: return "Content-Type is not multipart";
    case UW_MP_E_BOUNDARY: return "missing or invalid multipart boundary";
    case UW_MP_E_DELIMITER: return "malformed boundary delimiter line";
    case UW_MP_E_HEADER: return "malformed part header";
    case UW_MP_E_ENCODING: return "bad or unsupported Content-Transfer-Encoding";
    case UW_MP_E_TRUNCATED: return "multipart body truncated (no close delimiter)";
    case UW_MP_E_LIMIT_PARTS: return "too many parts";
    case UW_MP_E_LIMIT_HEADER_BYTES: return "part header block too long";
    case UW_MP_E_LIMIT_HEADER_LINES: return "too many part header lines";
    case UW_MP_E_LIMIT_DEPTH: return "multipart nested too deeply";
    case UW_MP_E_LIMIT_PREAMBLE: return "preamble or epilogue too long";
    case UW_MP_E_ABORTED: return "aborted by a callback";
    case UW_MP_E_INVALID: return "invalid argument";
    }
    return "unknown multipart error";
}

int uw_mp_err_is_limit(uw_mp_err err)
{
    return err >= UW_MP_E_LIMIT_PARTS && err <= UW_MP_E_LIMIT_PREAMBLE;
}

static void set_delim(uw_mp_level *lv, const char *b, size_t blen)
{
    memcpy(lv->delim, "\r\n--", 4);
    memcpy(lv->delim + 4, b, blen);
    lv->delim_len = (uint8_t)(4 + blen);
}

uw_mp_err uw_mp_init(uw_mp_parser *mp, const char *content_type, size_t len,
                     const uw_mp_limits *limits, const uw_mp_callbacks *cb, void *user)
{
    if (!mp || (!content_type && len)) return UW_MP_E_INVALID;
    memset(mp, 0, offsetof(uw_mp_parser, out));
    uw_mp_limits lim = limits ? *limits : default_limits;
    if (!lim.max_parts) lim.max_parts = default_limits.max_parts;
    if (!lim.max_header_bytes) lim.max_header_bytes = default_limits.max_header_bytes;
    if (!lim.max_header_lines) lim.max_header_lines = default_limits.max_header_lines;
    if (!lim.max_depth) lim.max_depth = default_limits.max_depth;
    if (!lim.max_preamble_bytes) lim.max_preamble_bytes = default_limits.max_preamble_bytes;
    if (lim.max_depth > UW_MP_DEPTH_MAX || lim.max_header_bytes > UW_MP_HEADER_BYTES_MAX)
        return mp_fail(mp, UW_MP_E_INVALID);
    mp->limits = lim;
    if (cb) mp->cb = *cb;
    mp->user = user;
    char b[UW_MP_BOUNDARY_MAX + 1];
    size_t blen;
    uw_mp_err e = uw_mp_boundary(content_type, len, b, &blen);
    if (e) return mp_fail(mp, e);
    set_delim(&mp->levels[0], b, blen);
    mp->state = MP_ST_SCAN;
    mp->mode = MP_MODE_PREAMBLE;
    mp->lb_len = 2;
    mp->lb_virtual = 1;
    return UW_MP_OK;
}

uw_mp_err mp_deliver(uw_mp_parser *mp, const void *data, size_t n)
{
    if (n == 0 || !mp->cb.part_data) return UW_MP_OK;
    if (mp->cb.part_data(mp->user, &mp->levels[mp->level].part, data, n))
        return mp_fail(mp, UW_MP_E_ABORTED);
    return UW_MP_OK;
}

/* Bytes between delimiters: part data, or a preamble/epilogue to count. */
static uw_mp_err emit(uw_mp_parser *mp, const unsigned char *p, size_t n)
{
    if (n == 0) return UW_MP_OK;
    if (mp->mode == MP_MODE_DATA) {
        if (mp->levels[mp->level].part.encoding == UW_MP_ENC_IDENTITY)
            return mp_deliver(mp, p, n);
        return mp_decode(mp, p, n);
    }
    mp->discarded += n;
    if (mp->discarded > mp->limits.max_preamble_bytes)
        return mp_fail(mp, UW_MP_E_LIMIT_PREAMBLE);
    return UW_MP_OK;
}

static uw_mp_err part_end(uw_mp_parser *mp, uw_mp_level *lv)
{
    lv->part_open = 0;
    if (mp->cb.part_end && mp->cb.part_end(mp->user, &lv->part))
        return mp_fail(mp, UW_MP_E_ABORTED);
    return UW_MP_OK;
}

/* A delimiter of the current level was matched. */
static uw_mp_err delimiter_found(uw_mp_parser *mp)
{
    uw_mp_level *lv = &mp->levels[mp->level];
    mp->lb_len = 0;
    mp->lb_virtual = 0;
    mp->state = MP_ST_DELIM;
    mp->discarded = 0;
    if (mp->mode == MP_MODE_DATA) {
        uw_mp_err e = UW_MP_OK;
        if (lv->part.encoding != UW_MP_ENC_IDENTITY) e = mp_decode_end(mp);
        return e ? e : part_end(mp, lv);
    }
    if (mp->mode == MP_MODE_EPILOGUE) return part_end(mp, lv);
    return UW_MP_OK;
}

/*
 * The first i >= from where the delimiter d (n bytes) may start: a CR
 * with d's last byte n - 1 bytes later, or, near the end of the chunk,
 * any CR (a partial match).  Returns len when there is none.  Testing two
 * bytes far apart lets text with many lines go by without stopping at
 * each CR.  With SSE2 (x86-64 builds, not the no-SSE unikernel one) 32
 * positions are tested per step; else memchr finds each CR.
 * UW_MP_NO_SIMD forces the second, for its tests.
 */
#if defined(__SSE2__) && !defined(UW_MP_NO_SIMD)
typedef char mp_v16 __attribute__((vector_size(16)));

/* Bit k set when a[k] == x and b[k] == y, for 16 bytes at a and at b. */
static inline unsigned pair_mask(const unsigned char *a, const unsigned char *b, mp_v16 x, mp_v16 y)
{
    mp_v16 va, vb;
    memcpy(&va, a, 16);
    memcpy(&vb, b, 16);
    return (unsigned)__builtin_ia32_pmovmskb128((va == x) & (vb == y));
}

static size_t find_candidate(const unsigned char *p, size_t i, size_t len, const char *d, size_t n)
{
    const mp_v16 cr = (mp_v16){ 0 } + '\r', last = (mp_v16){ 0 } + d[n - 1];
    while (len - i >= n - 1 + 32) {
        const unsigned char *a = p + i, *b = p + i + n - 1;
        unsigned bits = pair_mask(a, b, cr, last) | pair_mask(a + 16, b + 16, cr, last) << 16;
        if (bits) return i + (size_t)__builtin_ctz(bits);
        i += 32;
    }
    for (; i < len; i++)
        if (p[i] == '\r' && (len - i < n || p[i + n - 1] == (unsigned char)d[n - 1])) return i;
    return len;
}
#else
static size_t find_candidate(const unsigned char *p, size_t i, size_t len, const char *d, size_t n)
{
    for (;;) {
        const unsigned char *c = memchr(p + i, '\r', len - i);
        if (!c) return len;
        i = (size_t)(c - p);
        if (len - i < n || p[i + n - 1] == (unsigned char)d[n - 1]) return i;
        i++;
    }
}
#endif

/* Searches for the delimiter; returns the bytes consumed. */
static size_t scan(uw_mp_parser *mp, const unsigned char *p, size_t len)
{
    const uw_mp_level *lv = &mp->levels[mp->level];
    const char *d = lv->delim;
    size_t n = lv->delim_len;
    if (mp->lb_len) {
        size_t k = mp->lb_len, need = n - k, m = need < len ? need : len;
        if (memcmp(p, d + k, m) == 0) {
            if (m == need) { delimiter_found(mp); return m; }
            mp->lb_len += (uint32_t)m;
            return m;
        }
        /* A virtual CRLF is not data; what matched after it is. */
        size_t skip = mp->lb_virtual ? 2 : 0;
        mp->lb_len = 0;
        mp->lb_virtual = 0;
        if (emit(mp, (const unsigned char *)d + skip, k - skip)) return 0;
    }
    size_t start = 0, i = 0;
    for (;;) {
        i = find_candidate(p, i, len, d, n);
        if (i == len) {
            emit(mp, p + start, len - start);
            return len;
        }
        size_t avail = len - i;
        if (avail >= n) {
            if (memcmp(p + i + 1, d + 1, n - 2) == 0) {
                if (emit(mp, p + start, i - start)) return 0;
                delimiter_found(mp);
                return i + n;
            }
        } else if (memcmp(p + i + 1, d + 1, avail - 1) == 0) {
            if (emit(mp, p + start, i - start)) return 0;
            mp->lb_len = (uint32_t)avail;
            return len;
        }
        i++;
    }
}

static uw_mp_err begin_headers(uw_mp_parser *mp)
{
    if (mp->parts >= mp->limits.max_parts) return mp_fail(mp, UW_MP_E_LIMIT_PARTS);
    mp->parts++;
    mp->hdr_len = 0;
    mp->hdr_lines = 0;
    mp->hdr_line_start = 0;
    mp->state = MP_ST_HEADERS;
    return UW_MP_OK;
}

/* The header block is complete: describe the part, start its body. */
static uw_mp_err end_headers(uw_mp_parser *mp)
{
    uw_mp_level *lv = &mp->levels[mp->level];
    uw_mp_part *part = &lv->part;
    uw_mp_err e = mp_parse_headers(mp);
    if (e) return e;
    part->parent = mp->level ? &mp->levels[mp->level - 1].part : NULL;
    part->depth = mp->level;
    part->index = lv->siblings++;
    part->number = mp->parts - 1;
    lv->part_open = 1;
    mp->discarded = 0;
    mp->state = MP_ST_SCAN;
    mp->lb_len = 2;
    mp->lb_virtual = 1;
    if (part->is_multipart) {
        if (mp->level + 1u >= mp->limits.max_depth) return mp_fail(mp, UW_MP_E_LIMIT_DEPTH);
        if (mp->cb.part_begin && mp->cb.part_begin(mp->user, part))
            return mp_fail(mp, UW_MP_E_ABORTED);
        uw_mp_level *child = &mp->levels[mp->level + 1];
        set_delim(child, part->boundary, strlen(part->boundary));
        child->arena_base = lv->arena_end;
        child->siblings = 0;
        child->part_open = 0;
        mp->level++;
        mp->mode = MP_MODE_PREAMBLE;
        return UW_MP_OK;
    }
    mp->mode = MP_MODE_DATA;
    mp_decode_start(mp);
    if (mp->cb.part_begin && mp->cb.part_begin(mp->user, part))
        return mp_fail(mp, UW_MP_E_ABORTED);
    return UW_MP_OK;
}

/* Collects header bytes; returns the bytes consumed. */
static size_t headers(uw_mp_parser *mp, const unsigned char *p, size_t len)
{
    uw_mp_level *lv = &mp->levels[mp->level];
    size_t cap = mp->limits.max_header_bytes;
    if (cap > UW_MP_ARENA_SIZE - lv->arena_base) cap = UW_MP_ARENA_SIZE - lv->arena_base;
    char *blk = mp->arena + lv->arena_base;
    size_t used = 0;
    while (used < len) {
        const unsigned char *nl = memchr(p + used, '\n', len - used);
        size_t take = nl ? (size_t)(nl - (p + used)) + 1 : len - used;
        if (mp->hdr_len + take > cap) {
            mp_fail(mp, UW_MP_E_LIMIT_HEADER_BYTES);
            return used;
        }
        memcpy(blk + mp->hdr_len, p + used, take);
        mp->hdr_len += (uint32_t)take;
        used += take;
        if (!nl) break;
        size_t line = mp->hdr_len - mp->hdr_line_start;
        if (line < 2 || blk[mp->hdr_len - 2] != '\r') {
            mp_fail(mp, UW_MP_E_HEADER);
            return used;
        }
        if (line == 2) {                 /* the empty line ending the block */
            end_headers(mp);
            return used;
        }
        if (++mp->hdr_lines > mp->limits.max_header_lines) {
            mp_fail(mp, UW_MP_E_LIMIT_HEADER_LINES);
            return used;
        }
        mp->hdr_line_start = mp->hdr_len;
    }
    return used;
}

/* After a close delimiter: the level ends. */
static void close_level(uw_mp_parser *mp)
{
    mp->discarded = 0;
    if (mp->level == 0) {
        mp->state = MP_ST_DONE;
        mp->mode = MP_MODE_EPILOGUE;
        return;
    }
    mp->level--;
    mp->mode = MP_MODE_EPILOGUE;
    mp->state = MP_ST_SCAN;
    mp->lb_len = 0;
    mp->lb_virtual = 0;
}

uw_mp_err uw_mp_feed(uw_mp_parser *mp, const void *buf, size_t len)
{
    if (!mp) return UW_MP_E_INVALID;
    if (mp->err) return mp->err;
    if (!buf && len) return mp_fail(mp, UW_MP_E_INVALID);
    const unsigned char *p = buf;
    size_t i = 0;
    while (i < len && !mp->err) {
        unsigned char c = p[i];
        switch (mp->state) {
        case MP_ST_SCAN:
            i += scan(mp, p + i, len - i);
            break;
        case MP_ST_HEADERS:
            i += headers(mp, p + i, len - i);
            break;
        case MP_ST_DELIM:
            i++;
            if (c == '-') mp->state = MP_ST_DELIM_DASH;
            else if (c == ' ' || c == '\t') mp->state = MP_ST_PAD;
            else if (c == '\r') mp->state = MP_ST_CR;
            else mp_fail(mp, UW_MP_E_DELIMITER);
            break;
        case MP_ST_DELIM_DASH:
            i++;
            if (c == '-') close_level(mp);
            else mp_fail(mp, UW_MP_E_DELIMITER);
            break;
        case MP_ST_PAD:
            i++;
            if (c == '\r') mp->state = MP_ST_CR;
            else if (c != ' ' && c != '\t') mp_fail(mp, UW_MP_E_DELIMITER);
            else if (++mp->discarded > mp->limits.max_preamble_bytes)
                mp_fail(mp, UW_MP_E_LIMIT_PREAMBLE);
            break;
        case MP_ST_CR:
            i++;
            if (c == '\n') begin_headers(mp);
            else mp_fail(mp, UW_MP_E_DELIMITER);
            break;
        case MP_ST_DONE:
            mp->discarded += len - i;
            i = len;
            if (mp->discarded > mp->limits.max_preamble_bytes)
                mp_fail(mp, UW_MP_E_LIMIT_PREAMBLE);
            break;
        default:
            return mp->err ? mp->err : mp_fail(mp, UW_MP_E_INVALID);
        }
    }
    return mp->err;
}

uw_mp_err uw_mp_finish(uw_mp_parser *mp)
{
    if (!mp) return UW_MP_E_INVALID;
    if (mp->err) return mp->err;
    if (mp->state != MP_ST_DONE) return mp_fail(mp, UW_MP_E_TRUNCATED);
    return UW_MP_OK;
}
