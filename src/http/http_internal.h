/*
 * http_internal.h — the request and response records the HTTP server
 * fills and the web framework reads.  Not a public interface.
 */
#ifndef UWEB_HTTP_INTERNAL_H
#define UWEB_HTTP_INTERNAL_H

#include <uweb/web.h>
#include <uweb/net.h>

typedef struct uw_http_worker uw_http_worker;

typedef struct uw_header {
    const char *name, *value;   /* NUL-terminated in the input buffer */
    size_t name_len, value_len;
} uw_header;

#define UW_REQ_MAX_VALUES 8

struct uw_req {
    uw_http_worker *w;
    unsigned method;
    const char *method_name;
    char *path;                 /* NUL-terminated, without the query */
    size_t path_len;
    const char *query;          /* "" when none */
    int minor;
    uw_header *headers;
    size_t nheaders;
    int64_t content_length;     /* -1 when chunked */
    bool has_body, chunked;
    bool body_done;             /* message complete seen */
    bool expect_continue, continue_sent;
    bool body_error;            /* framing error or limit hit */
    bool body_limit_hit;        /* over max_body: answer 413 */
    uint64_t body_read, max_body;
    uint64_t body_extra;        /* chunk extension bytes and leading zeros (count against max_body) */
    const char *span;           /* body bytes parsed but not handed out */
    size_t span_len;
    uw_arena *arena;
    /* set by the framework */
    uw_capture caps[UW_MAX_CAPTURES];
    size_t ncaps;
    void *route_arg;
    struct { const void *key; void *value; } values[UW_REQ_MAX_VALUES];
    size_t nvalues;
    char **query_pairs;         /* decoded "name", "value", ... (lazily) */
    size_t nquery_pairs;
    bool query_parsed;
};

struct uw_res {
    uw_http_worker *w;
    int status;
    char *hdrs;                 /* "Name: value\r\n"... of the handler */
    size_t hdrs_len, hdrs_cap;
    bool head_sent, done, chunked, close, head_only, failed;
    bool has_length;
    uint64_t content_length, body_sent;
};

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

/* The target's default worker memory budget (budget_unix.c: none;
 * budget_uk.c: a share of the guest heap). */
uint64_t uw__http_memory_budget(void);

/* Used by the framework for early answers. */
int uw__http_check_body_limit(uw_req *req);

#endif
