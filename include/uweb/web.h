/*
 * web.h — the web framework: routes, middlewares, and the main of every
 * app.  Requests and responses themselves (uw_req_*, uw_res_*) are
 * http.h's, the same whatever the protocol.
 *
 * An app is a route table a newcomer reads at a glance and a main:
 *
 *     static void hello(uw_req *req, uw_res *res) { uw_res_text(res, 200, "Hello World!\n"); }
 *     static void user(uw_req *req, uw_res *res) {
 *         int64_t id;
 *         uw_req_param_int(req, "id", &id);
 *         uw_res_textf(res, 200, "user %lld\n", (long long)id);
 *     }
 *     static const uw_route routes[] = {
 *         { UW_GET,  "/",               hello, .query = UW_QUERY_ANY },
 *         { UW_GET,  "/users/<int:id>", user },
 *         { UW_POST, "/upload",         upload, .max_body = UW_BODY_UNLIMITED },
 *     };
 *     int main(int argc, char **argv) { return uw_main(argc, argv, &(uw_app){ UW_ROUTES(routes) }); }
 *
 * Patterns: literal segments, and captures <int:NAME> (a decimal integer,
 * optionally negative), <seg:NAME> or <NAME> (one non-empty segment), and
 * <rest:NAME> (the rest of the path, possibly empty; last only).  Captured
 * segments are percent-decoded.  The first matching route wins.  No route
 * matching the path: 404; the path matches only routes of other methods:
 * 405 with Allow.  HEAD is answered by GET routes (the body is not sent).
 *
 * Query: UW_QUERY_ANY (default) accepts any query string; UW_QUERY_NONE
 * answers 400 to a request that carries one; UW_QUERY_NAMED accepts only
 * the parameters listed in .params ("q,page") and answers 400 to others.
 * uw_req_query(req, "q") reads a decoded value.
 *
 * Trailing slash: UW_SLASH_REDIRECT (default) answers 308 to the canonical
 * form when only the other form matches; UW_SLASH_EXACT does not;
 * UW_SLASH_EITHER matches both.
 *
 * Handlers run in the connection's task, in direct style: reading the body
 * or writing a streamed response suspends only this task.  Memory for the
 * request comes from its arena (uw_req_arena), freed when the request ends.
 *
 * Responses (http.h): whole (uw_res_send / uw_res_text: Content-Length), from a
 * list of slices sent without copying (uw_res_slices: the memory must stay
 * valid until the handler returns), or streamed (uw_res_begin, uw_res_write,
 * uw_res_end: chunked unless uw_res_content_length was given), or from a
 * bounded pipe another task fills (uw_res_pipe).  A handler that returns
 * without answering gets 500; a stream left open is ended.
 */
#ifndef UWEB_WEB_H
#define UWEB_WEB_H

#include <uweb/http.h>
#include <uweb/arena.h>
#include <uweb/slice.h>
#include <uweb/stream.h>
#include <stdarg.h>
#include <sys/types.h>

enum { UW_QUERY_ANY = 0, UW_QUERY_NONE = 1, UW_QUERY_NAMED = 2 };
enum { UW_SLASH_REDIRECT = 0, UW_SLASH_EXACT = 1, UW_SLASH_EITHER = 2 };
#define UW_BODY_UNLIMITED UINT64_MAX

typedef void (*uw_handler)(uw_req *req, uw_res *res);

typedef struct uw_route {
    unsigned methods;          /* UW_GET | UW_POST ... */
    const char *pattern;       /* "/users/<int:id>" */
    uw_handler handler;
    void *arg;                 /* given to the handler by uw_req_route_arg */
    int query;                 /* UW_QUERY_ANY (default), _NONE, _NAMED */
    const char *params;        /* UW_QUERY_NAMED: "a,b" */
    int slash;                 /* UW_SLASH_REDIRECT (default), _EXACT, _EITHER */
    uint64_t max_body;         /* 0: the server's default; UW_BODY_UNLIMITED */
} uw_route;

/* A middleware sees every request's head before its handler.  It returns
 * UW_NEXT to go on (possibly after uw_req_set_value), or UW_DONE after
 * answering through res itself. */
enum { UW_NEXT = 0, UW_DONE = 1 };
typedef int (*uw_middleware_fn)(uw_req *req, uw_res *res, void *arg);
typedef struct uw_middleware {
    uw_middleware_fn fn;
    void *arg;
} uw_middleware;

typedef struct uw_app {
    const uw_route *routes;
    size_t nroutes;
    const uw_middleware *middlewares;
    size_t nmiddlewares;
    const char *name;          /* for the start-up line, default argv[0] */
} uw_app;

#define UW_COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define UW_ROUTES(r) .routes = (r), .nroutes = UW_COUNT(r)
#define UW_MIDDLEWARES(m) .middlewares = (m), .nmiddlewares = UW_COUNT(m)

/* Parses the common options (--addr=A --port=N --max-connections=N
 * --quiet --help ...; see --help), initializes and runs the runtime,
 * serves app until SIGINT/SIGTERM (a graceful stop of every server),
 * returns the exit status for main: 0 after a stop, 1 when it cannot
 * serve, 2 for a bad command line (a one-line reason on stderr; the
 * library never exits by itself).  Listeners: plain HTTP on --addr:--port;
 * with --tls-cert=FILE --tls-key=FILE (repeatable: several certificates,
 * chosen by SNI) also HTTPS on --tls-port (8443 on unix, 443 on the
 * unikernels), TLS 1.2 and 1.3 (--tls-modern: 1.3 only), ALPN http/1.1;
 * --redirect-http makes the plain listener answer 308 to https,
 * --hsts=SECONDS adds Strict-Transport-Security to HTTPS answers.  SIGHUP
 * re-reads the certificate files (new handshakes get them, open
 * connections go on). */
int uw_main(int argc, char **argv, const uw_app *app);

/* The dispatch of an app (for uw_http_server_init: arg is the app). */
void uw_app_dispatch(uw_req *req, uw_res *res, void *app);

/* Serves app on cfg->addr:cfg->port, plain HTTP/1.1, with the runtime
 * (initialized and run here) until SIGINT/SIGTERM.  on_listen, if not
 * NULL, gets the bound port and arg once listening.  Returns 0, or a
 * negative status when it could not serve. */
int uw_app_serve(const uw_app *app, const uw_http_config *cfg,
                 void (*on_listen)(uint16_t port, void *arg), void *arg);

/* Serves app on one connected connection in the calling task (tests and
 * fuzzing; see uw_http_server_serve_conn). */
int uw_app_serve_conn(const uw_app *app, const uw_http_config *cfg, struct uw_conn *c);

/* The router alone, for tests and tools: matches method and path (no
 * query) against the app's routes.  Returns the route index, or -404 /
 * -405 (then *allowed holds the methods of routes matching the path), or
 * -308 (then *redirect is the canonical path, allocated from arena).
 * Captures are stored in caps (up to UW_MAX_CAPTURES). */
#define UW_MAX_CAPTURES 8
typedef struct uw_capture {
    const char *name;          /* points into the pattern, not NUL-terminated */
    size_t name_len;
    const char *value;         /* decoded, NUL-terminated (arena) */
    size_t value_len;
} uw_capture;
int uw_route_match(const uw_app *app, unsigned method, const char *path, size_t path_len,
                   uw_arena *arena, uw_capture *caps, size_t *ncaps,
                   unsigned *allowed, const char **redirect);
/* Checks every pattern of a route table; UW_OK or UW_EINVAL with a line on
 * stderr naming the bad pattern.  uw_main calls it at start. */
int uw_routes_check(const uw_route *routes, size_t n);

/* ------------------------------------------------------------ request */

/* What the router and the middlewares add to a request (http.h has the
 * rest: method, path, headers, body).  Captures (uw_req_param) and decoded
 * query values (uw_req_query) live in the request's arena: valid until
 * the handler returns. */

/* Captured path parameter by name (decoded), or NULL. */
const char *uw_req_param(const uw_req *req, const char *name);
/* An <int:...> capture; UW_OK or UW_EINVAL. */
int uw_req_param_int(const uw_req *req, const char *name, int64_t *out);
/* Decoded query parameter ('+' is a space), "" for a bare key, or NULL. */
const char *uw_req_query(uw_req *req, const char *name);

/* The matched route's .arg. */
void *uw_req_route_arg(const uw_req *req);
/* Values passed from middlewares to handlers, by key (compared by
 * pointer: use a static string or object as the key).  UW_ELIMIT past 8. */
int uw_req_set_value(uw_req *req, const void *key, void *value);
void *uw_req_value(const uw_req *req, const void *key);

/* Reads the whole body into the request's arena, NUL-terminated (not
 * counted in *len).  max: 0 for the route's limit.  UW_OK, or a negative
 * status after answering 413 (over max) or 400 (a broken body). */
int uw_req_body(uw_req *req, size_t max, char **data, size_t *len);

/* Answers status (301, 302, 303, 307 or 308) with Location: url and a
 * short text body.  UW_EINVAL (and 500) for a URL with CR, LF or NUL. */
int uw_res_redirect(uw_res *res, int status, const char *url);

/* This request's id: the client's X-Request-Id when it is 1-64 of
 * [A-Za-z0-9._-], else one made here; sent back in X-Request-Id and
 * written in the access log (--access-log). */
const char *uw_req_id(const uw_req *req);

/* ------------------------------------------------------------ middlewares */

/* HTTP Basic authentication for paths under prefix; answers 401 with
 * WWW-Authenticate otherwise, and sets the value UW_AUTH_USER (the user
 * name) for the handler. */
typedef struct uw_basic_auth {
    const char *realm;
    const char *prefix;        /* NULL: every path */
    const char *user;
    const char *password;
} uw_basic_auth;
extern const char UW_AUTH_USER[];
int uw_mw_basic_auth(uw_req *req, uw_res *res, void *arg);

/* Custom error pages: the text/plain error answers (uw_res_error, the
 * router's 404/405, 413, the 500 of a handler that gave no answer) get
 * the app's page for their status instead; other answers (a handler's
 * own JSON 400) are left alone.  arg: a const uw_error_pages *.  Put it
 * after uw_mw_compress in the list (it must see the answer first). */
struct uw_static_asset;
typedef struct uw_error_page {
    int status;
    const char *content_type;  /* NULL: text/html; charset=utf-8 */
    const void *body;
    size_t len;
    const struct uw_static_asset *asset;  /* instead of body: an embedded asset
                                           * (static.h; its bytes and type) */
} uw_error_page;
typedef struct uw_error_pages {
    const uw_error_page *pages;
    size_t n;
} uw_error_pages;
int uw_mw_error_pages(uw_req *req, uw_res *res, void *arg);

#endif
