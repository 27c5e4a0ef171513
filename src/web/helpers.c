/* Small request and response helpers of the framework: the whole body,
 * redirects, the cookie key of --cookie-key-file. */
#include "web_internal.h"
#include "../http/http_internal.h"
#include "../util/util.h"
#include <uweb/random.h>

#include <stdio.h>
#include <stdlib.h>

#include <string.h>

int uw_req_body(uw_req *req, size_t max, char **data, size_t *len)
{
    uw_res *res = req->res;
    if (max == 0 || max > req->max_body) max = req->max_body > SIZE_MAX / 2 ? SIZE_MAX / 2 : (size_t)req->max_body;
    if (req->content_length > 0 && (uint64_t)req->content_length > max) {
        uw_res_close(res);
        uw_res_error(res, 413, "request body too large");
        return UW_ELIMIT;
    }
    size_t cap = req->content_length > 0 ? (size_t)req->content_length + 1 : 4096, n = 0;
    if (cap > max + 1) cap = max + 1;
    char *buf = uw_arena_alloc(req->arena, cap);
    if (!buf) {
        uw_res_error(res, 500, "out of request memory");
        return UW_ENOMEM;
    }
    const void *d;
    ssize_t k;
    while ((k = uw_req_read_chunk(req, &d)) > 0) {
        if (n + (size_t)k > max) {
            uw_res_close(res);
            uw_res_error(res, 413, "request body too large");
            return UW_ELIMIT;
        }
        if (n + (size_t)k + 1 > cap) {
            size_t nc = cap * 2;
            while (nc < n + (size_t)k + 1) nc *= 2;
            if (nc > max + 1) nc = max + 1;
            char *nb = uw_arena_alloc(req->arena, nc);
            if (!nb) {
                uw_res_error(res, 500, "out of request memory");
                return UW_ENOMEM;
            }
            memcpy(nb, buf, n);
            buf = nb;
            cap = nc;
        }
        memcpy(buf + n, d, (size_t)k);
        n += (size_t)k;
    }
    if (k < 0) {
        if (k == UW_ELIMIT) uw_res_error(res, 413, "request body too large");
        else uw_res_error(res, 400, "malformed request body");
        return (int)k;
    }
    buf[n] = 0;
    *data = buf;
    *len = n;
    return UW_OK;
}

int uw_res_redirect(uw_res *res, int status, const char *url)
{
    if (!url || strpbrk(url, "\r\n")) {
        uw_res_error(res, 500, "bad redirect target");
        return UW_EINVAL;
    }
    if (status != 301 && status != 302 && status != 303 && status != 307 && status != 308) status = 302;
    int r = uw_res_header(res, "Location", url);
    if (r != UW_OK) {
        uw_res_error(res, 500, "redirect target too long");
        return r;
    }
    return uw_res_textf(res, status, "%d %s: %s\n", status, uw_http_reason(status), url);
}

/* ------------------------------------------------------------ cookie key */

unsigned char uw__cookie_key[32];
bool uw__cookie_key_given, uw__cookie_key_made;

int uw__cookie_key_make(void)
{
    if (uw_random(uw__cookie_key, sizeof uw__cookie_key) != 0) return UW_EIO;
    uw__cookie_key_given = uw__cookie_key_made = true;
    return UW_OK;
}

int uw__cookie_key_parse(const void *data, size_t len, unsigned char key[32])
{
    const unsigned char *d = data;
    size_t hex = 0, other = 0;
    unsigned char k[32];
    for (size_t i = 0; i < len; i++) {
        int v = uw__hexval(d[i]);
        if (v >= 0) {
            if (hex < 64) k[hex / 2] = (unsigned char)(hex % 2 ? k[hex / 2] | v : v << 4);
            hex++;
        } else if (d[i] != ' ' && d[i] != '\n' && d[i] != '\r' && d[i] != '\t') {
            other++;
        }
    }
    if (hex == 64 && !other) {
        memcpy(key, k, 32);
        return UW_OK;
    }
    if (len == 32) {
        memcpy(key, data, 32);
        return UW_OK;
    }
    return UW_EINVAL;
}

int uw__cookie_key_load(const char *path, char *err, size_t errlen)
{
    size_t len = 0;
    char *data = uw__read_file(path, &len, err, errlen);
    if (!data) return UW_EINVAL;
    int r = uw__cookie_key_parse(data, len, uw__cookie_key);
    memset(data, 0, len);
    free(data);
    if (r != UW_OK) {
        snprintf(err, errlen, "%s: not a key (32 bytes, or 64 hex digits)", path);
        return r;
    }
    uw__cookie_key_given = true;
    return UW_OK;
}
