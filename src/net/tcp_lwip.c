/*
 * TCP for tasks on the unikernels: lwIP's raw TCP API on the service
 * interface (platform/lwip/).  lwIP's callbacks run from the event
 * backend (src/runtime/poll_uk.c) and only record what happened and wake
 * the waiting task (or call the connection's notify function); the tasks
 * do the rest.
 *
 * Received data stays in lwIP's pbufs until a task reads it, and the
 * window opens again (tcp_recved) only as the task consumes it: a slow
 * reader slows the sender down instead of filling memory.  Writes copy
 * into lwIP's send buffer and wait while it is full (tcp_sndbuf) until
 * the peer acknowledges data.
 */
#include <uweb/net.h>
#include "uw_lwip.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lwip/ip4_addr.h"
#include "lwip/pbuf.h"
#include "lwip/tcp.h"

typedef struct tcp_conn {
    uw_conn base;               /* first: a uw_conn * is a tcp_conn * */
    struct tcp_pcb *pcb;        /* NULL once lwIP has freed it */
    /* Received, not yet read: whole packets linked through their pbufs'
     * next pointers (not pbuf_cat: a chain's u16 tot_len would wrap
     * beyond 64 KiB); rx_len counts the bytes. */
    struct pbuf *rx, *rx_tail;
    size_t rx_len;
    size_t lent;                /* bytes at the head of rx lent by conn_read_borrow */
    bool eof;                   /* the peer's FIN arrived */
    bool reset;                 /* reset or aborted: reads and writes fail */
    bool connected;             /* uw_tcp_connect: the handshake completed */
    uw_waitq rq, wq;
    void (*notify)(uw_conn *c, void *arg);
    void *notify_arg;
    struct tcp_conn *next;      /* in the listener's accept queue */
    ip_addr_t peer;
    uint16_t peer_port;
} tcp_conn;

static const struct uw_conn_ops conn_ops;

struct uw_listener {
    struct tcp_pcb *pcb;        /* NULL once closed */
    tcp_conn *head, *tail;      /* accepted, not yet taken */
    uw_waitq aq;
    uint16_t port;
};

/* ------------------------------------------------------------ options */

/* Network options of the unikernel's command line (see uw_lwip.h). */
int uw_net_option(const char *arg)
{
    return uw_lwip_option(arg);
}

const char *uw_net_default_addr(void)
{
    const char *a = uw_lwip_address();
    if (uw_lwip_ipv6()) return "::";       /* IPv4 and IPv6 */
    return a ? a : "0.0.0.0";
}

const char *uw_net_options_help(void)
{
    return uw_lwip_options_help;
}

/* ------------------------------------------------------------ callbacks */

/* The pcb whose receive callback is running: a notify function it calls
 * may close the connection, and lwIP must then be told (ERR_ABRT) that
 * the pcb it is working on is gone. */
static struct tcp_pcb *in_recv;
static bool in_recv_aborted;

/* Something a reader waits for happened: wake it, or tell the owner of a
 * connection no task reads. */
static void readable(tcp_conn *c)
{
    if (!uw_wake_one(&c->rq) && c->notify) c->notify(&c->base, c->notify_arg);
}

static err_t on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
    tcp_conn *c = arg;
    (void)err;
    if (!c) {                   /* closed by its owner: drop, keep the window open */
        if (p) {
            tcp_recved(pcb, p->tot_len);
            pbuf_free(p);
        }
        return ERR_OK;
    }
    if (!p) {
        c->eof = true;
    } else {
        if (c->rx) c->rx_tail->next = p; else c->rx = p;
        c->rx_len += p->tot_len;
        while (p->next) p = p->next;
        c->rx_tail = p;
    }
    in_recv = pcb;
    in_recv_aborted = false;
    readable(c);
    in_recv = NULL;
    return in_recv_aborted ? ERR_ABRT : ERR_OK;
}

static err_t on_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
    tcp_conn *c = arg;
    (void)pcb;
    (void)len;
    if (c) uw_wake_all(&c->wq);
    return ERR_OK;
}

/* lwIP freed the pcb (reset by the peer, or aborted). */
static void on_err(void *arg, err_t err)
{
    tcp_conn *c = arg;
    (void)err;
    if (!c) return;
    c->pcb = NULL;
    c->reset = true;
    uw_wake_all(&c->wq);
    uw_wake_all(&c->rq);
    if (c->notify) c->notify(&c->base, c->notify_arg);
}

static void conn_attach(tcp_conn *c, struct tcp_pcb *pcb)
{
    c->pcb = pcb;
    ip_addr_copy(c->peer, pcb->remote_ip);
    c->peer_port = pcb->remote_port;
    tcp_arg(pcb, c);
    tcp_recv(pcb, on_recv);
    tcp_sent(pcb, on_sent);
    tcp_err(pcb, on_err);
    tcp_nagle_disable(pcb);
}

static err_t on_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
    uw_listener *l = arg;
    if (err != ERR_OK || !pcb || !l || !l->pcb) return ERR_VAL;
    tcp_conn *c = calloc(1, sizeof *c);
    if (!c) return ERR_MEM;     /* lwIP aborts the connection */
    c->base.ops = &conn_ops;
    conn_attach(c, pcb);
    c->connected = true;
    /* Counts against the backlog until a task takes it. */
    tcp_backlog_delayed(pcb);
    if (l->tail) l->tail->next = c; else l->head = c;
    l->tail = c;
    uw_wake_one(&l->aq);
    return ERR_OK;
}

static void conn_detach(tcp_conn *c)
{
    struct tcp_pcb *pcb = c->pcb;
    if (!pcb) return;
    tcp_arg(pcb, NULL);
    tcp_recv(pcb, on_recv);     /* with a NULL arg: drops what arrives */
    tcp_sent(pcb, NULL);
    tcp_err(pcb, NULL);
    c->pcb = NULL;
}

/* ------------------------------------------------------------ listen, accept */

static int parse_addr(const char *addr, ip_addr_t *out)
{
    if (!addr || strcmp(addr, "0.0.0.0") == 0) {
        ip_addr_set_any(false, out);
        return UW_OK;
    }
    if (strcmp(addr, "::") == 0) {          /* both families, as on Linux */
        ip_addr_copy(*out, *IP_ANY_TYPE);
        return UW_OK;
    }
    return ipaddr_aton(addr, out) ? UW_OK : UW_EINVAL;
}

int uw_tcp_listen(uw_listener **out, const char *addr, uint16_t port, int backlog)
{
    int r = uw_lwip_start();
    if (r != 0) return r;
    ip_addr_t ip;
    if (parse_addr(addr, &ip) != UW_OK) return UW_EINVAL;
    uw_listener *l = calloc(1, sizeof *l);
    if (!l) return UW_ENOMEM;
    struct tcp_pcb *pcb = tcp_new_ip_type((u8_t)IP_GET_TYPE(&ip));
    if (!pcb) { free(l); return UW_ENOMEM; }
    if (tcp_bind(pcb, &ip, port) != ERR_OK) {
        tcp_abort(pcb);
        free(l);
        return UW_EIO;
    }
    struct tcp_pcb *lp = tcp_listen_with_backlog(pcb, (u8_t)(backlog <= 0 || backlog > 255 ? 255 : backlog));
    if (!lp) {
        tcp_abort(pcb);
        free(l);
        return UW_ENOMEM;
    }
    l->pcb = lp;
    l->port = lp->local_port;
    tcp_arg(lp, l);
    tcp_accept(lp, on_accept);
    *out = l;
    return UW_OK;
}

uint16_t uw_listener_port(const uw_listener *l) { return l->port; }

int uw_tcp_accept(uw_listener *l, uw_conn **out, int64_t deadline)
{
    for (;;) {
        if (!l->pcb) return UW_ECLOSED;
        tcp_conn *c = l->head;
        if (c) {
            l->head = c->next;
            if (!l->head) l->tail = NULL;
            c->next = NULL;
            if (c->pcb) tcp_backlog_accepted(c->pcb);
            *out = &c->base;
            return UW_OK;
        }
        int r = uw_wait(&l->aq, deadline);
        if (r != UW_OK) return r;
    }
}

void uw_listener_close(uw_listener *l)
{
    if (!l || !l->pcb) return;
    tcp_arg(l->pcb, NULL);
    tcp_accept(l->pcb, NULL);
    tcp_close(l->pcb);          /* a listening pcb closes without failing */
    l->pcb = NULL;
    while (l->head) {
        tcp_conn *c = l->head;
        l->head = c->next;
        uw_conn_close(&c->base, true);
    }
    l->tail = NULL;
    uw_wake_all(&l->aq);
}

void uw_listener_free(uw_listener *l)
{
    if (!l) return;
    uw_listener_close(l);
    free(l);
}

/* ------------------------------------------------------------ connect */

static err_t on_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
    tcp_conn *c = arg;
    (void)pcb;
    if (c && err == ERR_OK) {
        c->connected = true;
        uw_wake_all(&c->wq);
    }
    return ERR_OK;
}

int uw_tcp_connect(uw_conn **out, const char *host, uint16_t port, int64_t deadline)
{
    int r = uw_lwip_start();
    if (r != 0) return r;
    ip_addr_t ip;
    if (!host || !ipaddr_aton(host, &ip)) return UW_EINVAL;
    tcp_conn *c = calloc(1, sizeof *c);
    if (!c) return UW_ENOMEM;
    c->base.ops = &conn_ops;
    struct tcp_pcb *pcb = tcp_new_ip_type((u8_t)IP_GET_TYPE(&ip));
    if (!pcb) { free(c); return UW_ENOMEM; }
    conn_attach(c, pcb);
    if (tcp_connect(pcb, &ip, port, on_connected) != ERR_OK) {
        uw_conn_close(&c->base, true);
        return UW_EIO;
    }
    while (!c->connected) {
        if (c->reset) { uw_conn_close(&c->base, true); return UW_EIO; }
        r = uw_wait(&c->wq, deadline);
        if (r != UW_OK) { uw_conn_close(&c->base, true); return r; }
    }
    ip_addr_copy(c->peer, ip);
    c->peer_port = port;
    *out = &c->base;
    return UW_OK;
}

/* ------------------------------------------------------------ read, write */

/* Gives N consumed bytes back to the receive window. */
static void window_open(tcp_conn *c, size_t n)
{
    while (c->pcb && n > 0) {
        u16_t k = n > 0xffff ? 0xffff : (u16_t)n;
        tcp_recved(c->pcb, k);
        n -= k;
    }
}

/* Consumes M bytes (at most its length) of the first received pbuf: the
 * pbuf goes when all of it is consumed. */
static void rx_take(tcp_conn *c, size_t m)
{
    struct pbuf *q = c->rx;
    if (m < q->len) {
        pbuf_remove_header(q, m);
        return;
    }
    c->rx = q->next;
    q->next = NULL;
    pbuf_free(q);
    if (!c->rx) c->rx_tail = NULL;
}

/* Takes back the bytes conn_read_borrow lent: they are consumed. */
static void lent_return(tcp_conn *c)
{
    size_t m = c->lent;
    if (!m) return;
    c->lent = 0;
    rx_take(c, m);
    c->rx_len -= m;
    window_open(c, m);
}

/* Waits for received bytes (or the end); false with *status when there
 * are none to read: 0 at the end of stream, or a negative status. */
static bool wait_readable(tcp_conn *c, int64_t deadline, ssize_t *status)
{
    for (;;) {
        if (c->rx) return true;
        *status = 0;
        if (c->reset) *status = UW_ECLOSED;
        else if (c->eof) *status = 0;
        else if (!c->pcb) *status = UW_ECLOSED;
        else {
            int r = uw_wait(&c->rq, deadline);
            if (r == UW_OK) continue;
            *status = r;
        }
        return false;
    }
}

static ssize_t conn_read_borrow(uw_conn *conn, void **data, size_t n, int64_t deadline)
{
    tcp_conn *c = (tcp_conn *)conn;
    lent_return(c);
    for (;;) {
        ssize_t status;
        if (!wait_readable(c, deadline, &status)) return status;
        struct pbuf *q = c->rx;
        if (q->len == 0) {          /* an empty pbuf of a chain */
            rx_take(c, 0);
            continue;
        }
        if (n == 0) return 0;
        size_t m = n < q->len ? n : q->len;
        *data = q->payload;
        c->lent = m;
        return (ssize_t)m;
    }
}

static ssize_t conn_read(uw_conn *conn, void *buf, size_t n, int64_t deadline)
{
    tcp_conn *c = (tcp_conn *)conn;
    lent_return(c);
    ssize_t status;
    if (!wait_readable(c, deadline, &status)) return status;
    size_t k = 0;
    while (c->rx && k < n) {
        struct pbuf *q = c->rx;
        size_t m = n - k < q->len ? n - k : q->len;
        memcpy((char *)buf + k, q->payload, m);
        k += m;
        rx_take(c, m);
    }
    c->rx_len -= k;
    window_open(c, k);
    return (ssize_t)k;
}

static bool conn_may_read(const uw_conn *conn)
{
    const tcp_conn *c = (const tcp_conn *)conn;
    return c->rx_len > c->lent || c->eof || c->reset || !c->pcb;
}

static int conn_writev(uw_conn *conn, const uw_slice *v, size_t n, int64_t deadline)
{
    tcp_conn *c = (tcp_conn *)conn;
    if (c->pcb) uw_lwip_tcp_segments(c->pcb);
    for (size_t i = 0; i < n; i++) {
        const char *p = v[i].ptr;
        size_t left = v[i].len;
        while (left > 0) {
            if (c->reset || !c->pcb) return UW_ECLOSED;
            size_t room = tcp_sndbuf(c->pcb);
            if (tcp_sndqueuelen(c->pcb) >= TCP_SND_QUEUELEN) room = 0;
            err_t e = ERR_MEM;
            size_t k = left < room ? left : room;
            if (k > 0) {
                u8_t flags = TCP_WRITE_FLAG_COPY;
                if (k < left || i + 1 < n) flags |= TCP_WRITE_FLAG_MORE;
                e = tcp_write(c->pcb, p, (u16_t)k, flags);
            }
            if (e == ERR_OK) {
                p += k;
                left -= k;
                continue;
            }
            if (e != ERR_MEM) return UW_ECLOSED;
            /* Full (or lwIP out of memory): send what is queued and wait
             * for the peer's acknowledgments, or retry shortly if nothing
             * is in flight to bring one. */
            tcp_output(c->pcb);
            int64_t until = deadline;
            if (!c->pcb->unacked && !c->pcb->unsent) {
                int64_t soon = uw_now() + UW_MS(10);
                if (soon < until) until = soon;
            }
            int r = uw_wait(&c->wq, until);
            if (r == UW_ETIMEDOUT && until != deadline) continue;
            if (r != UW_OK) return r;
        }
    }
    if (c->pcb) tcp_output(c->pcb);
    return c->reset ? UW_ECLOSED : UW_OK;
}

static void conn_set_notify(uw_conn *conn, void (*fn)(uw_conn *c, void *arg), void *arg)
{
    tcp_conn *c = (tcp_conn *)conn;
    if (fn) lent_return(c);      /* parked: nobody holds lent bytes */
    c->notify = fn;
    c->notify_arg = arg;
}

static void conn_shutdown_write(uw_conn *conn)
{
    tcp_conn *c = (tcp_conn *)conn;
    if (c->pcb) tcp_shutdown(c->pcb, 0, 1);
}

static void conn_close(uw_conn *conn, bool reset)
{
    tcp_conn *c = (tcp_conn *)conn;
    c->lent = 0;
    while (c->rx) {
        struct pbuf *q = c->rx;
        c->rx = q->next;
        q->next = NULL;
        pbuf_free(q);
    }
    window_open(c, c->rx_len);
    c->rx_len = 0;
    struct tcp_pcb *pcb = c->pcb;
    conn_detach(c);
    if (pcb == in_recv && pcb) {
        /* Inside lwIP's receive callback (a notify function gave up on
         * the connection): only an abort leaves lwIP a pcb state it
         * expects. */
        tcp_abort(pcb);
        in_recv_aborted = true;
    } else if (pcb) {
        if (reset || tcp_close(pcb) != ERR_OK) tcp_abort(pcb);
    }
    uw_wake_all(&c->rq);
    uw_wake_all(&c->wq);
    free(c);
}

static const char *conn_peer(uw_conn *conn, char *buf, size_t n)
{
    tcp_conn *c = (tcp_conn *)conn;
    char ip[IPADDR_STRLEN_MAX];
    ipaddr_ntoa_r(&c->peer, ip, sizeof ip);
    for (char *p = ip; *p; p++)            /* lower case, as inet_ntop writes them */
        if (*p >= 'A' && *p <= 'F') *p = (char)(*p - 'A' + 'a');
    if (IP_IS_V6(&c->peer)) snprintf(buf, n, "[%s]:%u", ip, (unsigned)c->peer_port);
    else snprintf(buf, n, "%s:%u", ip, (unsigned)c->peer_port);
    return buf;
}

static const struct uw_conn_ops conn_ops = {
    .read = conn_read,
    .writev = conn_writev,
    .may_read = conn_may_read,
    .set_notify = conn_set_notify,
    .shutdown_write = conn_shutdown_write,
    .close = conn_close,
    .peer = conn_peer,
    .read_borrow = conn_read_borrow,
};

/* SO_REUSEPORT is a host-socket matter: a unikernel is one worker. */
void uw_net_set_reuseport(bool on) { (void)on; }
