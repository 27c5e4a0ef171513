/*
 * The server object: listeners and their acceptors, the worker pool,
 * parked idle connections, the Date line, and the graceful stop.
 *
 * Tasks of a server: one acceptor per listener, one sweeper (each second:
 * closes idle keep-alive connections, answers 503 to connections that
 * waited too long for a worker, frees unused workers, refreshes the Date
 * line), one reaper (runs the stop), under a memory budget one evictor,
 * and workers.  A connection (uw_http_conn) is small; it borrows a worker
 * — task, stack, the protocol's buffers and request arena — while it has
 * a request in flight and gives it back when it goes idle with nothing
 * buffered.  Parked connections are woken by the network layer's notify
 * callback.  Under a memory budget the workers are counted: a connection
 * that finds none waits (wait list), and takes the worker of a stalled
 * request head (slow list) whose bytes are kept with its connection
 * (h1_conn.c's held head) until it sends more.
 *
 * A connection of a TLS listener does its handshake in its worker (never
 * in the acceptor) within handshake_timeout; ALPN then picks the protocol.
 * Everything is per server: several run side by side in one runtime.
 */
#include "http_internal.h"
#include "../util/util.h"
#include <uweb/tls.h>

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define FREE_WORKERS_MAX 256
/* Free workers beyond this many are freed after a second unused. */
#define FREE_WORKERS_KEEP 4
/* Over the worker budget, a connection whose head has been arriving for
 * this long gives its worker to a new one (slowloris; the head is kept and
 * resumed, so this can be short); one that waited this long for a worker
 * is answered 503. */
#define EVICT_AFTER UW_MS(10)
#define WAIT_FOR_WORKER UW_SEC(1)

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
    cfg->handshake_timeout = UW_SEC(10);
    cfg->max_connections = 16384;
    cfg->shutdown_grace = UW_SEC(10);
    cfg->stack_size = 64 * 1024;
    cfg->arena_limit = 16 * 1024 * 1024;
    cfg->memory_budget = uw__http_memory_budget();
    cfg->h2_max_streams = 100;
    cfg->h2_header_list = 16 * 1024;
    cfg->h2_hpack_table = 4096;
    cfg->h2_stream_window = 65535;
    cfg->h2_conn_window = 1024 * 1024;
    cfg->log_level = UW_LOG_INFO;
}

static void log_line(const uw_http_server *srv, int level, const char *fmt, va_list ap)
{
    if (!srv->cfg.log || level > srv->cfg.log_level) return;
    vfprintf(srv->cfg.log, fmt, ap);
    fputc('\n', srv->cfg.log);
    fflush(srv->cfg.log);
}

void uw__http_log(const uw_http_server *srv, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_line(srv, UW_LOG_INFO, fmt, ap);
    va_end(ap);
}

void uw__http_log_at(const uw_http_server *srv, int level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_line(srv, level, fmt, ap);
    va_end(ap);
}

/* The Date line is formatted when the second changes: by the sweeper
 * each second, or here when no sweeper runs (uw_http_server_serve_conn). */
static void update_date(uw_http_server *srv)
{
    int64_t sec = uw_wall_now() / 1000000000;
    if (sec == srv->date_sec && srv->date_len) return;
    srv->date_sec = sec;
    char d[30];
    uw__http_date(sec, d);
    memcpy(srv->date, "Date: ", 6);
    memcpy(srv->date + 6, d, 29);
    memcpy(srv->date + 35, "\r\n", 2);
    srv->date_len = 37;
}

const char *uw__http_date_line(uw_http_server *srv, size_t *len)
{
    if (!srv->date_len || !srv->sweeper) update_date(srv);
    *len = srv->date_len;
    return srv->date;
}

/* ------------------------------------------------------------ connections */

/* The two lists a connection without a worker is on (through prev/next):
 * parked (idle), or waiting for a worker with data; oldest first. */
static void list_unlink(uw_http_conn **head, uw_http_conn **tail, uw_http_conn *hc)
{
    if (hc->prev) hc->prev->next = hc->next; else *head = hc->next;
    if (hc->next) hc->next->prev = hc->prev; else *tail = hc->prev;
    hc->prev = hc->next = NULL;
}

static void list_add(uw_http_conn **head, uw_http_conn **tail, uw_http_conn *hc, bool first)
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

static void idle_unlink(uw_http_conn *hc)
{
    if (!hc->parked) return;
    list_unlink(&hc->srv->idle_head, &hc->srv->idle_tail, hc);
    hc->parked = false;
}

static void wait_unlink(uw_http_conn *hc)
{
    if (!hc->waiting) return;
    list_unlink(&hc->srv->wait_head, &hc->srv->wait_tail, hc);
    hc->waiting = false;
}

/* Queues hc for the next worker that is free.  The order: first (an
 * evicted worker's place is for it) at the front; then connections with
 * a new request, in the order they came; last, the resumptions of held
 * heads (slow clients sending more), so a slowloris does not delay the
 * others. */
static void wait_for_worker(uw_http_conn *hc, bool first)
{
    uw_http_server *srv = hc->srv;
    idle_unlink(hc);
    wait_unlink(hc);
    uw_conn_set_notify(hc->c, NULL, NULL);
    hc->waiting = true;
    hc->promised = first;
    hc->idle_since = uw_now();
    uw_http_conn *before = NULL;
    if (!first && !hc->held)
        for (before = srv->wait_head; before && (before->promised || !before->held); before = before->next) {}
    if (before) {
        hc->next = before;
        hc->prev = before->prev;
        if (before->prev) before->prev->next = hc; else srv->wait_head = hc;
        before->prev = hc;
    } else {
        list_add(&srv->wait_head, &srv->wait_tail, hc, first);
    }
    if (!first) uw_wake_one(&srv->evict_wake);
}

static void conn_free(uw_http_conn *hc, bool reset)
{
    uw_http_server *srv = hc->srv;
    idle_unlink(hc);
    wait_unlink(hc);
    if (hc->held) uw__h1_held_free(srv, hc->held);
    if (srv->cfg.log_level >= UW_LOG_DEBUG) {
        char peer[64];
        uw__http_log_at(srv, UW_LOG_DEBUG, "uweb: connection from %s closed%s", uw_conn_peer(hc->c, peer, sizeof peer),
                        reset ? " (reset)" : "");
    }
    uw_conn_close(hc->c, reset);
    free(hc);
    srv->nconns--;
    if (srv->stopping) uw_wake_all(&srv->stop_wait);
}

/* Workers waiting for the rest of a request head, oldest first: the ones
 * to take back when the budget is spent (h1_conn.c's read_head keeps the
 * list). */
void uw__http_slow_insert(uw_http_worker *w)
{
    uw_http_server *srv = w->srv;
    w->slow = true;
    w->head_since = uw_now();
    w->slow_prev = srv->slow_tail;
    w->slow_next = NULL;
    if (srv->slow_tail) srv->slow_tail->slow_next = w; else srv->slow_head = w;
    srv->slow_tail = w;
}

void uw__http_slow_unlink(uw_http_worker *w)
{
    uw_http_server *srv = w->srv;
    if (!w->slow) return;
    if (w->slow_prev) w->slow_prev->slow_next = w->slow_next; else srv->slow_head = w->slow_next;
    if (w->slow_next) w->slow_next->slow_prev = w->slow_prev; else srv->slow_tail = w->slow_prev;
    w->slow_prev = w->slow_next = NULL;
    w->slow = false;
}

static void on_data(uw_conn *c, void *arg);

static void park(uw_http_conn *hc)
{
    uw_http_server *srv = hc->srv;
    hc->w = NULL;
    hc->parked = true;
    hc->idle_since = uw_now();
    list_add(&srv->idle_head, &srv->idle_tail, hc, false);
    uw_conn_set_notify(hc->c, on_data, hc);
}

static void busy_link(uw_http_worker *w)
{
    uw_http_server *srv = w->srv;
    w->prev_busy = NULL;
    w->next_busy = srv->busy_workers;
    if (srv->busy_workers) srv->busy_workers->prev_busy = w;
    srv->busy_workers = w;
}

static void busy_unlink(uw_http_worker *w)
{
    uw_http_server *srv = w->srv;
    if (w->prev_busy) w->prev_busy->next_busy = w->next_busy; else srv->busy_workers = w->next_busy;
    if (w->next_busy) w->next_busy->prev_busy = w->prev_busy;
    w->prev_busy = w->next_busy = NULL;
}

/* A TLS handshake that failed: one log line, at most 3 a second (a
 * flood of garbage must not flood the log); the others are counted and
 * told in the next line. */
static void tls_log(uw_http_server *srv, int r, const char *why)
{
    int64_t sec = uw_now() / UW_SEC(1);
    if (sec != srv->tls_log_sec) {
        srv->tls_log_sec = sec;
        srv->tls_log_lines = 0;
    }
    if (srv->tls_log_lines >= 3) {
        srv->tls_log_dropped++;
        return;
    }
    srv->tls_log_lines++;
    uw__http_log_at(srv, UW_LOG_WARN, "uweb: TLS handshake failed: %s%s%s", uw_tls_strerror(r), *why ? ": " : "", why);
    if (srv->tls_log_dropped) {
        uw__http_log_at(srv, UW_LOG_WARN, "uweb: (%zu more TLS handshake failures not logged)", srv->tls_log_dropped);
        srv->tls_log_dropped = 0;
    }
}

/* Makes a connection ready to speak HTTP: for a TLS listener, the
 * handshake (here, in the connection's worker, within handshake_timeout)
 * and the protocol ALPN picked.  UW_OK or a status (then close). */
static int conn_ready(uw_http_conn *hc)
{
    if (hc->ready) return UW_OK;
    if (hc->port && hc->port->conf.proxy_protocol && !hc->proxied) {
        uw_http_server *srv = hc->srv;
        char why[160] = "";
        uw_conn *c = NULL;
        int r = uw__proxy_accept(hc->c, srv->cfg.trust_proxy, srv->cfg.ntrust_proxy,
                                 uw_now() + srv->cfg.header_timeout, &c, why, sizeof why);
        if (r != UW_OK) {
            uw__http_log_at(srv, UW_LOG_WARN, "uweb: connection closed: %s", why);
            return r;
        }
        hc->c = c;
        hc->proxied = true;
    }
    if (hc->port && hc->port->conf.tls) {
        uw_http_server *srv = hc->srv;
        char why[160] = "";
        uw_conn *tls = NULL;
        int r = uw_tls_accept(hc->c, hc->port->conf.tls, uw_now() + srv->cfg.handshake_timeout,
                              &tls, why, sizeof why);
        if (r != UW_OK) {
            hc->c = NULL;            /* closed by uw_tls_accept */
            tls_log(srv, r, why);
            return r;
        }
        hc->c = tls;
        hc->secure = true;
        /* ALPN: HTTP/1.1 when chosen or when the client offered none; the
         * slot of h2 (next issue) is here. */
        const char *alpn = uw_tls_alpn(uw_tls_conn_engine(tls));
        if (alpn && strcmp(alpn, UW_TLS_ALPN_H2) == 0) hc->h2 = true;
        else if (alpn && strcmp(alpn, UW_TLS_ALPN_HTTP1) != 0) {
            uw__http_log_at(srv, UW_LOG_WARN, "uweb: ALPN chose %s, which is not served here", alpn);
            return UW_EPROTO;
        }
    }
    hc->ready = true;
    return UW_OK;
}

static bool attach(uw_http_conn *hc);
static void give(uw_http_worker *w, uw_http_conn *hc);

/* The protocol of a ready connection: HTTP/2 when ALPN chose it, or on
 * an h2c listener when the client's first bytes are HTTP/2's preface
 * (what came of them otherwise goes to HTTP/1.1); else HTTP/1.1. */
static enum uw_h1_outcome serve(uw_http_worker *w, uw_http_conn *hc)
{
    if (hc->h2) return uw__h2_serve(hc, NULL, 0);
    if (hc->port && hc->port->conf.h2c && !hc->h2c_checked) {
        char pre[UW_H2_PREFACE_LEN];
        size_t n = 0;
        int64_t deadline = uw_now() + hc->srv->cfg.header_timeout;
        /* Nothing sent yet: HTTP/1.1 parks it, the check comes later. */
        if (!uw_conn_may_read(hc->c)) return uw__h1_serve(w->h1, hc);
        hc->h2c_checked = true;
        while (n < sizeof pre) {
            ssize_t k = uw_conn_read(hc->c, pre + n, sizeof pre - n, deadline);
            if (k <= 0) return n ? UW_H1_RESET : UW_H1_CLOSE;
            n += (size_t)k;
            if (memcmp(pre, UW_H2_PREFACE, n) != 0) break;
        }
        if (n == sizeof pre && memcmp(pre, UW_H2_PREFACE, n) == 0) {
            hc->h2 = true;
            return uw__h2_serve(hc, pre, n);
        }
        uw__h1_preload(w->h1, pre, n);
    }
    return uw__h1_serve(w->h1, hc);
}

static void worker_main(void *arg)
{
    uw_http_worker *w = arg;
    uw_http_server *srv = w->srv;
    for (;;) {
        while (!w->hc) {
            if (srv->stopping || w->retire) goto out;
            if (uw_wait(&w->wake, UW_FOREVER) == UW_ECANCELED) goto out;
        }
        uw_http_conn *hc = w->hc;
        busy_link(w);
        enum uw_h1_outcome o = UW_H1_RESET;
        if (conn_ready(hc) == UW_OK) o = serve(w, hc);
        busy_unlink(w);
        w->hc = NULL;
        hc->w = NULL;
        if (o == UW_H1_PARK && !srv->stopping) {
            /* A held head's connection may have sent more meanwhile. */
            if (hc->held && uw_conn_may_read(hc->c)) wait_for_worker(hc, false);
            else park(hc);
        } else {
            if (o == UW_H1_LINGER && !w->evicted) uw__h1_linger_close(hc->c);
            conn_free(hc, o == UW_H1_RESET);
        }
        if (srv->stopping || w->evicted) break;
        if (srv->wait_head) {        /* a connection waits for a worker: this one */
            give(w, srv->wait_head);
            continue;
        }
        if (srv->nfree >= FREE_WORKERS_MAX) break;
        w->next_free = srv->free_workers;
        w->free_since = uw_now();
        srv->free_workers = w;
        srv->nfree++;
    }
out:
    uw__http_slow_unlink(w);
    srv->nworkers--;
    if (w->evicted) srv->nevicted--;
    uw__h1_free(w->h1);
    free(w);
    if (srv->stopping) {
        uw_wake_all(&srv->stop_wait);
        return;
    }
    /* The memory is back: a new worker for the first waiting connection
     * (the one that evicted this worker, if it was). */
    if (srv->wait_head) attach(srv->wait_head);
}

static uw_http_worker *worker_new(uw_http_server *srv)
{
    uw_http_worker *w = calloc(1, sizeof *w);
    if (!w) return NULL;
    w->srv = srv;
    w->h1 = uw__h1_new(&srv->cfg);
    if (w->h1) {
        w->task = uw_spawn(worker_main, w, srv->cfg.stack_size);
        if (w->task) {
            uw_detach(w->task);
            srv->nworkers++;
            return w;
        }
    }
    uw__h1_free(w->h1);
    free(w);
    return NULL;
}

static void give(uw_http_worker *w, uw_http_conn *hc)
{
    idle_unlink(hc);
    wait_unlink(hc);
    hc->promised = false;
    uw_conn_set_notify(hc->c, NULL, NULL);
    hc->w = w;
    w->hc = hc;
    uw_wake_one(&w->wake);
}

/* Over the budget: takes the worker of the connection whose head has
 * been arriving longest, if that is longer than EVICT_AFTER.  Its task
 * holds the head or answers 503, and ends (h1_conn.c's read_head); when
 * it is gone, the first waiting connection — hc, queued first — gets a
 * new worker in its place. */
static bool evict_for(uw_http_conn *hc)
{
    uw_http_server *srv = hc->srv;
    uw_http_worker *v = srv->slow_head;
    if (!v || v->head_since > uw_now() - EVICT_AFTER) return false;
    uw__http_slow_unlink(v);
    v->evicted = true;
    srv->nevicted++;
    srv->evictions++;
    uw_cancel(v->task);
    wait_for_worker(hc, true);
    return true;
}

/* Waiting connections take the workers of slow heads, oldest first (the
 * promised ones, at the front, have theirs coming). */
static void evict_for_waiting(uw_http_server *srv)
{
    uw_http_conn *hc = srv->wait_head;
    while (hc && hc->promised) hc = hc->next;
    while (hc) {
        uw_http_conn *next = hc->next;
        if (!evict_for(hc)) break;
        hc = next;
    }
}

/* Gives hc a worker: a free one, a new one within the budget, or the one
 * of a slow head (then later).  False when none can be had. */
static bool attach(uw_http_conn *hc)
{
    uw_http_server *srv = hc->srv;
    uw_http_worker *w = srv->free_workers;
    if (w) {
        srv->free_workers = w->next_free;
        srv->nfree--;
    } else if (srv->max_workers && srv->nworkers - srv->nevicted >= srv->max_workers) {
        return evict_for(hc);
    } else if (!(w = worker_new(srv))) {
        return evict_for(hc);
    }
    give(w, hc);
    return true;
}

static void on_data(uw_conn *c, void *arg)
{
    uw_http_conn *hc = arg;
    (void)c;
    if (hc->w || hc->waiting) return;
    /* No worker now: wait for one (a worker that finishes takes the
     * oldest waiting connection); the sweeper answers 503 to one that
     * waited WAIT_FOR_WORKER. */
    if (!attach(hc)) wait_for_worker(hc, false);
}

/* ------------------------------------------------------------ tasks */

static void acceptor_main(void *arg)
{
    struct uw_http_port *pt = arg;
    uw_http_server *srv = pt->srv;
    for (;;) {
        uw_conn *c;
        int r = uw_tcp_accept(pt->listener, &c, UW_FOREVER);
        if (r == UW_ECLOSED || r == UW_ECANCELED) break;
        if (r != UW_OK) continue;
        if (srv->nconns >= srv->cfg.max_connections) {
            uw__http_log_at(srv, UW_LOG_WARN, "uweb: connection refused with 503: %zu connections open", srv->nconns);
            if (!pt->conf.tls) uw__h1_reject_busy(c, "too many connections");   /* TLS: not even a handshake */
            uw_conn_close(c, false);
            continue;
        }
        uw_http_conn *hc = calloc(1, sizeof *hc);
        if (!hc) { uw_conn_close(c, true); continue; }
        hc->c = c;
        hc->port = pt;
        hc->srv = srv;
        srv->nconns++;
        if (srv->cfg.log_level >= UW_LOG_DEBUG) {
            char peer[64];
            uw__http_log_at(srv, UW_LOG_DEBUG, "uweb: connection from %s (%zu open)", uw_conn_peer(c, peer, sizeof peer),
                            srv->nconns);
        }
        if (!attach(hc)) {
            /* No worker now: parked until it sends (then on_data) */
            if (uw_conn_may_read(c)) wait_for_worker(hc, false);
            else park(hc);
        }
        uw_yield();   /* let the connection's worker run before the next accept */
    }
    srv->nacceptors--;
    pt->acceptor = NULL;
    if (srv->stopping) uw_wake_all(&srv->stop_wait);
}

/* Closes idle connections past the idle timeout and keeps the Date line
 * current: it wakes just after each wall-clock second. */
static void sweeper_main(void *arg)
{
    uw_http_server *srv = arg;
    while (!srv->stopping) {
        int64_t into = uw_wall_now() % UW_SEC(1);
        if (uw_sleep(UW_SEC(1) - into + UW_MS(1)) != UW_OK) break;
        update_date(srv);
        int64_t now = uw_now(), limit = now - srv->cfg.idle_timeout;
        while (srv->idle_head && srv->idle_head->idle_since <= limit) conn_free(srv->idle_head, false);
        /* Connections that waited a second for a worker (and have none
         * coming): 503. */
        size_t busy = 0;
        for (uw_http_conn *hc = srv->wait_head, *next; hc; hc = next) {
            next = hc->next;
            if (hc->promised || hc->idle_since > now - WAIT_FOR_WORKER) continue;
            wait_unlink(hc);
            if (!(hc->port && hc->port->conf.tls && !hc->ready))
                uw__h1_reject_busy(hc->c, "no worker free for this connection");
            conn_free(hc, false);
            busy++;
        }
        if (busy || srv->evictions)
            uw__http_log_at(srv, UW_LOG_WARN, "uweb: %zu connection(s) answered 503 (no worker free within a second), %zu slow head(s) "
                         "gave their worker to another connection, %zu held (%zu bytes); %zu workers",
                         busy, srv->evictions, srv->nheld, srv->held_bytes, srv->nworkers);
        srv->evictions = 0;
        /* The free list is a stack: the long-unused ones are at its end. */
        size_t kept = 0;
        for (uw_http_worker **pw = &srv->free_workers; *pw;) {
            uw_http_worker *w = *pw;
            if (kept >= FREE_WORKERS_KEEP && w->free_since <= now - UW_SEC(1)) {
                *pw = w->next_free;
                srv->nfree--;
                w->retire = true;
                uw_wake_one(&w->wake);
            } else {
                kept++;
                pw = &w->next_free;
            }
        }
    }
    srv->sweeper = NULL;
    if (srv->stopping) uw_wake_all(&srv->stop_wait);
}

/* While connections wait for a worker, looks for slow heads to take
 * theirs every EVICT_AFTER (a head becomes one that long after it
 * stalled). */
static void evictor_main(void *arg)
{
    uw_http_server *srv = arg;
    while (!srv->stopping) {
        bool waiting = false;
        for (uw_http_conn *hc = srv->wait_head; hc && !waiting; hc = hc->next) waiting = !hc->promised;
        int r = uw_wait(&srv->evict_wake, waiting ? uw_now() + EVICT_AFTER : UW_FOREVER);
        if (r == UW_ECANCELED) break;
        evict_for_waiting(srv);
    }
    srv->evictor = NULL;
    if (srv->stopping) uw_wake_all(&srv->stop_wait);
}

static bool drained(const uw_http_server *srv)
{
    return srv->nconns == 0 && srv->nworkers == 0 && srv->nacceptors == 0 && !srv->sweeper && !srv->evictor;
}

/* Waits for the stop, gives in-flight requests the grace period, cancels
 * what is left, and waits until everything of the server has ended. */
static void reaper_main(void *arg)
{
    uw_http_server *srv = arg;
    while (!srv->stopping)
        if (uw_wait(&srv->stop_wait, UW_FOREVER) == UW_ECANCELED) break;
    int64_t deadline = uw_now() + srv->cfg.shutdown_grace;
    while (srv->nconns > 0 && uw_now() < deadline)
        if (uw_wait(&srv->stop_wait, deadline) == UW_ECANCELED) break;
    if (srv->nconns > 0) {
        uw__http_log_at(srv, UW_LOG_WARN, "uweb: %zu request(s) still running after the grace period: canceling", srv->nconns);
        for (uw_http_worker *w = srv->busy_workers; w; w = w->next_busy) uw_cancel(w->task);
    }
    while (!drained(srv))
        if (uw_wait(&srv->stop_wait, uw_now() + UW_MS(100)) == UW_ECANCELED) break;
    srv->reaper = NULL;
    uw_wake_all(&srv->done_wait);
}

/* ------------------------------------------------------------ the object */

int uw_http_server_init(uw_http_server *srv, const uw_http_config *cfg,
                        uw_http_dispatch dispatch, void *arg)
{
    memset(srv, 0, sizeof *srv);
    if (!dispatch || cfg->max_headers == 0 || cfg->max_head_bytes == 0) return UW_EINVAL;
    srv->cfg = *cfg;
    srv->dispatch = dispatch;
    srv->arg = arg;
    return UW_OK;
}

int uw_http_server_listen(uw_http_server *srv, const uw_http_listen *l)
{
    if (srv->started || srv->stopping) return UW_EINVAL;
    if (srv->nports == UW_HTTP_MAX_LISTENERS) return UW_ELIMIT;
    struct uw_http_port *pt = &srv->ports[srv->nports];
    memset(pt, 0, sizeof *pt);
    pt->conf = *l;
    int r = uw_tcp_listen(&pt->listener, l->addr ? l->addr : srv->cfg.addr, l->port, 4096);
    if (r != UW_OK) return r;
    pt->port = uw_listener_port(pt->listener);
    pt->srv = srv;
    srv->nports++;
    return pt->port;
}

int uw_http_server_start(uw_http_server *srv)
{
    if (srv->started || srv->stopping) return UW_EINVAL;
    for (size_t i = 0; i < srv->nports; i++) {
        struct uw_http_port *pt = &srv->ports[i];
        if (!(pt->acceptor = uw_spawn(acceptor_main, pt, 32 * 1024))) return UW_ENOMEM;
        uw_detach(pt->acceptor);
        srv->nacceptors++;
    }
    srv->worker_bytes = sizeof(uw_http_worker) + uw__h1_bytes(&srv->cfg) + srv->cfg.stack_size +
                        512 /* task record and allocator headers */;
    if (srv->cfg.memory_budget) {
        srv->max_workers = (size_t)(srv->cfg.memory_budget / srv->worker_bytes);
        if (srv->max_workers < 4) srv->max_workers = 4;
        uw__http_log(srv, "uweb: memory budget %llu KiB: at most %zu workers of %zu KiB at once",
                     (unsigned long long)(srv->cfg.memory_budget >> 10), srv->max_workers, srv->worker_bytes >> 10);
        if (!(srv->evictor = uw_spawn(evictor_main, srv, 16 * 1024))) return UW_ENOMEM;
        uw_detach(srv->evictor);
    }
    srv->sweeper = uw_spawn(sweeper_main, srv, 16 * 1024);
    if (!srv->sweeper) return UW_ENOMEM;
    uw_detach(srv->sweeper);
    srv->reaper = uw_spawn(reaper_main, srv, 16 * 1024);
    if (!srv->reaper) return UW_ENOMEM;
    uw_detach(srv->reaper);
    srv->started = true;
    return UW_OK;
}

void uw_http_server_stop(uw_http_server *srv)
{
    if (srv->stopping) return;
    srv->stopping = true;
    uw__http_log(srv, "uweb: shutting down: %zu connection(s) open", srv->nconns);
    for (size_t i = 0; i < srv->nports; i++) uw_listener_close(srv->ports[i].listener);
    while (srv->idle_head) conn_free(srv->idle_head, false);
    if (srv->sweeper && srv->sweeper != uw_current()) uw_cancel(srv->sweeper);
    if (srv->evictor && srv->evictor != uw_current()) uw_cancel(srv->evictor);
    while (srv->wait_head) conn_free(srv->wait_head, false);
    /* HTTP/2 connections wait on their worker's queue: they send GOAWAY. */
    for (uw_http_worker *w = srv->busy_workers; w; w = w->next_busy) uw_wake_all(&w->wake);
    /* Upgraded connections (WebSockets) have no request to finish: their
     * tasks are canceled now, so they close (1001) and end. */
    for (uw_http_worker *w = srv->busy_workers; w; w = w->next_busy)
        if (w->hc && w->hc->upgraded) uw_cancel(w->task);
    /* Free workers exit now; busy ones after their current request. */
    for (uw_http_worker *w = srv->free_workers; w; w = w->next_free) uw_wake_one(&w->wake);
    srv->free_workers = NULL;
    srv->nfree = 0;
    uw_wake_all(&srv->stop_wait);
}

bool uw_http_server_stopped(const uw_http_server *srv)
{
    return srv->stopping && drained(srv) && !srv->reaper;
}

int uw_http_server_wait(uw_http_server *srv, int64_t deadline)
{
    while (!uw_http_server_stopped(srv)) {
        int r = uw_wait(&srv->done_wait, deadline);
        if (r != UW_OK && !uw_http_server_stopped(srv)) return r;
    }
    return UW_OK;
}

void uw_http_server_fini(uw_http_server *srv)
{
    /* After uw_rt_run returned without a stop, what is left is released
     * here (the runtime abandons the tasks). */
    while (srv->idle_head) conn_free(srv->idle_head, false);
    while (srv->wait_head) conn_free(srv->wait_head, false);
    while (srv->free_workers) {
        uw_http_worker *w = srv->free_workers;
        srv->free_workers = w->next_free;
        uw__h1_free(w->h1);
        free(w);
    }
    for (size_t i = 0; i < srv->nports; i++) uw_listener_free(srv->ports[i].listener);
    srv->nports = 0;
}

/* ------------------------------------------------------------ one connection */

static void serve_conn_notify(uw_conn *c, void *arg)
{
    (void)c;
    uw_wake_one(arg);
}

int uw_http_server_serve_conn(uw_http_server *srv, uw_conn *c)
{
    uw_http_conn *hc = calloc(1, sizeof *hc);
    uw_h1 *h1 = uw__h1_new(&srv->cfg);
    if (!hc || !h1) {
        free(hc);
        uw__h1_free(h1);
        uw_conn_close(c, true);
        return UW_ENOMEM;
    }
    hc->c = c;
    hc->srv = srv;
    hc->ready = true;
    srv->nconns++;
    uw_waitq readable = UW_WAITQ_INIT;
    enum uw_h1_outcome o;
    for (;;) {
        o = uw__h1_serve(h1, hc);
        if (o != UW_H1_PARK) break;
        uw_conn_set_notify(c, serve_conn_notify, &readable);
        int wr = uw_wait(&readable, uw_now() + srv->cfg.idle_timeout);
        uw_conn_set_notify(c, NULL, NULL);
        if (wr != UW_OK) break;
    }
    if (o == UW_H1_LINGER) uw__h1_linger_close(c);
    uw_conn_close(c, o == UW_H1_RESET);
    srv->nconns--;
    uw__h1_free(h1);
    free(hc);
    return UW_OK;
}
