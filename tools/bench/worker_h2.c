/*
 * uweb-bench's HTTP/2 load (--h2): each connection task keeps up to -m
 * streams in flight on one nghttp2 client session (h2 by ALPN over
 * https://, prior knowledge over http://), sends a new request as each
 * answer ends (closed loop), and measures each stream from its
 * submission to the read that completed it.  The request headers of each
 * path are made once per worker.
 */
#include "bench.h"

#include <uweb/client.h>
#include <uweb/tls.h>

#include <nghttp2/nghttp2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct h2_reqs {
    nghttp2_nv **nva;           /* per path */
    size_t nnv;
    char **lower;               /* lowercase header names */
    char length[24];
} h2_reqs;

typedef struct slot {
    struct slot *next_free;
    bool used;
    int status;
    int64_t sent;
    sha256 sha;
    size_t body_off;
} slot;

typedef struct h2c {
    worker *w;
    nghttp2_session *s;
    slot *slots;
    slot *free;                 /* slots not in use */
    int inflight;
    int64_t arrived;
    bool broken;                /* a stream or the session failed at the protocol level */
    bool goaway;                /* the server ends the connection: no new streams */
    int32_t last_id;            /* the last stream it processes */
} h2c;

/* A request the server did not process (refused, or after its GOAWAY):
 * sent again on a new connection. */
static void give_back(worker *w, uint64_t n)
{
    if (w->cfg->requests) w->next_req -= n;
}

static int on_frame(nghttp2_session *s, const nghttp2_frame *f, void *arg)
{
    (void)s;
    h2c *h = arg;
    if (f->hd.type == NGHTTP2_GOAWAY) {
        h->goaway = true;
        h->last_id = f->goaway.last_stream_id;
    }
    return 0;
}

int bench_h2_init(worker *w)
{
    const bench_cfg *cfg = w->cfg;
    h2_reqs *q = calloc(1, sizeof *q);
    if (!q) return UW_ENOMEM;
    q->nva = calloc(cfg->nreqs, sizeof *q->nva);
    q->lower = calloc((size_t)cfg->nheaders + 1, sizeof *q->lower);
    if (!q->nva || !q->lower) return UW_ENOMEM;
    snprintf(q->length, sizeof q->length, "%zu", cfg->body_len);
    bool has_ua = false;
    for (int i = 0; i < cfg->nheaders; i++) {
        const char *h = cfg->headers[i], *colon = strchr(h, ':');
        size_t n = (size_t)(colon - h);
        q->lower[i] = malloc(n + 1);
        if (!q->lower[i]) return UW_ENOMEM;
        for (size_t j = 0; j < n; j++) q->lower[i][j] = (char)(h[j] >= 'A' && h[j] <= 'Z' ? h[j] + 32 : h[j]);
        q->lower[i][n] = 0;
        has_ua |= strcmp(q->lower[i], "user-agent") == 0;
    }
#define NV(n, v) (nghttp2_nv){ (uint8_t *)(n), (uint8_t *)(v), strlen(n), strlen(v), \
                               NGHTTP2_NV_FLAG_NO_COPY_NAME | NGHTTP2_NV_FLAG_NO_COPY_VALUE }
    for (size_t p = 0; p < cfg->nreqs; p++) {
        nghttp2_nv *nv = calloc((size_t)cfg->nheaders + 8, sizeof *nv);
        if (!nv) return UW_ENOMEM;
        size_t n = 0;
        nv[n++] = NV(":method", cfg->method);
        nv[n++] = NV(":scheme", cfg->tls ? "https" : "http");
        nv[n++] = NV(":authority", cfg->authority);
        nv[n++] = NV(":path", cfg->paths[p]);
        if (!has_ua) nv[n++] = NV("user-agent", "uweb-bench");
        if (cfg->body) nv[n++] = NV("content-length", q->length);
        for (int i = 0; i < cfg->nheaders; i++) {
            const char *v = strchr(cfg->headers[i], ':') + 1;
            while (*v == ' ' || *v == '\t') v++;
            if (strcmp(q->lower[i], "host") == 0 || strcmp(q->lower[i], "connection") == 0) continue;
            nv[n++] = NV(q->lower[i], v);
        }
        q->nva[p] = nv;
        q->nnv = n;
    }
#undef NV
    w->h2 = q;
    return UW_OK;
}

void bench_h2_fini(worker *w)
{
    h2_reqs *q = w->h2;
    if (!q) return;
    for (size_t p = 0; p < w->cfg->nreqs; p++) free(q->nva[p]);
    for (int i = 0; i < w->cfg->nheaders; i++) free(q->lower[i]);
    free(q->nva);
    free(q->lower);
    free(q);
    w->h2 = NULL;
}

static int on_header(nghttp2_session *s, const nghttp2_frame *f, const uint8_t *name, size_t nlen,
                     const uint8_t *value, size_t vlen, uint8_t flags, void *arg)
{
    (void)flags;
    (void)arg;
    slot *sl = nghttp2_session_get_stream_user_data(s, f->hd.stream_id);
    if (!sl || nlen != 7 || memcmp(name, ":status", 7) != 0) return 0;
    int status = 0;
    for (size_t i = 0; i < vlen; i++) status = status * 10 + (value[i] - '0');
    if (status >= 200 || sl->status == 0) sl->status = status;
    return 0;
}

static int on_data(nghttp2_session *s, uint8_t flags, int32_t id, const uint8_t *data, size_t len, void *arg)
{
    (void)flags;
    h2c *h = arg;
    slot *sl = nghttp2_session_get_stream_user_data(s, id);
    if (sl && h->w->cfg->expect_sha256) sha256_update(&sl->sha, data, len);
    return 0;
}

static int on_close(nghttp2_session *s, int32_t id, uint32_t error_code, void *arg)
{
    h2c *h = arg;
    slot *sl = nghttp2_session_get_stream_user_data(s, id);
    if (!sl) return 0;
    worker *w = h->w;
    if (error_code == NGHTTP2_REFUSED_STREAM || (h->goaway && id > h->last_id && sl->status == 0)) {
        give_back(w, 1);
    } else if (error_code != NGHTTP2_NO_ERROR || sl->status < 200) {
        bench_fail(w, sl->status ? ERR_PROTOCOL : ERR_RESET, 1);
    } else {
        char hex[65];
        if (w->cfg->expect_sha256) sha256_hex(&sl->sha, hex);
        int64_t now = h->arrived >= sl->sent ? h->arrived : uw_now();
        bench_answer(w, sl->status, w->cfg->expect_sha256 ? hex : NULL, sl->sent, now);
    }
    sl->used = false;
    sl->next_free = h->free;
    h->free = sl;
    h->inflight--;
    return 0;
}

static ssize_t read_body(nghttp2_session *s, int32_t id, uint8_t *buf, size_t n, uint32_t *flags,
                         nghttp2_data_source *src, void *arg)
{
    (void)s;
    (void)id;
    h2c *h = arg;
    slot *sl = src->ptr;
    const bench_cfg *cfg = h->w->cfg;
    size_t k = cfg->body_len - sl->body_off;
    if (k > n) k = n;
    memcpy(buf, cfg->body + sl->body_off, k);
    sl->body_off += k;
    if (sl->body_off == cfg->body_len) *flags |= NGHTTP2_DATA_FLAG_EOF;
    return (ssize_t)k;
}

/* Sends what the session has, gathered into large writes. */
static int flush(nghttp2_session *s, uw_conn *c, unsigned char *out, size_t cap, int64_t deadline)
{
    size_t len = 0;
    for (;;) {
        const uint8_t *p;
        ssize_t n = nghttp2_session_mem_send(s, &p);
        if (n < 0) return UW_EPROTO;
        if (n == 0 || len + (size_t)n > cap) {
            if (len) {
                uw_slice v = { out, len };
                int r = uw_conn_writev(c, &v, 1, deadline);
                if (r != UW_OK) return r;
                len = 0;
            }
            if (n == 0) return UW_OK;
        }
        if ((size_t)n > cap) {
            uw_slice v = { p, (size_t)n };
            int r = uw_conn_writev(c, &v, 1, deadline);
            if (r != UW_OK) return r;
            continue;
        }
        memcpy(out + len, p, (size_t)n);
        len += (size_t)n;
    }
}

static enum err_kind kind_of(int r)
{
    if (r == UW_ETIMEDOUT) return ERR_TIMEOUT;
    if (r == UW_EPROTO || r == UW_ELIMIT || r == UW_EINVAL) return ERR_PROTOCOL;
    return ERR_RESET;
}

void bench_h2_conn_task(void *arg)
{
    worker *w = arg;
    const bench_cfg *cfg = w->cfg;
    h2_reqs *q = w->h2;
    int m = cfg->streams;
    enum { IN = 65536, OUT = 32768 };
    unsigned char *in = malloc(IN + OUT), *out = in + IN;     /* each task its own: writes may suspend */
    slot *slots = calloc((size_t)m, sizeof *slots);
    nghttp2_session_callbacks *cb;
    if (!in || !slots || nghttp2_session_callbacks_new(&cb) != 0) { free(in); free(slots); return; }
    nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data);
    nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_close);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame);
    uint64_t ridx = 0;
    bool over = false;
    while (!over) {
        uw_conn *c;
        w->st->connects++;
        int r = bench_dial(w, &c);
        if (r == UW_OK && cfg->tls) {
            const char *alpn = uw_tls_alpn(uw_tls_conn_engine(c));
            if (!alpn || strcmp(alpn, UW_TLS_ALPN_H2) != 0) {
                if (!w->st->tls_reason[0])
                    snprintf(w->st->tls_reason, sizeof w->st->tls_reason, "the server did not choose h2 by ALPN");
                uw_conn_close(c, false);
                r = UW_EPROTO;
            }
        }
        if (r != UW_OK) {
            uint64_t n = bench_take(w, 1);
            if (n == 0) break;
            bench_fail(w, r == UW_EPROTO ? ERR_PROTOCOL : ERR_CONNECT, n);
            if (r == UW_ECANCELED || uw_sleep(UW_MS(10)) != UW_OK) break;
            continue;
        }
        h2c h = { w, NULL, slots, NULL, 0, 0, false, false, 0 };
        for (int i = m - 1; i >= 0; i--) { slots[i] = (slot){ .next_free = h.free }; h.free = &slots[i]; }
        if (nghttp2_session_client_new(&h.s, cb, &h) != 0) { uw_conn_close(c, true); break; }
        nghttp2_settings_entry iv[] = { { NGHTTP2_SETTINGS_ENABLE_PUSH, 0 },
                                        { NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 1 << 20 } };
        nghttp2_submit_settings(h.s, NGHTTP2_FLAG_NONE, iv, 2);
        nghttp2_session_set_local_window_size(h.s, NGHTTP2_FLAG_NONE, 0, 1 << 24);
        for (;;) {
            /* fill the streams */
            int64_t now = uw_now();
            while (h.inflight < m && !h.broken && !h.goaway && nghttp2_session_get_remote_settings(h.s,
                       NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS) > (uint32_t)h.inflight) {
                if (bench_take(w, 1) == 0) { over = true; break; }
                slot *sl = h.free;
                h.free = sl->next_free;
                *sl = (slot){ .used = true, .sent = now };
                if (cfg->expect_sha256) sha256_init(&sl->sha);
                nghttp2_data_provider prd = { .source.ptr = sl, .read_callback = read_body };
                size_t p = (size_t)(ridx++ % cfg->nreqs);
                int32_t id = nghttp2_submit_request(h.s, NULL, q->nva[p], q->nnv, cfg->body ? &prd : NULL, sl);
                if (id < 0) {
                    sl->used = false;
                    sl->next_free = h.free;
                    h.free = sl;
                    bench_fail(w, ERR_PROTOCOL, 1);
                    h.broken = true;
                    break;
                }
                h.inflight++;
            }
            int64_t deadline = uw_now() + cfg->timeout;
            r = flush(h.s, c, out, OUT, deadline);
            if (r != UW_OK || h.inflight == 0) break;
            ssize_t n = uw_conn_read(c, in, IN, deadline);
            h.arrived = uw_now();
            if (n <= 0) { r = n == 0 ? UW_ECLOSED : (int)n; break; }
            w->st->bytes += (uint64_t)n;
            if (nghttp2_session_mem_recv(h.s, in, (size_t)n) < 0) { r = UW_EPROTO; break; }
            if (!nghttp2_session_want_read(h.s) && h.inflight) { r = UW_ECLOSED; break; }
        }
        if (h.inflight > 0 && h.goaway) give_back(w, (uint64_t)h.inflight);
        else if (h.inflight > 0) bench_fail(w, kind_of(r != UW_OK ? r : UW_ECLOSED), (uint64_t)h.inflight);
        if (h.goaway && !h.broken) over = false;    /* a new connection for the rest */
        if (r == UW_OK && !h.broken) {
            nghttp2_submit_goaway(h.s, NGHTTP2_FLAG_NONE, 0, NGHTTP2_NO_ERROR, NULL, 0);
            flush(h.s, c, out, OUT, uw_now() + UW_MS(100));
        }
        nghttp2_session_del(h.s);
        uw_conn_close(c, r != UW_OK);
        if (r == UW_ECANCELED) break;
        if (h.broken) break;
    }
    nghttp2_session_callbacks_del(cb);
    free(slots);
    free(in);
}
