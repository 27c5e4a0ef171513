/*
 * The reference of bench/ws.sh: a WebSocket echo server on libwebsockets
 * (Debian's libwebsockets-dev), the shape of its minimal echo examples:
 * each received message is written back whole (fragments gathered).
 * No permessage-deflate, like uweb's side of the benchmark.
 *
 *   ws_lws_echo PORT
 */
#include <libwebsockets.h>

#include <signal.h>
#include <stdlib.h>
#include <string.h>

struct per_session {
    unsigned char *buf;         /* LWS_PRE + message */
    size_t len, cap;
    int binary, ready;
};

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    struct per_session *s = user;
    switch (reason) {
    case LWS_CALLBACK_RECEIVE:
        if (s->ready) return 0;   /* one message in flight per connection (the client waits) */
        if (s->len + len + LWS_PRE > s->cap) {
            size_t cap = (s->len + len + LWS_PRE) * 2;
            unsigned char *b = realloc(s->buf, cap);
            if (!b) return -1;
            s->buf = b;
            s->cap = cap;
        }
        memcpy(s->buf + LWS_PRE + s->len, in, len);
        s->len += len;
        if (lws_is_final_fragment(wsi)) {
            s->binary = lws_frame_is_binary(wsi);
            s->ready = 1;
            lws_callback_on_writable(wsi);
        }
        return 0;
    case LWS_CALLBACK_SERVER_WRITEABLE:
        if (!s->ready) return 0;
        if (lws_write(wsi, s->buf + LWS_PRE, s->len, s->binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT) < (int)s->len)
            return -1;
        s->len = 0;
        s->ready = 0;
        return 0;
    case LWS_CALLBACK_CLOSED:
        free(s->buf);
        s->buf = NULL;
        return 0;
    default:
        return 0;
    }
}

static const struct lws_protocols protocols[] = {
    { "echo", callback, sizeof(struct per_session), 65536, 0, NULL, 0 },
    { NULL, NULL, 0, 0, 0, NULL, 0 },
};

static volatile int stop;
static void on_signal(int sig) { (void)sig; stop = 1; }

int main(int argc, char **argv)
{
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.port = argc > 1 ? atoi(argv[1]) : 7681;
    info.iface = "127.0.0.1";
    info.protocols = protocols;
    info.options = LWS_SERVER_OPTION_DISABLE_IPV6;
    info.fd_limit_per_thread = 20000;
    lws_set_log_level(LLL_ERR, NULL);
    struct lws_context *ctx = lws_create_context(&info);
    if (!ctx) return 1;
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    while (!stop && lws_service(ctx, 0) >= 0) {}
    lws_context_destroy(ctx);
    return 0;
}
