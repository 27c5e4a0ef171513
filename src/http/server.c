/*
 * The HTTP/1.1 server.
 *
 * Structure: one acceptor task, one sweeper task (closes idle keep-alive
 * connections, answers 503 to connections that waited too long for a
 * worker, frees unused workers), one signal task, under a memory budget
 * one evictor task, and worker tasks.  A connection (struct hconn) is
 * small; it borrows a worker — task, stack, input and output buffers,
 * request arena — while it has a request in flight and gives it back when
 * it goes idle with nothing buffered.  Parked connections are woken by
 * the network layer's notify callback.  Under a memory budget the workers
 * are counted: a connection that finds none waits (wait list), and takes
 * the worker of a stalled request head (slow list) whose bytes are kept
 * with its connection (held_head) until it sends more.
 *
 * Parsing: llhttp, paused at the end of the head, after each body span and
 * at the end of each message, so the handler runs between the head and
 * the body and pipelined requests stay in the buffer until their turn.
 * The head is parsed in place: header names, values and the path are
 * NUL-terminated inside the input buffer, which never moves while a head
 * is being parsed.
 *
 * Output: response heads and small bodies are formatted into the worker's
 * output buffer; larger bodies are referenced, not copied; everything
 * pending goes out in one writev when the input holds no further complete
 * request (so 16 pipelined requests get one write), when a body is
 * borrowed from the handler, or when the buffer is full.
 */
#include "http_internal.h"

#include <llhttp.h>

#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define OUT_CAP (16 * 1024)
#define IOV_MAX_PENDING 64
#define COPY_BODY_MAX 2048
#define FREE_WORKERS_MAX 256
/* Free workers beyond this many are freed after a second unused. */
#define FREE_WORKERS_KEEP 4
/* Over the worker budget, a connection whose head has been arriving for
 * this long gives its worker to a new one (slowloris; the head is kept and
 * resumed, so this can be short); one that waited this long for a worker
 * is answered 503. */
#define EVICT_AFTER UW_MS(10)
#define WAIT_FOR_WORKER UW_SEC(1)
#define RES_HDRS_CAP 4096
/* Chunked framing bounds (the shape of CVE-2024-22019: a chunk-size line
 * of megabytes kept a worker busy under any body limit).  Past them: 400.
 * Extension bytes and leading zeros also count against the body limit. */
#define CHUNK_EXT_MAX 256        /* extension bytes (names, values, ';' '=') per chunk */
#define CHUNK_SIZE_DIGITS_MAX 16 /* hex digits of a chunk size, leading zeros included */
/* Input buffer bytes kept for body reads after the longest head. */
#define BODY_ROOM 4096

typedef struct held_head held_head;

typedef struct hconn {
    uw_conn *c;
    held_head *held;             /* a head cut short by an eviction, parked */
    llhttp_t parser;
    uw_http_worker *w;
    struct hconn *prev, *next;   /* idle list while parked, or the list waiting for a worker */
    int64_t idle_since;          /* parked since, or waiting since */
    bool parked, waiting;
    bool promised;               /* waiting, and an evicted worker's place is for it */
} hconn;

struct uw_http_worker {
    uw_task *task;
    hconn *hc;
    uw_waitq wake;
    uw_http_worker *next_free;
    int64_t free_since;
    /* on the list of workers waiting for the rest of a request head */
    uw_http_worker *slow_prev, *slow_next;
    int64_t head_since;
    bool slow, evicted, retire;
    char *in;
    size_t in_cap, in_len, in_pos;
    size_t body_base;            /* in[0..body_base) is the pinned request head */
    char *out;
    size_t out_len, out_seg;     /* bytes used; start of the open segment */
    uw_slice iov[IOV_MAX_PENDING];
    size_t niov;
    bool must_flush;             /* a borrowed slice is pending */
    uw_arena arena;
    uw_header *headers;
    uw_req req;
    uw_res res;
    char res_hdrs[RES_HDRS_CAP];
    /* parser callbacks' scratch */
    const char *head_start;
    char *url;
    size_t url_len;
    enum { FIELD_BETWEEN, FIELD_NAME, FIELD_VALUE } field;   /* where the head's parse is */
    size_t nfields;
    size_t trailer_len;
    /* chunk-size line being parsed: its digits are counted before llhttp
     * sees them (llhttp has no callback for them) */
    bool in_size_line, size_nonzero, chunk_bad, last_chunk;
    unsigned size_digits, size_zeros;
    size_t chunk_ext;
    bool head_too_big, too_many_headers, headers_done, message_done;
};

static struct server {
    uw_http_config cfg;
    uw_http_dispatch dispatch;
    void *dispatch_arg;
    llhttp_settings_t settings;
    uw_listener *listener;
    uw_task *acceptor, *sweeper, *signals, *reaper, *evictor;
    size_t nconns, nworkers;
    uw_http_worker *free_workers;
    size_t nfree;
    size_t max_workers, nevicted;  /* from cfg.memory_budget; evicted, not yet gone */
    size_t worker_bytes;
    uw_http_worker *slow_head, *slow_tail;
    size_t held_bytes, nheld;      /* in held_head records, at most memory_budget / 4 */
    size_t evictions;              /* since the sweeper's last line */
    hconn *idle_head, *idle_tail;
    hconn *wait_head, *wait_tail;  /* have data, wait for a worker (promised ones first) */
    uw_waitq evict_wake;           /* the evictor: connections started waiting */
    bool stopping;
    uw_waitq stop_wait;          /* the reaper waits for workers to drain */
    char date[64];               /* "Date: ...\r\n" */
    size_t date_len;
    int64_t date_sec;
} S;

/* ------------------------------------------------------------ helpers */

const char *uw_http_reason(int status)
{
    switch (status) {
    case 100: return "Continue";
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

void uw_http_config_default(uw_http_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->addr = "127.0.0.1";
    cfg->port = 8080;
    cfg->max_head_bytes = 8 * 1024;
    cfg->max_headers = 64;
    cfg->max_body = 1024 * 1024;
    cfg->header_timeout = UW_SEC(10);
    cfg->idle_timeout = UW_SEC(30);
    cfg->io_timeout = UW_SEC(60);
    cfg->max_connections = 16384;
    cfg->shutdown_grace = UW_SEC(10);
    cfg->stack_size = 64 * 1024;
    cfg->arena_limit = 16 * 1024 * 1024;
    cfg->memory_budget = uw__http_memory_budget();
}

static void logf_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logf_(const char *fmt, ...)
{
    if (!S.cfg.log) return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(S.cfg.log, fmt, ap);
    va_end(ap);
    fputc('\n', S.cfg.log);
    fflush(S.cfg.log);
}

/* "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n" (IMF-fixdate), formatted when
 * the second changes.  Our own calendar arithmetic, so unikernels need no
 * time zone code. */
static void update_date(void)
{
    static const char days[7][4] = { "Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed" };
    static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
    int64_t sec = uw_wall_now() / 1000000000;
    if (sec == S.date_sec) return;
    S.date_sec = sec;
    int64_t day = sec / 86400, rem = sec % 86400;
    if (rem < 0) { rem += 86400; day--; }
    /* civil date from days since 1970-01-01 (Howard Hinnant's algorithm) */
    int64_t z = day + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t d = doy - (153 * mp + 2) / 5 + 1, m = mp < 10 ? mp + 3 : mp - 9;
    int64_t y = yoe + era * 400 + (m <= 2);
    int wd = (int)(((day % 7) + 7) % 7);
    S.date_len = (size_t)snprintf(S.date, sizeof S.date, "Date: %s, %02d %s %04d %02d:%02d:%02d GMT\r\n",
                                  days[wd], (int)d, months[m - 1], (int)y,
                                  (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60));
}

/* ------------------------------------------------------------ output */

static void out_seal(uw_http_worker *w)
{
    if (w->out_len > w->out_seg) {
        w->iov[w->niov++] = (uw_slice){ w->out + w->out_seg, w->out_len - w->out_seg };
        w->out_seg = w->out_len;
    }
}

static int flush(uw_http_worker *w)
{
    out_seal(w);
    int r = UW_OK;
    if (w->niov) r = uw_conn_writev(w->hc->c, w->iov, w->niov, uw_now() + S.cfg.io_timeout);
    w->niov = 0;
    w->out_len = w->out_seg = 0;
    w->must_flush = false;
    if (r != UW_OK) w->res.failed = true;
    return r;
}

/* Room for n more bytes in the output buffer (flushing if needed). */
static int out_reserve(uw_http_worker *w, size_t n)
{
    if (OUT_CAP - w->out_len >= n && w->niov < IOV_MAX_PENDING - 2) return UW_OK;
    int r = flush(w);
    if (r != UW_OK) return r;
    return n <= OUT_CAP ? UW_OK : UW_ELIMIT;
}

/* References n bytes that stay valid until the next flush. */
static int out_ref(uw_http_worker *w, const void *p, size_t n)
{
    out_seal(w);
    if (w->niov >= IOV_MAX_PENDING - 1) {
        int r = flush(w);
        if (r != UW_OK) return r;
    }
    w->iov[w->niov++] = (uw_slice){ p, n };
    w->must_flush = true;
    return UW_OK;
}

/* Copies n bytes into the output, or references them when large (the
 * caller guarantees they live until flushed). */
static int out_bytes(uw_http_worker *w, const void *p, size_t n)
{
    if (n > OUT_CAP / 2) return out_ref(w, p, n);
    int r = out_reserve(w, n);
    if (r != UW_OK) return r;
    memcpy(w->out + w->out_len, p, n);
    w->out_len += n;
    return UW_OK;
}

/* A body the handler lends until it returns: small ones are copied so
 * pipelined answers still go out in one write. */
static int out_borrow(uw_http_worker *w, const void *p, size_t n)
{
    if (n == 0) return UW_OK;
    return n <= COPY_BODY_MAX ? out_bytes(w, p, n) : out_ref(w, p, n);
}


/* ------------------------------------------------------------ response */

static bool keep_alive(uw_http_worker *w)
{
    return !w->res.close && !S.stopping;
}

/* Writes the status line and headers.  body_len < 0: streamed. */
/* Appends n bytes; the caller reserved room. */
static inline void put(uw_http_worker *w, const char *p, size_t n)
{
    memcpy(w->out + w->out_len, p, n);
    w->out_len += n;
}
#define PUT_LIT(w, s) put((w), (s), sizeof(s) - 1)

static void put_u64(uw_http_worker *w, uint64_t v)
{
    char tmp[20];
    size_t n = 0;
    do { tmp[n++] = (char)('0' + v % 10); v /= 10; } while (v);
    while (n) w->out[w->out_len++] = tmp[--n];
}

/* Writes the status line and headers.  body_len < 0: streamed.  No
 * printf: this runs once per response. */
static int send_head(uw_res *res, int64_t body_len)
{
    uw_http_worker *w = res->w;
    uw_req *req = &w->req;
    if (res->head_sent) return UW_EPROTO;
    res->head_sent = true;
    if (res->status < 100 || res->status > 999) res->status = res->status ? 500 : 200;
    if (!S.date_len) update_date();
    int r = out_reserve(w, 256 + res->hdrs_len);
    if (r != UW_OK) return r;
    if (res->status == 200) {
        PUT_LIT(w, "HTTP/1.1 200 OK\r\nServer: uweb\r\n");
    } else {
        const char *reason = uw_http_reason(res->status);
        PUT_LIT(w, "HTTP/1.1 ");
        put_u64(w, (uint64_t)res->status);
        w->out[w->out_len++] = ' ';
        put(w, reason, strlen(reason));
        PUT_LIT(w, "\r\nServer: uweb\r\n");
    }
    put(w, S.date, S.date_len);
    put(w, res->hdrs, res->hdrs_len);
    bool bodyless = res->status < 200 || res->status == 204 || res->status == 304;
    if (bodyless) {
        res->has_length = true;
        res->content_length = 0;
    } else if (body_len >= 0 || res->has_length) {
        if (body_len >= 0) res->content_length = (uint64_t)body_len;
        res->has_length = true;
        PUT_LIT(w, "Content-Length: ");
        put_u64(w, res->content_length);
        PUT_LIT(w, "\r\n");
    } else if (req->minor >= 1) {
        res->chunked = true;
        PUT_LIT(w, "Transfer-Encoding: chunked\r\n");
    } else {
        res->close = true;       /* HTTP/1.0: the end of the body is the close */
    }
    /* A request whose body was not read (and cannot be skipped) ends the
     * connection: the next request would start inside it. */
    if (req->has_body && !req->body_done && req->expect_continue && !req->continue_sent)
        res->close = true;
    if (!keep_alive(w))
        PUT_LIT(w, "Connection: close\r\n\r\n");
    else if (req->minor == 0)
        PUT_LIT(w, "Connection: keep-alive\r\n\r\n");
    else
        PUT_LIT(w, "\r\n");
    return UW_OK;
}

void uw_res_status(uw_res *res, int status) { if (!res->head_sent) res->status = status; }

/* RFC 9110 tchar, as a bitmap over 7-bit characters. */
static bool tchar(unsigned char c)
{
    static const uint32_t map[4] = {
        0x00000000,                 /* controls */
        0x03ff6cfa,                 /* ! # $ % & ' * + - . 0-9 */
        0xc7fffffe,                 /* A-Z ^ _ */
        0x57ffffff,                 /* ` a-z | ~ */
    };
    return c < 128 && (map[c >> 5] >> (c & 31) & 1);
}

static bool token_ok(const char *s)
{
    if (!*s) return false;
    for (; *s; s++)
        if (!tchar((unsigned char)*s)) return false;
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
    int r = send_head(res, (int64_t)total);
    if (r != UW_OK) return r;
    if (!res->head_only) {
        for (size_t i = 0; i < n && r == UW_OK; i++) r = out_borrow(res->w, v[i].ptr, v[i].len);
        res->body_sent = total;
    }
    res->done = true;
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
    char *p = uw_arena_alloc(&res->w->arena, (size_t)n + 1);
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
    int r = send_head(res, -1);
    if (r == UW_OK) r = flush(res->w);
    return r;
}

int uw_res_write(uw_res *res, const void *data, size_t n)
{
    int r;
    if (!res->head_sent && (r = uw_res_begin(res)) != UW_OK) return r;
    if (res->done || res->failed) return UW_ECLOSED;
    if (n == 0 || res->head_only) return UW_OK;
    uw_http_worker *w = res->w;
    if (res->has_length && res->body_sent + n > res->content_length) return UW_EINVAL;
    res->body_sent += n;
    if (res->chunked) {
        char hdr[24];
        int hl = snprintf(hdr, sizeof hdr, "%zx\r\n", n);
        if ((r = out_bytes(w, hdr, (size_t)hl)) != UW_OK) return r;
        if (n <= COPY_BODY_MAX) {
            if ((r = out_bytes(w, data, n)) != UW_OK) return r;
        } else {
            out_seal(w);
            w->iov[w->niov++] = (uw_slice){ data, n };
        }
        if ((r = out_bytes(w, "\r\n", 2)) != UW_OK) return r;
    } else {
        if ((r = out_bytes(w, data, n)) != UW_OK) return r;
    }
    /* Streamed data is the caller's buffer: send it now. */
    return flush(w);
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
        return UW_EINVAL;
    }
    if (res->chunked && !res->head_only) return out_bytes(res->w, "0\r\n\r\n", 5);
    return UW_OK;
}

int uw_res_pipe(uw_res *res, uw_pipe *p)
{
    int r = uw_res_begin(res);
    while (r == UW_OK) {
        const void *data;
        ssize_t n = uw_pipe_peek(p, &data, uw_now() + S.cfg.io_timeout);
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
    if (res->head_sent && !res->done) res->failed = true;
}

/* ------------------------------------------------------------ parser glue */

static uw_http_worker *W(llhttp_t *p) { return ((hconn *)p->data)->w; }

static int on_message_begin(llhttp_t *p)
{
    uw_http_worker *w = W(p);
    w->url = NULL;
    w->url_len = 0;
    w->nfields = 0;
    w->trailer_len = 0;
    w->field = FIELD_BETWEEN;
    w->headers_done = w->message_done = false;
    /* The previous message's end may have been parsed after this request
     * record was reset: it says nothing about this request's body. */
    w->req.body_done = false;
    return 0;
}

static int on_url(llhttp_t *p, const char *at, size_t len)
{
    uw_http_worker *w = W(p);
    if (!w->url) w->url = (char *)at;
    w->url_len += len;
    return 0;
}

/* Trailer fields (after a chunked body) are ignored, but their bytes are
 * bounded like a head's. */
static int trailer_bytes(uw_http_worker *w, size_t len)
{
    w->trailer_len += len;
    return w->trailer_len > S.cfg.max_head_bytes ? HPE_USER : 0;
}

static int on_header_field(llhttp_t *p, const char *at, size_t len)
{
    uw_http_worker *w = W(p);
    if (w->headers_done) return trailer_bytes(w, len);
    if (w->field != FIELD_NAME) {
        if (w->nfields >= S.cfg.max_headers) {
            w->too_many_headers = true;
            return HPE_USER;
        }
        w->headers[w->nfields++] = (uw_header){ at, NULL, 0, 0 };
        w->field = FIELD_NAME;
    }
    w->headers[w->nfields - 1].name_len += len;
    return 0;
}

/* A field line that starts with its colon (": a"): llhttp has no name
 * span to report, so it shows as a value with no name before it. */
static int empty_field_name(llhttp_t *p)
{
    llhttp_set_error_reason(p, "empty header field name");
    return HPE_USER;
}

static int on_header_value(llhttp_t *p, const char *at, size_t len)
{
    uw_http_worker *w = W(p);
    if (w->headers_done) return trailer_bytes(w, len);
    if (w->field == FIELD_BETWEEN) return empty_field_name(p);
    uw_header *h = &w->headers[w->nfields - 1];
    if (w->field == FIELD_NAME) {
        w->field = FIELD_VALUE;
        h->value = at;
    }
    h->value_len += len;
    return 0;
}

static int on_header_value_complete(llhttp_t *p)
{
    uw_http_worker *w = W(p);
    if (w->headers_done) return 0;
    if (w->field == FIELD_BETWEEN) return empty_field_name(p);
    uw_header *h = &w->headers[w->nfields - 1];
    if (w->field == FIELD_NAME) {   /* empty value: no value callback */
        h->value = h->name + h->name_len + 1;
        h->value_len = 0;
    }
    w->field = FIELD_BETWEEN;
    return 0;
}

/* A chunk-size line starts here (after the head, after each chunk). */
static void size_line_start(uw_http_worker *w)
{
    w->in_size_line = true;
    w->size_nonzero = false;
    w->size_digits = w->size_zeros = 0;
    w->chunk_ext = 0;
}

static int on_headers_complete(llhttp_t *p)
{
    uw_http_worker *w = W(p);
    w->headers_done = true;
    if (p->flags & F_CHUNKED) size_line_start(w);
    return HPE_PAUSED;
}

/* Chunk extensions are parsed by llhttp and ignored, but bounded: their
 * names and values, and one separator for each (';' or '='). */
static int chunk_ext_bytes(llhttp_t *p, size_t n)
{
    uw_http_worker *w = W(p);
    w->chunk_ext += n;
    w->req.body_extra += n;
    if (w->chunk_ext <= CHUNK_EXT_MAX) return 0;
    llhttp_set_error_reason(p, "chunk extensions too long");
    return HPE_USER;
}
static int on_chunk_ext_data(llhttp_t *p, const char *at, size_t len) { (void)at; return chunk_ext_bytes(p, len); }
static int on_chunk_ext_done(llhttp_t *p) { return chunk_ext_bytes(p, 1); }

static int on_chunk_header(llhttp_t *p)
{
    W(p)->last_chunk = p->content_length == 0;
    return 0;
}

/* Paused so that parse_some sees where the next chunk-size line starts;
 * after the last chunk (and its trailers) the message ends instead. */
static int on_chunk_complete(llhttp_t *p)
{
    uw_http_worker *w = W(p);
    if (w->last_chunk) return 0;
    size_line_start(w);
    return HPE_PAUSED;
}

static int on_body(llhttp_t *p, const char *at, size_t len)
{
    uw_req *req = &W(p)->req;
    req->span = at;
    req->span_len = len;
    return HPE_PAUSED;
}

static int on_message_complete(llhttp_t *p)
{
    uw_http_worker *w = W(p);
    w->message_done = true;
    w->req.body_done = true;
    return HPE_PAUSED;
}

static void settings_init(void)
{
    llhttp_settings_init(&S.settings);
    S.settings.on_message_begin = on_message_begin;
    S.settings.on_url = on_url;
    S.settings.on_header_field = on_header_field;
    S.settings.on_header_value = on_header_value;
    S.settings.on_header_value_complete = on_header_value_complete;
    S.settings.on_headers_complete = on_headers_complete;
    S.settings.on_body = on_body;
    S.settings.on_message_complete = on_message_complete;
    S.settings.on_chunk_extension_name = on_chunk_ext_data;
    S.settings.on_chunk_extension_value = on_chunk_ext_data;
    S.settings.on_chunk_extension_name_complete = on_chunk_ext_done;
    S.settings.on_chunk_extension_value_complete = on_chunk_ext_done;
    S.settings.on_chunk_header = on_chunk_header;
    S.settings.on_chunk_complete = on_chunk_complete;
}

/* Runs the parser over buffered input from in_pos.  Returns HPE_OK when
 * all input was consumed, HPE_PAUSED at a pause point, or an error. */
/* Counts the hex digits at the start of a chunk-size line in the bytes
 * about to be parsed (the line may arrive in pieces).  False past
 * CHUNK_SIZE_DIGITS_MAX; leading zeros count against the body limit. */
static bool scan_size_digits(uw_http_worker *w)
{
    for (size_t i = w->in_pos; i < w->in_len; i++) {
        unsigned char c = (unsigned char)w->in[i];
        if (!isxdigit(c)) {
            w->in_size_line = false;
            /* "0" alone is the last chunk's size, not a leading zero */
            w->req.body_extra += w->size_nonzero || !w->size_zeros ? w->size_zeros : w->size_zeros - 1;
            return true;
        }
        if (c != '0') w->size_nonzero = true;
        else if (!w->size_nonzero) w->size_zeros++;
        if (++w->size_digits > CHUNK_SIZE_DIGITS_MAX) return false;
    }
    return true;
}

static llhttp_errno_t parse_some(uw_http_worker *w)
{
    llhttp_t *p = &w->hc->parser;
    if (w->chunk_bad) return HPE_USER;
    if (w->in_size_line && !scan_size_digits(w)) {
        w->chunk_bad = true;     /* sticky: the connection is closed */
        return HPE_USER;
    }
    if (llhttp_get_errno(p) == HPE_PAUSED) llhttp_resume(p);
    const char *start = w->in + w->in_pos;
    llhttp_errno_t e = llhttp_execute(p, start, w->in_len - w->in_pos);
    if (e == HPE_OK) {
        w->in_pos = w->in_len;
    } else if (e == HPE_PAUSED) {
        w->in_pos = (size_t)(llhttp_get_error_pos(p) - w->in);
    } else if (e == HPE_PAUSED_UPGRADE) {
        /* llhttp stops after a message that asked for Upgrade (h2c,
         * websocket) or was a CONNECT.  No route takes an upgrade, so the
         * request was answered as an ordinary one (RFC 9110 §7.8: a server
         * may ignore Upgrade) and what follows is HTTP/1 again. */
        w->in_pos = (size_t)(llhttp_get_error_pos(p) - w->in);
        llhttp_resume_after_upgrade(p);
        e = HPE_PAUSED;
    }
    return e;
}

/* ------------------------------------------------------------ request body */

/* Reads more body bytes.  The request head stays where it was parsed
 * (in[0..body_base)) for the whole request: its names, values, path and
 * query are what the accessors return, so body bytes only ever reuse the
 * buffer after it. */
static int read_more(uw_http_worker *w, int64_t deadline)
{
    size_t base = w->body_base;
    if (w->in_pos == w->in_len) w->in_pos = w->in_len = base;
    if (w->in_len == w->in_cap) {
        /* Body bytes already handed out can be dropped. */
        memmove(w->in + base, w->in + w->in_pos, w->in_len - w->in_pos);
        w->in_len -= w->in_pos - base;
        w->in_pos = base;
    }
    ssize_t n = uw_conn_read(w->hc->c, w->in + w->in_len, w->in_cap - w->in_len, deadline);
    if (n == 0) return UW_ECLOSED;
    if (n < 0) return (int)n;
    w->in_len += (size_t)n;
    return UW_OK;
}

int uw__http_check_body_limit(uw_req *req)
{
    if (req->content_length > 0 && (uint64_t)req->content_length > req->max_body) return UW_ELIMIT;
    return UW_OK;
}

ssize_t uw_req_read_chunk(uw_req *req, const void **data)
{
    uw_http_worker *w = req->w;
    if (req->body_error) return UW_EPROTO;
    if (!req->has_body) return 0;
    if (uw__http_check_body_limit(req) != UW_OK) {
        req->body_error = req->body_limit_hit = true;
        w->res.close = true;
        return UW_ELIMIT;
    }
    if (req->expect_continue && !req->continue_sent && !w->res.head_sent) {
        req->continue_sent = true;
        if (out_bytes(w, "HTTP/1.1 100 Continue\r\n\r\n", 25) != UW_OK || flush(w) != UW_OK)
            return UW_ECLOSED;
    }
    for (;;) {
        if (req->span_len) {
            size_t n = req->span_len;
            *data = req->span;
            req->span_len = 0;
            req->body_read += n;
            if (req->body_read + req->body_extra > req->max_body) {
                req->body_error = req->body_limit_hit = true;
                w->res.close = true;
                return UW_ELIMIT;
            }
            return (ssize_t)n;
        }
        if (req->body_done) return 0;
        if (!req->chunked && req->body_read >= (uint64_t)req->content_length) {
            req->body_done = true;   /* the parser ends the message on its next run */
            return 0;
        }
        if (w->in_pos < w->in_len) {
            llhttp_errno_t e = parse_some(w);
            if (e != HPE_OK && e != HPE_PAUSED) {
                req->body_error = true;
                w->res.close = true;
                return UW_EPROTO;
            }
            continue;
        }
        int r = read_more(w, uw_now() + S.cfg.io_timeout);
        if (r != UW_OK) {
            req->body_error = true;
            w->res.close = true;
            return r;
        }
    }
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
    if (req->body_read + req->body_extra > req->max_body) {
        req->body_error = req->body_limit_hit = true;
        req->w->res.close = true;
        return UW_ELIMIT;
    }
    return (ssize_t)k;
}

/* Skips what the handler left of the body, within limits; false when the
 * connection cannot be reused. */
static bool discard_body(uw_http_worker *w)
{
    uw_req *req = &w->req;
    if (!req->has_body || req->body_done) return !req->body_error;
    if (req->body_error) return false;
    if (req->expect_continue && !req->continue_sent) return false;
    /* more than this unread (data, extensions, leading zeros): close instead */
    uint64_t limit = req->body_read + req->body_extra + 256 * 1024;
    req->max_body = UINT64_MAX;
    for (;;) {
        const void *d;
        ssize_t n = uw_req_read_chunk(req, &d);
        if (n == 0) return true;
        if (n < 0 || req->body_read + req->body_extra > limit) return false;
    }
}

/* ------------------------------------------------------------ requests */

static unsigned method_bit(uint8_t m)
{
    switch (m) {
    case HTTP_GET: return UW_GET;
    case HTTP_HEAD: return UW_HEAD;
    case HTTP_POST: return UW_POST;
    case HTTP_PUT: return UW_PUT;
    case HTTP_DELETE: return UW_DELETE;
    case HTTP_PATCH: return UW_PATCH;
    case HTTP_OPTIONS: return UW_OPTIONS;
    default: return UW_OTHER_METHOD;
    }
}

/* Answers an error found before the handler ran, then closes. */
static void early_error(uw_http_worker *w, int status, const char *why)
{
    uw_res *res = &w->res;
    res->close = true;
    if (!res->head_sent) uw_res_error(res, status, why);
    logf_("uweb: %d %s", status, why);
}

/* Turns the parsed head into the request record.  Returns 0 or an HTTP
 * status to answer with. */
static int build_request(uw_http_worker *w, const char **why)
{
    llhttp_t *p = &w->hc->parser;
    uw_req *req = &w->req;
    req->method = method_bit(p->method);
    req->method_name = llhttp_method_name((llhttp_method_t)p->method);
    req->minor = p->http_major == 1 ? p->http_minor : 1;
    if (p->http_major != 1) { *why = "only HTTP/1.x is served here"; return 505; }
    if (!w->url || w->url_len == 0) { *why = "empty request target"; return 400; }

    /* request-line = method SP request-target SP HTTP-version, one SP
     * each (llhttp lets runs of spaces through). */
    if (w->url[-1] != ' ' || w->url[-2] == ' ' || w->url[w->url_len] != ' ' || w->url[w->url_len + 1] == ' ') {
        *why = "more than one space between the parts of the request line";
        return 400;
    }
    /* NUL-terminate in place; every byte written over was consumed. */
    w->url[w->url_len] = 0;
    req->headers = w->headers;
    req->nheaders = w->nfields;
    bool host = false, te = false;
    for (size_t i = 0; i < w->nfields; i++) {
        uw_header *h = &w->headers[i];
        /* field-name = token: llhttp lets a space inside it ("X Y: a")
         * or before the colon through. */
        for (size_t k = 0; k < h->name_len; k++)
            if (!tchar((unsigned char)h->name[k])) { *why = "malformed header field name"; return 400; }
        if (h->name_len == 0) { *why = "empty header field name"; return 400; }
        ((char *)h->name)[h->name_len] = 0;
        /* llhttp hands a folded line (obs-fold) over as part of the value:
         * refuse it, as RFC 9112 allows, rather than guess. */
        if (memchr(h->value, '\n', h->value_len) || memchr(h->value, '\r', h->value_len)) {
            *why = "obsolete line folding in a header";
            return 400;
        }
        ((char *)h->value)[h->value_len] = 0;
        /* Trailing whitespace is not part of a field value. */
        while (h->value_len && (h->value[h->value_len - 1] == ' ' || h->value[h->value_len - 1] == '\t'))
            ((char *)h->value)[--h->value_len] = 0;
        if (h->name_len == 4 && strcasecmp(h->name, "host") == 0) {
            if (host) { *why = "more than one Host header"; return 400; }
            if (!uw__http_host_ok(h->value, h->value_len)) { *why = "malformed Host header"; return 400; }
            host = true;
        } else if (h->name_len == 17 && strcasecmp(h->name, "transfer-encoding") == 0) {
            te = true;
        } else if (h->name_len == 6 && strcasecmp(h->name, "expect") == 0) {
            if (strcasecmp(h->value, "100-continue") != 0) { *why = "unsupported expectation"; return 417; }
            req->expect_continue = req->minor >= 1;
        }
    }
    if (req->minor >= 1 && !host) { *why = "HTTP/1.1 request without Host"; return 400; }

    /* The request-target by RFC 9112's grammar (target.c); the router
     * gets the path of an origin- or absolute-form target, "*" for a
     * server-wide OPTIONS. */
    uw_target t;
    bool connect = p->method == HTTP_CONNECT;
    const char *bad = uw__http_parse_target(w->url, w->url_len, req->method, connect, &t);
    if (bad) { *why = bad; return 400; }
    req->path = t.path;
    req->path_len = t.path_len;
    req->query = t.query;
    if (connect) {
        /* No route tunnels; what follows a CONNECT head is not HTTP. */
        w->res.close = true;
        *why = "CONNECT is not served here";
        return 501;
    }

    req->chunked = (p->flags & F_CHUNKED) != 0;
    if (te && !req->chunked) { *why = "Transfer-Encoding without chunked as the final coding"; return 400; }
    if (req->chunked) {
        req->content_length = -1;
        req->has_body = true;
    } else if (p->flags & F_CONTENT_LENGTH) {
        req->content_length = (int64_t)p->content_length;
        req->has_body = p->content_length > 0;
    } else {
        req->content_length = 0;
        req->has_body = false;
    }
    if (!req->has_body) req->body_done = w->message_done;
    if (!llhttp_should_keep_alive(p)) w->res.close = true;
    return 0;
}

static void reset_request(uw_http_worker *w)
{
    uw_arena_reset(&w->arena);
    memset(&w->req, 0, sizeof w->req);
    memset(&w->res, 0, sizeof w->res);
    w->req.w = w;
    w->req.arena = &w->arena;
    w->req.max_body = S.cfg.max_body;
    w->res.w = w;
    w->res.hdrs = w->res_hdrs;
    w->res.hdrs_cap = sizeof w->res_hdrs;
    w->head_too_big = w->too_many_headers = false;
    w->headers_done = w->message_done = false;
    w->in_size_line = w->chunk_bad = w->last_chunk = false;
}

enum head_result { HEAD_OK, HEAD_PARK, HEAD_HELD, HEAD_CLOSE };

/* A request head whose worker was taken back (evict_for) while it was
 * still arriving: the bytes llhttp has already consumed and the spans
 * recorded in them, as offsets.  llhttp keeps no pointer into the input
 * between calls, so a new worker copies the bytes into its buffer,
 * rebases the spans and goes on where the old one stopped. */
typedef struct held_field { size_t name_off, name_len, value_off, value_len; } held_field;
struct held_head {
    int64_t deadline;
    size_t size, len, url_off, url_len, nfields;
    int field;
    bool has_url;
    held_field *fields;          /* nfields, after the struct */
    char *bytes;                 /* len, after the fields */
};

static bool hold_head(uw_http_worker *w, size_t head_start, int64_t deadline)
{
    hconn *hc = w->hc;
    size_t len = w->in_len - head_start;
    size_t size = sizeof(held_head) + w->nfields * sizeof(held_field) + len;
    if (hc->held || S.held_bytes + size > S.cfg.memory_budget / 4) return false;
    held_head *h = malloc(size);
    if (!h) return false;
    const char *base = w->in + head_start;
    h->size = size;
    h->deadline = deadline;
    h->len = len;
    h->has_url = w->url != NULL;
    h->url_off = w->url ? (size_t)(w->url - base) : 0;
    h->url_len = w->url_len;
    h->nfields = w->nfields;
    h->field = w->field;
    h->fields = (held_field *)(h + 1);
    h->bytes = (char *)(h->fields + w->nfields);
    for (size_t i = 0; i < w->nfields; i++) {
        uw_header *f = &w->headers[i];
        h->fields[i] = (held_field){ (size_t)(f->name - base), f->name_len,
                                     f->value ? (size_t)(f->value - base) + 1 : 0, f->value_len };
    }
    memcpy(h->bytes, base, len);
    hc->held = h;
    S.held_bytes += size;
    S.nheld++;
    return true;
}

/* Puts a held head back at the start of w's input; returns its deadline. */
static int64_t restore_head(uw_http_worker *w)
{
    held_head *h = w->hc->held;
    memcpy(w->in, h->bytes, h->len);
    w->in_pos = w->in_len = h->len;
    w->url = h->has_url ? w->in + h->url_off : NULL;
    w->url_len = h->url_len;
    w->nfields = h->nfields;
    w->field = h->field;
    for (size_t i = 0; i < h->nfields; i++) {
        held_field *f = &h->fields[i];
        w->headers[i] = (uw_header){ w->in + f->name_off, f->value_off ? w->in + f->value_off - 1 : NULL,
                                     f->name_len, f->value_len };
    }
    int64_t deadline = h->deadline;
    S.held_bytes -= h->size;
    S.nheld--;
    free(h);
    w->hc->held = NULL;
    return deadline;
}

static void slow_insert(uw_http_worker *w);
static void slow_unlink(uw_http_worker *w);

/* Reads and parses one request head.  May park (return HEAD_PARK) only at
 * a request boundary with nothing buffered.  While it waits for the rest
 * of a head under a worker budget, the worker is on the slow list (it
 * may be evicted: then 503). */
static enum head_result read_head_(uw_http_worker *w);
static enum head_result read_head(uw_http_worker *w)
{
    enum head_result r = read_head_(w);
    slow_unlink(w);
    return r;
}

static enum head_result read_head_(uw_http_worker *w)
{
    /* A new head starts at in_pos; make room for a whole head after it so
     * the head never moves while its spans are recorded, and for body
     * reads after it (the head stays put until the request ends). */
    w->body_base = 0;
    if (w->in_pos == w->in_len) {
        w->in_pos = w->in_len = 0;
    } else if (w->in_cap - w->in_pos < S.cfg.max_head_bytes + 1 + BODY_ROOM) {
        memmove(w->in, w->in + w->in_pos, w->in_len - w->in_pos);
        w->in_len -= w->in_pos;
        w->in_pos = 0;
    }
    size_t head_start = w->in_pos;
    int64_t deadline = 0;
    if (w->hc->held) {
        head_start = 0;
        deadline = restore_head(w);
    }
    for (;;) {
        if (w->in_pos < w->in_len) {
            llhttp_errno_t e = parse_some(w);
            if (e == HPE_PAUSED && w->headers_done) {
                if (w->in_pos - head_start > S.cfg.max_head_bytes) {
                    early_error(w, 431, "request head too large");
                    return HEAD_CLOSE;
                }
                w->body_base = w->in_pos;
                return HEAD_OK;
            }
            if (e == HPE_PAUSED) continue;   /* end of a previous body */
            if (e != HPE_OK) {
                if (w->too_many_headers) early_error(w, 431, "too many header fields");
                else early_error(w, 400, llhttp_get_error_reason(&w->hc->parser));
                return HEAD_CLOSE;
            }
            if (w->in_len - head_start > S.cfg.max_head_bytes) {
                early_error(w, 431, "request head too large");
                return HEAD_CLOSE;
            }
        }
        bool started = w->in_len > head_start;
        if (!started && S.stopping) return HEAD_CLOSE;
        if (!started && !uw_conn_may_read(w->hc->c)) return HEAD_PARK;
        if (started && deadline == 0) deadline = uw_now() + S.cfg.header_timeout;
        if (started && S.max_workers && !w->slow && !uw_conn_may_read(w->hc->c)) slow_insert(w);
        /* Between requests, only take what is there: an idle connection
         * parks instead of holding this worker. */
        ssize_t n = uw_conn_read(w->hc->c, w->in + w->in_len, w->in_cap - w->in_len,
                                 started ? deadline : 0);
        if (n == UW_ETIMEDOUT) {
            if (!started) continue;
            early_error(w, 408, "request head not received in time");
            return HEAD_CLOSE;
        }
        if (n == UW_ECANCELED && w->evicted) {
            /* Another connection took this worker: keep what came of the
             * head with the connection, or answer 503 past the memory
             * for that. */
            if (hold_head(w, head_start, deadline)) return HEAD_HELD;
            early_error(w, 503, "request head too slow while every worker is busy");
            return HEAD_CLOSE;
        }
        if (n <= 0) {
            if (started && n == 0) early_error(w, 400, "connection closed inside a request head");
            return HEAD_CLOSE;
        }
        w->in_len += (size_t)n;
    }
}

static void handle_request(uw_http_worker *w)
{
    uw_req *req = &w->req;
    uw_res *res = &w->res;
    const char *why = "";
    int status = build_request(w, &why);
    if (req->method == UW_HEAD) res->head_only = true;
    if (status) {
        early_error(w, status, why);
        return;
    }
    S.dispatch(req, res, S.dispatch_arg);
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

/* Serves requests on w->hc until it parks or closes.  Returns true when
 * the connection was parked (still open). */
static bool serve(uw_http_worker *w)
{
    for (;;) {
        reset_request(w);
        enum head_result hr = read_head(w);
        if (hr == HEAD_PARK || hr == HEAD_HELD) {
            if (w->niov || w->out_len) flush(w);
            return !w->res.failed;
        }
        if (hr == HEAD_OK) handle_request(w);
        bool reuse = hr == HEAD_OK && !w->res.failed && keep_alive(w) && discard_body(w);
        if (!reuse) {
            flush(w);
            return false;
        }
        /* Batch responses while complete requests are buffered. */
        if (w->must_flush || w->in_pos >= w->in_len || OUT_CAP - w->out_len < 1024) {
            if (flush(w) != UW_OK) return false;
        }
    }
}

/* ------------------------------------------------------------ connections */

/* The two lists a connection without a worker is on (through prev/next):
 * parked (idle), or waiting for a worker with data; oldest first. */
static void list_unlink(hconn **head, hconn **tail, hconn *hc)
{
    if (hc->prev) hc->prev->next = hc->next; else *head = hc->next;
    if (hc->next) hc->next->prev = hc->prev; else *tail = hc->prev;
    hc->prev = hc->next = NULL;
}

static void list_add(hconn **head, hconn **tail, hconn *hc, bool first)
{
    if (first) {
        hc->prev = NULL;
        hc->next = *head;
        if (*head) (*head)->prev = hc; else *tail = hc;
        *head = hc;
    } else {
        hc->prev = *tail;
        hc->next = NULL;
        if (*tail) (*tail)->next = hc; else *head = hc;
        *tail = hc;
    }
}

static void idle_unlink(hconn *hc)
{
    if (!hc->parked) return;
    list_unlink(&S.idle_head, &S.idle_tail, hc);
    hc->parked = false;
}

static void wait_unlink(hconn *hc)
{
    if (!hc->waiting) return;
    list_unlink(&S.wait_head, &S.wait_tail, hc);
    hc->waiting = false;
}

/* Queues hc for the next worker that is free.  The order: first (an
 * evicted worker's place is for it) at the front; then connections with
 * a new request, in the order they came; last, the resumptions of held
 * heads (slow clients sending more), so a slowloris does not delay the
 * others. */
static void wait_for_worker(hconn *hc, bool first)
{
    idle_unlink(hc);
    wait_unlink(hc);
    uw_conn_set_notify(hc->c, NULL, NULL);
    hc->waiting = true;
    hc->promised = first;
    hc->idle_since = uw_now();
    hconn *before = NULL;
    if (!first && !hc->held)
        for (before = S.wait_head; before && (before->promised || !before->held); before = before->next) {}
    if (before) {
        hc->next = before;
        hc->prev = before->prev;
        if (before->prev) before->prev->next = hc; else S.wait_head = hc;
        before->prev = hc;
    } else {
        list_add(&S.wait_head, &S.wait_tail, hc, first);
    }
    if (!first) uw_wake_one(&S.evict_wake);
}

static void conn_free(hconn *hc, bool reset)
{
    idle_unlink(hc);
    wait_unlink(hc);
    if (hc->held) {
        S.held_bytes -= hc->held->size;
        S.nheld--;
        free(hc->held);
    }
    uw_conn_close(hc->c, reset);
    free(hc);
    S.nconns--;
    if (S.stopping) uw_wake_all(&S.stop_wait);
}

/* Workers waiting for the rest of a request head, oldest first: the ones
 * to take back when the budget is spent (read_head keeps the list). */
static void slow_insert(uw_http_worker *w)
{
    w->slow = true;
    w->head_since = uw_now();
    w->slow_prev = S.slow_tail;
    w->slow_next = NULL;
    if (S.slow_tail) S.slow_tail->slow_next = w; else S.slow_head = w;
    S.slow_tail = w;
}

static void slow_unlink(uw_http_worker *w)
{
    if (!w->slow) return;
    if (w->slow_prev) w->slow_prev->slow_next = w->slow_next; else S.slow_head = w->slow_next;
    if (w->slow_next) w->slow_next->slow_prev = w->slow_prev; else S.slow_tail = w->slow_prev;
    w->slow_prev = w->slow_next = NULL;
    w->slow = false;
}

static void worker_main(void *arg);

/* Closes after an answer the client may still be sending into: stop
 * sending, then read and drop its bytes for a moment, so the kernel does
 * not reset the connection before the client has read the answer. */
static void linger_close(hconn *hc)
{
    uw_conn_shutdown_write(hc->c);
    char buf[4096];
    int64_t deadline = uw_now() + UW_MS(500);
    size_t budget = 256 * 1024;
    for (;;) {
        ssize_t n = uw_conn_read(hc->c, buf, sizeof buf, deadline);
        if (n <= 0 || (size_t)n >= budget) break;
        budget -= (size_t)n;
    }
}

static void on_data(uw_conn *c, void *arg);

static void park(hconn *hc)
{
    hc->w = NULL;
    hc->parked = true;
    hc->idle_since = uw_now();
    list_add(&S.idle_head, &S.idle_tail, hc, false);
    uw_conn_set_notify(hc->c, on_data, hc);
}

/* A worker's input buffer: a whole head and room for body reads after it
 * (read_head).  Under a memory budget just that; otherwise at least
 * 32 KiB, for fewer reads of large bodies. */
static size_t in_capacity(void)
{
    size_t need = S.cfg.max_head_bytes + 1 + 2 * BODY_ROOM;
    if (S.cfg.memory_budget) return need;
    return S.cfg.max_head_bytes * 2 > 32768 ? S.cfg.max_head_bytes * 2 : 32768;
}

/* What one worker holds: the numbers behind max_workers. */
static size_t worker_size(void)
{
    return sizeof(uw_http_worker) + in_capacity() + 1 + OUT_CAP +
           (S.cfg.max_headers + 1) * sizeof(uw_header) + S.cfg.stack_size + 4096 /* first arena block */ +
           512 /* task record and allocator headers */;
}

static uw_http_worker *worker_new(void)
{
    uw_http_worker *w = calloc(1, sizeof *w);
    if (!w) return NULL;
    w->in_cap = in_capacity();
    w->in = malloc(w->in_cap + 1);
    w->out = malloc(OUT_CAP);
    w->headers = calloc(S.cfg.max_headers + 1, sizeof *w->headers);
    uw_arena_init(&w->arena, 4096, S.cfg.arena_limit);
    if (w->in && w->out && w->headers) {
        w->task = uw_spawn(worker_main, w, S.cfg.stack_size);
        if (w->task) {
            uw_detach(w->task);
            S.nworkers++;
            return w;
        }
    }
    free(w->in);
    free(w->out);
    free(w->headers);
    free(w);
    return NULL;
}

static void give(uw_http_worker *w, hconn *hc)
{
    idle_unlink(hc);
    wait_unlink(hc);
    hc->promised = false;
    uw_conn_set_notify(hc->c, NULL, NULL);
    hc->w = w;
    w->hc = hc;
    hc->parser.data = hc;
    uw_wake_one(&w->wake);
}

/* Over the budget: takes the worker of the connection whose head has
 * been arriving longest, if that is longer than EVICT_AFTER.  Its task
 * answers 503 and ends (read_head); when it is gone, the first waiting
 * connection — hc, queued first — gets a new worker in its place. */
static bool evict_for(hconn *hc)
{
    uw_http_worker *v = S.slow_head;
    if (!v || v->head_since > uw_now() - EVICT_AFTER) return false;
    slow_unlink(v);
    v->evicted = true;
    S.nevicted++;
    S.evictions++;
    uw_cancel(v->task);
    wait_for_worker(hc, true);
    return true;
}

/* Waiting connections take the workers of slow heads, oldest first (the
 * promised ones, at the front, have theirs coming). */
static void evict_for_waiting(void)
{
    hconn *hc = S.wait_head;
    while (hc && hc->promised) hc = hc->next;
    while (hc) {
        hconn *next = hc->next;
        if (!evict_for(hc)) break;
        hc = next;
    }
}

/* While connections wait for a worker, looks for slow heads to take
 * theirs every EVICT_AFTER (a head becomes one that long after it
 * stalled). */
static void evictor_main(void *arg)
{
    (void)arg;
    while (!S.stopping) {
        bool waiting = false;
        for (hconn *hc = S.wait_head; hc && !waiting; hc = hc->next) waiting = !hc->promised;
        int r = uw_wait(&S.evict_wake, waiting ? uw_now() + EVICT_AFTER : UW_FOREVER);
        if (r == UW_ECANCELED) break;
        evict_for_waiting();
    }
}

/* Gives hc a worker: a free one, a new one within the budget, or the one
 * of a slow head (then later).  False when none can be had. */
static bool attach(hconn *hc)
{
    uw_http_worker *w = S.free_workers;
    if (w) {
        S.free_workers = w->next_free;
        S.nfree--;
    } else if (S.max_workers && S.nworkers - S.nevicted >= S.max_workers) {
        return evict_for(hc);
    } else if (!(w = worker_new())) {
        return evict_for(hc);
    }
    give(w, hc);
    return true;
}

static void on_data(uw_conn *c, void *arg)
{
    hconn *hc = arg;
    (void)c;
    if (hc->w || hc->waiting) return;
    /* No worker now: wait for one (a worker that finishes takes the
     * oldest waiting connection); the sweeper answers 503 to one that
     * waited WAIT_FOR_WORKER. */
    if (!attach(hc)) wait_for_worker(hc, false);
}

static void worker_main(void *arg)
{
    uw_http_worker *w = arg;
    for (;;) {
        while (!w->hc) {
            if (S.stopping || w->retire) goto out;
            if (uw_wait(&w->wake, UW_FOREVER) == UW_ECANCELED) goto out;
        }
        hconn *hc = w->hc;
        w->in_pos = w->in_len = 0;
        bool parked = serve(w);
        w->hc = NULL;
        if (parked && !S.stopping) {
            /* A held head's connection may have sent more meanwhile. */
            if (hc->held && uw_conn_may_read(hc->c)) wait_for_worker(hc, false);
            else park(hc);
        } else {
            if (!w->res.failed && w->res.head_sent && w->res.close && !w->evicted) linger_close(hc);
            conn_free(hc, w->res.failed);
        }
        if (S.stopping || w->evicted) break;
        if (S.wait_head) {           /* a connection waits for a worker: this one */
            give(w, S.wait_head);
            continue;
        }
        if (S.nfree >= FREE_WORKERS_MAX) break;
        w->next_free = S.free_workers;
        w->free_since = uw_now();
        S.free_workers = w;
        S.nfree++;
    }
out:
    slow_unlink(w);
    S.nworkers--;
    if (w->evicted) S.nevicted--;
    uw_arena_fini(&w->arena);
    free(w->in);
    free(w->out);
    free(w->headers);
    free(w);
    if (S.stopping) {
        uw_wake_all(&S.stop_wait);
        return;
    }
    /* The memory is back: a new worker for the first waiting connection
     * (the one that evicted this worker, if it was). */
    if (S.wait_head) attach(S.wait_head);
}

static void reject_busy(uw_conn *c, const char *why)
{
    char busy[256];
    int n = snprintf(busy, sizeof busy,
                     "HTTP/1.1 503 Service Unavailable\r\nServer: uweb\r\nContent-Type: text/plain; charset=utf-8\r\n"
                     "Content-Length: %zu\r\nConnection: close\r\nRetry-After: 1\r\n\r\n"
                     "503 Service Unavailable: %s\n", strlen(why) + 26, why);
    uw_slice s = { busy, (size_t)n };
    uw_conn_writev(c, &s, 1, 0);    /* do not wait: best effort */
    uw_conn_close(c, false);
}

static void acceptor_main(void *arg)
{
    (void)arg;
    for (;;) {
        uw_conn *c;
        int r = uw_tcp_accept(S.listener, &c, UW_FOREVER);
        if (r == UW_ECLOSED || r == UW_ECANCELED) break;
        if (r != UW_OK) continue;
        if (S.nconns >= S.cfg.max_connections) {
            logf_("uweb: connection refused with 503: %zu connections open", S.nconns);
            reject_busy(c, "too many connections");
            continue;
        }
        hconn *hc = calloc(1, sizeof *hc);
        if (!hc) { uw_conn_close(c, true); continue; }
        hc->c = c;
        llhttp_init(&hc->parser, HTTP_REQUEST, &S.settings);
        hc->parser.data = hc;
        S.nconns++;
        if (!attach(hc)) {
            /* No worker now: parked until it sends (then on_data) */
            if (uw_conn_may_read(c)) wait_for_worker(hc, false);
            else park(hc);
        }
        uw_yield();   /* let the connection's worker run before the next accept */
    }
}

/* Each second: closes idle connections past the idle timeout, answers
 * 503 to connections that waited too long for a worker, frees workers
 * unused for a second beyond FREE_WORKERS_KEEP, and keeps the Date line
 * current.  It wakes just after each wall-clock second. */
static void sweeper_main(void *arg)
{
    (void)arg;
    while (!S.stopping) {
        int64_t into = uw_wall_now() % UW_SEC(1);
        if (uw_sleep(UW_SEC(1) - into + UW_MS(1)) != UW_OK) break;
        update_date();
        int64_t now = uw_now(), limit = now - S.cfg.idle_timeout;
        while (S.idle_head && S.idle_head->idle_since <= limit) conn_free(S.idle_head, false);
        /* Connections that waited a second for a worker (and have none
         * coming): 503. */
        size_t busy = 0;
        for (hconn *hc = S.wait_head, *next; hc; hc = next) {
            next = hc->next;
            if (hc->promised || hc->idle_since > now - WAIT_FOR_WORKER) continue;
            wait_unlink(hc);
            reject_busy(hc->c, "no worker free for this connection");
            hc->c = NULL;
            conn_free(hc, false);
            busy++;
        }
        if (busy || S.evictions)
            logf_("uweb: %zu connection(s) answered 503 (no worker free within a second), %zu slow head(s) "
                  "gave their worker to another connection, %zu held (%zu bytes); %zu workers",
                  busy, S.evictions, S.nheld, S.held_bytes, S.nworkers);
        S.evictions = 0;
        /* The free list is a stack: the long-unused ones are at its end. */
        size_t kept = 0;
        for (uw_http_worker **pw = &S.free_workers; *pw;) {
            uw_http_worker *w = *pw;
            if (kept >= FREE_WORKERS_KEEP && w->free_since <= now - UW_SEC(1)) {
                *pw = w->next_free;
                S.nfree--;
                w->retire = true;
                uw_wake_one(&w->wake);
            } else {
                kept++;
                pw = &w->next_free;
            }
        }
    }
}

void uw_http_stop(void)
{
    if (S.stopping) return;
    S.stopping = true;
    logf_("uweb: shutting down: %zu connection(s) open", S.nconns);
    if (S.listener) uw_listener_close(S.listener);
    while (S.idle_head) conn_free(S.idle_head, false);
    if (S.sweeper) uw_cancel(S.sweeper);
    if (S.evictor) uw_cancel(S.evictor);
    if (S.signals && S.signals != uw_current()) uw_cancel(S.signals);
    while (S.wait_head) conn_free(S.wait_head, false);
    /* Free workers exit now; busy ones after their current request. */
    for (uw_http_worker *w = S.free_workers; w; w = w->next_free) uw_wake_one(&w->wake);
    S.free_workers = NULL;
    S.nfree = 0;
    uw_wake_all(&S.stop_wait);
}

static void signals_main(void *arg)
{
    (void)arg;
    if (uw_wait_signal(UW_FOREVER) > 0) uw_http_stop();
}

/* Waits for the shutdown, then gives in-flight requests the grace period
 * and cancels what is left. */
static void reaper_main(void *arg)
{
    (void)arg;
    while (!S.stopping)
        if (uw_wait(&S.stop_wait, UW_FOREVER) == UW_ECANCELED) return;
    int64_t deadline = uw_now() + S.cfg.shutdown_grace;
    while (S.nconns > 0 && uw_now() < deadline)
        uw_wait(&S.stop_wait, deadline);
    if (S.nconns > 0) {
        logf_("uweb: %zu request(s) still running after the grace period: canceling", S.nconns);
        uw_rt_stop();
    }
}

static void serve_conn_notify(uw_conn *c, void *arg)
{
    (void)c;
    uw_wake_one(arg);
}

int uw_http_serve_conn(const uw_http_config *cfg, uw_http_dispatch dispatch, void *arg, uw_conn *c)
{
    if (!S.listener) {
        memset(&S, 0, sizeof S);
        S.cfg = *cfg;
        S.dispatch = dispatch;
        S.dispatch_arg = arg;
        settings_init();
    }
    hconn *hc = calloc(1, sizeof *hc);
    uw_http_worker *w = calloc(1, sizeof *w);
    if (!hc || !w) { free(hc); free(w); uw_conn_close(c, true); return UW_ENOMEM; }
    w->in_cap = in_capacity();
    w->in = malloc(w->in_cap + 1);
    w->out = malloc(OUT_CAP);
    w->headers = calloc(S.cfg.max_headers + 1, sizeof *w->headers);
    uw_arena_init(&w->arena, 4096, S.cfg.arena_limit);
    int r = UW_ENOMEM;
    if (w->in && w->out && w->headers) {
        hc->c = c;
        llhttp_init(&hc->parser, HTTP_REQUEST, &S.settings);
        hc->parser.data = hc;
        hc->w = w;
        w->hc = hc;
        S.nconns++;
        uw_waitq readable = UW_WAITQ_INIT;
        for (;;) {
            bool parked = serve(w);
            if (!parked) break;
            uw_conn_set_notify(c, serve_conn_notify, &readable);
            int wr = uw_wait(&readable, uw_now() + S.cfg.idle_timeout);
            uw_conn_set_notify(c, NULL, NULL);
            if (wr != UW_OK) break;
        }
        if (!w->res.failed && w->res.head_sent && w->res.close) linger_close(hc);
        S.nconns--;
        r = UW_OK;
    }
    uw_conn_close(c, w->res.failed);
    uw_arena_fini(&w->arena);
    free(w->in);
    free(w->out);
    free(w->headers);
    free(w);
    free(hc);
    return r;
}

int uw_http_serve(const uw_http_config *cfg, uw_http_dispatch dispatch, void *arg,
                  void (*on_listen)(uint16_t port, void *arg))
{
    memset(&S, 0, sizeof S);
    S.cfg = *cfg;
    S.dispatch = dispatch;
    S.dispatch_arg = arg;
    settings_init();
    int r = uw_rt_init();
    if (r != UW_OK) return r;
    uw_rt_prepare_server();
    r = uw_tcp_listen(&S.listener, cfg->addr, cfg->port, 4096);
    if (r != UW_OK) return r;
    S.worker_bytes = worker_size();
    if (cfg->memory_budget) {
        S.max_workers = (size_t)(cfg->memory_budget / S.worker_bytes);
        if (S.max_workers < 4) S.max_workers = 4;
        logf_("uweb: memory budget %llu KiB: at most %zu workers of %zu KiB at once",
              (unsigned long long)(cfg->memory_budget >> 10), S.max_workers, S.worker_bytes >> 10);
    }
    if (on_listen) on_listen(uw_listener_port(S.listener), arg);
    S.acceptor = uw_spawn(acceptor_main, NULL, 32 * 1024);
    S.sweeper = uw_spawn(sweeper_main, NULL, 16 * 1024);
    S.signals = uw_spawn(signals_main, NULL, 16 * 1024);
    S.reaper = uw_spawn(reaper_main, NULL, 16 * 1024);
    if (!S.acceptor || !S.sweeper || !S.signals || !S.reaper) return UW_ENOMEM;
    if (S.max_workers) {
        if (!(S.evictor = uw_spawn(evictor_main, NULL, 16 * 1024))) return UW_ENOMEM;
        uw_detach(S.evictor);
    }
    uw_detach(S.acceptor);
    uw_detach(S.sweeper);
    uw_detach(S.signals);
    uw_detach(S.reaper);
    uw_rt_run();
    uw_listener_free(S.listener);
    S.listener = NULL;
    uw_rt_fini();
    return 0;
}
