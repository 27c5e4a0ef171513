/*
 * Apps: the dispatch from the HTTP server to middlewares and routes, the
 * main of every app (options, the runtime, its servers, signals), and the
 * Basic auth middleware.
 */
#include "web_internal.h"
#include "../http/http_internal.h"
#include "../util/util.h"
#include <uweb/block.h>
#include <uweb/acme.h>
#include <uweb/tls.h>
#include <uweb/version.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *method_list(uw_arena *a, unsigned m)
{
    static const struct { unsigned bit; const char *name; } names[] = {
        { UW_GET, "GET" }, { UW_HEAD, "HEAD" }, { UW_POST, "POST" }, { UW_PUT, "PUT" },
        { UW_DELETE, "DELETE" }, { UW_PATCH, "PATCH" }, { UW_OPTIONS, "OPTIONS" },
    };
    char buf[64] = "";
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (!(m & names[i].bit)) continue;
        if (buf[0]) strcat(buf, ", ");
        strcat(buf, names[i].name);
    }
    return uw_arena_strndup(a, buf, strlen(buf));
}

static bool query_allowed(uw_req *req, const uw_route *r, const char **why)
{
    if (r->query == UW_QUERY_ANY) return true;
    if (r->query == UW_QUERY_NONE) {
        *why = "this resource takes no query parameters";
        return *uw_req_query_string(req) == 0;
    }
    if (uw__req_parse_query(req) != UW_OK) {
        *why = "malformed query string";
        return false;
    }
    const uw_web_state *st = uw__web_state_peek(req);
    for (size_t i = 0; i < st->nquery_pairs; i++) {
        const char *k = st->query_pairs[2 * i];
        size_t kl = strlen(k);
        const char *p = r->params ? r->params : "";
        bool ok = false;
        while (*p && !ok) {
            const char *c = strchr(p, ',');
            size_t n = c ? (size_t)(c - p) : strlen(p);
            ok = n == kl && memcmp(p, k, n) == 0;
            p += n + (c ? 1 : 0);
        }
        if (!ok) {
            *why = uw_arena_printf(uw_req_arena(req), "unknown query parameter \"%s\"", k);
            return false;
        }
    }
    return true;
}

static void dispatch(uw_req *req, uw_res *res, void *arg)
{
    const uw_app *app = arg;
    for (size_t i = 0; i < app->nmiddlewares; i++)
        if (app->middlewares[i].fn(req, res, app->middlewares[i].arg) == UW_DONE) return;

    uw_web_state *st = uw__web_state(req);
    if (!st) {
        uw_res_error(res, 500, "out of request memory");
        return;
    }
    uw_arena *a = uw_req_arena(req);
    const char *path = uw_req_path(req), *query = uw_req_query_string(req);
    unsigned allowed = 0;
    const char *redirect = NULL;
    int idx = uw_route_match(app, uw_req_method(req), path, strlen(path), a,
                             st->caps, &st->ncaps, &allowed, &redirect);
    if (idx == -404) {
        uw_res_error(res, 404, NULL);
        return;
    }
    if (idx == -405) {
        uw_res_header(res, "Allow", method_list(a, allowed));
        uw_res_error(res, 405, NULL);
        return;
    }
    if (idx == -308) {
        const char *loc = *query ? uw_arena_printf(a, "%s?%s", redirect, query) : redirect;
        if (loc && strpbrk(loc, "\r\n") == NULL) uw_res_header(res, "Location", loc);
        uw_res_error(res, 308, NULL);
        return;
    }
    if (idx < 0) {
        uw_res_error(res, 400, "malformed path");
        return;
    }
    const uw_route *r = &app->routes[idx];
    const char *why = "";
    if (!query_allowed(req, r, &why)) {
        uw_res_error(res, 400, why);
        return;
    }
    if (uw__req_limit_body(req, r->max_body) != UW_OK) {
        uw_res_close(res);
        uw_res_error(res, 413, "request body larger than this route accepts");
        return;
    }
    st->route_arg = r->arg;
    r->handler(req, res);
}

/* The request id and the access log around the app's own dispatch. */
void uw_app_dispatch(uw_req *req, uw_res *res, void *arg)
{
    uw__access_begin(req, res);
    dispatch(req, res, arg);
    uw__access_end(req, res);
}

/* ------------------------------------------------------------ running */

#define MAX_SERVERS 2

/* What uw_main and uw_app_serve run: servers in one runtime, stopped
 * together on SIGINT/SIGTERM. */
typedef struct service {
    uw_http_server *servers[MAX_SERVERS];
    size_t nservers;
    void (*reload)(void *arg);   /* on SIGHUP (NULL: ignored) */
    void *reload_arg;
} service;

/* Waits for a signal, stops every server gracefully, waits for them, then
 * ends the runtime's run (tasks a handler left behind do not keep the
 * process up). */
static void signals_main(void *arg)
{
    service *sv = arg;
    for (;;) {
        int s = uw_wait_signal(uw_now() + UW_SEC(1));
        if (s == UW_SIGNAL_RELOAD) {
            if (sv->reload) sv->reload(sv->reload_arg);
            continue;
        }
        if (s > 0) break;
        if (s == UW_ECANCELED) return;
        bool all_stopped = true;
        for (size_t i = 0; i < sv->nservers; i++) all_stopped &= uw_http_server_stopped(sv->servers[i]);
        if (all_stopped) break;
    }
    for (size_t i = 0; i < sv->nservers; i++) uw_http_server_stop(sv->servers[i]);
    for (size_t i = 0; i < sv->nservers; i++)
        if (uw_http_server_wait(sv->servers[i], UW_FOREVER) != UW_OK) break;
    uw_rt_stop();
}

/* Starts the servers and the signal task, runs the runtime. */
static int run_service(service *sv)
{
    for (size_t i = 0; i < sv->nservers; i++) {
        int r = uw_http_server_start(sv->servers[i]);
        if (r != UW_OK) return r;
    }
    uw_task *t = uw_spawn(signals_main, sv, 16 * 1024);
    if (!t) return UW_ENOMEM;
    uw_detach(t);
    uw_rt_run();
    return UW_OK;
}

int uw_app_serve(const uw_app *app, const uw_http_config *cfg,
                 void (*on_listen)(uint16_t port, void *arg), void *arg)
{
    if (uw_routes_check(app->routes, app->nroutes) != UW_OK) return UW_EINVAL;
    int r = uw_rt_init();
    if (r != UW_OK) return r;
    uw_rt_prepare_server();
    uw_http_server srv;
    service sv = { { &srv }, 1, NULL, NULL };
    r = uw_http_server_init(&srv, cfg, uw_app_dispatch, (void *)app);
    if (r == UW_OK) r = uw_http_server_listen(&srv, &(uw_http_listen){ .addr = cfg->addr, .port = cfg->port });
    if (r > 0) {
        if (on_listen) on_listen((uint16_t)r, arg);
        r = run_service(&sv);
    }
    uw_http_server_fini(&srv);
    uw_rt_fini();
    return r;
}

int uw_app_serve_conn(const uw_app *app, const uw_http_config *cfg, struct uw_conn *c)
{
    uw_http_server srv;
    int r = uw_http_server_init(&srv, cfg, uw_app_dispatch, (void *)app);
    if (r != UW_OK) {
        uw_conn_close(c, true);
        return r;
    }
    r = uw_http_server_serve_conn(&srv, c);
    uw_http_server_fini(&srv);
    return r;
}

/* ------------------------------------------------------------ uw_main */

#define MAX_LISTEN 3             /* --listen; one of UW_HTTP_MAX_LISTENERS stays for HTTPS */

static const char *prog_name(const char *argv0)
{
    const char *s = strrchr(argv0, '/');
    return s ? s + 1 : argv0;
}

static void usage(FILE *f, const char *name)
{
    fprintf(f,
"NAME\n"
"    %s - a uweb service\n"
"\n"
"SYNOPSIS\n"
"    %s [--addr=ADDR] [--port=PORT] [OPTIONS]\n"
"\n"
"OPTIONS\n"
"    --addr=ADDR             listen address (default %s)\n"
"    --port=PORT             listen port, 0 picks a free one (default %u; unix: 8080,\n"
"                            unikernels, which own their address: 80)\n"
"%s"
"    --max-connections=N     connections open at once; more get 503 (default 16384)\n"
"    --max-body=BYTES        default request body limit (default 1048576)\n"
"    --max-head=BYTES        request line and headers limit (default 8192)\n"
"    --max-headers=N         header fields limit (default 64)\n"
"    --header-timeout=SEC    time to receive a request head (default 10)\n"
"    --handshake-timeout=SEC time to complete a TLS handshake (default 10)\n"
"    --idle-timeout=SEC      keep-alive idle time (default 30)\n"
"    --shutdown-grace=SEC    time in-flight requests get on SIGTERM (default 10)\n"
"    --tls-cert=FILE         HTTPS: a PEM certificate chain (leaf first); with --tls-key,\n"
"    --tls-key=FILE          its PEM private key.  Repeatable: several certificates,\n"
"                            chosen by the client's SNI (the first one by default)\n"
"                            Without them, the block device tls (if any) holds the chain\n"
"                            then the key in one PEM file (a unikernel's certificate)\n"
"    --tls-port=PORT         HTTPS listen port (default %u; unix: 8443, unikernels: 443)\n"
"    --tls-modern            TLS 1.3 only (default: TLS 1.2 and 1.3)\n"
"    --http=1|2|both         HTTPS protocols offered by ALPN: HTTP/1.1, HTTP/2 (h2) or\n"
"                            both (default both; a client offering no ALPN gets HTTP/1.1)\n"
"    --h2c                   plain HTTP also takes HTTP/2 with prior knowledge (h2c)\n"
"    --h2-max-streams=N      HTTP/2 streams in flight per connection (default 100)\n"
"    --h2-header-list=BYTES  HTTP/2 decoded request fields per request; more get 431\n"
"                            (default 16384)\n"
"    --h2-hpack-table=BYTES  HTTP/2 HPACK table the client's request fields may use\n"
"                            (default 4096; answers use the static table)\n"
"    --h2-stream-window=BYTES  request body bytes buffered per HTTP/2 stream, its\n"
"                            window, opened as the handler reads (default 65535)\n"
"    --h2-conn-window=BYTES  request body bytes buffered per HTTP/2 connection\n"
"                            (default 1048576)\n"
"    --redirect-http         plain HTTP answers 308 to the same URL over https\n"
"    --hsts=SECONDS          HTTPS answers carry Strict-Transport-Security: max-age=SECONDS\n"
"%s"
"    --block:NAME=FILE       unix: FILE is the app's block device NAME (repeatable; read-only\n"
"                            if FILE is not writable).  Unikernels: give it to the tender\n"
"                            (uweb-spt --block:NAME=FILE -- app.spt ...)\n"
"    --memory-budget=BYTES   memory the request workers may hold at once; past it slow\n"
"                            request heads give theirs up, then 503 (default: none on\n"
"                            unix, 3/8 of the guest heap on unikernels)\n"
"    --listen=WHERE          a plain HTTP listener instead of --addr/--port, repeatable (up to\n"
"                            %d): ADDR:PORT, [IPV6]:PORT, PORT, or unix:PATH (unix socket)\n"
"    --workers=N|auto        N worker processes sharing the listeners (SO_REUSEPORT), each\n"
"                            with its own event loop, worker i pinned to CPU i (round robin\n"
"                            over the CPUs this process may use); auto: one per such CPU\n"
"                            (default 1; unix only)\n"
"    --access-log=FILE|-     one line per request to FILE (appended) or stdout\n"
"    --access-log-format=F   common (default: the common log format), combined (with\n"
"                            referer, user agent, request id, milliseconds) or json\n"
"                            (JSON lines)\n"
"    --trust-proxy=CIDR      a proxy in front (repeatable, IPv4 or IPv6, e.g. 10.0.0.0/8,\n"
"                            ::1): from such a peer the client's address (logs,\n"
"                            uw_req_peer) is the right-most X-Forwarded-For address\n"
"                            not in a trusted range; from others the field is ignored\n"
"    --proxy-protocol        every connection (plain and HTTPS listeners) starts with a\n"
"                            PROXY header, v1 or v2 (HAProxy's send-proxy[-v2]), from a\n"
"                            --trust-proxy peer, naming the client; else it is closed\n"
"    --cookie-key-file=FILE  key of signed and sealed cookies: 32 bytes, or 64 hex\n"
"                            digits (head -c32 /dev/urandom | xxd -p -c64 > FILE);\n"
"                            default: a key made per run, with a warning\n"
"    --log-level=LEVEL       log lines on stderr up to LEVEL: error, warn (refusals, failed\n"
"                            handshakes), info (the default: starts, stops, bad requests)\n"
"                            or debug (also every connection opened and closed)\n"
"    --quiet                 --log-level=error\n"
"    --help                  this text\n"
"    --version               the version of uweb, then exit\n"
"\n"
"EXIT STATUS\n"
"    0 after a graceful shutdown (SIGINT or SIGTERM); 1 when the\n"
"    service cannot start; 2 for a bad command line.\n"
"\n"
"SIGNALS\n"
"    SIGHUP re-reads the certificate files: new handshakes get the new\n"
"    certificates, open connections go on.\n",
            name, name, uw_net_default_addr(), (unsigned)uw__default_port(), uw_net_options_help(),
            (unsigned)uw__default_tls_port(),
            uw_acme_options_help(), MAX_LISTEN);
}

/* "--name=N": 1 and *out when arg is this option with a number, 0 when arg
 * is another option, -1 (after a message) for a bad value. */
static int opt_num(const char *arg, const char *name, uint64_t *out)
{
    size_t n = strlen(name);
    if (strncmp(arg, name, n) != 0 || arg[n] != '=') return 0;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(arg + n + 1, &end, 10);
    if (errno || end == arg + n + 1 || *end || arg[n + 1] == '-') {
        fprintf(stderr, "uweb: %s needs a non-negative number\n", name);
        return -1;
    }
    *out = v;
    return 1;
}

/* "--block:NAME=FILE": attaches FILE as the device NAME (read-only when
 * it cannot be written).  0, or -1 after a message. */
static int block_option(const char *name, const char *arg)
{
    const char *spec = arg + 8, *eq = strchr(spec, '=');
    char dev[32];
    if (!eq || eq == spec || !eq[1] || (size_t)(eq - spec) >= sizeof dev) {
        fprintf(stderr, "%s: bad option %s: expected --block:NAME=FILE\n", name, arg);
        return -1;
    }
    memcpy(dev, spec, (size_t)(eq - spec));
    dev[eq - spec] = '\0';
    int r = uw_block_attach(dev, eq + 1, 0);
    if (r == UW_EIO) r = uw_block_attach(dev, eq + 1, UW_BLOCK_READ_ONLY);
    if (r == UW_OK) return 0;
    fprintf(stderr, "%s: %s: %s\n", name, arg,
            r == UW_EIO ? "cannot open the file"
            : r == UW_EINVAL ? "not a file of a non-zero multiple of 512 bytes (a unikernel's"
                               " devices are given to its tender: uweb-spt --block:NAME=FILE)"
            : uw_strerror(r));
    return -1;
}

#define MAX_CERTS 8
#define MAX_TRUST 16             /* --trust-proxy ranges */

/* The certificate source when no --tls-cert is given and the app has a
 * block device "tls" (a unikernel's only way; --block:tls=FILE on unix):
 * one PEM file, chain then key, padded with NULs to whole blocks. */
#define TLS_BLOCK "block:tls"
#define TLS_BLOCK_MAX (1u << 20)

static bool block_attached(const char *dev)
{
    uw_block *b;
    if (uw_block_open(dev, &b) != UW_OK) return false;
    uw_block_close(b);
    return true;
}

/* A certificate or key: "block:NAME" is a block device, else a file. */
static char *read_source(const char *path, size_t *len, char *err, size_t errlen)
{
    if (strncmp(path, "block:", 6) != 0) return uw__read_file(path, len, err, errlen);
    int st;
    char *s = uw_block_slurp(path + 6, TLS_BLOCK_MAX, len, &st);
    if (!s)
        snprintf(err, errlen, "block device %s: %s", path + 6,
                 st == UW_ELIMIT ? "more than 1 MiB of PEM" : uw_strerror(st));
    return s;
}

typedef struct main_opts {
    uw_http_config cfg;
    bool addr_given;
    const char *cert[MAX_CERTS], *key[MAX_CERTS];
    size_t ncert, nkey;
    uint16_t tls_port;
    bool tls_modern, redirect_http;
    uint64_t hsts;               /* 0: none */
    const char *cookie_key_file, *access_log;
    int access_format;           /* UW_ACCESS_* */
    const char *listen[MAX_LISTEN];  /* --listen, as given */
    const char *laddr[MAX_LISTEN];   /* the plain listeners: address (or unix:PATH, fd:N) */
    uint16_t lport[MAX_LISTEN];
    size_t nlisten;
    unsigned workers;
    bool http1, http2, h2c;      /* --http (ALPN), --h2c */
    uw_acme_config acme;         /* certificates from an ACME server (--acme-*) */
    uw_cidr trust[MAX_TRUST];    /* --trust-proxy */
    bool proxy_protocol;         /* --proxy-protocol */
} main_opts;

/* Parses the command line into o: 0 to serve, 1 when --help was shown,
 * -1 for a bad command line (a line on stderr says why). */
static int parse_options(int argc, char **argv, const char *name, main_opts *o)
{
    uw_http_config *cfg = &o->cfg;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        uint64_t v;
        int k;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) { usage(stdout, name); return 1; }
        if (strcmp(a, "--version") == 0) { printf("%s (uweb %s)\n", name, UW_VERSION); return 1; }
        if (strncmp(a, "--addr=", 7) == 0) { cfg->addr = a + 7; o->addr_given = true; continue; }
        if (strncmp(a, "--tls-cert=", 11) == 0 || strncmp(a, "--tls-key=", 10) == 0) {
            bool cert = a[6] == 'c';
            size_t *n = cert ? &o->ncert : &o->nkey;
            if (*n == MAX_CERTS) { fprintf(stderr, "uweb: at most %d certificates\n", MAX_CERTS); return -1; }
            (cert ? o->cert : o->key)[(*n)++] = strchr(a, '=') + 1;
            continue;
        }
        if (strncmp(a, "--block:", 8) == 0) { if (block_option(name, a) < 0) return -1; continue; }
        if (strncmp(a, "--cookie-key-file=", 18) == 0) { o->cookie_key_file = a + 18; continue; }
        if (strncmp(a, "--trust-proxy=", 14) == 0) {
            if (cfg->ntrust_proxy == MAX_TRUST || uw_cidr_parse(a + 14, &o->trust[cfg->ntrust_proxy]) != UW_OK) {
                fprintf(stderr, "%s: --trust-proxy=%s: an address or ADDR/PREFIX (IPv4 or IPv6; at most %d)\n", name, a + 14, MAX_TRUST);
                return -1;
            }
            cfg->trust_proxy = o->trust, cfg->ntrust_proxy++;
            continue;
        }
        if (strcmp(a, "--proxy-protocol") == 0) { o->proxy_protocol = true; continue; }
        if (strncmp(a, "--access-log=", 13) == 0) { o->access_log = a + 13; continue; }
        if (strncmp(a, "--listen=", 9) == 0) {
            if (o->nlisten == MAX_LISTEN) { fprintf(stderr, "%s: at most %d --listen\n", name, MAX_LISTEN); return -1; }
            o->listen[o->nlisten++] = a + 9;
            continue;
        }
        if (strcmp(a, "--workers=auto") == 0) { o->workers = uw__cpu_count(); continue; }
        if (strncmp(a, "--access-log-format=", 20) == 0) {
            const char *f = a + 20;
            o->access_format = !strcmp(f, "common") ? UW_ACCESS_COMMON : !strcmp(f, "combined") ? UW_ACCESS_COMBINED
                             : !strcmp(f, "json") ? UW_ACCESS_JSON : -1;
            if (o->access_format < 0) { fprintf(stderr, "%s: --access-log-format is common, combined or json\n", name); return -1; }
            continue;
        }
        if (strcmp(a, "--tls-modern") == 0) { o->tls_modern = true; continue; }
        if (strcmp(a, "--redirect-http") == 0) { o->redirect_http = true; continue; }
        if (strcmp(a, "--h2c") == 0) { o->h2c = true; continue; }
        if (strncmp(a, "--http=", 7) == 0) {
            const char *v = a + 7;
            o->http1 = strcmp(v, "1") == 0 || strcmp(v, "both") == 0;
            o->http2 = strcmp(v, "2") == 0 || strcmp(v, "both") == 0;
            if (!o->http1 && !o->http2) { fprintf(stderr, "uweb: --http must be 1, 2 or both\n"); return -1; }
            continue;
        }
        if ((k = opt_num(a, "--port", &v)) != 0) {
            if (k < 0) return -1;
            if (v > 65535) { fprintf(stderr, "uweb: --port must be at most 65535\n"); return -1; }
            cfg->port = (uint16_t)v;
        } else if ((k = opt_num(a, "--tls-port", &v)) != 0) {
            if (k < 0) return -1;
            if (v == 0 || v > 65535) { fprintf(stderr, "uweb: --tls-port must be 1..65535\n"); return -1; }
            o->tls_port = (uint16_t)v;
        } else if ((k = opt_num(a, "--workers", &v)) != 0) {
            if (k > 0 && (v < 1 || v > UW_MAX_WORKERS)) { fprintf(stderr, "%s: --workers is 1..%d or auto\n", name, UW_MAX_WORKERS); return -1; }
            o->workers = (unsigned)v;
        } else if ((k = opt_num(a, "--hsts", &v)) != 0) {
            o->hsts = v;
        } else if ((k = opt_num(a, "--max-connections", &v)) != 0) {
            cfg->max_connections = v ? v : 1;
        } else if ((k = opt_num(a, "--max-body", &v)) != 0) {
            cfg->max_body = v;
        } else if ((k = opt_num(a, "--max-head", &v)) != 0) {
            cfg->max_head_bytes = v < 256 ? 256 : v;
        } else if ((k = opt_num(a, "--max-headers", &v)) != 0) {
            cfg->max_headers = v ? v : 1;
        } else if ((k = opt_num(a, "--handshake-timeout", &v)) != 0) {
            cfg->handshake_timeout = UW_SEC((int64_t)(v ? v : 1));
        } else if ((k = opt_num(a, "--header-timeout", &v)) != 0) {
            cfg->header_timeout = UW_SEC((int64_t)v);
        } else if ((k = opt_num(a, "--idle-timeout", &v)) != 0) {
            cfg->idle_timeout = UW_SEC((int64_t)v);
        } else if ((k = opt_num(a, "--shutdown-grace", &v)) != 0) {
            cfg->shutdown_grace = UW_SEC((int64_t)v);
        } else if ((k = opt_num(a, "--h2-max-streams", &v)) != 0) {
            cfg->h2_max_streams = v ? v : 1;
        } else if ((k = opt_num(a, "--h2-header-list", &v)) != 0) {
            cfg->h2_header_list = v < 256 ? 256 : v;
        } else if ((k = opt_num(a, "--h2-hpack-table", &v)) != 0) {
            cfg->h2_hpack_table = v;
        } else if ((k = opt_num(a, "--h2-stream-window", &v)) != 0) {
            cfg->h2_stream_window = v < 65535 ? 65535 : v > 0x7fffffff ? 0x7fffffff : v;
        } else if ((k = opt_num(a, "--h2-conn-window", &v)) != 0) {
            cfg->h2_conn_window = v < 65535 ? 65535 : v > 0x7fffffff ? 0x7fffffff : v;
        } else if ((k = opt_num(a, "--memory-budget", &v)) != 0) {
            cfg->memory_budget = v;
        } else if ((k = uw_acme_option(&o->acme, a)) != 0) {
            /* an --acme-* option (k < 0: a bad value) */
        } else if (strcmp(a, "--quiet") == 0) {
            cfg->log_level = UW_LOG_ERROR;
            k = 1;
        } else if (strncmp(a, "--log-level=", 12) == 0) {
            static const char *const levels[] = { "error", "warn", "info", "debug" };
            k = -1;
            for (int l = UW_LOG_ERROR; l <= UW_LOG_DEBUG; l++)
                if (strcmp(a + 12, levels[l]) == 0) {
                    cfg->log_level = l;
                    k = 1;
                }
            if (k < 0) fprintf(stderr, "%s: --log-level is error, warn, info or debug\n", name);
        } else if ((k = uw_net_option(a)) == 0) {
            fprintf(stderr, "%s: unknown option %s (see --help)\n", name, a);
            return -1;
        }
        if (k < 0) return -1;
    }
    if (o->proxy_protocol && !cfg->ntrust_proxy) {
        fprintf(stderr, "%s: --proxy-protocol needs --trust-proxy=CIDR (the proxies that may send it)\n", name);
        return -1;
    }
    if (!o->addr_given) cfg->addr = uw_net_default_addr();
    if (!o->ncert && !o->nkey && block_attached(TLS_BLOCK + 6)) {
        /* No --tls-cert: the block device "tls" holds chain and key. */
        o->cert[0] = o->key[0] = TLS_BLOCK;
        o->ncert = o->nkey = 1;
    }
    if (o->ncert != o->nkey) {
        fprintf(stderr, "%s: every --tls-cert needs its --tls-key (%zu certificates, %zu keys)\n", name, o->ncert, o->nkey);
        return -1;
    }
    if (uw_acme_config_check(&o->acme, name) != UW_OK) return -1;
    if (!o->ncert && !o->acme.directory && (o->redirect_http || o->hsts || o->tls_modern)) {
        fprintf(stderr, "%s: --redirect-http, --hsts and --tls-modern need --tls-cert and --tls-key (or --acme-directory)\n", name);
        return -1;
    }
    if (!o->tls_port) o->tls_port = uw__default_tls_port();
    return 0;
}

/* HTTPS of uw_main: the configuration, its certificate slots, and the
 * files they were read from (SIGHUP reads them again). */
typedef struct tls_service {
    const main_opts *o;
    const char *name;
    uw_tls_config *cfg;
    int slot[MAX_CERTS];
} tls_service;

/* Reads certificate i and adds it (slot < 0) or replaces its slot. */
static int load_cert(tls_service *ts, size_t i)
{
    char err[256] = "";
    size_t cl = 0, kl = 0;
    char *chain = read_source(ts->o->cert[i], &cl, err, sizeof err);
    char *key = chain ? read_source(ts->o->key[i], &kl, err, sizeof err) : NULL;
    int r = UW_TLS_EINVAL;
    if (key) {
        if (ts->slot[i] < 0) {
            r = uw_tls_add_cert(ts->cfg, UW_TLS_CERT_DEFAULT, chain, cl, key, kl, err, sizeof err);
            if (r >= 0) ts->slot[i] = r;
        } else {
            r = uw_tls_set_cert(ts->cfg, ts->slot[i], chain, cl, key, kl, err, sizeof err);
        }
    }
    free(chain);
    free(key);
    if (r < 0)
        fprintf(stderr, "%s: certificate %s / %s: %s\n", ts->name, ts->o->cert[i], ts->o->key[i], *err ? err : uw_tls_strerror(r));
    return r < 0 ? r : UW_OK;
}

static void reload_certs(void *arg)
{
    tls_service *ts = arg;
    size_t ok = 0;
    for (size_t i = 0; i < ts->o->ncert; i++) ok += load_cert(ts, i) == UW_OK;
    if (ts->o->cfg.log && ts->o->cfg.log_level >= UW_LOG_INFO)
        fprintf(ts->o->cfg.log, "%s: SIGHUP: %zu of %zu certificate(s) read again\n", ts->name, ok, ts->o->ncert);
}

/* The plain listener of --redirect-http: 308 to the same path and query
 * over https, on the host the client named. */
typedef struct redirect { const char *addr; uint16_t tls_port; } redirect;
static void redirect_https(uw_req *req, uw_res *res, void *arg)
{
    const redirect *rd = arg;
    const char *host = uw_req_header(req, "Host");
    size_t hl;
    if (!host || !*host) host = rd->addr;
    if (host[0] == '[') {                    /* IPv6 literal: up to its ']' */
        const char *e = strchr(host, ']');
        hl = e ? (size_t)(e - host) + 1 : strlen(host);
    } else {
        const char *c = strchr(host, ':');
        hl = c ? (size_t)(c - host) : strlen(host);
    }
    const char *q = uw_req_query_string(req);
    char port[8] = "";
    if (rd->tls_port != 443) snprintf(port, sizeof port, ":%u", (unsigned)rd->tls_port);
    const char *loc = uw_arena_printf(uw_req_arena(req), "https://%.*s%s%s%s%s", (int)hl, host, port,
                                      uw_req_path(req), *q ? "?" : "", q);
    if (loc && !strpbrk(loc, "\r\n")) uw_res_header(res, "Location", loc);
    uw_res_error(res, 308, NULL);
}

/* The HTTPS listener's dispatch with --hsts: the field, then the app. */
typedef struct hsts_app { const uw_app *app; uint64_t max_age; } hsts_app;
static void hsts_dispatch(uw_req *req, uw_res *res, void *arg)
{
    const hsts_app *h = arg;
    uw_res_headerf(res, "Strict-Transport-Security", "max-age=%llu", (unsigned long long)h->max_age);
    uw_app_dispatch(req, res, (void *)h->app);
}

/* The plain listeners of --listen (or --addr and --port) into
 * o->laddr/lport; with workers, a port 0 chosen now and unix sockets made
 * now for all of them.  0, or -1 after a line on stderr. */
static int plan_listeners(main_opts *o, const char *name)
{
    static char bufs[MAX_LISTEN][128];
    if (!o->nlisten) {
        o->laddr[0] = o->cfg.addr, o->lport[0] = o->cfg.port;
        o->nlisten = 0;
    }
    size_t n = o->nlisten ? o->nlisten : 1;
    for (size_t i = 0; i < o->nlisten; i++) {
        const char *w = o->listen[i], *colon = strrchr(w, ':');
        if (strncmp(w, "unix:", 5) == 0 && w[5]) {
            o->laddr[i] = w, o->lport[i] = 0;
            continue;
        }
        const char *num = colon ? colon + 1 : w;
        char *end;
        unsigned long p = strtoul(num, &end, 10);
        size_t hl = colon ? (size_t)(colon - w) : 0;
        bool v6 = hl && w[0] == '[' && w[hl - 1] == ']';
        if (!*num || *end || p > 65535 || hl >= sizeof bufs[i] || (colon && !hl) || (!v6 && hl && memchr(w, ':', hl))) {
            fprintf(stderr, "%s: --listen=%s: ADDR:PORT, [IPV6]:PORT, PORT or unix:PATH\n", name, w);
            return -1;
        }
        if (hl) {
            memcpy(bufs[i], w, hl);
            bufs[i][hl] = 0;
            o->laddr[i] = bufs[i];
        } else {
            o->laddr[i] = o->cfg.addr;
        }
        o->lport[i] = (uint16_t)p;
    }
    if (o->workers <= 1) return 0;
    for (size_t i = 0; i < n; i++) {
        if (strncmp(o->laddr[i], "unix:", 5) == 0) {
            int fd = uw__unix_listen(o->laddr[i] + 5);
            if (fd < 0) { fprintf(stderr, "%s: cannot listen on %s\n", name, o->laddr[i]); return -1; }
            snprintf(bufs[i], sizeof bufs[i], "fd:%d", fd);
            o->listen[i] = o->laddr[i];       /* kept for the log line and the unlink */
            o->laddr[i] = bufs[i];
        } else if (o->lport[i] == 0 && uw__reserve_port(o->laddr[i], &o->lport[i]) < 0) {
            fprintf(stderr, "%s: cannot choose a port on %s\n", name, o->laddr[i]);
            return -1;
        }
    }
    return 0;
}

/* The plain listeners: the first port (or 0 for a unix socket), or a
 * negative status after a line on stderr.  Lines "listening on" from the
 * first worker only. */
static int listen_plain(uw_http_server *srv, uw_http_listen *plain, const main_opts *o, const char *name, bool say)
{
    int first = -1;
    size_t n = o->nlisten ? o->nlisten : 1;
    for (size_t i = 0; i < n; i++) {
        plain->addr = o->laddr[i], plain->port = o->lport[i];
        int r = uw_http_server_listen(srv, plain);
        bool unix_socket = strncmp(o->laddr[i], "unix:", 5) == 0 || strncmp(o->laddr[i], "fd:", 3) == 0;
        const char *shown = o->nlisten && strncmp(o->laddr[i], "fd:", 3) == 0 ? o->listen[i] : o->laddr[i];
        if (r < 0) {
            fprintf(stderr, "%s: cannot serve on %s%s%.0u: %s\n", name, shown, unix_socket ? "" : ":",
                    unix_socket ? 0 : (unsigned)o->lport[i], uw_strerror(r));
            return r;
        }
        if (first < 0) first = r;
        if (!say) continue;
        if (unix_socket) printf("%s listening on %s\n", name, shown);
        else if (strchr(shown, ':') && shown[0] != '[') printf("%s listening on http://[%s]:%d/\n", name, shown, r);
        else printf("%s listening on http://%s:%d/\n", name, shown, r);
    }
    return first;
}

static void unlink_unix(const main_opts *o)
{
    for (size_t i = 0; i < o->nlisten; i++)
        if (strncmp(o->listen[i], "unix:", 5) == 0) uw__remove_socket(o->listen[i] + 5);
}

/* --cookie-key-file and --access-log: 0, or -1 after a line on stderr. */
static int web_options(const main_opts *o, const char *name, FILE **access)
{
    char err[256] = "";
    if (o->cookie_key_file && uw__cookie_key_load(o->cookie_key_file, err, sizeof err) != UW_OK) {
        fprintf(stderr, "%s: --cookie-key-file: %s\n", name, err);
        return -1;
    }
    if (o->access_log) {
        *access = strcmp(o->access_log, "-") == 0 ? stdout : fopen(o->access_log, "a");
        if (!*access) {
            fprintf(stderr, "%s: --access-log: cannot open %s\n", name, o->access_log);
            return -1;
        }
        uw__access_log_set(*access, o->access_format);
    }
    return 0;
}

int uw_main(int argc, char **argv, const uw_app *app)
{
    const char *name = app->name ? app->name : prog_name(argc > 0 ? argv[0] : "uweb");
    main_opts o = { 0 };
    o.http1 = true;
    o.http2 = uw__h2_server_available();
    uw_http_config_default(&o.cfg);
    o.cfg.port = uw__default_port();
    o.cfg.log = stderr;
    int k = parse_options(argc, argv, name, &o);
    if (k != 0) return k > 0 ? 0 : 2;
    if (uw_routes_check(app->routes, app->nroutes) != UW_OK) return 1;
    FILE *access = NULL;
    if (web_options(&o, name, &access) != 0) return 2;
    if (plan_listeners(&o, name) != 0) return o.workers > 1 ? 1 : 2;
    unsigned worker = 0;
    if (o.workers > 1) {
        /* one key for all the workers (a cookie one sets, another reads) */
        if (!o.cookie_key_file && uw__cookie_key_make() != UW_OK) {
            fprintf(stderr, "%s: cannot make a cookie key\n", name);
            return 1;
        }
        int wstatus = 1, w = uw__run_workers(o.workers, &worker, &wstatus);
        if (w != 0) {
            if (w < 0) fprintf(stderr, "%s: cannot start the workers\n", name);
            unlink_unix(&o);
            return w < 0 ? 1 : wstatus;
        }
        uw_net_set_reuseport(true);
    }

    int r = uw_rt_init();
    if (r != UW_OK) {
        fprintf(stderr, "%s: cannot start the runtime: %s\n", name, uw_strerror(r));
        return 1;
    }
    uw_rt_prepare_server();
    uw_http_server srv;
    service sv = { { &srv }, 1, NULL, NULL };
    tls_service ts = { &o, name, NULL, { 0 } };
    redirect rd = { o.cfg.addr, o.tls_port };
    hsts_app ha = { app, o.hsts };
    int status = 1;
    uw_acme *acme = NULL;
    if (o.ncert || o.acme.directory) {
        /* h2 first: a client offering both gets HTTP/2 */
        const char *alpn[3] = { NULL, NULL, NULL };
        size_t na = 0;
        if (o.http2 && uw__h2_server_available()) alpn[na++] = UW_TLS_ALPN_H2;
        if (o.http1 || !na) alpn[na++] = UW_TLS_ALPN_HTTP1;
        r = uw_tls_config_new(&ts.cfg, &(uw_tls_options){ .modern = o.tls_modern, .alpn = alpn });
        if (r != UW_TLS_OK) {
            fprintf(stderr, "%s: TLS: %s\n", name, uw_tls_strerror(r));
            uw_rt_fini();
            return 1;
        }
        for (size_t i = 0; i < o.ncert; i++) ts.slot[i] = -1;
        for (size_t i = 0; i < o.ncert && r == UW_OK; i++) r = load_cert(&ts, i);
        if (r != UW_OK) {
            uw_tls_config_free(ts.cfg);
            uw_rt_fini();
            return 1;
        }
        if (o.ncert) sv.reload = reload_certs, sv.reload_arg = &ts;   /* (ACME renews by itself) */
    }
    r = uw_http_server_init(&srv, &o.cfg, uw_app_dispatch, (void *)app);
    int port = 0, tls_port = 0;
    if (r == UW_OK) {
        uw_http_listen plain = { .addr = o.cfg.addr, .port = o.cfg.port, .h2c = o.h2c, .proxy_protocol = o.proxy_protocol };
        if (o.redirect_http) plain.dispatch = redirect_https, plain.arg = &rd;
        if (o.acme.directory) {
            /* HTTP-01 answers on the plain listener, everything else as before */
            o.acme.name = name, o.acme.log = o.cfg.log_level >= UW_LOG_INFO ? o.cfg.log : NULL;
            r = uw_acme_new(&acme, &o.acme, ts.cfg);
            if (acme) uw_acme_set_next(acme, plain.dispatch ? plain.dispatch : uw_app_dispatch,
                                       plain.dispatch ? plain.arg : (void *)app);
            plain.dispatch = uw_acme_dispatch, plain.arg = acme;
        }
        if (r == UW_OK) r = port = listen_plain(&srv, &plain, &o, name, worker == 0);
    }
    if (r >= 0 && ts.cfg) {
        uw_http_listen secure = { .addr = o.cfg.addr, .port = o.tls_port, .tls = ts.cfg, .proxy_protocol = o.proxy_protocol };
        if (o.hsts) secure.dispatch = hsts_dispatch, secure.arg = &ha;
        r = tls_port = uw_http_server_listen(&srv, &secure);
        if (r < 0) fprintf(stderr, "%s: cannot serve HTTPS on %s:%u: %s\n", name, o.cfg.addr, (unsigned)o.tls_port, uw_strerror(r));
        rd.tls_port = (uint16_t)tls_port;
    }
    if (r >= 0) {
        (void)port;
        if (tls_port && worker == 0)
            printf(strchr(o.cfg.addr, ':') && o.cfg.addr[0] != '[' ? "%s listening on https://[%s]:%d/\n"
                                           : "%s listening on https://%s:%d/\n", name, o.cfg.addr, tls_port);
        fflush(stdout);
        r = acme ? uw_acme_start(acme) : UW_OK;
        if (r == UW_OK) r = run_service(&sv);
        if (r == UW_OK) status = 0;
        else fprintf(stderr, "%s: cannot serve: %s\n", name, uw_strerror(r));
    }
    uw_http_server_fini(&srv);
    uw_rt_fini();
    uw_acme_free(acme);
    if (ts.cfg) uw_tls_config_free(ts.cfg);
    uw__access_log_set(NULL, 0);
    if (access && access != stdout) fclose(access);
    if (o.workers <= 1) unlink_unix(&o);
    return status;
}

/* ------------------------------------------------------------ basic auth */

const char UW_AUTH_USER[] = "uweb.auth.user";

/* Decodes standard base64 (with padding) into out; -1 when malformed. */
static ssize_t b64decode(const char *s, char *out, size_t cap)
{
    size_t n = strlen(s), o = 0;
    if (n % 4) return -1;
    for (size_t i = 0; i < n; i += 4) {
        int v[4];
        for (int k = 0; k < 4; k++) {
            v[k] = s[i + k] == '=' ? 0 : uw__b64val((unsigned char)s[i + k]);
            if (v[k] < 0) return -1;
            if (s[i + k] == '=' && (i + 4 != n || k < 2)) return -1;
        }
        uint32_t x = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
        int bytes = s[i + 2] == '=' ? 1 : s[i + 3] == '=' ? 2 : 3;
        if (o + (size_t)bytes > cap) return -1;
        out[o++] = (char)(x >> 16);
        if (bytes > 1) out[o++] = (char)(x >> 8);
        if (bytes > 2) out[o++] = (char)x;
    }
    return (ssize_t)o;
}

static bool same(const char *a, size_t an, const char *b)
{
    size_t bn = strlen(b);
    unsigned diff = an != bn;
    for (size_t i = 0; i < an; i++) diff |= (unsigned char)a[i] ^ (unsigned char)(i < bn ? b[i] : 0);
    return diff == 0;
}

int uw_mw_basic_auth(uw_req *req, uw_res *res, void *arg)
{
    const uw_basic_auth *cfg = arg;
    if (cfg->prefix && strncmp(uw_req_path(req), cfg->prefix, strlen(cfg->prefix)) != 0) return UW_NEXT;
    const char *h = uw_req_header(req, "Authorization");
    if (h && strncasecmp(h, "Basic ", 6) == 0) {
        char buf[512];
        ssize_t n = b64decode(h + 6, buf, sizeof buf - 1);
        if (n > 0) {
            buf[n] = 0;
            char *colon = memchr(buf, ':', (size_t)n);
            if (colon) {
                size_t ul = (size_t)(colon - buf);
                bool ok = same(buf, ul, cfg->user) & same(colon + 1, (size_t)n - ul - 1, cfg->password);
                if (ok) {
                    uw_req_set_value(req, UW_AUTH_USER, uw_arena_strndup(uw_req_arena(req), buf, ul));
                    return UW_NEXT;
                }
            }
        }
    }
    uw_res_headerf(res, "WWW-Authenticate", "Basic realm=\"%s\", charset=\"UTF-8\"", cfg->realm ? cfg->realm : "uweb");
    uw_res_error(res, 401, "authentication required");
    return UW_DONE;
}
