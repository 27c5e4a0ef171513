/*
 * limits.c — the rate limit on creations (a token bucket per client, in a
 * fixed table: the least recently seen client gives up its slot) and the
 * security headers of every answer.
 */
#include <uweb/runtime.h>
#include <uweb/store.h>
#include <uweb/web.h>

#include <string.h>

#include "pasteur.h"

#define CLIENTS 4096
#define CLIENT_LEN 46           /* an IPv6 address as text */
/* A token is TOKEN parts (ns in a minute), so a refill of --rate
 * tokens a minute is elapsed ns times the rate, in integers (hvt guests
 * built with HVT_SOFT_KVM=1 have no floating point).  --burst is at most 1e8: its tokens fit. */
#define TOKEN ((int64_t)60 * 1000000000)

static struct bucket {
    char client[CLIENT_LEN + 1];
    int64_t tokens;             /* in TOKEN parts */
    int64_t seen;               /* uw_now() of the last refill */
} buckets[CLIENTS];

const char *pasteur_client(uw_req *req)
{
    /* The connection's peer, or behind a proxy in --trust-proxy=CIDR the
     * client it names (X-Forwarded-For, the PROXY protocol): uw_req_peer. */
    static char peer[CLIENT_LEN + 18];
    return uw_req_peer(req, peer, sizeof peer);
}

int pasteur_rate_take(const char *client)
{
    uint64_t h = 1469598103934665603ull;
    for (const char *c = client; *c; c++) h = (h ^ (unsigned char)*c) * 1099511628211ull;
    int64_t now = uw_now();
    /* Four slots per client: its own, or the oldest of them. */
    struct bucket *b = NULL, *oldest = NULL;
    for (int i = 0; i < 4 && !b; i++) {
        struct bucket *s = &buckets[(h + (uint64_t)i) % CLIENTS];
        if (strcmp(s->client, client) == 0) b = s;
        else if (!oldest || s->seen < oldest->seen) oldest = s;
    }
    if (!b) {
        b = oldest;
        strncpy(b->client, client, CLIENT_LEN);
        b->client[CLIENT_LEN] = 0;
        b->tokens = (int64_t)P.burst * TOKEN;
        b->seen = now;
    }
    int64_t full = (int64_t)P.burst * TOKEN, rate = (int64_t)P.rate;
    int64_t elapsed = now - b->seen;
    if (elapsed < 0) elapsed = 0;
    if (elapsed >= (full - b->tokens) / rate + 1) b->tokens = full;
    else b->tokens += elapsed * rate;
    if (b->tokens > full) b->tokens = full;
    b->seen = now;
    if (b->tokens >= TOKEN) {
        b->tokens -= TOKEN;
        return 0;
    }
    /* Whole seconds until the next token, plus one (as before). */
    int wait = (int)((TOKEN - b->tokens) / rate / 1000000000) + 1;
    return wait;
}

/* Drops expired pastes from the block store's index every minute (reads
 * check expiry anyway; this gives their room back to the cleaner). */
static void sweeper(void *arg)
{
    (void)arg;
    while (uw_sleep(UW_SEC(60)) == UW_OK) uw_store_sweep(P.store, pasteur_now());
}

int pasteur_security_headers(uw_req *req, uw_res *res, void *arg)
{
    (void)req;
    (void)arg;
    /* The sweeper starts with the first request: uw_main's runtime runs
     * then; it ends with the process (uw_main does not wait for it). */
    static int swept;
    if (!swept && P.store) {
        uw_task *t = uw_spawn(sweeper, NULL, 32 * 1024);
        if (t) uw_detach(t);
        swept = 1;
    }
    uw_res_header(res, "Content-Security-Policy",
                  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
                  "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
                  "frame-ancestors 'none'");
    uw_res_header(res, "Referrer-Policy", "no-referrer");
    uw_res_header(res, "X-Content-Type-Options", "nosniff");
    uw_res_header(res, "X-Frame-Options", "DENY");
    uw_res_header(res, "Cross-Origin-Opener-Policy", "same-origin");
    uw_res_header(res, "Cross-Origin-Resource-Policy", "same-origin");
    return UW_NEXT;
}
