/*
 * HTTP/1.1 on a connection: the I/O around the engine (h1.c) and the
 * protocol operations under uw_req_* / uw_res_* (message.c).
 *
 * Input: one buffer per worker.  A head is parsed in place and stays
 * where it is for the whole request (in[0..body_base)); body reads reuse
 * only the buffer after it.  Pipelined requests wait in the buffer for
 * their turn.
 *
 * Output: response heads and small bodies are formatted into the worker's
 * output buffer; larger bodies are referenced, not copied; everything
 * pending goes out in one writev when the input holds no further complete
 * request (so 16 pipelined requests get one write), when a body is
 * borrowed from the handler, or when the buffer is full.
 */
#include "h1.h"

#include <stdlib.h>
#include <string.h>

#define OUT_CAP (16 * 1024)
#define IOV_MAX_PENDING 64
#define COPY_BODY_MAX 2048
#define RES_HDRS_CAP 4096
/* Input buffer bytes kept for body reads after the longest head. */
#define BODY_ROOM 4096

struct uw_h1 {
    const uw_http_config *cfg;
    uw_http_conn *hc;
    uw_h1_parser parser;
    char *in;
    size_t in_cap, in_len, in_pos;
    size_t body_base;            /* in[0..body_base) is the pinned request head */
    char *out;
    size_t out_len, out_seg;     /* bytes used; start of the open segment */
    uw_slice iov[IOV_MAX_PENDING];
    size_t niov;
    bool must_flush;             /* a borrowed slice is pending */
    bool req_chunked, res_chunked;
    bool message_done;           /* the engine reported the request's end */
    char *lent;                  /* body bytes the connection lent, not yet parsed */
    size_t lent_len;
    size_t preloaded;            /* in[0..preloaded) came before uw__h1_serve */
    uw_arena arena;
    uw_header *headers;
    uw_req req;
    uw_res res;
    char res_hdrs[RES_HDRS_CAP];
};

static const uw_http_ops h1_ops;

/* The input buffer: a whole head and room for body reads after it
 * (read_head).  Under a memory budget just that; otherwise at least
 * 32 KiB, for fewer reads of large bodies. */
static size_t in_capacity(const uw_http_config *cfg)
{
    size_t need = cfg->max_head_bytes + 1 + 2 * BODY_ROOM;
    if (cfg->memory_budget) return need;
    return cfg->max_head_bytes * 2 > 32768 ? cfg->max_head_bytes * 2 : 32768;
}

size_t uw__h1_bytes(const uw_http_config *cfg)
{
    return sizeof(uw_h1) + in_capacity(cfg) + 1 + OUT_CAP + (cfg->max_headers + 1) * sizeof(uw_header) +
           4096 /* the arena's first block */;
}

uw_h1 *uw__h1_new(const uw_http_config *cfg)
{
    uw_h1 *h = calloc(1, sizeof *h);
    if (!h) return NULL;
    h->cfg = cfg;
    h->in_cap = in_capacity(cfg);
    h->in = malloc(h->in_cap + 1);
    h->out = malloc(OUT_CAP);
    h->headers = calloc(cfg->max_headers + 1, sizeof *h->headers);
    uw_arena_init(&h->arena, 4096, cfg->arena_limit);
    if (h->in && h->out && h->headers) return h;
    uw__h1_free(h);
    return NULL;
}

void uw__h1_free(uw_h1 *h)
{
    if (!h) return;
    uw_arena_fini(&h->arena);
    free(h->in);
    free(h->out);
    free(h->headers);
    free(h);
}

/* ------------------------------------------------------------ output */

static void out_seal(uw_h1 *h)
{
    if (h->out_len > h->out_seg) {
        h->iov[h->niov++] = (uw_slice){ h->out + h->out_seg, h->out_len - h->out_seg };
        h->out_seg = h->out_len;
    }
}

static int flush(uw_h1 *h)
{
    out_seal(h);
    int r = UW_OK;
    if (h->niov) r = uw_conn_writev(h->hc->c, h->iov, h->niov, uw_now() + h->cfg->io_timeout);
    h->niov = 0;
    h->out_len = h->out_seg = 0;
    h->must_flush = false;
    if (r != UW_OK) h->res.failed = true;
    return r;
}

/* Room for n more bytes in the output buffer (flushing if needed). */
static int out_reserve(uw_h1 *h, size_t n)
{
    if (OUT_CAP - h->out_len >= n && h->niov < IOV_MAX_PENDING - 2) return UW_OK;
    int r = flush(h);
    if (r != UW_OK) return r;
    return n <= OUT_CAP ? UW_OK : UW_ELIMIT;
}

/* References n bytes that stay valid until the next flush. */
static int out_ref(uw_h1 *h, const void *p, size_t n)
{
    out_seal(h);
    if (h->niov >= IOV_MAX_PENDING - 1) {
        int r = flush(h);
        if (r != UW_OK) return r;
    }
    h->iov[h->niov++] = (uw_slice){ p, n };
    h->must_flush = true;
    return UW_OK;
}

/* Copies n bytes into the output, or references them when large (the
 * caller guarantees they live until flushed). */
static int out_bytes(uw_h1 *h, const void *p, size_t n)
{
    if (n > OUT_CAP / 2) return out_ref(h, p, n);
    int r = out_reserve(h, n);
    if (r != UW_OK) return r;
    memcpy(h->out + h->out_len, p, n);
    h->out_len += n;
    return UW_OK;
}

/* A body the handler lends until it returns: small ones are copied so
 * pipelined answers still go out in one write. */
static int out_borrow(uw_h1 *h, const void *p, size_t n)
{
    if (n == 0) return UW_OK;
    return n <= COPY_BODY_MAX ? out_bytes(h, p, n) : out_ref(h, p, n);
}

static bool keep_alive(const uw_h1 *h)
{
    return !h->res.close && !h->hc->srv->stopping;
}

/* ------------------------------------------------------------ input */

/* Reads more body bytes into the buffer after the pinned head. */
static int read_more(uw_h1 *h, int64_t deadline)
{
    size_t base = h->body_base;
    if (h->in_pos == h->in_len) h->in_pos = h->in_len = base;
    if (h->in_len == h->in_cap) {
        /* Body bytes already handed out can be dropped. */
        memmove(h->in + base, h->in + h->in_pos, h->in_len - h->in_pos);
        h->in_len -= h->in_pos - base;
        h->in_pos = base;
    }
    ssize_t n = uw_conn_read(h->hc->c, h->in + h->in_len, h->in_cap - h->in_len, deadline);
    if (n == 0) return UW_ECLOSED;
    if (n < 0) return (int)n;
    h->in_len += (size_t)n;
    return UW_OK;
}

/* Runs the engine over the buffered input. */
static void parse(uw_h1 *h, uw_h1_event *ev)
{
    h->in_pos += uw_h1_parse(&h->parser, h->in + h->in_pos, h->in_len - h->in_pos, ev);
}

/* ------------------------------------------------------------ the ops */

/* What one run of the engine over body bytes gave: a chunk (its size),
 * the message's end (0), an error (UW_EPROTO), or nothing yet (1 with
 * *data NULL: run again). */
static ssize_t body_event(uw_h1 *h, uw_req *req, const uw_h1_event *ev, const void **data)
{
    req->body_extra = h->parser.body_extra;
    if (ev->kind == UW_H1_BODY && ev->len) {
        *data = ev->data;
        return (ssize_t)ev->len;
    }
    if (ev->kind == UW_H1_END) {
        h->message_done = true;
        return 0;
    }
    if (ev->kind == UW_H1_ERROR) {
        uw__http_log(h->hc->srv, "uweb: request body: %s", ev->why);
        return UW_EPROTO;
    }
    *data = NULL;
    return 1;
}

/*
 * Body bytes read in place.  When the connection lends what it received
 * (lwIP's pbufs on the unikernels, uw_conn_can_borrow), the input buffer
 * is empty and the body has a length, the body's bytes go to the
 * handler from the connection's own memory instead of being copied into
 * the buffer first.  Only bytes of this body are borrowed (at most what
 * is left of its length), so the next request never starts there; what
 * the engine has not taken yet stays in h->lent until the next call.
 */
static bool may_borrow(const uw_h1 *h, const uw_req *req)
{
    return h->in_pos == h->in_len && !h->req_chunked && req->content_length > 0
        && uw_conn_can_borrow(h->hc->c);
}

static ssize_t h1_read_body(uw_req *req, const void **data)
{
    uw_h1 *h = req->proto;
    for (;;) {
        if (h->message_done) return 0;
        if (!h->req_chunked && req->body_read >= (uint64_t)req->content_length)
            return 0;   /* the engine ends the message on its next run */
        uw_h1_event ev;
        ssize_t k;
        if (h->in_pos < h->in_len) {
            parse(h, &ev);
            k = body_event(h, req, &ev, data);
        } else if (h->lent_len) {
            size_t used = uw_h1_parse(&h->parser, h->lent, h->lent_len, &ev);
            h->lent += used;
            h->lent_len -= used;
            k = body_event(h, req, &ev, data);
            if (k == 0 && h->lent_len) return UW_EPROTO;  /* more than the body's length */
        } else if (may_borrow(h, req)) {
            uint64_t left = (uint64_t)req->content_length - req->body_read;
            void *p = NULL;
            ssize_t n = uw_conn_read_borrow(h->hc->c, &p, left < SIZE_MAX ? (size_t)left : SIZE_MAX,
                                            uw_now() + h->cfg->io_timeout);
            if (n == 0) return UW_ECLOSED;
            if (n < 0) return n;
            h->lent = p;
            h->lent_len = (size_t)n;
            continue;
        } else {
            int r = read_more(h, uw_now() + h->cfg->io_timeout);
            if (r != UW_OK) return r;
            continue;
        }
        if (k != 1 || *data) return k;
    }
}

static int h1_send_continue(uw_req *req)
{
    uw_h1 *h = req->proto;
    int r = out_bytes(h, UW_H1_CONTINUE, sizeof UW_H1_CONTINUE - 1);
    return r == UW_OK ? flush(h) : r;
}

static int h1_send_head(uw_res *res)
{
    uw_h1 *h = res->proto;
    uw_req *req = &h->req;
    /* A request whose body was not read (and cannot be skipped) ends the
     * connection: the next request would start inside it. */
    if (req->has_body && !req->body_done && req->expect_continue && !req->continue_sent)
        res->close = true;
    uw_h1_response r = {
        .status = res->status, .minor = req->minor,
        .fields = res->hdrs, .fields_len = res->hdrs_len,
        .no_body = res->no_body, .has_length = res->has_length, .length = res->content_length,
        .close = !keep_alive(h),
    };
    r.date = uw__http_date_line(h->hc->srv, &r.date_len);
    int e = out_reserve(h, uw_h1_head_max(&r));
    if (e != UW_OK) return e;
    h->out_len += uw_h1_write_head(h->out + h->out_len, &r);
    h->res_chunked = r.chunked;
    if (r.close) res->close = true;
    return UW_OK;
}

static int h1_send_body(uw_res *res, const uw_slice *v, size_t n)
{
    uw_h1 *h = res->proto;
    int r = UW_OK;
    for (size_t i = 0; i < n && r == UW_OK; i++) r = out_borrow(h, v[i].ptr, v[i].len);
    return r;
}

static int h1_write_body(uw_res *res, const void *data, size_t n)
{
    uw_h1 *h = res->proto;
    int r;
    if (h->res_chunked) {
        char head[UW_H1_CHUNK_HEAD_MAX];
        if ((r = out_bytes(h, head, uw_h1_chunk_head(head, n))) != UW_OK) return r;
        if (n <= COPY_BODY_MAX) {
            if ((r = out_bytes(h, data, n)) != UW_OK) return r;
        } else {
            out_seal(h);
            h->iov[h->niov++] = (uw_slice){ data, n };
        }
        if ((r = out_bytes(h, UW_H1_CHUNK_TAIL, 2)) != UW_OK) return r;
    } else {
        if ((r = out_bytes(h, data, n)) != UW_OK) return r;
    }
    /* Streamed data is the caller's buffer: send it now. */
    return flush(h);
}

/* Whole pieces of a file body at most this long share one io timeout. */
#define SEND_FILE_PIECE (1024 * 1024)

static int h1_send_file(uw_res *res, int fd, uint64_t off, uint64_t len)
{
    uw_h1 *h = res->proto;
    uw_conn *c = h->hc->c;
    if (h->res_chunked || !uw_conn_can_sendfile(c)) return 1;
    int r = flush(h);
    while (r == UW_OK && len) {
        size_t n = len < SEND_FILE_PIECE ? (size_t)len : SEND_FILE_PIECE;
        r = uw_conn_sendfile(c, fd, off, n, uw_now() + h->cfg->io_timeout);
        off += n;
        len -= n;
    }
    return r;
}

static int h1_flush(uw_res *res)
{
    return flush(res->proto);
}

static int h1_end(uw_res *res)
{
    uw_h1 *h = res->proto;
    if (h->res_chunked && !res->head_only) return out_bytes(h, UW_H1_LAST_CHUNK, 5);
    return UW_OK;
}

static void h1_abort(uw_res *res)
{
    /* res->failed is set: the connection is reset after the handler. */
    (void)res;
}

/* The 101 head goes out now; the connection and what was read after the
 * head are the new protocol's. */
static int h1_upgrade(uw_res *res, uw_http_upgraded *up)
{
    uw_h1 *h = res->proto;
    uw_h1_response r = {
        .status = 101, .minor = 1, .fields = res->hdrs, .fields_len = res->hdrs_len, .no_body = true,
    };
    r.date = uw__http_date_line(h->hc->srv, &r.date_len);
    int e = out_reserve(h, uw_h1_head_max(&r));
    if (e != UW_OK) return e;
    h->out_len += uw_h1_write_head(h->out + h->out_len, &r);
    if ((e = flush(h)) != UW_OK) return e;
    up->c = h->hc->c;
    up->rest = h->in + h->in_pos;
    up->rest_len = h->in_len - h->in_pos;
    up->stopping = &h->hc->srv->stopping;
    h->in_pos = h->in_len;
    h->hc->upgraded = true;
    /* Nothing goes through the output buffer any more: it is given back
     * for as long as the new protocol runs (uw__h1_serve makes a new one). */
    free(h->out);
    h->out = NULL;
    return UW_OK;
}

static const uw_http_ops h1_ops = {
    .read_body = h1_read_body,
    .send_continue = h1_send_continue,
    .send_head = h1_send_head,
    .send_body = h1_send_body,
    .write_body = h1_write_body,
    .flush = h1_flush,
    .end = h1_end,
    .abort = h1_abort,
    .upgrade = h1_upgrade,
    .send_file = h1_send_file,
};

/* ------------------------------------------------------------ requests */

static void early_error(uw_h1 *h, int status, const char *why)
{
    uw__http_early_error(&h->res, status, why);
    uw__http_log(h->hc->srv, "uweb: %d %s", status, why);
}

static void reset_request(uw_h1 *h)
{
    uw_arena_reset(&h->arena);
    uw__http_exchange_init(&h->req, &h->res, &h1_ops, h, &h->arena, h->cfg, h->res_hdrs, sizeof h->res_hdrs);
    h->req.secure = h->hc->secure;
    h->req.conn = h->hc->c;
}

enum head_result { HEAD_OK, HEAD_PARK, HEAD_HELD, HEAD_CLOSE };

/* A request head whose worker was taken back (an eviction, server.c)
 * while it was still arriving: the bytes the engine has consumed, and the
 * engine's state with its spans rebased onto them.  A new worker copies
 * both back and goes on where the old one stopped. */
struct uw_h1_held {
    size_t size, len, nfields;
    int64_t deadline;
    uw_h1_parser parser;
    uw_header *fields;           /* nfields, after the struct */
    char *bytes;                 /* len, after the fields */
};

void uw__h1_held_free(uw_http_server *srv, uw_h1_held *held)
{
    srv->held_bytes -= held->size;
    srv->nheld--;
    free(held);
}

static bool hold_head(uw_h1 *h, size_t head_start, int64_t deadline)
{
    uw_http_conn *hc = h->hc;
    uw_http_server *srv = hc->srv;
    size_t len = h->in_len - head_start, nf = h->parser.nfields;
    size_t size = sizeof(uw_h1_held) + nf * sizeof(uw_header) + len;
    if (hc->held || srv->held_bytes + size > srv->cfg.memory_budget / 4) return false;
    uw_h1_held *held = malloc(size);
    if (!held) return false;
    held->size = size;
    held->len = len;
    held->nfields = nf;
    held->deadline = deadline;
    held->fields = (uw_header *)(held + 1);
    held->bytes = (char *)(held->fields + nf);
    memcpy(held->fields, h->parser.fields, nf * sizeof(uw_header));
    memcpy(held->bytes, h->in + head_start, len);
    held->parser = h->parser;
    held->parser.fields = held->fields;
    uw_h1_rebase(&held->parser, h->in + head_start, held->bytes);
    hc->held = held;
    srv->held_bytes += size;
    srv->nheld++;
    return true;
}

/* Puts a held head back at the start of the input; returns its deadline. */
static int64_t restore_head(uw_h1 *h)
{
    uw_h1_held *held = h->hc->held;
    memcpy(h->in, held->bytes, held->len);
    h->in_pos = h->in_len = held->len;
    memcpy(h->headers, held->fields, held->nfields * sizeof(uw_header));
    h->parser = held->parser;
    h->parser.fields = h->headers;
    uw_h1_rebase(&h->parser, held->bytes, h->in);
    int64_t deadline = held->deadline;
    h->hc->held = NULL;
    uw__h1_held_free(h->hc->srv, held);
    return deadline;
}

/* Reads and parses one request head.  May park (return HEAD_PARK) only at
 * a request boundary with nothing buffered.  While it waits for the rest
 * of a head under a worker budget, the worker is on the slow list (it may
 * be evicted: then the head is held, or answered 503). */
static enum head_result read_head_(uw_h1 *h);
static enum head_result read_head(uw_h1 *h)
{
    enum head_result r = read_head_(h);
    if (h->hc->w) uw__http_slow_unlink(h->hc->w);
    return r;
}

static enum head_result read_head_(uw_h1 *h)
{
    /* A new head starts at in_pos; make room for a whole head after it so
     * the head never moves while its spans are recorded, and for body
     * reads after it (the head stays put until the request ends). */
    h->body_base = 0;
    if (h->in_pos == h->in_len) {
        h->in_pos = h->in_len = 0;
    } else if (h->in_cap - h->in_pos < h->cfg->max_head_bytes + 1 + BODY_ROOM) {
        memmove(h->in, h->in + h->in_pos, h->in_len - h->in_pos);
        h->in_len -= h->in_pos;
        h->in_pos = 0;
    }
    size_t head_start = h->in_pos;
    int64_t deadline = 0;
    uw_http_worker *w = h->hc->w;
    if (h->hc->held) {
        head_start = 0;
        deadline = restore_head(h);
    }
    for (;;) {
        if (h->in_pos < h->in_len) {
            uw_h1_event ev;
            parse(h, &ev);
            if (ev.kind == UW_H1_HEAD) {
                h->body_base = h->in_pos;
                return HEAD_OK;
            }
            if (ev.kind == UW_H1_ERROR) {
                /* A complete head that is refused still says whether it
                 * was HEAD (no body in the answer). */
                h->req.minor = h->parser.head.minor;
                h->res.head_only = h->parser.head.method == UW_HEAD;
                early_error(h, ev.status, ev.why);
                return HEAD_CLOSE;
            }
            if (ev.kind != UW_H1_MORE) continue;   /* the end of the previous message */
        }
        bool started = h->in_len > head_start;
        if (!started && h->hc->srv->stopping) return HEAD_CLOSE;
        if (!started && !uw_conn_may_read(h->hc->c)) return HEAD_PARK;
        if (started && deadline == 0) deadline = uw_now() + h->cfg->header_timeout;
        if (started && w && h->hc->srv->max_workers && !w->slow && !uw_conn_may_read(h->hc->c))
            uw__http_slow_insert(w);
        /* Between requests, only take what is there: an idle connection
         * parks instead of holding this worker. */
        ssize_t n = uw_conn_read(h->hc->c, h->in + h->in_len, h->in_cap - h->in_len,
                                 started ? deadline : 0);
        if (n == UW_ETIMEDOUT) {
            if (!started) continue;
            early_error(h, 408, "request head not received in time");
            return HEAD_CLOSE;
        }
        if (n == UW_ECANCELED && w && w->evicted) {
            /* Another connection took this worker: keep what came of the
             * head with the connection, or answer 503 past the memory
             * for that. */
            if (hold_head(h, head_start, deadline)) return HEAD_HELD;
            early_error(h, 503, "request head too slow while every worker is busy");
            return HEAD_CLOSE;
        }
        if (n <= 0) {
            if (started && n == 0) early_error(h, 400, "connection closed inside a request head");
            return HEAD_CLOSE;
        }
        h->in_len += (size_t)n;
    }
}

static void handle_request(uw_h1 *h)
{
    const uw_h1_head *hd = &h->parser.head;
    uw_req *req = &h->req;
    uw_res *res = &h->res;
    req->method = hd->method;
    req->method_name = hd->method_name;
    req->path = hd->path;
    req->path_len = hd->path_len;
    req->query = hd->query;
    req->minor = hd->minor;
    req->headers = hd->headers;
    req->nheaders = hd->nheaders;
    req->content_length = hd->content_length;
    req->has_body = hd->has_body;
    req->expect_continue = hd->expect_continue;
    h->req_chunked = hd->chunked;
    h->res_chunked = false;
    h->message_done = false;
    h->lent = NULL;
    h->lent_len = 0;
    if (!hd->keep_alive) res->close = true;
    if (req->method == UW_HEAD) res->head_only = true;
    void *arg;
    uw_http_dispatch dispatch = uw__conn_dispatch(h->hc, &arg);
    dispatch(req, res, arg);
    uw__http_exchange_finish(req, res);
}

/* Skips what the handler left of the body, within limits; false when the
 * connection cannot be reused. */
static bool discard_body(uw_h1 *h)
{
    uw_req *req = &h->req;
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

enum uw_h1_outcome uw__h1_serve(uw_h1 *h, uw_http_conn *hc)
{
    h->hc = hc;
    h->in_pos = 0;
    h->in_len = h->preloaded;
    h->preloaded = 0;
    if (!h->out && !(h->out = malloc(OUT_CAP))) return UW_H1_RESET;   /* after an upgrade */
    h->niov = h->out_len = h->out_seg = 0;
    h->must_flush = false;
    uw_h1_init(&h->parser, h->headers, h->cfg->max_headers, h->cfg->max_head_bytes);
    for (;;) {
        reset_request(h);
        enum head_result hr = read_head(h);
        if (hr == HEAD_PARK || hr == HEAD_HELD) {
            if (h->niov || h->out_len) flush(h);
            if (!h->res.failed) return UW_H1_PARK;
            return UW_H1_RESET;
        }
        if (hr == HEAD_OK) handle_request(h);
        bool reuse = hr == HEAD_OK && !h->res.failed && keep_alive(h) && discard_body(h);
        if (!reuse) {
            if (h->res.upgraded) return UW_H1_CLOSE;   /* the new protocol ended it */
            flush(h);
            if (h->res.failed) return UW_H1_RESET;
            return h->res.head_sent && h->res.close ? UW_H1_LINGER : UW_H1_CLOSE;
        }
        /* Batch responses while complete requests are buffered. */
        if (h->must_flush || h->in_pos >= h->in_len || OUT_CAP - h->out_len < 1024) {
            if (flush(h) != UW_OK) return UW_H1_RESET;
        }
    }
}

void uw__h1_preload(uw_h1 *h, const void *p, size_t n)
{
    memcpy(h->in, p, n);
    h->preloaded = n;
}

void uw__h1_linger_close(uw_conn *c)
{
    uw_conn_shutdown_write(c);
    char buf[4096];
    int64_t deadline = uw_now() + UW_MS(500);
    size_t budget = 256 * 1024;
    for (;;) {
        ssize_t n = uw_conn_read(c, buf, sizeof buf, deadline);
        if (n <= 0 || (size_t)n >= budget) break;
        budget -= (size_t)n;
    }
}

void uw__h1_reject_busy(uw_conn *c, const char *why)
{
    char busy[320];
    uw_slice s = { busy, uw_h1_busy(busy, sizeof busy, why) };
    uw_conn_writev(c, &s, 1, 0);    /* do not wait: best effort */
}
