/*
 * client.h — an HTTP/1.1 client for tasks.
 *
 * A uw_client holds a configuration and a bounded pool of idle keep-alive
 * connections per origin (scheme, host, port).  Any task may use it; calls
 * that wait (resolve, connect, write, read) suspend the calling task only.
 * One client is used from one thread (one runtime).
 *
 * Calling pattern, in direct style:
 *
 *     uw_client *cl;
 *     uw_client_new(&cl, NULL);                       // defaults
 *     uw_client_res *res;
 *     int r = uw_client_open(cl, &(uw_client_req){ .url = "http://127.0.0.1:8080/" }, &res);
 *     if (r != UW_OK) { ... uw_client_strerror(r) ... }
 *     uw_client_res_status(res);                      // 200
 *     uw_client_res_header(res, "Content-Type");
 *     while ((n = uw_client_res_read(res, buf, sizeof buf)) > 0) ...;   // the body, streamed
 *     uw_client_res_close(res);                       // the connection goes back to the pool
 *     uw_client_free(cl);
 *
 * or, for a whole body in memory with a size cap: uw_client_fetch.
 *
 * Requests: method (default GET), an absolute URL (http://HOST[:PORT]/PATH?QUERY,
 * HOST a name, an IPv4 literal or a bracketed IPv6 literal), extra header
 * lines, and a body either from memory (Content-Length) or from a read
 * callback (Content-Length when body_length >= 0, chunked otherwise).
 * The client adds Host, and Content-Length or Transfer-Encoding; a
 * caller's header of the same name replaces Host, User-Agent or Accept only.
 *
 * Responses: llhttp in response mode (Content-Length, chunked, delimited
 * by the connection's end, none for HEAD, 204 and 304); interim 1xx
 * answers are skipped; the head is bounded (max_head_bytes, max_headers).
 * A connection goes back to the pool when its response was read to the
 * end and both sides allow keep-alive; otherwise it is closed.  A request
 * on a pooled connection that the server had closed meanwhile is retried
 * once on a new connection when its body can be sent again (memory or
 * none) — never after any byte of an answer arrived.
 *
 * Timeouts: connect_timeout for name resolution and connection,
 * io_timeout for each read and write, request_timeout for the whole
 * request up to the end of its body.  Redirects (301, 302, 303, 307, 308)
 * are followed only when max_redirects > 0.
 *
 * Errors are values: UW_OK, a uw_status (UW_ETIMEDOUT, UW_ECANCELED,
 * UW_ECLOSED: the server closed or reset the connection before the answer
 * was complete, UW_EPROTO: a malformed answer, UW_ELIMIT: a size cap,
 * UW_ENOMEM, UW_EINVAL), or one of the uw_client_error values below.
 * uw_client_strerror names them all.  A task canceled mid-request gets
 * UW_ECANCELED from the call it was in; the connection is closed and every
 * allocation is released.
 *
 * TLS: https:// URLs run TLS 1.2 / 1.3 over the TCP connection (tls.h,
 * uw_tls_connect) with SNI and ALPN "http/1.1", and verify the server's
 * certificate: its chain against the trusted CAs (the system store on
 * unix, /etc/ssl/certs; on the unikernels a PEM bundle from a block
 * device or from memory: ca_file, ca_pem) and its names against the URL's
 * host.  A certificate that fails answers UW_CLIENT_EVERIFY, any other
 * TLS failure UW_CLIENT_ETLS; uw_client_tls_reason says why in words.
 * Verification is off only with `insecure` set.  Pooled TLS connections
 * are reused like plain ones (per origin: scheme, host, port).
 *
 * HTTP/2 (h2 in the configuration, unix builds with nghttp2): by ALPN on
 * https:// only; requests from many tasks share one connection per
 * origin as streams.  Response bodies are flow-controlled: the server
 * may send a stream's window (256 KiB) ahead of uw_client_res_read.  A
 * request body from body_fn is read while the connection sends, which
 * may be in another task's call.
 */
#ifndef UWEB_CLIENT_H
#define UWEB_CLIENT_H

#include <uweb/runtime.h>
#include <uweb/net.h>
#include <stdint.h>
#include <sys/types.h>

enum uw_client_error {
    UW_CLIENT_EURL = -100,       /* not an absolute http:// or https:// URL */
    UW_CLIENT_ERESOLVE = -101,   /* the host name did not resolve */
    UW_CLIENT_ECONNECT = -102,   /* no address of the host accepted the connection */
    UW_CLIENT_ETLS = -103,       /* the TLS handshake failed (or no CA could be read) */
    UW_CLIENT_EREDIRECT = -104,  /* more redirects than max_redirects, or a bad Location */
    UW_CLIENT_EVERIFY = -105,    /* the server's certificate is not trusted or names another host */
};

/* A name for any value these functions return ("connection refused", ...). */
const char *uw_client_strerror(int err);

typedef struct uw_client_config {
    int64_t connect_timeout;     /* resolve + connect, default 10 s */
    int64_t io_timeout;          /* each read or write, default 30 s */
    int64_t request_timeout;     /* the whole request and its answer, default 60 s; UW_FOREVER: none */
    int64_t idle_timeout;        /* a pooled connection older than this is closed, default 15 s */
    size_t max_idle_per_origin;  /* idle connections kept per origin, default 8 */
    size_t max_idle;             /* idle connections kept in all, default 64 */
    size_t max_head_bytes;       /* status line + headers, default 16 KiB -> UW_ELIMIT */
    size_t max_headers;          /* header fields, default 100 -> UW_ELIMIT */
    uint64_t max_body;           /* body bytes a response may have, default unlimited -> UW_ELIMIT */
    int max_redirects;           /* default 0: redirects are answers like any other */
    const char *user_agent;      /* default "uweb"; NULL or "" sends none */
    /* https://: the trusted CAs, as tls.h's uw_tls_client_options: PEM in
     * memory, or ca_file (a file on unix, a block device on the
     * unikernels), or neither: the system store.  insecure: no
     * verification at all (explicit only). */
    const void *ca_pem;
    size_t ca_len;
    const char *ca_file;
    bool insecure;
    /* https://: offer HTTP/2 by ALPN (h2, then http/1.1).  When the
     * server picks h2, one connection per origin carries every request of
     * every task at once (multiplexed streams, up to the server's
     * SETTINGS_MAX_CONCURRENT_STREAMS; more wait for a stream to end);
     * otherwise HTTP/1.1 as without it.  Default off. */
    bool h2;
} uw_client_config;

void uw_client_config_default(uw_client_config *cfg);

typedef struct uw_client uw_client;

/* cfg NULL: defaults.  The configuration is copied. */
int uw_client_new(uw_client **out, const uw_client_config *cfg);
/* Closes the pooled connections and frees the client.  Every response
 * must have been closed before. */
void uw_client_free(uw_client *cl);

typedef struct uw_client_stats {
    uint64_t connections;        /* connections opened */
    uint64_t reused;             /* requests sent on a pooled connection */
    uint64_t retried;            /* requests retried after a stale pooled connection */
    size_t idle;                 /* connections in the pool now */
} uw_client_stats;
uw_client_stats uw_client_get_stats(const uw_client *cl);

/* Why the last TLS connection of this client failed, in words ("the
 * server's certificate: self-signed certificate", ...); "" if none did. */
const char *uw_client_tls_reason(const uw_client *cl);

typedef struct uw_client_header {
    const char *name, *value;
} uw_client_header;

/* Returns the count of bytes put in buf, 0 at the end, or a negative status. */
typedef ssize_t (*uw_client_body_fn)(void *arg, void *buf, size_t n);

typedef struct uw_client_req {
    const char *method;          /* default "GET" */
    const char *url;
    const uw_client_header *headers;
    size_t nheaders;
    const void *body;            /* a body from memory ... */
    size_t body_len;
    uw_client_body_fn body_fn;   /* ... or from a callback (body must be NULL) */
    void *body_arg;
    int64_t body_length;         /* body_fn: its length, or -1 for chunked (set 0 for none!) */
} uw_client_req;

typedef struct uw_client_res uw_client_res;

/* Sends the request and reads the answer's head (following redirects if
 * configured).  On UW_OK *out is a response to read and close. */
int uw_client_open(uw_client *cl, const uw_client_req *rq, uw_client_res **out);

int uw_client_res_status(const uw_client_res *res);
int uw_client_res_http_minor(const uw_client_res *res);
/* 10, 11, or 20 for an answer on an HTTP/2 stream. */
int uw_client_res_http_version(const uw_client_res *res);
/* First value of a header (case-insensitive), or NULL. */
const char *uw_client_res_header(const uw_client_res *res, const char *name);
size_t uw_client_res_header_count(const uw_client_res *res);
void uw_client_res_header_at(const uw_client_res *res, size_t i, const char **name, const char **value);
/* Content-Length, or -1 when the body is chunked or delimited by close. */
int64_t uw_client_res_content_length(const uw_client_res *res);
/* The URL this answer came from (after redirects). */
const char *uw_client_res_url(const uw_client_res *res);

/* Reads body bytes: the count, 0 at the end of the body, or a negative
 * status (UW_ECLOSED when the server closed before the end, UW_EPROTO,
 * UW_ETIMEDOUT, UW_ELIMIT past max_body, UW_ECANCELED). */
ssize_t uw_client_res_read(uw_client_res *res, void *buf, size_t n);
/* Reads the rest of the body into memory (malloc'd, NUL-terminated; free
 * it) up to max bytes; UW_ELIMIT past that. */
int uw_client_res_read_all(uw_client_res *res, char **body, size_t *len, size_t max);
/* Ends the response: pools the connection if the body was read to the end
 * and keep-alive holds, closes it otherwise.  NULL does nothing. */
void uw_client_res_close(uw_client_res *res);

/* The whole exchange: open, read the body (up to max bytes), close.
 * *status gets the status code; *body (free it) and *len the body. */
int uw_client_fetch(uw_client *cl, const uw_client_req *rq, int *status,
                    char **body, size_t *len, size_t max);

/* ------------------------------------------------------------ parts */

/* A parsed URL; the strings point into buf. */
typedef struct uw_client_url {
    bool tls;                    /* https */
    const char *host;            /* without brackets for IPv6 */
    uint16_t port;
    const char *target;          /* "/path?query", "/" when empty */
    char buf[2048];
} uw_client_url;
/* UW_OK or UW_CLIENT_EURL. */
int uw_client_url_parse(uw_client_url *u, const char *url);

/* Resolves host (a name, or an IPv4 or IPv6 literal) and connects to the
 * first address that answers.  Name resolution runs getaddrinfo on a
 * thread of its own on unix, so other tasks keep running.  UW_OK,
 * UW_CLIENT_ERESOLVE, UW_CLIENT_ECONNECT, UW_ETIMEDOUT, UW_ECANCELED. */
int uw_client_dial(uw_conn **out, const char *host, uint16_t port, int64_t deadline);

/*
 * The response parser on its own (no I/O; the client and uweb-bench use
 * it): feed bytes, it stops at each event.
 *
 *     uw_client_parser p;
 *     uw_client_parser_init(&p, head_buf, sizeof head_buf, 100, false);
 *     r = uw_client_parser_feed(&p, data, len, &used);   // then look at p.event
 *
 * Events: UW_CP_HEAD (status and headers known), UW_CP_BODY (p.body,
 * p.body_len: bytes inside data), UW_CP_DONE (the message ended;
 * p.keep_alive says whether the connection may carry another).  Feed
 * returns UW_OK (look at p.event, UW_CP_NONE: all of data was used and
 * more is needed), UW_EPROTO or UW_ELIMIT.  At the connection's end call
 * uw_client_parser_eof: UW_OK when that ends a close-delimited body (event
 * UW_CP_DONE), UW_ECLOSED when the message was cut short.  After
 * UW_CP_DONE, uw_client_parser_next readies it for the next response
 * (pipelining), head_request saying whether it answers a HEAD.
 * Bytes of data not counted in *used must be fed again.  head_cap 0 keeps
 * no header fields (status only; what a benchmark needs); skip_body set
 * after init makes the parser pass over body bytes without UW_CP_BODY
 * events (fewer stops per answer).
 */
enum { UW_CP_NONE, UW_CP_HEAD, UW_CP_BODY, UW_CP_DONE };
typedef struct uw_client_parser {
    int event;
    int status, http_minor;
    bool keep_alive;
    int64_t content_length;      /* -1: chunked or close-delimited */
    const char *body;
    size_t body_len;
    size_t nheaders;
    bool skip_body;
    /* private */
    char *head;
    size_t head_cap, head_len, head_bytes, max_head_bytes, max_headers;
    bool head_request, started, head_done, in_field;
    int pending;                 /* an event held back behind UW_CP_HEAD */
    size_t pending_len;
    int error;
    _Alignas(8) unsigned char llhttp[128];   /* an llhttp_t (size checked at build) */
} uw_client_parser;

/* head: memory for header names and values (NUL-terminated) and their
 * offsets; max_head_bytes bounds the head on the wire. */
void uw_client_parser_init(uw_client_parser *p, char *head, size_t head_cap,
                           size_t max_head_bytes, size_t max_headers, bool head_request);
int uw_client_parser_feed(uw_client_parser *p, const char *data, size_t len, size_t *used);
int uw_client_parser_eof(uw_client_parser *p);
void uw_client_parser_next(uw_client_parser *p, bool head_request);
const char *uw_client_parser_header(const uw_client_parser *p, const char *name);
void uw_client_parser_header_at(const uw_client_parser *p, size_t i, const char **name, const char **value);

#endif
