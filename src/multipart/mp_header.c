/*
 * Part headers of the multipart parser: the header block is unfolded and
 * split in place into "name\0value\0" entries; decoded parameters
 * (name, filename, types) are written right after, in the same arena.
 * Also the Content-Type parameter syntax shared with uw_mp_boundary.
 */
#include <string.h>
#include <strings.h>

#include "mp_internal.h"
#include "../util/util.h"

static int is_bchar(unsigned char c)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return 1;
    return c && strchr("'()+_,-./:=? ", c) != NULL;
}

int mp_boundary_ok(const char *b, size_t len)
{
    if (len < 1 || len > UW_MP_BOUNDARY_MAX || b[len - 1] == ' ') return 0;
    for (size_t i = 0; i < len; i++)
        if (!is_bchar((unsigned char)b[i])) return 0;
    return 1;
}

/* ---------------------------------------------------------------- values */

/*
 * Quoted strings: `\"` and `\\` are quoted pairs (curl --form-escape and
 * curl before 7.81 escape both so); any other backslash is itself, as
 * browsers and today's curl send names raw (they write `"` as %22).  A
 * value that does not parse so, like a browser's `filename="a\"` for a
 * file named `a\`, is read again raw: every backslash is itself and the
 * first `"` ends the string (see multipart.h).
 */
typedef struct cursor {
    const char *s, *end;
    int raw;                    /* backslashes are not escapes */
} cursor;

typedef struct param {
    const char *name, *val;
    size_t name_len, val_len;
    int quoted, raw;
} param;

/* Whether the backslash at s[0] (before end) escapes the next byte. */
static int quoted_pair(const char *s, const char *end, int raw)
{
    return !raw && s + 1 < end && (s[1] == '"' || s[1] == '\\');
}

static void skip_ows(cursor *c)
{
    while (c->s < c->end && (*c->s == ' ' || *c->s == '\t')) c->s++;
}

/* A type token ("form-data", "text/plain"); 0 or -1. */
static int read_type(cursor *c, const char **t, size_t *tl)
{
    skip_ows(c);
    *t = c->s;
    while (c->s < c->end && (uw__tchar((unsigned char)*c->s) || *c->s == '/')) c->s++;
    *tl = (size_t)(c->s - *t);
    return *tl ? 0 : -1;
}

/* The next `; name=value` (',' accepted as separator too): 1, 0 at the end, -1 malformed. */
static int next_param(cursor *c, param *pm)
{
    skip_ows(c);
    if (c->s >= c->end) return 0;
    if (*c->s != ';' && *c->s != ',') return -1;
    c->s++;
    skip_ows(c);
    if (c->s >= c->end) return 0;
    pm->name = c->s;
    while (c->s < c->end && uw__tchar((unsigned char)*c->s)) c->s++;
    pm->name_len = (size_t)(c->s - pm->name);
    if (!pm->name_len) return -1;
    skip_ows(c);
    if (c->s >= c->end || *c->s != '=') return -1;
    c->s++;
    skip_ows(c);
    if (c->s < c->end && *c->s == '"') {
        pm->val = ++c->s;
        for (;;) {
            if (c->s >= c->end) return -1;
            if (*c->s == '"') break;
            if (*c->s == '\\' && quoted_pair(c->s, c->end, c->raw)) c->s++;
            c->s++;
        }
        pm->val_len = (size_t)(c->s - pm->val);
        c->s++;
        pm->quoted = 1;
        pm->raw = c->raw;
    } else {
        pm->val = c->s;
        while (c->s < c->end && *c->s != ';' && *c->s != ',' && *c->s != ' ' && *c->s != '\t') c->s++;
        pm->val_len = (size_t)(c->s - pm->val);
        pm->quoted = 0;
    }
    return 1;
}

static int name_is(const param *pm, const char *name)
{
    return strlen(name) == pm->name_len && strncasecmp(pm->name, name, pm->name_len) == 0;
}

/* Copies a parameter's value, undoing quoted pairs; returns its length. */
static size_t unquote(const param *pm, char *out)
{
    const char *end = pm->val + pm->val_len;
    size_t o = 0;
    for (size_t i = 0; i < pm->val_len; i++) {
        if (pm->quoted && pm->val[i] == '\\' && quoted_pair(pm->val + i, end, pm->raw)) i++;
        out[o++] = pm->val[i];
    }
    return o;
}

uw_mp_err uw_mp_boundary(const char *content_type, size_t len,
                         char out[UW_MP_BOUNDARY_MAX + 1], size_t *out_len)
{
    if ((!content_type && len) || !out || !out_len) return UW_MP_E_INVALID;
    cursor c = { content_type, content_type + len, 0 };
    const char *t;
    size_t tl;
    if (read_type(&c, &t, &tl) || tl <= 10 || strncasecmp(t, "multipart/", 10) != 0)
        return UW_MP_E_CONTENT_TYPE;
    param pm;
    int r, found = 0;
    while ((r = next_param(&c, &pm)) == 1) {
        if (!name_is(&pm, "boundary")) continue;
        if (found || pm.val_len > 2 * UW_MP_BOUNDARY_MAX) return UW_MP_E_BOUNDARY;
        char tmp[2 * UW_MP_BOUNDARY_MAX];
        size_t n = unquote(&pm, tmp);
        if (!mp_boundary_ok(tmp, n)) return UW_MP_E_BOUNDARY;
        memcpy(out, tmp, n);
        out[n] = 0;
        *out_len = n;
        found = 1;
    }
    if (r < 0 || !found) return UW_MP_E_BOUNDARY;
    return UW_MP_OK;
}

/* ---------------------------------------------------------------- headers */

#define MAX_SEGMENTS 16     /* RFC 2231 continuations of a filename */

typedef struct arena {
    char *base;
    size_t pos, cap;
} arena;

/* Room for n bytes and a NUL, or NULL. */
static char *arena_room(arena *a, size_t n)
{
    if (n + 1 > a->cap - a->pos) return NULL;
    return a->base + a->pos;
}

static const char *arena_commit(arena *a, size_t n)
{
    char *s = a->base + a->pos;
    s[n] = 0;
    a->pos += n + 1;
    return s;
}

static const char *put_lower(arena *a, const char *s, size_t n)
{
    char *d = arena_room(a, n);
    if (!d) return NULL;
    for (size_t i = 0; i < n; i++) d[i] = (char)((s[i] >= 'A' && s[i] <= 'Z') ? s[i] + 32 : s[i]);
    return arena_commit(a, n);
}

static const char *put_param(arena *a, const param *pm)
{
    char *d = arena_room(a, pm->val_len);
    if (!d) return NULL;
    return arena_commit(a, unquote(pm, d));
}

static int utf8_ok(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        size_t k;
        uint32_t cp;
        if (c < 0x80) { i++; continue; }
        else if (c >= 0xC2 && c <= 0xDF) { k = 1; cp = c & 0x1F; }
        else if (c >= 0xE0 && c <= 0xEF) { k = 2; cp = c & 0x0F; }
        else if (c >= 0xF0 && c <= 0xF4) { k = 3; cp = c & 0x07; }
        else return 0;
        if (n - i <= k) return 0;
        for (size_t j = 1; j <= k; j++) {
            if ((s[i + j] & 0xC0) != 0x80) return 0;
            cp = (cp << 6) | (s[i + j] & 0x3F);
        }
        if ((k == 2 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) || (k == 3 && (cp < 0x10000 || cp > 0x10FFFF)))
            return 0;
        i += k + 1;
    }
    return 1;
}

/*
 * A filename from RFC 2231/5987 parameter segments (filename*, or
 * filename*0, filename*1*, ... in order): extended segments (ext[i]) are
 * percent-decoded, the first of them starts with charset'language'.  The
 * result is UTF-8 (ISO-8859-1 is converted); NULL when it is malformed,
 * not valid UTF-8 or in another charset (the caller falls back to
 * "filename").
 */
static const char *put_segments(arena *a, const param *seg, const int *ext, int count)
{
    size_t total = 0;
    for (int i = 0; i < count; i++) total += seg[i].val_len;
    char *d = arena_room(a, 2 * total);
    if (!d) return NULL;
    int latin1 = 0;
    size_t o = 0;
    for (int i = 0; i < count; i++) {
        const char *v = seg[i].val, *end = v + seg[i].val_len;
        if (i == 0 && ext[0]) {
            const char *q1 = memchr(v, '\'', (size_t)(end - v));
            const char *q2 = q1 ? memchr(q1 + 1, '\'', (size_t)(end - q1 - 1)) : NULL;
            if (!q2) return NULL;
            size_t cl = (size_t)(q1 - v);
            if (cl == 10 && strncasecmp(v, "iso-8859-1", 10) == 0) latin1 = 1;
            else if (cl != 5 || strncasecmp(v, "utf-8", 5) != 0) return NULL;
            v = q2 + 1;
        }
        while (v < end) {
            unsigned char c = (unsigned char)*v++;
            if (seg[i].quoted && c == '\\' && quoted_pair(v - 1, end, seg[i].raw)) {
                c = (unsigned char)*v++;
            } else if (ext[i] && c == '%') {
                int hi = end - v >= 2 ? uw__hexval((unsigned char)v[0]) : -1;
                int lo = end - v >= 2 ? uw__hexval((unsigned char)v[1]) : -1;
                if (hi < 0 || lo < 0) return NULL;
                c = (unsigned char)(hi << 4 | lo);
                v += 2;
            }
            if (c == 0) return NULL;
            if (latin1 && c >= 0x80) {
                d[o++] = (char)(0xC0 | (c >> 6));
                d[o++] = (char)(0x80 | (c & 0x3F));
            } else {
                d[o++] = (char)c;
            }
        }
    }
    if (!utf8_ok((const unsigned char *)d, o)) return NULL;
    return arena_commit(a, o);
}

/* "filename*N" or "filename*N*": N (0-15), *ext; -1 for other names. */
static int segment_index(const param *pm, int *ext)
{
    if (pm->name_len < 10 || strncasecmp(pm->name, "filename*", 9) != 0) return -1;
    size_t end = pm->name_len;
    *ext = pm->name[end - 1] == '*';
    if (*ext) end--;
    if (end <= 9 || end > 11 || (end == 11 && pm->name[9] == '0')) return -1;
    int n = 0;
    for (size_t i = 9; i < end; i++) {
        if (pm->name[i] < '0' || pm->name[i] > '9') return -1;
        n = n * 10 + (pm->name[i] - '0');
    }
    return n < MAX_SEGMENTS ? n : -1;
}

static const char *find_header(const char *h, unsigned count, const char *name)
{
    for (unsigned i = 0; i < count; i++) {
        const char *v = h + strlen(h) + 1;
        if (strcasecmp(h, name) == 0) return v;
        h = v + strlen(v) + 1;
    }
    return NULL;
}

const char *uw_mp_header(const uw_mp_part *part, const char *name)
{
    if (!part || !name || !part->headers_) return NULL;
    return find_header(part->headers_, part->header_count, name);
}

int uw_mp_header_at(const uw_mp_part *part, unsigned i, const char **name, const char **value)
{
    if (!part || !part->headers_ || i >= part->header_count) return -1;
    const char *h = part->headers_;
    for (unsigned k = 0; k < i; k++) {
        h += strlen(h) + 1;
        h += strlen(h) + 1;
    }
    if (name) *name = h;
    if (value) *value = h + strlen(h) + 1;
    return 0;
}

/* Unfolds and splits the block in place; returns the entry count or -1. */
static int split_headers(char *blk, size_t n, size_t *out_len)
{
    size_t r = 0, w = 0;
    int count = 0;
    for (size_t i = 0; i < n; i++) {
        if (blk[i] == 0) return -1;
        if (blk[i] == '\r' && (i + 1 >= n || blk[i + 1] != '\n')) return -1;
    }
    while (r < n) {
        const char *crlf = memchr(blk + r, '\r', n - r);   /* always a CRLF (checked) */
        size_t eol = (size_t)(crlf - blk);
        if (eol == r) break;                                /* the empty line */
        if (blk[r] == ' ' || blk[r] == '\t') {
            if (!count) return -1;
            w--;                                            /* reopen the previous value */
            memmove(blk + w, blk + r, eol - r);
            w += eol - r;
        } else {
            const char *colon = memchr(blk + r, ':', eol - r);
            if (!colon) return -1;
            size_t cpos = (size_t)(colon - blk);
            if (cpos == r) return -1;
            for (size_t i = r; i < cpos; i++)
                if (!uw__tchar((unsigned char)blk[i])) return -1;
            memmove(blk + w, blk + r, cpos - r);
            w += cpos - r;
            blk[w++] = 0;
            size_t v = cpos + 1;
            while (v < eol && (blk[v] == ' ' || blk[v] == '\t')) v++;
            memmove(blk + w, blk + v, eol - v);
            w += eol - v;
            count++;
        }
        while (w > 0 && (blk[w - 1] == ' ' || blk[w - 1] == '\t')) w--;
        blk[w++] = 0;
        r = eol + 2;
    }
    *out_len = w;
    return count;
}

/*
 * Content-Disposition's type and parameters (v) into part, strings in a;
 * raw: backslashes are not escapes.  0, -1 when malformed, -2 when a is
 * full.
 */
static int parse_disposition(uw_mp_part *part, arena *a, const char *v, int raw)
{
    cursor c = { v, v + strlen(v), raw };
    const char *t, *fname = NULL, *fstar = NULL;
    size_t tl;
    param pm, seg[MAX_SEGMENTS];
    int seg_ext[MAX_SEGMENTS], idx, ext, one = 1, r;
    unsigned seen = 0;
    part->name = NULL;
    if (read_type(&c, &t, &tl)) return -1;
    if (!(part->disposition = put_lower(a, t, tl))) return -2;
    while ((r = next_param(&c, &pm)) == 1) {
        if (name_is(&pm, "name") && !part->name) {
            if (!(part->name = put_param(a, &pm))) return -2;
        } else if (name_is(&pm, "filename") && !fname) {
            if (!(fname = put_param(a, &pm))) return -2;
        } else if (name_is(&pm, "filename*") && !fstar) {
            fstar = put_segments(a, &pm, &one, 1);
        } else if ((idx = segment_index(&pm, &ext)) >= 0 && !(seen & 1u << idx)) {
            seg[idx] = pm;
            seg_ext[idx] = ext;
            seen |= 1u << idx;
        }
    }
    if (r < 0) return -1;
    if (!fstar && (seen & 1)) {
        int count = 0;
        while (count < MAX_SEGMENTS && (seen & 1u << count)) count++;
        fstar = put_segments(a, seg, seg_ext, count);
    }
    part->filename = fstar ? fstar : fname;
    return 0;
}

uw_mp_err mp_parse_headers(uw_mp_parser *mp)
{
    uw_mp_level *lv = &mp->levels[mp->level];
    uw_mp_part *part = &lv->part;
    char *blk = mp->arena + lv->arena_base;
    size_t used;
    int count = split_headers(blk, mp->hdr_len, &used);
    if (count < 0) return mp_fail(mp, UW_MP_E_HEADER);
    memset(part, 0, sizeof *part);
    part->headers_ = blk;
    part->header_count = (unsigned)count;
    part->disposition = "";
    part->content_type = "text/plain";
    arena a = { mp->arena, lv->arena_base + used, UW_MP_ARENA_SIZE };
    param pm;
    int r;

    const char *v = find_header(blk, part->header_count, "content-disposition");
    if (v) {
        size_t mark = a.pos;
        r = parse_disposition(part, &a, v, 0);
        if (r == -1) {          /* read it again with backslashes as themselves */
            a.pos = mark;
            r = parse_disposition(part, &a, v, 1);
        }
        if (r == -1) return mp_fail(mp, UW_MP_E_HEADER);
        if (r == -2) goto full;
    }

    v = find_header(blk, part->header_count, "content-type");
    if (v) {
        cursor c = { v, v + strlen(v), 0 };
        const char *t, *slash;
        size_t tl;
        if (read_type(&c, &t, &tl) || !(slash = memchr(t, '/', tl)) || slash == t || slash == t + tl - 1)
            return mp_fail(mp, UW_MP_E_HEADER);
        if (!(part->content_type = put_lower(&a, t, tl))) goto full;
        const char *boundary = NULL;
        while ((r = next_param(&c, &pm)) == 1) {
            if (name_is(&pm, "charset") && !part->charset) {
                if (!(part->charset = put_param(&a, &pm))) goto full;
            } else if (name_is(&pm, "boundary")) {
                if (boundary) return mp_fail(mp, UW_MP_E_BOUNDARY);
                if (!(boundary = put_param(&a, &pm))) goto full;
            }
        }
        if (r < 0) return mp_fail(mp, UW_MP_E_HEADER);
        if (strncmp(part->content_type, "multipart/", 10) == 0) {
            if (!boundary || !mp_boundary_ok(boundary, strlen(boundary)))
                return mp_fail(mp, UW_MP_E_BOUNDARY);
            part->is_multipart = 1;
            part->boundary = boundary;
        }
    }

    v = find_header(blk, part->header_count, "content-transfer-encoding");
    if (v) {
        cursor c = { v, v + strlen(v), 0 };
        const char *t;
        size_t tl;
        if (read_type(&c, &t, &tl)) return mp_fail(mp, UW_MP_E_HEADER);
        skip_ows(&c);
        if (c.s != c.end) return mp_fail(mp, UW_MP_E_HEADER);
        if ((tl == 4 && (!strncasecmp(t, "7bit", 4) || !strncasecmp(t, "8bit", 4))) ||
            (tl == 6 && !strncasecmp(t, "binary", 6)))
            part->encoding = UW_MP_ENC_IDENTITY;
        else if (tl == 6 && !strncasecmp(t, "base64", 6))
            part->encoding = UW_MP_ENC_BASE64;
        else if (tl == 16 && !strncasecmp(t, "quoted-printable", 16))
            part->encoding = UW_MP_ENC_QUOTED_PRINTABLE;
        else
            return mp_fail(mp, UW_MP_E_ENCODING);
        if (part->is_multipart && part->encoding != UW_MP_ENC_IDENTITY)
            return mp_fail(mp, UW_MP_E_ENCODING);
    }
    lv->arena_end = (uint32_t)a.pos;
    return UW_MP_OK;
full:
    return mp_fail(mp, UW_MP_E_LIMIT_HEADER_BYTES);
}
