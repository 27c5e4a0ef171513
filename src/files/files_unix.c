/* Files from a directory and single files (files.h), on the static
 * engine's decisions (static.h). */
#include <uweb/files.h>
#include <uweb/static.h>
#include <uweb/web.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define CHUNK (64 * 1024)

/* Sends the open file fd (st) as asset path answering req. */
static int send_fd(uw_req *req, uw_res *res, int fd, const struct stat *st, const char *name,
                   const char *content_type, const char *cache_control)
{
    char etag[64];
    snprintf(etag, sizeof etag, "\"%llx-%llx-%lx\"", (unsigned long long)st->st_size,
             (unsigned long long)st->st_mtim.tv_sec, (unsigned long)st->st_mtim.tv_nsec);
    uw_static_asset a = {
        .path = name,
        .content_type = content_type ? content_type : uw_static_content_type(name),
        .mtime = st->st_mtim.tv_sec,
        .variant = { [UW_STATIC_IDENTITY] = { .size = (uint64_t)st->st_size, .etag = etag } },
    };
    uw_static_response rs;
    if (!uw_static_prepare(req, res, &a, cache_control, &rs)) return UW_OK;
    uw_res_status(res, rs.status);
    uw_res_header(res, "Content-Type", a.content_type);
    uw_res_content_length(res, rs.length);
    int r = uw_res_begin(res);
    if (r != UW_OK || uw_req_method(req) == UW_HEAD) return r == UW_OK ? uw_res_end(res) : r;
    r = uw_res_send_file(res, fd, rs.offset, rs.length);
    if (r != 1) {
        if (r == UW_OK) return uw_res_end(res);
        uw_res_close(res);
        return r;
    }
    /* TLS, HTTP/2 or a wrapper (compression): read and write */
    char *buf = uw_arena_alloc(uw_req_arena(req), CHUNK);
    if (!buf) { uw_res_close(res); return UW_ENOMEM; }
    uint64_t off = rs.offset, left = rs.length;
    while (left) {
        ssize_t n = pread(fd, buf, left < CHUNK ? (size_t)left : CHUNK, (off_t)off);
        if (n <= 0) {                /* shrunk under us, or an I/O error: the client sees a short body */
            uw_res_close(res);
            return UW_EIO;
        }
        r = uw_res_write(res, buf, (size_t)n);
        if (r != UW_OK) return r;
        off += (uint64_t)n;
        left -= (uint64_t)n;
    }
    return uw_res_end(res);
}

int uw_res_file(uw_req *req, uw_res *res, const char *path, const char *content_type)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        uw_res_error(res, errno == ENOENT || errno == ENOTDIR ? 404 : 403, NULL);
        return UW_EINVAL;
    }
    struct stat st;
    int r = UW_OK;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        uw_res_error(res, 403, NULL);
        r = UW_EINVAL;
    } else {
        const char *name = strrchr(path, '/');
        r = send_fd(req, res, fd, &st, name ? name : path, content_type, NULL);
    }
    close(fd);
    return r;
}

/* The decoded relative path is one a client may ask for: no empty, "." or
 * ".." segment, none starting with '.', no backslash (a decoded NUL is
 * refused from the raw path, raw_ok). */
static bool path_ok(const char *p)
{
    if (strchr(p, '\\')) return false;
    while (*p) {
        const char *s = strchr(p, '/');
        size_t n = s ? (size_t)(s - p) : strlen(p);
        if (n == 0 && s) return false;                 /* "a//b" */
        if (n && p[0] == '.') return false;            /* ".", "..", ".git", ".env" */
        p += n + (s ? 1 : 0);
    }
    return true;
}

/* No encoded '/', '\\' or NUL in the raw path (%2F, %5C, %00). */
static bool raw_ok(const char *raw)
{
    for (const char *p = raw; (p = strchr(p, '%')) != NULL; p++) {
        char a = p[1], b = a ? p[2] : 0;
        if ((a == '2' && (b == 'f' || b == 'F')) || (a == '5' && (b == 'c' || b == 'C')) || (a == '0' && b == '0'))
            return false;
    }
    return true;
}

static int open_beneath(int dirfd, const char *rel, bool follow)
{
    struct open_how how = {
        .flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK,
        .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | (follow ? 0 : RESOLVE_NO_SYMLINKS),
    };
    return (int)syscall(SYS_openat2, dirfd, rel, &how, sizeof how);
}

void uw_static_dir(uw_req *req, uw_res *res)
{
    const uw_static_dir_conf *c = uw_req_route_arg(req);
    if (!c || !c->root) {
        uw_res_error(res, 500, "uw_static_dir without a root");
        return;
    }
    const char *rest = uw_req_param(req, "path");
    const char *raw = uw_req_path(req);
    if (!rest) rest = raw[0] == '/' ? raw + 1 : raw;
    size_t rl = strlen(rest);
    if (!raw_ok(raw) || !path_ok(rest)) {
        uw_res_error(res, 404, NULL);
        return;
    }
    const char *index = c->index ? c->index : "index.html";
    const char *rel = !rl ? index : rest[rl - 1] == '/' ? uw_arena_printf(uw_req_arena(req), "%s%s", rest, index) : rest;
    if (!rel) {
        uw_res_error(res, 500, "out of request memory");
        return;
    }
    int dirfd = open(c->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0) {
        uw_res_error(res, 500, "cannot open the served directory");
        return;
    }
    int fd = open_beneath(dirfd, rel, c->follow_symlinks);
    int err = errno;
    close(dirfd);
    if (fd < 0) {
        /* EXDEV: a ".." or symlink out of the root; ELOOP: a symlink refused */
        uw_res_error(res, err == ENOENT || err == ENOTDIR ? 404 : 403, NULL);
        return;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        close(fd);
        uw_res_error(res, 500, NULL);
        return;
    }
    if (S_ISDIR(st.st_mode)) {
        close(fd);
        uw_static_redirect_slash(req, res);
        return;
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        uw_res_error(res, 403, NULL);
        return;
    }
    const char *name = strrchr(rel, '/');
    send_fd(req, res, fd, &st, name ? name + 1 : rel, NULL, c->cache_control);
    close(fd);
}
