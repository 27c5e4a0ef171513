/*
 * A WebSocket for handlers: the Upgrade handshake over HTTP/1.1 (plain or
 * TLS: only uw_conn calls), whole messages in, frames out, pings for
 * liveness, the closing handshake.  The codec (src/ws/: frame.c,
 * deflate.c, handshake.c) does the protocol; this file does the waiting.
 *
 * Input: a 16 KiB buffer, allocated when bytes are awaited and freed
 * while the WebSocket waits with nothing buffered and no message begun
 * (an idle WebSocket holds no input buffer).  A message is gathered in
 * its own buffer (freed at the next read past 64 KiB, and when idle).
 */
#include <uweb/ws.h>
#include <uweb/net.h>
#include "../http/http_internal.h"
#include "../util/util.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define IN_CAP (16 * 1024)
#define KEEP_MSG (64 * 1024)

struct uw_ws {
    uw_conn *c;
    const bool *stopping;
    uw_ws_options o;
    uw_ws_parser p;
    uint8_t *in;
    size_t in_len, in_pos, in_cap;
    uint8_t *msg;
    size_t msg_len, msg_cap;
    uint8_t msg_type;
    bool msg_started, msg_handed;     /* a message is being gathered; the last read returned one */
    bool msg_compressed;
    uint32_t utf8;                    /* of an inflated text message */
    bool pmd_on;
    uw_ws_pmd pmd;
    uw_ws_inflater *inf;
    char *protocol;
    int64_t last_input, ping_at;
    bool ping_out;
    bool close_sent, close_rcvd, dead;
    int peer_code;
    char peer_reason[124];
    bool sending;                     /* a frame is being written */
    uw_waitq send_q;
    uw_waitq readable;                /* the notify target when no wake queue is given */
    uw_waitq *waiting_on;
    bool notified;
    uint8_t *z;                       /* a compressed message being sent */
    size_t z_len, z_cap;
};

void uw_ws_options_default(uw_ws_options *o)
{
    memset(o, 0, sizeof *o);
    o->max_message = 16 * 1024 * 1024;
    o->max_frame = 0;
    o->ping_interval = UW_SEC(30);
    o->ping_timeout = UW_SEC(20);
    o->write_timeout = UW_SEC(30);
    o->close_timeout = UW_SEC(5);
    o->compression_level = 6;
    o->compress_min = 128;
    o->client_max_window_bits = 15;
}

/* ------------------------------------------------------------ handshake */

/* True when the comma-separated list value holds token (any case). */
static bool list_has(const char *value, const char *token)
{
    size_t tl = strlen(token);
    for (const char *s = value; s && *s;) {
        while (*s == ' ' || *s == '\t' || *s == ',') s++;
        const char *e = s;
        while (*e && *e != ',') e++;
        const char *t = e;
        while (t > s && (t[-1] == ' ' || t[-1] == '\t')) t--;
        if ((size_t)(t - s) == tl && strncasecmp(s, token, tl) == 0) return true;
        s = e;
    }
    return false;
}

/* Any field of that name whose list holds token. */
static bool fields_have(const uw_req *req, const char *name, const char *token)
{
    for (size_t i = 0; i < uw_req_header_count(req); i++) {
        const char *n, *v;
        uw_req_header_at(req, i, &n, &v);
        if (strcasecmp(n, name) == 0 && list_has(v, token)) return true;
    }
    return false;
}

bool uw_ws_requested(const uw_req *req)
{
    return uw_req_method(req) == UW_GET && fields_have(req, "Upgrade", "websocket");
}

/* A Sec-WebSocket-Key: base64 of 16 bytes (22 characters and "=="). */
static bool key_ok(const char *k)
{
    if (!k || strlen(k) != 24 || k[22] != '=' || k[23] != '=') return false;
    for (int i = 0; i < 22; i++)
        if (uw__b64val((unsigned char)k[i]) < 0) return false;
    return true;
}

static void ws_free(uw_ws *ws)
{
    uw_ws_inflater_free(ws->inf);
    free(ws->in);
    free(ws->msg);
    free(ws->z);
    free(ws->protocol);
    free(ws);
}

static void ws_end(void *arg);

static int refuse(uw_res *res, int status, const char *why)
{
    if (status == 426) {
        uw_res_header(res, "Upgrade", "websocket");
        uw_res_header(res, "Sec-WebSocket-Version", "13");
    }
    uw_res_error(res, status, why);
    return UW_EINVAL;
}

int uw_ws_accept(uw_req *req, uw_res *res, uw_ws **out)
{
    return uw_ws_accept_opts(req, res, out, NULL);
}

int uw_ws_accept_opts(uw_req *req, uw_res *res, uw_ws **out, const uw_ws_options *opt)
{
    *out = NULL;
    if (uw_res_started(res)) return UW_EPROTO;
    if (!uw_ws_requested(req) || !fields_have(req, "Connection", "upgrade"))
        return refuse(res, 426, "this address speaks WebSocket (Upgrade: websocket, Connection: Upgrade)");
    if (uw_req_http_minor(req) < 1) return refuse(res, 400, "WebSocket needs HTTP/1.1");
    const char *ver = uw_req_header(req, "Sec-WebSocket-Version");
    if (!ver || strcmp(ver, "13") != 0) return refuse(res, 426, "Sec-WebSocket-Version must be 13");
    const char *key = uw_req_header(req, "Sec-WebSocket-Key");
    if (!key_ok(key)) return refuse(res, 400, "Sec-WebSocket-Key is not 16 bytes in base64");
    if (uw_req_content_length(req) != 0) return refuse(res, 400, "a WebSocket handshake has no body");

    uw_ws *ws = calloc(1, sizeof *ws);
    if (!ws) {
        uw_res_error(res, 500, "out of memory");
        return UW_ENOMEM;
    }
    if (opt) ws->o = *opt;
    else uw_ws_options_default(&ws->o);
    if (!ws->o.max_frame) ws->o.max_frame = ws->o.max_message;

    char accept[29];
    uw_ws_accept_key(key, accept);
    int r = UW_OK;
    if (r == UW_OK) r = uw_res_header(res, "Upgrade", "websocket");
    if (r == UW_OK) r = uw_res_header(res, "Connection", "Upgrade");
    if (r == UW_OK) r = uw_res_header(res, "Sec-WebSocket-Accept", accept);
    if (!ws->o.no_compression) {
        const char *vals[8];
        size_t nv = 0;
        for (size_t i = 0; i < uw_req_header_count(req) && nv < 8; i++) {
            const char *n, *v;
            uw_req_header_at(req, i, &n, &v);
            if (strcasecmp(n, "Sec-WebSocket-Extensions") == 0) vals[nv++] = v;
        }
        char answer[160];
        if (nv && uw_ws_pmd_negotiate(vals, nv, ws->o.client_max_window_bits, &ws->pmd, answer, sizeof answer)) {
            ws->pmd_on = true;
            if (r == UW_OK) r = uw_res_header(res, "Sec-WebSocket-Extensions", answer);
        }
    }
    if (ws->o.protocol && fields_have(req, "Sec-WebSocket-Protocol", ws->o.protocol)) {
        ws->protocol = strdup(ws->o.protocol);
        if (r == UW_OK) r = ws->protocol ? uw_res_header(res, "Sec-WebSocket-Protocol", ws->protocol) : UW_ENOMEM;
    }
    if (r == UW_OK && ws->pmd_on && !(ws->inf = uw_ws_inflater_new(&ws->pmd))) r = UW_ENOMEM;
    if (r != UW_OK) {
        ws_free(ws);
        uw_res_error(res, 500, "cannot answer the WebSocket handshake");
        return r;
    }
    uw_http_upgraded up;
    r = uw__http_upgrade(req, res, &up);
    if (r != UW_OK) {
        ws_free(ws);
        if (r == UW_EPROTO && !uw_res_started(res))
            uw_res_error(res, 400, "WebSocket is served over HTTP/1.1 only");
        return r;
    }
    ws->c = up.c;
    ws->stopping = up.stopping;
    uw_ws_parser_init(&ws->p, &(uw_ws_parser_config){
        .server = true, .rsv1 = ws->pmd_on, .max_frame = ws->o.max_frame,
        /* a compressed message may be larger on the wire than inflated,
         * a little: the inflated size has its own check */
        .max_message = ws->pmd_on ? ws->o.max_message + ws->o.max_message / 8 + 1024 : ws->o.max_message });
    if (up.rest_len) {
        /* frames the client sent right after its request */
        size_t n = up.rest_len;
        ws->in_cap = IN_CAP > n ? IN_CAP : n;
        ws->in = malloc(ws->in_cap);
        if (!ws->in) {
            ws->dead = true;
        } else {
            memcpy(ws->in, up.rest, n);
            ws->in_len = n;
        }
    }
    ws->last_input = uw_now();
    res->upgrade_end = ws_end;
    res->upgrade_arg = ws;
    *out = ws;
    return UW_OK;
}

/* ------------------------------------------------------------ writing */

/* Writes one frame, after any frame another task is writing.  A write
 * that fails or times out ends the connection. */
static int send_frame(uw_ws *ws, unsigned opcode, bool rsv1, const void *data, size_t len, int64_t deadline)
{
    if (ws->dead) return UW_ECLOSED;
    while (ws->sending) {
        int r = uw_wait(&ws->send_q, deadline);
        if (r != UW_OK) return r;
        if (ws->dead) return UW_ECLOSED;
    }
    ws->sending = true;
    uint8_t head[UW_WS_HEAD_MAX];
    uw_slice v[2] = { { head, uw_ws_write_head(head, opcode, true, rsv1, len, NULL) }, { data, len } };
    int r = uw_conn_writev(ws->c, v, len ? 2 : 1, deadline);
    ws->sending = false;
    uw_wake_one(&ws->send_q);
    if (r != UW_OK) ws->dead = true;
    return r;
}

static int send_close(uw_ws *ws, int code, const char *reason, int64_t deadline)
{
    if (ws->close_sent || ws->dead) return ws->dead ? UW_ECLOSED : UW_OK;
    uint8_t pl[125];
    size_t n = uw_ws_close_payload(pl, code, reason);
    ws->close_sent = true;
    return send_frame(ws, UW_WS_CLOSE, false, pl, n, deadline);
}

/* Makes room for `need` bytes in a growing buffer (doubling from 4 KiB,
 * at most max). */
static int grow(uint8_t **buf, size_t *cap, size_t need, size_t max)
{
    if (need <= *cap) return UW_OK;
    size_t c = *cap ? *cap : 4096;
    while (c < need) c *= 2;
    if (c > max) c = max;
    uint8_t *b = realloc(*buf, c);
    if (!b) return UW_ENOMEM;
    *buf = b;
    *cap = c;
    return UW_OK;
}

static int z_sink(void *arg, const uint8_t *p, size_t n)
{
    uw_ws *ws = arg;
    if (grow(&ws->z, &ws->z_cap, ws->z_len + n, SIZE_MAX) != UW_OK) return UW_ENOMEM;
    memcpy(ws->z + ws->z_len, p, n);
    ws->z_len += n;
    return UW_OK;
}

int uw_ws_send(uw_ws *ws, unsigned type, const void *data, size_t len)
{
    if (type != UW_WS_TEXT && type != UW_WS_BINARY) return UW_EINVAL;
    if (ws->close_sent || ws->dead) return UW_ECLOSED;
    int64_t deadline = uw_now() + ws->o.write_timeout;
    if (ws->pmd_on && len >= ws->o.compress_min && !ws->sending) {
        ws->z_len = 0;
        int r = uw_ws_deflate_message(&ws->pmd, ws->o.compression_level, data, len, z_sink, ws);
        if (r == UW_OK && ws->z_len < len) {
            r = send_frame(ws, type, true, ws->z, ws->z_len, deadline);
            if (ws->z_cap > KEEP_MSG) {
                free(ws->z);
                ws->z = NULL;
                ws->z_cap = 0;
            }
            return r;
        }
    }
    return send_frame(ws, type, false, data, len, deadline);
}

int uw_ws_send_text(uw_ws *ws, const char *text)
{
    return uw_ws_send(ws, UW_WS_TEXT, text, strlen(text));
}

int uw_ws_ping(uw_ws *ws, const void *data, size_t len)
{
    if (len > 125) return UW_EINVAL;
    if (ws->close_sent) return UW_ECLOSED;
    return send_frame(ws, UW_WS_PING, false, data, len, uw_now() + ws->o.write_timeout);
}

/* ------------------------------------------------------------ reading */

static int msg_sink(void *arg, const uint8_t *p, size_t n)
{
    uw_ws *ws = arg;
    if (ws->msg_len + n > ws->o.max_message) return UW_ELIMIT;
    if (grow(&ws->msg, &ws->msg_cap, ws->msg_len + n + 1, (size_t)ws->o.max_message + 1) != UW_OK) return UW_ENOMEM;
    memcpy(ws->msg + ws->msg_len, p, n);
    ws->msg_len += n;
    if (ws->msg_compressed && ws->msg_type == UW_WS_TEXT && !uw_ws_utf8_feed(&ws->utf8, p, n)) return UW_EPROTO;
    return UW_OK;
}

/* The peer broke the protocol: close with code and end. */
static int fail_conn(uw_ws *ws, int code, const char *why)
{
    (void)why;
    send_close(ws, code, why, uw_now() + UW_SEC(1));
    ws->peer_code = UW_WS_ABNORMAL;
    ws->dead = true;
    return UW_ECLOSED;
}

/* One event.  1: a whole message is ready; 0: go on; < 0: a status to
 * return. */
static int on_event(uw_ws *ws, const uw_ws_event *ev)
{
    switch (ev->kind) {
    case UW_WS_EV_MORE:
        return 0;
    case UW_WS_EV_ERROR:
        return fail_conn(ws, ev->close_code, ev->why);
    case UW_WS_EV_DATA: {
        if (!ws->msg_started) {
            ws->msg_started = true;
            ws->msg_type = ev->opcode;
            ws->msg_compressed = ev->compressed;
            ws->msg_len = 0;
            ws->utf8 = 0;
        }
        int r = ws->msg_compressed
                    ? uw_ws_inflate(ws->inf, ev->data, ev->len, ev->message_end, msg_sink, ws)
                    : msg_sink(ws, ev->data, ev->len);
        if (r == UW_ELIMIT) return fail_conn(ws, UW_WS_TOO_BIG, "message larger than the limit");
        if (r == UW_EPROTO)
            return fail_conn(ws, UW_WS_INVALID_DATA,
                             ws->msg_type == UW_WS_TEXT ? "text message is not UTF-8" : "bad deflate stream");
        if (r != UW_OK) return fail_conn(ws, UW_WS_INTERNAL_ERROR, "out of memory");
        if (!ev->message_end) return 0;
        if (ws->msg_compressed && ws->msg_type == UW_WS_TEXT && !uw_ws_utf8_complete(ws->utf8))
            return fail_conn(ws, UW_WS_INVALID_DATA, "text message ends inside a character");
        if (ws->msg_len + 1 > ws->msg_cap && msg_sink(ws, (const uint8_t *)"", 0) != UW_OK)
            return fail_conn(ws, UW_WS_INTERNAL_ERROR, "out of memory");
        ws->msg[ws->msg_len] = 0;
        ws->msg_started = false;
        return 1;
    }
    case UW_WS_EV_CONTROL:
        if (ev->opcode == UW_WS_PING) {
            if (!ws->close_sent) send_frame(ws, UW_WS_PONG, false, ev->data, ev->len, uw_now() + ws->o.write_timeout);
            return 0;
        }
        if (ev->opcode == UW_WS_PONG) {
            ws->ping_out = false;
            return 0;
        }
        /* a close: echo its code (RFC 6455 §5.5.1) and end */
        ws->close_rcvd = true;
        ws->peer_code = ev->close_code;
        snprintf(ws->peer_reason, sizeof ws->peer_reason, "%s", ev->why ? ev->why : "");
        send_close(ws, ev->close_code == UW_WS_NO_STATUS ? 0 : ev->close_code, NULL, uw_now() + UW_SEC(1));
        ws->dead = true;
        return UW_ECLOSED;
    }
    return 0;
}

static void on_readable(uw_conn *c, void *arg)
{
    uw_ws *ws = arg;
    (void)c;
    ws->notified = true;
    if (ws->waiting_on) uw_wake_one(ws->waiting_on);
}

/* Nothing buffered and no message begun: give the buffers back. */
static void go_idle(uw_ws *ws)
{
    free(ws->in);
    ws->in = NULL;
    ws->in_len = ws->in_pos = ws->in_cap = 0;
    if (!ws->msg_started && ws->msg_cap) {
        free(ws->msg);
        ws->msg = NULL;
        ws->msg_cap = ws->msg_len = 0;
    }
    uw_ws_inflater_idle(ws->inf);
}

static int read_impl(uw_ws *ws, uw_ws_msg *m, uw_waitq *wake, int64_t deadline)
{
    if (ws->dead || ws->close_rcvd) return UW_ECLOSED;
    if (ws->msg_handed) {
        ws->msg_handed = false;
        ws->msg_len = 0;
        if (ws->msg_cap > KEEP_MSG) {
            free(ws->msg);
            ws->msg = NULL;
            ws->msg_cap = 0;
        }
    }
    bool waited = false;
    for (;;) {
        while (ws->in_pos < ws->in_len) {
            uw_ws_event ev;
            ws->in_pos += uw_ws_parse(&ws->p, ws->in + ws->in_pos, ws->in_len - ws->in_pos, &ev);
            int r = on_event(ws, &ev);
            if (r < 0) return r;
            if (r == 1) {
                m->type = ws->msg_type;
                m->data = ws->msg;
                m->len = ws->msg_len;
                ws->msg_handed = true;
                return UW_OK;
            }
            if (ev.kind == UW_WS_EV_MORE) break;
        }
        if (ws->in_pos == ws->in_len) ws->in_pos = ws->in_len = 0;
        /* With a wake queue, once a wait ended: back to the caller, which
         * looks at what others queued (a wake-up in the same round as the
         * data would otherwise be lost). */
        if (wake && waited) return 1;
        bool idle = ws->in_len == 0 && !ws->msg_started && uw_ws_parser_between(&ws->p);

        /* When to act on liveness: a ping after ping_interval of silence,
         * the end ping_timeout after an unanswered ping. */
        int64_t now = uw_now(), timer = UW_FOREVER;
        if (ws->o.ping_interval >= 0)
            timer = ws->ping_out ? ws->ping_at + ws->o.ping_timeout : ws->last_input + ws->o.ping_interval;
        int64_t dl = deadline < timer ? deadline : timer;
        int r = UW_OK;
        bool woken = false;
        if (wake || idle) {
            if (idle) go_idle(ws);
            if (!uw_conn_may_read(ws->c)) {
                uw_waitq *q = wake ? wake : &ws->readable;
                ws->notified = false;
                ws->waiting_on = q;
                uw_conn_set_notify(ws->c, on_readable, ws);
                r = uw_wait(q, dl);
                uw_conn_set_notify(ws->c, NULL, NULL);
                ws->waiting_on = NULL;
                if (r == UW_OK && !ws->notified) woken = true;
                if (r == UW_OK) waited = true;
            }
        }
        if (woken) return 1;
        ssize_t n = r;
        if (r == UW_OK) {
            if (!ws->in) {
                if (!(ws->in = malloc(IN_CAP))) return fail_conn(ws, UW_WS_INTERNAL_ERROR, "out of memory");
                ws->in_cap = IN_CAP;
            }
            if (ws->in_pos) {                /* a partial frame head (< 14 bytes) to the front */
                memmove(ws->in, ws->in + ws->in_pos, ws->in_len - ws->in_pos);
                ws->in_len -= ws->in_pos;
                ws->in_pos = 0;
            }
            /* after a wake-up, take what is there; else wait for it */
            n = uw_conn_read(ws->c, ws->in + ws->in_len, ws->in_cap - ws->in_len, (wake || idle) ? 0 : dl);
            if (n == UW_ETIMEDOUT && (wake || idle) && uw_now() < dl) continue;   /* a TLS record not whole yet */
        }
        if (n > 0) {
            ws->in_len += (size_t)n;
            ws->last_input = uw_now();
            ws->ping_out = false;
            continue;
        }
        if (n == 0 || n == UW_ECLOSED || n == UW_EPROTO || n == UW_EIO) {
            ws->peer_code = UW_WS_ABNORMAL;
            ws->dead = true;
            return UW_ECLOSED;
        }
        if (n == UW_ECANCELED) {
            /* the server stops (or the task was canceled): going away */
            send_close(ws, UW_WS_GOING_AWAY, "server shutting down", 0);
            ws->dead = true;
            return UW_ECANCELED;
        }
        if (n != UW_ETIMEDOUT) return fail_conn(ws, UW_WS_INTERNAL_ERROR, "read failed");
        now = uw_now();
        if (now >= timer && ws->o.ping_interval >= 0) {
            if (ws->ping_out) {
                ws->peer_code = UW_WS_ABNORMAL;
                ws->dead = true;         /* no answer: the peer is gone */
                return UW_ETIMEDOUT;
            }
            ws->ping_out = true;
            ws->ping_at = now;
            send_frame(ws, UW_WS_PING, false, "uweb", 4, now + ws->o.write_timeout);
            continue;
        }
        if (now >= deadline) return UW_ETIMEDOUT;
    }
}

int uw_ws_read(uw_ws *ws, uw_ws_msg *m, int64_t deadline)
{
    return read_impl(ws, m, NULL, deadline);
}

int uw_ws_read_or_wake(uw_ws *ws, uw_ws_msg *m, uw_waitq *wake, int64_t deadline)
{
    return read_impl(ws, m, wake, deadline);
}

/* After our close: reads (and drops) until the peer's close or the
 * timeout. */
static void await_close(uw_ws *ws)
{
    int64_t deadline = uw_now() + ws->o.close_timeout;
    ws->o.ping_interval = -1;
    while (!ws->dead && !ws->close_rcvd) {
        uw_ws_msg m;
        int r = read_impl(ws, &m, NULL, deadline);
        if (r != UW_OK) break;
    }
    ws->dead = true;
}

int uw_ws_close(uw_ws *ws, int code, const char *reason)
{
    if (ws->dead || ws->close_sent) {
        ws->dead = true;
        return UW_OK;
    }
    int r = send_close(ws, code, reason, uw_now() + ws->o.write_timeout);
    if (r == UW_OK) await_close(ws);
    ws->dead = true;
    return r;
}

/* The handler returned: a close if none was sent, then everything goes. */
static void ws_end(void *arg)
{
    uw_ws *ws = arg;
    if (!ws->dead && !ws->close_sent) {
        bool away = (ws->stopping && *ws->stopping) || uw_canceled();
        if (away) send_close(ws, UW_WS_GOING_AWAY, "server shutting down", 0);
        else uw_ws_close(ws, UW_WS_NORMAL, NULL);
    }
    ws_free(ws);
}

int uw_ws_close_code(const uw_ws *ws) { return ws->peer_code; }
const char *uw_ws_close_reason(const uw_ws *ws) { return ws->peer_reason; }
bool uw_ws_compressed(const uw_ws *ws) { return ws->pmd_on; }
const char *uw_ws_protocol(const uw_ws *ws) { return ws->protocol; }
