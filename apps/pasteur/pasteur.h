/*
 * pasteur.h — the parts of Pasteur (main.c: options and routes; api.c:
 * the API handlers; limits.c: rate limiting and security headers).
 */
#ifndef PASTEUR_H
#define PASTEUR_H

#include <uweb/web.h>
#include <stddef.h>
#include <stdint.h>

struct uw_block;
struct uw_store;

typedef struct pasteur_state {
    struct uw_block *block;
    struct uw_store *store;
    size_t max_paste;          /* bytes of ciphertext and metadata */
    uint64_t rate;             /* creations per minute per client */
    uint64_t burst;
    int full;                  /* UW_STORE_EVICT or UW_STORE_REFUSE */
    int64_t clock_offset;      /* seconds added to the wall clock */
    size_t max_comment;        /* bytes of one comment */
    unsigned max_comments;     /* per paste */
    char redis_host[64];       /* --store=redis://HOST:PORT; "" for the block store */
    uint16_t redis_port;
} pasteur_state;

extern pasteur_state P;

/* Opens (creating FILE of create_size bytes when asked and missing) and
 * mounts the store; 0, or an exit status after a line on stderr. */
int pasteur_open_store(const char *file, uint64_t create_size);

/* Delete tokens (token.c).  The key's record in the store: no paste id
 * (pasteur_parse_id refuses it). */
#define PASTEUR_KEY_ID 0xffffffffffffffffull
#define PASTEUR_TOKEN_LEN 16
void pasteur_key_file(const char *file);
int pasteur_key_file_given(void);
/* Loads (or makes) the key once: UW_OK or a store error. */
int pasteur_key_load(void);
/* Puts the key's record back when the cleaner evicted it (block store). */
void pasteur_key_keep(struct uw_store *s);
/* The token of id as 32 hex digits: UW_OK or a store error. */
int pasteur_token(uint64_t id, char out[2 * PASTEUR_TOKEN_LEN + 1]);
/* 1 when token deletes the paste whose record starts with stored[0..n),
 * 0 when not, or a store error. */
int pasteur_token_check(uint64_t id, const uint8_t *stored, size_t n, const char *token);

/* Seconds since the epoch, moved by --clock-offset. */
int64_t pasteur_now(void);

/* The pastes, in the block store or in Redis (redis.c); the codes of
 * store.h.  get burns a burn paste; peek does not. */
int pasteur_put(uint64_t id, const void *data, size_t len, int64_t expires, unsigned flags);
int pasteur_get(uint64_t id, void **data, size_t *len);
int pasteur_peek(uint64_t id, void **data, size_t *len);
int pasteur_stat(uint64_t id, unsigned *flags, int64_t *expires);
int pasteur_delete_paste(uint64_t id);

int pasteur_redis_parse(const char *url);
int pasteur_redis_put(uint64_t id, const void *data, size_t len, int64_t expires, unsigned flags);
int pasteur_redis_get(uint64_t id, void **data, size_t *len);
int pasteur_redis_peek(uint64_t id, void **data, size_t *len);
int pasteur_redis_stat(uint64_t id, unsigned *flags, int64_t *expires);
int pasteur_redis_delete(uint64_t id);

void pasteur_create(uw_req *req, uw_res *res);
void pasteur_read(uw_req *req, uw_res *res);
void pasteur_info(uw_req *req, uw_res *res);
void pasteur_delete(uw_req *req, uw_res *res);

/* The client's key for rate limiting: uw_req_peer (behind a proxy in
 * --trust-proxy=CIDR, the client it names). */
const char *pasteur_client(uw_req *req);
/* 0 when the client may create now; else the seconds to wait. */
int pasteur_rate_take(const char *client);

int pasteur_security_headers(uw_req *req, uw_res *res, void *arg);

/* Helpers of api.c for comments.c: a paste id from its 16 hex digits (0:
 * not one), the answer for a store error, a JSON answer (json is
 * consumed), the request body as a JSON object (NULL after answering 4xx). */
uint64_t pasteur_parse_id(const char *s);
void pasteur_store_error(uw_res *res, int r);
struct json_t;
void pasteur_send_json(uw_res *res, int status, struct json_t *o);
struct json_t *pasteur_json_body(uw_req *req, uw_res *res, size_t max);
/* The paste of the route's <id>: 1 with its flags and expiry, or 0 after
 * answering (404, ...). */
int pasteur_find(uw_req *req, uw_res *res, uint64_t *id, unsigned *flags, int64_t *expires);
/* Deletes the comments of a paste. */
void pasteur_delete_comments(uint64_t id);

void pasteur_comment_create(uw_req *req, uw_res *res);
void pasteur_comments(uw_req *req, uw_res *res);

/* A JSON error answer {"error": why}. */
void pasteur_error(uw_res *res, int status, const char *why);

#endif
