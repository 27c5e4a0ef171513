/*
 * Fuzz target for HTTP/2 on a connection (src/http/h2_conn.c): nghttp2
 * under uweb's stream tasks, flow control and flood budgets, over an
 * in-memory connection.  The input is what a client sends after the
 * connection preface (the target puts the preface first); its first byte
 * picks the size of the reads it arrives in (1 to 255 bytes, 0: 16 KiB),
 * so frames split at every point.  Once the input is used up, reads time
 * out (the client is quiet) and the connection ends by its idle timeout.
 *
 * The handlers cover what streams do: "/" answers whole, "/echo" reads
 * the body and streams it back, "/big" writes 200 KiB in 10 KiB writes
 * (past the initial window: the peer's WINDOW_UPDATEs, or their absence,
 * pace it), "/pipe" answers through uw_res_pipe, anything else 404.
 *
 * Crashes, sanitizer reports, leaks and hangs are the findings.
 */
#include "../../src/http/http_internal.h"
#include <uweb/net.h>
#include <uweb/stream.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct mem_conn {
    uw_conn base;
    const uint8_t *data;
    size_t len, pos, chunk;
    size_t sent;
} mem_conn;

static ssize_t mc_read(uw_conn *c, void *buf, size_t n, int64_t deadline)
{
    mem_conn *m = (mem_conn *)c;
    (void)deadline;
    if (m->pos == m->len) return UW_ETIMEDOUT;     /* the client is quiet */
    size_t k = m->len - m->pos;
    if (k > m->chunk) k = m->chunk;
    if (k > n) k = n;
    memcpy(buf, m->data + m->pos, k);
    m->pos += k;
    return (ssize_t)k;
}

static int mc_writev(uw_conn *c, const uw_slice *v, size_t n, int64_t deadline)
{
    mem_conn *m = (mem_conn *)c;
    (void)deadline;
    for (size_t i = 0; i < n; i++) m->sent += v[i].len;
    return UW_OK;
}

static bool mc_may_read(const uw_conn *c) { return ((const mem_conn *)c)->pos < ((const mem_conn *)c)->len; }
static void mc_set_notify(uw_conn *c, void (*fn)(uw_conn *c, void *arg), void *arg) { (void)c, (void)fn, (void)arg; }
static void mc_shutdown_write(uw_conn *c) { (void)c; }
static void mc_close(uw_conn *c, bool reset) { (void)c, (void)reset; }
static const char *mc_peer(uw_conn *c, char *buf, size_t n) { (void)c; snprintf(buf, n, "fuzz"); return buf; }
static const struct uw_conn_ops mem_ops = {
    mc_read, mc_writev, mc_may_read, mc_set_notify, mc_shutdown_write, mc_close, mc_peer,
};

static void producer(void *arg)
{
    uw_pipe *p = arg;
    for (int i = 0; i < 20; i++)
        if (uw_pipe_write(p, "piped line\n", 11, uw_now() + UW_MS(5)) != UW_OK) break;
    uw_pipe_close_write(p, 0);
}

static void handler(uw_req *req, uw_res *res, void *arg)
{
    (void)arg;
    const char *path = uw_req_path(req);
    if (strcmp(path, "/") == 0) {
        uw_res_text(res, 200, "Hello World!\n");
    } else if (strcmp(path, "/echo") == 0) {
        const void *d;
        ssize_t n;
        uw_res_begin(res);
        while ((n = uw_req_read_chunk(req, &d)) > 0)
            if (uw_res_write(res, d, (size_t)n) != UW_OK) break;
        uw_res_end(res);
    } else if (strcmp(path, "/big") == 0) {
        static char chunk[10240];
        uw_res_content_length(res, 20 * sizeof chunk);
        for (int i = 0; i < 20; i++)
            if (uw_res_write(res, chunk, sizeof chunk) != UW_OK) return;
        uw_res_end(res);
    } else if (strcmp(path, "/pipe") == 0) {
        static char buf[64];
        static uw_pipe p;
        uw_pipe_init(&p, buf, sizeof buf);
        uw_task *t = uw_spawn(producer, &p, 0);
        if (!t) { uw_res_error(res, 503, NULL); return; }
        uw_res_pipe(res, &p);
        uw_cancel(t);
        uw_join(t);
    } else {
        uw_res_error(res, 404, NULL);
    }
}

static uw_http_server srv;
static mem_conn conn;

static void conn_task(void *arg)
{
    (void)arg;
    uw_http_conn *hc = calloc(1, sizeof *hc);
    if (!hc) return;
    hc->c = &conn.base;
    hc->srv = &srv;
    hc->ready = hc->h2 = true;
    uw__h2_serve(hc, NULL, 0);
    free(hc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool init;
    if (!init) {
        init = true;
        uw_rt_init();
        uw_http_config cfg;
        uw_http_config_default(&cfg);
        cfg.idle_timeout = UW_MS(1);
        cfg.io_timeout = UW_MS(2);
        cfg.h2_max_streams = 8;
        uw_http_server_init(&srv, &cfg, handler, NULL);
    }
    if (size < 1 || size > 65536) return 0;
    uint8_t *in = malloc(UW_H2_PREFACE_LEN + size - 1);
    if (!in) return 0;
    memcpy(in, UW_H2_PREFACE, UW_H2_PREFACE_LEN);
    memcpy(in + UW_H2_PREFACE_LEN, data + 1, size - 1);
    conn = (mem_conn){ { &mem_ops }, in, UW_H2_PREFACE_LEN + size - 1, 0, data[0] ? data[0] : 16384, 0 };
    uw_task *t = uw_spawn(conn_task, NULL, 0);
    if (t) {
        uw_detach(t);
        uw_rt_run();
    }
    free(in);
    return 0;
}
