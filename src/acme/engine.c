/*
 * The ACME engine (RFC 8555), the same on every target: the protocol in
 * direct style over uweb's HTTP client, JSON with jansson (Debian's
 * library on unix, its source compiled for the unikernels), crypto
 * through acme_crypto.h (crypto_openssl.c or crypto_mbedtls.c), state in
 * files under --acme-dir (files_unix.c; none on the unikernels,
 * files_uk.c) or on the block device acme (store_block.c).  One task:
 * obtain (or load) a certificate, install it, sleep until its renewal
 * time, renew, and so on; failures back off.  No floating point (hvt
 * guests may have none) and no C library time zone code: dates through
 * src/util/date.c.
 */
#include "acme_internal.h"
#include "acme_crypto.h"
#include "../util/util.h"
#include <uweb/client.h>
#include <uweb/random.h>
#include <uweb/static.h>

#include <jansson.h>

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define MAX_REPLY (1 << 20)
#define NONCE_RETRIES 8
#define POLL_TIME UW_SEC(90)      /* an authorization or an order must settle within */

typedef struct engine {
    uw_acme *a;
    uw_client *cl;
    json_t *dir;                  /* the directory */
    char *nonce;                  /* the next Replay-Nonce to use */
    char *kid;                    /* the account URL */
    acme_key *account;
    char jwk_x[48], jwk_y[48];
    char thumbprint[48];
    int alpn_slot[UW_ACME_MAX_DOMAINS];
    size_t nalpn;
    acme_cert_info cur;           /* the certificate installed */
    int64_t issued;               /* when it was obtained (its notBefore when read from a file) */
    int64_t retry_hint;           /* ns from a failure's Retry-After; 0: none */
    bool rate_limited;
    bool fallback;                /* "any": TLS-ALPN-01 first (HTTP-01 failed last time) */
    bool block;                   /* state on the block device "acme" (no state_dir) */
    char err[600];                /* the first error of this attempt, for its one line */
} engine;

typedef struct reply {
    int status;
    char *body;
    size_t len;
    char *location;
    char *content_type;
    int64_t retry_after;          /* ns, 0: none */
    json_t *json;                 /* the body when it is JSON */
} reply;

static void reply_free(reply *r)
{
    free(r->body);
    free(r->location);
    free(r->content_type);
    json_decref(r->json);
    memset(r, 0, sizeof *r);
}

static void logf_(engine *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logf_(engine *e, const char *fmt, ...)
{
    FILE *f = e->a->cfg.log;
    if (!f) return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    for (char *p = line; *p; p++)
        if (*p == '\n' || *p == '\r') *p = ' ';
    fprintf(f, "%s: acme: %s\n", e->a->cfg.name, line);
    fflush(f);
}

/* Keeps the first error of an attempt: the attempt's end logs it in one
 * line with what happens next. */
static void errf(engine *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void errf(engine *e, const char *fmt, ...)
{
    if (e->err[0]) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->err, sizeof e->err, fmt, ap);
    va_end(ap);
}

/* Logs the error kept, if any, with what follows (then forgets it). */
static void log_error(engine *e, const char *then)
{
    if (e->err[0]) logf_(e, "%s%s%s", e->err, *then ? "; " : "", then);
    e->err[0] = 0;
}

static const char *jstr(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

/* One line for a failed exchange: the problem document's type and detail,
 * or the status.  Notes Retry-After and rate limits for the backoff. */
static int fail_reply(engine *e, const char *step, const reply *r)
{
    const char *type = r->json ? jstr(r->json, "type") : NULL;
    const char *detail = r->json ? jstr(r->json, "detail") : NULL;
    if (type && strstr(type, ":rateLimited")) e->rate_limited = true;
    if (r->retry_after > e->retry_hint) e->retry_hint = r->retry_after;
    if (type)
        errf(e, "%s: %s: %s", step, type, detail ? detail : "(no detail)");
    else
        errf(e, "%s: HTTP %d%s%.*s", step, r->status, r->len ? ": " : "", r->len > 200 ? 200 : (int)r->len,
              r->body ? r->body : "");
    return UW_EPROTO;
}

/* ------------------------------------------------------------ HTTP */

static int64_t parse_retry_after(const char *v)
{
    if (!v) return 0;
    char *end;
    long long s = strtoll(v, &end, 10);
    if (end != v && *end == 0 && s >= 0) return UW_SEC(s > 86400 ? 86400 : s);
    int64_t t;
    if (uw_static_parse_http_date(v, strlen(v), &t)) {
        int64_t d = t - uw_wall_now() / UW_SEC(1);
        return d > 0 ? UW_SEC(d > 86400 ? 86400 : d) : 0;
    }
    return 0;
}

static char *dup_or_null(const char *s) { return s ? strdup(s) : NULL; }

/* One request: *r gets the answer (free it with reply_free).  UW_OK, or
 * the transport's error after a line. */
static int http(engine *e, const char *step, const char *method, const char *url, const char *body,
                const char *accept, reply *r)
{
    memset(r, 0, sizeof *r);
    uw_client_header h[2] = {
        { "Content-Type", "application/jose+json" },
        { "Accept", accept ? accept : "application/json" },
    };
    uw_client_req rq = {
        .method = method, .url = url,
        .headers = body ? h : h + 1, .nheaders = body ? 2 : 1,
        .body = body, .body_len = body ? strlen(body) : 0,
    };
    uw_client_res *res;
    int rc = uw_client_open(e->cl, &rq, &res);
    if (rc != UW_OK) {
        const char *why = rc == UW_CLIENT_ETLS || rc == UW_CLIENT_EVERIFY ? uw_client_tls_reason(e->cl) : "";
        errf(e, "%s: %s: %s%s%s", step, url, uw_client_strerror(rc), *why ? ": " : "", why);
        return rc;
    }
    r->status = uw_client_res_status(res);
    const char *nonce = uw_client_res_header(res, "Replay-Nonce");
    if (nonce) {
        free(e->nonce);
        e->nonce = strdup(nonce);
    }
    r->location = dup_or_null(uw_client_res_header(res, "Location"));
    r->content_type = dup_or_null(uw_client_res_header(res, "Content-Type"));
    r->retry_after = parse_retry_after(uw_client_res_header(res, "Retry-After"));
    if (strcmp(method, "HEAD") != 0) {
        rc = uw_client_res_read_all(res, &r->body, &r->len, MAX_REPLY);
        if (rc != UW_OK) {
            uw_client_res_close(res);
            errf(e, "%s: %s: reading the answer: %s", step, url, uw_client_strerror(rc));
            reply_free(r);
            return rc;
        }
    }
    uw_client_res_close(res);
    if (r->body && r->content_type && strstr(r->content_type, "json"))
        r->json = json_loadb(r->body, r->len, JSON_REJECT_DUPLICATES, NULL);
    return UW_OK;
}

static int get_nonce(engine *e)
{
    const char *url = jstr(e->dir, "newNonce");
    if (!url) {
        errf(e, "directory: no newNonce");
        return UW_EPROTO;
    }
    reply r;
    int rc = http(e, "newNonce", "HEAD", url, NULL, NULL, &r);
    if (rc != UW_OK) return rc;
    if ((r.status != 200 && r.status != 204) || !e->nonce) rc = fail_reply(e, "newNonce", &r);
    reply_free(&r);
    return rc;
}

static char *b64url_dup(const void *data, size_t n)
{
    size_t cap = n / 3 * 4 + 5;
    char *s = malloc(cap);
    if (s) acme_b64url(data, n, s, cap);
    return s;
}

/* A JWS-signed POST (RFC 8555 6.2): payload NULL is POST-as-GET.  badNonce
 * answers are retried with the fresh nonce. */
static int post(engine *e, const char *step, const char *url, json_t *payload, const char *accept, reply *r)
{
    memset(r, 0, sizeof *r);
    if (!url) {
        errf(e, "%s: the server gave no URL for it", step);
        return UW_EPROTO;
    }
    char *pl = payload ? json_dumps(payload, JSON_COMPACT) : strdup("");
    char *pl64 = pl ? b64url_dup(pl, strlen(pl)) : NULL;
    free(pl);
    if (!pl64) return UW_ENOMEM;
    int rc = UW_EPROTO;
    for (int attempt = 0; attempt < NONCE_RETRIES; attempt++) {
        if (!e->nonce && (rc = get_nonce(e)) != UW_OK) break;
        json_t *prot = json_pack("{s:s,s:s,s:s}", "alg", "ES256", "nonce", e->nonce, "url", url);
        if (e->kid) json_object_set_new(prot, "kid", json_string(e->kid));
        else json_object_set_new(prot, "jwk", json_pack("{s:s,s:s,s:s,s:s}", "kty", "EC", "crv", "P-256",
                                                        "x", e->jwk_x, "y", e->jwk_y));
        free(e->nonce);
        e->nonce = NULL;
        char *ps = json_dumps(prot, JSON_COMPACT);
        json_decref(prot);
        char *p64 = ps ? b64url_dup(ps, strlen(ps)) : NULL;
        free(ps);
        char *input = p64 ? malloc(strlen(p64) + strlen(pl64) + 2) : NULL;
        unsigned char sig[64];
        char s64[96];
        char *body = NULL;
        if (input) {
            strcpy(input, p64);
            strcat(input, ".");
            strcat(input, pl64);
            if (acme_sign_es256(e->account, input, strlen(input), sig) == UW_OK) {
                acme_b64url(sig, sizeof sig, s64, sizeof s64);
                json_t *jws = json_pack("{s:s,s:s,s:s}", "protected", p64, "payload", pl64, "signature", s64);
                body = json_dumps(jws, JSON_COMPACT);
                json_decref(jws);
            }
        }
        free(input);
        free(p64);
        if (!body) {
            rc = UW_ENOMEM;
            break;
        }
        rc = http(e, step, "POST", url, body, accept, r);
        free(body);
        if (rc != UW_OK) break;
        const char *type = r->json ? jstr(r->json, "type") : NULL;
        if (r->status == 400 && type && strcmp(type, "urn:ietf:params:acme:error:badNonce") == 0) {
            reply_free(r);
            rc = UW_EPROTO;
            continue;
        }
        break;
    }
    free(pl64);
    if (rc == UW_EPROTO && !r->status) errf(e, "%s: the server rejected %d nonces in a row", step, NONCE_RETRIES);
    return rc;
}

/* ------------------------------------------------------------ files */

/* The file's bytes, NUL-terminated; NULL when absent or unreadable. */
static char *read_state(engine *e, const char *file, size_t *len)
{
    if (e->block) return acme_block_read(file, len);
    return e->a->cfg.state_dir ? acme_file_read(e->a->cfg.state_dir, file, len) : NULL;
}

/* Writes the file (atomically in a directory, flushed on the block
 * device); a failure is a line. */
static int write_state(engine *e, const char *file, const char *data, size_t len, bool secret)
{
    char why[300] = "";
    int rc;
    if (e->block) {
        rc = acme_block_write(file, data, len);
        if (rc != UW_OK) snprintf(why, sizeof why, "block device %s: %s", ACME_BLOCK, uw_strerror(rc));
    } else if (e->a->cfg.state_dir) {
        rc = acme_file_write(e->a->cfg.state_dir, file, data, len, secret, why, sizeof why);
    } else {
        return UW_OK;
    }
    if (rc != UW_OK) logf_(e, "cannot write %s: %s", file, why);
    return rc;
}

/* ------------------------------------------------------------ account */

static int load_account_key(engine *e)
{
    if (e->account) return UW_OK;
    size_t len;
    char *pem = read_state(e, "account.key", &len);
    int rc;
    if (pem) {
        rc = acme_key_from_pem(&e->account, pem, len);
        free(pem);
        if (rc != UW_OK) {
            errf(e, "the stored account.key (%s): not a P-256 private key",
                 e->block ? "block device " ACME_BLOCK : e->a->cfg.state_dir);
            return rc;
        }
    } else {
        if ((rc = acme_key_generate(&e->account)) != UW_OK) {
            errf(e, "cannot make the account key");
            return rc;
        }
        char *out;
        size_t ol;
        if (acme_key_to_pem(e->account, &out, &ol) == UW_OK) {
            write_state(e, "account.key", out, ol, true);
            free(out);
        }
    }
    unsigned char x[32], y[32];
    if ((rc = acme_key_public(e->account, x, y)) != UW_OK) return rc;
    acme_b64url(x, 32, e->jwk_x, sizeof e->jwk_x);
    acme_b64url(y, 32, e->jwk_y, sizeof e->jwk_y);
    /* RFC 7638: the required members in lexicographic order, no spaces. */
    char jwk[160];
    snprintf(jwk, sizeof jwk, "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}", e->jwk_x, e->jwk_y);
    unsigned char d[32];
    acme_sha256(jwk, strlen(jwk), d);
    acme_b64url(d, 32, e->thumbprint, sizeof e->thumbprint);
    return UW_OK;
}

static int get_directory(engine *e)
{
    if (e->dir) return UW_OK;
    reply r;
    int rc = http(e, "directory", "GET", e->a->cfg.directory, NULL, NULL, &r);
    if (rc != UW_OK) return rc;
    if (r.status != 200 || !json_is_object(r.json) || !jstr(r.json, "newAccount") || !jstr(r.json, "newOrder")) {
        rc = fail_reply(e, "directory", &r);
    } else {
        e->dir = json_incref(r.json);
    }
    reply_free(&r);
    return rc;
}

static int new_account(engine *e)
{
    if (e->kid) return UW_OK;
    const char *tos = jstr(json_object_get(e->dir, "meta"), "termsOfService");
    if (tos && !e->a->cfg.agree_tos) {
        errf(e, "newAccount: the server's terms of service (%s) must be agreed to: --acme-agree-tos", tos);
        return UW_EINVAL;
    }
    json_t *p = json_pack("{s:b}", "termsOfServiceAgreed", e->a->cfg.agree_tos);
    if (e->a->cfg.email) {
        char mail[320];
        snprintf(mail, sizeof mail, "mailto:%s", e->a->cfg.email);
        json_object_set_new(p, "contact", json_pack("[s]", mail));
    }
    reply r;
    int rc = post(e, "newAccount", jstr(e->dir, "newAccount"), p, NULL, &r);
    json_decref(p);
    if (rc != UW_OK) return rc;
    if ((r.status == 200 || r.status == 201) && r.location) {
        e->kid = strdup(r.location);
        if (r.status == 201) logf_(e, "account %s created", r.location);
    } else {
        rc = fail_reply(e, "newAccount", &r);
    }
    reply_free(&r);
    return rc;
}

/* ------------------------------------------------------------ order */

/* Waits before the next poll: the server's Retry-After (at most 10 s), else
 * a backoff from 250 ms doubling to 4 s. */
static int poll_wait(int64_t retry_after, int64_t *step)
{
    int64_t d = retry_after > 0 ? (retry_after > UW_SEC(10) ? UW_SEC(10) : retry_after) : *step;
    if (*step < UW_SEC(4)) *step *= 2;
    return uw_sleep(d);
}

static void clear_challenges(engine *e)
{
    acme_tokens_clear(e->a);
    for (size_t i = 0; i < e->nalpn; i++) uw_tls_remove_cert(e->a->tls, e->alpn_slot[i]);
    e->nalpn = 0;
}

/* Puts the answer to one challenge in place: the HTTP-01 token, or the
 * TLS-ALPN-01 certificate. */
static int arm_challenge(engine *e, const char *type, const char *name, const char *key_auth, const char *token)
{
    if (strcmp(type, "http-01") == 0) return acme_token_add(e->a, token, key_auth);
    unsigned char digest[32];
    acme_sha256(key_auth, strlen(key_auth), digest);
    acme_key *k;
    int rc = acme_key_generate(&k);
    if (rc != UW_OK) return rc;
    char *cert = NULL, *key = NULL, err[200] = "";
    size_t cl = 0, kl = 0;
    rc = acme_alpn_cert(k, name, digest, &cert, &cl);
    if (rc == UW_OK) rc = acme_key_to_pem(k, &key, &kl);
    acme_key_free(k);
    if (rc == UW_OK) {
        int slot = uw_tls_add_cert(e->a->tls, UW_TLS_CERT_ACME, cert, cl, key, kl, err, sizeof err);
        if (slot >= 0 && e->nalpn < UW_ACME_MAX_DOMAINS) e->alpn_slot[e->nalpn++] = slot;
        else errf(e, "tls-alpn-01 certificate for %s: %s", name, *err ? err : uw_tls_strerror(slot));
        rc = slot >= 0 ? UW_OK : UW_EINVAL;
    }
    free(cert);
    free(key);
    return rc;
}

/* The challenge to answer: the kind asked for; with "any", HTTP-01 first
 * and TLS-ALPN-01 when the server offers no HTTP-01, the other way round
 * after an authorization failed (the next attempt falls back). */
static const json_t *pick_challenge(engine *e, const json_t *challenges)
{
    static const char *const order[][2] = {
        [UW_ACME_CHALLENGE_ANY] = { "http-01", "tls-alpn-01" },
        [UW_ACME_CHALLENGE_TLSALPN01 + 1] = { "tls-alpn-01", "http-01" },
        [UW_ACME_CHALLENGE_HTTP01] = { "http-01", NULL },
        [UW_ACME_CHALLENGE_TLSALPN01] = { "tls-alpn-01", NULL },
    };
    int c = e->a->cfg.challenge;
    if (c < 0 || c > UW_ACME_CHALLENGE_TLSALPN01) c = UW_ACME_CHALLENGE_ANY;
    if (c == UW_ACME_CHALLENGE_ANY && e->fallback) c = UW_ACME_CHALLENGE_TLSALPN01 + 1;
    for (int k = 0; k < 2 && order[c][k]; k++) {
        size_t i;
        const json_t *ch;
        json_array_foreach(challenges, i, ch) {
            const char *t = jstr(ch, "type");
            if (t && strcmp(t, order[c][k]) == 0 && jstr(ch, "url") && jstr(ch, "token")) return ch;
        }
    }
    return NULL;
}

/* The reason an authorization failed: its challenge's error. */
static void log_authz_failure(engine *e, const char *name, const json_t *authz)
{
    size_t i;
    const json_t *ch;
    json_array_foreach(json_object_get(authz, "challenges"), i, ch) {
        const json_t *err = json_object_get(ch, "error");
        if (err) {
            errf(e, "authorization of %s (%s): %s: %s", name, jstr(ch, "type") ? jstr(ch, "type") : "?",
                  jstr(err, "type") ? jstr(err, "type") : "?", jstr(err, "detail") ? jstr(err, "detail") : "");
            return;
        }
    }
    errf(e, "authorization of %s: %s", name, jstr(authz, "status") ? jstr(authz, "status") : "failed");
}

/* One authorization: answer its challenge and poll it until valid. */
static int authorize(engine *e, const char *url)
{
    reply r;
    int rc = post(e, "authorization", url, NULL, NULL, &r);
    if (rc != UW_OK) return rc;
    if (r.status != 200 || !json_is_object(r.json)) {
        rc = fail_reply(e, "authorization", &r);
        reply_free(&r);
        return rc;
    }
    const char *status = jstr(r.json, "status");
    const char *name = jstr(json_object_get(r.json, "identifier"), "value");
    char who[256];
    snprintf(who, sizeof who, "%s", name ? name : "?");
    if (status && strcmp(status, "valid") == 0) {
        reply_free(&r);
        return UW_OK;
    }
    const json_t *ch = pick_challenge(e, json_object_get(r.json, "challenges"));
    if (!ch) {
        errf(e, "authorization of %s: no challenge of the kind asked for (http-01 or tls-alpn-01)", who);
        reply_free(&r);
        return UW_EPROTO;
    }
    char key_auth[512], chal_url[1024], type[32];
    snprintf(key_auth, sizeof key_auth, "%s.%s", jstr(ch, "token"), e->thumbprint);
    snprintf(chal_url, sizeof chal_url, "%s", jstr(ch, "url"));
    snprintf(type, sizeof type, "%s", jstr(ch, "type"));
    rc = arm_challenge(e, type, who, key_auth, jstr(ch, "token"));
    reply_free(&r);
    if (rc != UW_OK) {
        e->fallback = !e->fallback;     /* "any": the other kind next time */
        return rc;
    }

    json_t *empty = json_object();
    rc = post(e, "challenge", chal_url, empty, NULL, &r);
    json_decref(empty);
    if (rc != UW_OK) return rc;
    if (r.status != 200) {
        rc = fail_reply(e, "challenge", &r);
        reply_free(&r);
        return rc;
    }
    reply_free(&r);
    int64_t until = uw_now() + POLL_TIME, step = UW_SEC(1) / 4, retry_after = 0;
    for (;;) {
        if ((rc = poll_wait(retry_after, &step)) != UW_OK) return rc;
        if ((rc = post(e, "authorization", url, NULL, NULL, &r)) != UW_OK) return rc;
        status = r.status == 200 ? jstr(r.json, "status") : NULL;
        retry_after = r.retry_after;
        if (!status) {
            rc = fail_reply(e, "authorization", &r);
        } else if (strcmp(status, "valid") == 0) {
            rc = UW_OK;
        } else if (strcmp(status, "pending") == 0 || strcmp(status, "processing") == 0) {
            if (uw_now() < until) {
                reply_free(&r);
                continue;
            }
            errf(e, "authorization of %s: still %s after %d s", who, status, (int)(POLL_TIME / UW_SEC(1)));
            rc = UW_ETIMEDOUT;
        } else {
            log_authz_failure(e, who, r.json);
            e->fallback = !e->fallback;
            rc = UW_EPROTO;
        }
        reply_free(&r);
        return rc;
    }
}

/* Polls the order until its status is one of want (or it failed). */
static int poll_order(engine *e, const char *url, const char *want, reply *r)
{
    int64_t until = uw_now() + POLL_TIME, step = UW_SEC(1) / 4, retry_after = 0;
    for (;;) {
        int rc = poll_wait(retry_after, &step);
        if (rc != UW_OK) return rc;
        if ((rc = post(e, "order", url, NULL, NULL, r)) != UW_OK) return rc;
        const char *status = r->status == 200 ? jstr(r->json, "status") : NULL;
        retry_after = r->retry_after;
        if (!status) {
            rc = fail_reply(e, "order", r);
        } else if (strcmp(status, want) == 0) {
            return UW_OK;
        } else if ((strcmp(status, "pending") == 0 || strcmp(status, "processing") == 0 ||
                    strcmp(status, "ready") == 0) && uw_now() < until) {
            reply_free(r);
            continue;
        } else {
            const json_t *err = json_object_get(r->json, "error");
            errf(e, "order: %s%s%s%s%s", status, err ? ": " : "", err && jstr(err, "type") ? jstr(err, "type") : "",
                  err ? ": " : "", err && jstr(err, "detail") ? jstr(err, "detail") : "");
            rc = UW_EPROTO;
        }
        reply_free(r);
        return rc;
    }
}

/* The whole issuance: order, authorizations, finalize, download.  On UW_OK
 * *chain and *key (PEM, malloc'd) hold the new certificate. */
static int order_certificate(engine *e, char **chain, size_t *chain_len, char **key_pem, size_t *key_len)
{
    const uw_acme_config *c = &e->a->cfg;
    json_t *ids = json_array();
    for (size_t i = 0; i < c->ndomains; i++)
        json_array_append_new(ids, json_pack("{s:s,s:s}", "type", "dns", "value", c->domains[i]));
    json_t *p = json_pack("{s:o}", "identifiers", ids);
    reply r;
    int rc = post(e, "newOrder", jstr(e->dir, "newOrder"), p, NULL, &r);
    json_decref(p);
    if (rc != UW_OK) return rc;
    if (r.status != 201 || !r.location || !json_is_object(r.json)) {
        rc = fail_reply(e, "newOrder", &r);
        reply_free(&r);
        return rc;
    }
    char *order_url = strdup(r.location);
    json_t *order = json_incref(r.json);
    reply_free(&r);

    size_t i;
    const json_t *az;
    rc = UW_OK;
    json_array_foreach(json_object_get(order, "authorizations"), i, az) {
        if (!json_is_string(az)) continue;
        if ((rc = authorize(e, json_string_value(az))) != UW_OK) break;
    }
    clear_challenges(e);

    acme_key *k = NULL;
    unsigned char *csr = NULL;
    size_t csr_len = 0;
    if (rc == UW_OK && (rc = acme_key_generate(&k)) == UW_OK &&
        (rc = acme_csr(k, c->domains, c->ndomains, &csr, &csr_len)) == UW_OK) {
        char *csr64 = b64url_dup(csr, csr_len);
        json_t *fp = json_pack("{s:s}", "csr", csr64 ? csr64 : "");
        free(csr64);
        rc = post(e, "finalize", jstr(order, "finalize"), fp, NULL, &r);
        json_decref(fp);
        if (rc == UW_OK) {
            if (r.status != 200) rc = fail_reply(e, "finalize", &r);
            bool valid = rc == UW_OK && jstr(r.json, "status") && strcmp(jstr(r.json, "status"), "valid") == 0;
            if (rc == UW_OK && valid) {
                json_decref(order);
                order = json_incref(r.json);
            }
            reply_free(&r);
            if (rc == UW_OK && !valid) {
                rc = poll_order(e, order_url, "valid", &r);
                if (rc == UW_OK) {
                    json_decref(order);
                    order = json_incref(r.json);
                    reply_free(&r);
                }
            }
        }
    }
    free(csr);
    const char *cert_url = rc == UW_OK ? jstr(order, "certificate") : NULL;
    if (rc == UW_OK && !cert_url) {
        errf(e, "order: valid without a certificate URL");
        rc = UW_EPROTO;
    }
    if (rc == UW_OK && (rc = post(e, "certificate", cert_url, NULL, "application/pem-certificate-chain", &r)) == UW_OK) {
        if (r.status != 200 || !r.body || !strstr(r.body, "-----BEGIN CERTIFICATE-----")) {
            rc = fail_reply(e, "certificate", &r);
        } else {
            *chain = r.body;
            *chain_len = r.len;
            r.body = NULL;
            rc = acme_key_to_pem(k, key_pem, key_len);
            if (rc != UW_OK) free(*chain);
        }
        reply_free(&r);
    }
    acme_key_free(k);
    json_decref(order);
    free(order_url);
    return rc;
}

/* ------------------------------------------------------------ install */

static void names_line(const uw_acme_config *c, char *out, size_t cap)
{
    size_t o = 0;
    out[0] = 0;
    for (size_t i = 0; i < c->ndomains && o + 1 < cap; i++)
        o += (size_t)snprintf(out + o, cap - o, "%s%s", i ? "," : "", c->domains[i]);
}

/* Puts the certificate in the listener's slot.  UW_OK or UW_EINVAL after
 * a line. */
static int install(engine *e, const char *chain, size_t cl, const char *key, size_t kl, const char *from)
{
    uw_acme *a = e->a;
    char err[256] = "";
    acme_cert_info info;
    if (acme_cert_info_get(chain, cl, &info) != UW_OK) {
        errf(e, "%s: not a certificate chain", from);
        return UW_EINVAL;
    }
    int rc;
    if (a->slot < 0) {
        rc = uw_tls_add_cert(a->tls, UW_TLS_CERT_DEFAULT, chain, cl, key, kl, err, sizeof err);
        if (rc >= 0) a->slot = rc;
    } else {
        rc = uw_tls_set_cert(a->tls, a->slot, chain, cl, key, kl, err, sizeof err);
    }
    if (rc < 0) {
        errf(e, "%s: the TLS listener refused it: %s", from, *err ? err : uw_tls_strerror(rc));
        return UW_EINVAL;
    }
    a->not_after = info.not_after;
    e->cur = info;
    char names[512], until[32];
    names_line(&a->cfg, names, sizeof names);
    uw__civil t;
    uw__civil_time(info.not_after, &t);
    snprintf(until, sizeof until, "%04d-%02d-%02dT%02d:%02d:%02dZ", (int)t.year, t.month, t.day, t.hour, t.minute,
             t.second);
    logf_(e, "certificate for %s %s, valid until %s", names, from, until);
    return UW_OK;
}

/* A stored certificate still valid (for at least a tenth of its lifetime)
 * for every name is installed instead of ordering a new one. */
static int load_stored(engine *e)
{
    acme_cert_info stored, *info = &stored;
    size_t cl, kl;
    char *chain = read_state(e, "cert.pem", &cl);
    char *key = chain ? read_state(e, "cert.key", &kl) : NULL;
    int rc = UW_EINVAL;
    acme_key *k = NULL;
    if (key && acme_cert_info_get(chain, cl, info) == UW_OK && acme_key_from_pem(&k, key, kl) == UW_OK &&
        acme_cert_matches(chain, cl, k, e->a->cfg.domains, e->a->cfg.ndomains) == UW_OK) {
        int64_t now = uw_wall_now() / UW_SEC(1), life = info->not_after - info->not_before;
        if (info->not_after - now > life / 10)
            rc = install(e, chain, cl, key, kl, e->block ? "read from the block device " ACME_BLOCK : "read from the state directory");
        e->issued = info->not_before;
    }
    acme_key_free(k);
    free(chain);
    free(key);
    return rc;
}

/* ------------------------------------------------------------ renewal */

/* n digits of s as a number, or -1. */
static int digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

/* Parses an RFC 3339 time (as ARI gives it: "2025-01-02T03:04:05Z",
 * maybe with a fraction or an offset) into seconds since 1970; 0 when it
 * is not one. */
static int64_t rfc3339(const char *s)
{
    if (!s || strlen(s) < 19 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') || s[13] != ':' ||
        s[16] != ':')
        return 0;
    int y = digits(s, 4), mo = digits(s + 5, 2), d = digits(s + 8, 2), h = digits(s + 11, 2), mi = digits(s + 14, 2),
        sec = digits(s + 17, 2);
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 60)
        return 0;
    const char *z = s + 19;
    if (*z == '.')
        for (z++; *z >= '0' && *z <= '9'; z++) {}
    int64_t off = 0;
    if ((*z == '+' || *z == '-') && digits(z + 1, 2) >= 0 && z[3] == ':' && digits(z + 4, 2) >= 0) {
        off = (digits(z + 1, 2) * 3600 + digits(z + 4, 2) * 60) * (*z == '-' ? -1 : 1);
        z += 6;
    } else if (*z == 'Z' || *z == 'z') {
        z++;
    }
    if (*z) return 0;
    return uw__days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + (sec > 59 ? 59 : sec) - off;
}

static uint64_t random_u64(void)
{
    uint64_t v = 0;
    uw_random(&v, sizeof v);
    return v;
}

/* When to renew (seconds since 1970): renew_after after issuance, or two
 * thirds of the lifetime less up to 1/20 of it at random; earlier when
 * the server's ARI window starts earlier. */
static int64_t renewal_time(engine *e, const acme_cert_info *info)
{
    int64_t life = info->not_after - info->not_before;
    if (life <= 0) life = 1;
    int64_t at;
    if (e->a->cfg.renew_after > 0) {
        at = (e->issued > info->not_before ? e->issued : info->not_before) + e->a->cfg.renew_after / UW_SEC(1);
    } else {
        int64_t jitter = life / 20 > 0 ? (int64_t)(random_u64() % (uint64_t)(life / 20)) : 0;
        at = info->not_before + life * 2 / 3 - jitter;
    }
    const char *ari = e->dir ? jstr(e->dir, "renewalInfo") : NULL;
    if (ari && *ari && info->ari_id[0] && e->a->cfg.renew_after <= 0) {
        char url[2048];
        snprintf(url, sizeof url, "%s%s%s", ari, ari[strlen(ari) - 1] == '/' ? "" : "/", info->ari_id);
        reply r;
        if (http(e, "renewalInfo", "GET", url, NULL, NULL, &r) == UW_OK) {
            const json_t *w = json_object_get(r.json, "suggestedWindow");
            int64_t start = rfc3339(jstr(w, "start")), end = rfc3339(jstr(w, "end"));
            if (r.status == 200 && start > 0 && end >= start) {
                int64_t pick = start + (end > start ? (int64_t)(random_u64() % (uint64_t)(end - start)) : 0);
                if (pick < at) at = pick;
            }
            reply_free(&r);
        }
    }
    return at;
}

static int obtain(engine *e)
{
    int rc;
    e->retry_hint = 0;
    e->rate_limited = false;
    if ((rc = load_account_key(e)) != UW_OK || (rc = get_directory(e)) != UW_OK || (rc = new_account(e)) != UW_OK)
        return rc;
    char *chain = NULL, *key = NULL;
    size_t cl = 0, kl = 0;
    int64_t t0 = uw_now();
    rc = order_certificate(e, &chain, &cl, &key, &kl);
    if (rc == UW_OK) {
        char from[64];
        int64_t ds = (uw_now() - t0) / (UW_SEC(1) / 10);      /* tenths of a second */
        snprintf(from, sizeof from, "issued in %lld.%lld s", (long long)(ds / 10), (long long)(ds % 10));
        rc = install(e, chain, cl, key, kl, from);
        if (rc == UW_OK) {
            e->issued = uw_wall_now() / UW_SEC(1);
            write_state(e, "cert.key", key, kl, true);
            write_state(e, "cert.pem", chain, cl, false);
        }
    }
    free(chain);
    free(key);
    return rc;
}

/* The task's life: load, obtain, sleep, renew, until canceled. */
static void run(engine *e)
{
    uw_acme *a = e->a;
    bool have = load_stored(e) == UW_OK;
    log_error(e, "ordering a new certificate");
    int64_t backoff = a->cfg.retry_min;
    for (;;) {
        if (have && !a->renew_now) {
            int64_t at = renewal_time(e, &e->cur), now = uw_wall_now() / UW_SEC(1);
            e->err[0] = 0;      /* no renewal information: the schedule stands */
            if (at > now) {
                int64_t deadline = uw_now() + UW_SEC(at - now);
                int w = uw_wait(&a->wake, deadline);
                if (w == UW_ECANCELED) return;
                if (w == UW_OK && !a->renew_now) continue;
            }
            logf_(e, "renewing the certificate");
        }
        a->renew_now = false;
        int rc = obtain(e);
        if (rc == UW_ECANCELED || uw_canceled()) return;
        if (rc == UW_OK) {
            e->err[0] = 0;
            backoff = a->cfg.retry_min;
            have = true;
            continue;
        }
        int64_t wait = backoff;
        if (e->rate_limited && wait < UW_SEC(60)) wait = UW_SEC(60);
        if (e->retry_hint > wait) wait = e->retry_hint;
        if (wait > a->cfg.retry_max) wait = a->cfg.retry_max;
        char then[96];
        snprintf(then, sizeof then, "%s, next attempt in %lld s",
                 have ? "keeping the current certificate" : "no certificate yet", (long long)(wait / UW_SEC(1)));
        if (!e->err[0]) snprintf(e->err, sizeof e->err, "failed: %s", uw_client_strerror(rc));
        log_error(e, then);
        if (backoff < a->cfg.retry_max / 2) backoff *= 2;
        else backoff = a->cfg.retry_max;
        /* Forget the nonce, the directory and the account URL: the server
         * may have restarted (the account key finds the account again). */
        free(e->nonce);
        free(e->kid);
        json_decref(e->dir);
        e->nonce = e->kid = NULL;
        e->dir = NULL;
        if (uw_wait(&a->wake, uw_now() + wait) == UW_ECANCELED) return;
        a->renew_now = false;
    }
}

void acme_engine_main(void *arg)
{
    uw_acme *a = arg;
    engine *e = calloc(1, sizeof *e);
    if (!e) return;
    e->a = a;
    a->engine = e;
    uw_client_config cc;
    uw_client_config_default(&cc);
    cc.user_agent = "uweb-acme";
    cc.request_timeout = UW_SEC(30);
    cc.ca_file = a->cfg.ca_file;
    if (uw_client_new(&e->cl, &cc) != UW_OK) {
        logf_(e, "cannot make the HTTP client");
        return;
    }
    char why[200];
    if (!a->cfg.state_dir && acme_block_check(why, sizeof why) == UW_OK) e->block = true;
    else if (!a->cfg.state_dir && strstr(why, "needs")) logf_(e, "%s: state kept in memory only", why);
    run(e);
    clear_challenges(e);
    uw_client_free(e->cl);      /* within the runtime: it closes its pooled connections */
    e->cl = NULL;
}

void acme_engine_free(uw_acme *a)
{
    engine *e = a->engine;
    if (!e) return;
    /* A task abandoned by uw_rt_fini leaves its client behind: the
     * runtime that owned its connections is gone. */
    json_decref(e->dir);
    free(e->nonce);
    free(e->kid);
    acme_key_free(e->account);
    free(e);
    a->engine = NULL;
}
