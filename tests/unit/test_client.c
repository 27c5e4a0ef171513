/*
 * The HTTP client: its response parser at every split point, URLs, and
 * whole requests against uweb's own server and scripted raw servers in the
 * same process (keep-alive reuse, chunked both ways, a server closing
 * mid-body, slow servers and timeouts, redirects, caps, cancellation).
 */
#include "../check.h"

#include <uweb/client.h>
#include <uweb/io_unix.h>
#include <uweb/web.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* ------------------------------------------------------------ parser */

struct parsed {
    int status[4];
    size_t n;
    char body[4][256];
    size_t body_len[4];
    char ctype[64];
    bool keep_alive;
    int err;
};

/* Feeds text in pieces of at most step bytes (0: all at once), then EOF. */
static void parse_all(const char *text, size_t len, size_t step, bool head_request, struct parsed *out)
{
    static char head[4096];
    uw_client_parser p;
    uw_client_parser_init(&p, head, sizeof head, 4096, 32, head_request);
    memset(out, 0, sizeof *out);
    char buf[1024];
    size_t have = 0, fed = 0;
    for (;;) {
        size_t take = step ? step : len;
        if (take > len - fed) take = len - fed;
        if (take > sizeof buf - have) take = sizeof buf - have;
        memcpy(buf + have, text + fed, take);
        have += take;
        fed += take;
        size_t pos = 0;
        for (;;) {
            size_t used;
            int r = uw_client_parser_feed(&p, buf + pos, have - pos, &used);
            pos += used;
            if (r != UW_OK) { out->err = r; return; }
            if (p.event == UW_CP_NONE) break;
            if (p.event == UW_CP_HEAD) {
                out->status[out->n] = p.status;
                const char *ct = uw_client_parser_header(&p, "content-type");
                if (ct && out->n == 0) snprintf(out->ctype, sizeof out->ctype, "%s", ct);
            } else if (p.event == UW_CP_BODY) {
                memcpy(out->body[out->n] + out->body_len[out->n], p.body, p.body_len);
                out->body_len[out->n] += p.body_len;
            } else if (p.event == UW_CP_DONE) {
                out->keep_alive = p.keep_alive;
                out->n++;
                uw_client_parser_next(&p, head_request);
            }
        }
        memmove(buf, buf + pos, have - pos);
        have -= pos;
        if (fed == len && take == 0) break;
        if (fed == len && have == 0) break;
    }
    int r = uw_client_parser_eof(&p);
    if (r == UW_OK && p.event == UW_CP_DONE) { out->keep_alive = false; out->n++; }
    else if (r != UW_ECLOSED || p.started) out->err = out->err ? out->err : r;
}

static const char RESP_CL[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello";
static const char RESP_CHUNKED[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: a/b\r\n\r\n"
                                   "3\r\nabc\r\n4;ext=1\r\ndefg\r\n0\r\nTrailer: x\r\n\r\n";
static const char RESP_CLOSE[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end";
static const char RESP_1XX[] = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
                               "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok";
static const char RESP_TWO[] = "HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n\r\nnot";
static const char RESP_HEAD[] = "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n";

static void test_parser_every_split(void)
{
    struct parsed a;
    for (size_t step = 0; step <= 40; step++) {
        parse_all(RESP_CL, sizeof RESP_CL - 1, step, false, &a);
        CHECK_EQ_INT(a.err, 0);
        CHECK_EQ_INT(a.n, 1);
        CHECK_EQ_INT(a.status[0], 200);
        CHECK_EQ_MEM(a.body[0], a.body_len[0], "hello", 5);
        CHECK_EQ_STR(a.ctype, "text/plain");

        parse_all(RESP_CHUNKED, sizeof RESP_CHUNKED - 1, step, false, &a);
        CHECK_EQ_INT(a.err, 0);
        CHECK_EQ_INT(a.n, 1);
        CHECK_EQ_MEM(a.body[0], a.body_len[0], "abcdefg", 7);
        CHECK_EQ_STR(a.ctype, "a/b");

        parse_all(RESP_CLOSE, sizeof RESP_CLOSE - 1, step, false, &a);
        CHECK_EQ_INT(a.err, 0);
        CHECK_EQ_INT(a.n, 1);
        CHECK_EQ_MEM(a.body[0], a.body_len[0], "until the end", 13);

        parse_all(RESP_1XX, sizeof RESP_1XX - 1, step, false, &a);
        CHECK_EQ_INT(a.err, 0);
        CHECK_EQ_INT(a.n, 1);
        CHECK_EQ_INT(a.status[0], 201);
        CHECK_EQ_MEM(a.body[0], a.body_len[0], "ok", 2);

        parse_all(RESP_TWO, sizeof RESP_TWO - 1, step, false, &a);
        CHECK_EQ_INT(a.err, 0);
        CHECK_EQ_INT(a.n, 2);
        CHECK_EQ_INT(a.status[0], 204);
        CHECK_EQ_INT(a.status[1], 404);
        CHECK_EQ_MEM(a.body[1], a.body_len[1], "not", 3);

        parse_all(RESP_HEAD, sizeof RESP_HEAD - 1, step, true, &a);
        CHECK_EQ_INT(a.err, 0);
        CHECK_EQ_INT(a.n, 1);
        CHECK_EQ_INT(a.body_len[0], 0);
    }
}

static void test_parser_truncated_and_bad(void)
{
    struct parsed a;
    /* Every cut of a Content-Length or chunked answer is "closed early". */
    for (size_t cut = 1; cut < sizeof RESP_CL - 1; cut++) {
        parse_all(RESP_CL, cut, 0, false, &a);
        CHECK_EQ_INT(a.n, 0);
        CHECK(a.err == UW_ECLOSED || a.err == 0);
    }
    for (size_t cut = 1; cut < sizeof RESP_CHUNKED - 1; cut++) {
        parse_all(RESP_CHUNKED, cut, 0, false, &a);
        CHECK_EQ_INT(a.n, 0);
    }
    parse_all("HTTP/1.1 abc\r\n\r\n", 16, 0, false, &a);
    CHECK_EQ_INT(a.err, UW_EPROTO);
    parse_all("HTTP/1.1 2 short\r\n\r\n", 20, 0, false, &a);       /* found by fuzz_response */
    CHECK_EQ_INT(a.err, UW_EPROTO);
    parse_all("SMTP ready\r\n", 12, 0, false, &a);
    CHECK_EQ_INT(a.err, UW_EPROTO);
    parse_all("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", 60, 0, false, &a);
    CHECK_EQ_INT(a.err, UW_EPROTO);

    /* Limits: header count and head bytes. */
    char big[8192];
    size_t k = (size_t)snprintf(big, sizeof big, "HTTP/1.1 200 OK\r\n");
    for (int i = 0; i < 40; i++) k += (size_t)snprintf(big + k, sizeof big - k, "X-%d: v\r\n", i);
    k += (size_t)snprintf(big + k, sizeof big - k, "\r\n");
    parse_all(big, k, 0, false, &a);
    CHECK_EQ_INT(a.err, UW_ELIMIT);
    k = (size_t)snprintf(big, sizeof big, "HTTP/1.1 200 OK\r\nX: ");
    memset(big + k, 'a', 5000);
    memcpy(big + k + 5000, "\r\n\r\n", 4);
    parse_all(big, k + 5004, 0, false, &a);
    CHECK_EQ_INT(a.err, UW_ELIMIT);
}

static void test_url(void)
{
    uw_client_url u;
    CHECK_EQ_INT(uw_client_url_parse(&u, "http://example.com/a/b?c=d#frag"), UW_OK);
    CHECK_EQ_STR(u.host, "example.com");
    CHECK_EQ_INT(u.port, 80);
    CHECK_EQ_STR(u.target, "/a/b?c=d");
    CHECK(!u.tls);
    CHECK_EQ_INT(uw_client_url_parse(&u, "HTTPS://h:8443"), UW_OK);
    CHECK(u.tls);
    CHECK_EQ_INT(u.port, 8443);
    CHECK_EQ_STR(u.target, "/");
    CHECK_EQ_INT(uw_client_url_parse(&u, "http://[::1]:81/x"), UW_OK);
    CHECK_EQ_STR(u.host, "::1");
    CHECK_EQ_INT(u.port, 81);
    CHECK_EQ_INT(uw_client_url_parse(&u, "http://1.2.3.4?q"), UW_OK);
    CHECK_EQ_STR(u.target, "/?q");
    const char *bad[] = { "ftp://h/", "http://", "http:///x", "http://h:0/", "http://h:65536/",
                          "http://h:x/", "http://u@h/", "http://[::1/", "http://h/a b", "//h/", "http://[zz]/" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_EQ_INT(uw_client_url_parse(&u, bad[i]), UW_CLIENT_EURL);
}

/* ------------------------------------------------------------ uweb's server in process */

static void hello(uw_req *req, uw_res *res) { (void)req; uw_res_text(res, 200, "Hello World!\n"); }

static void lines(uw_req *req, uw_res *res)
{
    int64_t n = 0;
    uw_req_param_int(req, "n", &n);
    uw_res_begin(res);
    for (int64_t i = 0; i < n; i++) {
        char l[32];
        int k = snprintf(l, sizeof l, "line %lld\n", (long long)i);
        uw_res_write(res, l, (size_t)k);
    }
    uw_res_end(res);
}

static void length(uw_req *req, uw_res *res)
{
    const void *d;
    ssize_t n;
    uint64_t total = 0, sum = 0;
    while ((n = uw_req_read_chunk(req, &d)) > 0) {
        for (ssize_t i = 0; i < n; i++) sum += ((const unsigned char *)d)[i];
        total += (uint64_t)n;
    }
    if (n < 0) return;
    uw_res_textf(res, 200, "%llu %llu %s\n", (unsigned long long)total, (unsigned long long)sum,
                 uw_req_content_length(req) < 0 ? "chunked" : "length");
}

static void nap(uw_req *req, uw_res *res)
{
    int64_t ms = 0;
    uw_req_param_int(req, "ms", &ms);
    uw_sleep(UW_MS(ms));
    uw_res_text(res, 200, "awake\n");
}

static void hop(uw_req *req, uw_res *res)
{
    int64_t n = 0;
    uw_req_param_int(req, "n", &n);
    if (n <= 0) { uw_res_textf(res, 200, "%s arrived\n", uw_req_method_name(req)); return; }
    uw_res_headerf(res, "Location", n % 2 ? "/hop/%lld" : "%lld", (long long)(n - 1));
    uw_res_text(res, n % 2 ? 307 : 302, "moved\n");
}

static const uw_route routes[] = {
    { UW_GET, "/", hello },
    { UW_GET, "/lines/<int:n>", lines },
    { UW_POST | UW_PUT, "/length", length, .max_body = UW_BODY_UNLIMITED },
    { UW_GET, "/nap/<int:ms>", nap },
    { UW_GET | UW_POST, "/hop/<int:n>", hop },
};
static const uw_app app = { UW_ROUTES(routes) };
static uw_http_config server_cfg;
static uw_listener *listener;
static char base[64];

static void conn_task(void *arg) { uw_app_serve_conn(&app, &server_cfg, arg); }

static void server_task(void *arg)
{
    (void)arg;
    uw_conn *c;
    while (uw_tcp_accept(listener, &c, UW_FOREVER) == UW_OK) {
        uw_task *t = uw_spawn(conn_task, c, 0);
        if (t) uw_detach(t);
        else uw_conn_close(c, true);
    }
}

static int get(uw_client *cl, const char *path, int *status, char **body, size_t *len)
{
    char url[128];
    snprintf(url, sizeof url, "%s%s", base, path);
    return uw_client_fetch(cl, &(uw_client_req){ .url = url }, status, body, len, 1 << 20);
}

static void test_keep_alive_reuse(void)
{
    uw_client *cl;
    CHECK_EQ_INT(uw_client_new(&cl, NULL), UW_OK);
    for (int i = 0; i < 10; i++) {
        int st = 0;
        char *b = NULL;
        size_t n = 0;
        CHECK_EQ_INT(get(cl, "/", &st, &b, &n), UW_OK);
        CHECK_EQ_INT(st, 200);
        CHECK_EQ_STR(b, "Hello World!\n");
        free(b);
    }
    uw_client_stats s = uw_client_get_stats(cl);
    CHECK_EQ_INT(s.connections, 1);
    CHECK_EQ_INT(s.reused, 9);
    CHECK_EQ_INT(s.idle, 1);
    uw_client_free(cl);
}

static void test_chunked_response_streamed(void)
{
    uw_client *cl;
    uw_client_new(&cl, NULL);
    char url[128];
    snprintf(url, sizeof url, "%s/lines/20000", base);
    uw_client_res *res;
    CHECK_EQ_INT(uw_client_open(cl, &(uw_client_req){ .url = url }, &res), UW_OK);
    if (!res) { uw_client_free(cl); return; }
    CHECK_EQ_INT(uw_client_res_status(res), 200);
    CHECK_EQ_INT(uw_client_res_content_length(res), -1);
    CHECK_EQ_STR(uw_client_res_header(res, "transfer-encoding"), "chunked");
    char buf[7], expect[32];
    size_t total = 0, line = 0, lpos = 0;
    ssize_t n;
    bool same = true;
    snprintf(expect, sizeof expect, "line 0\n");
    while ((n = uw_client_res_read(res, buf, sizeof buf)) > 0) {     /* small reads on purpose */
        for (ssize_t i = 0; i < n; i++) {
            if (buf[i] != expect[lpos]) same = false;
            if (buf[i] == '\n') snprintf(expect, sizeof expect, "line %zu\n", ++line), lpos = 0;
            else lpos++;
        }
        total += (size_t)n;
    }
    CHECK_EQ_INT(n, 0);
    CHECK(same);
    CHECK_EQ_INT(line, 20000);
    uw_client_res_close(res);
    CHECK_EQ_INT(uw_client_get_stats(cl).idle, 1);
    uw_client_free(cl);
}

struct gen { size_t left, chunk; uint64_t sum; };
static ssize_t gen_body(void *arg, void *buf, size_t n)
{
    struct gen *g = arg;
    size_t k = g->left < n ? g->left : n;
    if (k > g->chunk) k = g->chunk;
    for (size_t i = 0; i < k; i++) {
        ((unsigned char *)buf)[i] = (unsigned char)(g->left - i);
        g->sum += (unsigned char)(g->left - i);
    }
    g->left -= k;
    uw_yield();
    return (ssize_t)k;
}

static void test_request_bodies(void)
{
    uw_client *cl;
    uw_client_new(&cl, NULL);
    char url[128], *b = NULL, want[64];
    size_t n;
    int st = 0;
    snprintf(url, sizeof url, "%s/length", base);
    CHECK_EQ_INT(uw_client_fetch(cl, &(uw_client_req){ .method = "POST", .url = url, .body = "abc", .body_len = 3 },
                                 &st, &b, &n, 1024), UW_OK);
    CHECK_EQ_STR(b, "3 294 length\n");
    free(b);
    /* Chunked: a stream of unknown length. */
    struct gen g = { 300000, 7000, 0 };
    CHECK_EQ_INT(uw_client_fetch(cl, &(uw_client_req){ .method = "PUT", .url = url, .body_fn = gen_body,
                                                       .body_arg = &g, .body_length = -1 }, &st, &b, &n, 1024), UW_OK);
    snprintf(want, sizeof want, "300000 %llu chunked\n", (unsigned long long)g.sum);
    CHECK_EQ_STR(b, want);
    free(b);
    /* A stream of known length. */
    g = (struct gen){ 100000, 100000, 0 };
    CHECK_EQ_INT(uw_client_fetch(cl, &(uw_client_req){ .method = "POST", .url = url, .body_fn = gen_body,
                                                       .body_arg = &g, .body_length = 100000 }, &st, &b, &n, 1024), UW_OK);
    snprintf(want, sizeof want, "100000 %llu length\n", (unsigned long long)g.sum);
    CHECK_EQ_STR(b, want);
    free(b);
    CHECK_EQ_INT(uw_client_get_stats(cl).connections, 1);
    uw_client_free(cl);
}

static void test_redirects(void)
{
    uw_client_config cfg;
    uw_client_config_default(&cfg);
    uw_client *cl;
    uw_client_new(&cl, &cfg);
    int st = 0;
    char *b = NULL;
    size_t n;
    CHECK_EQ_INT(get(cl, "/hop/4", &st, &b, &n), UW_OK);       /* off by default: the 302 is the answer */
    CHECK_EQ_INT(st, 302);
    free(b);
    uw_client_free(cl);
    cfg.max_redirects = 4;
    uw_client_new(&cl, &cfg);
    CHECK_EQ_INT(get(cl, "/hop/4", &st, &b, &n), UW_OK);       /* relative and absolute Locations */
    CHECK_EQ_INT(st, 200);
    CHECK_EQ_STR(b, "GET arrived\n");
    free(b);
    char url[128];
    snprintf(url, sizeof url, "%s/hop/1", base);                /* 307 keeps the method and body */
    CHECK_EQ_INT(uw_client_fetch(cl, &(uw_client_req){ .method = "POST", .url = url, .body = "x", .body_len = 1 },
                                 &st, &b, &n, 1024), UW_OK);
    CHECK_EQ_STR(b, "POST arrived\n");
    free(b);
    b = NULL;
    CHECK_EQ_INT(get(cl, "/hop/5", &st, &b, &n), UW_CLIENT_EREDIRECT);
    CHECK(b == NULL);
    uw_client_free(cl);
}

static void test_caps_and_errors(void)
{
    uw_client_config cfg;
    uw_client_config_default(&cfg);
    cfg.max_body = 1000;
    uw_client *cl;
    uw_client_new(&cl, &cfg);
    int st = 0;
    char *b = NULL;
    size_t n;
    CHECK_EQ_INT(get(cl, "/lines/1000", &st, &b, &n), UW_ELIMIT);
    CHECK_EQ_INT(uw_client_get_stats(cl).idle, 0);              /* a broken answer never goes back */
    char url[128];
    snprintf(url, sizeof url, "%s/lines/1000", base);
    uw_client_res *res;
    CHECK_EQ_INT(uw_client_open(cl, &(uw_client_req){ .url = url, .method = "HEAD" }, &res), UW_OK);
    if (res) {
        CHECK_EQ_INT(uw_client_res_status(res), 200);
        char c;
        CHECK_EQ_INT(uw_client_res_read(res, &c, 1), 0);
        uw_client_res_close(res);
    }
    CHECK_EQ_INT(get(cl, "/missing", &st, &b, &n), UW_OK);
    CHECK_EQ_INT(st, 404);
    free(b);
    CHECK_EQ_INT(uw_client_fetch(cl, &(uw_client_req){ .url = "http://127.0.0.1:1/" }, &st, &b, &n, 10),
                 UW_CLIENT_ECONNECT);
    CHECK_EQ_INT(uw_client_fetch(cl, &(uw_client_req){ .url = "https://127.0.0.1:1/" }, &st, &b, &n, 10),
                 UW_CLIENT_ECONNECT);
    CHECK_EQ_INT(uw_client_fetch(cl, &(uw_client_req){ .url = "gopher://x/" }, &st, &b, &n, 10), UW_CLIENT_EURL);
    CHECK_EQ_INT(uw_client_fetch(cl, &(uw_client_req){ .url = "http://no-such-host.invalid/" }, &st, &b, &n, 10),
                 UW_CLIENT_ERESOLVE);
    uw_client_header bad = { "X", "a\r\nInjected: 1" };
    CHECK_EQ_INT(uw_client_fetch(cl, &(uw_client_req){ .url = url, .headers = &bad, .nheaders = 1 }, &st, &b, &n, 10),
                 UW_EINVAL);
    /* A name, resolved on the resolver thread. */
    snprintf(url, sizeof url, "http://localhost:%u/", (unsigned)uw_listener_port(listener));
    CHECK_EQ_INT(uw_client_fetch(cl, &(uw_client_req){ .url = url }, &st, &b, &n, 100), UW_OK);
    CHECK_EQ_INT(st, 200);
    free(b);
    uw_client_free(cl);
}

static void test_timeouts(void)
{
    uw_client_config cfg;
    uw_client_config_default(&cfg);
    cfg.io_timeout = UW_MS(100);
    uw_client *cl;
    uw_client_new(&cl, &cfg);
    int st = 0;
    char *b = NULL;
    size_t n;
    int64_t t0 = uw_now();
    CHECK_EQ_INT(get(cl, "/nap/400", &st, &b, &n), UW_ETIMEDOUT);
    CHECK(uw_now() - t0 < UW_MS(350));
    CHECK_EQ_INT(get(cl, "/nap/20", &st, &b, &n), UW_OK);
    free(b);
    uw_client_free(cl);
    uw_client_config_default(&cfg);
    cfg.request_timeout = UW_MS(150);
    uw_client_new(&cl, &cfg);
    t0 = uw_now();
    CHECK_EQ_INT(get(cl, "/nap/500", &st, &b, &n), UW_ETIMEDOUT);
    CHECK(uw_now() - t0 < UW_MS(400));
    uw_client_free(cl);
}

/* ------------------------------------------------------------ raw servers */

/* A scripted server on a socket of the given family: for each accepted
 * connection, reads a request head, writes the script's answer, then
 * closes (close_after) or waits for the next request. */
struct raw {
    int lfd;
    uint16_t port;
    const char *answer;
    const char *second;          /* written delay_ms later, if not NULL */
    int delay_ms;
    bool close_after;            /* close after each answer */
    int max_requests;            /* per connection before closing, 0: no limit */
    bool silent;                 /* at max_requests, read one more request and close unanswered */
    int conns;
};

static int raw_listen(struct raw *s, int family)
{
    s->lfd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s->lfd < 0) return -1;
    struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
    struct sockaddr_in a4 = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    struct sockaddr *sa = family == AF_INET6 ? (struct sockaddr *)&a6 : (struct sockaddr *)&a4;
    socklen_t len = family == AF_INET6 ? sizeof a6 : sizeof a4;
    if (bind(s->lfd, sa, len) != 0 || listen(s->lfd, 16) != 0) { close(s->lfd); s->lfd = -1; return -1; }
    getsockname(s->lfd, sa, &len);
    s->port = ntohs(family == AF_INET6 ? a6.sin6_port : a4.sin_port);
    return 0;
}

struct raw_conn { struct raw *s; uw_conn *c; };

static void raw_conn_task(void *arg)
{
    struct raw_conn *rc = arg;
    struct raw *s = rc->s;
    char buf[4096];
    size_t have = 0;
    int served = 0;
    for (;;) {
        ssize_t n = uw_conn_read(rc->c, buf + have, sizeof buf - 1 - have, uw_now() + UW_SEC(5));
        if (n <= 0) break;
        have += (size_t)n;
        buf[have] = 0;
        char *end = strstr(buf, "\r\n\r\n");
        if (!end) continue;
        have = 0;
        if (s->silent && s->max_requests && served >= s->max_requests) break;
        uw_slice v = { s->answer, strlen(s->answer) };
        if (uw_conn_writev(rc->c, &v, 1, uw_now() + UW_SEC(5)) != UW_OK) break;
        if (s->second) {
            if (uw_sleep(UW_MS(s->delay_ms)) != UW_OK) break;
            v = (uw_slice){ s->second, strlen(s->second) };
            if (uw_conn_writev(rc->c, &v, 1, uw_now() + UW_SEC(5)) != UW_OK) break;
        }
        served++;
        if (s->close_after || (!s->silent && s->max_requests && served >= s->max_requests)) break;
    }
    uw_conn_close(rc->c, false);
    free(rc);
}

static void raw_server_task(void *arg)
{
    struct raw *s = arg;
    uw_io io;
    if (uw_io_open(&io, s->lfd) != UW_OK) return;
    for (;;) {
        int fd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno != EAGAIN) break;
            uw_io_drained_read(&io);
            if (uw_io_wait_read(&io, UW_FOREVER) != UW_OK) break;
            continue;
        }
        struct raw_conn *rc = malloc(sizeof *rc);
        rc->s = s;
        if (uw_conn_from_fd(&rc->c, fd) != UW_OK) { close(fd); free(rc); continue; }
        s->conns++;
        uw_task *t = uw_spawn(raw_conn_task, rc, 0);
        uw_detach(t);
    }
    uw_io_close(&io);
}

static uw_task *raw_start(struct raw *s, int family)
{
    if (raw_listen(s, family) != 0) return NULL;
    return uw_spawn(raw_server_task, s, 0);
}

static void raw_stop(struct raw *s, uw_task *t)
{
    uw_cancel(t);
    uw_join(t);
    close(s->lfd);
}

static int raw_get(uw_client *cl, struct raw *s, bool v6, int *st, char **b, size_t *n)
{
    char url[128];
    snprintf(url, sizeof url, v6 ? "http://[::1]:%u/" : "http://127.0.0.1:%u/", (unsigned)s->port);
    return uw_client_fetch(cl, &(uw_client_req){ .url = url }, st, b, n, 1 << 16);
}

static void test_raw_answers(void)
{
    uw_client *cl;
    uw_client_new(&cl, NULL);
    int st = 0;
    char *b = NULL;
    size_t n;
    /* Interim answers skipped; IPv6 literal. */
    struct raw s = { .answer = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi" };
    uw_task *t = raw_start(&s, AF_INET6);
    if (!t) {
        printf("# no IPv6 loopback: the IPv6 literal is tested on IPv4 only\n");
        t = raw_start(&s, AF_INET);
    }
    CHECK_EQ_INT(raw_get(cl, &s, s.port && t && s.lfd >= 0, &st, &b, &n), UW_OK);
    CHECK_EQ_INT(st, 200);
    CHECK_EQ_STR(b, "hi");
    free(b);
    raw_stop(&s, t);

    /* Delimited by the connection's end: never pooled. */
    s = (struct raw){ .answer = "HTTP/1.1 200 OK\r\n\r\nto the end", .close_after = true };
    t = raw_start(&s, AF_INET);
    CHECK_EQ_INT(raw_get(cl, &s, false, &st, &b, &n), UW_OK);
    CHECK_EQ_STR(b, "to the end");
    free(b);
    CHECK_EQ_INT(uw_client_get_stats(cl).idle, 1);               /* only the first server's */

    /* Closed mid-body. */
    raw_stop(&s, t);
    s = (struct raw){ .answer = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nhalf", .close_after = true };
    t = raw_start(&s, AF_INET);
    CHECK_EQ_INT(raw_get(cl, &s, false, &st, &b, &n), UW_ECLOSED);
    raw_stop(&s, t);

    /* Closed before answering. */
    s = (struct raw){ .answer = "", .close_after = true };
    t = raw_start(&s, AF_INET);
    CHECK_EQ_INT(raw_get(cl, &s, false, &st, &b, &n), UW_ECLOSED);
    raw_stop(&s, t);

    /* Garbage. */
    s = (struct raw){ .answer = "HTTP/1.1 2000 What\r\n\r\n", .close_after = true };
    t = raw_start(&s, AF_INET);
    CHECK_EQ_INT(raw_get(cl, &s, false, &st, &b, &n), UW_EPROTO);
    raw_stop(&s, t);
    uw_client_free(cl);
}

static void test_stale_pooled_connection_retried(void)
{
    uw_client *cl;
    uw_client_new(&cl, NULL);
    int st = 0;
    char *b = NULL;
    size_t n;
    /* The server answers one request per connection with keep-alive, then
     * closes it when the next request comes: a stale pooled connection
     * that looked alive.  Each reuse fails before any answer and is
     * retried on a new connection. */
    struct raw s = { .answer = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", .max_requests = 1, .silent = true };
    uw_task *t = raw_start(&s, AF_INET);
    for (int i = 0; i < 3; i++) {
        CHECK_EQ_INT(raw_get(cl, &s, false, &st, &b, &n), UW_OK);
        CHECK_EQ_STR(b, "ok");
        free(b);
        b = NULL;
    }
    uw_client_stats stats = uw_client_get_stats(cl);
    CHECK_EQ_INT(stats.connections, 3);
    CHECK_EQ_INT(stats.reused, 2);
    CHECK_EQ_INT(stats.retried, 2);
    CHECK_EQ_INT(s.conns, 3);
    /* Closed while idle in the pool: seen before reuse, no retry needed. */
    s.silent = false;
    uw_sleep(UW_MS(100));   /* time for the server's close to arrive */
    CHECK_EQ_INT(raw_get(cl, &s, false, &st, &b, &n), UW_OK);
    free(b);
    uw_sleep(UW_MS(100));   /* time for the server's close to arrive */
    CHECK_EQ_INT(raw_get(cl, &s, false, &st, &b, &n), UW_OK);
    free(b);
    stats = uw_client_get_stats(cl);
    CHECK_EQ_INT(stats.retried, 2);
    CHECK_EQ_INT(stats.connections, 4);
    /* A streamed body is never sent twice: the failure is the answer. */
    s.silent = true;
    struct gen g = { 10, 10, 0 };
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/", (unsigned)s.port);
    uw_sleep(UW_MS(100));   /* time for the server's close to arrive */
    CHECK_EQ_INT(raw_get(cl, &s, false, &st, &b, &n), UW_OK);   /* a fresh connection, pooled */
    free(b);
    b = NULL;
    CHECK_EQ_INT(uw_client_fetch(cl, &(uw_client_req){ .method = "POST", .url = url, .body_fn = gen_body,
                                                       .body_arg = &g, .body_length = 10 }, &st, &b, &n, 100), UW_ECLOSED);
    raw_stop(&s, t);
    uw_client_free(cl);
}

static void test_slow_server(void)
{
    uw_client_config cfg;
    uw_client_config_default(&cfg);
    cfg.io_timeout = UW_MS(300);
    uw_client *cl;
    uw_client_new(&cl, &cfg);
    int st = 0;
    char *b = NULL;
    size_t n;
    /* Head now, body 100 ms later: within each read's timeout. */
    struct raw s = { .answer = "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nab", .second = "cd", .delay_ms = 100 };
    uw_task *t = raw_start(&s, AF_INET);
    CHECK_EQ_INT(raw_get(cl, &s, false, &st, &b, &n), UW_OK);
    CHECK_EQ_STR(b, "abcd");
    free(b);
    raw_stop(&s, t);
    /* Body 600 ms later: the read times out. */
    s = (struct raw){ .answer = "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nab", .second = "cd", .delay_ms = 600 };
    t = raw_start(&s, AF_INET);
    CHECK_EQ_INT(raw_get(cl, &s, false, &st, &b, &n), UW_ETIMEDOUT);
    raw_stop(&s, t);
    uw_client_free(cl);
}

/* ------------------------------------------------------------ cancellation */

struct cancel_case { uw_client *cl; const char *url; int result; bool done; };
static void cancel_victim(void *arg)
{
    struct cancel_case *c = arg;
    int st;
    char *b = NULL;
    size_t n;
    c->result = uw_client_fetch(c->cl, &(uw_client_req){ .url = c->url }, &st, &b, &n, 1 << 20);
    free(b);
    c->done = true;
}

static void test_cancel_mid_request(void)
{
    uw_client *cl;
    uw_client_new(&cl, NULL);
    char url[128], lurl[128];
    snprintf(url, sizeof url, "%s/nap/2000", base);
    snprintf(lurl, sizeof lurl, "http://localhost:%u/nap/2000", (unsigned)uw_listener_port(listener));
    const char *urls[] = { url, lurl };
    int64_t waits[] = { 0, 1, 30 };
    for (size_t u = 0; u < 2; u++) {
        for (size_t w = 0; w < 3; w++) {
            struct cancel_case c = { cl, urls[u], 0, false };
            uw_task *t = uw_spawn(cancel_victim, &c, 0);
            if (waits[w]) uw_sleep(UW_MS(waits[w]));
            else uw_yield();
            uw_cancel(t);
            uw_join(t);
            CHECK(c.done);
            CHECK_EQ_INT(c.result, UW_ECANCELED);
        }
    }
    CHECK_EQ_INT(uw_client_get_stats(cl).idle, 0);
    uw_client_free(cl);
}

/* ------------------------------------------------------------ main */

static void tests(void *arg)
{
    (void)arg;
    RUN(test_parser_every_split);
    RUN(test_parser_truncated_and_bad);
    RUN(test_url);
    RUN(test_keep_alive_reuse);
    RUN(test_chunked_response_streamed);
    RUN(test_request_bodies);
    RUN(test_redirects);
    RUN(test_caps_and_errors);
    RUN(test_timeouts);
    RUN(test_raw_answers);
    RUN(test_stale_pooled_connection_retried);
    RUN(test_slow_server);
    RUN(test_cancel_mid_request);
    uw_listener_close(listener);
}

int main(void)
{
    uw_rt_init();
    uw_rt_prepare_server();
    uw_http_config_default(&server_cfg);
    server_cfg.idle_timeout = UW_SEC(1);
    server_cfg.log = NULL;
    if (uw_tcp_listen(&listener, "127.0.0.1", 0, 64) != UW_OK) {
        printf("not ok - listen: cannot listen on 127.0.0.1\n");
        return 1;
    }
    snprintf(base, sizeof base, "http://127.0.0.1:%u", (unsigned)uw_listener_port(listener));
    uw_task *s = uw_spawn(server_task, NULL, 0), *t = uw_spawn(tests, NULL, 256 * 1024);
    uw_detach(s);
    uw_detach(t);
    uw_rt_run();
    uw_listener_free(listener);
    uw_rt_fini();
    return CHECK_DONE();
}
