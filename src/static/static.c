/* The static asset engine: lookup, negotiation, conditionals, ranges. */
#include "uweb/static.h"
#include "../util/util.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *uw_static_strerror(uw_static_error err)
{
    switch (err) {
    case UW_STATIC_OK: return "success";
    case UW_STATIC_EINVAL: return "invalid argument";
    case UW_STATIC_ENOSPACE: return "buffer too small";
    }
    return "unknown static asset error";
}

/* ------------------------------------------------------------ lookup */

int uw_static_path_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
    size_t n = alen < blen ? alen : blen;
    int c = n ? memcmp(a, b, n) : 0;
    if (c) return c < 0 ? -1 : 1;
    return alen < blen ? -1 : alen > blen ? 1 : 0;
}

static const uw_static_entry *find_entry(const uw_static_set *set, const char *path, size_t len)
{
    if (!set || !path) return NULL;
    size_t lo = 0, hi = set->nentries;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const uw_static_entry *e = &set->entries[mid];
        int c = uw_static_path_cmp(path, len, e->path, e->path_len);
        if (c == 0) return e;
        if (c < 0) hi = mid; else lo = mid + 1;
    }
    return NULL;
}

const uw_static_asset *uw_static_find(const uw_static_set *set, const char *path, size_t len)
{
    const uw_static_entry *e = find_entry(set, path, len);
    return e ? e->asset : NULL;
}

bool uw_static_find_dir(const uw_static_set *set, const char *path, size_t len)
{
    char buf[1024];
    if (!path || len == 0 || len >= sizeof buf - 1 || path[len - 1] == '/') return false;
    memcpy(buf, path, len);
    buf[len] = '/';
    return find_entry(set, buf, len + 1) != NULL;
}

/* ------------------------------------------------------------ lexing helpers */

static bool is_ows(char c) { return c == ' ' || c == '\t'; }


static char lower(char c) { return (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c; }

static bool eq_nocase(const char *a, size_t alen, const char *b)
{
    size_t blen = strlen(b);
    if (alen != blen) return false;
    for (size_t i = 0; i < alen; i++)
        if (lower(a[i]) != lower(b[i])) return false;
    return true;
}

static void skip_ows(const char *v, size_t len, size_t *i)
{
    while (*i < len && is_ows(v[*i])) (*i)++;
}

/* Trims OWS at both ends. */
static void trim(const char **v, size_t *len)
{
    while (*len && is_ows((*v)[0])) { (*v)++; (*len)--; }
    while (*len && is_ows((*v)[*len - 1])) (*len)--;
}

/* ------------------------------------------------------------ Accept-Encoding */

/* qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ) -> 0..1000 */
static bool parse_qvalue(const char *v, size_t len, size_t *i, int *q)
{
    if (*i >= len || (v[*i] != '0' && v[*i] != '1')) return false;
    int whole = v[*i] - '0';
    (*i)++;
    int frac = 0, digits = 0;
    if (*i < len && v[*i] == '.') {
        (*i)++;
        while (*i < len && v[*i] >= '0' && v[*i] <= '9') {
            if (++digits > 3) return false;
            frac = frac * 10 + (v[*i] - '0');
            (*i)++;
        }
    }
    while (digits < 3) { frac *= 10; digits++; }
    if (whole == 1 && frac != 0) return false;
    *q = whole * 1000 + frac;
    return true;
}

bool uw_static_parse_accept_encoding(const char *v, size_t len, int q[UW_STATIC_ENCODINGS])
{
    int explicit_q[UW_STATIC_ENCODINGS] = { -1, -1, -1 };
    int star = -1;
    if (!v || len > UW_STATIC_HEADER_MAX) return false;
    size_t i = 0;
    for (;;) {
        skip_ows(v, len, &i);
        if (i >= len) break;
        if (v[i] == ',') { i++; continue; }        /* empty list element */
        size_t start = i;
        while (i < len && uw__tchar((unsigned char)v[i])) i++;
        if (i == start) return false;
        const char *name = v + start;
        size_t nlen = i - start;
        int qv = 1000;
        skip_ows(v, len, &i);
        while (i < len && v[i] == ';') {
            i++;
            skip_ows(v, len, &i);
            if (i + 2 > len || lower(v[i]) != 'q' || v[i + 1] != '=') return false;
            i += 2;
            if (!parse_qvalue(v, len, &i, &qv)) return false;
            skip_ows(v, len, &i);
        }
        if (i < len && v[i] != ',') return false;
        int *slot = NULL;
        if (eq_nocase(name, nlen, "br")) slot = &explicit_q[UW_STATIC_BR];
        else if (eq_nocase(name, nlen, "gzip") || eq_nocase(name, nlen, "x-gzip")) slot = &explicit_q[UW_STATIC_GZIP];
        else if (eq_nocase(name, nlen, "identity")) slot = &explicit_q[UW_STATIC_IDENTITY];
        else if (nlen == 1 && name[0] == '*') slot = &star;
        if (slot && qv > *slot) *slot = qv;
    }
    for (int e = 0; e < UW_STATIC_ENCODINGS; e++)
        q[e] = explicit_q[e] >= 0 ? explicit_q[e] : star >= 0 ? star : 0;
    /* identity stays acceptable unless excluded; unnamed, it comes last. */
    if (explicit_q[UW_STATIC_IDENTITY] < 0 && star < 0) q[UW_STATIC_IDENTITY] = 1;
    return true;
}

/* ------------------------------------------------------------ Range */

/* 1*DIGIT, saturating at UINT64_MAX. */
static bool parse_u64(const char *v, size_t len, size_t *i, uint64_t *out)
{
    size_t start = *i;
    uint64_t n = 0;
    while (*i < len && v[*i] >= '0' && v[*i] <= '9') {
        unsigned d = (unsigned)(v[*i] - '0');
        n = (n > (UINT64_MAX - d) / 10) ? UINT64_MAX : n * 10 + d;
        (*i)++;
    }
    *out = n;
    return *i > start;
}

uw_static_range_result uw_static_parse_range(const char *v, size_t len, uint64_t size,
                                             uint64_t *first, uint64_t *length)
{
    if (!v || len > UW_STATIC_HEADER_MAX) return UW_STATIC_RANGE_IGNORE;
    trim(&v, &len);
    if (len < 6 || !eq_nocase(v, 5, "bytes") || v[5] != '=') return UW_STATIC_RANGE_IGNORE;
    size_t i = 6;
    int specs = 0, satisfiable = 0;
    uint64_t f0 = 0, l0 = 0;
    for (;;) {
        skip_ows(v, len, &i);
        if (i >= len) break;
        if (v[i] == ',') { i++; continue; }
        uint64_t a = 0, b = 0, f, n;
        bool ok;
        if (v[i] == '-') {                          /* suffix-range */
            i++;
            if (!parse_u64(v, len, &i, &b)) return UW_STATIC_RANGE_IGNORE;
            ok = b > 0 && size > 0;
            n = b > size ? size : b;
            f = size - n;
        } else {                                     /* int-range */
            if (!parse_u64(v, len, &i, &a)) return UW_STATIC_RANGE_IGNORE;
            if (i >= len || v[i] != '-') return UW_STATIC_RANGE_IGNORE;
            i++;
            bool has_last = parse_u64(v, len, &i, &b);
            if (has_last && b < a) return UW_STATIC_RANGE_IGNORE;
            ok = a < size;
            f = a;
            uint64_t last = (!has_last || b >= size) ? size - 1 : b;
            n = ok ? last - a + 1 : 0;
        }
        skip_ows(v, len, &i);
        if (i < len && v[i] != ',') return UW_STATIC_RANGE_IGNORE;
        if (++specs > 100) return UW_STATIC_RANGE_IGNORE;
        if (ok) {
            if (!satisfiable) { f0 = f; l0 = n; }
            satisfiable++;
        }
    }
    if (specs == 0) return UW_STATIC_RANGE_IGNORE;
    if (satisfiable == 0) {
        /* With nothing to send there is nothing to be unsatisfied about. */
        return size == 0 ? UW_STATIC_RANGE_IGNORE : UW_STATIC_RANGE_UNSATISFIABLE;
    }
    if (specs > 1) return UW_STATIC_RANGE_IGNORE;   /* several ranges: whole asset */
    *first = f0;
    *length = l0;
    return UW_STATIC_RANGE_OK;
}

/* ------------------------------------------------------------ ETags */

/* entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE; sets [*tag, *tag + *tlen)
 * to the opaque tag including its quotes. */
static bool parse_etag(const char *v, size_t len, size_t *i, const char **tag, size_t *tlen, bool *weak)
{
    *weak = false;
    if (*i + 1 < len && v[*i] == 'W' && v[*i + 1] == '/') { *weak = true; *i += 2; }
    if (*i >= len || v[*i] != '"') return false;
    size_t start = (*i)++;
    while (*i < len && v[*i] != '"') {
        unsigned char c = (unsigned char)v[*i];
        if (c < 0x21 || c == 0x7f) return false;    /* etagc = %x21 / %x23-7E / obs-text */
        (*i)++;
    }
    if (*i >= len) return false;
    (*i)++;
    *tag = v + start;
    *tlen = *i - start;
    return true;
}

bool uw_static_etag_match(const char *v, size_t len, const char *etag)
{
    if (!v || !etag || len > UW_STATIC_HEADER_MAX) return false;
    trim(&v, &len);
    if (len == 1 && v[0] == '*') return true;
    size_t elen = strlen(etag), i = 0;
    const char *mine = etag;
    if (elen >= 2 && etag[0] == 'W' && etag[1] == '/') { mine += 2; elen -= 2; }
    bool matched = false;
    for (;;) {
        skip_ows(v, len, &i);
        if (i >= len) break;
        if (v[i] == ',') { i++; continue; }
        const char *tag;
        size_t tlen;
        bool weak;
        if (!parse_etag(v, len, &i, &tag, &tlen, &weak)) return false;
        if (tlen == elen && memcmp(tag, mine, tlen) == 0) matched = true;
        skip_ows(v, len, &i);
        if (i < len && v[i] != ',') return false;
    }
    return matched;
}

/* If-Range with an entity-tag: strong comparison. */
static bool if_range_matches(const char *v, size_t len, const char *etag, int64_t mtime)
{
    trim(&v, &len);
    if (len == 0 || len > UW_STATIC_HEADER_MAX) return false;
    if (v[0] == '"' || (len >= 2 && v[0] == 'W' && v[1] == '/')) {
        size_t i = 0;
        const char *tag;
        size_t tlen;
        bool weak;
        if (!parse_etag(v, len, &i, &tag, &tlen, &weak) || i != len || weak) return false;
        return etag && etag[0] == '"' && strlen(etag) == tlen && memcmp(tag, etag, tlen) == 0;
    }
    int64_t t;
    return uw_static_parse_http_date(v, len, &t) && t == mtime;
}

/* ------------------------------------------------------------ dates */

void uw_static_format_http_date(int64_t t, char out[30])
{
    uw__http_date(t, out);
}

struct cursor { const char *v; size_t len, i; };

static bool cur_lit(struct cursor *c, const char *lit)
{
    size_t n = strlen(lit);
    if (c->len - c->i < n || memcmp(c->v + c->i, lit, n) != 0) return false;
    c->i += n;
    return true;
}

static bool cur_digits(struct cursor *c, size_t min, size_t max, int *out)
{
    size_t start = c->i;
    int n = 0;
    while (c->i < c->len && c->i - start < max && c->v[c->i] >= '0' && c->v[c->i] <= '9')
        n = n * 10 + (c->v[c->i++] - '0');
    *out = n;
    return c->i - start >= min;
}

static bool cur_month(struct cursor *c, int *m)
{
    if (c->len - c->i < 3) return false;
    for (int k = 0; k < 12; k++)
        if (memcmp(c->v + c->i, uw__month_names[k], 3) == 0) { *m = k + 1; c->i += 3; return true; }
    return false;
}

static bool cur_time(struct cursor *c, int *h, int *mi, int *s)
{
    return cur_digits(c, 2, 2, h) && cur_lit(c, ":") && cur_digits(c, 2, 2, mi) && cur_lit(c, ":") &&
           cur_digits(c, 2, 2, s);
}

bool uw_static_parse_http_date(const char *v, size_t len, int64_t *seconds)
{
    if (!v || len > 64) return false;
    trim(&v, &len);
    struct cursor c = { v, len, 0 };
    int day = 0, mon = 0, year = 0, h = 0, mi = 0, s = 0;
    size_t name = 0;
    while (c.i < len && ((v[c.i] | 0x20) >= 'a' && (v[c.i] | 0x20) <= 'z')) c.i++;
    name = c.i;
    if (name < 3) return false;
    if (name == 3 && cur_lit(&c, ", ")) {                /* Sun, 06 Nov 1994 08:49:37 GMT */
        if (!(cur_digits(&c, 2, 2, &day) && cur_lit(&c, " ") && cur_month(&c, &mon) && cur_lit(&c, " ") &&
              cur_digits(&c, 4, 4, &year) && cur_lit(&c, " ") && cur_time(&c, &h, &mi, &s) &&
              cur_lit(&c, " GMT")))
            return false;
    } else if (name > 3 && cur_lit(&c, ", ")) {          /* Sunday, 06-Nov-94 08:49:37 GMT */
        if (!(cur_digits(&c, 2, 2, &day) && cur_lit(&c, "-") && cur_month(&c, &mon) && cur_lit(&c, "-") &&
              cur_digits(&c, 2, 2, &year) && cur_lit(&c, " ") && cur_time(&c, &h, &mi, &s) &&
              cur_lit(&c, " GMT")))
            return false;
        year += year >= 70 ? 1900 : 2000;
    } else if (name == 3 && cur_lit(&c, " ")) {          /* Sun Nov  6 08:49:37 1994 */
        if (!cur_month(&c, &mon) || !cur_lit(&c, " ")) return false;
        if (c.i < len && v[c.i] == ' ') c.i++;
        if (!(cur_digits(&c, 1, 2, &day) && cur_lit(&c, " ") && cur_time(&c, &h, &mi, &s) &&
              cur_lit(&c, " ") && cur_digits(&c, 4, 4, &year)))
            return false;
    } else {
        return false;
    }
    if (c.i != len) return false;
    static const int mdays[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    if (day < 1 || day > mdays[mon - 1] || h > 23 || mi > 59 || s > 60) return false;
    *seconds = uw__days_from_civil(year, (unsigned)mon, (unsigned)day) * 86400 + h * 3600 + mi * 60 + (s > 59 ? 59 : s);
    return true;
}

/* ------------------------------------------------------------ decision */

static bool present(uw_slice s) { return s.ptr != NULL; }

uw_static_error uw_static_decide(const uw_static_asset *a, const uw_static_request *rq, uw_static_response *out)
{
    if (!a || !rq || !out || (rq->method != UW_STATIC_GET && rq->method != UW_STATIC_HEAD))
        return UW_STATIC_EINVAL;
    memset(out, 0, sizeof *out);
    out->vary = a->variant[UW_STATIC_GZIP].etag || a->variant[UW_STATIC_BR].etag;

    /* Representation. */
    int q[UW_STATIC_ENCODINGS] = { 1, 0, 0 };
    if (present(rq->accept_encoding) && !uw_static_parse_accept_encoding(rq->accept_encoding.ptr,
                                                                         rq->accept_encoding.len, q)) {
        q[UW_STATIC_IDENTITY] = 1; q[UW_STATIC_GZIP] = 0; q[UW_STATIC_BR] = 0;
    }
    int best = -1;
    for (int e = 0; e < UW_STATIC_ENCODINGS; e++) {
        const uw_static_variant *v = &a->variant[e];
        if (!v->etag || q[e] <= 0) continue;
        if (best < 0 || q[e] > q[best] || (q[e] == q[best] && v->size < a->variant[best].size)) best = e;
    }
    if (best < 0) {
        out->status = 406;
        out->encoding = UW_STATIC_IDENTITY;
        out->total = a->variant[UW_STATIC_IDENTITY].size;
        return UW_STATIC_OK;
    }
    const uw_static_variant *v = &a->variant[best];
    out->encoding = (uw_static_encoding)best;
    out->total = v->size;

    /* Conditionals. */
    bool not_modified = false;
    if (present(rq->if_none_match)) {
        not_modified = uw_static_etag_match(rq->if_none_match.ptr, rq->if_none_match.len, v->etag);
    } else if (present(rq->if_modified_since)) {
        int64_t t;
        if (uw_static_parse_http_date(rq->if_modified_since.ptr, rq->if_modified_since.len, &t))
            not_modified = a->mtime <= t;
    }
    if (not_modified) {
        out->status = 304;
        return UW_STATIC_OK;
    }

    /* Range, GET only. */
    out->status = 200;
    out->offset = 0;
    out->length = v->size;
    if (rq->method == UW_STATIC_GET && present(rq->range) &&
        (!present(rq->if_range) || if_range_matches(rq->if_range.ptr, rq->if_range.len, v->etag, a->mtime))) {
        uint64_t first = 0, n = 0;
        switch (uw_static_parse_range(rq->range.ptr, rq->range.len, v->size, &first, &n)) {
        case UW_STATIC_RANGE_OK:
            out->status = 206;
            out->offset = first;
            out->length = n;
            break;
        case UW_STATIC_RANGE_UNSATISFIABLE:
            out->status = 416;
            out->length = 0;
            return UW_STATIC_OK;
        case UW_STATIC_RANGE_IGNORE:
            break;
        }
    }
    out->send_body = rq->method == UW_STATIC_GET && out->length > 0;
    return UW_STATIC_OK;
}

/* ------------------------------------------------------------ output */

static const char *const encoding_names[UW_STATIC_ENCODINGS] = { NULL, "gzip", "br" };

/* Appends to buf[*n..cap); false when it does not fit. */
__attribute__((format(printf, 4, 5)))
static bool put(char *buf, size_t cap, size_t *n, const char *fmt, ...)
{
    if (*n >= cap) return false;
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(buf + *n, cap - *n, fmt, ap);
    va_end(ap);
    if (w < 0 || (size_t)w >= cap - *n) return false;
    *n += (size_t)w;
    return true;
}

size_t uw_static_headers(const uw_static_asset *a, const uw_static_response *rs, const char *cache_control,
                         char *buf, size_t cap)
{
    if (!a || !rs || !buf) return 0;
    const uw_static_variant *v = &a->variant[rs->encoding < UW_STATIC_ENCODINGS ? rs->encoding : 0];
    size_t n = 0;
#define PUT(...) do { if (!put(buf, cap, &n, __VA_ARGS__)) return 0; } while (0)
    bool full = rs->status == 200 || rs->status == 206;
    if (full) PUT("Content-Type: %s\r\n", a->content_type);
    if (rs->status != 304) PUT("Content-Length: %llu\r\n", (unsigned long long)rs->length);
    if (full && encoding_names[rs->encoding]) PUT("Content-Encoding: %s\r\n", encoding_names[rs->encoding]);
    if (rs->status == 206)
        PUT("Content-Range: bytes %llu-%llu/%llu\r\n", (unsigned long long)rs->offset,
            (unsigned long long)(rs->offset + rs->length - 1), (unsigned long long)rs->total);
    if (rs->status == 416) PUT("Content-Range: bytes */%llu\r\n", (unsigned long long)rs->total);
    if (rs->status != 406) {
        PUT("Accept-Ranges: bytes\r\n");
        if (v->etag) PUT("ETag: %s\r\n", v->etag);
        char date[30];
        uw_static_format_http_date(a->mtime, date);
        PUT("Last-Modified: %s\r\n", date);
        if (cache_control && *cache_control) PUT("Cache-Control: %s\r\n", cache_control);
    }
    if (rs->vary) PUT("Vary: Accept-Encoding\r\n");
#undef PUT
    return n;
}

size_t uw_static_body(const uw_static_asset *a, const uw_static_response *rs, uw_slice *out, size_t max)
{
    if (!a || !rs || (rs->status != 200 && rs->status != 206) || rs->length == 0 ||
        rs->encoding >= UW_STATIC_ENCODINGS)
        return 0;
    const uw_static_variant *v = &a->variant[rs->encoding];
    uint64_t skip = rs->offset, left = rs->length, pos = 0;
    size_t count = 0;
    for (size_t k = 0; k < v->nchunks && left > 0; k++) {
        uint64_t clen = v->chunks[k].len;
        if (pos + clen <= skip) { pos += clen; continue; }
        uint64_t from = skip > pos ? skip - pos : 0;
        uint64_t take = clen - from < left ? clen - from : left;
        if (count < max) {
            out[count].ptr = (const char *)v->chunks[k].ptr + from;
            out[count].len = (size_t)take;
        }
        count++;
        left -= take;
        pos += clen;
    }
    return count;
}

/* ------------------------------------------------------------ content types */

static const struct { const char *ext; const char *type; } content_types[] = {
    /* sorted by extension */
    { "7z", "application/x-7z-compressed" },
    { "aac", "audio/aac" },
    { "apng", "image/apng" },
    { "atom", "application/atom+xml; charset=utf-8" },
    { "avif", "image/avif" },
    { "bin", "application/octet-stream" },
    { "bmp", "image/bmp" },
    { "bz2", "application/x-bzip2" },
    { "cjs", "text/javascript; charset=utf-8" },
    { "css", "text/css; charset=utf-8" },
    { "csv", "text/csv; charset=utf-8" },
    { "eot", "application/vnd.ms-fontobject" },
    { "epub", "application/epub+zip" },
    { "flac", "audio/flac" },
    { "gif", "image/gif" },
    { "gz", "application/gzip" },
    { "htm", "text/html; charset=utf-8" },
    { "html", "text/html; charset=utf-8" },
    { "ico", "image/x-icon" },
    { "ics", "text/calendar; charset=utf-8" },
    { "jpeg", "image/jpeg" },
    { "jpg", "image/jpeg" },
    { "js", "text/javascript; charset=utf-8" },
    { "json", "application/json" },
    { "jsonld", "application/ld+json" },
    { "map", "application/json" },
    { "md", "text/markdown; charset=utf-8" },
    { "mjs", "text/javascript; charset=utf-8" },
    { "mp3", "audio/mpeg" },
    { "mp4", "video/mp4" },
    { "mpeg", "video/mpeg" },
    { "oga", "audio/ogg" },
    { "ogg", "audio/ogg" },
    { "ogv", "video/ogg" },
    { "otf", "font/otf" },
    { "pdf", "application/pdf" },
    { "png", "image/png" },
    { "rss", "application/rss+xml; charset=utf-8" },
    { "svg", "image/svg+xml; charset=utf-8" },
    { "tar", "application/x-tar" },
    { "tif", "image/tiff" },
    { "tiff", "image/tiff" },
    { "ttf", "font/ttf" },
    { "txt", "text/plain; charset=utf-8" },
    { "wasm", "application/wasm" },
    { "wav", "audio/wav" },
    { "weba", "audio/webm" },
    { "webm", "video/webm" },
    { "webmanifest", "application/manifest+json" },
    { "webp", "image/webp" },
    { "woff", "font/woff" },
    { "woff2", "font/woff2" },
    { "xhtml", "application/xhtml+xml; charset=utf-8" },
    { "xml", "application/xml; charset=utf-8" },
    { "zip", "application/zip" },
    { "zst", "application/zstd" },
};

const char *uw_static_content_type(const char *name)
{
    const char *dflt = "application/octet-stream";
    if (!name) return dflt;
    const char *slash = strrchr(name, '/');
    const char *base = slash ? slash + 1 : name;
    const char *dot = strrchr(base, '.');
    if (!dot || dot == base || !dot[1]) return dflt;
    char ext[16];
    size_t n = strlen(dot + 1);
    if (n >= sizeof ext) return dflt;
    for (size_t i = 0; i <= n; i++) ext[i] = lower(dot[1 + i]);
    size_t lo = 0, hi = sizeof content_types / sizeof content_types[0];
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(ext, content_types[mid].ext);
        if (c == 0) return content_types[mid].type;
        if (c < 0) hi = mid; else lo = mid + 1;
    }
    return dflt;
}
