/*
 * http.h — HTTP requests and responses, whatever the wire, and the server
 * that carries them.
 *
 * A handler (uw_http_dispatch) gets a request and a response and uses the
 * uw_req_* and uw_res_* calls below.  They are the same for every
 * protocol: each protocol (HTTP/1.1 today, HTTP/2 next) implements a small
 * table of operations under them — read the body, send the head, write
 * the body, end, flush, abort — so a handler never knows which one it
 * answers.  The web framework (web.h) is such a handler: a router,
 * middlewares and uw_main.
 *
 * The server is an object the caller owns; a process may run any number
 * (:80 and :443 of one service, two servers side by side in a test).
 * Each listener says which protocol stack its connections get: plain
 * HTTP/1.1, or TLS and then the protocol ALPN picks.  The server does not
 * own the runtime and handles no signals (uw_main does both):
 *
 *     uw_rt_init();
 *     uw_http_server srv;
 *     uw_http_server_init(&srv, &cfg, dispatch, arg);
 *     int port = uw_http_server_listen(&srv, &(uw_http_listen){ .addr = "127.0.0.1", .port = 8080 });
 *     uw_http_server_start(&srv);
 *     uw_rt_run();              // until some task called uw_http_server_stop(&srv)
 *     uw_http_server_fini(&srv);
 *     uw_rt_fini();
 *
 * Connections: requests on a connection are answered in order
 * (pipelining); bodies stream to the handler; responses are gathered into
 * one write per batch.  Idle keep-alive connections hold no task and no
 * buffers: a connection borrows a worker (task + stack + buffers) while
 * it has a request in flight and returns it when it goes idle, so 10,000
 * idle connections cost little more than their sockets.
 *
 * Memory: a worker costs its stack, an input buffer (the head limit plus
 * room for body reads) and a 16 KiB output buffer.  Under a memory budget
 * (the default on unikernels, sized from the guest heap so lwIP keeps its
 * share) at most budget / worker-size workers exist.  Past that, a
 * connection with a request to serve takes the worker of the one whose
 * head has been trickling in longest (a slowloris): what came of that
 * head is kept with its connection (a few hundred bytes, up to a quarter
 * of the budget for all; beyond, 503) and parsing goes on when it sends
 * more and gets a worker again.  A connection that finds no worker
 * within a second is answered 503.  Free workers beyond a few are freed
 * after a second unused.
 *
 * Every limit has a default (uw_http_config_default) and answers as HTTP
 * says when exceeded: 431 for an oversized head or too many headers, 413
 * for a body over the route's limit, 408 (then close) when a request head
 * is not complete in time, 503 for connections over the maximum, 400 and
 * close for malformed or ambiguous framing (request smuggling vectors).
 */
#ifndef UWEB_HTTP_H
#define UWEB_HTTP_H

#include <uweb/runtime.h>
#include <uweb/arena.h>
#include <uweb/slice.h>
#include <uweb/stream.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

typedef struct uw_req uw_req;
typedef struct uw_res uw_res;
struct uw_conn;
struct uw_listener;
struct uw_tls_config;

/* Methods, as bits so a route can take several. */
enum {
    UW_GET = 1 << 0, UW_HEAD = 1 << 1, UW_POST = 1 << 2, UW_PUT = 1 << 3,
    UW_DELETE = 1 << 4, UW_PATCH = 1 << 5, UW_OPTIONS = 1 << 6,
    UW_OTHER_METHOD = 1 << 7,
    UW_ANY_METHOD = 0xff,
};

/* An address range of trusted proxies (--trust-proxy=CIDR): IPv4 as
 * ::ffff:a.b.c.d/96+prefix. */
typedef struct uw_cidr {
    uint8_t addr[16];
    uint8_t bits;
} uw_cidr;
/* "10.0.0.0/8", "::1", "2001:db8::/32" (no prefix: the one address).
 * UW_OK or UW_EINVAL. */
int uw_cidr_parse(const char *s, uw_cidr *out);
/* Whether the address text addr ("10.1.2.3", "::ffff:10.1.2.3", "::1")
 * is in one of list[0..n). */
bool uw_cidr_match(const uw_cidr *list, size_t n, const char *addr);

/* Log levels of uw_http_config.log_level (--log-level): a line is written
 * when its level is at most the configured one. */
enum { UW_LOG_ERROR, UW_LOG_WARN, UW_LOG_INFO, UW_LOG_DEBUG };

typedef struct uw_http_config {
    const char *addr;          /* address of uw_app_serve's listener, default "127.0.0.1" */
    uint16_t port;             /* its port, default 8080; 0: any free port */
    size_t max_head_bytes;     /* request line + headers, default 8 KiB -> 431 */
    size_t max_headers;        /* header fields, default 64 -> 431 */
    uint64_t max_body;         /* default body limit, 1 MiB (routes override) -> 413 */
    int64_t header_timeout;    /* whole head must arrive within, default 10 s -> 408 */
    int64_t idle_timeout;      /* keep-alive idle, default 30 s -> close */
    int64_t io_timeout;        /* each body read / response write, default 60 s */
    int64_t handshake_timeout; /* TLS handshake, default 10 s -> close */
    size_t max_connections;    /* per server, default 16384; more are answered 503 and closed */
    int64_t shutdown_grace;    /* in-flight requests may finish within, default 10 s */
    size_t stack_size;         /* per worker task, default 64 KiB */
    size_t arena_limit;        /* per-request arena bytes, default 16 MiB */
    int log_level;             /* log lines up to it are written (UW_LOG_*), default UW_LOG_INFO */
    uint64_t memory_budget;    /* bytes the workers may hold at once; 0: no limit (the
                                * default on unix); unikernels: 3/8 of the guest heap */
    FILE *log;                 /* one line per event worth knowing; NULL: quiet */
    const uw_cidr *trust_proxy;   /* peers whose X-Forwarded-For and PROXY header are
                                   * believed (uw_req_peer); the array must outlive srv */
    size_t ntrust_proxy;
    /* HTTP/2, per connection (h2_conn.c) */
    size_t h2_max_streams;     /* streams in flight (SETTINGS_MAX_CONCURRENT_STREAMS and
                                * handler tasks), default 100; more are refused */
    size_t h2_header_list;     /* decoded request fields, bytes (name + value + 32 each),
                                * default 16 KiB -> 431 (SETTINGS_MAX_HEADER_LIST_SIZE) */
    size_t h2_hpack_table;     /* HPACK dynamic table the client's requests may use
                                * (SETTINGS_HEADER_TABLE_SIZE), default 4096; responses
                                * use the static table only */
    size_t h2_stream_window;   /* request body bytes buffered per stream (its receive
                                * window, opened as the handler reads), default 65535 */
    size_t h2_conn_window;     /* request body bytes buffered per connection, default 1 MiB */
} uw_http_config;

void uw_http_config_default(uw_http_config *cfg);

/* Handles one request: reads the body if it wants, answers through res.
 * Runs in the connection's task; a handler that returns without answering
 * gets 500, a streamed answer left open is ended. */
typedef void (*uw_http_dispatch)(uw_req *req, uw_res *res, void *arg);

/* ------------------------------------------------------------ server */

/* A listener: where, and which protocol stack its connections get. */
typedef struct uw_http_listen {
    const char *addr;             /* NULL: the configuration's addr */
    uint16_t port;                /* 0: any free port */
    struct uw_tls_config *tls;    /* NULL: plain HTTP/1.1.  Otherwise TLS (tls.h; the
                                   * handshake runs in the connection's worker within
                                   * handshake_timeout), then ALPN picks the protocol:
                                   * "h2" (HTTP/2) or "http/1.1" (also when the client
                                   * offers none), among what the configuration offers */
    uw_http_dispatch dispatch;    /* NULL: the server's; e.g. a redirect to https on :80 */
    void *arg;                    /* for dispatch */
    bool h2c;                     /* plain listener: a client that starts with HTTP/2's
                                   * preface gets HTTP/2 (prior knowledge, RFC 9113 §3.3) */
    bool proxy_protocol;          /* every connection starts with a PROXY header (v1 or
                                   * v2, before TLS) from a peer in trust_proxy; its
                                   * source is the peer; otherwise it is closed */
} uw_http_listen;

#define UW_HTTP_MAX_LISTENERS 4

typedef struct uw_http_server uw_http_server;

/* Sets srv up (no I/O yet).  cfg is copied.  UW_OK or UW_EINVAL. */
int uw_http_server_init(uw_http_server *srv, const uw_http_config *cfg,
                        uw_http_dispatch dispatch, void *arg);

/* Binds a listener now, so its port is known before serving.  Returns the
 * bound port (> 0) or a negative status (UW_ELIMIT past
 * UW_HTTP_MAX_LISTENERS, or what uw_tcp_listen says).  Before start. */
int uw_http_server_listen(uw_http_server *srv, const uw_http_listen *l);

/* Starts serving: one acceptor task per listener, and the tasks that close
 * idle connections and keep the Date line current.  The runtime must be
 * initialized; the server serves while uw_rt_run runs.  UW_OK or
 * UW_ENOMEM. */
int uw_http_server_start(uw_http_server *srv);

/* Graceful stop, from any task (or before uw_rt_run): stop accepting,
 * close idle connections, let requests in flight finish within
 * shutdown_grace, then cancel what is left.  Returns at once; uw_rt_run
 * returns once every task of every server has ended. */
void uw_http_server_stop(uw_http_server *srv);

/* True once a stop was asked for and every connection and task of srv has
 * ended. */
bool uw_http_server_stopped(const uw_http_server *srv);

/* From a task: waits until srv has stopped.  UW_OK, UW_ETIMEDOUT or
 * UW_ECANCELED. */
int uw_http_server_wait(uw_http_server *srv, int64_t deadline);

/* Releases the listeners; after the server stopped (or after uw_rt_run
 * returned).  srv may then be initialized again. */
void uw_http_server_fini(uw_http_server *srv);

/* Serves plain HTTP/1.1 on one connected connection in the calling task
 * until it closes, then closes it (tests, fuzzing, embedding).  srv needs
 * uw_http_server_init only; several may run at once. */
int uw_http_server_serve_conn(uw_http_server *srv, struct uw_conn *c);

/* Reason phrase of a status code ("Not Found"). */
const char *uw_http_reason(int status);

/* The server's state.  Memory the caller owns; the fields are private
 * (use the functions above). */
struct uw_http_conn;
struct uw_http_worker;
struct uw_http_port {
    uw_http_listen conf;
    struct uw_listener *listener;
    uw_task *acceptor;
    uint16_t port;
    struct uw_http_server *srv;
};
struct uw_http_server {
    uw_http_config cfg;
    uw_http_dispatch dispatch;
    void *arg;
    struct uw_http_port ports[UW_HTTP_MAX_LISTENERS];
    size_t nports;
    uw_task *sweeper, *reaper, *evictor;
    size_t nconns, nworkers, nfree, nacceptors;
    struct uw_http_worker *free_workers, *busy_workers;
    struct uw_http_conn *idle_head, *idle_tail;
    /* under a memory budget */
    size_t max_workers, nevicted;  /* from cfg.memory_budget; evicted, not yet gone */
    size_t worker_bytes;
    struct uw_http_worker *slow_head, *slow_tail;   /* waiting for the rest of a head */
    size_t held_bytes, nheld;      /* heads kept with their connections, at most budget / 4 */
    size_t evictions;              /* since the sweeper's last line */
    struct uw_http_conn *wait_head, *wait_tail;     /* have data, wait for a worker */
    uw_waitq evict_wake;           /* the evictor: connections started waiting */
    bool started, stopping;
    uw_waitq stop_wait;          /* the reaper waits for connections to drain */
    uw_waitq done_wait;          /* uw_http_server_wait */
    int64_t tls_log_sec;           /* rate limit of the TLS failure lines */
    size_t tls_log_lines, tls_log_dropped;
    char date[48];               /* "Date: ...\r\n", refreshed each second */
    size_t date_len;
    int64_t date_sec;
};

/* ------------------------------------------------------------ request */

/* Lifetimes.  Every string the accessors below return is NUL-terminated
 * and stays valid, unchanged, until the handler returns (the request
 * ends) — also after the handler has read the body: the method name is
 * static; the path, query string, header names and values are the
 * request head, which the server keeps in place for the whole request.
 * Only uw_req_read_chunk's *data is shorter-lived (until the next read).
 * Copy what must outlive the request. */

unsigned uw_req_method(const uw_req *req);         /* UW_GET ... */
const char *uw_req_method_name(const uw_req *req); /* "GET" */
const char *uw_req_path(const uw_req *req);        /* raw path, without the query */
const char *uw_req_query_string(const uw_req *req);/* raw query without '?', "" if none */
int uw_req_http_minor(const uw_req *req);          /* 1 for HTTP/1.1, 0 for HTTP/1.0 */
bool uw_req_secure(const uw_req *req);             /* arrived over TLS */
/* The client's address as text, without the port ("10.0.0.1", "::1",
 * "unix" for a unix socket), written into buf (n >= 64 holds any): the
 * connection's peer (the PROXY header's source on a proxy_protocol
 * listener); when that is in the configuration's trust_proxy, the
 * right-most X-Forwarded-For address that is not.  Returns buf. */
const char *uw_req_peer(const uw_req *req, char *buf, size_t n);

/* First value of a header (case-insensitive name), or NULL. */
const char *uw_req_header(const uw_req *req, const char *name);
size_t uw_req_header_count(const uw_req *req);
void uw_req_header_at(const uw_req *req, size_t i, const char **name, const char **value);

/* Declared body length, or -1 when chunked / unknown.  0 without a body. */
int64_t uw_req_content_length(const uw_req *req);

/* Reads body bytes: the count, 0 at the end of the body, or a negative
 * status: UW_ELIMIT past the route's body limit (the server answers 413 if
 * the response has not started), UW_ETIMEDOUT, UW_EPROTO (malformed
 * chunked framing; the connection is closed), UW_ECLOSED.  The first read
 * of a request that expects 100-continue sends the 100 first. */
ssize_t uw_req_read(uw_req *req, void *buf, size_t n);
/* Zero-copy variant: points *data into the server's buffer; valid until
 * the next read.  Same results. */
ssize_t uw_req_read_chunk(uw_req *req, const void **data);

/* Memory freed when the request ends. */
uw_arena *uw_req_arena(uw_req *req);

/* ------------------------------------------------------------ response */

void uw_res_status(uw_res *res, int status);
/* Adds a header (copied).  UW_ELIMIT when the response head is full,
 * UW_EINVAL for a name that is not a token or CR/LF in the value,
 * UW_EPROTO once the head was sent. */
int uw_res_header(uw_res *res, const char *name, const char *value);
int uw_res_headerf(uw_res *res, const char *name, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Whole responses, with Content-Length.  The body is borrowed: it must
 * stay valid until the handler returns. */
int uw_res_send(uw_res *res, int status, const char *content_type, const void *body, size_t len);
int uw_res_text(uw_res *res, int status, const char *text);     /* text/plain; charset=utf-8 */
int uw_res_textf(uw_res *res, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int uw_res_slices(uw_res *res, int status, const char *content_type, const uw_slice *v, size_t n);
/* "<status> <reason>: <detail>\n" as text/plain, e.g. 413 with why. */
int uw_res_error(uw_res *res, int status, const char *detail);

/* Streamed responses.  uw_res_content_length before uw_res_begin sends a
 * fixed length instead of chunked encoding (HTTP/1.1).  uw_res_write's
 * bytes are the caller's again when it returns (it waits while the client
 * is slow). */
void uw_res_content_length(uw_res *res, uint64_t len);
int uw_res_begin(uw_res *res);
int uw_res_write(uw_res *res, const void *data, size_t n);
int uw_res_end(uw_res *res);
/* Sends len bytes of the open file fd from offset off as body bytes, by
 * the kernel (sendfile) where the connection allows it: plain HTTP/1.1
 * over a TCP socket on unix (uw_mw_compress passes it on when it leaves
 * the answer alone).  UW_OK, a negative status, or 1 when it cannot here (TLS,
 * HTTP/2, the unikernels): nothing was sent, write the bytes with
 * uw_res_write. */
int uw_res_send_file(uw_res *res, int fd, uint64_t off, uint64_t len);
/* Sends the pipe's bytes as the body until its producer closes it. */
int uw_res_pipe(uw_res *res, uw_pipe *p);

bool uw_res_started(const uw_res *res);
bool uw_res_done(const uw_res *res);
/* Closes the connection after this response (HTTP/1.1: Connection:
 * close).  After the head was sent, aborts the exchange: the client sees
 * a truncated body. */
void uw_res_close(uw_res *res);

#endif
