/*
 * One worker: its own runtime, cfg->conns connection tasks.  Closed loop:
 * each connection sends its next request (or batch of -P requests) when
 * the previous answers arrived.  Open loop (--rate): connection i sends
 * its k-th request at start + (i / conns + k) * interval, or at once when
 * it is late, and the latency counts from that intended time, so a server
 * that stalls is charged for every request it kept waiting (coordinated
 * omission corrected, as wrk2 does).
 */
#include "bench.h"

#include <uweb/client.h>
#include <uweb/tls.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const err_names[ERR_KINDS] = { "connect", "timeout", "reset", "protocol", "status", "body" };


typedef struct conn_arg {
    worker *w;
    int index;
} conn_arg;

void bench_fail(worker *w, enum err_kind kind, uint64_t n)
{
    w->st->errors[kind] += n;
    w->st->failed += n;
    w->st->done += n;
}

static enum err_kind kind_of(int r)
{
    if (r == UW_ETIMEDOUT) return ERR_TIMEOUT;
    if (r == UW_EPROTO || r == UW_ELIMIT || r == UW_EINVAL) return ERR_PROTOCOL;
    return ERR_RESET;
}

int bench_dial(worker *w, uw_conn **c)
{
    const bench_cfg *cfg = w->cfg;
    int64_t dl = uw_now() + cfg->timeout;
    int r = uw_client_dial(c, cfg->host, cfg->port, dl);
    if (r == UW_OK && w->tls) {
        char why[160];
        r = uw_tls_connect(*c, w->tls, cfg->host, dl, c, why, sizeof why);
        if (r != UW_OK && !w->st->tls_reason[0]) snprintf(w->st->tls_reason, sizeof w->st->tls_reason, "%s", why);
        if (r == UW_TLS_ETIMEDOUT) r = UW_ETIMEDOUT;
    }
    return r;
}

void bench_answer(worker *w, int s, const char *sha_hex, int64_t from, int64_t now)
{
    const bench_cfg *cfg = w->cfg;
    bench_stats *st = w->st;
    hist_record(&st->h, (uint64_t)((now - from) / 1000));
    w->last_answer = now;
    st->status[s < 600 && s >= 0 ? s : 0]++;
    bool good = cfg->expect_status ? s == cfg->expect_status : s >= 200 && s < 400;
    if (!good) bench_fail(w, ERR_STATUS, 1);
    else if (cfg->expect_sha256 && (!sha_hex || strcmp(sha_hex, cfg->expect_sha256) != 0)) bench_fail(w, ERR_BODY, 1);
    else { st->ok++; st->done++; }
}

uint64_t bench_take(worker *w, uint64_t want)
{
    const bench_cfg *cfg = w->cfg;
    if (cfg->requests) {
        if (w->next_req >= cfg->requests) return 0;
        if (want > cfg->requests - w->next_req) want = cfg->requests - w->next_req;
        w->next_req += want;
        return want;
    }
    return uw_now() < w->end ? want : 0;
}

static void conn_task(void *arg)
{
    conn_arg *ca = arg;
    worker *w = ca->w;
    const bench_cfg *cfg = w->cfg;
    bench_stats *st = w->st;
    char in[16384];
    size_t in_len = 0, in_pos = 0;
    uw_client_parser p;
    uw_conn *c = NULL;
    uint64_t k = 0, ridx = (uint64_t)ca->index;
    int64_t first = w->start + (int64_t)((double)w->interval * ca->index / cfg->conns);
    uw_slice v[64];
    sha256 sha;
    int64_t arrived = 0;        /* when the bytes being parsed were read */
    for (;;) {
        size_t batch = (size_t)bench_take(w, (uint64_t)cfg->pipeline);
        if (batch == 0) break;
        int64_t intended = 0;
        if (cfg->rate > 0) {
            intended = first + (int64_t)k++ * w->interval;
            if (!cfg->requests && intended >= w->end) break;
            if (intended > uw_now() && uw_sleep_until(intended) != UW_OK) break;
        }
        if (!c) {
            st->connects++;
            int r = bench_dial(w, &c);
            if (r != UW_OK) {
                c = NULL;
                bench_fail(w, ERR_CONNECT, batch);
                if (r == UW_ECANCELED || uw_sleep(UW_MS(10)) != UW_OK) break;
                continue;
            }
            uw_client_parser_init(&p, NULL, 0, 64 * 1024, 1000, cfg->head);
            p.skip_body = !cfg->expect_sha256;
            in_len = in_pos = 0;
        }
        for (size_t i = 0; i < batch; i++) {
            size_t j = (size_t)(ridx++ % cfg->nreqs);
            v[i] = (uw_slice){ cfg->reqs[j], cfg->req_lens[j] };
        }
        int64_t sent = uw_now();
        int64_t deadline = sent + cfg->timeout;
        int r = uw_conn_writev(c, v, batch, deadline);
        size_t answered = 0;
        bool keep = true;
        while (r == UW_OK && answered < batch) {
            size_t used;
            r = uw_client_parser_feed(&p, in + in_pos, in_len - in_pos, &used);
            in_pos += used;
            if (r != UW_OK) break;
            if (p.event == UW_CP_HEAD) {
                if (cfg->expect_sha256) sha256_init(&sha);
                continue;
            }
            if (p.event == UW_CP_BODY) {
                if (cfg->expect_sha256) sha256_update(&sha, p.body, p.body_len);
                continue;
            }
            if (p.event == UW_CP_NONE) {
                if (in_pos == in_len) in_pos = in_len = 0;
                else if (in_len == sizeof in) {
                    memmove(in, in + in_pos, in_len - in_pos);
                    in_len -= in_pos;
                    in_pos = 0;
                }
                ssize_t n = uw_conn_read(c, in + in_len, sizeof in - in_len, deadline);
                if (n < 0) { r = (int)n; break; }
                arrived = uw_now();
                if (n == 0) {
                    r = uw_client_parser_eof(&p);
                    if (r != UW_OK) break;
                    p.keep_alive = false;
                } else {
                    st->bytes += (uint64_t)n;
                    in_len += (size_t)n;
                    continue;
                }
            }
            /* UW_CP_DONE: one answer, complete when the bytes ending it
             * were read (one clock reading per read, not per answer). */
            int64_t from = cfg->rate > 0 ? intended : sent;
            int64_t now = arrived >= from ? arrived : uw_now();
            answered++;
            char hex[65];
            if (cfg->expect_sha256) sha256_hex(&sha, hex);
            bench_answer(w, p.status, cfg->expect_sha256 ? hex : NULL, from, now);
            keep = p.keep_alive;
            uw_client_parser_next(&p, cfg->head);
            if (!keep) break;
        }
        if (r == UW_ECANCELED) break;
        if (r != UW_OK || answered < batch) {
            if (answered < batch) bench_fail(w, r != UW_OK ? kind_of(r) : ERR_RESET, batch - answered);
            uw_conn_close(c, r != UW_OK);
            c = NULL;
        } else if (!keep) {
            uw_conn_close(c, false);
            c = NULL;
        }
    }
    if (c) uw_conn_close(c, false);
}

int bench_run(const bench_cfg *cfg, bench_stats *st)
{
    int r = uw_rt_init();
    if (r != UW_OK) return r;
    uw_rt_prepare_server();
    hist_init(&st->h);
    worker w = { cfg, st, 0, 0, 0, 0, 0, NULL, NULL };
    if (cfg->tls) {
        static const char *const h1[] = { UW_TLS_ALPN_HTTP1, NULL }, *const h2[] = { UW_TLS_ALPN_H2, NULL };
        uw_tls_client_options o = { .ca_file = cfg->cacert, .insecure = cfg->insecure, .alpn = cfg->h2 ? h2 : h1 };
        if (uw_tls_client_config_new(&w.tls, &o, st->tls_reason, sizeof st->tls_reason) != UW_TLS_OK) return UW_EINVAL;
    }
    conn_arg *args = calloc((size_t)cfg->conns, sizeof *args);
    if (!args) return UW_ENOMEM;
    w.start = uw_now();
    w.end = w.start + cfg->duration;
    if (cfg->rate > 0) w.interval = (int64_t)(1e9 * cfg->conns / cfg->rate);
    if (cfg->h2 && bench_h2_init(&w) != UW_OK) { free(args); return UW_ENOMEM; }
    for (int i = 0; i < cfg->conns; i++) {
        args[i] = (conn_arg){ &w, i };
        uw_task *t = cfg->h2 ? uw_spawn(bench_h2_conn_task, &w, 0) : uw_spawn(conn_task, &args[i], 0);
        if (!t) { free(args); return UW_ENOMEM; }
        uw_detach(t);
    }
    uw_rt_run();
    st->elapsed = (w.last_answer > w.start ? w.last_answer : uw_now()) - w.start;
    if (!cfg->requests && st->elapsed < cfg->duration) st->elapsed = cfg->duration;
    uw_rt_fini();
    uw_tls_config_free(w.tls);
    if (cfg->h2) bench_h2_fini(&w);
    free(args);
    st->finished = 1;
    return UW_OK;
}
