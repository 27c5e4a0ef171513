/*
 * files.h — files from a directory, on unix (a unikernel has no file
 * system: embed with uweb-crunch, static.h).
 *
 *     static const uw_static_dir_conf www = { .root = "/srv/www" };
 *     { UW_GET, "/files/<rest:path>", uw_static_dir, .arg = (void *)&www },
 *     { UW_GET, "/report", report },    // uw_res_file(req, res, "/var/lib/app/report.pdf", NULL)
 *
 * Answers as embedded assets do (the same engine, static.h): ETag (from
 * size and modification time) and Last-Modified, 304 for If-None-Match /
 * If-Modified-Since, one byte Range (206, 416, If-Range), HEAD, the
 * content type from the extension.  A directory asked with its slash
 * serves its index (index.html), without it gets 308 to "path/"; no
 * listing.  The body goes by sendfile on plain HTTP/1.1 connections
 * (uw_res_send_file, Range answers from their offset); over TLS, HTTP/2
 * or through uw_mw_compress it is read as it is sent (64 KiB at a time,
 * memory bounded).
 *
 * Nothing outside the root is reachable: the path is checked after
 * percent-decoding (segments "." and "..", a NUL, a backslash, encoded
 * slashes %2F and %5C in the raw path, and names starting with '.': 404),
 * then opened with openat2(RESOLVE_BENEATH), which refuses any ".." or
 * symlink leading out of the root (403); symlinks inside the root are
 * refused too unless .follow_symlinks (RESOLVE_NO_SYMLINKS).  Only
 * regular files are served (a FIFO or device: 403).
 */
#ifndef UWEB_FILES_H
#define UWEB_FILES_H

#include <uweb/http.h>
#include <stdbool.h>

typedef struct uw_static_dir_conf {
    const char *root;            /* the directory served */
    const char *index;           /* a directory's page, default "index.html" */
    const char *cache_control;   /* default "no-cache" */
    bool follow_symlinks;        /* symlinks that stay inside the root (default: refused) */
} uw_static_dir_conf;

/* A route handler; the route's arg is a const uw_static_dir_conf *; the
 * file is the <rest:path> capture (or the whole request path). */
void uw_static_dir(uw_req *req, uw_res *res);

/* Answers with one file (any path: the caller chose it), with the same
 * conditional and range handling.  content_type NULL: from the extension.
 * Returns UW_OK, or a negative status after answering 404/403/500. */
int uw_res_file(uw_req *req, uw_res *res, const char *path, const char *content_type);

#endif
