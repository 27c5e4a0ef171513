/*
 * HTTP/2 on a connection (RFC 9113): nghttp2 as the frame and HPACK
 * engine, driven through nghttp2_session_mem_recv / mem_send only (it
 * does no I/O), and the protocol operations under uw_req_* / uw_res_*
 * (message.c), so every stream runs the same dispatch as HTTP/1.1.
 *
 * Tasks: the connection's task (the worker that got the connection)
 * reads, feeds nghttp2, and writes what it has to send; it waits on one
 * wait queue that the network layer's notify (data arrived), the stream
 * tasks (something to send) and the server's stop wake.  Each request
 * stream gets a task of its own that runs the handler; its waits suspend
 * only itself.
 *
 * Flow control, end to end:
 *   - request bodies: the stream's receive window (h2_stream_window) is
 *     opened only as the handler reads (nghttp2's automatic WINDOW_UPDATE
 *     is off; nghttp2_session_consume after each read), so a handler that
 *     does not read stops its client, and at most h2_stream_window bytes
 *     per stream and h2_conn_window per connection are buffered;
 *   - response bodies: a DATA source that defers while the handler has
 *     produced nothing; uw_res_write waits until nghttp2 has taken its
 *     bytes into frames, which happens only as the peer's stream and
 *     connection windows allow: a slow reader suspends only its stream's
 *     task.
 *
 * Limits and floods: concurrent streams (refused past h2_max_streams
 * handler tasks, counting those the peer reset and whose handler still
 * runs), decoded header bytes per request (431; far past it the
 * connection ends: HPACK bombs, CONTINUATION floods), and a budget of
 * frames that cost the server without carrying a request (SETTINGS, PING,
 * PRIORITY, RST_STREAM, empty DATA, refused HEADERS): past it GOAWAY
 * ENHANCE_YOUR_CALM (rapid reset, control-frame floods).  nghttp2 checks
 * the framing itself (sizes, stream states, pseudo-headers,
 * connection-specific fields, upper-case names, padding, windows) and
 * answers with the error code RFC 9113 names.
 */
#include "http_internal.h"
#include "../util/util.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#if !__has_include(<nghttp2/nghttp2.h>)
/* A target built without nghttp2 (the hvt guests built without SSE,
 * HVT_SOFT_KVM=1: platform/nghttp2/build.mk): its TLS listeners do not
 * offer h2, and an h2c preface is refused. */
bool uw__h2_server_available(void) { return false; }
enum uw_h1_outcome uw__h2_serve(uw_http_conn *hc, const void *pre, size_t n)
{
    (void)pre, (void)n;
    uw__http_log(hc->srv, "uweb: HTTP/2 is not built for this target");
    return UW_H1_RESET;
}
#else
#include <nghttp2/nghttp2.h>

bool uw__h2_server_available(void) { return true; }

#define IN_CAP (16 * 1024)
#define OUT_CAP (32 * 1024)
#define RES_HDRS_CAP 4096
#define MAX_SLICES 16
/* Whole bodies up to this many bytes are copied, not lent. */
#define COPY_BODY_MAX 4096
/* Body bytes dropped after the answer before RST_STREAM(NO_ERROR). */
#define DISCARD_MAX (256 * 1024)
/* Frames that cost without carrying a request: a burst, then per second. */
#define FLOOD_BURST 1000
#define FLOOD_RATE 200
/* The budget counts thousandths of a frame (no floating point: the hvt
 * guests may be built without SSE). */
#define FRAME 1000

typedef struct h2_conn h2_conn;
typedef struct h2_stream h2_stream;

/* A task that runs streams' handlers, one after the other: a connection
 * keeps a few idle ones, so a request does not cost a new task and stack. */
typedef struct h2_runner {
    h2_conn *c;
    uw_task *task;
    uw_waitq wake;
    h2_stream *st;              /* the stream to run */
    struct h2_runner *next;     /* idle list */
    bool quit;
} h2_runner;

struct h2_stream {
    h2_conn *c;
    int32_t id;
    uw_task *task;
    struct h2_stream *prev, *next;
    uw_waitq wake;
    uw_arena arena;
    uw_req req;
    uw_res res;
    /* the request head while it arrives */
    uw_header *headers;
    size_t nheaders;
    const char *method, *path, *authority, *scheme;
    size_t path_len;
    size_t head_bytes;
    int head_error;             /* answered without the handler: 400, 431, 501 */
    const char *why;
    bool head_done;
    /* the request body: a ring of h2_stream_window bytes */
    char *in;
    size_t in_cap, in_head, in_len, lent;
    bool body_eof, discard;
    /* the response body: the handler's bytes being taken into frames */
    uw_slice sl[MAX_SLICES];
    size_t nsl, sl_i, sl_off;
    bool borrowed;              /* a queued slice is the handler's memory */
    bool out_eof, deferred, has_data, ended;
    bool closed, reset_sent, rst_after_end, end_sent;
    size_t discarded;           /* body bytes dropped after the answer ended */
    bool running;               /* the task has not ended */
    bool counted;               /* in c->ntasks: its handler runs and the stream is not
                                 * done on the wire (a peer's reset does not end it) */
    char res_hdrs[RES_HDRS_CAP];
};

struct h2_conn {
    uw_http_conn *hc;
    uw_http_server *srv;
    const uw_http_config *cfg;
    nghttp2_session *s;
    uw_waitq own_wake, *wake;
    bool kick;                  /* a stream has something for the connection task */
    bool dead;                  /* the connection is gone (no session, no socket) */
    bool ended;                 /* ... and its task has returned: the last stream frees it */
    bool goaway;
    bool started;               /* streams got their tasks in this read */
    h2_stream *streams;
    size_t nstreams, ntasks;    /* streams alive; those that count against h2_max_streams */
    size_t nrunning;            /* streams whose handler runs */
    h2_runner *idle;
    size_t nidle, nrunners;
    h2_stream *spare;           /* stream records kept for the next ones (arena kept) */
    size_t nspare;
    int64_t tokens, tokens_at;  /* the flood budget, in FRAME units */
    size_t engine_bytes;        /* held by the nghttp2 session (the unikernels' hook) */
    /* Client stream ids skipped over (never opened): HEADERS going back
     * to one is a connection error (RFC 9113 §5.1.1), which nghttp2
     * cannot tell from late trailers on a closed stream. */
    int32_t last_id;
    struct { int32_t lo, hi; } skipped[8];
    size_t nskipped;
    uw_http_dispatch dispatch;
    void *arg;
    size_t out_len;
    uint8_t out[OUT_CAP];
    uint8_t in[IN_CAP];
};

static const uw_http_ops h2_ops;

static void kick(h2_conn *c)
{
    c->kick = true;
    uw_wake_all(c->wake);
}

static void conn_free_maybe(h2_conn *c)
{
    if (c->ended && c->nstreams == 0 && c->nrunners == 0) free(c);
}

/* The stream no longer counts against h2_max_streams. */
static void uncount(h2_stream *st)
{
    if (!st->counted) return;
    st->counted = false;
    st->c->ntasks--;
}

static void stream_free(h2_stream *st)
{
    h2_conn *c = st->c;
    if (st->prev) st->prev->next = st->next; else c->streams = st->next;
    if (st->next) st->next->prev = st->prev;
    c->nstreams--;
    free(st->in);
    st->in = NULL;
    if (!c->ended && c->nspare < c->cfg->h2_max_streams) {
        uw_arena_reset(&st->arena);
        st->next = c->spare;
        c->spare = st;
        c->nspare++;
        return;
    }
    uw_arena_fini(&st->arena);
    free(st);
    conn_free_maybe(c);
}

/* Frees the spare stream records (an idle or ending connection). */
static void spares_free(h2_conn *c)
{
    while (c->spare) {
        h2_stream *st = c->spare;
        c->spare = st->next;
        uw_arena_fini(&st->arena);
        free(st);
    }
    c->nspare = 0;
}

/* Spends one unit of the flood budget; false (and the connection ends
 * with ENHANCE_YOUR_CALM) when there is none left. */
static bool spend(h2_conn *c, int64_t cost)
{
    int64_t now = uw_now();
    int64_t gain = (now - c->tokens_at) / (UW_SEC(1) / (FLOOD_RATE * FRAME));
    c->tokens = c->tokens + gain > FLOOD_BURST * FRAME ? FLOOD_BURST * FRAME : c->tokens + gain;
    c->tokens_at = now;
    c->tokens -= cost;
    if (c->tokens >= 0) return true;
    if (!c->goaway) {
        char peer[64];
        uw__http_log(c->srv, "uweb: HTTP/2 %s: too many frames that carry no request: GOAWAY ENHANCE_YOUR_CALM",
                     uw_conn_peer(c->hc->c, peer, sizeof peer));
        nghttp2_session_terminate_session(c->s, NGHTTP2_ENHANCE_YOUR_CALM);
        c->goaway = true;
    }
    return false;
}

/* ------------------------------------------------------------ request heads */

static unsigned method_bit(const char *m)
{
    static const struct { const char *name; unsigned bit; } map[] = {
        { "GET", UW_GET }, { "HEAD", UW_HEAD }, { "POST", UW_POST }, { "PUT", UW_PUT },
        { "DELETE", UW_DELETE }, { "PATCH", UW_PATCH }, { "OPTIONS", UW_OPTIONS },
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp(m, map[i].name) == 0) return map[i].bit;
    return UW_OTHER_METHOD;
}

static h2_stream *stream_new(h2_conn *c, int32_t id)
{
    /* Everything but the response fields' buffer starts zeroed; a spare
     * record keeps its arena's first block. */
    h2_stream *st = c->spare;
    uw_arena arena;
    if (st) {
        c->spare = st->next;
        c->nspare--;
        arena = st->arena;
    } else {
        if (!(st = malloc(sizeof *st))) return NULL;
        uw_arena_init(&arena, 4096, c->cfg->arena_limit);
    }
    memset(st, 0, offsetof(h2_stream, res_hdrs));
    st->arena = arena;
    st->c = c;
    st->id = id;
    uw__http_exchange_init(&st->req, &st->res, &h2_ops, st, &st->arena, c->cfg, st->res_hdrs, sizeof st->res_hdrs);
    st->req.secure = c->hc->secure;
    st->req.conn = c->hc->c;
    st->req.minor = 1;
    st->next = c->streams;
    if (c->streams) c->streams->prev = st;
    c->streams = st;
    c->nstreams++;
    return st;
}

static int on_begin_headers(nghttp2_session *s, const nghttp2_frame *f, void *ud)
{
    h2_conn *c = ud;
    if (f->hd.type != NGHTTP2_HEADERS || f->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
    if (c->ntasks >= c->cfg->h2_max_streams || c->srv->stopping) {
        /* Streams whose handlers still run count, also when the peer
         * reset them (rapid reset). */
        nghttp2_submit_rst_stream(s, NGHTTP2_FLAG_NONE, f->hd.stream_id, NGHTTP2_REFUSED_STREAM);
        spend(c, FRAME);
        return 0;
    }
    h2_stream *st = stream_new(c, f->hd.stream_id);
    if (!st) {
        nghttp2_submit_rst_stream(s, NGHTTP2_FLAG_NONE, f->hd.stream_id, NGHTTP2_REFUSED_STREAM);
        return 0;
    }
    nghttp2_session_set_stream_user_data(s, f->hd.stream_id, st);
    return 0;
}

static char *dup0(h2_stream *st, const uint8_t *p, size_t n)
{
    return uw_arena_strndup(&st->arena, (const char *)p, n);
}

static int on_header(nghttp2_session *s, const nghttp2_frame *f, const uint8_t *name, size_t namelen,
                     const uint8_t *value, size_t valuelen, uint8_t flags, void *ud)
{
    h2_conn *c = ud;
    (void)flags;
    h2_stream *st = nghttp2_session_get_stream_user_data(s, f->hd.stream_id);
    if (!st) return 0;
    const uw_http_config *cfg = c->cfg;
    st->head_bytes += namelen + valuelen + 32;
    /* Far past the limit: an HPACK bomb or a CONTINUATION flood; the
     * whole connection goes. */
    if (st->head_bytes > 4 * cfg->h2_header_list + 64 * 1024) {
        uw__http_log(c->srv, "uweb: HTTP/2 stream %d: header block far over %zu bytes: connection closed",
                     (int)st->id, cfg->h2_header_list);
        return NGHTTP2_ERR_CALLBACK_FAILURE;
    }
    if (st->head_done || st->head_error) return 0;   /* trailers are not kept */
    if (st->head_bytes > cfg->h2_header_list) {
        st->head_error = 431;
        st->why = "request header fields too large";
        return 0;
    }
    if (name[0] == ':') {
        char *v = dup0(st, value, valuelen);
        if (!v) goto nomem;
        if (namelen == 7 && memcmp(name, ":method", 7) == 0) st->method = v;
        else if (namelen == 5 && memcmp(name, ":path", 5) == 0) st->path = v, st->path_len = valuelen;
        else if (namelen == 10 && memcmp(name, ":authority", 10) == 0) st->authority = v;
        else if (namelen == 7 && memcmp(name, ":scheme", 7) == 0) st->scheme = v;
        return 0;
    }
    if (st->nheaders >= cfg->max_headers) {
        st->head_error = 431;
        st->why = "too many header fields";
        return 0;
    }
    if (!st->headers && !(st->headers = uw_arena_alloc(&st->arena, (cfg->max_headers + 1) * sizeof(uw_header))))
        goto nomem;
    uw_header *h = &st->headers[st->nheaders];
    h->name = dup0(st, name, namelen);
    h->value = dup0(st, value, valuelen);
    if (!h->name || !h->value) goto nomem;
    h->name_len = namelen;
    h->value_len = valuelen;
    st->nheaders++;
    return 0;
nomem:
    st->head_error = 431;
    st->why = "request head larger than the request's memory";
    return 0;
}

static bool has_header(const h2_stream *st, const char *name)
{
    for (size_t i = 0; i < st->nheaders; i++)
        if (strcmp(st->headers[i].name, name) == 0) return true;
    return false;
}

static void runner_main(void *arg);

/* A request head is complete: the request as message.c knows it, then
 * its task. */
static void start_request(h2_conn *c, h2_stream *st, bool end_stream)
{
    uw_req *req = &st->req;
    st->head_done = true;
    st->body_eof = end_stream;
    req->method_name = st->method ? st->method : "GET";
    req->method = method_bit(req->method_name);
    req->headers = st->headers;
    req->nheaders = st->nheaders;
    req->has_body = !end_stream;
    req->content_length = end_stream ? 0 : -1;
    if (req->method == UW_HEAD) st->res.head_only = true;
    for (size_t i = 0; i < st->nheaders; i++) {
        const uw_header *h = &st->headers[i];
        if (strcmp(h->name, "content-length") == 0 && !end_stream) {
            /* nghttp2 checked that it is a number and that DATA meets it */
            req->content_length = strtoll(h->value, NULL, 10);
        } else if (strcmp(h->name, "expect") == 0 && strcasecmp(h->value, "100-continue") == 0) {
            req->expect_continue = !end_stream;
        }
    }
    if (!st->head_error) {
        if (req->method == UW_OTHER_METHOD && strcmp(req->method_name, "CONNECT") == 0) {
            st->head_error = 501;
            st->why = "CONNECT is not served here";
        } else if (!st->path || !st->path_len) {
            st->head_error = 400;
            st->why = "no :path";
        } else {
            char *p = uw_arena_strndup(&st->arena, st->path, st->path_len);
            uw_target t;
            const char *why = p ? uw__http_parse_target(p, st->path_len, req->method, false, &t) : "out of memory";
            if (!why && t.form != UW_TARGET_ORIGIN && !(t.form == UW_TARGET_ASTERISK && req->method == UW_OPTIONS))
                why = "the :path must be an absolute path";
            if (why) {
                st->head_error = 400;
                st->why = why;
            } else {
                req->path = t.path;
                req->path_len = t.path_len;
                req->query = t.query;
            }
        }
    }
    if (!st->head_error && st->authority && !has_header(st, "host")) {
        /* :authority is the Host of HTTP/1.1 */
        if (!uw__http_host_ok(st->authority, strlen(st->authority))) {
            st->head_error = 400;
            st->why = "malformed :authority";
        } else if (st->nheaders < c->cfg->max_headers && st->headers) {
            st->headers[st->nheaders++] = (uw_header){ "host", st->authority, 4, strlen(st->authority) };
            req->nheaders = st->nheaders;
        } else if (!st->headers) {
            st->headers = uw_arena_alloc(&st->arena, (c->cfg->max_headers + 1) * sizeof(uw_header));
            if (st->headers) {
                st->headers[st->nheaders++] = (uw_header){ "host", st->authority, 4, strlen(st->authority) };
                req->headers = st->headers;
                req->nheaders = st->nheaders;
            }
        }
    }
    if (!req->path) {
        req->path = (char *)"/";
        req->path_len = 1;
    }
    h2_runner *r = c->idle;
    if (r) {
        c->idle = r->next;
        c->nidle--;
    } else if ((r = calloc(1, sizeof *r)) && (r->task = uw_spawn(runner_main, r, c->cfg->stack_size))) {
        r->c = c;
        uw_detach(r->task);
        c->nrunners++;
        c->srv->nworkers++;     /* the server's stop waits for these tasks too */
    } else {
        free(r);
        nghttp2_submit_rst_stream(c->s, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_REFUSED_STREAM);
        return;
    }
    r->st = st;
    st->task = r->task;
    st->running = st->counted = true;
    c->ntasks++;
    c->nrunning++;
    c->started = true;
    uw_wake_one(&r->wake);
}

/* ------------------------------------------------------------ frames in */

static int on_frame_recv(nghttp2_session *s, const nghttp2_frame *f, void *ud)
{
    h2_conn *c = ud;
    h2_stream *st = f->hd.stream_id ? nghttp2_session_get_stream_user_data(s, f->hd.stream_id) : NULL;
    bool end_stream = f->hd.flags & NGHTTP2_FLAG_END_STREAM;
    switch (f->hd.type) {
    case NGHTTP2_HEADERS:
        if (!st) return 0;
        if (!st->head_done && f->headers.cat == NGHTTP2_HCAT_REQUEST) {
            start_request(c, st, end_stream);
        } else if (end_stream) {         /* trailers */
            st->body_eof = true;
            uw_wake_all(&st->wake);
        }
        break;
    case NGHTTP2_DATA:
        if (f->hd.length == 0 && !end_stream) spend(c, FRAME);
        if (st && end_stream) {
            st->body_eof = true;
            uw_wake_all(&st->wake);
        }
        break;
    case NGHTTP2_SETTINGS:
    case NGHTTP2_PING:
        if (!(f->hd.flags & NGHTTP2_FLAG_ACK)) spend(c, FRAME);
        break;
    case NGHTTP2_PRIORITY:
    case NGHTTP2_RST_STREAM:
        spend(c, FRAME);
        break;
    default:
        break;
    }
    return 0;
}

static int on_data_chunk(nghttp2_session *s, uint8_t flags, int32_t id, const uint8_t *data, size_t len, void *ud)
{
    h2_conn *c = ud;
    (void)flags;
    h2_stream *st = nghttp2_session_get_stream_user_data(s, id);
    if (!st || st->discard || !st->running) {
        nghttp2_session_consume(s, id, len);
        /* A body the handler did not read, its answer complete: dropped,
         * up to a point; then the client is told to stop (RFC 9113
         * §8.1; not at once: some clients lose the answer then). */
        if (st && st->end_sent && st->rst_after_end && (st->discarded += len) > DISCARD_MAX && !st->reset_sent) {
            st->reset_sent = true;
            nghttp2_submit_rst_stream(s, NGHTTP2_FLAG_NONE, id, NGHTTP2_NO_ERROR);
        }
        return 0;
    }
    if (!st->in) {
        st->in_cap = c->cfg->h2_stream_window < 65535 ? 65535 : c->cfg->h2_stream_window;
        if (!(st->in = malloc(st->in_cap))) {
            nghttp2_submit_rst_stream(s, NGHTTP2_FLAG_NONE, id, NGHTTP2_INTERNAL_ERROR);
            return 0;
        }
    }
    if (st->in_len + st->lent + len > st->in_cap) {   /* more than the window: nghttp2 stops that */
        nghttp2_submit_rst_stream(s, NGHTTP2_FLAG_NONE, id, NGHTTP2_FLOW_CONTROL_ERROR);
        return 0;
    }
    /* Into the ring after what is buffered (lent bytes are before it). */
    size_t tail = (st->in_head + st->lent + st->in_len) % st->in_cap;
    size_t first = len < st->in_cap - tail ? len : st->in_cap - tail;
    memcpy(st->in + tail, data, first);
    memcpy(st->in, data + first, len - first);
    st->in_len += len;
    uw_wake_all(&st->wake);
    return 0;
}

static int on_stream_close(nghttp2_session *s, int32_t id, uint32_t error, void *ud)
{
    (void)ud;
    h2_stream *st = nghttp2_session_get_stream_user_data(s, id);
    if (!st) return 0;
    nghttp2_session_set_stream_user_data(s, id, NULL);
    st->closed = true;
    /* Done on both sides: the peer may open another one now, before the
     * handler has returned. */
    if (error == NGHTTP2_NO_ERROR) uncount(st);
    if (!st->running) {
        stream_free(st);
        return 0;
    }
    uw_wake_all(&st->wake);
    /* The peer gave up on the answer: the handler's waits end. */
    if (error != NGHTTP2_NO_ERROR && !st->reset_sent && !st->ended) uw_cancel(st->task);
    return 0;
}

static int on_begin_frame(nghttp2_session *s, const nghttp2_frame_hd *hd, void *ud)
{
    h2_conn *c = ud;
    if (hd->type == NGHTTP2_CONTINUATION) spend(c, FRAME / 4);
    if (hd->type != NGHTTP2_HEADERS || !(hd->stream_id & 1)) return 0;
    int32_t id = hd->stream_id;
    if (id > c->last_id) {
        int32_t lo = c->last_id ? c->last_id + 2 : 1;
        if (id > lo) {
            size_t i = c->nskipped < 8 ? c->nskipped++ : (memmove(c->skipped, c->skipped + 1, 7 * sizeof c->skipped[0]), 7);
            c->skipped[i].lo = lo;
            c->skipped[i].hi = id - 2;
        }
        c->last_id = id;
        return 0;
    }
    for (size_t i = 0; i < c->nskipped; i++)
        if (id >= c->skipped[i].lo && id <= c->skipped[i].hi) {
            uw__http_log(c->srv, "uweb: HTTP/2: HEADERS on stream %d, below stream %d: GOAWAY", (int)id, (int)c->last_id);
            nghttp2_session_terminate_session(s, NGHTTP2_PROTOCOL_ERROR);
            break;
        }
    return 0;
}

static int on_frame_send(nghttp2_session *s, const nghttp2_frame *f, void *ud)
{
    (void)ud;
    if (!(f->hd.flags & NGHTTP2_FLAG_END_STREAM)) return 0;
    h2_stream *st = nghttp2_session_get_stream_user_data(s, f->hd.stream_id);
    if (st) st->end_sent = true;
    return 0;
}

/* ------------------------------------------------------------ frames out */

static ssize_t data_read(nghttp2_session *s, int32_t id, uint8_t *buf, size_t len, uint32_t *flags,
                         nghttp2_data_source *src, void *ud)
{
    (void)s, (void)id, (void)ud;
    h2_stream *st = src->ptr;
    size_t n = 0;
    while (n < len && st->sl_i < st->nsl) {
        const uw_slice *v = &st->sl[st->sl_i];
        size_t k = v->len - st->sl_off;
        if (k > len - n) k = len - n;
        memcpy(buf + n, (const char *)v->ptr + st->sl_off, k);
        n += k;
        st->sl_off += k;
        if (st->sl_off == v->len) {
            st->sl_i++;
            st->sl_off = 0;
        }
    }
    if (st->sl_i == st->nsl) {
        st->nsl = st->sl_i = 0;
        st->borrowed = false;
        uw_wake_all(&st->wake);
        if (st->out_eof) *flags |= NGHTTP2_DATA_FLAG_EOF;
    }
    if (n == 0 && !(*flags & NGHTTP2_DATA_FLAG_EOF)) {
        st->deferred = true;
        return NGHTTP2_ERR_DEFERRED;
    }
    return (ssize_t)n;
}

/* The stream's DATA source has more: wake nghttp2's side of it. */
static void resume(h2_stream *st)
{
    h2_conn *c = st->c;
    if (c->dead) return;
    if (st->deferred) {
        st->deferred = false;
        nghttp2_session_resume_data(c->s, st->id);
    }
    kick(c);
}

/* Waits until every slice was taken into frames. */
static int drain(h2_stream *st)
{
    h2_conn *c = st->c;
    int64_t deadline = uw_now() + st->res.io_timeout;
    while (st->nsl && !st->closed && !c->dead) {
        int r = uw_wait(&st->wake, deadline);
        if (r != UW_OK) {
            st->nsl = st->sl_i = 0;
            return r;
        }
    }
    if (st->nsl) {
        st->nsl = st->sl_i = 0;
        return UW_ECLOSED;
    }
    return UW_OK;
}

static int queue_slices(h2_stream *st, const uw_slice *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!v[i].len) continue;
        if (st->nsl == MAX_SLICES) {
            resume(st);
            int r = drain(st);
            if (r != UW_OK) return r;
        }
        st->sl[st->nsl++] = v[i];
    }
    return UW_OK;
}

/* ------------------------------------------------------------ the ops */

static bool gone(const h2_stream *st)
{
    return st->closed || st->c->dead || st->reset_sent;
}

static ssize_t h2_read_body(uw_req *req, const void **data)
{
    h2_stream *st = req->proto;
    h2_conn *c = st->c;
    if (st->lent) {
        /* The bytes handed out last time are the peer's window again. */
        st->in_head = (st->in_head + st->lent) % st->in_cap;
        if (!c->dead) {
            nghttp2_session_consume(c->s, st->id, st->lent);
            kick(c);
        }
        st->lent = 0;
    }
    int64_t deadline = uw_now() + c->cfg->io_timeout;
    while (!st->in_len) {
        if (st->body_eof) return 0;
        if (gone(st)) return UW_ECLOSED;
        int r = uw_wait(&st->wake, deadline);
        if (r != UW_OK) return r;
    }
    size_t n = st->in_cap - st->in_head;
    if (n > st->in_len) n = st->in_len;
    *data = st->in + st->in_head;
    st->in_len -= n;
    st->lent = n;
    return (ssize_t)n;
}

static int h2_send_continue(uw_req *req)
{
    h2_stream *st = req->proto;
    if (gone(st)) return UW_ECLOSED;
    nghttp2_nv nv = { (uint8_t *)":status", (uint8_t *)"100", 7, 3, NGHTTP2_NV_FLAG_NONE };
    nghttp2_submit_headers(st->c->s, NGHTTP2_FLAG_NONE, st->id, NULL, &nv, 1, NULL);
    kick(st->c);
    return UW_OK;
}

static bool connection_specific(const char *name, size_t n)
{
    static const char *const names[] = { "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade" };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strlen(names[i]) == n && strncasecmp(name, names[i], n) == 0) return true;
    return false;
}

static nghttp2_nv nv_of(const char *name, size_t nl, const char *value, size_t vl)
{
    return (nghttp2_nv){ (uint8_t *)name, (uint8_t *)value, nl, vl, NGHTTP2_NV_FLAG_NONE };
}

static int h2_send_head(uw_res *res)
{
    h2_stream *st = res->proto;
    h2_conn *c = st->c;
    if (gone(st)) return UW_ECLOSED;
    size_t lines = 0;
    for (size_t i = 0; i < res->hdrs_len; i++) lines += res->hdrs[i] == '\n';
    nghttp2_nv *nv = uw_arena_alloc(&st->arena, (lines + 3) * sizeof *nv);
    char *lower = uw_arena_alloc(&st->arena, res->hdrs_len + 1);
    if (!nv || !lower) return UW_ENOMEM;
    size_t n = 0;
    char status[4];
    status[0] = (char)('0' + res->status / 100 % 10);
    status[1] = (char)('0' + res->status / 10 % 10);
    status[2] = (char)('0' + res->status % 10);
    status[3] = 0;
    nv[n++] = nv_of(":status", 7, status, 3);
    size_t dl;
    const char *date = uw__http_date_line(c->srv, &dl);   /* "Date: ...\r\n" */
    nv[n++] = nv_of("date", 4, date + 6, dl - 8);
    /* "Name: value\r\n"... with the names in lower case */
    for (size_t i = 0; i < res->hdrs_len;) {
        const char *line = res->hdrs + i;
        const char *colon = memchr(line, ':', res->hdrs_len - i);
        const char *eol = memchr(line, '\r', res->hdrs_len - i);
        if (!colon || !eol) break;
        size_t nl = (size_t)(colon - line);
        const char *v = colon + 2;
        size_t vl = (size_t)(eol - v);
        i = (size_t)(eol - res->hdrs) + 2;
        if (connection_specific(line, nl)) continue;
        if (nl == 14 && strncasecmp(line, "content-length", 14) == 0) continue;   /* from the framing below */
        char *ln = lower + (line - res->hdrs);
        for (size_t k = 0; k < nl; k++) ln[k] = (char)((line[k] >= 'A' && line[k] <= 'Z') ? line[k] + 32 : line[k]);
        nv[n++] = nv_of(ln, nl, v, vl);
    }
    char len[24];
    if (res->has_length && !res->no_body) {
        char *e = len + sizeof len, *p = e;
        uint64_t v = res->content_length;
        do *--p = (char)('0' + v % 10); while (v /= 10);
        nv[n++] = nv_of("content-length", 14, p, (size_t)(e - p));
    }
    bool body = !(res->no_body || res->head_only || (res->has_length && res->content_length == 0));
    nghttp2_data_provider prd = { .source.ptr = st, .read_callback = data_read };
    if (st->req.has_body && !st->body_eof) st->rst_after_end = true;
    int r = nghttp2_submit_response(c->s, st->id, nv, n, body ? &prd : NULL);
    if (r != 0) return UW_EPROTO;
    st->has_data = body;
    if (!body) st->ended = true;
    kick(c);
    return UW_OK;
}

static int h2_send_body(uw_res *res, const uw_slice *v, size_t n)
{
    /* Lent until the handler returns: small bodies are copied (the
     * handler need not wait for them to be framed), larger ones are
     * waited for by end (or the next write). */
    h2_stream *st = res->proto;
    if (gone(st)) return UW_ECLOSED;
    size_t total = 0;
    for (size_t i = 0; i < n; i++) total += v[i].len;
    char *copy = total <= COPY_BODY_MAX && !st->nsl ? uw_arena_alloc(&st->arena, total ? total : 1) : NULL;
    int r;
    if (copy) {
        size_t off = 0;
        for (size_t i = 0; i < n; i++) {
            memcpy(copy + off, v[i].ptr, v[i].len);
            off += v[i].len;
        }
        uw_slice one = { copy, total };
        r = queue_slices(st, &one, 1);
    } else {
        r = queue_slices(st, v, n);
        st->borrowed = st->nsl > 0;
    }
    if (r == UW_OK) resume(st);
    return r;
}

static void reset(h2_stream *st, uint32_t code)
{
    h2_conn *c = st->c;
    st->nsl = st->sl_i = 0;
    if (st->reset_sent || st->closed || c->dead) return;
    st->reset_sent = true;
    nghttp2_submit_rst_stream(c->s, NGHTTP2_FLAG_NONE, st->id, code);
    kick(c);
}

static int h2_write_body(uw_res *res, const void *data, size_t n)
{
    h2_stream *st = res->proto;
    if (gone(st)) return UW_ECLOSED;
    uw_slice s = { data, n };
    int r = queue_slices(st, &s, 1);
    if (r == UW_OK) {
        resume(st);
        r = drain(st);          /* the caller's bytes: wait until framed */
    }
    if (r != UW_OK) {
        res->failed = true;
        reset(st, NGHTTP2_INTERNAL_ERROR);
    }
    return r;
}

static int h2_flush(uw_res *res)
{
    h2_stream *st = res->proto;
    if (!st->c->dead) kick(st->c);
    return UW_OK;
}

static int h2_end(uw_res *res)
{
    h2_stream *st = res->proto;
    if (st->ended) return UW_OK;
    st->ended = true;
    if (gone(st)) return UW_ECLOSED;
    st->out_eof = true;
    resume(st);
    int r = st->borrowed ? drain(st) : UW_OK;   /* lent slices: taken before the handler returns */
    if (r != UW_OK) reset(st, NGHTTP2_INTERNAL_ERROR);
    return r;
}

static void h2_abort(uw_res *res)
{
    reset(res->proto, NGHTTP2_INTERNAL_ERROR);
}

static const uw_http_ops h2_ops = {
    .read_body = h2_read_body,
    .send_continue = h2_send_continue,
    .send_head = h2_send_head,
    .send_body = h2_send_body,
    .write_body = h2_write_body,
    .flush = h2_flush,
    .end = h2_end,
    .abort = h2_abort,
};

static void run_stream(h2_stream *st)
{
    h2_conn *c = st->c;
    uw_http_server *srv = c->srv;
    if (st->head_error) {
        uw__http_early_error(&st->res, st->head_error, st->why);
        uw__http_log(srv, "uweb: HTTP/2 stream %d: %d %s", (int)st->id, st->head_error, st->why);
    } else {
        c->dispatch(&st->req, &st->res, c->arg);
    }
    uw__http_exchange_finish(&st->req, &st->res);
    if (!st->ended && !st->res.failed) reset(st, NGHTTP2_INTERNAL_ERROR);
    /* Body bytes not read: handed back to the peer's window, and what
     * still comes is dropped. */
    st->discard = true;
    if (!c->dead && (st->lent || st->in_len)) {
        nghttp2_session_consume(c->s, st->id, st->lent + st->in_len);
        kick(c);
    }
    st->lent = st->in_len = 0;
    st->running = false;
    c->nrunning--;
    uncount(st);
    if (!c->dead) kick(c);
    if (st->closed || c->dead) stream_free(st);
}

static void runner_main(void *arg)
{
    h2_runner *r = arg;
    h2_conn *c = r->c;
    uw_http_server *srv = c->srv;
    for (;;) {
        while (!r->st) {
            if (r->quit || uw_wait(&r->wake, UW_FOREVER) == UW_ECANCELED) goto out;
        }
        h2_stream *st = r->st;
        r->st = NULL;
        run_stream(st);
        /* A canceled task stays canceled: it does not serve again. */
        if (c->dead || uw_canceled() || c->nidle >= c->cfg->h2_max_streams) break;
        r->next = c->idle;
        c->idle = r;
        c->nidle++;
    }
out:
    c->nrunners--;
    srv->nworkers--;
    if (srv->stopping) uw_wake_all(&srv->stop_wait);
    free(r);
    conn_free_maybe(c);
}

/* ------------------------------------------------------------ the connection */

static void on_readable(uw_conn *conn, void *arg)
{
    (void)conn;
    h2_conn *c = arg;
    uw_wake_all(c->wake);
}

static int write_out(h2_conn *c, const void *p, size_t n)
{
    uw_slice s = { p, n };
    return uw_conn_writev(c->hc->c, &s, 1, uw_now() + c->cfg->io_timeout);
}

/* Sends everything nghttp2 has to send. */
static int send_all(h2_conn *c)
{
    for (;;) {
        const uint8_t *p;
        ssize_t n = nghttp2_session_mem_send(c->s, &p);
        if (n < 0) return UW_EPROTO;
        if (n == 0) break;
        if (c->out_len + (size_t)n > OUT_CAP) {
            if (c->out_len) {
                int r = write_out(c, c->out, c->out_len);
                c->out_len = 0;
                if (r != UW_OK) return r;
            }
            if ((size_t)n > OUT_CAP) {
                int r = write_out(c, p, (size_t)n);
                if (r != UW_OK) return r;
                continue;
            }
        }
        memcpy(c->out + c->out_len, p, (size_t)n);
        c->out_len += (size_t)n;
    }
    if (!c->out_len) return UW_OK;
    int r = write_out(c, c->out, c->out_len);
    c->out_len = 0;
    return r;
}

/* nghttp2's memory on the unikernels (nghttp2_mem): from the guest heap,
 * each block headed by its size, counted per connection and refused past
 * a bound (nghttp2 then fails the call with NGHTTP2_ERR_NOMEM and the
 * connection ends): the HPACK tables, the header fields being decoded
 * (h2_header_list), a stream record per stream and the frames queued.
 * Unix keeps nghttp2's default allocator (the C library's). */
#if !__STDC_HOSTED__
#define H2_MEM_HOOK 1
typedef union { size_t n; max_align_t align; } engine_block;

static size_t engine_max(const uw_http_config *cfg)
{
    return 256 * 1024 + 2 * (cfg->h2_hpack_table + cfg->h2_header_list) + cfg->h2_max_streams * 2048;
}

static void *engine_realloc(void *p, size_t n, void *arg)
{
    h2_conn *c = arg;
    engine_block *b = p ? (engine_block *)p - 1 : NULL;
    size_t old = b ? b->n : 0;
    if (!n) n = 1;
    if (n > SIZE_MAX - sizeof *b || c->engine_bytes - old + n > engine_max(c->cfg)) return NULL;
    engine_block *nb = realloc(b, sizeof *nb + n);
    if (!nb) return NULL;
    c->engine_bytes = c->engine_bytes - old + n;
    nb->n = n;
    return nb + 1;
}

static void *engine_malloc(size_t n, void *arg) { return engine_realloc(NULL, n, arg); }

static void *engine_calloc(size_t k, size_t n, void *arg)
{
    if (n && k > SIZE_MAX / n) return NULL;
    void *p = engine_realloc(NULL, k * n, arg);
    if (p) memset(p, 0, k * n);
    return p;
}

static void engine_free(void *p, void *arg)
{
    if (!p) return;
    h2_conn *c = arg;
    engine_block *b = (engine_block *)p - 1;
    c->engine_bytes -= b->n;
    free(b);
}
#endif

static nghttp2_session *session_new(h2_conn *c)
{
    const uw_http_config *cfg = c->cfg;
    nghttp2_session_callbacks *cb;
    nghttp2_option *opt;
    nghttp2_session *s = NULL;
    if (nghttp2_session_callbacks_new(&cb) != 0) return NULL;
    if (nghttp2_option_new(&opt) != 0) {
        nghttp2_session_callbacks_del(cb);
        return NULL;
    }
    nghttp2_session_callbacks_set_on_begin_headers_callback(cb, on_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame_recv);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data_chunk);
    nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_stream_close);
    nghttp2_session_callbacks_set_on_begin_frame_callback(cb, on_begin_frame);
    nghttp2_session_callbacks_set_on_frame_send_callback(cb, on_frame_send);
    nghttp2_option_set_no_auto_window_update(opt, 1);
    /* Responses use HPACK's static table and Huffman codes only (as
     * nginx): nghttp2's dynamic table costs more CPU than the bytes it
     * saves (hello: 0.58x the requests per CPU-second with it). */
    nghttp2_option_set_max_deflate_dynamic_table_size(opt, 0);
    nghttp2_option_set_max_outbound_ack(opt, 1000);
    nghttp2_option_set_max_settings(opt, 32);
#ifdef H2_MEM_HOOK
    nghttp2_mem mem = { c, engine_malloc, engine_free, engine_calloc, engine_realloc };
    nghttp2_mem *memp = &mem;                   /* nghttp2 keeps a copy */
#else
    nghttp2_mem *memp = NULL;                   /* the default allocator */
#endif
    if (nghttp2_session_server_new3(&s, cb, c, opt, memp) != 0) s = NULL;
    nghttp2_option_del(opt);
    nghttp2_session_callbacks_del(cb);
    if (!s) return NULL;
    nghttp2_settings_entry iv[] = {
        { NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, (uint32_t)cfg->h2_max_streams },
        { NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, (uint32_t)(cfg->h2_stream_window < 65535 ? 65535 : cfg->h2_stream_window) },
        { NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, (uint32_t)cfg->h2_header_list },
        { NGHTTP2_SETTINGS_HEADER_TABLE_SIZE, (uint32_t)cfg->h2_hpack_table },
    };
    if (nghttp2_submit_settings(s, NGHTTP2_FLAG_NONE, iv, sizeof iv / sizeof iv[0]) != 0 ||
        nghttp2_session_set_local_window_size(s, NGHTTP2_FLAG_NONE, 0,
                                              (int32_t)(cfg->h2_conn_window < 65535 ? 65535 : cfg->h2_conn_window)) != 0) {
        nghttp2_session_del(s);
        return NULL;
    }
    return s;
}

enum uw_h1_outcome uw__h2_serve(uw_http_conn *hc, const void *pre, size_t npre)
{
    h2_conn *c = calloc(1, sizeof *c);
    if (!c) return UW_H1_RESET;
    c->hc = hc;
    c->srv = hc->srv;
    c->cfg = &hc->srv->cfg;
    c->wake = hc->w ? &hc->w->wake : &c->own_wake;
    c->dispatch = uw__conn_dispatch(hc, &c->arg);
    c->tokens = FLOOD_BURST * FRAME;
    c->tokens_at = uw_now();
    enum uw_h1_outcome o = UW_H1_CLOSE;
    if (!(c->s = session_new(c))) {
        free(c);
        return UW_H1_RESET;
    }
    if (npre && nghttp2_session_mem_recv(c->s, pre, npre) < 0) o = UW_H1_RESET;
    uw_conn_set_notify(hc->c, on_readable, c);
    int64_t grace = 0;
    unsigned reads = 0;
    while (o == UW_H1_CLOSE) {
        if (send_all(c) != UW_OK) {
            o = UW_H1_RESET;
            break;
        }
        if (!nghttp2_session_want_read(c->s) && !nghttp2_session_want_write(c->s)) break;
        if (c->srv->stopping && !grace) {
            /* Graceful stop: GOAWAY with the last stream taken; those
             * finish within the grace period. */
            nghttp2_submit_goaway(c->s, NGHTTP2_FLAG_NONE, nghttp2_session_get_last_proc_stream_id(c->s),
                                  NGHTTP2_NO_ERROR, NULL, 0);
            c->goaway = true;
            grace = uw_now() + c->cfg->shutdown_grace;
            continue;
        }
        if (uw_conn_may_read(hc->c)) {
            ssize_t n = uw_conn_read(hc->c, c->in, IN_CAP, 0);
            if (n == 0) break;
            if (n > 0) {
                ssize_t r = nghttp2_session_mem_recv(c->s, c->in, (size_t)n);
                if (r < 0) {
                    char peer[64];
                    uw__http_log(c->srv, "uweb: HTTP/2 %s: %s", uw_conn_peer(hc->c, peer, sizeof peer),
                                 nghttp2_strerror((int)r));
                    send_all(c);           /* the GOAWAY nghttp2 queued */
                    o = UW_H1_CLOSE;
                    break;
                }
                /* New streams run now, so their answers go out in the
                 * next write, together; and a peer that never stops
                 * sending lets the others have their turn. */
                if (c->started || ++reads % 16 == 0) {
                    c->started = false;
                    uw_yield();
                }
                continue;
            }
            if (n != UW_ETIMEDOUT) break;
        }
        if (c->kick) {
            c->kick = false;
            continue;
        }
        /* Idle: no handler runs (streams the peer leaves open without
         * sending count as idle too), for idle_timeout. */
        int64_t deadline = UW_FOREVER;
        if (grace) deadline = grace;
        else if (!c->nrunning) deadline = uw_now() + c->cfg->idle_timeout;
        if (!c->nstreams) spares_free(c);   /* an idle connection holds no stream memory */
        int r = uw_wait(c->wake, deadline);
        if (r == UW_ECANCELED || (r == UW_ETIMEDOUT && grace && uw_now() >= grace)) break;
        if (r == UW_ETIMEDOUT && !c->nrunning && !c->goaway) {
            nghttp2_submit_goaway(c->s, NGHTTP2_FLAG_NONE, nghttp2_session_get_last_proc_stream_id(c->s),
                                  NGHTTP2_NO_ERROR, NULL, 0);
            c->goaway = true;
            send_all(c);
            break;
        }
    }
    uw_conn_set_notify(hc->c, NULL, NULL);
    /* The streams still running see the connection gone. */
    c->dead = true;
    nghttp2_session_del(c->s);
    c->s = NULL;
#ifdef H2_MEM_HOOK
    if (c->engine_bytes)
        uw__http_log(c->srv, "uweb: h2: %zu bytes of nghttp2's memory not given back", c->engine_bytes);
#endif
    for (h2_stream *st = c->streams, *next; st; st = next) {
        next = st->next;
        st->closed = true;
        if (st->running) {
            uw_cancel(st->task);
            uw_wake_all(&st->wake);
        } else {
            stream_free(st);
        }
    }
    for (h2_runner *r = c->idle; r; r = r->next) {
        r->quit = true;
        uw_wake_one(&r->wake);
    }
    c->idle = NULL;
    c->nidle = 0;
    c->ended = true;
    spares_free(c);
    conn_free_maybe(c);
    return o;
}
#endif
