/*
 * What the client's parts share: the client and response objects
 * (client.c) and HTTP/2 (h2.c: connections multiplexed per origin).
 */
#ifndef UWEB_CLIENT_INTERNAL_H
#define UWEB_CLIENT_INTERNAL_H

#include <uweb/client.h>

#define IN_CAP (16 * 1024)

typedef struct pooled {
    struct pooled *next;
    uw_conn *c;
    int64_t since;
    char origin[280];
} pooled;

struct h2conn;
struct h2stream;

struct uw_client {
    uw_client_config cfg;
    pooled *idle;               /* newest first */
    size_t nidle;
    uw_client_stats st;
    struct uw_tls_config *tls;  /* made at the first https:// request */
    char tls_reason[200];
    struct h2conn *h2;          /* HTTP/2 connections, one per origin at most */
};

struct uw_client_res {
    uw_client *cl;
    uw_conn *c;
    bool reused, done, broken;
    int64_t deadline;           /* the whole request's */
    uint64_t body_read;
    const char *span;           /* body bytes handed out in parts */
    size_t span_len;
    size_t in_len, in_pos;
    char *in, *head;
    size_t head_cap;
    uw_client_parser p;         /* HTTP/2 too: status, headers (uw__client_parser_add_header) */
    struct h2stream *h2;        /* an HTTP/2 stream instead of c */
    char origin[280];
    char url[2048];
};

int64_t uw__client_after(int64_t timeout);

/* The head store of a parser filled by hand (HTTP/2). */
void uw__client_parser_reset_head(uw_client_parser *p);
int uw__client_parser_add_header(uw_client_parser *p, const char *name, size_t nlen, const char *value, size_t vlen);

/* HTTP/2 (h2.c).  uw__clh2_wait_origin: if an HTTP/2 connection to origin
 * is open or being opened, waits for it and returns it (NULL: open one
 * the usual way).  uw__clh2_adopt: makes tls (ALPN h2) the origin's HTTP/2
 * connection; uw__clh2_connecting / uw__clh2_connect_failed mark the opening
 * so that other tasks wait for it instead of opening their own. */
struct h2conn *uw__clh2_wait_origin(uw_client *cl, const char *origin, int64_t deadline, int *err);
struct h2conn *uw__clh2_connecting(uw_client *cl, const char *origin);
void uw__clh2_connect_failed(struct h2conn *h);
int uw__clh2_adopt(struct h2conn *h, uw_conn *tls);
/* Sends the request on h and waits for its answer's head into res. */
int uw__clh2_request(struct h2conn *h, uw_client_res *res, const char *method, const uw_client_url *u,
                   const uw_client_req *rq);
ssize_t uw__clh2_read(uw_client_res *res, void *buf, size_t n);
void uw__clh2_res_close(uw_client_res *res);
void uw__clh2_free_all(uw_client *cl);
/* True when this build has HTTP/2 (nghttp2). */
bool uw__clh2_available(void);

#endif
