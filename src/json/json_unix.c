/* JSON bodies and responses with jansson (json.h). */
#include <uweb/json.h>
#include <uweb/web.h>
#include "../http/http_internal.h"

#include <string.h>
#include <strings.h>

int uw_json_depth_check(const char *s, size_t n, int max_depth, int *line, int *column)
{
    int depth = 0, ln = 1, col = 0;
    bool in_str = false, esc = false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '\n') { ln++; col = 0; } else col++;
        if (in_str) {
            if (esc) esc = false;
            else if (c == '\\') esc = true;
            else if (c == '"') in_str = false;
            continue;
        }
        if (c == '"') in_str = true;
        else if (c == '[' || c == '{') {
            if (++depth > max_depth) {
                *line = ln;
                *column = col;
                return -1;
            }
        } else if ((c == ']' || c == '}') && depth > 0) depth--;
    }
    return 0;
}

/* application/json, or any type/subtype ending in +json, parameters aside. */
static bool is_json_type(const char *ct)
{
    size_t n = strcspn(ct, ";");
    while (n && (ct[n - 1] == ' ' || ct[n - 1] == '\t')) n--;
    if (n == 16 && strncasecmp(ct, "application/json", 16) == 0) return true;
    return n > 5 && strncasecmp(ct + n - 5, "+json", 5) == 0 && memchr(ct, '/', n);
}

int uw_req_json(uw_req *req, const uw_json_limits *limits, json_t **out)
{
    uw_json_limits lim = limits ? *limits : (uw_json_limits){ 0 };
    if (!lim.max_bytes) lim.max_bytes = 1 << 20;
    if (lim.max_depth <= 0) lim.max_depth = 32;
    uw_res *res = req->res;
    *out = NULL;
    const char *ct = uw_req_header(req, "Content-Type");
    if (ct && !lim.any_type && !is_json_type(ct)) {
        uw_res_error(res, 415, "the body must be application/json");
        return UW_EINVAL;
    }
    char *body;
    size_t len;
    int r = uw_req_body(req, lim.max_bytes, &body, &len);
    if (r != UW_OK) return r;
    int line, col;
    if (uw_json_depth_check(body, len, lim.max_depth, &line, &col) != 0) {
        uw_res_textf(res, 400, "400 Bad Request: invalid JSON at line %d, column %d: nested deeper than %d\n",
                     line, col, lim.max_depth);
        return UW_EINVAL;
    }
    json_error_t err;
    json_t *j = json_loadb(body, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &err);
    if (!j) {
        uw_res_textf(res, 400, "400 Bad Request: invalid JSON at line %d, column %d: %s\n",
                     err.line, err.column, err.text);
        return UW_EINVAL;
    }
    *out = j;
    return UW_OK;
}

int uw_res_json(uw_res *res, int status, const json_t *json)
{
    if (!json) return uw_res_error(res, 500, "no JSON value to send");
    size_t n = json_dumpb(json, NULL, 0, JSON_COMPACT | JSON_ENCODE_ANY);
    if (n == 0) return uw_res_error(res, 500, "the JSON value cannot be encoded");
    char *buf = uw_arena_alloc(res->arena, n + 1);
    if (!buf) return uw_res_error(res, 500, "out of request memory");
    json_dumpb(json, buf, n, JSON_COMPACT | JSON_ENCODE_ANY);
    buf[n] = '\n';
    return uw_res_send(res, status, "application/json", buf, n + 1);
}

int uw_res_json_new(uw_res *res, int status, json_t *json)
{
    int r = uw_res_json(res, status, json);
    json_decref(json);
    return r;
}
