/*
 * sse.h — server-sent events (the HTML standard's text/event-stream) on
 * a streamed response.
 *
 *     static void clock(uw_req *req, uw_res *res)
 *     {
 *         if (uw_sse_begin(res) != UW_OK) return;
 *         for (int i = 0;; i++) {
 *             char n[32];
 *             snprintf(n, sizeof n, "%d", i);
 *             if (uw_sse_send(res, "tick", n, n) != UW_OK) return;   // the client left
 *             if (uw_sse_wait(res, NULL, uw_now() + UW_SEC(1), 0) == UW_ECLOSED) return;
 *         }
 *     }
 *
 * An EventSource reconnects by itself and sends Last-Event-ID (read it
 * with uw_req_header).  While a handler waits for something to send,
 * uw_sse_wait writes a comment line every keep-alive interval, so
 * proxies keep the connection and a client that left is noticed (its
 * write fails).  Each event is one write of the response (one chunk).
 */
#ifndef UWEB_SSE_H
#define UWEB_SSE_H

#include <uweb/http.h>

#define UW_SSE_KEEPALIVE UW_SEC(15)

/* Starts the stream: 200, Content-Type: text/event-stream, Cache-Control:
 * no-store, X-Accel-Buffering: no (fields set before stay).  UW_OK or
 * the write's status. */
int uw_sse_begin(uw_res *res);

/* One event: "event: E" (event NULL: the default "message"), each line
 * of data as "data: ...", "id: I" (NULL: none).  event and id must hold
 * no CR or LF, id no NUL (UW_EINVAL); data's lines may end in LF, CRLF
 * or CR.  UW_OK, or the write's status (UW_ECLOSED: the client left). */
int uw_sse_send(uw_res *res, const char *event, const char *data, const char *id);
/* A comment line (": text"), ignored by clients. */
int uw_sse_comment(uw_res *res, const char *text);
/* Tells the client how long to wait before reconnecting ("retry: ms"). */
int uw_sse_retry(uw_res *res, int64_t ms);

/* Waits until q is woken (UW_OK; q NULL: only the deadline), or the
 * deadline (UW_ETIMEDOUT), writing ": keep-alive" every keepalive ns
 * (0: UW_SSE_KEEPALIVE) meanwhile.  UW_ECLOSED when such a write failed
 * (the client left), UW_ECANCELED. */
int uw_sse_wait(uw_res *res, uw_waitq *q, int64_t deadline, int64_t keepalive);

#endif
