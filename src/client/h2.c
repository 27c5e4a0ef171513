/*
 * HTTP/2 in the client (nghttp2): one connection per origin, shared by
 * every task's requests as streams.
 *
 * No task of its own reads the connection: a task waiting for its
 * stream's head or body becomes the reader when nobody is (one read, fed
 * to nghttp2, whose callbacks fill the streams it concerns), and wakes
 * the others when it is done; the others wait on the connection's queue.
 * Writing likewise: whoever flushes sends all nghttp2 has queued, others
 * return at once (their frames go out with it).  A task canceled or timed
 * out while reading leaves the connection whole (a read returns all or
 * nothing); a write cut short kills the connection (every stream fails).
 *
 * Flow control: the window of each stream is 256 KiB and is given back
 * as the caller reads (nghttp2_session_consume), so a slow reader holds
 * at most that much per stream.
 */
#include "client_internal.h"

#include <uweb/tls.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#if __has_include(<nghttp2/nghttp2.h>)
#include <nghttp2/nghttp2.h>

#define STREAM_WINDOW (256 * 1024)

enum { H2_CONNECTING, H2_OPEN, H2_DEAD };

typedef struct h2conn {
    struct h2conn *next;
    uw_client *cl;
    uw_conn *c;
    nghttp2_session *s;
    int state;
    int err;                    /* why it died */
    bool reading, writing, goaway;
    size_t refs;                /* responses and waiters holding it */
    size_t streams;             /* streams open in nghttp2 */
    int64_t idle_since;
    uw_waitq wq;                /* tasks waiting for its state or their stream */
    char origin[280];
    char rbuf[IN_CAP];
} h2conn;

typedef struct h2stream {
    h2conn *h;
    int32_t id;
    uw_client_res *res;
    bool head, done, reset;
    uint32_t error_code;
    char *buf;                  /* body bytes received, [pos, len) not read */
    size_t pos, len, cap;
    int err;                    /* a limit hit while receiving */
    /* the request body */
    const char *body;
    size_t body_len, body_off;
    uw_client_body_fn body_fn;
    void *body_arg;
} h2stream;

bool uw__clh2_available(void) { return true; }

static void conn_kill(h2conn *h, int err)
{
    if (h->state == H2_DEAD) return;
    h->state = H2_DEAD;
    h->err = err;
    uw_wake_all(&h->wq);
}

static void conn_unref(h2conn *h)
{
    if (--h->refs > 0 || h->state != H2_DEAD) return;
    for (h2conn **pp = &h->cl->h2; *pp; pp = &(*pp)->next)
        if (*pp == h) { *pp = h->next; break; }
    if (h->s) nghttp2_session_del(h->s);
    if (h->c) uw_conn_close(h->c, false);
    free(h);
}

/* Sends what nghttp2 has queued (unless another task is at it). */
static int flush(h2conn *h, int64_t deadline)
{
    if (h->writing || h->state == H2_DEAD) return h->state == H2_DEAD ? h->err : UW_OK;
    h->writing = true;
    int r = UW_OK;
    for (;;) {
        const uint8_t *p;
        ssize_t n = nghttp2_session_mem_send(h->s, &p);
        if (n < 0) { r = UW_EPROTO; conn_kill(h, r); break; }
        if (n == 0) break;
        uw_slice v = { p, (size_t)n };
        r = uw_conn_writev(h->c, &v, 1, deadline);
        if (r != UW_OK) { conn_kill(h, r == UW_ETIMEDOUT || r == UW_ECANCELED ? UW_ECLOSED : r); break; }
    }
    h->writing = false;
    return r;
}

/* One read from the connection into nghttp2. */
static int read_once(h2conn *h, int64_t deadline)
{
    h->reading = true;
    ssize_t n = uw_conn_read(h->c, h->rbuf, sizeof h->rbuf, deadline);
    h->reading = false;
    int r = UW_OK;
    if (n == 0) {
        conn_kill(h, UW_ECLOSED);
        r = UW_ECLOSED;
    } else if (n < 0) {
        r = (int)n;
        if (r != UW_ETIMEDOUT && r != UW_ECANCELED) conn_kill(h, r);
    } else if (nghttp2_session_mem_recv(h->s, (const uint8_t *)h->rbuf, (size_t)n) < 0) {
        conn_kill(h, UW_EPROTO);
        r = UW_EPROTO;
    } else {
        r = flush(h, deadline);     /* SETTINGS and PING acks, window updates */
    }
    if (!nghttp2_session_want_read(h->s) && !nghttp2_session_want_write(h->s)) conn_kill(h, UW_ECLOSED);
    uw_wake_all(&h->wq);            /* streams may be ready; someone else may read */
    return r;
}

/* Waits until ready(st) holds, reading when nobody else does. */
static int pump(h2stream *st, bool (*ready)(const h2stream *), int64_t deadline)
{
    h2conn *h = st->h;
    for (;;) {
        if (ready(st)) return UW_OK;
        if (st->err) return st->err;
        if (st->reset) return UW_ECLOSED;
        if (h->state == H2_DEAD) return h->err;
        int r = h->reading ? uw_wait(&h->wq, deadline) : read_once(h, deadline);
        if (r == UW_ETIMEDOUT || r == UW_ECANCELED) return r;
    }
}

static bool head_ready(const h2stream *st) { return st->head || st->done; }
static bool body_ready(const h2stream *st) { return st->pos < st->len || st->done; }

/* ------------------------------------------------------------ callbacks */

static h2stream *stream_of(nghttp2_session *s, int32_t id) { return nghttp2_session_get_stream_user_data(s, id); }

static int on_header(nghttp2_session *s, const nghttp2_frame *f, const uint8_t *name, size_t nlen,
                     const uint8_t *value, size_t vlen, uint8_t flags, void *arg)
{
    (void)flags;
    (void)arg;
    h2stream *st = stream_of(s, f->hd.stream_id);
    if (!st || st->head || f->hd.type != NGHTTP2_HEADERS) return 0;    /* trailers: dropped */
    uw_client_parser *p = &st->res->p;
    if (nlen == 7 && memcmp(name, ":status", 7) == 0) {
        int status = 0;
        for (size_t i = 0; i < vlen; i++) status = status * 10 + (value[i] - '0');
        p->status = status;
        return 0;
    }
    if (nlen == 14 && memcmp(name, "content-length", 14) == 0) {
        int64_t v = 0;
        for (size_t i = 0; i < vlen && i < 18; i++) v = v * 10 + (value[i] - '0');
        p->content_length = v;
    }
    int r = uw__client_parser_add_header(p, (const char *)name, nlen, (const char *)value, vlen);
    if (r != UW_OK) {
        st->err = r;
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;       /* resets the stream */
    }
    return 0;
}

static int on_frame_recv(nghttp2_session *s, const nghttp2_frame *f, void *arg)
{
    h2conn *h = arg;
    if (f->hd.type == NGHTTP2_GOAWAY) {
        h->goaway = true;
        return 0;
    }
    h2stream *st = f->hd.stream_id ? stream_of(s, f->hd.stream_id) : NULL;
    if (!st) return 0;
    if (f->hd.type == NGHTTP2_HEADERS && !st->head) {
        uw_client_parser *p = &st->res->p;
        if (p->status >= 100 && p->status < 200) {
            /* an interim answer: the real head follows */
            uw__client_parser_reset_head(p);
            p->status = 0;
            p->content_length = -1;
        } else {
            st->head = true;
            if (st->res->p.head_request || p->status == 204 || p->status == 304) p->content_length = 0;
        }
    }
    if ((f->hd.type == NGHTTP2_HEADERS || f->hd.type == NGHTTP2_DATA) && (f->hd.flags & NGHTTP2_FLAG_END_STREAM)) {
        st->done = true;
        if (!st->head) st->err = UW_EPROTO;     /* ended with no final head */
    }
    return 0;
}

static int on_data(nghttp2_session *s, uint8_t flags, int32_t id, const uint8_t *data, size_t len, void *arg)
{
    (void)flags;
    (void)arg;
    h2stream *st = stream_of(s, id);
    if (!st) {
        nghttp2_session_consume(s, id, len);
        return 0;
    }
    if (st->len + len > st->cap) {
        if (st->pos > 0) {
            memmove(st->buf, st->buf + st->pos, st->len - st->pos);
            st->len -= st->pos;
            st->pos = 0;
        }
        size_t cap = st->cap ? st->cap : 16384;
        while (cap < st->len + len) cap *= 2;
        char *b = cap > st->cap ? realloc(st->buf, cap) : st->buf;
        if (!b) {
            st->err = UW_ENOMEM;
            return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
        }
        st->buf = b;
        st->cap = cap;
    }
    memcpy(st->buf + st->len, data, len);
    st->len += len;
    return 0;
}

static int on_stream_close(nghttp2_session *s, int32_t id, uint32_t error_code, void *arg)
{
    h2conn *h = arg;
    if (h->streams) h->streams--;
    h->idle_since = uw_now();
    h2stream *st = stream_of(s, id);
    if (st) {
        st->error_code = error_code;
        if (!st->done) st->reset = true;    /* reset before its end */
        nghttp2_session_set_stream_user_data(s, id, NULL);
        st->id = 0;
    }
    uw_wake_all(&h->wq);
    return 0;
}

static ssize_t read_body(nghttp2_session *s, int32_t id, uint8_t *buf, size_t n, uint32_t *flags,
                         nghttp2_data_source *src, void *arg)
{
    (void)s;
    (void)id;
    (void)arg;
    h2stream *st = src->ptr;
    if (st->body_fn) {
        ssize_t k = st->body_fn(st->body_arg, buf, n);
        if (k < 0) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
        if (k == 0) *flags |= NGHTTP2_DATA_FLAG_EOF;
        return k;
    }
    size_t k = st->body_len - st->body_off;
    if (k > n) k = n;
    memcpy(buf, st->body + st->body_off, k);
    st->body_off += k;
    if (st->body_off == st->body_len) *flags |= NGHTTP2_DATA_FLAG_EOF;
    return (ssize_t)k;
}

/* ------------------------------------------------------------ connections */

static h2conn *find(uw_client *cl, const char *origin)
{
    int64_t now = uw_now();
    for (h2conn *h = cl->h2; h; h = h->next) {
        if (h->state == H2_DEAD || h->goaway || strcmp(h->origin, origin) != 0) continue;
        if (h->state == H2_OPEN && h->streams == 0 && !h->reading && uw_conn_may_read(h->c)) {
            /* Something came while idle (GOAWAY, the end): read what is
             * there (without waiting) before choosing it. */
            h->refs++;
            read_once(h, now);
            bool usable = h->state == H2_OPEN && !h->goaway;
            conn_unref(h);
            if (!usable) return find(cl, origin);
        }
        if (h->state == H2_OPEN && h->streams == 0 && now - h->idle_since > cl->cfg.idle_timeout) {
            conn_kill(h, UW_ECLOSED);       /* idle too long: the server may have closed it */
            h->refs++;
            conn_unref(h);
            return find(cl, origin);
        }
        return h;
    }
    return NULL;
}

h2conn *uw__clh2_wait_origin(uw_client *cl, const char *origin, int64_t deadline, int *err)
{
    *err = UW_OK;
    for (;;) {
        h2conn *h = find(cl, origin);
        if (!h) return NULL;
        if (h->state == H2_OPEN) {
            uint32_t max = nghttp2_session_get_remote_settings(h->s, NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS);
            if (h->streams < max) return h;
        }
        /* being opened, or at the server's limit of streams: wait */
        h->refs++;
        int r = uw_wait(&h->wq, deadline);
        conn_unref(h);
        if (r != UW_OK) { *err = r; return NULL; }
    }
}

h2conn *uw__clh2_connecting(uw_client *cl, const char *origin)
{
    h2conn *h = calloc(1, sizeof *h);
    if (!h) return NULL;
    h->cl = cl;
    h->state = H2_CONNECTING;
    h->refs = 1;                /* the opener's */
    snprintf(h->origin, sizeof h->origin, "%s", origin);
    h->next = cl->h2;
    cl->h2 = h;
    return h;
}

void uw__clh2_connect_failed(h2conn *h)
{
    if (!h) return;
    conn_kill(h, UW_ECLOSED);
    conn_unref(h);
}

int uw__clh2_adopt(h2conn *h, uw_conn *c)
{
    if (!h) { uw_conn_close(c, false); return UW_ENOMEM; }
    nghttp2_session_callbacks *cb;
    nghttp2_option *opt;
    if (nghttp2_session_callbacks_new(&cb) != 0) { uw_conn_close(c, false); uw__clh2_connect_failed(h); return UW_ENOMEM; }
    if (nghttp2_option_new(&opt) != 0) {
        nghttp2_session_callbacks_del(cb);
        uw_conn_close(c, false);
        uw__clh2_connect_failed(h);
        return UW_ENOMEM;
    }
    nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame_recv);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data);
    nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_stream_close);
    nghttp2_option_set_no_auto_window_update(opt, 1);
    int e = nghttp2_session_client_new2(&h->s, cb, h, opt);
    nghttp2_option_del(opt);
    nghttp2_session_callbacks_del(cb);
    h->c = c;
    if (e != 0) { h->s = NULL; uw__clh2_connect_failed(h); return UW_ENOMEM; }
    nghttp2_settings_entry iv[] = {
        { NGHTTP2_SETTINGS_ENABLE_PUSH, 0 },
        { NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, STREAM_WINDOW },
        { NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 100 },
    };
    nghttp2_submit_settings(h->s, NGHTTP2_FLAG_NONE, iv, sizeof iv / sizeof *iv);
    nghttp2_session_set_local_window_size(h->s, NGHTTP2_FLAG_NONE, 0, 16 * 1024 * 1024);
    h->state = H2_OPEN;
    h->idle_since = uw_now();
    uw_wake_all(&h->wq);
    /* The opener's reference becomes the request's (uw__clh2_request). */
    h->refs--;
    return UW_OK;
}

void uw__clh2_free_all(uw_client *cl)
{
    while (cl->h2) {
        h2conn *h = cl->h2;
        cl->h2 = h->next;
        if (h->s) nghttp2_session_del(h->s);
        if (h->c) uw_conn_close(h->c, false);
        free(h);
    }
}

/* ------------------------------------------------------------ requests */

static bool skip_header(const char *name)
{
    static const char *const hop[] = { "host", "connection", "keep-alive", "proxy-connection", "transfer-encoding",
                                       "upgrade", "te", "content-length" };
    for (size_t i = 0; i < sizeof hop / sizeof *hop; i++)
        if (strcasecmp(name, hop[i]) == 0) return true;
    return false;
}

#define NV(n, v, vl) (nghttp2_nv){ (uint8_t *)(n), (uint8_t *)(v), strlen(n), (vl), NGHTTP2_NV_FLAG_NONE }

int uw__clh2_request(h2conn *h, uw_client_res *res, const char *method, const uw_client_url *u,
                   const uw_client_req *rq)
{
    h2stream *st = calloc(1, sizeof *st);
    if (!st) return UW_ENOMEM;
    h->refs++;
    st->h = h;
    st->res = res;
    res->h2 = st;
    res->p.content_length = -1;
    res->p.http_minor = 0;
    if (h->state == H2_DEAD) return h->err;
    size_t nh = rq->nheaders + 8;
    nghttp2_nv *nva = calloc(nh, sizeof *nva);
    char **lower = calloc(rq->nheaders + 1, sizeof *lower);
    if (!nva || !lower) { free(nva); free(lower); return UW_ENOMEM; }
    char authority[300], length[24];
    const char *host = u->host, *ua = res->cl->cfg.user_agent;
    bool v6 = strchr(host, ':') != NULL;
    int k = snprintf(authority, sizeof authority, "%s%s%s", v6 ? "[" : "", host, v6 ? "]" : "");
    if (u->port != 443) snprintf(authority + k, sizeof authority - (size_t)k, ":%u", (unsigned)u->port);
    for (size_t i = 0; i < rq->nheaders; i++)
        if (strcasecmp(rq->headers[i].name, "Host") == 0)
            snprintf(authority, sizeof authority, "%s", rq->headers[i].value);
    size_t n = 0;
    nva[n++] = NV(":method", method, strlen(method));
    nva[n++] = NV(":scheme", "https", 5);
    nva[n++] = NV(":authority", authority, strlen(authority));
    nva[n++] = NV(":path", u->target, strlen(u->target));
    bool caller_ua = false;
    for (size_t i = 0; i < rq->nheaders; i++) caller_ua |= strcasecmp(rq->headers[i].name, "User-Agent") == 0;
    if (ua && *ua && !caller_ua) nva[n++] = NV("user-agent", ua, strlen(ua));
    bool with_body = rq->body || rq->body_fn;
    int64_t len = rq->body ? (int64_t)rq->body_len : rq->body_fn ? rq->body_length : 0;
    if (with_body && len >= 0) {
        snprintf(length, sizeof length, "%lld", (long long)len);
        nva[n++] = NV("content-length", length, strlen(length));
    }
    int r = UW_OK;
    for (size_t i = 0; i < rq->nheaders && r == UW_OK; i++) {
        const char *name = rq->headers[i].name;
        if (skip_header(name)) continue;
        size_t l = strlen(name);
        lower[i] = malloc(l + 1);
        if (!lower[i]) { r = UW_ENOMEM; break; }
        for (size_t j = 0; j <= l; j++) lower[i][j] = (char)(name[j] >= 'A' && name[j] <= 'Z' ? name[j] + 32 : name[j]);
        nva[n++] = NV(lower[i], rq->headers[i].value, strlen(rq->headers[i].value));
    }
    nghttp2_data_provider prd = { .source.ptr = st, .read_callback = read_body };
    st->body = rq->body;
    st->body_len = rq->body_len;
    st->body_fn = rq->body ? NULL : rq->body_fn;
    st->body_arg = rq->body_arg;
    if (r == UW_OK) {
        int32_t id = nghttp2_submit_request(h->s, NULL, nva, n, with_body ? &prd : NULL, st);
        if (id < 0) r = id == NGHTTP2_ERR_STREAM_ID_NOT_AVAILABLE ? UW_ECLOSED : UW_EINVAL;
        else { st->id = id; h->streams++; }
    }
    for (size_t i = 0; i < rq->nheaders; i++) free(lower[i]);
    free(lower);
    free(nva);
    if (r != UW_OK) return r;
    int64_t io = uw__client_after(res->cl->cfg.io_timeout);
    r = flush(h, io < res->deadline ? io : res->deadline);
    if (r != UW_OK) return r;
    for (;;) {
        io = uw__client_after(res->cl->cfg.io_timeout);
        r = pump(st, head_ready, io < res->deadline ? io : res->deadline);
        if (r != UW_OK) return r;
        if (st->head) return UW_OK;
        if (st->done) return UW_EPROTO;
    }
}

ssize_t uw__clh2_read(uw_client_res *res, void *buf, size_t n)
{
    h2stream *st = res->h2;
    int64_t io = uw__client_after(res->cl->cfg.io_timeout);
    int r = pump(st, body_ready, io < res->deadline ? io : res->deadline);
    if (r != UW_OK) return r;
    size_t k = st->len - st->pos;
    if (k == 0) return 0;           /* done */
    if (k > n) k = n;
    memcpy(buf, st->buf + st->pos, k);
    st->pos += k;
    if (st->pos == st->len) st->pos = st->len = 0;
    h2conn *h = st->h;
    if (h->state != H2_DEAD) {
        if (st->id) nghttp2_session_consume_stream(h->s, st->id, k);
        nghttp2_session_consume_connection(h->s, k);
        if (nghttp2_session_want_write(h->s)) flush(h, io < res->deadline ? io : res->deadline);
    }
    return (ssize_t)k;
}

void uw__clh2_res_close(uw_client_res *res)
{
    h2stream *st = res->h2;
    res->h2 = NULL;
    h2conn *h = st->h;
    if (st->id && h->state != H2_DEAD) {
        /* not read to its end: the server stops sending it */
        nghttp2_session_set_stream_user_data(h->s, st->id, NULL);
        nghttp2_submit_rst_stream(h->s, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_CANCEL);
        flush(h, uw__client_after(UW_SEC(1)));
    }
    free(st->buf);
    free(st);
    conn_unref(h);
}

#else /* no nghttp2 on this target: HTTP/1.1 only */

bool uw__clh2_available(void) { return false; }
struct h2conn *uw__clh2_wait_origin(uw_client *cl, const char *origin, int64_t deadline, int *err)
{
    (void)cl; (void)origin; (void)deadline;
    *err = UW_OK;
    return NULL;
}
struct h2conn *uw__clh2_connecting(uw_client *cl, const char *origin) { (void)cl; (void)origin; return NULL; }
void uw__clh2_connect_failed(struct h2conn *h) { (void)h; }
int uw__clh2_adopt(struct h2conn *h, uw_conn *c) { (void)h; uw_conn_close(c, false); return UW_EINVAL; }
int uw__clh2_request(struct h2conn *h, uw_client_res *res, const char *method, const uw_client_url *u,
                   const uw_client_req *rq)
{
    (void)h; (void)res; (void)method; (void)u; (void)rq;
    return UW_EINVAL;
}
ssize_t uw__clh2_read(uw_client_res *res, void *buf, size_t n) { (void)res; (void)buf; (void)n; return UW_EINVAL; }
void uw__clh2_res_close(uw_client_res *res) { res->h2 = NULL; }
void uw__clh2_free_all(uw_client *cl) { (void)cl; }

#endif
