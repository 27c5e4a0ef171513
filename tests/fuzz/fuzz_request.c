/*
 * Fuzz target for the request path: bytes in through a socketpair, parsed
 * by the HTTP server, routed, answered.  Checks that every answer is a
 * well-formed status line and that the server never crashes or hangs.
 */
#include <uweb/web.h>
#include <uweb/net.h>
#include <uweb/io_unix.h>

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void hello(uw_req *req, uw_res *res) { (void)req; uw_res_text(res, 200, "Hello World!\n"); }

static void user(uw_req *req, uw_res *res)
{
    int64_t id = 0;
    uw_req_param_int(req, "id", &id);
    uw_res_textf(res, 200, "user %lld q=%s\n", (long long)id, uw_req_query(req, "q") ? uw_req_query(req, "q") : "-");
}

static void echo(uw_req *req, uw_res *res)
{
    char buf[512];
    ssize_t n;
    uw_res_begin(res);
    while ((n = uw_req_read(req, buf, sizeof buf)) > 0) uw_res_write(res, buf, (size_t)n);
    if (n < 0) { uw_res_close(res); return; }
    uw_res_end(res);
}

static void count(uw_req *req, uw_res *res)
{
    const void *d;
    ssize_t n;
    uint64_t total = 0;
    while ((n = uw_req_read_chunk(req, &d)) > 0) total += (uint64_t)n;
    if (n < 0) return;   /* the server answers 413/400 */
    uw_res_textf(res, 200, "%llu\n", (unsigned long long)total);
}

static const uw_basic_auth auth = { "fuzz", "/secret", "u", "p" };
static const uw_middleware mws[] = { { uw_mw_basic_auth, (void *)&auth } };
static const uw_route routes[] = {
    { UW_GET, "/", hello },
    { UW_GET, "/users/<int:id>", user, .query = UW_QUERY_NAMED, .params = "q" },
    { UW_GET, "/files/<rest:p>", hello, .query = UW_QUERY_NONE },
    { UW_POST, "/echo", echo, .max_body = 4096 },
    { UW_POST | UW_PUT, "/count", count, .max_body = 1000 },
    { UW_GET, "/secret/", hello },
};
static const uw_app app = { UW_ROUTES(routes), UW_MIDDLEWARES(mws) };

static int sv[2];
static const uint8_t *in;
static size_t in_len, got;
static char out[1 << 20];

static void server_task(void *arg)
{
    uw_http_config *cfg = arg;
    uw_conn *c;
    if (uw_conn_from_fd(&c, sv[0]) == UW_OK) uw_app_serve_conn(&app, cfg, c);
}

/* The client: sends the input, half-closes, reads every answer. */
static void client_task(void *arg)
{
    (void)arg;
    uw_conn *c;
    if (uw_conn_from_fd(&c, sv[1]) != UW_OK) return;
    uw_slice s = { in, in_len };
    uw_conn_writev(c, &s, 1, uw_now() + UW_SEC(1));
    uw_conn_shutdown_write(c);
    ssize_t n;
    while ((n = uw_conn_read(c, out + got, sizeof out - got, uw_now() + UW_SEC(1))) > 0) got += (size_t)n;
    uw_conn_close(c, false);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uw_http_config cfg;
    static bool init;
    if (!init) {
        uw_rt_init();
        uw_http_config_default(&cfg);
        cfg.max_head_bytes = 1024;
        cfg.max_headers = 16;
        cfg.header_timeout = UW_MS(200);
        cfg.io_timeout = UW_MS(200);
        cfg.idle_timeout = UW_MS(200);
        init = true;
    }
    if (size > 16384) size = 16384;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0) abort();
    in = data;
    in_len = size;
    got = 0;
    uw_task *t = uw_spawn(server_task, &cfg, 0), *u = uw_spawn(client_task, NULL, 0);
    if (!t || !u) abort();
    uw_detach(t);
    uw_detach(u);
    uw_rt_run();
    if (got > 0 && memcmp(out, "HTTP/1.", got < 7 ? got : 7) != 0) abort();
    return 0;
}
