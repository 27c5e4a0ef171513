/* Request accessors: headers, captures, query parameters, values. */
#include "../http/http_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

char *uw__decode(uw_arena *a, const char *s, size_t n, bool plus_space, size_t *out_len);

unsigned uw_req_method(const uw_req *req) { return req->method; }
const char *uw_req_method_name(const uw_req *req) { return req->method_name; }
const char *uw_req_path(const uw_req *req) { return req->path; }
const char *uw_req_query_string(const uw_req *req) { return req->query; }
int uw_req_http_minor(const uw_req *req) { return req->minor; }
int64_t uw_req_content_length(const uw_req *req) { return req->content_length; }
uw_arena *uw_req_arena(uw_req *req) { return req->arena; }
void *uw_req_route_arg(const uw_req *req) { return req->route_arg; }

const char *uw_req_header(const uw_req *req, const char *name)
{
    size_t nl = strlen(name);
    for (size_t i = 0; i < req->nheaders; i++)
        if (req->headers[i].name_len == nl && strcasecmp(req->headers[i].name, name) == 0)
            return req->headers[i].value;
    return NULL;
}

size_t uw_req_header_count(const uw_req *req) { return req->nheaders; }

void uw_req_header_at(const uw_req *req, size_t i, const char **name, const char **value)
{
    if (i >= req->nheaders) { *name = *value = NULL; return; }
    *name = req->headers[i].name;
    *value = req->headers[i].value;
}

const char *uw_req_param(const uw_req *req, const char *name)
{
    size_t nl = strlen(name);
    for (size_t i = 0; i < req->ncaps; i++)
        if (req->caps[i].name_len == nl && memcmp(req->caps[i].name, name, nl) == 0)
            return req->caps[i].value;
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

/* Splits the query string into decoded pairs, once.  Returns UW_OK or
 * UW_EINVAL when an escape is malformed. */
int uw__req_parse_query(uw_req *req)
{
    if (req->query_parsed) return req->query_pairs || !*req->query ? UW_OK : UW_EINVAL;
    req->query_parsed = true;
    const char *q = req->query;
    size_t n = 0;
    for (const char *p = q; *p; p++) n += *p == '&';
    char **pairs = uw_arena_alloc(req->arena, (n + 1) * 2 * sizeof *pairs);
    if (!pairs) return UW_ENOMEM;
    size_t k = 0;
    while (*q) {
        const char *amp = strchr(q, '&');
        size_t len = amp ? (size_t)(amp - q) : strlen(q);
        if (len) {
            const char *eq = memchr(q, '=', len);
            size_t kl = eq ? (size_t)(eq - q) : len;
            char *key = uw__decode(req->arena, q, kl, true, NULL);
            char *val = eq ? uw__decode(req->arena, eq + 1, len - kl - 1, true, NULL) : uw_arena_strndup(req->arena, "", 0);
            if (!key || !val) return UW_EINVAL;
            pairs[2 * k] = key;
            pairs[2 * k + 1] = val;
            k++;
        }
        q += len + (amp ? 1 : 0);
    }
    req->query_pairs = pairs;
    req->nquery_pairs = k;
    return UW_OK;
}

const char *uw_req_query(uw_req *req, const char *name)
{
    if (uw__req_parse_query(req) != UW_OK) return NULL;
    for (size_t i = 0; i < req->nquery_pairs; i++)
        if (strcmp(req->query_pairs[2 * i], name) == 0) return req->query_pairs[2 * i + 1];
    return NULL;
}

int uw_req_set_value(uw_req *req, const void *key, void *value)
{
    for (size_t i = 0; i < req->nvalues; i++)
        if (req->values[i].key == key) { req->values[i].value = value; return UW_OK; }
    if (req->nvalues == UW_REQ_MAX_VALUES) return UW_ELIMIT;
    req->values[req->nvalues].key = key;
    req->values[req->nvalues].value = value;
    req->nvalues++;
    return UW_OK;
}

void *uw_req_value(const uw_req *req, const void *key)
{
    for (size_t i = 0; i < req->nvalues; i++)
        if (req->values[i].key == key) return req->values[i].value;
    return NULL;
}
