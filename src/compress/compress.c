/* Compression on the fly (compress.h): the middleware puts a table of
 * operations of its own between the response calls and the protocol's,
 * so whole, slice and streamed bodies all go through one encoder. */
#include <uweb/compress.h>
#include <uweb/web.h>
#include "compress_internal.h"
#include "../web/res_wrap.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#define OUT_BYTES 16384

static const char *const default_types[] = {
    "text/", "application/javascript", "application/json", "application/xml", "application/xhtml+xml",
    "application/rss+xml", "application/atom+xml", "application/manifest+json", "application/wasm",
    "application/x-javascript", "application/ld+json", "application/geo+json", "application/problem+json",
    "image/svg+xml", "image/x-icon", "image/bmp", "font/ttf", "font/otf", "application/vnd.ms-fontobject",
    NULL,
};

bool uw_compress_have_brotli(void) { return uw__br_available(); }

bool uw_compress_type_ok(const char *ct, const char *const *types)
{
    if (!ct) return false;
    while (*ct == ' ') ct++;
    size_t n = strcspn(ct, "; \t");
    if (n == 17 && strncasecmp(ct, "text/event-stream", 17) == 0) return false;
    for (const char *const *t = types ? types : default_types; *t; t++) {
        size_t tl = strlen(*t);
        if ((*t)[tl - 1] == '/' ? n > tl && strncasecmp(ct, *t, tl) == 0 : n == tl && strncasecmp(ct, *t, tl) == 0)
            return true;
    }
    return false;
}

/* q-value of a weight "q=0.5" (RFC 9110 §12.4.2), in thousandths; -1 if malformed. */
static int qvalue(const char *p, size_t n)
{
    while (n && (*p == ' ' || *p == '\t')) p++, n--;
    if (n < 2 || (p[0] != 'q' && p[0] != 'Q') || p[1] != '=') return -1;
    p += 2, n -= 2;
    while (n && (p[n - 1] == ' ' || p[n - 1] == '\t')) n--;
    if (!n || (p[0] != '0' && p[0] != '1')) return -1;
    int q = (p[0] - '0') * 1000, scale = 100;
    if (n > 1) {
        if (p[1] != '.' || n > 5) return -1;
        for (size_t i = 2; i < n; i++, scale /= 10) {
            if (p[i] < '0' || p[i] > '9') return -1;
            q += (p[i] - '0') * scale;
        }
    }
    return q > 1000 ? -1 : q;
}

int uw_compress_choose(const char *ae, unsigned offered)
{
    if (!ae) return UW_ENC_IDENTITY;
    int q[3] = { -1, -1, -1 }, star = -1;      /* identity, gzip, br; -1: not named */
    const char *p = ae;
    while (*p) {
        size_t len = strcspn(p, ",");
        const char *e = p, *end = p + len;
        while (e < end && (*e == ' ' || *e == '\t')) e++;
        size_t nl = strcspn(e, ";, \t");
        if (e + nl > end) nl = (size_t)(end - e);
        const char *semi = memchr(e, ';', (size_t)(end - e));
        int w = semi ? qvalue(semi + 1, (size_t)(end - semi - 1)) : 1000;
        if (w >= 0 && nl) {
            int *slot = NULL;
            if (nl == 4 && strncasecmp(e, "gzip", 4) == 0) slot = &q[UW_ENC_GZIP];
            else if (nl == 6 && strncasecmp(e, "x-gzip", 6) == 0) slot = &q[UW_ENC_GZIP];
            else if (nl == 2 && strncasecmp(e, "br", 2) == 0) slot = &q[UW_ENC_BR];
            else if (nl == 8 && strncasecmp(e, "identity", 8) == 0) slot = &q[UW_ENC_IDENTITY];
            else if (nl == 1 && *e == '*') slot = &star;
            if (slot && w > *slot) *slot = w;
        }
        p = *end ? end + 1 : end;
    }
    int best = UW_ENC_IDENTITY, bq = 0;
    for (int enc = UW_ENC_BR; enc >= UW_ENC_GZIP; enc--) {
        if (!(offered & (1u << enc))) continue;
        int w = q[enc] >= 0 ? q[enc] : star;
        if (w > bq) best = enc, bq = w;
    }
    return best;
}

/* ------------------------------------------------------------ the ops */

typedef struct cz {
    uw_res_wrap w;             /* first: res->ops points here */
    const uw_compress_options *o;
    int want;                  /* what the client accepts best (UW_ENC_*) */
    int enc;                   /* what this response uses */
    bool head;
    z_stream z;
    uw__br *br;
    uint8_t *out;
    uw_arena *arena;
} cz;

static cz *of(uw_res *res) { return (cz *)(void *)res->ops; }

static bool has_header(const uw_res *res, const char *name, const char **value)
{
    size_t nl = strlen(name);
    const char *p = res->hdrs, *end = res->hdrs + res->hdrs_len;
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol) break;
        if ((size_t)(eol - p) > nl && p[nl] == ':' && strncasecmp(p, name, nl) == 0) {
            if (value) {
                *value = p + nl + 1;
                while (**value == ' ') (*value)++;
            }
            return true;
        }
        p = eol + 1;
    }
    return false;
}

/* Appends a field to a head the handler is done with (the head is being sent). */
static bool add_header(uw_res *res, const char *line)
{
    size_t n = strlen(line);
    if (res->hdrs_len + n > res->hdrs_cap) return false;
    memcpy(res->hdrs + res->hdrs_len, line, n);
    res->hdrs_len += n;
    return true;
}

/* Makes a strong ETag weak in place: 'ETag: "x"' becomes 'ETag: W/"x"'. */
static void weaken_etag(uw_res *res)
{
    const char *v;
    if (!has_header(res, "ETag", &v) || v[0] != '"' || res->hdrs_len + 2 > res->hdrs_cap) return;
    size_t at = (size_t)(v - res->hdrs);
    memmove(res->hdrs + at + 2, res->hdrs + at, res->hdrs_len - at);
    res->hdrs[at] = 'W';
    res->hdrs[at + 1] = '/';
    res->hdrs_len += 2;
}

static void *z_alloc(void *opaque, unsigned items, unsigned size)
{
    return uw_arena_alloc(opaque, (size_t)items * size);
}
static void z_free(void *opaque, void *p) { (void)opaque; (void)p; }

static bool start_encoder(cz *c)
{
    const uw_compress_options *o = c->o;
    c->out = uw_arena_alloc(c->arena, OUT_BYTES);
    if (!c->out) return false;
    if (c->enc == UW_ENC_BR) {
        int q = o && o->brotli_quality > 0 ? o->brotli_quality : 4;
        int w = o && o->brotli_window ? o->brotli_window : 18;
        c->br = uw__br_new(c->arena, q > 11 ? 11 : q, w < 10 ? 10 : w > 24 ? 24 : w);
        return c->br != NULL;
    }
    int level = o && o->gzip_level > 0 ? o->gzip_level : 6, mem = o && o->gzip_mem_level > 0 ? o->gzip_mem_level : 8;
    c->z.zalloc = z_alloc;
    c->z.zfree = z_free;
    c->z.opaque = c->arena;
    return deflateInit2(&c->z, level > 9 ? 9 : level, Z_DEFLATED, 15 + 16, mem > 9 ? 9 : mem, Z_DEFAULT_STRATEGY) == Z_OK;
}

/* Feeds data (finish: the end) and writes out what the encoder gives. */
static int encode(uw_res *res, const void *data, size_t n, bool finish)
{
    cz *c = of(res);
    const uint8_t *in = data;
    for (;;) {
        uint8_t *o = c->out;
        size_t room = OUT_BYTES;
        int st;
        if (c->enc == UW_ENC_BR) {
            st = uw__br_run(c->br, &in, &n, &o, &room, finish);
        } else {
            c->z.next_in = (Bytef *)(uintptr_t)in;
            c->z.avail_in = (uInt)n;
            c->z.next_out = o;
            c->z.avail_out = (uInt)room;
            int zr = deflate(&c->z, finish ? Z_FINISH : Z_NO_FLUSH);
            in = c->z.next_in;
            n = c->z.avail_in;
            o = c->z.next_out;
            room = c->z.avail_out;
            st = zr == Z_STREAM_END ? 1 : zr == Z_OK || zr == Z_BUF_ERROR ? (finish || n || room == 0 ? 0 : 1) : -1;
        }
        if (st < 0) return UW_EIO;
        size_t k = OUT_BYTES - room;
        if (k) {
            int r = UW_WRAP_CALL(&c->w, res, write_body, c->out, k);
            if (r != UW_OK) return r;
        }
        if (st == 1) return UW_OK;
        if (!finish && n == 0 && room) return UW_OK;   /* all input taken, nothing more to say now */
    }
}

static int cz_send_head(uw_res *res)
{
    cz *c = of(res);
    const char *ct = NULL;
    has_header(res, "Content-Type", &ct);
    char type[128] = "";
    if (ct) {
        size_t n = strcspn(ct, "\r\n");
        if (n >= sizeof type) n = sizeof type - 1;
        memcpy(type, ct, n);
        type[n] = 0;
    }
    bool compressible = ct && !res->no_body && res->status != 206 && uw_compress_type_ok(type, c->o ? c->o->types : NULL)
                        && !has_header(res, "Content-Encoding", NULL) && !has_header(res, "Content-Range", NULL);
    if (compressible && !has_header(res, "Vary", NULL)) add_header(res, "Vary: Accept-Encoding\r\n");
    size_t min = c->o && c->o->min_bytes ? c->o->min_bytes : 1024;
    if (compressible && c->want != UW_ENC_IDENTITY && !c->head && !(res->has_length && res->content_length < min)) {
        c->enc = c->want;
        if (start_encoder(c) &&
            add_header(res, c->enc == UW_ENC_BR ? "Content-Encoding: br\r\n" : "Content-Encoding: gzip\r\n")) {
            weaken_etag(res);
            res->has_length = false;
        } else {
            c->enc = UW_ENC_IDENTITY;
        }
    }
    return UW_WRAP_CALL(&c->w, res, send_head);
}

static int cz_send_body(uw_res *res, const uw_slice *v, size_t n)
{
    cz *c = of(res);
    if (c->enc == UW_ENC_IDENTITY) return UW_WRAP_CALL(&c->w, res, send_body, v, n);
    for (size_t i = 0; i < n; i++) {
        int r = encode(res, v[i].ptr, v[i].len, false);
        if (r != UW_OK) return r;
    }
    return UW_OK;
}

static int cz_write_body(uw_res *res, const void *data, size_t n)
{
    cz *c = of(res);
    if (c->enc == UW_ENC_IDENTITY) return UW_WRAP_CALL(&c->w, res, write_body, data, n);
    return encode(res, data, n, false);
}

static int cz_send_file(uw_res *res, int fd, uint64_t off, uint64_t len)
{
    cz *c = of(res);
    return c->enc == UW_ENC_IDENTITY ? uw__res_wrap_send_file(&c->w, res, fd, off, len) : 1;
}

static int cz_end(uw_res *res)
{
    cz *c = of(res);
    if (c->enc != UW_ENC_IDENTITY && !res->head_only && !res->no_body) {
        int r = encode(res, NULL, 0, true);
        if (c->br) uw__br_free(c->br);
        c->br = NULL;
        if (r != UW_OK) return r;
    }
    return UW_WRAP_CALL(&c->w, res, end);
}

static int cz_flush(uw_res *res)
{
    cz *c = of(res);
    return UW_WRAP_CALL(&c->w, res, flush);
}
static void cz_abort(uw_res *res)
{
    cz *c = of(res);
    if (c->br) uw__br_free(c->br);
    c->br = NULL;
    uw__res_wrap_abort(&c->w, res);
}

static const uw_http_ops cz_ops = {
    .send_head = cz_send_head, .send_body = cz_send_body, .write_body = cz_write_body,
    .flush = cz_flush, .end = cz_end, .abort = cz_abort, .send_file = cz_send_file,
};

int uw_mw_compress(uw_req *req, uw_res *res, void *arg)
{
    const uw_compress_options *o = arg;
    unsigned offered = 0;
    if (!o || !o->no_gzip) offered |= 1u << UW_ENC_GZIP;
    if ((!o || !o->no_brotli) && uw__br_available()) offered |= 1u << UW_ENC_BR;
    if (res->head_sent || res->ops->send_head == cz_send_head) return UW_NEXT;
    cz *c = uw_arena_alloc(req->arena, sizeof *c);
    if (!c) return UW_NEXT;
    memset(c, 0, sizeof *c);
    c->o = o;
    c->arena = req->arena;
    c->head = req->method == UW_HEAD;
    c->want = uw_compress_choose(uw_req_header(req, "Accept-Encoding"), offered);
    uw__res_wrap(res, &c->w, &cz_ops);
    return UW_NEXT;
}
