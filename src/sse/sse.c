/*
 * Server-sent events: the event-stream format written on a streamed
 * response (uw_res_begin / uw_res_write), and keep-alive comments.
 */
#include <uweb/sse.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int uw_sse_begin(uw_res *res)
{
    if (uw_res_started(res)) return UW_EPROTO;
    uw_res_status(res, 200);
    int r = uw_res_header(res, "Content-Type", "text/event-stream; charset=utf-8");
    if (r == UW_OK) r = uw_res_header(res, "Cache-Control", "no-store");
    if (r == UW_OK) r = uw_res_header(res, "X-Accel-Buffering", "no");
    if (r == UW_OK) r = uw_res_begin(res);
    return r;
}

static bool one_line(const char *s)
{
    return !s || !strpbrk(s, "\r\n");
}

static char *put(char *o, const char *s, size_t n)
{
    memcpy(o, s, n);
    return o + n;
}

int uw_sse_send(uw_res *res, const char *event, const char *data, const char *id)
{
    if (!one_line(event) || !one_line(id)) return UW_EINVAL;
    if (!data) data = "";
    size_t dl = strlen(data), lines = 1;
    for (size_t i = 0; i < dl; i++)
        if (data[i] == '\n' || (data[i] == '\r' && data[i + 1] != '\n')) lines++;
    size_t cap = dl + lines * 7 + (event ? strlen(event) + 8 : 0) + (id ? strlen(id) + 5 : 0) + 2;
    char stackbuf[1024], *buf = cap <= sizeof stackbuf ? stackbuf : malloc(cap);
    if (!buf) return UW_ENOMEM;
    char *o = buf;
    if (event) {
        o = put(o, "event: ", 7);
        o = put(o, event, strlen(event));
        *o++ = '\n';
    }
    const char *s = data, *end = data + dl;
    for (;;) {
        const char *e = s;
        while (e < end && *e != '\n' && *e != '\r') e++;
        o = put(o, "data: ", 6);
        o = put(o, s, (size_t)(e - s));
        *o++ = '\n';
        if (e == end) break;
        s = e + (e[0] == '\r' && e + 1 < end && e[1] == '\n' ? 2 : 1);
        if (s == end) break;        /* a final line break ends the last line */
    }
    if (id) {
        o = put(o, "id: ", 4);
        o = put(o, id, strlen(id));
        *o++ = '\n';
    }
    *o++ = '\n';
    int r = uw_res_write(res, buf, (size_t)(o - buf));
    if (buf != stackbuf) free(buf);
    return r;
}

int uw_sse_comment(uw_res *res, const char *text)
{
    if (!one_line(text)) return UW_EINVAL;
    char buf[256];
    int n = snprintf(buf, sizeof buf, ": %s\n\n", text ? text : "");
    if (n < 0 || (size_t)n >= sizeof buf) return UW_EINVAL;
    return uw_res_write(res, buf, (size_t)n);
}

int uw_sse_retry(uw_res *res, int64_t ms)
{
    char buf[48];
    int n = snprintf(buf, sizeof buf, "retry: %lld\n\n", (long long)ms);
    return uw_res_write(res, buf, (size_t)n);
}

int uw_sse_wait(uw_res *res, uw_waitq *q, int64_t deadline, int64_t keepalive)
{
    if (keepalive <= 0) keepalive = UW_SSE_KEEPALIVE;
    uw_waitq none = UW_WAITQ_INIT;
    for (;;) {
        int64_t next = uw_now() + keepalive;
        int r = uw_wait(q ? q : &none, next < deadline ? next : deadline);
        if (r != UW_ETIMEDOUT) return r;
        if (uw_now() >= deadline) return UW_ETIMEDOUT;
        if (uw_sse_comment(res, "keep-alive") != UW_OK) return UW_ECLOSED;
    }
}
