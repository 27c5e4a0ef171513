/*
 * wsecho: the WebSocket and server-sent events test server
 * (tests/integration/websocket.py, sse.py, bench/ws.sh).
 *
 *   GET /echo           echoes every message (default options: 16 MiB, compression offered)
 *   GET /echo-small     the same with max_message 1024
 *   GET /echo-plain     the same without permessage-deflate
 *   GET /live           pings after 200 ms of silence, drops 300 ms after an unanswered one
 *   GET /close/<int:c>  closes with code c and reason "bye" after the first message
 *   GET /idle           reads, answers nothing (idle WebSockets)
 *   GET /sse            five events "tick" with ids (after Last-Event-ID), then ends
 *   GET /sse-idle       a stream that only keeps alive (every 200 ms), for 2 s
 *   GET /               "wsecho\n"
 */
#include <uweb/sse.h>
#include <uweb/web.h>
#include <uweb/ws.h>

#include <stdio.h>
#include <stdlib.h>

static void echo_with(uw_req *req, uw_res *res, const uw_ws_options *o)
{
    uw_ws *ws;
    if (uw_ws_accept_opts(req, res, &ws, o) != UW_OK) return;
    uw_ws_msg m;
    while (uw_ws_read(ws, &m, UW_FOREVER) == UW_OK)
        if (uw_ws_send(ws, m.type, m.data, m.len) != UW_OK) break;
}

static void echo(uw_req *req, uw_res *res)
{
    echo_with(req, res, NULL);
}

static void echo_small(uw_req *req, uw_res *res)
{
    uw_ws_options o;
    uw_ws_options_default(&o);
    o.max_message = 1024;
    echo_with(req, res, &o);
}

static void echo_plain(uw_req *req, uw_res *res)
{
    uw_ws_options o;
    uw_ws_options_default(&o);
    o.no_compression = true;
    echo_with(req, res, &o);
}

static void live(uw_req *req, uw_res *res)
{
    uw_ws_options o;
    uw_ws_options_default(&o);
    o.ping_interval = UW_MS(200);
    o.ping_timeout = UW_MS(300);
    uw_ws *ws;
    if (uw_ws_accept_opts(req, res, &ws, &o) != UW_OK) return;
    uw_ws_msg m;
    int r;
    while ((r = uw_ws_read(ws, &m, UW_FOREVER)) == UW_OK) uw_ws_send(ws, m.type, m.data, m.len);
    if (r == UW_ETIMEDOUT) fprintf(stderr, "wsecho: /live: the peer stopped answering pings\n");
}

static void close_with(uw_req *req, uw_res *res)
{
    int64_t code;
    uw_req_param_int(req, "code", &code);
    uw_ws *ws;
    if (uw_ws_accept(req, res, &ws) != UW_OK) return;
    uw_ws_msg m;
    if (uw_ws_read(ws, &m, UW_FOREVER) == UW_OK) uw_ws_close(ws, (int)code, "bye");
}

static void idle(uw_req *req, uw_res *res)
{
    uw_ws_options o;
    uw_ws_options_default(&o);
    o.no_compression = true;
    uw_ws *ws;
    if (uw_ws_accept_opts(req, res, &ws, &o) != UW_OK) return;
    uw_ws_msg m;
    while (uw_ws_read(ws, &m, UW_FOREVER) == UW_OK) {}
}

static void sse(uw_req *req, uw_res *res)
{
    const char *last = uw_req_header(req, "Last-Event-ID");
    int from = last ? atoi(last) + 1 : 1;
    if (uw_sse_begin(res) != UW_OK) return;
    uw_sse_retry(res, 100);
    for (int i = from; i < from + 5; i++) {
        char id[16], data[64];
        snprintf(id, sizeof id, "%d", i);
        snprintf(data, sizeof data, "tick %d\nline two", i);
        if (uw_sse_send(res, "tick", data, id) != UW_OK) return;
        uw_sleep(UW_MS(20));
    }
}

static void sse_idle(uw_req *req, uw_res *res)
{
    (void)req;
    if (uw_sse_begin(res) != UW_OK) return;
    uw_sse_wait(res, NULL, uw_now() + UW_SEC(2), UW_MS(200));
    uw_sse_send(res, NULL, "done", NULL);
}

static void index_page(uw_req *req, uw_res *res)
{
    (void)req;
    uw_res_text(res, 200, "wsecho\n");
}

static const uw_route routes[] = {
    { UW_GET, "/echo", echo },
    { UW_GET, "/echo-small", echo_small },
    { UW_GET, "/echo-plain", echo_plain },
    { UW_GET, "/live", live },
    { UW_GET, "/close/<int:code>", close_with },
    { UW_GET, "/idle", idle },
    { UW_GET, "/sse", sse },
    { UW_GET, "/sse-idle", sse_idle },
    { UW_GET, "/", index_page },
};

int main(int argc, char **argv)
{
    return uw_main(argc, argv, &(uw_app){ UW_ROUTES(routes), .name = "wsecho" });
}
