/*
 * uw_client_dial on the unikernels: IPv4 literals connect through the
 * target's TCP (lwIP) at once; host names go to lwIP's DNS client (its
 * servers from the command line's --dns or from the DHCP lease,
 * platform/lwip/netif.c, waited for while DHCP is under way), whose
 * answer arrives in a callback while the calling task waits.  The query is shared by the callback and the task
 * and freed by whichever is last: a task that times out or is canceled
 * leaves nothing behind (lwIP always calls back, at the latest when its
 * retries are spent).
 */
#include <uweb/client.h>

#include "uw_lwip.h"

#include "lwip/dns.h"
#include "lwip/ip_addr.h"

#include <stdlib.h>
#include <string.h>

typedef struct query {
    int refs;                   /* the callback and the task */
    bool done, found;
    ip_addr_t addr;
    uw_waitq wq;
} query;

static void query_unref(query *q)
{
    if (--q->refs == 0) free(q);
}

static void on_found(const char *name, const ip_addr_t *addr, void *arg)
{
    (void)name;
    query *q = arg;
    q->done = true;
    if (addr) { q->found = true; q->addr = *addr; }
    uw_wake_all(&q->wq);
    query_unref(q);
}

/* The IPv4 address of host as text into buf. */
static int resolve(const char *host, char *buf, size_t n, int64_t deadline)
{
    int r = uw_lwip_start();
    if (r != 0) return r;
    /* Under DHCP (no --ipv4) the servers come with the lease: wait for it. */
    while (ip_addr_isany(dns_getserver(0))) {
        if (uw_lwip_address()) return UW_CLIENT_ERESOLVE;      /* --ipv4 without --dns: no server */
        if (uw_now() >= deadline) return UW_ETIMEDOUT;
        r = uw_sleep(UW_MS(50));
        if (r != UW_OK) return r;
    }
    query *q = calloc(1, sizeof *q);
    if (!q) return UW_ENOMEM;
    q->refs = 2;
    err_t e = dns_gethostbyname(host, &q->addr, on_found, q);
    if (e == ERR_OK) {              /* cached */
        ip4addr_ntoa_r(ip_2_ip4(&q->addr), buf, (int)n);
        free(q);
        return UW_OK;
    }
    if (e != ERR_INPROGRESS) { free(q); return UW_CLIENT_ERESOLVE; }
    r = UW_OK;
    while (!q->done && r == UW_OK) r = uw_wait(&q->wq, deadline);
    if (r == UW_OK && !q->found) r = UW_CLIENT_ERESOLVE;
    if (r == UW_OK) ip4addr_ntoa_r(ip_2_ip4(&q->addr), buf, (int)n);
    query_unref(q);
    return r;
}

int uw_client_dial(uw_conn **out, const char *host, uint16_t port, int64_t deadline)
{
    char ip[16];
    ip4_addr_t literal;
    ip6_addr_t literal6;
    if (!ip4addr_aton(host, &literal) && !(strchr(host, ':') && ip6addr_aton(host, &literal6))) {
        if (!*host || strchr(host, ':')) return UW_CLIENT_ERESOLVE;
        int r = resolve(host, ip, sizeof ip, deadline);
        if (r != UW_OK) return r;
        host = ip;
    }
    int r = uw_tcp_connect(out, host, port, deadline);
    if (r == UW_EINVAL) return UW_CLIENT_ERESOLVE;
    if (r == UW_EIO) return UW_CLIENT_ECONNECT;
    return r;
}
