/*
 * http.h — the HTTP/1.1 server: connections, limits, timeouts, shutdown.
 *
 * The server accepts connections on one listener, parses requests with
 * llhttp and hands each request to a dispatch function (the web framework's
 * router, web.h) in the connection's task.  Requests on a connection are
 * answered in order (pipelining); bodies stream to the handler; responses
 * are gathered into one writev per batch.
 *
 * Idle keep-alive connections hold no task and no buffers: a connection
 * borrows a worker (task + stack + buffers) while it has a request in
 * flight and returns it when it goes idle, so 10,000 idle connections cost
 * little more than their sockets.
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
#include <stdint.h>
#include <stdio.h>

typedef struct uw_req uw_req;
typedef struct uw_res uw_res;

typedef struct uw_http_config {
    const char *addr;          /* listen address, default "127.0.0.1" */
    uint16_t port;             /* default 8080; 0: any free port */
    size_t max_head_bytes;     /* request line + headers, default 8 KiB -> 431 */
    size_t max_headers;        /* header fields, default 64 -> 431 */
    uint64_t max_body;         /* default body limit, 1 MiB (routes override) -> 413 */
    int64_t header_timeout;    /* whole head must arrive within, default 10 s -> 408 */
    int64_t idle_timeout;      /* keep-alive idle, default 30 s -> close */
    int64_t io_timeout;        /* each body read / response write, default 60 s */
    size_t max_connections;    /* default 16384; more are answered 503 and closed */
    int64_t shutdown_grace;    /* in-flight requests may finish within, default 10 s */
    size_t stack_size;         /* per worker task, default 64 KiB */
    size_t arena_limit;        /* per-request arena bytes, default 16 MiB */
    uint64_t memory_budget;    /* bytes the workers may hold at once; 0: no limit (the
                                * default on unix); unikernels: 3/8 of the guest heap */
    FILE *log;                 /* one line per event worth knowing; NULL: quiet */
} uw_http_config;

void uw_http_config_default(uw_http_config *cfg);

/* Handles one request: reads the body if it wants, answers through res. */
typedef void (*uw_http_dispatch)(uw_req *req, uw_res *res, void *arg);

/* Listens and serves until SIGINT/SIGTERM (graceful: stop accepting,
 * finish in-flight requests within shutdown_grace) or uw_http_stop.
 * Initializes and runs the runtime itself.  on_listen, if not NULL, is
 * called with the bound port once listening (before serving).  Returns 0,
 * or a negative uw_status when it could not listen. */
int uw_http_serve(const uw_http_config *cfg, uw_http_dispatch dispatch, void *arg,
                  void (*on_listen)(uint16_t port, void *arg));

/* Serves requests on one connected connection in the calling task until
 * it closes, then closes it (tests, fuzzing, embedding).  The runtime must
 * be running; not for use beside uw_http_serve. */
struct uw_conn;
int uw_http_serve_conn(const uw_http_config *cfg, uw_http_dispatch dispatch, void *arg,
                       struct uw_conn *c);

/* Starts a graceful shutdown of the running server (from any task). */
void uw_http_stop(void);

/* Reason phrase of a status code ("Not Found"). */
const char *uw_http_reason(int status);

#endif
