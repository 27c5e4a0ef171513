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
    double rate;               /* creations per minute per client */
    double burst;
    int full;                  /* UW_STORE_EVICT or UW_STORE_REFUSE */
    int trust_proxy;
    int64_t clock_offset;      /* seconds added to the wall clock */
    int64_t last_sweep;
} pasteur_state;

extern pasteur_state P;

/* Opens (creating FILE of create_size bytes when asked and missing) and
 * mounts the store; 0, or an exit status after a line on stderr. */
int pasteur_open_store(const char *file, uint64_t create_size);

/* Seconds since the epoch, moved by --clock-offset. */
int64_t pasteur_now(void);

void pasteur_create(uw_req *req, uw_res *res);
void pasteur_read(uw_req *req, uw_res *res);
void pasteur_info(uw_req *req, uw_res *res);
void pasteur_delete(uw_req *req, uw_res *res);

/* The client's key for rate limiting: the first X-Forwarded-For address
 * with --trust-proxy, else one key for every direct client. */
const char *pasteur_client(uw_req *req);
/* 0 when the client may create now; else the seconds to wait. */
int pasteur_rate_take(const char *client);

int pasteur_security_headers(uw_req *req, uw_res *res, void *arg);

/* A JSON error answer {"error": why}. */
void pasteur_error(uw_res *res, int status, const char *why);

#endif
