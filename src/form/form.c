/* Form bodies (form.h): urlencoded pairs, and typed fields over the
 * urlencoded and multipart/form-data encodings. */
#include <uweb/form.h>
#include <uweb/multipart.h>
#include <uweb/web.h>
#include "../http/http_internal.h"
#include "../util/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Decodes s[0..n) ('+' is a space) into the arena; NULL for a bad escape
 * (*bad set) or no memory. */
static char *decode(uw_arena *a, const char *s, size_t n, size_t *len, bool *bad)
{
    char *o = uw_arena_alloc(a, n + 1);
    if (!o) return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '+') o[k++] = ' ';
        else if (s[i] == '%') {
            int x = i + 1 < n ? uw__hexval((unsigned char)s[i + 1]) : -1;
            int y = i + 2 < n ? uw__hexval((unsigned char)s[i + 2]) : -1;
            int h = x >= 0 && y >= 0 ? x * 16 + y : -1;
            if (h < 0) { *bad = true; return NULL; }
            o[k++] = (char)h;
            i += 2;
        } else o[k++] = s[i];
    }
    o[k] = 0;
    *len = k;
    return o;
}

int uw_form_parse(uw_arena *a, const char *s, size_t n, const uw_form_limits *limits,
                  uw_form *out, const char **why)
{
    uw_form_limits lim = limits ? *limits : (uw_form_limits){ 0 };
    if (!lim.max_fields) lim.max_fields = 256;
    if (!lim.max_field_bytes) lim.max_field_bytes = 16 * 1024;
    memset(out, 0, sizeof *out);
    size_t pairs = 1;
    for (size_t i = 0; i < n; i++) pairs += s[i] == '&';
    if (pairs > lim.max_fields + 1) pairs = lim.max_fields + 1;
    out->names = uw_arena_alloc(a, pairs * sizeof *out->names);
    out->values = uw_arena_alloc(a, pairs * sizeof *out->values);
    out->value_lens = uw_arena_alloc(a, pairs * sizeof *out->value_lens);
    if (!out->names || !out->values || !out->value_lens) { *why = "out of request memory"; return UW_ENOMEM; }
    size_t i = 0;
    while (i < n) {
        const char *p = s + i;
        const char *amp = memchr(p, '&', n - i);
        size_t len = amp ? (size_t)(amp - p) : n - i;
        i += len + (amp ? 1 : 0);
        if (!len) continue;
        if (out->n == lim.max_fields) { *why = "too many form fields"; return UW_ELIMIT; }
        const char *eq = memchr(p, '=', len);
        size_t kl = eq ? (size_t)(eq - p) : len, vl = eq ? len - kl - 1 : 0;
        if (kl > lim.max_field_bytes || vl > lim.max_field_bytes) { *why = "a form field is too long"; return UW_ELIMIT; }
        bool bad = false;
        size_t nk, nv = 0;
        char *k = decode(a, p, kl, &nk, &bad);
        char *v = k ? decode(a, eq ? eq + 1 : "", vl, &nv, &bad) : NULL;
        if (!k || !v) { *why = bad ? "malformed %-escape in the form" : "out of request memory"; return bad ? UW_EINVAL : UW_ENOMEM; }
        out->names[out->n] = k;
        out->values[out->n] = v;
        out->value_lens[out->n] = nv;
        out->n++;
    }
    return UW_OK;
}

const char *uw_form_get(const uw_form *f, const char *name)
{
    for (size_t i = 0; i < f->n; i++)
        if (strcmp(f->names[i], name) == 0) return f->values[i];
    return NULL;
}

static bool type_is(const char *ct, const char *type)
{
    size_t n = strlen(type);
    return ct && strncasecmp(ct, type, n) == 0 && (ct[n] == 0 || ct[n] == ';' || ct[n] == ' ');
}

int uw_req_form(uw_req *req, const uw_form_limits *limits, uw_form *out)
{
    uw_res *res = req->res;
    memset(out, 0, sizeof *out);
    if (!type_is(uw_req_header(req, "Content-Type"), "application/x-www-form-urlencoded")) {
        uw_res_error(res, 415, "the body must be application/x-www-form-urlencoded");
        return UW_EINVAL;
    }
    char *body;
    size_t len;
    int r = uw_req_body(req, limits && limits->max_bytes ? limits->max_bytes : 64 * 1024, &body, &len);
    if (r != UW_OK) return r;
    const char *why = "";
    r = uw_form_parse(req->arena, body, len, limits, out, &why);
    if (r != UW_OK) uw_res_error(res, r == UW_ELIMIT ? 413 : r == UW_ENOMEM ? 500 : 400, why);
    return r;
}

/* ------------------------------------------------------------ typed */

typedef struct typed {
    uw_req *req;
    const uw_form_field *fields;
    size_t nfields;
    uw_form_value *values;
    uw_form_options opt;
    int status;                /* the answer when refused */
    const char *why;
    /* the multipart part being read */
    const uw_form_field *cur;
    uw_form_value *curv;
    bool skip, streaming;
    char *buf;
    size_t len, cap;
} typed;

static int refuse(typed *t, int status, const char *fmt, const char *field)
{
    if (!t->status) {
        t->status = status;
        t->why = uw_arena_printf(t->req->arena, fmt, field);
    }
    return -1;
}

static const uw_form_field *field_of(typed *t, const char *name, uw_form_value **v)
{
    for (size_t i = 0; i < t->nfields; i++)
        if (name && strcmp(t->fields[i].name, name) == 0) {
            *v = &t->values[i];
            return &t->fields[i];
        }
    return NULL;
}

static size_t text_cap(const uw_form_field *f)
{
    if (f->max_bytes) return f->max_bytes;
    return f->type == UW_FIELD_FILE ? 1 << 20 : 16 * 1024;
}

/* A text or int value of field f (NUL-terminated text[0..len)). */
static int accept_text(typed *t, const uw_form_field *f, uw_form_value *v, const char *text, size_t len)
{
    if (v->count && !f->multiple) return refuse(t, 400, "field \"%s\" given more than once", f->name);
    if (len > text_cap(f)) return refuse(t, 413, "field \"%s\": value too long", f->name);
    v->count++;
    if (v->present) return 0;
    if (f->type == UW_FIELD_INT) {
        char *end;
        errno = 0;
        long long x = strtoll(text, &end, 10);
        if (!len || errno || *end || end != text + len) return refuse(t, 400, "field \"%s\": not an integer", f->name);
        if ((f->min || f->max) && (x < f->min || x > f->max))
            return refuse(t, 400, uw_arena_printf(t->req->arena, "field \"%%s\": out of range %lld..%lld",
                                                  (long long)f->min, (long long)f->max), f->name);
        v->num = x;
    }
    v->present = true;
    v->text = text;
    v->data = text;
    v->len = len;
    return 0;
}

static int check_required(typed *t)
{
    for (size_t i = 0; i < t->nfields; i++)
        if (t->fields[i].required && !t->values[i].present)
            return refuse(t, 400, "field \"%s\" is required", t->fields[i].name);
    return 0;
}

static int part_begin(void *user, const uw_mp_part *p)
{
    typed *t = user;
    t->cur = NULL;
    t->skip = t->streaming = false;
    t->len = 0;
    if (p->is_multipart || p->depth) return refuse(t, 400, "%s", "nested multipart parts are not accepted");
    if (!p->name) return refuse(t, 400, "%s", "a form part without a name");
    uw_form_value *v = NULL;
    const uw_form_field *f = field_of(t, p->name, &v);
    if (!f) {
        if (t->opt.ignore_unknown) { t->skip = true; return 0; }
        return refuse(t, 400, "unknown field \"%s\"", p->name);
    }
    t->cur = f;
    t->curv = v;
    if (f->type == UW_FIELD_FILE) {
        if (!p->filename) return refuse(t, 400, "field \"%s\": not a file", f->name);
        if (!p->filename[0]) { t->skip = true; return 0; }    /* an empty file input */
        if (v->count && !f->multiple) return refuse(t, 400, "field \"%s\" given more than once", f->name);
        if (!v->present) {
            v->filename = uw_arena_strndup(t->req->arena, p->filename, strlen(p->filename));
            v->content_type = uw_arena_strndup(t->req->arena, p->content_type, strlen(p->content_type));
        }
        if (f->on_data) {
            t->streaming = true;
            if (f->on_data->begin && f->on_data->begin(t->opt.arg, f->name, p->filename, p->content_type) != 0)
                return refuse(t, 400, "field \"%s\": file refused", f->name);
        }
    }
    return 0;
}

static int part_data(void *user, const uw_mp_part *p, const void *data, size_t n)
{
    typed *t = user;
    (void)p;
    if (t->skip || !t->cur) return 0;
    size_t cap = text_cap(t->cur);
    if (t->streaming) {
        t->len += n;
        if (t->cur->max_bytes && t->len > t->cur->max_bytes)
            return refuse(t, 413, uw_arena_printf(t->req->arena, "field \"%%s\": larger than %zu bytes", cap), t->cur->name);
        if (t->cur->on_data->data && t->cur->on_data->data(t->opt.arg, data, n) != 0)
            return refuse(t, 400, "field \"%s\": file refused", t->cur->name);
        return 0;
    }
    if (t->len + n > cap)
        return refuse(t, 413, uw_arena_printf(t->req->arena, "field \"%%s\": larger than %zu bytes", cap), t->cur->name);
    if (t->len + n + 1 > t->cap) {
        size_t nc = t->cap ? t->cap * 2 : 256;
        while (nc < t->len + n + 1) nc *= 2;
        if (nc > cap + 1) nc = cap + 1;
        char *nb = uw_arena_alloc(t->req->arena, nc);
        if (!nb) return refuse(t, 500, "%s", "out of request memory");
        if (t->len) memcpy(nb, t->buf, t->len);
        t->buf = nb;
        t->cap = nc;
    }
    memcpy(t->buf + t->len, data, n);
    t->len += n;
    return 0;
}

static int part_end(void *user, const uw_mp_part *p)
{
    typed *t = user;
    (void)p;
    const uw_form_field *f = t->cur;
    uw_form_value *v = t->curv;
    t->cur = NULL;
    if (t->skip || !f) return 0;
    if (t->streaming) {
        t->len = 0;
        if (f->on_data->end && f->on_data->end(t->opt.arg) != 0)
            return refuse(t, 400, "field \"%s\": file refused", f->name);
        v->count++;
        v->present = true;
        return 0;
    }
    const char *text = t->len ? t->buf : "";
    if (t->len) t->buf[t->len] = 0;
    size_t len = t->len;
    t->buf = NULL;              /* the value keeps its buffer */
    t->cap = t->len = 0;
    if (f->type != UW_FIELD_FILE) return accept_text(t, f, v, text, len);
    if (!v->present) {
        v->data = text;
        v->len = len;
    }
    v->count++;
    v->present = true;
    return 0;
}

static int answer(typed *t)
{
    uw_res *res = t->req->res;
    if (!uw_res_started(res)) {
        if (t->status == 413) uw_res_close(res);
        uw_res_error(res, t->status, t->why);
    }
    return t->status == 413 ? UW_ELIMIT : UW_EINVAL;
}

int uw_req_form_fields(uw_req *req, const uw_form_field *fields, size_t nfields,
                       uw_form_value *values, const uw_form_options *opt)
{
    typed t = { .req = req, .fields = fields, .nfields = nfields, .values = values };
    if (opt) t.opt = *opt;
    memset(values, 0, nfields * sizeof *values);
    const char *ct = uw_req_header(req, "Content-Type");
    if (type_is(ct, "application/x-www-form-urlencoded")) {
        uw_form f;
        int r = uw_req_form(req, NULL, &f);
        if (r != UW_OK) return r;
        for (size_t i = 0; i < f.n && !t.status; i++) {
            uw_form_value *v = NULL;
            const uw_form_field *fd = field_of(&t, f.names[i], &v);
            if (!fd) {
                if (!t.opt.ignore_unknown) refuse(&t, 400, "unknown field \"%s\"", f.names[i]);
            } else if (fd->type == UW_FIELD_FILE) {
                refuse(&t, 400, "field \"%s\": not a file (the form needs enctype=multipart/form-data)", fd->name);
            } else {
                accept_text(&t, fd, v, f.values[i], f.value_lens[i]);
            }
        }
        if (!t.status) check_required(&t);
        return t.status ? answer(&t) : UW_OK;
    }
    if (!type_is(ct, "multipart/form-data")) {
        uw_res_error(req->res, 415, "the body must be a form (urlencoded or multipart/form-data)");
        return UW_EINVAL;
    }
    uw_mp_parser *mp = uw_arena_alloc(req->arena, sizeof *mp);
    if (!mp) {
        uw_res_error(req->res, 500, "out of request memory");
        return UW_ENOMEM;
    }
    uw_mp_callbacks cb = { part_begin, part_data, part_end };
    uw_mp_limits lim = { .max_parts = t.opt.max_parts ? (uint32_t)t.opt.max_parts : 256, .max_depth = 1 };
    uw_mp_err e = uw_mp_init(mp, ct, strlen(ct), &lim, &cb, &t);
    while (e == UW_MP_OK) {
        const void *d;
        ssize_t n = uw_req_read_chunk(req, &d);
        if (n == 0) { e = uw_mp_finish(mp); break; }
        if (n < 0) {
            refuse(&t, n == UW_ELIMIT ? 413 : 400, "%s", n == UW_ELIMIT ? "request body too large" : "malformed request body");
            break;
        }
        e = uw_mp_feed(mp, d, (size_t)n);
    }
    if (!t.status && e != UW_MP_OK)
        refuse(&t, uw_mp_err_is_limit(e) ? 413 : 400, "%s", uw_mp_strerror(e));
    if (!t.status) check_required(&t);
    return t.status ? answer(&t) : UW_OK;
}
