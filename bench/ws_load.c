/*
 * The load of bench/ws.sh: CONNS WebSocket connections, each sending one
 * message of SIZE bytes (binary, masked, as clients must) and waiting
 * for its echo, again and again, for SECONDS; or, with --idle, CONNS
 * connections that say nothing, held open for SECONDS.  Written on
 * uweb's runtime and frame codec (client side).  Prints "messages N" (or
 * "idle N" once all are open, on stdout, then waits).
 *
 *   ws_load PORT PATH CONNS SECONDS SIZE
 *   ws_load --idle PORT PATH CONNS SECONDS
 */
#include <uweb/net.h>
#include <uweb/runtime.h>
#include <uweb/ws.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

static int port, conns, size;
static const char *path;
static int64_t until;
static bool idle_mode;
static long messages, failures, opened;
static uint8_t *frame;
static size_t frame_len;

static int open_ws(uw_conn **out)
{
    uw_conn *c;
    int r = uw_tcp_connect(&c, "127.0.0.1", (uint16_t)port, uw_now() + UW_SEC(30));
    if (r != UW_OK) return r;
    char req[512];
    int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                     "Sec-WebSocket-Version: 13\r\n\r\n", path, port);
    uw_slice s = { req, (size_t)n };
    if ((r = uw_conn_writev(c, &s, 1, uw_now() + UW_SEC(30))) != UW_OK) goto fail;
    /* the 101 head, byte by byte: nothing after it is read here */
    char head[1024];
    size_t hl = 0;
    while (hl < 4 || memcmp(head + hl - 4, "\r\n\r\n", 4) != 0) {
        if (hl == sizeof head) { r = UW_EPROTO; goto fail; }
        ssize_t k = uw_conn_read(c, head + hl, 1, uw_now() + UW_SEC(30));
        if (k <= 0) { r = k ? (int)k : UW_ECLOSED; goto fail; }
        hl++;
    }
    if (memcmp(head, "HTTP/1.1 101", 12) != 0) { r = UW_EPROTO; goto fail; }
    *out = c;
    return UW_OK;
fail:
    uw_conn_close(c, true);
    return r;
}

static void echo_task(void *arg)
{
    (void)arg;
    uw_conn *c = NULL;
    if (open_ws(&c) != UW_OK) { failures++; return; }
    opened++;
    if (idle_mode) {
        if (opened == conns) { printf("idle %d\n", conns); fflush(stdout); }
        uint8_t b[256];
        while (uw_now() < until && uw_conn_read(c, b, sizeof b, until) > 0) {}
        uw_conn_close(c, false);
        return;
    }
    uw_ws_parser p;
    uw_ws_parser_init(&p, &(uw_ws_parser_config){ .server = false });
    uint8_t *buf = malloc(65536);
    while (uw_now() < until) {
        uw_slice s = { frame, frame_len };
        if (uw_conn_writev(c, &s, 1, uw_now() + UW_SEC(10)) != UW_OK) { failures++; break; }
        bool done = false;
        while (!done) {
            ssize_t k = uw_conn_read(c, buf, 65536, uw_now() + UW_SEC(10));
            if (k <= 0) { failures++; goto out; }
            size_t at = 0;
            while (at < (size_t)k) {
                uw_ws_event ev;
                at += uw_ws_parse(&p, buf + at, (size_t)k - at, &ev);
                if (ev.kind == UW_WS_EV_ERROR) { failures++; goto out; }
                if (ev.kind == UW_WS_EV_DATA && ev.message_end) done = true;
                if (ev.kind == UW_WS_EV_MORE) break;
            }
        }
        messages++;
    }
out:
    free(buf);
    uw_conn_close(c, false);
}

int main(int argc, char **argv)
{
    int a = 1;
    if (argc > 1 && strcmp(argv[1], "--idle") == 0) { idle_mode = true; a = 2; }
    if (argc < a + 4) {
        fprintf(stderr, "usage: ws_load [--idle] PORT PATH CONNS SECONDS [SIZE]\n");
        return 2;
    }
    port = atoi(argv[a]);
    path = argv[a + 1];
    conns = atoi(argv[a + 2]);
    int secs = atoi(argv[a + 3]);
    size = argc > a + 4 ? atoi(argv[a + 4]) : 16;
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    static const uint8_t mask[4] = { 0x12, 0x34, 0x56, 0x78 };
    frame = malloc((size_t)size + UW_WS_HEAD_MAX);
    frame_len = uw_ws_write_head(frame, UW_WS_BINARY, true, false, (uint64_t)size, mask);
    for (int i = 0; i < size; i++) frame[frame_len + i] = (uint8_t)(i * 31);
    uw_ws_mask(frame + frame_len, (size_t)size, mask, 0);
    frame_len += (size_t)size;
    uw_rt_init();
    uw_rt_prepare_server();
    until = uw_now() + UW_SEC(secs);
    for (int i = 0; i < conns; i++) {
        uw_task *t = uw_spawn(echo_task, NULL, 32 * 1024);
        if (t) uw_detach(t);
    }
    uw_rt_run();
    uw_rt_fini();
    if (!idle_mode) printf("messages %ld failures %ld\n", messages, failures);
    else printf("opened %ld failures %ld\n", opened, failures);
    return failures ? 1 : 0;
}
