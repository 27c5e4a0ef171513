/*
 * comments.c — a discussion under a paste whose sealed metadata allows it
 * (adata.comments), encrypted by the page with the paste's key.  Comment
 * i (1, 2, ...) of paste ID is a record of its own whose id is derived
 * from (ID, i); it expires with the paste and goes when the paste is
 * deleted.  Routes: POST /api/paste/ID/comments {adata, ct} -> 201 {n};
 * GET /api/paste/ID/comments -> {"comments": [{adata, ct}, ...]}.
 */
#include <uweb/random.h>
#include <uweb/runtime.h>
#include <uweb/store.h>
#include <uweb/web.h>

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "pasteur.h"

/* The id of comment i of paste id (splitmix64: never the paste's own). */
static uint64_t comment_id(uint64_t id, unsigned i)
{
    uint64_t z = id ^ (0x9E3779B97F4A7C15ull * (i + 1));
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return z ? z : 1;
}

/* 1 when the paste exists and its sealed metadata allows comments; 0 when
 * it does not allow them; a negative store code. */
static int allows_comments(uint64_t id)
{
    void *d;
    size_t n;
    int r = pasteur_peek(id, &d, &n);
    if (r != UW_OK) return r;
    int yes = 0;
    json_t *o = n > 16 ? json_loadb((char *)d + 16, n - 16, 0, NULL) : NULL;
    const char *adata = json_string_value(json_object_get(o, "adata"));
    json_t *a = adata && strlen(adata) <= 4096 ? json_loads(adata, 0, NULL) : NULL;
    yes = json_is_true(json_object_get(a, "comments")) && !json_is_true(json_object_get(a, "burn"));
    json_decref(a);
    json_decref(o);
    free(d);
    return yes;
}

void pasteur_comment_create(uw_req *req, uw_res *res)
{
    uint64_t id = pasteur_parse_id(uw_req_param(req, "id"));
    int wait = pasteur_rate_take(pasteur_client(req));
    if (wait > 0) {
        uw_res_headerf(res, "Retry-After", "%d", wait);
        pasteur_error(res, 429, "too many pastes and comments from this address: try again later");
        return;
    }
    json_t *o = pasteur_json_body(req, res, P.max_comment + 4096);
    if (!o) return;
    const char *adata = json_string_value(json_object_get(o, "adata"));
    const char *ct = json_string_value(json_object_get(o, "ct"));
    json_t *a = adata && strlen(adata) <= 1024 ? json_loads(adata, 0, NULL) : NULL;
    int valid = a && json_integer_value(json_object_get(a, "v")) == 1 && json_is_string(json_object_get(a, "iv"));
    json_decref(a);
    size_t clen = ct ? strlen(ct) : 0;
    for (size_t i = 0; valid && i < clen; i++)
        valid = (ct[i] >= 'A' && ct[i] <= 'Z') || (ct[i] >= 'a' && ct[i] <= 'z') || (ct[i] >= '0' && ct[i] <= '9') ||
                ct[i] == '-' || ct[i] == '_';
    if (!valid || !clen) {
        json_decref(o);
        pasteur_error(res, 400, "a comment is {adata, ct}: adata with v 1 and an iv, ct base64url");
        return;
    }
    if (clen > P.max_comment) {
        json_decref(o);
        pasteur_error(res, 413, "comment too large");
        return;
    }
    int r = id ? allows_comments(id) : UW_STORE_ENOTFOUND;
    unsigned flags;
    int64_t expires = 0;
    if (r == 1) r = pasteur_stat(id, &flags, &expires) == UW_OK ? 1 : UW_STORE_ENOTFOUND;
    if (r < 0 || r == 0) {
        json_decref(o);
        if (r == 0) pasteur_error(res, 400, "this paste takes no comments");
        else pasteur_store_error(res, r);
        return;
    }
    /* Stored like a paste: 16 random bytes first (a delete token no one is
     * given: a comment goes only with its paste), then the JSON. */
    json_t *rec = json_pack("{ssss}", "adata", adata, "ct", ct);
    json_decref(o);
    char *json = rec ? json_dumps(rec, JSON_COMPACT) : NULL;
    json_decref(rec);
    size_t tlen = json ? 16 + strlen(json) : 0;
    char *text = json ? malloc(tlen) : NULL;
    if (text) memcpy(text + 16, json, tlen - 16);
    free(json);
    if (!text || uw_random(text, 16) != UW_OK) {
        free(text);
        pasteur_error(res, 503, "out of memory");
        return;
    }
    /* The first free number; a concurrent comment taking it moves us on. */
    unsigned i;
    r = UW_STORE_EEXIST;
    for (i = 1; i <= P.max_comments && r == UW_STORE_EEXIST; i++) {
        unsigned f;
        int64_t e;
        if (pasteur_stat(comment_id(id, i), &f, &e) == UW_OK) continue;
        r = pasteur_put(comment_id(id, i), text, tlen, expires, 0);
    }
    free(text);
    if (r == UW_STORE_EEXIST) {
        pasteur_error(res, 409, "this paste has as many comments as it may");
        return;
    }
    if (r != UW_OK) {
        pasteur_store_error(res, r);
        return;
    }
    pasteur_send_json(res, 201, json_pack("{si}", "n", (int)(i - 1)));
}

void pasteur_comments(uw_req *req, uw_res *res)
{
    uint64_t id;
    unsigned flags;
    int64_t expires;
    if (!pasteur_find(req, res, &id, &flags, &expires)) return;
    json_t *list = json_array();
    for (unsigned i = 1; list && i <= P.max_comments; i++) {
        void *d;
        size_t n;
        if (pasteur_peek(comment_id(id, i), &d, &n) != UW_OK) break;
        json_t *c = n > 16 ? json_loadb((char *)d + 16, n - 16, 0, NULL) : NULL;
        free(d);
        if (json_is_object(c)) json_array_append_new(list, c);
        else json_decref(c);
    }
    pasteur_send_json(res, 200, json_pack("{so}", "comments", list ? list : json_array()));
}

void pasteur_delete_comments(uint64_t id)
{
    for (unsigned i = 1; i <= P.max_comments; i++)
        if (pasteur_delete_paste(comment_id(id, i)) != UW_OK) break;
}
