/* The static asset handler: the engine's decision, answered through web.h. */
#include "uweb/static.h"

#include <string.h>
#include <strings.h>

#include "uweb/web.h"

/* The five request headers the engine reads, in one pass over the
 * request's headers; a header sent several times is joined with ", "
 * (RFC 9110 5.3), in the request arena. */
enum { H_INM, H_IMS, H_AE, H_RANGE, H_IF_RANGE, H_COUNT };
static const struct { const char *name; size_t len; } wanted[H_COUNT] = {
    { "if-none-match", 13 }, { "if-modified-since", 17 }, { "accept-encoding", 15 },
    { "range", 5 }, { "if-range", 8 },
};

static void append(uw_req *req, uw_slice *have, const char *v)
{
    size_t vl = strlen(v);
    if (!have->ptr) { *have = (uw_slice){ v, vl }; return; }
    if (have->len + 2 + vl > UW_STATIC_HEADER_MAX) {     /* too long: the engine ignores it */
        have->len = UW_STATIC_HEADER_MAX + 1;
        return;
    }
    char *joined = uw_arena_alloc(uw_req_arena(req), have->len + 2 + vl);
    if (!joined) return;
    memcpy(joined, have->ptr, have->len);
    memcpy(joined + have->len, ", ", 2);
    memcpy(joined + have->len + 2, v, vl);
    *have = (uw_slice){ joined, have->len + 2 + vl };
}

static void read_headers(uw_req *req, uw_slice out[H_COUNT])
{
    size_t n = uw_req_header_count(req);
    for (size_t i = 0; i < n; i++) {
        const char *k, *v;
        uw_req_header_at(req, i, &k, &v);
        size_t kl = strlen(k);
        for (int h = 0; h < H_COUNT; h++)
            if (kl == wanted[h].len && strcasecmp(k, wanted[h].name) == 0) { append(req, &out[h], v); break; }
    }
}

/* Last-Modified is the same for a whole set: format it once. */
static const char *http_date(int64_t t)
{
    static int64_t cached_t = -1;
    static char cached[30];
    if (t != cached_t) {
        uw_static_format_http_date(t, cached);
        cached_t = t;
    }
    return cached;
}

static const char *const encoding_names[UW_STATIC_ENCODINGS] = { NULL, "gzip", "br" };

void uw_static_redirect_slash(uw_req *req, uw_res *res)
{
    const char *raw = uw_req_path(req);
    /* Never a Location starting with "//": another host for the client. */
    if (raw[0] != '/' || raw[1] == '/') { uw_res_error(res, 404, NULL); return; }
    const char *q = uw_req_query_string(req);
    uw_res_headerf(res, "Location", "%s/%s%s", raw, *q ? "?" : "", q);
    uw_res_error(res, 308, NULL);
}

const char *uw_static_request_path(uw_req *req, size_t *len)
{
    const char *rest = uw_req_param(req, "path");
    const char *path = uw_req_path(req);
    *len = strlen(path);
    if (!rest) return path;
    size_t rl = strlen(rest);
    char *p = uw_arena_alloc(uw_req_arena(req), rl + 2);
    if (!p) return NULL;
    p[0] = '/';
    memcpy(p + 1, rest, rl + 1);
    *len = rl + 1;
    return p;
}

bool uw_static_prepare(uw_req *req, uw_res *res, const uw_static_asset *a, const char *cache_control,
                       uw_static_response *out)
{
    uw_static_response rs;
    uw_slice h[H_COUNT] = { { NULL, 0 } };
    read_headers(req, h);
    uw_static_request rq = {
        .method = uw_req_method(req) == UW_HEAD ? UW_STATIC_HEAD : UW_STATIC_GET,
        .if_none_match = h[H_INM],
        .if_modified_since = h[H_IMS],
        .accept_encoding = h[H_AE],
        .range = h[H_RANGE],
        .if_range = h[H_IF_RANGE],
    };
    if (uw_static_decide(a, &rq, &rs) != UW_STATIC_OK) {
        uw_res_error(res, 500, "static asset decision failed");
        return false;
    }
    if (rs.vary) uw_res_header(res, "Vary", "Accept-Encoding");
    if (rs.status == 406) {
        uw_res_error(res, 406, "no acceptable content coding");
        return false;
    }
    const uw_static_variant *v = &a->variant[rs.encoding];
    bool full = rs.status == 200 || rs.status == 206;
    if (full && encoding_names[rs.encoding]) uw_res_header(res, "Content-Encoding", encoding_names[rs.encoding]);
    if (rs.status == 206)
        uw_res_headerf(res, "Content-Range", "bytes %llu-%llu/%llu", (unsigned long long)rs.offset,
                       (unsigned long long)(rs.offset + rs.length - 1), (unsigned long long)rs.total);
    else if (rs.status == 416)
        uw_res_headerf(res, "Content-Range", "bytes */%llu", (unsigned long long)rs.total);
    uw_res_header(res, "Accept-Ranges", "bytes");
    uw_res_header(res, "ETag", v->etag);
    uw_res_header(res, "Last-Modified", http_date(a->mtime));
    uw_res_header(res, "Cache-Control", cache_control ? cache_control : "no-cache");
    *out = rs;
    if (!full) {
        uw_res_slices(res, rs.status, NULL, NULL, 0);
        return false;
    }
    return true;
}

void uw_static_handler(uw_req *req, uw_res *res)
{
    const uw_static_mount *m = uw_req_route_arg(req);
    if (!m || !m->set) {
        uw_res_error(res, 500, "static handler without an asset set");
        return;
    }
    size_t len;
    const char *path = uw_static_request_path(req, &len);
    if (!path) { uw_res_error(res, 500, "out of memory"); return; }
    const uw_static_asset *a = uw_static_find(m->set, path, len);
    if (!a) {
        if (uw_static_find_dir(m->set, path, len)) uw_static_redirect_slash(req, res);
        else uw_res_error(res, 404, NULL);
        return;
    }

    uw_static_response rs;
    if (!uw_static_prepare(req, res, a, m->cache_control, &rs)) return;
    uw_slice local[16], *body = local;
    size_t n = uw_static_body(a, &rs, local, 16);
    if (n > 16) {
        body = uw_arena_alloc(uw_req_arena(req), n * sizeof *body);
        if (!body) { uw_res_error(res, 500, "out of memory"); return; }
        uw_static_body(a, &rs, body, n);
    }
    uw_res_slices(res, rs.status, a->content_type, body, n);
}
