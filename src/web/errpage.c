/* Custom error pages (uw_mw_error_pages, web.h): the text/plain error
 * answers (uw_res_error's, the router's 404 and 405, the body limit's
 * 413, the 500 of a handler that gave no answer) are replaced by the
 * app's page for their status.  Like compression, a table of operations
 * of its own sits between the response calls and the protocol's. */
#include "web_internal.h"
#include "res_wrap.h"
#include <uweb/static.h>

#include <string.h>
#include <strings.h>

typedef struct ep {
    uw_res_wrap w;              /* first: res->ops points here */
    const uw_error_pages *pages;
    const uw_error_page *page;  /* replacing this response's body, or NULL */
} ep;

static ep *of(uw_res *res) { return (ep *)(void *)res->ops; }

/* Removes the header line called name from the handler's head; its value
 * is copied to val (cap bytes) first. */
static bool take_header(uw_res *res, const char *name, char *val, size_t cap)
{
    size_t nl = strlen(name);
    char *p = res->hdrs, *end = res->hdrs + res->hdrs_len;
    while (p < end) {
        char *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol) break;
        if ((size_t)(eol - p) > nl && p[nl] == ':' && strncasecmp(p, name, nl) == 0) {
            const char *v = p + nl + 1;
            while (*v == ' ') v++;
            size_t vl = (size_t)(eol - v) - (eol > v && eol[-1] == '\r');
            if (vl >= cap) vl = cap - 1;
            memcpy(val, v, vl);
            val[vl] = 0;
            memmove(p, eol + 1, (size_t)(end - eol - 1));
            res->hdrs_len -= (size_t)(eol + 1 - p);
            return true;
        }
        p = eol + 1;
    }
    return false;
}

static int ep_send_head(uw_res *res)
{
    ep *e = of(res);
    const uw_error_page *page = NULL;
    for (size_t i = 0; i < e->pages->n && !page; i++)
        if (e->pages->pages[i].status == res->status) page = &e->pages->pages[i];
    char ct[128];
    if (page && res->status >= 400 && take_header(res, "Content-Type", ct, sizeof ct)) {
        if (strncasecmp(ct, "text/plain", 10) == 0) {
            const uw_static_asset *a = page->asset;
            e->page = page;
            res->has_length = true;
            res->content_length = a ? a->variant[UW_STATIC_IDENTITY].size : page->len;
            ct[0] = 0;
            strncat(ct, page->content_type ? page->content_type : a ? a->content_type : "text/html; charset=utf-8",
                    sizeof ct - 1);
        }
        size_t n = strlen(ct);
        if (res->hdrs_len + n + 16 <= res->hdrs_cap) {
            memcpy(res->hdrs + res->hdrs_len, "Content-Type: ", 14);
            memcpy(res->hdrs + res->hdrs_len + 14, ct, n);
            memcpy(res->hdrs + res->hdrs_len + 14 + n, "\r\n", 2);
            res->hdrs_len += n + 16;
        }
    }
    return UW_WRAP_CALL(&e->w, res, send_head);
}

static int ep_send_body(uw_res *res, const uw_slice *v, size_t n)
{
    ep *e = of(res);
    return e->page ? UW_OK : UW_WRAP_CALL(&e->w, res, send_body, v, n);
}

static int ep_write_body(uw_res *res, const void *data, size_t n)
{
    ep *e = of(res);
    return e->page ? UW_OK : UW_WRAP_CALL(&e->w, res, write_body, data, n);
}

static int ep_send_file(uw_res *res, int fd, uint64_t off, uint64_t len)
{
    ep *e = of(res);
    return e->page ? UW_OK : uw__res_wrap_send_file(&e->w, res, fd, off, len);
}

static int ep_end(uw_res *res)
{
    ep *e = of(res);
    const uw_static_asset *a = e->page ? e->page->asset : NULL;
    if (a && !res->head_only && a->variant[UW_STATIC_IDENTITY].size) {
        const uw_static_variant *v = &a->variant[UW_STATIC_IDENTITY];
        int r = UW_WRAP_CALL(&e->w, res, send_body, v->chunks, v->nchunks);
        if (r != UW_OK) return r;
    } else if (e->page && !a && !res->head_only && e->page->len) {
        uw_slice s = { e->page->body, e->page->len };
        int r = UW_WRAP_CALL(&e->w, res, send_body, &s, 1);
        if (r != UW_OK) return r;
    }
    return UW_WRAP_CALL(&e->w, res, end);
}

static int ep_flush(uw_res *res)
{
    ep *e = of(res);
    return UW_WRAP_CALL(&e->w, res, flush);
}
static void ep_abort(uw_res *res)
{
    ep *e = of(res);
    uw__res_wrap_abort(&e->w, res);
}

static const uw_http_ops ep_ops = {
    .send_head = ep_send_head, .send_body = ep_send_body, .write_body = ep_write_body,
    .flush = ep_flush, .end = ep_end, .abort = ep_abort, .send_file = ep_send_file,
};

int uw_mw_error_pages(uw_req *req, uw_res *res, void *arg)
{
    if (!arg || res->head_sent) return UW_NEXT;
    ep *e = uw_arena_alloc(req->arena, sizeof *e);
    if (!e) return UW_NEXT;
    e->pages = arg;
    e->page = NULL;
    uw__res_wrap(res, &e->w, &ep_ops);
    return UW_NEXT;
}
