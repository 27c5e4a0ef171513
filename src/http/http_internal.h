/*
 * http_internal.h — the HTTP core's records: the request and response
 * every protocol fills, the table of operations a protocol implements
 * under uw_req_* / uw_res_* (message.c), and the server's connections and
 * workers (server.c, h1_conn.c).  Not a public interface.
 *
 * Layers, top down:
 *   message.c   uw_req_* / uw_res_*: HTTP semantics that hold for every
 *               protocol (status, fields, lengths, HEAD, limits), then a
 *               call into req->ops / res->ops
 *   h1_conn.c   HTTP/1.1 on a connection: buffers, reads and writes, the
 *               ops table; h1.c is its engine (bytes in, events out; head
 *               and chunk framing into a buffer), with no I/O
 *   server.c    the server object: listeners, acceptors, TLS handshake and
 *               ALPN, the worker pool, parked idle connections, shutdown
 */
#ifndef UWEB_HTTP_INTERNAL_H
#define UWEB_HTTP_INTERNAL_H

#include <uweb/http.h>
#include <uweb/net.h>

typedef struct uw_header {
    const char *name, *value;   /* NUL-terminated in the input buffer */
    size_t name_len, value_len;
} uw_header;

/* What a protocol does under the request and response calls.  message.c
 * has already applied what HTTP says for every protocol (a head is sent
 * once; no body for HEAD, 1xx, 204 and 304; a declared length is not
 * exceeded; the body limit), so these only move bytes. */
struct uw_http_upgraded;
typedef struct uw_http_ops {
    /* The next body bytes from the wire: the count (*data valid until the
     * next call), 0 at the end of the body, or a negative status. */
    ssize_t (*read_body)(uw_req *req, const void **data);
    /* Tells a client that waits for it to send the body (100 Continue). */
    int (*send_continue)(uw_req *req);
    /* Status and fields (res->status, res->hdrs); the body's framing from
     * res->no_body, res->has_length / res->content_length (else streamed). */
    int (*send_head)(uw_res *res);
    /* Body bytes lent until the handler returns (whole responses). */
    int (*send_body)(uw_res *res, const uw_slice *v, size_t n);
    /* Streamed body bytes: the caller's again once this returns. */
    int (*write_body)(uw_res *res, const void *data, size_t n);
    /* Sends what is pending now (the head of a streamed response). */
    int (*flush)(uw_res *res);
    /* The body is complete (HTTP/1.1: the last chunk). */
    int (*end)(uw_res *res);
    /* The response cannot be completed: the client must see it broken
     * (res->failed is set). */
    void (*abort)(uw_res *res);
    /* Switches protocols (HTTP/1.1 Upgrade, RFC 9110 §7.8): sends a 101
     * head with res->hdrs and hands the connection over (*up).  NULL:
     * the protocol cannot (HTTP/2). */
    int (*upgrade)(uw_res *res, struct uw_http_upgraded *up);
    /* Body bytes from a file by the kernel (uw_res_send_file): UW_OK, a
     * status, or 1 when this connection cannot (nothing was sent).  NULL:
     * the protocol cannot (HTTP/2). */
    int (*send_file)(uw_res *res, int fd, uint64_t off, uint64_t len);
} uw_http_ops;

/* A connection handed over by an upgrade, for the rest of the handler:
 * the protocol reads and writes nothing more on it, and closes it when
 * the handler returns (after calling res->upgrade_end). */
typedef struct uw_http_upgraded {
    uw_conn *c;
    const char *rest;           /* bytes read after the request head (the new protocol's) */
    size_t rest_len;
    const bool *stopping;       /* becomes true when the server stops */
} uw_http_upgraded;

struct uw_req {
    const uw_http_ops *ops;
    void *proto;                /* the protocol's exchange (HTTP/1.1: its worker) */
    uw_res *res;
    unsigned method;
    const char *method_name;
    char *path;                 /* NUL-terminated, without the query */
    size_t path_len;
    const char *query;          /* "" when none */
    int minor;
    bool secure;                /* over TLS */
    uw_conn *conn;              /* the connection it came on (its peer's address) */
    const uw_cidr *trust;       /* the configuration's --trust-proxy ranges */
    size_t ntrust;
    uw_header *headers;
    size_t nheaders;
    int64_t content_length;     /* -1 when not declared (chunked) */
    bool has_body;
    bool body_done;             /* the end of the body was handed out */
    bool expect_continue, continue_sent;
    bool body_error;            /* framing error or limit hit */
    bool body_limit_hit;        /* over max_body: answer 413 */
    uint64_t body_read, max_body;
    uint64_t body_extra;        /* framing bytes that count against max_body (HTTP/1.1:
                                 * chunk extensions and leading zeros) */
    const char *span;           /* body bytes read but not handed out */
    size_t span_len;
    uw_arena *arena;
    void *framework;            /* the web framework's per-request state; http never reads it */
};

struct uw_res {
    const uw_http_ops *ops;
    void *proto;
    int status;
    char *hdrs;                 /* "Name: value\r\n"... of the handler */
    size_t hdrs_len, hdrs_cap;
    bool head_sent, done, close, head_only, failed;
    bool no_body;               /* 1xx, 204, 304: no body, no framing */
    bool has_length;
    uint64_t content_length, body_sent;
    uw_arena *arena;
    int64_t io_timeout;
    bool upgraded;              /* the connection was handed over (uw__http_upgrade) */
    void (*upgrade_end)(void *arg);   /* called when the handler returns */
    void *upgrade_arg;
};

/* Starts an exchange: clears req and res and ties them to a protocol. */
void uw__http_exchange_init(uw_req *req, uw_res *res, const uw_http_ops *ops, void *proto,
                            uw_arena *arena, const uw_http_config *cfg, char *hdrs, size_t hdrs_cap);
/* After the handler: the answer it did not give (413, 400 or 500), or the
 * end of the stream it left open. */
void uw__http_exchange_finish(uw_req *req, uw_res *res);
/* Hands the connection over to another protocol: status 101 with the
 * fields set on res, then *up (uw_http_upgraded).  UW_EPROTO when the
 * protocol cannot or the answer has begun, or the write's status. */
int uw__http_upgrade(uw_req *req, uw_res *res, uw_http_upgraded *up);
/* Answers an error found before the handler ran, and closes after it. */
void uw__http_early_error(uw_res *res, int status, const char *why);
/* Sets the request's body limit (0: keep the server's); UW_ELIMIT (and
 * the request marked for 413) when the declared length is over it. */
int uw__req_limit_body(uw_req *req, uint64_t max_body);

/* Request-target forms (RFC 9112 §3.2) and their parse (target.c). */
enum uw_target_form { UW_TARGET_ORIGIN, UW_TARGET_ABSOLUTE, UW_TARGET_AUTHORITY, UW_TARGET_ASTERISK };
typedef struct uw_target {
    enum uw_target_form form;
    char *path;                 /* NUL-terminated: "/a/b", "*", or CONNECT's host:port */
    size_t path_len;
    const char *query;          /* after '?', "" when none */
} uw_target;
/* Parses target[0..len) (writable, NUL at len) in place: NULL when well
 * formed (t filled, pointers into target), else why it is not (answer
 * 400).  connect: the method is CONNECT (authority-form only). */
const char *uw__http_parse_target(char *target, size_t len, unsigned method, bool connect, uw_target *t);
/* A Host field value: uri-host [ ":" port ] (RFC 9110 §7.2). */
bool uw__http_host_ok(const char *value, size_t len);

/* ------------------------------------------------------------ server */

/* A connection, small while parked: it borrows a worker while it has a
 * request in flight. */
typedef struct uw_h1_held uw_h1_held;
typedef struct uw_http_conn {
    uw_conn *c;
    struct uw_http_port *port;    /* its listener (NULL: uw_http_server_serve_conn) */
    uw_http_server *srv;
    struct uw_http_worker *w;
    uw_h1_held *held;             /* a head cut short by an eviction (h1_conn.c) */
    struct uw_http_conn *prev, *next;   /* idle list while parked, or the list waiting for a worker */
    int64_t idle_since;           /* parked since, or waiting since */
    bool parked, waiting;
    bool promised;                /* waiting, and an evicted worker's place is for it */
    bool ready;                   /* TLS handshake done, protocol chosen */
    bool upgraded;                /* handed over to another protocol (WebSocket) */
    bool secure;
    bool h2;                      /* speaks HTTP/2 (ALPN "h2", or h2c's preface) */
    bool h2c_checked;             /* a plain h2c listener looked for the preface */
    bool proxied;                 /* its PROXY header was read */
} uw_http_conn;

/* The dispatch a connection's requests go to. */
static inline uw_http_dispatch uw__conn_dispatch(const uw_http_conn *hc, void **arg)
{
    if (hc->port && hc->port->conf.dispatch) {
        *arg = hc->port->conf.arg;
        return hc->port->conf.dispatch;
    }
    *arg = hc->srv->arg;
    return hc->srv->dispatch;
}

/* A worker: a task that serves one connection at a time, and the memory
 * of the protocol it speaks there. */
typedef struct uw_h1 uw_h1;
typedef struct uw_http_worker {
    uw_task *task;
    uw_http_server *srv;
    uw_http_conn *hc;
    uw_waitq wake;
    struct uw_http_worker *next_free;
    int64_t free_since;
    struct uw_http_worker *prev_busy, *next_busy;
    /* on the list of workers waiting for the rest of a request head */
    struct uw_http_worker *slow_prev, *slow_next;
    int64_t head_since;
    bool slow, evicted, retire;
    uw_h1 *h1;
} uw_http_worker;

/* Under a memory budget: a worker whose request head has stalled may be
 * taken for another connection (server.c). */
void uw__http_slow_insert(uw_http_worker *w);
void uw__http_slow_unlink(uw_http_worker *w);

/* HTTP/1.1 on a connection (h1_conn.c). */
enum uw_h1_outcome {
    UW_H1_PARK,                   /* idle at a request boundary, or its head held: park it */
    UW_H1_CLOSE,                  /* close (FIN) */
    UW_H1_LINGER,                 /* answered "close": the client may still be sending */
    UW_H1_RESET,                  /* broken exchange: close with RST */
};
uw_h1 *uw__h1_new(const uw_http_config *cfg);
void uw__h1_free(uw_h1 *h);
/* Bytes one uw_h1 holds (for the worker budget). */
size_t uw__h1_bytes(const uw_http_config *cfg);
/* Frees a held head (its connection closes). */
void uw__h1_held_free(uw_http_server *srv, uw_h1_held *held);
/* Serves requests on hc until it is idle with nothing buffered or must
 * close.  Everything pending is sent before it returns. */
enum uw_h1_outcome uw__h1_serve(uw_h1 *h, uw_http_conn *hc);
/* Sends "503 Service Unavailable: why" without waiting. */
void uw__h1_reject_busy(uw_conn *c, const char *why);
/* Stops sending, then reads and drops the client's bytes for a moment, so
 * the kernel does not reset the connection before the answer is read. */
void uw__h1_linger_close(uw_conn *c);

/* Puts n bytes (at most 64) already read from the connection before the
 * next uw__h1_serve's input (the h2c preface check read them). */
void uw__h1_preload(uw_h1 *h, const void *p, size_t n);

/* HTTP/2 on a connection (h2_conn.c): serves hc in the calling task
 * until the connection ends, each stream in a task of its own running
 * the same dispatch.  pre[0..n): bytes already read (h2c's preface).
 * UW_H1_CLOSE or UW_H1_RESET. */
#define UW_H2_PREFACE "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
#define UW_H2_PREFACE_LEN 24
enum uw_h1_outcome uw__h2_serve(uw_http_conn *hc, const void *pre, size_t n);
/* False on a target built without nghttp2 (then ALPN must not offer h2). */
bool uw__h2_server_available(void);

void uw__http_log(const uw_http_server *srv, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The same at a level (UW_LOG_*): written when the configuration's
 * log_level is at least it (uw__http_log is UW_LOG_INFO). */
void uw__http_log_at(const uw_http_server *srv, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The "Date: ...\r\n" line, current to the second. */
const char *uw__http_date_line(uw_http_server *srv, size_t *len);

/* The target's default worker memory budget (budget_unix.c: none;
 * budget_uk.c: a share of the guest heap). */
uint64_t uw__http_memory_budget(void);

/* proxy.c: addresses (IPv4 as ::ffff:a.b.c.d; 4 or 6 by the text's
 * form, 0 when it is none), the client of X-Forwarded-For (buf holds the
 * peer's address and gets the client's), and the PROXY protocol. */
int uw__ip_parse(const char *s, size_t n, uint8_t out[16]);
void uw__ip_format(const uint8_t a[16], char *buf, size_t n);
void uw__xff_client(const uw_req *req, char *buf, size_t n);
#define UW_PROXY_V1_MAX 107         /* a version 1 line, with its CRLF */
/* A PROXY header (version 1 or 2) at the start of buf[0..n): its length
 * once known (a version 2 header may be longer than n: its TLVs; peer
 * then holds the source as "a.b.c.d:port" or "[v6]:port", or "" for
 * LOCAL, UNKNOWN and non-TCP: the connection's own peer stands); 0 when
 * more is needed: *need bytes, which never read past the header;
 * UW_EPROTO when it is not one. */
ssize_t uw__proxy_parse(const uint8_t *buf, size_t n, size_t *need, char *peer, size_t peer_n);
/* Reads the PROXY header of a new connection c whose peer must be in
 * trust; *out is c or a connection wrapping it whose peer is the
 * header's source.  UW_OK, or a status with why (then close c). */
int uw__proxy_accept(uw_conn *c, const uw_cidr *trust, size_t ntrust, int64_t deadline, uw_conn **out,
                     char *why, size_t why_n);

#endif
