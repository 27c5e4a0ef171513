/*
 * api.c — Pasteur's API: create, read (burning), info, delete.  A paste
 * is stored as 16 zero bytes (where records of before hold their random
 * delete token; token.c) followed by the JSON
 * {"v":1,"adata":"...","ct":"..."}; adata is the metadata the page bound
 * to the ciphertext as AES-GCM additional data, and the server reads its
 * expiry and burn flag from it, so what it honours is what was sealed.
 */
#include <uweb/block.h>
#include <uweb/multipart.h>
#include <uweb/random.h>
#include <uweb/runtime.h>
#include <uweb/store.h>
#include <uweb/web.h>

#include <jansson.h>
#include <uweb/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pasteur.h"

#define TOKEN_LEN PASTEUR_TOKEN_LEN
#define ADATA_MAX 4096
#define JSON_DEPTH 8

int64_t pasteur_now(void)
{
    return uw_wall_now() / 1000000000 + P.clock_offset;
}

/* Sends a body the caller frees when this returns (uw_res_send borrows
 * its body until the handler returns; a stream's bytes are copied out). */
static void send_now(uw_res *res, int status, const char *type, const void *body, size_t len)
{
    uw_res_status(res, status);
    uw_res_header(res, "Content-Type", type);
    uw_res_header(res, "Cache-Control", "no-store");
    uw_res_content_length(res, len);
    if (uw_res_begin(res) == UW_OK && uw_res_write(res, body, len) == UW_OK) uw_res_end(res);
}

void pasteur_error(uw_res *res, int status, const char *why)
{
    /* An answer before the body was read ends the connection: the rest
     * of the body is not waited for. */
    if (status == 413 || status == 415 || status == 429) uw_res_close(res);
    json_t *o = json_pack("{ss}", "error", why);
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    if (s) send_now(res, status, "application/json", s, strlen(s));
    else uw_res_text(res, status, why);
    free(s);
    json_decref(o);
}

void pasteur_send_json(uw_res *res, int status, json_t *o)
{
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (!s) {
        pasteur_error(res, 500, "out of memory");
        return;
    }
    send_now(res, status, "application/json", s, strlen(s));
    free(s);
}

/* ------------------------------------------------------------ the store */

int pasteur_open_store(const char *file, uint64_t create_size)
{
    if (file) {
        FILE *f = fopen(file, "rb");
        if (f) {
            fclose(f);
        } else if (create_size) {
            create_size -= create_size % 4096;
            f = fopen(file, "wb");
            if (!f || fseek(f, (long)create_size - 1, SEEK_SET) != 0 || fputc(0, f) == EOF || fclose(f) != 0) {
                fprintf(stderr, "pasteur: cannot create %s\n", file);
                return 1;
            }
        }
        int r = uw_block_attach("store", file, 0);
        if (r != UW_OK && r != UW_EINVAL) {
            fprintf(stderr, "pasteur: cannot use %s as the store: %s%s\n", file, uw_strerror(r),
                    create_size ? "" : " (--store-size=BYTES creates it)");
            return 1;
        }
    }
    if (uw_block_open("store", &P.block) != UW_OK) {
        fprintf(stderr, "pasteur: no block device \"store\": give --block:store=FILE (and --store-size=BYTES to create it)\n");
        return 2;
    }
    uint8_t key[16];
    if (uw_random(key, sizeof key) != UW_OK) {
        fprintf(stderr, "pasteur: no random generator\n");
        return 1;
    }
    uw_store_dev dev;
    uw_store_dev_block(&dev, P.block);
    int64_t t0 = uw_now();
    int r = uw_store_open(&P.store, &dev,
                          &(uw_store_options){ .format = UW_STORE_FORMAT_BLANK, .key = key, .full = P.full,
                                               .max_record = P.max_paste + TOKEN_LEN + ADATA_MAX + 64 },
                          pasteur_now());
    if (r != UW_OK) {
        fprintf(stderr, "pasteur: the store %s: %s\n", file ? file : "", uw_store_strerror(r));
        return 1;
    }
    struct uw_store_stats st;
    uw_store_stats(P.store, &st);
    if (st.max_record < P.max_paste + TOKEN_LEN + ADATA_MAX + 64) {
        size_t room = st.max_record > TOKEN_LEN + ADATA_MAX + 64 ? st.max_record - TOKEN_LEN - ADATA_MAX - 64 : 0;
        fprintf(stderr, "pasteur: the store is small: pastes up to %zu bytes (a quarter of it)\n", room);
        P.max_paste = room;
    }
    unsigned kf;
    int64_t ke;
    if (uw_store_stat(P.store, PASTEUR_KEY_ID, 0, &kf, &ke) == UW_OK) st.records--;   /* the key's record */
    unsigned long long took = (unsigned long long)(uw_now() - t0) / 100000;   /* tenths of ms */
    fprintf(stderr, "pasteur: store: %llu pastes, %llu of %llu bytes used, %llu damaged records skipped, opened in %llu.%llu ms\n",
            (unsigned long long)st.records, (unsigned long long)st.live_bytes,
            (unsigned long long)st.log_bytes, (unsigned long long)st.torn,
            took / 10, took % 10);
    return 0;
}

void pasteur_store_error(uw_res *res, int r)
{
    switch (r) {
    case UW_STORE_ENOTFOUND:
        pasteur_error(res, 404, "no such paste: it never existed, it expired, or it was burned or deleted");
        break;
    case UW_STORE_ECORRUPT: pasteur_error(res, 500, "the paste was damaged on the server's device"); break;
    case UW_STORE_EFULL: pasteur_error(res, 507, "the server's store is full"); break;
    case UW_EIO: pasteur_error(res, 503, "the store cannot be reached or failed"); break;
    case UW_ELIMIT: pasteur_error(res, 413, "paste too large for the store"); break;
    case UW_ENOMEM: pasteur_error(res, 503, "out of memory"); break;
    default: pasteur_error(res, 500, "the store failed to read or write"); break;
    }
}

/* ------------------------------------------------------------ backends */

#define REDIS (P.redis_host[0] != 0)

int pasteur_put(uint64_t id, const void *data, size_t len, int64_t expires, unsigned flags)
{
    if (REDIS) return pasteur_redis_put(id, data, len, expires, flags);
    int r = uw_store_put(P.store, id, data, len, expires, flags);
    pasteur_key_keep(P.store);
    return r;
}

int pasteur_get(uint64_t id, void **data, size_t *len)
{
    if (REDIS) return pasteur_redis_get(id, data, len);
    int r = uw_store_get(P.store, id, pasteur_now(), data, len, NULL);
    pasteur_key_keep(P.store);
    return r;
}

int pasteur_peek(uint64_t id, void **data, size_t *len)
{
    if (REDIS) return pasteur_redis_peek(id, data, len);
    return uw_store_peek(P.store, id, pasteur_now(), data, len, NULL);
}

int pasteur_stat(uint64_t id, unsigned *flags, int64_t *expires)
{
    if (REDIS) return pasteur_redis_stat(id, flags, expires);
    return uw_store_stat(P.store, id, pasteur_now(), flags, expires);
}

int pasteur_delete_paste(uint64_t id)
{
    if (REDIS) return pasteur_redis_delete(id);
    int r = uw_store_delete(P.store, id);
    pasteur_key_keep(P.store);
    return r;
}

/* ------------------------------------------------------------ ids */

uint64_t pasteur_parse_id(const char *s)
{
    if (!s || strlen(s) != 16) return 0;
    uint64_t v = 0;
    for (int i = 0; i < 16; i++) {
        char c = s[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (d < 0) return 0;
        v = v << 4 | (uint64_t)d;
    }
    return v == PASTEUR_KEY_ID ? 0 : v;
}

/* ------------------------------------------------------------ create */

static const struct { const char *name; int64_t seconds; } expiries[] = {
    { "5min", 300 }, { "10min", 600 }, { "1hour", 3600 }, { "1day", 86400 }, { "1week", 7 * 86400 },
    { "1month", 30 * 86400 }, { "1year", 365 * 86400 }, { "never", 0 },
};

/* Checks the paste; 0 with *expires and *flags, or -1 with *why. */
static int check_paste(const char *adata, size_t alen, const char *ct, size_t clen,
                       int64_t *expires, unsigned *flags, const char **why)
{
    if (!adata || !alen) return *why = "missing field adata", -1;
    if (!ct || !clen) return *why = "missing field ct (the ciphertext)", -1;
    if (alen > ADATA_MAX) return *why = "adata longer than 4096 bytes", -1;
    for (size_t i = 0; i < clen; i++) {
        char c = ct[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
            return *why = "ct is not base64url", -1;
    }
    json_error_t err;
    int line, column;
    /* jansson's parser recurses: the depth is checked first (a handler's
     * stack is small). */
    if (uw_json_depth_check(adata, alen, JSON_DEPTH, &line, &column) != 0) return *why = "adata nests too deep", -1;
    json_t *a = json_loadb(adata, alen, JSON_REJECT_DUPLICATES, &err);
    int ok = -1;
    *why = "adata is not a JSON object";
    if (!json_is_object(a)) goto out;
    json_t *v = json_object_get(a, "v"), *ex = json_object_get(a, "expire"), *burn = json_object_get(a, "burn");
    json_t *fmt = json_object_get(a, "format"), *iv = json_object_get(a, "iv");
    if (!json_is_integer(v) || json_integer_value(v) != 1) { *why = "adata.v must be 1"; goto out; }
    if (!json_is_string(iv)) { *why = "adata.iv missing"; goto out; }
    if (!json_is_boolean(burn)) { *why = "adata.burn must be true or false"; goto out; }
    const char *f = json_string_value(fmt);
    if (!f || (strcmp(f, "plain") && strcmp(f, "markdown") && strcmp(f, "code"))) {
        *why = "adata.format must be plain, markdown or code";
        goto out;
    }
    const char *e = json_string_value(ex);
    size_t i;
    for (i = 0; e && i < sizeof expiries / sizeof expiries[0]; i++)
        if (strcmp(e, expiries[i].name) == 0) break;
    if (!e || i == sizeof expiries / sizeof expiries[0]) {
        *why = "adata.expire must be 5min, 10min, 1hour, 1day, 1week, 1month, 1year or never";
        goto out;
    }
    json_t *comments = json_object_get(a, "comments");
    if (comments && !json_is_boolean(comments)) { *why = "adata.comments must be true or false"; goto out; }
    if (json_is_true(comments) && json_is_true(burn)) { *why = "a burn-after-reading paste takes no comments"; goto out; }
    *expires = expiries[i].seconds ? pasteur_now() + expiries[i].seconds : 0;
    *flags = json_is_true(burn) ? UW_STORE_BURN : 0;
    ok = 0;
out:
    json_decref(a);
    return ok;
}

/* The body into malloc'd memory; NULL after answering 413 or 400. */
static char *read_body(uw_req *req, uw_res *res, size_t max, size_t *len)
{
    int64_t cl = uw_req_content_length(req);
    char msg[96];
    snprintf(msg, sizeof msg, "paste too large: at most %zu bytes", P.max_paste);
    if (cl >= 0 && (uint64_t)cl > max) {
        pasteur_error(res, 413, msg);
        return NULL;
    }
    size_t cap = cl > 0 ? (size_t)cl + 1 : 65536, n = 0;
    char *buf = malloc(cap);
    const void *d;
    ssize_t k;
    while (buf && (k = uw_req_read_chunk(req, &d)) > 0) {
        if (n + (size_t)k > max) {
            free(buf);
            pasteur_error(res, 413, msg);
            return NULL;
        }
        if (n + (size_t)k + 1 > cap) {
            while (n + (size_t)k + 1 > cap) cap *= 2;
            char *nb = realloc(buf, cap);
            if (!nb) { free(buf); buf = NULL; break; }
            buf = nb;
        }
        memcpy(buf + n, d, (size_t)k);
        n += (size_t)k;
    }
    if (!buf) {
        pasteur_error(res, 503, "out of memory");
        return NULL;
    }
    if (k < 0) {
        free(buf);
        pasteur_error(res, 400, "the request body was cut short");
        return NULL;
    }
    buf[n] = 0;
    *len = n;
    return buf;
}

typedef struct field { char *p; size_t n, cap; } field;
typedef struct form { field adata, ct; size_t max; int too_big; } form;

static field *form_field(form *f, const uw_mp_part *p)
{
    if (!p->name) return NULL;
    if (strcmp(p->name, "adata") == 0) return &f->adata;
    if (strcmp(p->name, "ct") == 0) return &f->ct;
    return NULL;
}

static int form_data(void *user, const uw_mp_part *p, const void *d, size_t n)
{
    form *f = user;
    field *fl = form_field(f, p);
    if (!fl) return 0;
    if (fl->n + n > f->max) return f->too_big = 1;
    if (fl->n + n + 1 > fl->cap) {
        size_t cap = fl->cap ? fl->cap : 4096;
        while (fl->n + n + 1 > cap) cap *= 2;
        char *q = realloc(fl->p, cap);
        if (!q) return 1;
        fl->p = q;
        fl->cap = cap;
    }
    memcpy(fl->p + fl->n, d, n);
    fl->n += n;
    fl->p[fl->n] = 0;
    return 0;
}

static int store_paste(uw_res *res, const char *adata, size_t alen, const char *ct, size_t clen)
{
    int64_t expires;
    unsigned flags;
    const char *why;
    if (check_paste(adata, alen, ct, clen, &expires, &flags, &why) != 0) {
        pasteur_error(res, 400, why);
        return -1;
    }
    json_t *o = json_object();
    if (o && (json_object_set_new(o, "v", json_integer(1)) || json_object_set_new(o, "adata", json_stringn(adata, alen)) ||
              json_object_set_new(o, "ct", json_stringn(ct, clen)))) {
        json_decref(o);
        o = NULL;
    }
    char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    size_t tlen = text ? strlen(text) : 0;
    uint8_t *rec = text ? malloc(TOKEN_LEN + tlen) : NULL;
    if (!rec) {
        free(text);
        pasteur_error(res, 503, "out of memory");
        return -1;
    }
    memset(rec, 0, TOKEN_LEN);
    memcpy(rec + TOKEN_LEN, text, tlen);
    free(text);
    uint64_t id = 0;
    int r = pasteur_key_load();
    for (int tries = 0; r == UW_OK && tries < 4; tries++) {
        do r = uw_random(&id, sizeof id);
        while (r == UW_OK && (id == 0 || id == PASTEUR_KEY_ID));
        if (r == UW_OK) r = pasteur_put(id, rec, TOKEN_LEN + tlen, expires, flags);
        if (r != UW_STORE_EEXIST) break;
    }
    if (r != UW_OK) {
        free(rec);
        pasteur_store_error(res, r);
        return -1;
    }
    char ids[17], token[2 * TOKEN_LEN + 1], url[32];
    snprintf(ids, sizeof ids, "%016llx", (unsigned long long)id);
    free(rec);
    if ((r = pasteur_token(id, token)) != UW_OK) {
        pasteur_store_error(res, r);
        return -1;
    }
    snprintf(url, sizeof url, "/?%s", ids);
    pasteur_send_json(res, 201, json_pack("{sssssssI}", "id", ids, "url", url, "delete_token", token, "expires", (json_int_t)expires));
    return 0;
}

void pasteur_create(uw_req *req, uw_res *res)
{
    int wait = pasteur_rate_take(pasteur_client(req));
    if (wait > 0) {
        uw_res_headerf(res, "Retry-After", "%d", wait);
        pasteur_error(res, 429, "too many pastes from this address: try again later");
        return;
    }
    const char *type = uw_req_header(req, "Content-Type");
    size_t max = P.max_paste + ADATA_MAX + 1024;
    if (type && strncmp(type, "multipart/form-data", 19) == 0) {
        uw_mp_parser *mp = malloc(sizeof *mp);
        form f = { .max = P.max_paste };
        uw_mp_callbacks cb = { NULL, form_data, NULL };
        uw_mp_err e = mp ? uw_mp_init(mp, type, strlen(type), NULL, &cb, &f) : UW_MP_E_INVALID;
        const void *d;
        ssize_t k = 0;
        uint64_t total = 0;
        while (e == UW_MP_OK && (k = uw_req_read_chunk(req, &d)) > 0) {
            total += (uint64_t)k;
            if (total > max) { f.too_big = 1; break; }
            e = uw_mp_feed(mp, d, (size_t)k);
        }
        if (e == UW_MP_OK && k == 0 && !f.too_big) e = uw_mp_finish(mp);
        char msg[128];
        if (f.too_big) {
            snprintf(msg, sizeof msg, "paste too large: at most %zu bytes", P.max_paste);
            pasteur_error(res, 413, msg);
        } else if (k < 0) {
            pasteur_error(res, 400, "the request body was cut short");
        } else if (e != UW_MP_OK) {
            snprintf(msg, sizeof msg, "malformed multipart/form-data: %s", uw_mp_strerror(e));
            pasteur_error(res, uw_mp_err_is_limit(e) ? 413 : 400, msg);
        } else {
            store_paste(res, f.adata.p, f.adata.n, f.ct.p, f.ct.n);
        }
        free(f.adata.p);
        free(f.ct.p);
        free(mp);
        return;
    }
    json_t *o = pasteur_json_body(req, res, max);
    if (!o) return;
    json_t *a = json_object_get(o, "adata"), *c = json_object_get(o, "ct");
    if ((a && !json_is_string(a)) || (c && !json_is_string(c))) {
        json_decref(o);
        pasteur_error(res, 400, "adata and ct must be strings");
        return;
    }
    if (c && json_string_length(c) > P.max_paste) {
        json_decref(o);
        char msg[96];
        snprintf(msg, sizeof msg, "paste too large: at most %zu bytes", P.max_paste);
        pasteur_error(res, 413, msg);
        return;
    }
    store_paste(res, a ? json_string_value(a) : NULL, a ? json_string_length(a) : 0,
                c ? json_string_value(c) : NULL, c ? json_string_length(c) : 0);
    json_decref(o);
}

json_t *pasteur_json_body(uw_req *req, uw_res *res, size_t max)
{
    const char *type = uw_req_header(req, "Content-Type");
    if (!type || strncmp(type, "application/json", 16) != 0) {
        pasteur_error(res, 415, "send application/json or multipart/form-data");
        return NULL;
    }
    size_t len;
    char *body = read_body(req, res, max, &len);
    if (!body) return NULL;
    json_error_t err;
    int line, column;
    if (uw_json_depth_check(body, len, JSON_DEPTH, &line, &column) != 0) {
        free(body);
        char msg[96];
        snprintf(msg, sizeof msg, "JSON nested deeper than %d at line %d column %d", JSON_DEPTH, line, column);
        pasteur_error(res, 400, msg);
        return NULL;
    }
    json_t *o = json_loadb(body, len, JSON_REJECT_DUPLICATES, &err);
    free(body);
    if (!json_is_object(o)) {
        char msg[256];
        if (o) snprintf(msg, sizeof msg, "the body is not a JSON object");
        else snprintf(msg, sizeof msg, "malformed JSON at line %d column %d: %s", err.line, err.column, err.text);
        json_decref(o);
        pasteur_error(res, 400, msg);
        return NULL;
    }
    return o;
}

/* ------------------------------------------------------------ read */

void pasteur_read(uw_req *req, uw_res *res)
{
    uint64_t id = pasteur_parse_id(uw_req_param(req, "id"));
    if (!id) {
        pasteur_store_error(res, UW_STORE_ENOTFOUND);
        return;
    }
    void *d;
    size_t n;
    int r = pasteur_get(id, &d, &n);
    if (r != UW_OK) {
        pasteur_store_error(res, r);
        return;
    }
    if (n < TOKEN_LEN) {
        free(d);
        pasteur_store_error(res, UW_STORE_ECORRUPT);
        return;
    }
    send_now(res, 200, "application/json", (char *)d + TOKEN_LEN, n - TOKEN_LEN);
    free(d);
}

int pasteur_find(uw_req *req, uw_res *res, uint64_t *id, unsigned *flags, int64_t *expires)
{
    *id = pasteur_parse_id(uw_req_param(req, "id"));
    int r = *id ? pasteur_stat(*id, flags, expires) : UW_STORE_ENOTFOUND;
    if (r != UW_OK) pasteur_store_error(res, r);
    return r == UW_OK;
}

void pasteur_info(uw_req *req, uw_res *res)
{
    uint64_t id;
    unsigned flags;
    int64_t expires;
    if (!pasteur_find(req, res, &id, &flags, &expires)) return;
    pasteur_send_json(res, 200, json_pack("{sbsI}", "burn", (flags & UW_STORE_BURN) != 0, "expires", (json_int_t)expires));
}

void pasteur_delete(uw_req *req, uw_res *res)
{
    uint64_t id = pasteur_parse_id(uw_req_param(req, "id"));
    const char *token = uw_req_query(req, "token");
    if (!token) token = uw_req_header(req, "X-Delete-Token");
    if (!token) {
        pasteur_error(res, 400, "a delete needs its token (?token= or X-Delete-Token)");
        return;
    }
    void *d;
    size_t n;
    int r = id ? pasteur_peek(id, &d, &n) : UW_STORE_ENOTFOUND;
    if (r != UW_OK) {
        pasteur_store_error(res, r);
        return;
    }
    r = pasteur_token_check(id, d, n, token);
    free(d);
    if (r == 0) {
        pasteur_error(res, 403, "wrong delete token");
        return;
    }
    if (r != 1) {
        pasteur_store_error(res, r);
        return;
    }
    r = pasteur_delete_paste(id);
    if (r == UW_OK) pasteur_delete_comments(id);
    if (r != UW_OK) {
        pasteur_store_error(res, r);
        return;
    }
    pasteur_send_json(res, 200, json_pack("{sb}", "deleted", 1));
}
