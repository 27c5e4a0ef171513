/*
 * static.h — static assets compiled into the binary.
 *
 * A unikernel has no file system, so pages, stylesheets and scripts are
 * embedded at build time by `uweb-crunch` (tools/crunch), which writes a C
 * source filling the structures below: one uw_static_set per invocation,
 * holding every asset with its URL path, content type, strong ETag and up
 * to three representations (identity, gzip, brotli).  Every byte lives in
 * `const` read-only data, split into chunks, so a response body is a list
 * of uw_slice pointing straight into the binary: nothing is copied.
 *
 * The module has two halves:
 *
 *   - the engine (every function here but uw_static_handler): pure
 *     decision logic with no I/O.  Given an asset and the request's
 *     method and conditional/negotiation headers as (ptr, len) runs, it
 *     decides status, representation, byte range and response headers.
 *     Header parsers have hard limits and never read outside the given
 *     bytes; malformed values are ignored as RFC 9110 allows.
 *   - the handler glue (static_web.c, uw_static_handler), which serves a
 *     set under a route prefix of the web framework (web.h).
 *
 * Memory: the asset set is static data owned by the program; every pointer
 * the engine returns points into it or into the caller's uw_static_response.
 * Nothing is allocated.
 *
 * Embedding, in an app's build.mk (see apps/crunchzip/build.mk):
 *
 *     build/gen/site.c build/include/site.h &: $(ASSET_FILES) build/tools/uweb-crunch
 *             build/tools/uweb-crunch -o build/gen/site.c -H build/include/site.h -n site apps/x/assets
 *
 * then `#include "site.h"` and route to uw_static_handler (below) with
 * `&(uw_static_mount){ &site, NULL }`.
 *
 * Calling pattern of the engine, per request (static_web.c does this, and
 * sets the headers through web.h instead of uw_static_headers):
 *
 *     const uw_static_asset *a = uw_static_find(&set, path, path_len);
 *     if (!a) -> 404 (or uw_static_find_dir for a redirect to "path/")
 *     uw_static_request rq = { .method = UW_STATIC_GET,
 *                              .accept_encoding = {p, n}, .range = ..., };
 *     uw_static_response rs;
 *     uw_static_decide(a, &rq, &rs);
 *     char head[UW_STATIC_HEADERS_MAX];
 *     size_t hn = uw_static_headers(a, &rs, "no-cache", head, sizeof head);
 *     uw_slice body[16];
 *     size_t nb = uw_static_body(a, &rs, body, 16);  // nb > 16: call again with room for nb
 *     -> status rs.status, header lines head[0..hn), body slices body[0..nb),
 *        sent only when rs.send_body (not for HEAD)
 */
#ifndef UWEB_STATIC_H
#define UWEB_STATIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "uweb/slice.h"

/* ------------------------------------------------------------ assets */

/* Representations of an asset, in the order the generated code stores them. */
typedef enum uw_static_encoding {
    UW_STATIC_IDENTITY = 0,
    UW_STATIC_GZIP = 1,
    UW_STATIC_BR = 2,
    UW_STATIC_ENCODINGS = 3
} uw_static_encoding;

/* One representation: its bytes as chunks, and its own strong ETag.
 * `etag == NULL` means the representation is absent (the compressed one
 * was not smaller than the original).  The identity one is always present. */
typedef struct uw_static_variant {
    const uw_slice *chunks;
    size_t nchunks;
    uint64_t size;          /* sum of the chunk lengths */
    const char *etag;       /* quoted, e.g. "\"3f2a...-1a2b\"" */
} uw_static_variant;

typedef struct uw_static_asset {
    const char *path;           /* URL path, starts with '/' */
    const char *content_type;   /* e.g. "text/css; charset=utf-8" */
    int64_t mtime;              /* Last-Modified, seconds since the epoch */
    uw_static_variant variant[UW_STATIC_ENCODINGS];
} uw_static_asset;

/* A path the server answers, mapped to its asset.  A directory's
 * index.html is reachable under the directory path too ("/docs/"). */
typedef struct uw_static_entry {
    const char *path;
    size_t path_len;
    const uw_static_asset *asset;
} uw_static_entry;

/* Entries are sorted by uw_static_path_cmp, paths are unique. */
typedef struct uw_static_set {
    const uw_static_entry *entries;
    size_t nentries;
    const uw_static_asset *assets;
    size_t nassets;
} uw_static_set;

/* The order of the entry table: bytewise, a shorter prefix first. */
int uw_static_path_cmp(const char *a, size_t alen, const char *b, size_t blen);

/* The asset served at the path (no query string), or NULL.  Binary search. */
const uw_static_asset *uw_static_find(const uw_static_set *set, const char *path, size_t len);

/* True when "path/" is a directory with an index (the caller redirects). */
bool uw_static_find_dir(const uw_static_set *set, const char *path, size_t len);

/* ------------------------------------------------------------ engine */

typedef enum uw_static_error {
    UW_STATIC_OK = 0,
    UW_STATIC_EINVAL,       /* NULL asset or request, unknown method */
    UW_STATIC_ENOSPACE      /* a caller buffer is too small */
} uw_static_error;

const char *uw_static_strerror(uw_static_error err);

typedef enum uw_static_method {
    UW_STATIC_GET = 0,
    UW_STATIC_HEAD = 1
} uw_static_method;

/* Header values as they arrived; `ptr == NULL` means the header is absent.
 * A header sent several times is passed joined with ", " (the caller's
 * job).  Values longer than UW_STATIC_HEADER_MAX are ignored. */
#define UW_STATIC_HEADER_MAX 4096
typedef struct uw_static_request {
    uw_static_method method;
    uw_slice if_none_match;
    uw_slice if_modified_since;
    uw_slice accept_encoding;
    uw_slice range;
    uw_slice if_range;
} uw_static_request;

typedef struct uw_static_response {
    int status;                 /* 200, 206, 304, 406 or 416 */
    uw_static_encoding encoding;/* the representation chosen */
    uint64_t offset;            /* first byte of the body in that representation */
    uint64_t length;            /* Content-Length (0 for 304) */
    uint64_t total;             /* size of the whole representation */
    bool send_body;             /* false for HEAD, 304, 406 and 416 */
    bool vary;                  /* the asset has compressed representations */
} uw_static_response;

/* Decides the answer to a GET or HEAD of `asset`:
 *   - Accept-Encoding (q-values, "*", "x-gzip", "identity;q=0") picks the
 *     representation, smallest first among the best-q ones; absent: identity;
 *     malformed: ignored (identity); nothing acceptable: 406.
 *   - If-None-Match (weak comparison, lists, "*") against the chosen
 *     representation's ETag -> 304; otherwise If-Modified-Since (only when
 *     If-None-Match is absent) against mtime -> 304.
 *   - Range "bytes=" (GET only) with one range: first-last, first-, -suffix
 *     -> 206; unsatisfiable -> 416; several ranges, other units or bad
 *     syntax -> the whole representation (200).  If-Range (strong ETag or
 *     the exact Last-Modified date) must match for Range to apply.
 * Never fails on header contents; EINVAL only for NULL arguments or an
 * unknown method. */
uw_static_error uw_static_decide(const uw_static_asset *asset, const uw_static_request *req,
                                 uw_static_response *out);

/* Bytes uw_static_headers may need with a Cache-Control up to 256 bytes. */
#define UW_STATIC_HEADERS_MAX 1024

/* Writes the response header lines ("Name: value\r\n" each, no status line,
 * no final blank line): Content-Type, Content-Length (not for 304),
 * Content-Encoding, Content-Range (206, 416), Accept-Ranges, ETag,
 * Last-Modified, Cache-Control (when non-NULL) and Vary.  Returns the
 * length written, or 0 when `cap` is too small (nothing useful written). */
size_t uw_static_headers(const uw_static_asset *asset, const uw_static_response *rs,
                         const char *cache_control, char *buf, size_t cap);

/* Fills `out` with the slices of the body [offset, offset + length) of the
 * chosen representation, pointing into the asset's read-only data, for a
 * 200 or 206 (also for HEAD: a server computing Content-Length from the
 * slices needs them; it just does not send them).  Returns how many slices
 * the body needs (0 for other statuses); when that exceeds `max`, only the
 * first `max` are written. */
size_t uw_static_body(const uw_static_asset *asset, const uw_static_response *rs,
                      uw_slice *out, size_t max);

/* ------------------------------------------------------------ handler
 * The glue with the web framework (web.h), in src/static/static_web.c. */

typedef struct uw_static_mount {
    const uw_static_set *set;
    const char *cache_control;  /* Cache-Control of every answer; NULL: "no-cache" */
} uw_static_mount;

struct uw_req;
struct uw_res;

/* A route handler (uw_handler) serving a set; the route's `arg` is a
 * `const uw_static_mount *`.  With a <rest:path> capture the asset path is
 * "/" + the capture, so "/assets/<rest:path>" mounts the set under
 * /assets/; without one it is the request path.  GET and HEAD (the router
 * sends HEAD to GET routes).  Unknown path: 404; a directory with an index
 * asked without its slash: 308 to "path/".  Example route line:
 *
 *     { UW_GET, "/<rest:path>", uw_static_handler, .arg = (void *)&site },
 */
void uw_static_handler(struct uw_req *req, struct uw_res *res);

/* The pieces of uw_static_handler, for handlers serving assets they build
 * themselves (uw_image_handler, include/uweb/image.h):
 *   uw_static_request_path: the asset path, "/" + the <rest:path> capture
 *   or the request path (*len its length); NULL when out of memory.
 *   uw_static_prepare: reads the request's conditional, negotiation and
 *   range headers, decides (uw_static_decide) and sets the answer's
 *   headers.  Returns true when the caller sends the body
 *   [out->offset, out->offset + out->length) with status out->status (200
 *   or 206) and the asset's content type; false when it has answered
 *   already (304, 406, 416, or 500).
 *   uw_static_redirect_slash: answers 308 to the request path + "/" (and
 *   its query), or 404 for a path starting with "//". */
const char *uw_static_request_path(struct uw_req *req, size_t *len);
bool uw_static_prepare(struct uw_req *req, struct uw_res *res, const uw_static_asset *asset,
                       const char *cache_control, uw_static_response *out);
void uw_static_redirect_slash(struct uw_req *req, struct uw_res *res);

/* ------------------------------------------------------------ parsers
 * Exposed for tests and the fuzz target; uw_static_decide uses them. */

/* Quality (0..1000) given to each representation by an Accept-Encoding
 * value; returns false when the value is malformed or too long. */
bool uw_static_parse_accept_encoding(const char *v, size_t len, int q[UW_STATIC_ENCODINGS]);

/* Outcome of parsing a Range value against a representation of `size` bytes. */
typedef enum uw_static_range_result {
    UW_STATIC_RANGE_IGNORE = 0,      /* not a single byte range: serve it whole */
    UW_STATIC_RANGE_OK,              /* [*first, *first + *length) */
    UW_STATIC_RANGE_UNSATISFIABLE    /* 416 */
} uw_static_range_result;
uw_static_range_result uw_static_parse_range(const char *v, size_t len, uint64_t size,
                                             uint64_t *first, uint64_t *length);

/* Whether an If-None-Match value matches `etag` (weak comparison). */
bool uw_static_etag_match(const char *v, size_t len, const char *etag);

/* Parses an HTTP date (IMF-fixdate, RFC 850 or asctime); false if invalid. */
bool uw_static_parse_http_date(const char *v, size_t len, int64_t *seconds);

/* Formats seconds since the epoch as an IMF-fixdate (29 chars + NUL). */
void uw_static_format_http_date(int64_t seconds, char out[30]);

/* The content type for a file name, from its extension (case-insensitive);
 * "application/octet-stream" when unknown.  Text types carry
 * "; charset=utf-8".  Used by uweb-crunch. */
const char *uw_static_content_type(const char *name);

#endif
