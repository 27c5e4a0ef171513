/*
 * Requests and responses, whatever the protocol: the accessors, the body
 * reads, and every uw_res_* call.  What HTTP says for every version is
 * applied here (one head per response; no body after HEAD or with 1xx,
 * 204 and 304; a declared length is exactly met; the body limit), then
 * the protocol's operations (req->ops, res->ops) move the bytes.
 */
#include "http_internal.h"
#include "../util/util.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *uw_http_reason(int status)
{
    switch (status) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 416: return "Range Not Satisfiable";
    case 417: return "Expectation Failed";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
    }
}

void uw__http_exchange_init(uw_req *req, uw_res *res, const uw_http_ops *ops, void *proto,
                            uw_arena *arena, const uw_http_config *cfg, char *hdrs, size_t hdrs_cap)
{
    memset(req, 0, sizeof *req);
    memset(res, 0, sizeof *res);
    req->ops = res->ops = ops;
    req->proto = res->proto = proto;
    req->res = res;
    req->arena = res->arena = arena;
    req->max_body = cfg->max_body;
    req->trust = cfg->trust_proxy;
    req->ntrust = cfg->ntrust_proxy;
    req->query = "";
    res->hdrs = hdrs;
    res->hdrs_cap = hdrs_cap;
    res->io_timeout = cfg->io_timeout;
}

/* ------------------------------------------------------------ request */

unsigned uw_req_method(const uw_req *req) { return req->method; }
const char *uw_req_method_name(const uw_req *req) { return req->method_name; }
const char *uw_req_path(const uw_req *req) { return req->path; }
const char *uw_req_query_string(const uw_req *req) { return req->query; }
int uw_req_http_minor(const uw_req *req) { return req->minor; }
bool uw_req_secure(const uw_req *req) { return req->secure; }

const char *uw_req_peer(const uw_req *req, char *buf, size_t n)
{
    char t[96];
    if (n == 0) return buf;
    const char *p = req->conn ? uw_conn_peer(req->conn, t, sizeof t) : "-";
    size_t len = strlen(p);
    if (p[0] == '[') {                              /* "[v6]:port" */
        const char *end = strchr(p, ']');
        p++, len = end ? (size_t)(end - p) : strlen(p);
    } else {                                        /* "v4:port", "unix", "-" */
        const char *colon = strchr(p, ':');
        if (colon && colon == strrchr(p, ':')) len = (size_t)(colon - p);
    }
    if (len >= n) len = n - 1;
    memcpy(buf, p, len);
    buf[len] = 0;
    uw__xff_client(req, buf, n);
    return buf;
}
int64_t uw_req_content_length(const uw_req *req) { return req->content_length; }
uw_arena *uw_req_arena(uw_req *req) { return req->arena; }

const char *uw_req_header(const uw_req *req, const char *name)
{
    size_t nl = strlen(name);
    for (size_t i = 0; i < req->nheaders; i++)
        if (req->headers[i].name_len == nl && strcasecmp(req->headers[i].name, name) == 0)
            return req->headers[i].value;
    return NULL;
}

size_t uw_req_header_count(const uw_req *req) { return req->nheaders; }

void uw_req_header_at(const uw_req *req, size_t i, const char **name, const char **value)
{
    if (i >= req->nheaders) { *name = *value = NULL; return; }
    *name = req->headers[i].name;
    *value = req->headers[i].value;
}

static ssize_t over_limit(uw_req *req)
{
    req->body_error = req->body_limit_hit = true;
    req->res->close = true;
    return UW_ELIMIT;
}

int uw__req_limit_body(uw_req *req, uint64_t max_body)
{
    if (max_body) req->max_body = max_body;
    if (req->content_length > 0 && (uint64_t)req->content_length > req->max_body) {
        over_limit(req);
        return UW_ELIMIT;
    }
    return UW_OK;
}

ssize_t uw_req_read_chunk(uw_req *req, const void **data)
{
    if (req->body_error) return UW_EPROTO;
    if (!req->has_body || req->body_done) return 0;
    if (req->content_length > 0 && (uint64_t)req->content_length > req->max_body) return over_limit(req);
    if (req->expect_continue && !req->continue_sent && !req->res->head_sent) {
        req->continue_sent = true;
        if (req->ops->send_continue(req) != UW_OK) return UW_ECLOSED;
    }
    size_t n = req->span_len;
    if (n) {
        *data = req->span;
        req->span_len = 0;
    } else {
        ssize_t k = req->ops->read_body(req, data);
        if (k == 0) {
            req->body_done = true;
            return 0;
        }
        if (k < 0) {
            req->body_error = true;
            req->res->close = true;
            return k;
        }
        n = (size_t)k;
    }
    req->body_read += n;
    if (req->body_read + req->body_extra > req->max_body) return over_limit(req);
    return (ssize_t)n;
}

ssize_t uw_req_read(uw_req *req, void *buf, size_t n)
{
    if (n == 0) return 0;
    if (req->span_len == 0) {
        const void *d;
        ssize_t k = uw_req_read_chunk(req, &d);
        if (k <= 0) return k;
        /* Put it back as the pending span and copy from there. */
        req->span = d;
        req->span_len = (size_t)k;
        req->body_read -= (uint64_t)k;
    }
    size_t k = req->span_len < n ? req->span_len : n;
    memcpy(buf, req->span, k);
    req->span += k;
    req->span_len -= k;
    req->body_read += k;
    if (req->body_read + req->body_extra > req->max_body) return over_limit(req);
    return (ssize_t)k;
}

/* ------------------------------------------------------------ response */

/* Sends the head once: the status checked, the framing HTTP asks for. */
static int send_head(uw_res *res)
{
    if (res->head_sent) return UW_EPROTO;
    res->head_sent = true;
    if (res->status < 100 || res->status > 999) res->status = res->status ? 500 : 200;
    if (res->status < 200 || res->status == 204 || res->status == 304) {
        res->no_body = true;
        res->has_length = true;
        res->content_length = 0;
    }
    return res->ops->send_head(res);
}

void uw_res_status(uw_res *res, int status) { if (!res->head_sent) res->status = status; }

static bool token_ok(const char *s)
{
    if (!*s) return false;
    for (; *s; s++)
        if (!uw__tchar((unsigned char)*s)) return false;
    return true;
}

int uw_res_header(uw_res *res, const char *name, const char *value)
{
    if (res->head_sent) return UW_EPROTO;
    if (!token_ok(name)) return UW_EINVAL;
    size_t nl = strlen(name), vl = 0;
    for (; value[vl]; vl++)
        if (value[vl] == '\r' || value[vl] == '\n') return UW_EINVAL;
    if (res->hdrs_len + nl + vl + 4 > res->hdrs_cap) return UW_ELIMIT;
    char *p = res->hdrs + res->hdrs_len;
    memcpy(p, name, nl); p += nl;
    *p++ = ':'; *p++ = ' ';
    memcpy(p, value, vl); p += vl;
    *p++ = '\r'; *p++ = '\n';
    res->hdrs_len = (size_t)(p - res->hdrs);
    return UW_OK;
}

int uw_res_headerf(uw_res *res, const char *name, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof buf) return UW_ELIMIT;
    return uw_res_header(res, name, buf);
}

int uw_res_slices(uw_res *res, int status, const char *content_type, const uw_slice *v, size_t n)
{
    if (res->head_sent) return UW_EPROTO;
    uw_res_status(res, status);
    if (content_type) {
        int r = uw_res_header(res, "Content-Type", content_type);
        if (r != UW_OK) return r;
    }
    uint64_t total = 0;
    for (size_t i = 0; i < n; i++) total += v[i].len;
    res->has_length = true;
    res->content_length = total;
    int r = send_head(res);
    if (r != UW_OK) return r;
    res->done = true;
    if (res->head_only || res->no_body) return res->ops->end(res);
    res->body_sent = total;
    if (total) r = res->ops->send_body(res, v, n);
    if (r == UW_OK) r = res->ops->end(res);
    return r;
}

int uw_res_send(uw_res *res, int status, const char *content_type, const void *body, size_t len)
{
    uw_slice s = { body, len };
    return uw_res_slices(res, status, content_type, &s, 1);
}

int uw_res_text(uw_res *res, int status, const char *text)
{
    return uw_res_send(res, status, "text/plain; charset=utf-8", text, strlen(text));
}

int uw_res_textf(uw_res *res, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) return UW_EINVAL;
    char *p = uw_arena_alloc(res->arena, (size_t)n + 1);
    if (!p) return UW_ENOMEM;
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return uw_res_send(res, status, "text/plain; charset=utf-8", p, (size_t)n);
}

int uw_res_error(uw_res *res, int status, const char *detail)
{
    if (detail && *detail)
        return uw_res_textf(res, status, "%d %s: %s\n", status, uw_http_reason(status), detail);
    return uw_res_textf(res, status, "%d %s\n", status, uw_http_reason(status));
}

void uw_res_content_length(uw_res *res, uint64_t len)
{
    if (res->head_sent) return;
    res->has_length = true;
    res->content_length = len;
}

int uw_res_begin(uw_res *res)
{
    if (res->head_sent) return UW_OK;
    int r = send_head(res);
    if (r == UW_OK) r = res->ops->flush(res);
    return r;
}

int uw_res_write(uw_res *res, const void *data, size_t n)
{
    int r;
    if (!res->head_sent && (r = uw_res_begin(res)) != UW_OK) return r;
    if (res->done || res->failed) return UW_ECLOSED;
    if (n == 0 || res->head_only) return UW_OK;
    if (res->has_length && res->body_sent + n > res->content_length) return UW_EINVAL;
    res->body_sent += n;
    return res->ops->write_body(res, data, n);
}

int uw_res_send_file(uw_res *res, int fd, uint64_t off, uint64_t len)
{
    int r;
    if (!res->head_sent && (r = uw_res_begin(res)) != UW_OK) return r;
    if (res->done || res->failed) return UW_ECLOSED;
    if (len == 0 || res->head_only) return UW_OK;
    if (res->has_length && res->body_sent + len > res->content_length) return UW_EINVAL;
    if (!res->ops->send_file) return 1;
    r = res->ops->send_file(res, fd, off, len);
    if (r == UW_OK) res->body_sent += len;
    return r;
}

int uw_res_end(uw_res *res)
{
    int r;
    if (!res->head_sent && (r = uw_res_begin(res)) != UW_OK) return r;
    if (res->done) return UW_OK;
    res->done = true;
    if (res->has_length && res->body_sent != res->content_length && !res->head_only) {
        res->close = true;       /* the client will see a short body */
        res->failed = true;
        res->ops->abort(res);
        return UW_EINVAL;
    }
    return res->ops->end(res);
}

int uw_res_pipe(uw_res *res, uw_pipe *p)
{
    int r = uw_res_begin(res);
    while (r == UW_OK) {
        const void *data;
        ssize_t n = uw_pipe_peek(p, &data, uw_now() + res->io_timeout);
        if (n == 0) break;
        if (n < 0) {
            r = (int)n;
            break;
        }
        r = uw_res_write(res, data, (size_t)n);
        uw_pipe_consume(p, (size_t)n);
    }
    if (r != UW_OK) {
        uw_pipe_close_read(p);
        uw_res_close(res);
        return r;
    }
    return uw_res_end(res);
}

bool uw_res_started(const uw_res *res) { return res->head_sent; }
bool uw_res_done(const uw_res *res) { return res->done; }

void uw_res_close(uw_res *res)
{
    res->close = true;
    if (res->head_sent && !res->done && !res->failed) {
        res->failed = true;
        res->ops->abort(res);
    }
}

/* ------------------------------------------------------------ exchange */

void uw__http_early_error(uw_res *res, int status, const char *why)
{
    res->close = true;
    if (!res->head_sent) uw_res_error(res, status, why);
}

int uw__http_upgrade(uw_req *req, uw_res *res, uw_http_upgraded *up)
{
    if (res->head_sent || !res->ops->upgrade) return UW_EPROTO;
    (void)req;
    res->status = 101;
    int r = res->ops->upgrade(res, up);
    if (r != UW_OK) {
        res->failed = true;
        return r;
    }
    res->head_sent = res->done = res->upgraded = true;
    res->close = true;
    return UW_OK;
}

void uw__http_exchange_finish(uw_req *req, uw_res *res)
{
    if (res->upgraded) {
        if (res->upgrade_end) res->upgrade_end(res->upgrade_arg);
        res->upgrade_end = NULL;
        return;
    }
    if (!res->head_sent) {
        if (req->body_limit_hit)
            uw_res_error(res, 413, "request body larger than this route accepts");
        else if (req->body_error)
            uw_res_error(res, 400, "malformed request body");
        else
            uw_res_error(res, 500, "the handler gave no answer");
    } else if (!res->done && !res->failed) {
        uw_res_end(res);
    }
}
