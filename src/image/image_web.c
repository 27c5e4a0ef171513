/* Serving an image through the web framework, with the static engine's
 * decisions (uw_static_prepare): the same answers as embedded assets. */
#include "uweb/image.h"

#include <stdio.h>
#include <string.h>

#include "uweb/static.h"
#include "uweb/web.h"

#define SMALL_FILE (64u << 10)      /* read whole before answering */
#define STREAM_PIECE (64u << 10)

/* Looks PATH up, trying "PATH/index.html" for a directory path: UW_OK,
 * UW_ENOENT, UW_EIO; *redirect when "PATH/" has an index. */
static int find(uw_req *req, uw_image *im, const char *path, size_t len, uw_image_file *f, bool *redirect)
{
    *redirect = false;
    int r = len > 1 || (len == 1 && path[0] != '/') ? uw_image_lookup(im, path, len, f) : UW_ENOENT;
    if (r != UW_ENOENT) return r;
    if (len > 1024) return UW_ENOENT;
    char *p = uw_arena_alloc(uw_req_arena(req), len + 12);
    if (!p) return UW_ENOMEM;
    memcpy(p, path, len);
    bool dir = len == 0 || path[len - 1] == '/';
    memcpy(p + len, dir ? "index.html" : "/index.html", dir ? 10 : 11);
    r = uw_image_lookup(im, p, len + (dir ? 10 : 11), f);
    if (r == UW_OK && !dir) { *redirect = true; return UW_ENOENT; }
    return r;
}

static void corrupt(uw_res *res, uw_image *im, const char *path)
{
    fprintf(stderr, "uweb: image: %s: %s\n", path, uw_image_error(im));
    uw_res_error(res, 500, "the image is damaged");
}

void uw_image_handler(uw_req *req, uw_res *res)
{
    const uw_image_mount *m = uw_req_route_arg(req);
    if (!m || !m->image) { uw_res_error(res, 500, "image handler without an image"); return; }
    uw_image *im = m->image;
    size_t len;
    const char *path = uw_static_request_path(req, &len);
    uw_image_file *f = uw_arena_alloc(uw_req_arena(req), sizeof *f);
    if (!path || !f) { uw_res_error(res, 500, "out of memory"); return; }
    bool redirect;
    int r = find(req, im, path, len, f, &redirect);
    if (r == UW_EIO) { corrupt(res, im, path); return; }
    if (r == UW_ENOMEM) { uw_res_error(res, 500, "out of memory"); return; }
    if (r != UW_OK) {
        if (redirect) { uw_static_redirect_slash(req, res); return; }
        uw_res_error(res, 404, NULL);
        return;
    }

    uw_static_asset a = {
        .path = f->path,
        .content_type = f->content_type,
        .mtime = f->mtime,
        .variant = { [UW_STATIC_IDENTITY] = { NULL, 0, f->size, f->etag } },
    };
    uw_static_response rs;
    if (!uw_static_prepare(req, res, &a, m->cache_control, &rs)) return;
    bool head = uw_req_method(req) == UW_HEAD;
    if (rs.length <= SMALL_FILE || head) {
        /* Read before the head goes out: a damaged block is still a 500. */
        char *buf = NULL;
        if (!head && rs.length) {
            buf = uw_arena_alloc(uw_req_arena(req), (size_t)rs.length);
            if (!buf) { uw_res_error(res, 500, "out of memory"); return; }
            if (uw_image_read(im, f, rs.offset, buf, (size_t)rs.length) != UW_OK) { corrupt(res, im, f->path); return; }
        }
        if (head) {
            uw_res_status(res, rs.status);
            uw_res_header(res, "Content-Type", f->content_type);
            uw_res_content_length(res, rs.length);
            uw_res_begin(res);
            uw_res_end(res);
            return;
        }
        uw_res_send(res, rs.status, f->content_type, buf, (size_t)rs.length);
        return;
    }
    char *buf = uw_arena_alloc(uw_req_arena(req), STREAM_PIECE);
    if (!buf) { uw_res_error(res, 500, "out of memory"); return; }
    uint64_t off = rs.offset, left = rs.length;
    size_t n = STREAM_PIECE - (size_t)(off % STREAM_PIECE);
    if (n > left) n = (size_t)left;
    if (uw_image_read(im, f, off, buf, n) != UW_OK) { corrupt(res, im, f->path); return; }
    uw_res_status(res, rs.status);
    uw_res_header(res, "Content-Type", f->content_type);
    uw_res_content_length(res, rs.length);
    if (uw_res_begin(res) != UW_OK) return;
    for (;;) {
        if (uw_res_write(res, buf, n) != UW_OK) return;
        off += n;
        left -= n;
        if (left == 0) break;
        n = left < STREAM_PIECE ? (size_t)left : STREAM_PIECE;
        if (uw_image_read(im, f, off, buf, n) != UW_OK) {
            /* The head is out: cut the answer short, the client sees it. */
            fprintf(stderr, "uweb: image: %s: %s\n", f->path, uw_image_error(im));
            uw_res_close(res);
            return;
        }
    }
    uw_res_end(res);
}
