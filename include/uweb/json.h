/*
 * json.h — JSON request bodies and responses, with jansson (Debian's
 * libjansson; the values are jansson's json_t).
 *
 *     static void create(uw_req *req, uw_res *res)        // POST /items
 *     {
 *         json_t *in;
 *         if (uw_req_json(req, NULL, &in) != UW_OK) return;   // answered 400/413/415
 *         const char *name = json_string_value(json_object_get(in, "name"));
 *         uw_res_json_new(res, 201, json_pack("{s:s?}", "name", name));
 *         json_decref(in);
 *     }
 *
 * uw_req_json reads the whole body (at most limits->max_bytes and the
 * route's body limit), checks its nesting depth before parsing (jansson's
 * parser recurses; a handler's stack is small), then parses it with
 * duplicate object keys refused.  On failure it answers itself and
 * returns a negative status: 415 when the Content-Type is present and is
 * not application/json or a +json type, 413 over the size limit, 400 with
 * the parser's message, line and column ("400 Bad Request: invalid JSON at
 * line 3, column 7: ...").  The caller owns *out (json_decref it).
 *
 * Unix links Debian's libjansson; spt and hvt the same Debian source
 * compiled freestanding (platform/jansson/build.mk, with src/json/json_unix.c):
 * there JSON numbers are integers only, a fraction or an exponent is
 * refused (400), and json_real* must not be called.
 */
#ifndef UWEB_JSON_H
#define UWEB_JSON_H

#include <uweb/http.h>
#include <jansson.h>

typedef struct uw_json_limits {
    size_t max_bytes;      /* default 1 MiB (and never more than the route's body limit) */
    int max_depth;         /* nested arrays/objects, default 32 */
    bool any_type;         /* accept any Content-Type (default: JSON types or none) */
} uw_json_limits;

int uw_req_json(uw_req *req, const uw_json_limits *limits, json_t **out);

/* Answers json (compact, application/json) with status; json is borrowed.
 * NULL answers 500. */
int uw_res_json(uw_res *res, int status, const json_t *json);
/* The same, and json_decref(json) after: for uw_res_json_new(res, 200, json_pack(...)). */
int uw_res_json_new(uw_res *res, int status, json_t *json);

/* The nesting depth of a JSON text (pure: no parse, strings skipped), and
 * where it first exceeds max_depth: returns 0 when within, else -1 with
 * *line and *column (1-based) of the opening bracket too deep. */
int uw_json_depth_check(const char *s, size_t n, int max_depth, int *line, int *column);

#endif
