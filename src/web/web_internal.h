/*
 * web_internal.h — the web framework's per-request state: the router's
 * captures and route argument, middleware values, the decoded query.  It
 * hangs off the request (uw_req's framework slot) and lives in the
 * request's arena; http never looks at it.  Not a public interface.
 */
#ifndef UWEB_WEB_INTERNAL_H
#define UWEB_WEB_INTERNAL_H

#include <uweb/web.h>

#include <stdio.h>

#define UW_REQ_MAX_VALUES 8

typedef struct uw_web_state {
    uw_capture caps[UW_MAX_CAPTURES];
    size_t ncaps;
    void *route_arg;
    struct { const void *key; void *value; } values[UW_REQ_MAX_VALUES];
    size_t nvalues;
    char **query_pairs;         /* decoded "name", "value", ... (lazily) */
    size_t nquery_pairs;
    bool query_parsed;
    const char *request_id;     /* X-Request-Id (accesslog.c) */
    int64_t started;            /* uw_now() when dispatch began */
} uw_web_state;

/* The request's state, made (zeroed, in its arena) on first use; NULL
 * when the arena is exhausted. */
uw_web_state *uw__web_state(uw_req *req);
/* The state if there is one, else NULL (nothing is made). */
const uw_web_state *uw__web_state_peek(const uw_req *req);

/* Splits the query string into decoded pairs, once.  UW_OK or UW_EINVAL
 * when an escape is malformed. */
int uw__req_parse_query(uw_req *req);
/* Percent-decodes s[0..n) into the arena (router.c). */
char *uw__decode(uw_arena *a, const char *s, size_t n, bool plus_space, size_t *out_len);

/* uw_main's target parts (files_unix.c, files_uk.c): the default HTTP and
 * HTTPS ports (a unikernel owns its address: 80 and 443), and a whole file (malloc'ed; NULL with a reason in err). */
uint16_t uw__default_port(void);
uint16_t uw__default_tls_port(void);
char *uw__read_file(const char *path, size_t *len, char *err, size_t errlen);

/* --workers and --listen on unix (files_unix.c; the unikernels have one
 * worker and no unix sockets: files_uk.c says no). */
#define UW_MAX_WORKERS 64
int uw__reserve_port(const char *addr, uint16_t *port);
int uw__unix_listen(const char *path);
unsigned uw__cpu_count(void);
int uw__run_workers(unsigned n, unsigned *index, int *status);
/* Removes the unix socket at path (nothing else). */
void uw__remove_socket(const char *path);

/* Request ids and the access log (accesslog.c): uw_app_dispatch calls
 * begin before the middlewares and end after the handler. */
enum { UW_ACCESS_COMMON = 0, UW_ACCESS_COMBINED = 1, UW_ACCESS_JSON = 2 };
void uw__access_log_set(FILE *f, int format);
void uw__access_begin(uw_req *req, uw_res *res);
void uw__access_end(uw_req *req, uw_res *res);

/* uw_main's --cookie-key-file (helpers.c): reads and keeps the key for
 * cookie.h.  UW_OK, or UW_EINVAL with a reason in err. */
int uw__cookie_key_load(const char *path, char *err, size_t errlen);
extern unsigned char uw__cookie_key[32];
extern bool uw__cookie_key_given;
/* A key made for this run (before --workers fork, so all share it);
 * cookie.c warns at its first use.  UW_OK or UW_EIO. */
extern bool uw__cookie_key_made;
int uw__cookie_key_make(void);
/* 32 raw bytes, or 64 hex digits and whitespace, to a key. */
int uw__cookie_key_parse(const void *data, size_t len, unsigned char key[32]);

#endif
