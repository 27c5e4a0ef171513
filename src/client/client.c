/*
 * The HTTP/1.1 client: URLs, the pool of idle connections, request
 * heads and bodies, responses read through uw_client_parser, redirects.
 */
#include "client_internal.h"

#include <uweb/tls.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *uw_client_strerror(int err)
{
    switch (err) {
    case UW_CLIENT_EURL: return "not an absolute http:// or https:// URL";
    case UW_CLIENT_ERESOLVE: return "host name did not resolve";
    case UW_CLIENT_ECONNECT: return "connection refused or unreachable";
    case UW_CLIENT_ETLS: return "TLS handshake failed";
    case UW_CLIENT_EVERIFY: return "the server's certificate was refused";
    case UW_CLIENT_EREDIRECT: return "too many redirects or a bad Location";
    case UW_ECLOSED: return "connection closed before the answer was complete";
    case UW_EPROTO: return "malformed answer";
    case UW_ELIMIT: return "answer over a size limit";
    default: return uw_strerror(err);
    }
}

void uw_client_config_default(uw_client_config *cfg)
{
    *cfg = (uw_client_config){
        .connect_timeout = UW_SEC(10),
        .io_timeout = UW_SEC(30),
        .request_timeout = UW_SEC(60),
        .idle_timeout = UW_SEC(15),
        .max_idle_per_origin = 8,
        .max_idle = 64,
        .max_head_bytes = 16 * 1024,
        .max_headers = 100,
        .max_body = UINT64_MAX,
        .max_redirects = 0,
        .user_agent = "uweb",
    };
}

int uw_client_new(uw_client **out, const uw_client_config *cfg)
{
    uw_client *cl = calloc(1, sizeof *cl);
    if (!cl) return UW_ENOMEM;
    if (cfg) cl->cfg = *cfg;
    else uw_client_config_default(&cl->cfg);
    if (cl->cfg.max_headers == 0) cl->cfg.max_headers = 1;
    if (cl->cfg.max_head_bytes < 64) cl->cfg.max_head_bytes = 64;
    *out = cl;
    return UW_OK;
}

void uw_client_free(uw_client *cl)
{
    if (!cl) return;
    while (cl->idle) {
        pooled *e = cl->idle;
        cl->idle = e->next;
        uw_conn_close(e->c, false);
        free(e);
    }
    uw__clh2_free_all(cl);
    uw_tls_config_free(cl->tls);
    free(cl);
}

const char *uw_client_tls_reason(const uw_client *cl) { return cl->tls_reason; }

/* A TLS client connection to host over tcp (owned): UW_OK or an error. */
static int tls_open(uw_client *cl, uw_conn *tcp, const char *host, int64_t deadline, uw_conn **out)
{
    if (!cl->tls) {
        static const char *const h1[] = { UW_TLS_ALPN_HTTP1, NULL };
        static const char *const h2_h1[] = { UW_TLS_ALPN_H2, UW_TLS_ALPN_HTTP1, NULL };
        bool h2 = cl->cfg.h2 && uw__clh2_available();
        uw_tls_client_options o = { .ca_pem = cl->cfg.ca_pem, .ca_len = cl->cfg.ca_len,
                                    .ca_file = cl->cfg.ca_file, .insecure = cl->cfg.insecure,
                                    .alpn = h2 ? h2_h1 : h1 };
        int r = uw_tls_client_config_new(&cl->tls, &o, cl->tls_reason, sizeof cl->tls_reason);
        if (r != UW_TLS_OK) {
            cl->tls = NULL;
            uw_conn_close(tcp, true);
            return r == UW_TLS_ENOMEM ? UW_ENOMEM : UW_CLIENT_ETLS;
        }
    }
    int r = uw_tls_connect(tcp, cl->tls, host, deadline, out, cl->tls_reason, sizeof cl->tls_reason);
    if (r == UW_OK) return UW_OK;
    if (r == UW_TLS_EVERIFY) return UW_CLIENT_EVERIFY;
    if (r == UW_TLS_ETIMEDOUT || r == UW_ETIMEDOUT) return UW_ETIMEDOUT;
    if (r == UW_ECANCELED || r == UW_ENOMEM || r == UW_TLS_ENOMEM) return r == UW_TLS_ENOMEM ? UW_ENOMEM : r;
    return UW_CLIENT_ETLS;
}

uw_client_stats uw_client_get_stats(const uw_client *cl)
{
    uw_client_stats s = cl->st;
    s.idle = cl->nidle;
    return s;
}

/* ------------------------------------------------------------ URLs */

int uw_client_url_parse(uw_client_url *u, const char *url)
{
    memset(u, 0, sizeof *u);
    size_t skip;
    if (strncasecmp(url, "http://", 7) == 0) skip = 7;
    else if (strncasecmp(url, "https://", 8) == 0) { skip = 8; u->tls = true; }
    else return UW_CLIENT_EURL;
    const char *s = url + skip;
    size_t n = strlen(s);
    if (n + 3 > sizeof u->buf) return UW_CLIENT_EURL;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= ' ' || s[i] == 0x7f) return UW_CLIENT_EURL;
    size_t auth = strcspn(s, "/?#");
    char *b = u->buf;
    memcpy(b, s, auth);
    b[auth] = 0;
    if (strchr(b, '@')) return UW_CLIENT_EURL;        /* no user info */
    char *host = b, *port = NULL;
    if (*b == '[') {
        char *close = strchr(b, ']');
        if (!close || close == b + 1) return UW_CLIENT_EURL;
        *close = 0;
        host = b + 1;
        if (close[1] == ':') port = close + 2;
        else if (close[1]) return UW_CLIENT_EURL;
        if (strspn(host, "0123456789abcdefABCDEF:.") != strlen(host)) return UW_CLIENT_EURL;
    } else {
        char *colon = strchr(b, ':');
        if (colon) { *colon = 0; port = colon + 1; }
        if (strchr(host, '[') || strchr(host, ']')) return UW_CLIENT_EURL;
    }
    if (!*host) return UW_CLIENT_EURL;
    u->port = u->tls ? 443 : 80;
    if (port) {
        if (!*port || strspn(port, "0123456789") != strlen(port) || strlen(port) > 5) return UW_CLIENT_EURL;
        unsigned long v = strtoul(port, NULL, 10);
        if (v == 0 || v > 65535) return UW_CLIENT_EURL;
        u->port = (uint16_t)v;
    }
    u->host = host;
    char *t = b + auth + 1;
    const char *rest = s + auth;
    size_t rl = strcspn(rest, "#");              /* the fragment stays with the client */
    if (rl == 0 || rest[0] != '/') *t++ = '/';
    memcpy(t, rest, rl);
    t[rl] = 0;
    u->target = b + auth + 1;
    return UW_OK;
}

static void origin_of(const uw_client_url *u, char *out, size_t n)
{
    bool v6 = strchr(u->host, ':') != NULL;
    snprintf(out, n, "%s://%s%s%s:%u", u->tls ? "https" : "http", v6 ? "[" : "", u->host,
             v6 ? "]" : "", (unsigned)u->port);
}

/* ------------------------------------------------------------ pool */

static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

static int64_t after(int64_t timeout)
{
    if (timeout == UW_FOREVER || timeout <= 0) return UW_FOREVER;
    return uw_now() + timeout;
}

int64_t uw__client_after(int64_t timeout) { return after(timeout); }

static uw_conn *pool_take(uw_client *cl, const char *origin)
{
    int64_t now = uw_now();
    for (pooled **pp = &cl->idle; *pp;) {
        pooled *e = *pp;
        bool mine = strcmp(e->origin, origin) == 0;
        /* Data or an end of stream on an idle connection means the server
         * closed it (or broke the protocol): it cannot carry a request. */
        bool stale = uw_conn_may_read(e->c) || now - e->since > cl->cfg.idle_timeout;
        if (!mine && !stale) { pp = &e->next; continue; }
        *pp = e->next;
        cl->nidle--;
        uw_conn *c = e->c;
        free(e);
        if (stale) { uw_conn_close(c, false); continue; }
        return c;
    }
    return NULL;
}

static void pool_put(uw_client *cl, uw_conn *c, const char *origin)
{
    size_t same = 0;
    pooled *e, **oldest_same = NULL, **oldest = NULL;
    for (pooled **pp = &cl->idle; *pp; pp = &(*pp)->next) {
        if (strcmp((*pp)->origin, origin) == 0) { same++; oldest_same = pp; }
        oldest = pp;
    }
    pooled **drop = same >= cl->cfg.max_idle_per_origin ? oldest_same
                  : cl->nidle >= cl->cfg.max_idle ? oldest : NULL;
    if (drop) {
        e = *drop;
        *drop = e->next;
        cl->nidle--;
        uw_conn_close(e->c, false);
        free(e);
    }
    if (cl->cfg.max_idle_per_origin == 0 || cl->cfg.max_idle == 0 || !(e = malloc(sizeof *e))) {
        uw_conn_close(c, false);
        return;
    }
    e->c = c;
    e->since = uw_now();
    snprintf(e->origin, sizeof e->origin, "%s", origin);
    e->next = cl->idle;
    cl->idle = e;
    cl->nidle++;
}

/* ------------------------------------------------------------ requests */

static bool header_ok(const char *s, bool name)
{
    if (name && !*s) return false;
    for (; *s; s++) {
        if (*s == '\r' || *s == '\n') return false;
        if (name && (*s == ':' || (unsigned char)*s <= ' ')) return false;
    }
    return true;
}

static bool caller_has(const uw_client_req *rq, const char *name)
{
    for (size_t i = 0; i < rq->nheaders; i++)
        if (strcasecmp(rq->headers[i].name, name) == 0) return true;
    return false;
}

/* The request head, malloc'd. */
static char *request_head(const uw_client *cl, const char *method, const uw_client_url *u,
                          const uw_client_req *rq, bool with_body, int64_t length, size_t *len)
{
    size_t n = strlen(method) + strlen(u->target) + strlen(u->host) + 128;
    const char *ua = cl->cfg.user_agent;
    if (ua) n += strlen(ua) + 16;
    for (size_t i = 0; i < rq->nheaders; i++)
        n += strlen(rq->headers[i].name) + strlen(rq->headers[i].value) + 4;
    char *h = malloc(n);
    if (!h) return NULL;
    bool v6 = strchr(u->host, ':') != NULL, dflt = u->port == (u->tls ? 443 : 80);
    size_t k = (size_t)snprintf(h, n, "%s %s HTTP/1.1\r\n", method, u->target);
    if (!caller_has(rq, "Host")) {
        k += (size_t)snprintf(h + k, n - k, "Host: %s%s%s", v6 ? "[" : "", u->host, v6 ? "]" : "");
        if (!dflt) k += (size_t)snprintf(h + k, n - k, ":%u", (unsigned)u->port);
        k += (size_t)snprintf(h + k, n - k, "\r\n");
    }
    if (ua && *ua && !caller_has(rq, "User-Agent"))
        k += (size_t)snprintf(h + k, n - k, "User-Agent: %s\r\n", ua);
    for (size_t i = 0; i < rq->nheaders; i++) {
        const char *nm = rq->headers[i].name;
        if (strcasecmp(nm, "Content-Length") == 0 || strcasecmp(nm, "Transfer-Encoding") == 0) continue;
        k += (size_t)snprintf(h + k, n - k, "%s: %s\r\n", nm, rq->headers[i].value);
    }
    if (with_body) {
        if (length >= 0) k += (size_t)snprintf(h + k, n - k, "Content-Length: %lld\r\n", (long long)length);
        else k += (size_t)snprintf(h + k, n - k, "Transfer-Encoding: chunked\r\n");
    }
    k += (size_t)snprintf(h + k, n - k, "\r\n");
    *len = k;
    return h;
}

static int64_t io_deadline(const uw_client_res *res)
{
    return min64(after(res->cl->cfg.io_timeout), res->deadline);
}

static int send_stream_body(uw_client_res *res, const uw_client_req *rq)
{
    char *buf = res->in;        /* the read buffer is free until the answer comes */
    bool chunked = rq->body_length < 0;
    int64_t left = rq->body_length;
    for (;;) {
        size_t want = IN_CAP - 32;
        if (!chunked && (int64_t)want > left) want = (size_t)left;
        if (!chunked && want == 0) return UW_OK;
        ssize_t n = rq->body_fn(rq->body_arg, buf + 16, want);
        if (n < 0) return (int)n;
        if (n == 0) {
            if (!chunked) return UW_EINVAL;          /* shorter than body_length */
            return uw_conn_writev(res->c, &UW_SLICE_LIT("0\r\n\r\n"), 1, io_deadline(res));
        }
        uw_slice v[3];
        size_t nv = 0;
        char size[16];
        if (chunked) {
            int k = snprintf(size, sizeof size, "%zx\r\n", (size_t)n);
            v[nv++] = (uw_slice){ size, (size_t)k };
        }
        v[nv++] = (uw_slice){ buf + 16, (size_t)n };
        if (chunked) v[nv++] = UW_SLICE_LIT("\r\n");
        else left -= n;
        int r = uw_conn_writev(res->c, v, nv, io_deadline(res));
        if (r != UW_OK) return r;
    }
}

/* Moves the parser on by one event, reading from the connection as
 * needed.  UW_OK with res->p.event set, or an error. */
static int step(uw_client_res *res)
{
    for (;;) {
        size_t used;
        int r = uw_client_parser_feed(&res->p, res->in + res->in_pos, res->in_len - res->in_pos, &used);
        res->in_pos += used;
        if (r != UW_OK) return r;
        if (res->p.event != UW_CP_NONE) return UW_OK;
        if (res->in_pos == res->in_len) res->in_pos = res->in_len = 0;
        if (res->in_len == IN_CAP) {
            memmove(res->in, res->in + res->in_pos, res->in_len - res->in_pos);
            res->in_len -= res->in_pos;
            res->in_pos = 0;
        }
        ssize_t n = uw_conn_read(res->c, res->in + res->in_len, IN_CAP - res->in_len, io_deadline(res));
        if (n < 0) return (int)n;
        if (n == 0) {
            r = uw_client_parser_eof(&res->p);
            if (r != UW_OK) return r;
            res->p.keep_alive = false;
            return UW_OK;
        }
        res->in_len += (size_t)n;
    }
}

static void res_free(uw_client_res *res, bool keep)
{
    if (res->h2) uw__clh2_res_close(res);
    if (res->c) {
        if (keep) pool_put(res->cl, res->c, res->origin);
        else uw_conn_close(res->c, false);
    }
    free(res);
}

/* One request on one connection.  *retry says the failure happened on a
 * pooled connection before any answer, with a body that can be sent
 * again. */
static int exchange(uw_client *cl, const char *method, const uw_client_url *u, const uw_client_req *rq,
                    int64_t deadline, bool fresh, uw_client_res **out, bool *retry)
{
    *retry = false;
    size_t head_cap = cl->cfg.max_head_bytes + 8 * cl->cfg.max_headers + 64;
    uw_client_res *res = calloc(1, sizeof *res + IN_CAP + head_cap);
    if (!res) return UW_ENOMEM;
    res->cl = cl;
    res->in = (char *)(res + 1);
    res->head = res->in + IN_CAP;
    res->head_cap = head_cap;
    res->deadline = deadline;
    origin_of(u, res->origin, sizeof res->origin);
    snprintf(res->url, sizeof res->url, "%s%s", res->origin, u->target);
    bool head_req = strcasecmp(method, "HEAD") == 0;
    uw_client_parser_init(&res->p, res->head, head_cap, cl->cfg.max_head_bytes, cl->cfg.max_headers, head_req);

    int r;
    int64_t dl = min64(after(cl->cfg.connect_timeout), deadline);
    struct h2conn *hc = NULL;
    bool h2 = u->tls && cl->cfg.h2 && uw__clh2_available();
    if (h2) {
        /* An HTTP/2 connection to the origin carries every request. */
        r = UW_OK;
        hc = uw__clh2_wait_origin(cl, res->origin, dl, &r);
        if (r != UW_OK) { res_free(res, false); return r; }
        if (hc) {
            cl->st.reused++;
            res->reused = true;
            goto h2_request;
        }
    }
    if (!fresh) res->c = pool_take(cl, res->origin);
    if (res->c) {
        res->reused = true;
        cl->st.reused++;
    } else {
        if (h2) hc = uw__clh2_connecting(cl, res->origin);
        r = uw_client_dial(&res->c, u->host, u->port, dl);
        if (r == UW_OK && u->tls) {
            uw_conn *tcp = res->c;
            r = tls_open(cl, tcp, u->host, dl, &res->c);
        }
        if (r != UW_OK) {
            if (hc) uw__clh2_connect_failed(hc);
            res->c = NULL;
            res_free(res, false);
            return r;
        }
        cl->st.connections++;
        const char *alpn = hc ? uw_tls_alpn(uw_tls_conn_engine(res->c)) : NULL;
        if (hc && alpn && strcmp(alpn, UW_TLS_ALPN_H2) == 0) {
            uw_conn *c = res->c;
            res->c = NULL;
            r = uw__clh2_adopt(hc, c);
            if (r != UW_OK) { res_free(res, false); return r; }
            goto h2_request;
        }
        if (hc) uw__clh2_connect_failed(hc);      /* HTTP/1.1 on this connection */
    }
    /* POST, PUT and PATCH say "Content-Length: 0" when they carry nothing. */
    bool with_body = rq->body || rq->body_fn || strcasecmp(method, "POST") == 0 ||
                     strcasecmp(method, "PUT") == 0 || strcasecmp(method, "PATCH") == 0;
    int64_t length = rq->body ? (int64_t)rq->body_len : rq->body_fn ? rq->body_length : 0;
    size_t hl;
    char *h = request_head(cl, method, u, rq, with_body, length, &hl);
    if (!h) { res_free(res, false); return UW_ENOMEM; }
    uw_slice v[2] = { { h, hl }, { rq->body, rq->body ? rq->body_len : 0 } };
    r = uw_conn_writev(res->c, v, 2, io_deadline(res));
    free(h);
    if (r == UW_OK && rq->body_fn && !rq->body) r = send_stream_body(res, rq);
    bool replayable = !rq->body_fn || rq->body;
    if (r == UW_OK) {
        do r = step(res);
        while (r == UW_OK && res->p.event != UW_CP_HEAD);
    }
    if (r != UW_OK) {
        *retry = res->reused && replayable && !res->p.started && (r == UW_ECLOSED || r == UW_EIO);
        res_free(res, false);
        return r;
    }
    *out = res;
    return UW_OK;
h2_request:
    r = uw__clh2_request(hc, res, method, u, rq);
    if (r != UW_OK) {
        /* The server had closed the connection before this stream got
         * any answer: once more on a new connection, as for HTTP/1.1. */
        *retry = res->reused && (!rq->body_fn || rq->body) && res->p.status == 0 && r == UW_ECLOSED;
        res_free(res, false);
        return r;
    }
    *out = res;
    return UW_OK;
}

static bool is_redirect(int s) { return s == 301 || s == 302 || s == 303 || s == 307 || s == 308; }

/* Resolves a Location against the URL of the answer. */
static int redirect_target(const uw_client_res *res, const char *loc, char *out, size_t n)
{
    int k;
    if (strncasecmp(loc, "http://", 7) == 0 || strncasecmp(loc, "https://", 8) == 0)
        k = snprintf(out, n, "%s", loc);
    else if (loc[0] == '/' && loc[1] == '/')
        k = snprintf(out, n, "%s:%s", strncmp(res->origin, "https", 5) == 0 ? "https" : "http", loc);
    else if (loc[0] == '/')
        k = snprintf(out, n, "%s%s", res->origin, loc);
    else if (loc[0]) {
        const char *path = res->url + strlen(res->origin);
        size_t dir = strcspn(path, "?");
        while (dir > 0 && path[dir - 1] != '/') dir--;
        k = snprintf(out, n, "%s%.*s%s", res->origin, (int)dir, path, loc);
    } else return UW_CLIENT_EREDIRECT;
    return k > 0 && (size_t)k < n ? UW_OK : UW_CLIENT_EREDIRECT;
}

int uw_client_open(uw_client *cl, const uw_client_req *rq0, uw_client_res **out)
{
    *out = NULL;
    uw_client_req rq = *rq0;
    const char *method = rq.method && *rq.method ? rq.method : "GET";
    for (const char *m = method; *m; m++)
        if (!((*m >= 'A' && *m <= 'Z') || (*m >= 'a' && *m <= 'z') || *m == '-' || *m == '_'))
            return UW_EINVAL;
    for (size_t i = 0; i < rq.nheaders; i++)
        if (!header_ok(rq.headers[i].name, true) || !header_ok(rq.headers[i].value, false)) return UW_EINVAL;
    if (rq.body && rq.body_fn) return UW_EINVAL;
    int64_t deadline = after(cl->cfg.request_timeout);
    char *url = malloc(2048), *next = malloc(2048);
    uw_client_url *u = malloc(sizeof *u);
    int r = UW_ENOMEM;
    if (!url || !next || !u) goto done;
    snprintf(url, 2048, "%s", rq.url ? rq.url : "");
    for (int hops = 0;; hops++) {
        r = uw_client_url_parse(u, url);
        if (r != UW_OK) { if (hops) r = UW_CLIENT_EREDIRECT; goto done; }
        uw_client_res *res;
        bool retry;
        r = exchange(cl, method, u, &rq, deadline, false, &res, &retry);
        if (r != UW_OK && retry) {
            cl->st.retried++;
            r = exchange(cl, method, u, &rq, deadline, true, &res, &retry);
        }
        if (r != UW_OK) goto done;
        int s = res->p.status;
        const char *loc = uw_client_parser_header(&res->p, "Location");
        if (!is_redirect(s) || !loc || cl->cfg.max_redirects <= 0) { *out = res; goto done; }
        bool resend = s == 307 || s == 308;
        if (hops >= cl->cfg.max_redirects || (resend && rq.body_fn)) {
            /* Out of hops (or a streamed body that cannot be sent again):
             * the redirect is the answer. */
            if (hops >= cl->cfg.max_redirects) { uw_client_res_close(res); r = UW_CLIENT_EREDIRECT; }
            else *out = res;
            goto done;
        }
        r = redirect_target(res, loc, next, 2048);
        if (r == UW_OK) {
            char sink[512];
            ssize_t n;
            uint64_t drained = 0;
            while ((n = uw_client_res_read(res, sink, sizeof sink)) > 0 && drained < 65536) drained += (uint64_t)n;
        }
        uw_client_res_close(res);
        if (r != UW_OK) goto done;
        if (!resend && strcasecmp(method, "HEAD") != 0) {
            method = "GET";
            rq.body = NULL;
            rq.body_len = 0;
            rq.body_fn = NULL;
        }
        char *t = url; url = next; next = t;
    }
done:
    free(url);
    free(next);
    free(u);
    return r;
}

/* ------------------------------------------------------------ responses */

int uw_client_res_status(const uw_client_res *res) { return res->p.status; }
int uw_client_res_http_minor(const uw_client_res *res) { return res->p.http_minor; }
int uw_client_res_http_version(const uw_client_res *res) { return res->h2 ? 20 : 10 + res->p.http_minor; }
const char *uw_client_res_header(const uw_client_res *res, const char *name)
{
    return uw_client_parser_header(&res->p, name);
}
size_t uw_client_res_header_count(const uw_client_res *res) { return res->p.nheaders; }
void uw_client_res_header_at(const uw_client_res *res, size_t i, const char **name, const char **value)
{
    uw_client_parser_header_at(&res->p, i, name, value);
}
int64_t uw_client_res_content_length(const uw_client_res *res) { return res->p.content_length; }
const char *uw_client_res_url(const uw_client_res *res) { return res->url; }

ssize_t uw_client_res_read(uw_client_res *res, void *buf, size_t n)
{
    if (res->broken) return UW_ECLOSED;
    if (res->h2) {
        ssize_t k = uw__clh2_read(res, buf, n);
        if (k > 0 && (uint64_t)k > res->cl->cfg.max_body - res->body_read) { res->broken = true; return UW_ELIMIT; }
        if (k > 0) res->body_read += (uint64_t)k;
        if (k < 0) res->broken = true;
        if (k == 0) res->done = true;
        return k;
    }
    while (res->span_len == 0) {
        if (res->done) return 0;
        int r = step(res);
        if (r != UW_OK) { res->broken = true; return r; }
        if (res->p.event == UW_CP_DONE) res->done = true;
        else if (res->p.event == UW_CP_BODY) {
            if (res->p.body_len > res->cl->cfg.max_body - res->body_read) { res->broken = true; return UW_ELIMIT; }
            res->body_read += res->p.body_len;
            res->span = res->p.body;
            res->span_len = res->p.body_len;
        }
    }
    size_t k = n < res->span_len ? n : res->span_len;
    memcpy(buf, res->span, k);
    res->span += k;
    res->span_len -= k;
    return (ssize_t)k;
}

int uw_client_res_read_all(uw_client_res *res, char **body, size_t *len, size_t max)
{
    size_t cap = 4096, n = 0;
    char *b = malloc(cap);
    if (!b) return UW_ENOMEM;
    for (;;) {
        if (cap - n < 2048) {
            char *nb = cap > SIZE_MAX / 2 ? NULL : realloc(b, cap * 2);
            if (!nb) { free(b); return UW_ENOMEM; }
            b = nb;
            cap *= 2;
        }
        ssize_t k = uw_client_res_read(res, b + n, cap - n - 1);
        if (k < 0) { free(b); return (int)k; }
        if (k == 0) break;
        n += (size_t)k;
        if (n > max) { free(b); res->broken = true; return UW_ELIMIT; }
    }
    b[n] = 0;
    *body = b;
    *len = n;
    return UW_OK;
}

void uw_client_res_close(uw_client_res *res)
{
    if (!res) return;
    bool keep = res->done && !res->broken && res->p.keep_alive && res->in_pos == res->in_len;
    res_free(res, keep);
}

int uw_client_fetch(uw_client *cl, const uw_client_req *rq, int *status,
                    char **body, size_t *len, size_t max)
{
    uw_client_res *res;
    *body = NULL;
    *len = 0;
    int r = uw_client_open(cl, rq, &res);
    if (r != UW_OK) return r;
    *status = res->p.status;
    r = uw_client_res_read_all(res, body, len, max);
    uw_client_res_close(res);
    return r;
}
