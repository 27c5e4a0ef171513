/*
 * proxy.c — the client's address behind trusted proxies: address ranges
 * (--trust-proxy=CIDR), X-Forwarded-For read from the right while the hop
 * is trusted, and the PROXY protocol (HAProxy's, versions 1 and 2) at the
 * start of a connection, whose source address then stands for the peer.
 * Addresses are parsed here (no libc or lwIP call), so the same code runs
 * on every target; IPv4 is kept as ::ffff:a.b.c.d.
 */
#include "http_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
static const uint8_t v2_sig[12] = { '\r', '\n', '\r', '\n', 0, '\r', '\n', 'Q', 'U', 'I', 'T', '\n' };

static int ip4_parse(const char *s, size_t n, uint8_t out[4])
{
    size_t i = 0;
    for (int part = 0; part < 4; part++) {
        if (part && (i >= n || s[i++] != '.')) return 0;
        unsigned v = 0, digits = 0;
        while (i < n && s[i] >= '0' && s[i] <= '9' && digits < 4) v = v * 10 + (unsigned)(s[i++] - '0'), digits++;
        if (!digits || digits > 3 || v > 255 || (digits > 1 && s[i - digits] == '0')) return 0;
        out[part] = (uint8_t)v;
    }
    return i == n;
}

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static int ip6_parse(const char *s, size_t n, uint8_t out[16])
{
    uint16_t g[8];
    int ng = 0, gap = -1;
    size_t i = 0;
    if (n >= 2 && s[0] == ':' && s[1] == ':') gap = 0, i = 2;
    else if (n && s[0] == ':') return 0;
    while (i < n) {
        if (ng == 8) return 0;
        size_t start = i;
        unsigned v = 0;
        while (i < n && i - start < 5 && hexval(s[i]) >= 0) v = v << 4 | (unsigned)hexval(s[i++]);
        if (i < n && s[i] == '.') {                 /* a dotted IPv4 tail */
            uint8_t q[4];
            if (ng > 6 || !ip4_parse(s + start, n - start, q)) return 0;
            g[ng] = (uint16_t)(q[0] << 8 | q[1]), g[ng + 1] = (uint16_t)(q[2] << 8 | q[3]);
            ng += 2;
            i = n;
            break;
        }
        if (i == start || i - start > 4) return 0;
        g[ng++] = (uint16_t)v;
        if (i == n) break;
        if (s[i++] != ':') return 0;
        if (i < n && s[i] == ':') {
            if (gap >= 0) return 0;
            gap = ng, i++;
        } else if (i == n) {
            return 0;                               /* a trailing single ':' */
        }
    }
    if (gap < 0 ? ng != 8 : ng > 7) return 0;
    int fill = 8 - ng;
    for (int k = 0, o = 0; k <= ng; k++) {
        if (k == gap) for (int z = 0; z < fill; z++, o++) out[2 * o] = out[2 * o + 1] = 0;
        if (k < ng) out[2 * o] = (uint8_t)(g[k] >> 8), out[2 * o + 1] = (uint8_t)g[k], o++;
    }
    return 1;
}

int uw__ip_parse(const char *s, size_t n, uint8_t out[16])
{
    if (ip4_parse(s, n, out + 12)) {
        memcpy(out, mapped, 12);
        return 4;
    }
    return ip6_parse(s, n, out) ? 6 : 0;
}

void uw__ip_format(const uint8_t a[16], char *buf, size_t n)
{
    if (memcmp(a, mapped, 12) == 0) {
        snprintf(buf, n, "%u.%u.%u.%u", a[12], a[13], a[14], a[15]);
        return;
    }
    int best = -1, bestlen = 1;                     /* RFC 5952: the longest run of 2+ zero groups */
    for (int i = 0; i < 8;) {
        int j = i;
        while (j < 8 && !a[2 * j] && !a[2 * j + 1]) j++;
        if (j - i > bestlen) best = i, bestlen = j - i;
        i = j > i ? j : i + 1;
    }
    size_t o = 0;
    buf[0] = 0;
    for (int i = 0; i < 8 && o < n; i++) {
        if (i == best) {
            o += (size_t)snprintf(buf + o, n - o, "::");
            i += bestlen - 1;
            continue;
        }
        o += (size_t)snprintf(buf + o, n - o, "%s%x", o && buf[o - 1] != ':' ? ":" : "", (unsigned)(a[2 * i] << 8 | a[2 * i + 1]));
    }
}

int uw_cidr_parse(const char *s, uw_cidr *out)
{
    const char *slash = strchr(s, '/');
    size_t n = slash ? (size_t)(slash - s) : strlen(s);
    int fam = uw__ip_parse(s, n, out->addr);
    if (!fam) return UW_EINVAL;
    unsigned bits = fam == 4 ? 32 : 128;
    if (slash) {
        const char *p = slash + 1;
        unsigned v = 0;
        if (!*p || strlen(p) > 3) return UW_EINVAL;
        for (; *p; p++) {
            if (*p < '0' || *p > '9') return UW_EINVAL;
            v = v * 10 + (unsigned)(*p - '0');
        }
        if (v > bits) return UW_EINVAL;
        bits = v;
    }
    out->bits = (uint8_t)(fam == 4 ? bits + 96 : bits);
    for (unsigned i = out->bits; i < 128; i++) out->addr[i / 8] &= (uint8_t)~(0x80 >> (i % 8));
    return UW_OK;
}

static bool match_bin(const uw_cidr *list, size_t n, const uint8_t a[16])
{
    for (size_t k = 0; k < n; k++) {
        unsigned bits = list[k].bits, full = bits / 8;
        if (memcmp(a, list[k].addr, full) != 0) continue;
        if (bits % 8 && ((a[full] ^ list[k].addr[full]) & (uint8_t)(0xff00 >> (bits % 8)))) continue;
        return true;
    }
    return false;
}

bool uw_cidr_match(const uw_cidr *list, size_t n, const char *addr)
{
    uint8_t a[16];
    return n && uw__ip_parse(addr, strlen(addr), a) && match_bin(list, n, a);
}

/* ------------------------------------------------------------ X-Forwarded-For */

/* The address in buf (the connection's peer) replaced by the right-most
 * X-Forwarded-For entry that is not a trusted proxy, walking left from
 * the last field while each hop is trusted.  An entry that is not an
 * address ends the walk: the hop that passed it on is the client. */
void uw__xff_client(const uw_req *req, char *buf, size_t n)
{
    if (!req->ntrust || !uw_cidr_match(req->trust, req->ntrust, buf)) return;
    for (size_t h = req->nheaders; h-- > 0;) {
        if (strcasecmp(req->headers[h].name, "X-Forwarded-For") != 0) continue;
        const char *v = req->headers[h].value;
        size_t end = strlen(v);
        while (end > 0) {
            size_t start = end;
            while (start > 0 && v[start - 1] != ',') start--;
            size_t a = start, b = end;
            while (a < b && (v[a] == ' ' || v[a] == '\t')) a++;
            while (b > a && (v[b - 1] == ' ' || v[b - 1] == '\t')) b--;
            uint8_t bin[16];
            if (b > a && v[a] == '[') {                     /* "[v6]" or "[v6]:port" */
                const char *close = memchr(v + a, ']', b - a);
                if (close) b = (size_t)(close - v), a++;
            } else if (b > a && memchr(v + a, '.', b - a)) {
                const char *colon = memchr(v + a, ':', b - a);
                if (colon && !memchr(colon + 1, ':', (size_t)(v + b - colon - 1))) b = (size_t)(colon - v);   /* "v4:port" */
            }
            if (!uw__ip_parse(v + a, b - a, bin)) return;
            uw__ip_format(bin, buf, n);
            if (!match_bin(req->trust, req->ntrust, bin)) return;
            end = start ? start - 1 : 0;
        }
    }
}

/* ------------------------------------------------------------ PROXY protocol */

static size_t v2_addr_len(uint8_t fam)
{
    switch (fam >> 4) {
    case 1: return 12;          /* AF_INET: two addresses, two ports */
    case 2: return 36;          /* AF_INET6 */
    case 3: return 216;         /* AF_UNIX */
    default: return 0;
    }
}

static int port_parse(const char *s, size_t n, unsigned *out)
{
    unsigned v = 0;
    if (!n || n > 5 || (n > 1 && s[0] == '0')) return 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return 0;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    *out = v;
    return v <= 65535;
}

static void peer_text(const uint8_t a[16], unsigned port, char *peer, size_t peer_n)
{
    char ip[48];
    uw__ip_format(a, ip, sizeof ip);
    snprintf(peer, peer_n, memcmp(a, mapped, 12) == 0 ? "%s:%u" : "[%s]:%u", ip, port);
}

static ssize_t parse_v1(const uint8_t *buf, size_t n, size_t *need, char *peer, size_t peer_n)
{
    const uint8_t *eol = NULL;
    for (size_t i = 0; i + 1 < n; i++)
        if (buf[i] == '\r' && buf[i + 1] == '\n') { eol = buf + i; break; }
    if (!eol) {
        if (n >= UW_PROXY_V1_MAX) return UW_EPROTO;
        if (n < 15) *need = 15 - n;                     /* "PROXY UNKNOWN\r\n" is the shortest */
        else *need = buf[n - 1] == '\r' ? 1 : 2;
        return 0;
    }
    size_t len = (size_t)(eol - buf) + 2;
    const char *s = (const char *)buf + 6, *end = (const char *)eol;
    if (end - s >= 7 && memcmp(s, "UNKNOWN", 7) == 0 && (end - s == 7 || s[7] == ' ')) return (ssize_t)len;     /* the peer stays */
    if (end - s < 5 || (memcmp(s, "TCP4 ", 5) != 0 && memcmp(s, "TCP6 ", 5) != 0)) return UW_EPROTO;
    int fam = s[3] == '4' ? 4 : 6;
    const char *f[4];
    size_t fl[4];
    const char *p = s + 5;
    for (int k = 0; k < 4; k++) {
        const char *q = p;
        while (q < end && *q != ' ') q++;
        f[k] = p, fl[k] = (size_t)(q - p);
        if (k < 3 && q == end) return UW_EPROTO;
        p = q + 1;
    }
    if (f[3] + fl[3] != end) return UW_EPROTO;
    uint8_t src[16], dst[16];
    unsigned sport, dport;
    if (uw__ip_parse(f[0], fl[0], src) != fam || uw__ip_parse(f[1], fl[1], dst) != fam) return UW_EPROTO;
    if (!port_parse(f[2], fl[2], &sport) || !port_parse(f[3], fl[3], &dport)) return UW_EPROTO;
    peer_text(src, sport, peer, peer_n);
    return (ssize_t)len;
}

ssize_t uw__proxy_parse(const uint8_t *buf, size_t n, size_t *need, char *peer, size_t peer_n)
{
    *need = 0;
    if (peer_n) peer[0] = 0;
    size_t cmp = n < 12 ? n : 12;
    if (n && buf[0] == '\r') {
        if (memcmp(buf, v2_sig, cmp) != 0) return UW_EPROTO;
        if (n < 16) { *need = 16 - n; return 0; }
        uint8_t ver = buf[12] >> 4, cmd = buf[12] & 15, fam = buf[13];
        size_t len = (size_t)buf[14] << 8 | buf[15], al = v2_addr_len(fam);
        if (ver != 2 || cmd > 1) return UW_EPROTO;
        if ((fam & 15) > 2 || (fam >> 4) > 3 || len < al) return UW_EPROTO;
        if (cmd == 0 || al == 0 || (fam >> 4) == 3 || (fam & 15) != 1)
            return (ssize_t)(16 + len);                 /* LOCAL, UNSPEC, unix, UDP: the peer stays */
        if (n < 16 + al) { *need = 16 + al - n; return 0; }
        uint8_t src[16];
        unsigned sport;
        if ((fam >> 4) == 1) {
            memcpy(src, mapped, 12);
            memcpy(src + 12, buf + 16, 4);
            sport = (unsigned)buf[24] << 8 | buf[25];
        } else {
            memcpy(src, buf + 16, 16);
            sport = (unsigned)buf[48] << 8 | buf[49];
        }
        peer_text(src, sport, peer, peer_n);
        return (ssize_t)(16 + len);
    }
    cmp = n < 6 ? n : 6;
    if (memcmp(buf, "PROXY ", cmp) != 0) return UW_EPROTO;
    if (n < 6) { *need = 15 - n; return 0; }
    return parse_v1(buf, n, need, peer, peer_n);
}

/* ------------------------------------------------------------ the wrapper */

/* A connection whose peer is the PROXY header's source: every operation
 * goes to the one below. */
typedef struct proxied {
    uw_conn base;
    uw_conn *in;
    void (*notify)(uw_conn *c, void *arg);
    void *notify_arg;
    char peer[64];
} proxied;

static ssize_t px_read(uw_conn *c, void *buf, size_t n, int64_t deadline)
{
    return uw_conn_read(((proxied *)c)->in, buf, n, deadline);
}
static int px_writev(uw_conn *c, const uw_slice *v, size_t n, int64_t deadline)
{
    return uw_conn_writev(((proxied *)c)->in, v, n, deadline);
}
static bool px_may_read(const uw_conn *c) { return uw_conn_may_read(((const proxied *)c)->in); }
static void px_forward(uw_conn *in, void *arg)
{
    (void)in;
    proxied *p = arg;
    if (p->notify) p->notify(&p->base, p->notify_arg);
}
static void px_set_notify(uw_conn *c, void (*fn)(uw_conn *c, void *arg), void *arg)
{
    proxied *p = (proxied *)c;
    p->notify = fn, p->notify_arg = arg;
    uw_conn_set_notify(p->in, fn ? px_forward : NULL, p);
}
static void px_shutdown_write(uw_conn *c) { uw_conn_shutdown_write(((proxied *)c)->in); }
static void px_close(uw_conn *c, bool reset)
{
    proxied *p = (proxied *)c;
    uw_conn_close(p->in, reset);
    free(p);
}
static const char *px_peer(uw_conn *c, char *buf, size_t n)
{
    snprintf(buf, n, "%s", ((proxied *)c)->peer);
    return buf;
}

static const struct uw_conn_ops proxied_ops = {
    .read = px_read, .writev = px_writev, .may_read = px_may_read, .set_notify = px_set_notify,
    .shutdown_write = px_shutdown_write, .close = px_close, .peer = px_peer,
};

int uw__proxy_accept(uw_conn *c, const uw_cidr *trust, size_t ntrust, int64_t deadline, uw_conn **out,
                     char *why, size_t why_n)
{
    char t[96], peer[64];
    uw_conn_peer(c, t, sizeof t);
    const char *a = t;
    size_t an = strlen(t);
    if (t[0] == '[') {
        const char *e = strchr(t, ']');
        a++, an = e ? (size_t)(e - a) : 0;
    } else if (strchr(t, ':') && strchr(t, ':') == strrchr(t, ':')) {
        an = (size_t)(strchr(t, ':') - t);
    }
    uint8_t bin[16];
    if (!ntrust || !uw__ip_parse(a, an, bin) || !match_bin(trust, ntrust, bin)) {
        snprintf(why, why_n, "PROXY protocol from %s, which is not in --trust-proxy", t);
        return UW_EPROTO;
    }
    uint8_t buf[16 + 216], skip[256];
    size_t n = 0, need = 0;
    ssize_t r;
    while ((r = uw__proxy_parse(buf, n, &need, peer, sizeof peer)) == 0) {
        ssize_t k = uw_conn_read(c, buf + n, need, deadline);
        if (k <= 0) {
            snprintf(why, why_n, "%s: no PROXY header (%s)", t, k == 0 ? "closed" : uw_strerror((int)k));
            return k == 0 ? UW_ECLOSED : (int)k;
        }
        n += (size_t)k;
    }
    if (r < 0) {
        snprintf(why, why_n, "%s: a malformed PROXY header", t);
        return UW_EPROTO;
    }
    for (size_t left = (size_t)r - n; left;) {       /* the TLVs of version 2: not used */
        ssize_t k = uw_conn_read(c, skip, left < sizeof skip ? left : sizeof skip, deadline);
        if (k <= 0) {
            snprintf(why, why_n, "%s: a PROXY header cut short", t);
            return UW_EPROTO;
        }
        left -= (size_t)k;
    }
    if (!peer[0]) {                                  /* LOCAL or UNKNOWN: the connection itself */
        *out = c;
        return UW_OK;
    }
    proxied *p = calloc(1, sizeof *p);
    if (!p) return UW_ENOMEM;
    p->base.ops = &proxied_ops;
    p->in = c;
    snprintf(p->peer, sizeof p->peer, "%s", peer);
    *out = &p->base;
    return UW_OK;
}
