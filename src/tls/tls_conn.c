/*
 * A TLS connection, server or client: a uw_conn (net.h) whose operations
 * run a TLS engine (tls.h) over another uw_conn (TCP).  Common to both
 * backends.
 *
 * Reads: plaintext the engine holds first; when it wants input, one read
 * of the TCP connection into the engine's input buffer.  Writes: the
 * engine gathers the slices into records; its output goes out in one
 * TCP write per UW_TLS_OUT_MAX bytes.  Parked (set_notify with a
 * function): the engine gives its buffers back.
 */
#include "tls_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct tls_conn {
    uw_conn base;               /* first: a uw_conn * is a tls_conn * */
    uw_conn *tcp;
    uw_tls *t;
    int64_t hs_deadline;
    void (*notify)(uw_conn *c, void *arg);
    void *notify_arg;
} tls_conn;

static const struct uw_conn_ops tls_ops;

/* A TLS status as the uw_status a uw_conn returns. */
static int as_status(int r)
{
    switch (r) {
    case UW_TLS_OK: return UW_OK;
    case UW_TLS_ELIMIT: return UW_ELIMIT;
    case UW_TLS_ENOMEM: return UW_ENOMEM;
    case UW_TLS_EINVAL: return UW_EINVAL;
    case UW_TLS_ECLOSED: case UW_TLS_EOF: case UW_TLS_ETRUNCATED: return UW_ECLOSED;
    case UW_TLS_ETIMEDOUT: return UW_ETIMEDOUT;
    case UW_TLS_EPROTO: case UW_TLS_EHANDSHAKE: case UW_TLS_EVERIFY: return UW_EPROTO;
    default: return r;          /* already a uw_status */
    }
}

/* Sends what the engine has for the peer. */
static int flush(tls_conn *c, int64_t deadline)
{
    size_t len;
    const void *p;
    while ((p = uw_tls_send_buf(c->t, &len))) {
        uw_slice s = { p, len };
        int r = uw_conn_writev(c->tcp, &s, 1, deadline);
        if (r != UW_OK) return r;
        uw_tls_send_done(c->t, len);
    }
    return UW_OK;
}

/* One read of ciphertext from the peer into the engine: UW_TLS_OK, a
 * TLS status (EOF, ETRUNCATED, ELIMIT) or a uw_status of the read. */
static int fill(tls_conn *c, int64_t deadline)
{
    size_t room;
    void *p = uw_tls_recv_buf(c->t, &room);
    if (!p) return uw_tls_get_state(c->t) == UW_TLS_FAILED ? uw_tls_error(c->t) : UW_TLS_ENOMEM;
    ssize_t n = uw_conn_read(c->tcp, p, room, deadline);
    if (n < 0) return (int)n;
    if (n == 0) return uw_tls_recv_eof(c->t);
    return uw_tls_recv_done(c->t, (size_t)n);
}

/* Runs the handshake to its end: UW_TLS_OK or a TLS status / uw_status. */
static int handshake(tls_conn *c, int64_t deadline)
{
    int64_t dl = deadline < c->hs_deadline ? deadline : c->hs_deadline;
    for (;;) {
        int r = uw_tls_handshake(c->t);
        int f = flush(c, r == UW_TLS_OK || r == UW_TLS_WANT_INPUT ? dl : 0);   /* alerts: no waiting */
        if (r == UW_TLS_OK) return f == UW_ETIMEDOUT && dl == c->hs_deadline ? UW_TLS_ETIMEDOUT : f;
        if (r != UW_TLS_WANT_INPUT) return r;
        if (f != UW_OK) return f == UW_ETIMEDOUT && dl == c->hs_deadline ? UW_TLS_ETIMEDOUT : f;
        r = fill(c, dl);
        if (r == UW_ETIMEDOUT && dl == c->hs_deadline) {
            uw_tls__fail((struct uw_tls_core *)c->t, UW_TLS_ETIMEDOUT, "handshake timed out after %zu bytes",
                         ((struct uw_tls_core *)c->t)->hs_bytes);
            return UW_TLS_ETIMEDOUT;
        }
        if (r != UW_TLS_OK) return r;
    }
}

static ssize_t tls_read(uw_conn *conn, void *buf, size_t n, int64_t deadline)
{
    tls_conn *c = (tls_conn *)conn;
    if (uw_tls_get_state(c->t) == UW_TLS_HANDSHAKING) {
        int r = handshake(c, deadline);
        if (r != UW_TLS_OK) return as_status(r);
    }
    if (n == 0) return 0;
    for (;;) {
        ssize_t k = uw_tls_read(c->t, buf, n);
        size_t out;
        int f = uw_tls_send_buf(c->t, &out) ? flush(c, deadline) : UW_OK;   /* tickets, alerts */
        if (k > 0) return k;
        if (k == UW_TLS_EOF) return 0;
        if (k != UW_TLS_WANT_INPUT) return as_status((int)k);
        if (f != UW_OK) return f;
        int r = fill(c, deadline);
        /* A peer that leaves without close_notify ends the stream like
         * FIN does (what HTTP servers accept; the framing above tells a
         * cut message). */
        if (r == UW_TLS_ETRUNCATED || r == UW_TLS_EOF) return 0;
        if (r != UW_TLS_OK) return as_status(r);
    }
}

static bool tls_may_read(const uw_conn *conn)
{
    const tls_conn *c = (const tls_conn *)conn;
    return uw_tls_pending(c->t) > 0 || uw_conn_may_read(c->tcp);
}

static int tls_writev(uw_conn *conn, const uw_slice *v, size_t n, int64_t deadline)
{
    tls_conn *c = (tls_conn *)conn;
    if (uw_tls_get_state(c->t) == UW_TLS_HANDSHAKING) {
        int r = handshake(c, deadline);
        if (r != UW_TLS_OK) return as_status(r);
    }
    uw_slice part[16];
    size_t i = 0, off = 0;
    while (i < n) {
        if (off == v[i].len) { i++; off = 0; continue; }
        size_t cnt = 0;
        for (size_t j = i; j < n && cnt < 16; j++) {
            part[cnt].ptr = (const char *)v[j].ptr + (j == i ? off : 0);
            part[cnt].len = v[j].len - (j == i ? off : 0);
            cnt++;
        }
        ssize_t k = uw_tls_writev(c->t, part, cnt);
        if (k < 0 && k != UW_TLS_WANT_OUTPUT) return as_status((int)k);
        int r = flush(c, deadline);
        if (r != UW_OK) return r;
        for (size_t left = k > 0 ? (size_t)k : 0; left > 0;) {
            size_t in = v[i].len - off;
            if (left < in) { off += left; break; }
            left -= in;
            i++;
            off = 0;
        }
    }
    return flush(c, deadline);
}

static void forward_notify(uw_conn *tcp, void *arg)
{
    tls_conn *c = arg;
    (void)tcp;
    if (c->notify) c->notify(&c->base, c->notify_arg);
}

static void tls_set_notify(uw_conn *conn, void (*fn)(uw_conn *c, void *arg), void *arg)
{
    tls_conn *c = (tls_conn *)conn;
    c->notify = fn;
    c->notify_arg = arg;
    if (fn) uw_tls_shrink(c->t);
    uw_conn_set_notify(c->tcp, fn ? forward_notify : NULL, c);
}

static void tls_shutdown_write(uw_conn *conn)
{
    tls_conn *c = (tls_conn *)conn;
    uw_tls_close(c->t);
    flush(c, 0);
    uw_conn_shutdown_write(c->tcp);
}

static void tls_close(uw_conn *conn, bool reset)
{
    tls_conn *c = (tls_conn *)conn;
    if (!reset) {
        uw_tls_close(c->t);
        flush(c, 0);            /* close_notify, if the socket takes it now */
    }
    uw_conn_close(c->tcp, reset);
    uw_tls_free(c->t);
    free(c);
}

static const char *tls_peer(uw_conn *conn, char *buf, size_t n)
{
    return uw_conn_peer(((tls_conn *)conn)->tcp, buf, n);
}

static const struct uw_conn_ops tls_ops = {
    .read = tls_read,
    .writev = tls_writev,
    .may_read = tls_may_read,
    .set_notify = tls_set_notify,
    .shutdown_write = tls_shutdown_write,
    .close = tls_close,
    .peer = tls_peer,
};

/* The connection around tcp with a server engine (host NULL) or a client
 * engine for host. */
static int wrap(uw_conn *tcp, uw_tls_config *cfg, const char *host, int64_t handshake_deadline, uw_conn **out)
{
    tls_conn *c = calloc(1, sizeof *c);
    if (!c) { uw_conn_close(tcp, true); return UW_TLS_ENOMEM; }
    int r = host ? uw_tls_new_client(&c->t, cfg, host) : uw_tls_new(&c->t, cfg);
    if (r != UW_TLS_OK) {
        free(c);
        uw_conn_close(tcp, true);
        return r;
    }
    c->base.ops = &tls_ops;
    c->tcp = tcp;
    c->hs_deadline = handshake_deadline;
    *out = &c->base;
    return UW_TLS_OK;
}

int uw_tls_wrap(uw_conn *tcp, uw_tls_config *cfg, int64_t handshake_deadline, uw_conn **out)
{
    return wrap(tcp, cfg, NULL, handshake_deadline, out);
}

int uw_tls_conn_handshake(uw_conn *conn, int64_t deadline)
{
    if (conn->ops != &tls_ops) return UW_TLS_EINVAL;
    tls_conn *c = (tls_conn *)conn;
    int r = handshake(c, deadline);
    return r == UW_TLS_OK ? UW_OK : r;
}

/* Wraps and runs the handshake (uw_tls_accept, uw_tls_connect). */
static int open_conn(uw_conn *tcp, uw_tls_config *cfg, const char *host, int64_t handshake_deadline,
                     uw_conn **out, char *why, size_t why_len)
{
    uw_conn *conn;
    int r = wrap(tcp, cfg, host, handshake_deadline, &conn);
    if (r != UW_TLS_OK) {
        if (why && why_len) snprintf(why, why_len, "%s", uw_tls_strerror(r));
        return r;
    }
    tls_conn *c = (tls_conn *)conn;
    r = handshake(c, handshake_deadline);
    if (r != UW_TLS_OK) {
        if (why && why_len) {
            const char *reason = uw_tls_reason(c->t);
            if (r == UW_ECLOSED && !reason[0]) reason = "the connection was reset during the handshake";
            snprintf(why, why_len, "%s", reason[0] ? reason : uw_tls_strerror(r));
        }
        uw_conn_close(c->tcp, false);
        uw_tls_free(c->t);
        free(c);
        return r;
    }
    *out = conn;
    return UW_OK;
}

int uw_tls_accept(uw_conn *tcp, uw_tls_config *cfg, int64_t handshake_deadline, uw_conn **out, char *why,
                  size_t why_len)
{
    return open_conn(tcp, cfg, NULL, handshake_deadline, out, why, why_len);
}

int uw_tls_connect(uw_conn *tcp, uw_tls_config *cfg, const char *host, int64_t deadline, uw_conn **out,
                   char *why, size_t why_len)
{
    if (!host) { uw_conn_close(tcp, true); return UW_TLS_EINVAL; }
    return open_conn(tcp, cfg, host, deadline, out, why, why_len);
}

uw_tls *uw_tls_conn_engine(uw_conn *c)
{
    return c && c->ops == &tls_ops ? ((tls_conn *)c)->t : NULL;
}
