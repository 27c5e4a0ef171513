/*
 * The HTTP server's parser glue over a socketpair: every request is also
 * sent split at every byte offset (and one byte at a time), and must get
 * the same answers; truncated requests get no answer and no crash.
 */
#include "../check.h"
#include <uweb/web.h>
#include <uweb/net.h>
#include <uweb/io_unix.h>

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void hello(uw_req *req, uw_res *res) { (void)req; uw_res_text(res, 200, "Hello World!\n"); }
static void user(uw_req *req, uw_res *res)
{
    int64_t id = -1;
    uw_req_param_int(req, "id", &id);
    const char *x = uw_req_header(req, "X-Thing");
    uw_res_textf(res, 200, "user %lld %s %s\n", (long long)id, x ? x : "-", uw_req_query(req, "q") ? uw_req_query(req, "q") : "-");
}
static void sum(uw_req *req, uw_res *res)
{
    char buf[7];
    ssize_t n;
    unsigned total = 0, bytes = 0;
    while ((n = uw_req_read(req, buf, sizeof buf)) > 0)
        for (ssize_t i = 0; i < n; i++) { total += (unsigned char)buf[i]; bytes++; }
    if (n < 0) return;
    uw_res_textf(res, 200, "%u bytes sum %u\n", bytes, total);
}
/* Reads the whole body, then the head (which must outlive the body). */
static void late(uw_req *req, uw_res *res)
{
    char buf[4096];
    ssize_t n;
    size_t bytes = 0;
    while ((n = uw_req_read(req, buf, sizeof buf)) > 0) bytes += (size_t)n;
    if (n < 0) return;
    const char *x = uw_req_header(req, "X-Thing"), *q = uw_req_query(req, "q");
    uw_res_textf(res, 200, "late %zu %s %s %s %s\n", bytes, uw_req_path(req), uw_req_param(req, "name"),
                 x ? x : "-", q ? q : "-");
}
static const uw_route routes[] = {
    { UW_GET, "/", hello },
    { UW_POST, "/late/<name>", late, .max_body = UW_BODY_UNLIMITED },
    { UW_GET, "/users/<int:id>", user },
    { UW_POST, "/sum", sum, .max_body = 100 },
    { UW_POST, "/plain", sum },                      /* the server's body limit */
};
static const uw_app app = { UW_ROUTES(routes) };

static int sv[2];
static const char *in;
static size_t in_len, split;
static bool bytewise;
static char out[65536];
static size_t got;
static uw_http_config cfg;

static void server_task(void *arg)
{
    (void)arg;
    uw_conn *c;
    if (uw_conn_from_fd(&c, sv[0]) == UW_OK) uw_app_serve_conn(&app, &cfg, c);
}

static void client_task(void *arg)
{
    (void)arg;
    uw_conn *c;
    if (uw_conn_from_fd(&c, sv[1]) != UW_OK) return;
    if (bytewise) {
        for (size_t i = 0; i < in_len; i++) {
            uw_slice s = { in + i, 1 };
            uw_conn_writev(c, &s, 1, UW_FOREVER);
            uw_sleep(1000);
        }
    } else {
        uw_slice a = { in, split }, b = { in + split, in_len - split };
        uw_conn_writev(c, &a, 1, UW_FOREVER);
        uw_sleep(20000);   /* let the server see the first part alone */
        uw_conn_writev(c, &b, 1, UW_FOREVER);
    }
    uw_conn_shutdown_write(c);
    ssize_t n;
    while ((n = uw_conn_read(c, out + got, sizeof out - got - 1, uw_now() + UW_SEC(5))) > 0) got += (size_t)n;
    out[got] = 0;
    uw_conn_close(c, false);
}

/* Sends `request` (split as configured) and returns the answers with the
 * Date header blanked. */
static const char *exchange(const char *request, size_t len)
{
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0) abort();
    in = request;
    in_len = len;
    got = 0;
    uw_task *s = uw_spawn(server_task, NULL, 0), *c = uw_spawn(client_task, NULL, 0);
    uw_detach(s);
    uw_detach(c);
    uw_rt_run();
    for (char *d = strstr(out, "Date: "); d; d = strstr(d + 1, "Date: "))
        for (char *p = d + 6; *p && *p != '\r'; p++) *p = 'x';
    /* and the request ids (a counter: each run's are its own) */
    for (char *d = strstr(out, "X-Request-Id: "); d; d = strstr(d + 1, "X-Request-Id: "))
        for (char *p = d + 14; *p && *p != '\r'; p++) *p = 'x';
    return out;
}

static const char *requests[] = {
    "GET / HTTP/1.1\r\nHost: a\r\n\r\n",
    "GET /users/12?q=a%20b HTTP/1.1\r\nHost: a\r\nX-Thing: thing  \r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
    "POST /sum HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n0123456789GET / HTTP/1.1\r\nHost: a\r\n\r\n",
    "POST /sum HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\nTrailer: x\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
    "POST /sum HTTP/1.1\r\nHost: a\r\nContent-Length: 101\r\n\r\n",
    "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "GET / HTTP/1.1\r\nHost: a\r\n\r\nPOST /sum HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabcGET / HTTP/1.1\r\nHost: a\r\n\r\nPOST /sum HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n",
    "GET http://a.example/users/3?q=b HTTP/1.1\r\nHost: a\r\n\r\nOPTIONS * HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
    /* chunk extensions and leading zeros: within bounds, over them (400), over the body limit (413) */
    "POST /sum HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0003;ext=\"val\";e2=\"q v\";e3\r\nabc\r\n000000000000000a\r\n0123456789\r\n00\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
    "POST /sum HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0000000000000000a\r\n0123456789\r\n0\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
    /* Upgrade asked for, not taken: ordinary requests, the connection stays usable */
    "GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n\r\n"
    "POST /sum HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: websocket\r\nContent-Length: 3\r\n\r\nabc"
    "GET /users/2 HTTP/1.1\r\nHost: a\r\n\r\n",
    /* an empty field value: split after its line, the next field stays whole */
    "GET /users/4 HTTP/1.1\r\nHost: a\r\nX-Empty:\r\nX-Thing: t\r\n\r\n",
};

static void test_every_split_point_same_answers(void)
{
    for (size_t r = 0; r < sizeof requests / sizeof requests[0]; r++) {
        size_t len = strlen(requests[r]);
        bytewise = false;
        split = len;
        char whole[65536];
        strcpy(whole, exchange(requests[r], len));
        CHECK(strncmp(whole, "HTTP/1.1 ", 9) == 0);
        for (split = 0; split <= len; split++) {
            const char *o = exchange(requests[r], len);
            if (strcmp(o, whole) != 0) {
                printf("# request %zu split at %zu:\n# %s\n# vs whole:\n# %s\n", r, split, o, whole);
                CHECK(0);
                break;
            }
        }
        bytewise = true;
        CHECK_EQ_STR(exchange(requests[r], len), whole);
    }
}

static void test_answers(void)
{
    bytewise = false;
    split = 5;
    const char *o = exchange(requests[1], strlen(requests[1]));
    CHECK(strstr(o, "user 12 thing a b\n") != NULL);
    CHECK(strstr(o, "Hello World!\n") != NULL);
    o = exchange(requests[3], strlen(requests[3]));
    CHECK(strstr(o, "19 bytes sum") != NULL);
    CHECK(strstr(o, "Hello World!\n") != NULL);
    o = exchange(requests[4], strlen(requests[4]));
    CHECK(strncmp(o, "HTTP/1.1 413 ", 13) == 0);
    /* a body after a bodiless request on the same connection is read whole */
    /* a route without its own body limit takes the server's (1 MiB) */
    const char *plain = "POST /plain HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nabcde";
    o = exchange(plain, strlen(plain));
    CHECK(strstr(o, "5 bytes sum 495\n") != NULL);
    o = exchange(requests[6], strlen(requests[6]));
    CHECK(strstr(o, "3 bytes sum 294\n") != NULL);
    CHECK(strstr(o, "2 bytes sum 195\n") != NULL);
    o = exchange(requests[10], strlen(requests[10]));
    CHECK(strstr(o, "Hello World!\n") != NULL && strstr(o, "3 bytes sum 294\n") != NULL && strstr(o, "user 2 - -\n") != NULL);
    /* chunked framing bounds */
    o = exchange(requests[8], strlen(requests[8]));
    CHECK(strstr(o, "13 bytes sum ") != NULL && strstr(o, "Hello World!\n") != NULL);
    o = exchange(requests[9], strlen(requests[9]));
    CHECK(strncmp(o, "HTTP/1.1 400 ", 13) == 0 && strstr(o, "Hello") == NULL);
    {
        char req[1024], ext[300];
        const char *head = "POST /sum HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n";
        memset(ext, 'e', sizeof ext);
        /* 255 name bytes + its separator: exactly the 256 allowed */
        snprintf(req, sizeof req, "%s1;%.255s\r\nx\r\n0\r\n\r\n", head, ext);
        o = exchange(req, strlen(req));
        CHECK(strncmp(o, "HTTP/1.1 413 ", 13) == 0);   /* 256 + 1 bytes over /sum's 100 */
        snprintf(req, sizeof req, "%s1;%.60s=%.30s\r\nx\r\n0\r\n\r\n", head, ext, ext);
        o = exchange(req, strlen(req));
        CHECK(strstr(o, "1 bytes sum 120\n") != NULL);  /* 92 extension bytes + 1: under 100 */
        snprintf(req, sizeof req, "%s1;%.60s=%.40s\r\nx\r\n0\r\n\r\n", head, ext, ext);
        o = exchange(req, strlen(req));
        CHECK(strncmp(o, "HTTP/1.1 413 ", 13) == 0);   /* 102 extension bytes + 1 */
        snprintf(req, sizeof req, "%s1;%.256s\r\nx\r\n0\r\n\r\n", head, ext);
        o = exchange(req, strlen(req));
        CHECK(strncmp(o, "HTTP/1.1 400 ", 13) == 0);   /* 257: over the per-chunk bound */
        snprintf(req, sizeof req, "%s%.15s1\r\nx\r\n0\r\n\r\n", head, "0000000000000000");
        o = exchange(req, strlen(req));
        CHECK(strstr(o, "1 bytes sum 120\n") != NULL);  /* 15 leading zeros + 1 digit */
        snprintf(req, sizeof req, "%s%.16s1\r\nx\r\n0\r\n\r\n", head, "0000000000000000");
        o = exchange(req, strlen(req));
        CHECK(strncmp(o, "HTTP/1.1 400 ", 13) == 0);   /* 17 digits */
        size_t n = (size_t)snprintf(req, sizeof req, "%s", head);
        for (int i = 0; i < 7; i++) n += (size_t)snprintf(req + n, sizeof req - n, "0000000000000001\r\nx\r\n");
        snprintf(req + n, sizeof req - n, "0\r\n\r\n");
        o = exchange(req, strlen(req));
        CHECK(strncmp(o, "HTTP/1.1 413 ", 13) == 0);   /* 7 x 15 leading zeros + 7 bytes over 100 */
    }
    /* the head is still there after a body of several input buffers */
    static char big[200000];
    size_t hl = (size_t)snprintf(big, sizeof big, "POST /late/n%%41me?q=%%7E HTTP/1.1\r\nHost: a\r\nContent-Length: 150000\r\n"
                                 "X-Thing: thing\r\n\r\n");
    memset(big + hl, 'b', 150000);
    o = exchange(big, hl + 150000);
    CHECK(strstr(o, "late 150000 /late/n%41me nAme thing ~\n") != NULL);
    o = exchange(requests[5], strlen(requests[5]));
    CHECK(strncmp(o, "HTTP/1.1 400 ", 13) == 0);
    CHECK(strstr(o, "Hello") == NULL);   /* closed: the smuggled request is not served */
}

/* Request-target forms and head forms by RFC 9112's grammar: each
 * request alone on a connection, the status it must get, and a part of the answer. */
static void test_request_targets(void)
{
    static const struct { const char *req, *status, *body; } cases[] = {
        /* absolute-form: exactly "http://" once read past the target */
        { "GET http:// HTTP/1.0\r\n\r\n", "400", "host" },
        { "GET http://a HTTP/1.0\r\n\r\n", "200", "Hello World!" },
        { "GET HTTPS://a:8080?q=1 HTTP/1.0\r\n\r\n", "200", "Hello World!" },
        { "GET http://a.example:80/users/5?q=x%20y HTTP/1.1\r\nHost: a\r\n\r\n", "200", "user 5 - x y" },
        { "GET http://[::1]:80/users/6 HTTP/1.0\r\n\r\n", "200", "user 6" },
        { "GET http://u@a/ HTTP/1.0\r\n\r\n", "400", NULL },
        { "GET http://a:80x/ HTTP/1.0\r\n\r\n", "400", NULL },
        { "GET http:/a/ HTTP/1.0\r\n\r\n", "400", NULL },
        { "GET http://:80/ HTTP/1.0\r\n\r\n", "400", NULL },
        { "GET ftp://a/ HTTP/1.0\r\n\r\n", "400", NULL },
        { "GET http://[zz]/ HTTP/1.0\r\n\r\n", "400", NULL },
        /* origin-form */
        { "GET /users/7#frag HTTP/1.0\r\n\r\n", "400", NULL },
        { "GET /users/7?q=%zz HTTP/1.0\r\n\r\n", "400", NULL },
        { "GET /users/%4 HTTP/1.0\r\n\r\n", "400", NULL },
        { "GET /a\"b HTTP/1.0\r\n\r\n", "400", NULL },
        /* authority-form: CONNECT only, and CONNECT only with it */
        { "GET a:80 HTTP/1.0\r\n\r\n", "400", NULL },
        { "CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n", "501", NULL },
        { "CONNECT / HTTP/1.1\r\nHost: a\r\n\r\n", "400", NULL },
        { "CONNECT a HTTP/1.1\r\nHost: a\r\n\r\n", "400", NULL },
        /* head forms RFC 9112 says to reject, next to ones it allows */
        { "GET / HTTP/1.1\r\nHost: a\r\nX Y: a\r\n\r\n", "400", "field name" },
        { "GET / HTTP/1.1\r\nHost: a\r\nX-A : b\r\n\r\n", "400", "field name" },
        { "GET / HTTP/1.1\r\nHost: a\r\n: a\r\n\r\n", "400", "empty header field name" },
        { "GET / HTTP/1.1\r\n: a\r\nHost: a\r\n\r\n", "400", "empty header field name" },
        { "GET / HTTP/1.1\r\n:\r\nHost: a\r\n\r\n", "400", "empty header field name" },
        { "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", "400", "space" },
        { "GET /  HTTP/1.1\r\nHost: a\r\n\r\n", "400", "space" },
        { "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", "400", "Host" },
        { "GET / HTTP/1.1\r\nHost: u@a\r\n\r\n", "400", "Host" },
        { "GET / HTTP/1.1\r\nHost: a:8x\r\n\r\n", "400", "Host" },
        { "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", "400", "Host" },
        { "GET / HTTP/1.1\r\nHost: [::1]:8080\r\nX-Empty:\r\n\r\n", "200", "Hello World!" },
        { "GET / HTTP/1.1\r\nHost: a.example:80\r\n\r\n", "200", "Hello World!" },
        { "GET / HTTP/1.1\r\nHost:\r\n\r\n", "200", "Hello World!" },
        { "\r\nGET / HTTP/1.1\r\nHost: a \r\n\r\n", "200", "Hello World!" },
        /* asterisk-form: OPTIONS only */
        { "GET * HTTP/1.0\r\n\r\n", "400", NULL },
        { "OPTIONS * HTTP/1.0\r\n\r\n", "404", NULL },
    };
    bytewise = false;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        split = 3;
        const char *o = exchange(cases[i].req, strlen(cases[i].req));
        bool ok = strncmp(o, "HTTP/1.1 ", 9) == 0 && strncmp(o + 9, cases[i].status, 3) == 0 &&
                  (!cases[i].body || strstr(o, cases[i].body)) && strstr(o + 9, "HTTP/1.1 ") == NULL;
        if (!ok) printf("# %s-> %.60s\n", cases[i].req, o);
        CHECK(ok);
    }
}

static void test_truncated_requests_get_no_answer(void)
{
    const char *full = requests[2];
    size_t len = strlen(full);
    bytewise = false;
    for (size_t cut = 1; cut < 60; cut++) {   /* inside the head */
        split = cut;
        const char *o = exchange(full, cut);
        /* A head cut short is answered 400 (the peer closed mid-head). */
        if (!(got == 0 || strncmp(o, "HTTP/1.1 400 ", 13) == 0)) { printf("# cut %zu: %s\n", cut, o); CHECK(0); break; }
    }
    for (size_t cut = 60; cut < len - 40; cut++) {   /* inside the body */
        split = cut;
        exchange(full, cut);
        CHECK(got == 0 || strncmp(out, "HTTP/1.1 400 ", 13) == 0);
    }
}

/* ------------------------------------------------------------ server objects */

static void tagged(uw_req *req, uw_res *res, void *arg)
{
    uw_res_textf(res, 200, "%s %s\n", (const char *)arg, uw_req_path(req));
}

static uw_http_server two[2];
static int two_ports[2];
static char two_out[3][512];
static int refused_after_stop;

/* GET path from port with Connection: close; the answer into out. */
static void get_into(int port, const char *path, char *out, size_t cap)
{
    uw_conn *c;
    out[0] = 0;
    if (uw_tcp_connect(&c, "127.0.0.1", (uint16_t)port, uw_now() + UW_SEC(2)) != UW_OK) return;
    char req[128];
    int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", path);
    uw_slice s = { req, (size_t)n };
    uw_conn_writev(c, &s, 1, uw_now() + UW_SEC(2));
    size_t got_ = 0;
    ssize_t k;
    while (got_ < cap - 1 && (k = uw_conn_read(c, out + got_, cap - 1 - got_, uw_now() + UW_SEC(2))) > 0) got_ += (size_t)k;
    out[got_] = 0;
    uw_conn_close(c, false);
}

static void two_client(void *arg)
{
    (void)arg;
    get_into(two_ports[0], "/a", two_out[0], sizeof two_out[0]);
    get_into(two_ports[1], "/b", two_out[1], sizeof two_out[1]);
    uw_http_server_stop(&two[0]);                  /* by handle: the other goes on */
    uw_http_server_wait(&two[0], uw_now() + UW_SEC(5));
    uw_conn *c;
    refused_after_stop = uw_tcp_connect(&c, "127.0.0.1", (uint16_t)two_ports[0], uw_now() + UW_SEC(1)) != UW_OK;
    if (!refused_after_stop) uw_conn_close(c, true);
    get_into(two_ports[1], "/c", two_out[2], sizeof two_out[2]);
    uw_http_server_stop(&two[1]);
}

/* Two servers side by side in one runtime, each with its own dispatch;
 * one stopped by its handle while the other serves; uw_rt_run returns
 * once both have stopped. */
static void test_two_servers_side_by_side(void)
{
    static const char *tags[2] = { "one", "two" };
    for (int i = 0; i < 2; i++) {
        CHECK_EQ_INT(uw_http_server_init(&two[i], &cfg, tagged, (void *)tags[i]), UW_OK);
        two_ports[i] = uw_http_server_listen(&two[i], &(uw_http_listen){ .addr = "127.0.0.1", .port = 0 });
        CHECK(two_ports[i] > 0);
        CHECK_EQ_INT(uw_http_server_start(&two[i]), UW_OK);
    }
    uw_task *t = uw_spawn(two_client, NULL, 0);
    uw_detach(t);
    uw_rt_run();
    CHECK(strstr(two_out[0], "\r\n\r\none /a\n") != NULL);
    CHECK(strstr(two_out[1], "\r\n\r\ntwo /b\n") != NULL);
    CHECK(refused_after_stop);
    CHECK(strstr(two_out[2], "\r\n\r\ntwo /c\n") != NULL);
    CHECK(uw_http_server_stopped(&two[0]) && uw_http_server_stopped(&two[1]));
    for (int i = 0; i < 2; i++) uw_http_server_fini(&two[i]);
}

/* uw_app_serve gives on_listen its own argument (it used to pass the app),
 * serves, and returns 0 after a graceful stop on SIGTERM. */
static int listen_marker;
static void *listen_arg;
static int serve_port;
static char serve_out[512];
static void serve_client(void *arg)
{
    (void)arg;
    uw_sleep(UW_MS(50));                           /* the signal task is waiting by now */
    get_into(serve_port, "/", serve_out, sizeof serve_out);
    kill(getpid(), SIGTERM);
}
static void on_listen(uint16_t port, void *arg)
{
    listen_arg = arg;
    serve_port = port;
    uw_task *t = uw_spawn(serve_client, NULL, 0);
    uw_detach(t);
}
static void test_app_serve_passes_arg_and_stops_on_sigterm(void)
{
    uw_http_config c = cfg;
    c.addr = "127.0.0.1";
    c.port = 0;
    c.log = NULL;
    CHECK_EQ_INT(uw_app_serve(&app, &c, on_listen, &listen_marker), 0);
    CHECK(listen_arg == &listen_marker);
    CHECK(strstr(serve_out, "Hello World!\n") != NULL);
}

int main(void)
{
    uw_rt_init();
    uw_http_config_default(&cfg);
    cfg.header_timeout = UW_SEC(2);
    cfg.io_timeout = UW_SEC(2);
    cfg.idle_timeout = UW_MS(500);
    RUN(test_answers);
    RUN(test_request_targets);
    RUN(test_every_split_point_same_answers);
    RUN(test_truncated_requests_get_no_answer);
    RUN(test_two_servers_side_by_side);
    uw_rt_fini();
    RUN(test_app_serve_passes_arg_and_stops_on_sigterm);   /* runs its own runtime; last: SIGTERM sticks */
    return CHECK_DONE();
}
