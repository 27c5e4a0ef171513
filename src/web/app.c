/*
 * Apps: the dispatch from the HTTP server to middlewares and routes, the
 * common command line of every app, and the Basic auth middleware.
 */
#include "../http/http_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int uw__req_parse_query(uw_req *req);

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
        return *req->query == 0;
    }
    if (uw__req_parse_query(req) != UW_OK) {
        *why = "malformed query string";
        return false;
    }
    for (size_t i = 0; i < req->nquery_pairs; i++) {
        const char *k = req->query_pairs[2 * i];
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
            *why = uw_arena_printf(req->arena, "unknown query parameter \"%s\"", k);
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

    unsigned allowed = 0;
    const char *redirect = NULL;
    int idx = uw_route_match(app, req->method, req->path, req->path_len, req->arena,
                             req->caps, &req->ncaps, &allowed, &redirect);
    if (idx == -404) {
        uw_res_error(res, 404, NULL);
        return;
    }
    if (idx == -405) {
        uw_res_header(res, "Allow", method_list(req->arena, allowed));
        uw_res_error(res, 405, NULL);
        return;
    }
    if (idx == -308) {
        const char *loc = *req->query ? uw_arena_printf(req->arena, "%s?%s", redirect, req->query) : redirect;
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
    if (r->max_body) req->max_body = r->max_body;
    if (uw__http_check_body_limit(req) != UW_OK) {
        req->body_error = req->body_limit_hit = true;
        uw_res_close(res);
        uw_res_error(res, 413, "request body larger than this route accepts");
        return;
    }
    req->route_arg = r->arg;
    r->handler(req, res);
}

int uw_app_serve(const uw_app *app, const uw_http_config *cfg,
                 void (*on_listen)(uint16_t port, void *arg), void *arg)
{
    if (uw_routes_check(app->routes, app->nroutes) != UW_OK) return UW_EINVAL;
    /* on_listen gets the app-level argument through a small trampoline. */
    (void)arg;
    return uw_http_serve(cfg, dispatch, (void *)app, on_listen);
}

int uw_app_serve_conn(const uw_app *app, const uw_http_config *cfg, struct uw_conn *c)
{
    return uw_http_serve_conn(cfg, dispatch, (void *)app, c);
}

/* ------------------------------------------------------------ uw_main */

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
"    --port=PORT             listen port (default 8080; 0 picks a free one)\n"
"%s"
"    --max-connections=N     connections open at once; more get 503 (default 16384)\n"
"    --max-body=BYTES        default request body limit (default 1048576)\n"
"    --max-head=BYTES        request line and headers limit (default 8192)\n"
"    --max-headers=N         header fields limit (default 64)\n"
"    --header-timeout=SEC    time to receive a request head (default 10)\n"
"    --idle-timeout=SEC      keep-alive idle time (default 30)\n"
"    --shutdown-grace=SEC    time in-flight requests get on SIGTERM (default 10)\n"
"    --memory-budget=BYTES   memory the request workers may hold at once; past it slow\n"
"                            request heads give theirs up, then 503 (default: none on\n"
"                            unix, 3/8 of the guest heap on unikernels)\n"
"    --quiet                 no log lines\n"
"    --help                  this text\n"
"\n"
"EXIT STATUS\n"
"    0 after a graceful shutdown (SIGINT or SIGTERM); 1 when the\n"
"    service cannot start; 2 for a bad command line.\n",
            name, name, uw_net_default_addr(), uw_net_options_help());
}

static bool opt_num(const char *arg, const char *name, uint64_t *out)
{
    size_t n = strlen(name);
    if (strncmp(arg, name, n) != 0 || arg[n] != '=') return false;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(arg + n + 1, &end, 10);
    if (errno || end == arg + n + 1 || *end || arg[n + 1] == '-') {
        fprintf(stderr, "uweb: %s needs a non-negative number\n", name);
        exit(2);
    }
    *out = v;
    return true;
}

static const char *started_name;
static const char *started_addr;

static void print_listening(uint16_t port, void *arg)
{
    (void)arg;
    printf("%s listening on http://%s:%u/\n", started_name, started_addr, (unsigned)port);
    fflush(stdout);
}

int uw_main(int argc, char **argv, const uw_app *app)
{
    uw_http_config cfg;
    uw_http_config_default(&cfg);
    cfg.log = stderr;
    const char *name = app->name ? app->name : prog_name(argc > 0 ? argv[0] : "uweb");
    bool addr_given = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        uint64_t v;
        int k;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) { usage(stdout, name); return 0; }
        else if (strncmp(a, "--addr=", 7) == 0) { cfg.addr = a + 7; addr_given = true; }
        else if (opt_num(a, "--port", &v)) {
            if (v > 65535) { fprintf(stderr, "uweb: --port must be at most 65535\n"); return 2; }
            cfg.port = (uint16_t)v;
        }
        else if (opt_num(a, "--max-connections", &v)) cfg.max_connections = v ? v : 1;
        else if (opt_num(a, "--max-body", &v)) cfg.max_body = v;
        else if (opt_num(a, "--max-head", &v)) cfg.max_head_bytes = v < 256 ? 256 : v;
        else if (opt_num(a, "--max-headers", &v)) cfg.max_headers = v ? v : 1;
        else if (opt_num(a, "--header-timeout", &v)) cfg.header_timeout = UW_SEC((int64_t)v);
        else if (opt_num(a, "--idle-timeout", &v)) cfg.idle_timeout = UW_SEC((int64_t)v);
        else if (opt_num(a, "--shutdown-grace", &v)) cfg.shutdown_grace = UW_SEC((int64_t)v);
        else if (opt_num(a, "--memory-budget", &v)) cfg.memory_budget = v;
        else if (strcmp(a, "--quiet") == 0) cfg.log = NULL;
        else if ((k = uw_net_option(a)) != 0) { if (k < 0) return 2; }
        else {
            fprintf(stderr, "%s: unknown option %s (see --help)\n", name, a);
            return 2;
        }
    }
    if (!addr_given) cfg.addr = uw_net_default_addr();
    started_name = name;
    started_addr = cfg.addr;
    int r = uw_app_serve(app, &cfg, print_listening, NULL);
    if (r != 0) {
        fprintf(stderr, "%s: cannot serve on %s:%u: %s\n", name, cfg.addr, (unsigned)cfg.port, uw_strerror(r));
        return 1;
    }
    return 0;
}

/* ------------------------------------------------------------ basic auth */

const char UW_AUTH_USER[] = "uweb.auth.user";

static int b64val(int c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

/* Decodes standard base64 (with padding) into out; -1 when malformed. */
static ssize_t b64decode(const char *s, char *out, size_t cap)
{
    size_t n = strlen(s), o = 0;
    if (n % 4) return -1;
    for (size_t i = 0; i < n; i += 4) {
        int v[4];
        for (int k = 0; k < 4; k++) {
            v[k] = s[i + k] == '=' ? 0 : b64val((unsigned char)s[i + k]);
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
    if (cfg->prefix && strncmp(req->path, cfg->prefix, strlen(cfg->prefix)) != 0) return UW_NEXT;
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
                    uw_req_set_value(req, UW_AUTH_USER, uw_arena_strndup(req->arena, buf, ul));
                    return UW_NEXT;
                }
            }
        }
    }
    uw_res_headerf(res, "WWW-Authenticate", "Basic realm=\"%s\", charset=\"UTF-8\"", cfg->realm ? cfg->realm : "uweb");
    uw_res_error(res, 401, "authentication required");
    return UW_DONE;
}
