/* The static asset handler: the engine's decision, answered through web.h. */
#include "uweb/static.h"

#include <string.h>

#include "uweb/web.h"

/* The header's value, several lines joined with ", " (RFC 9110 5.3). */
static uw_slice header(uw_req *req, const char *name)
{
    const char *first = NULL;
    size_t count = 0, total = 0, n = uw_req_header_count(req);
    for (size_t i = 0; i < n; i++) {
        const char *k, *v;
        uw_req_header_at(req, i, &k, &v);
        if (strcasecmp(k, name) != 0) continue;
        if (!first) first = v;
        count++;
        total += strlen(v) + 2;
    }
    if (count <= 1) return (uw_slice){ first, first ? strlen(first) : 0 };
    if (total > UW_STATIC_HEADER_MAX + 2) return (uw_slice){ NULL, 0 };   /* too long: ignored */
    char *joined = uw_arena_alloc(uw_req_arena(req), total);
    if (!joined) return (uw_slice){ NULL, 0 };
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        const char *k, *v;
        uw_req_header_at(req, i, &k, &v);
        if (strcasecmp(k, name) != 0) continue;
        if (len) { joined[len++] = ','; joined[len++] = ' '; }
        size_t vl = strlen(v);
        memcpy(joined + len, v, vl);
        len += vl;
    }
    return (uw_slice){ joined, len };
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

void uw_static_handler(uw_req *req, uw_res *res)
{
    const uw_static_mount *m = uw_req_route_arg(req);
    if (!m || !m->set) {
        uw_res_error(res, 500, "static handler without an asset set");
        return;
    }
    /* The asset path: "/" + the <rest:path> capture, or the request path. */
    const char *rest = uw_req_param(req, "path");
    const char *path = uw_req_path(req);
    size_t len = strlen(path);
    if (rest) {
        size_t rl = strlen(rest);
        char *p = uw_arena_alloc(uw_req_arena(req), rl + 2);
        if (!p) { uw_res_error(res, 500, "out of memory"); return; }
        p[0] = '/';
        memcpy(p + 1, rest, rl + 1);
        path = p;
        len = rl + 1;
    }
    const uw_static_asset *a = uw_static_find(m->set, path, len);
    if (!a) {
        if (uw_static_find_dir(m->set, path, len)) {
            const char *q = uw_req_query_string(req);
            uw_res_headerf(res, "Location", "%s/%s%s", uw_req_path(req), *q ? "?" : "", q);
            uw_res_error(res, 308, NULL);
            return;
        }
        uw_res_error(res, 404, NULL);
        return;
    }

    uw_static_request rq = {
        .method = uw_req_method(req) == UW_HEAD ? UW_STATIC_HEAD : UW_STATIC_GET,
        .if_none_match = header(req, "If-None-Match"),
        .if_modified_since = header(req, "If-Modified-Since"),
        .accept_encoding = header(req, "Accept-Encoding"),
        .range = header(req, "Range"),
        .if_range = header(req, "If-Range"),
    };
    uw_static_response rs;
    if (uw_static_decide(a, &rq, &rs) != UW_STATIC_OK) {
        uw_res_error(res, 500, "static asset decision failed");
        return;
    }
    if (rs.vary) uw_res_header(res, "Vary", "Accept-Encoding");
    if (rs.status == 406) {
        uw_res_error(res, 406, "no acceptable content coding");
        return;
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
    uw_res_header(res, "Cache-Control", m->cache_control ? m->cache_control : "no-cache");

    uw_slice local[16], *body = local;
    size_t n = uw_static_body(a, &rs, local, 16);
    if (n > 16) {
        body = uw_arena_alloc(uw_req_arena(req), n * sizeof *body);
        if (!body) { uw_res_error(res, 500, "out of memory"); return; }
        uw_static_body(a, &rs, body, n);
    }
    uw_res_slices(res, rs.status, full ? a->content_type : NULL, body, n);
}
