/* The framework's request accessors: captures, the route argument, query
 * parameters, middleware values.  The wire-level ones are http's
 * (message.c). */
#include "web_internal.h"
#include "../http/http_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

uw_web_state *uw__web_state(uw_req *req)
{
    if (!req->framework) {
        uw_web_state *st = uw_arena_alloc(req->arena, sizeof *st);
        if (!st) return NULL;
        memset(st, 0, sizeof *st);
        req->framework = st;
    }
    return req->framework;
}

const uw_web_state *uw__web_state_peek(const uw_req *req)
{
    return req->framework;
}

void *uw_req_route_arg(const uw_req *req)
{
    const uw_web_state *st = uw__web_state_peek(req);
    return st ? st->route_arg : NULL;
}

const char *uw_req_param(const uw_req *req, const char *name)
{
    const uw_web_state *st = uw__web_state_peek(req);
    if (!st) return NULL;
    size_t nl = strlen(name);
    for (size_t i = 0; i < st->ncaps; i++)
        if (st->caps[i].name_len == nl && memcmp(st->caps[i].name, name, nl) == 0)
            return st->caps[i].value;
    return NULL;
}

int uw_req_param_int(const uw_req *req, const char *name, int64_t *out)
{
    const char *v = uw_req_param(req, name);
    if (!v || !*v) return UW_EINVAL;
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (errno || *end) return UW_EINVAL;
    *out = x;
    return UW_OK;
}

int uw__req_parse_query(uw_req *req)
{
    uw_web_state *st = uw__web_state(req);
    if (!st) return UW_ENOMEM;
    const char *q = uw_req_query_string(req);
    if (st->query_parsed) return st->query_pairs || !*q ? UW_OK : UW_EINVAL;
    st->query_parsed = true;
    uw_arena *a = uw_req_arena(req);
    size_t n = 0;
    for (const char *p = q; *p; p++) n += *p == '&';
    char **pairs = uw_arena_alloc(a, (n + 1) * 2 * sizeof *pairs);
    if (!pairs) return UW_ENOMEM;
    size_t k = 0;
    while (*q) {
        const char *amp = strchr(q, '&');
        size_t len = amp ? (size_t)(amp - q) : strlen(q);
        if (len) {
            const char *eq = memchr(q, '=', len);
            size_t kl = eq ? (size_t)(eq - q) : len;
            char *key = uw__decode(a, q, kl, true, NULL);
            char *val = eq ? uw__decode(a, eq + 1, len - kl - 1, true, NULL) : uw_arena_strndup(a, "", 0);
            if (!key || !val) return UW_EINVAL;
            pairs[2 * k] = key;
            pairs[2 * k + 1] = val;
            k++;
        }
        q += len + (amp ? 1 : 0);
    }
    st->query_pairs = pairs;
    st->nquery_pairs = k;
    return UW_OK;
}

const char *uw_req_query(uw_req *req, const char *name)
{
    if (uw__req_parse_query(req) != UW_OK) return NULL;
    const uw_web_state *st = uw__web_state_peek(req);
    for (size_t i = 0; i < st->nquery_pairs; i++)
        if (strcmp(st->query_pairs[2 * i], name) == 0) return st->query_pairs[2 * i + 1];
    return NULL;
}

int uw_req_set_value(uw_req *req, const void *key, void *value)
{
    uw_web_state *st = uw__web_state(req);
    if (!st) return UW_ENOMEM;
    for (size_t i = 0; i < st->nvalues; i++)
        if (st->values[i].key == key) { st->values[i].value = value; return UW_OK; }
    if (st->nvalues == UW_REQ_MAX_VALUES) return UW_ELIMIT;
    st->values[st->nvalues].key = key;
    st->values[st->nvalues].value = value;
    st->nvalues++;
    return UW_OK;
}

void *uw_req_value(const uw_req *req, const void *key)
{
    const uw_web_state *st = uw__web_state_peek(req);
    if (!st) return NULL;
    for (size_t i = 0; i < st->nvalues; i++)
        if (st->values[i].key == key) return st->values[i].value;
    return NULL;
}
