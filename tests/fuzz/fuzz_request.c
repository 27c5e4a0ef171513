/*
 * Fuzz target for the request path, no sockets, differential throughout.
 *
 * 1. The HTTP/1.1 engine (src/http/h1.c) fed directly: the input as it
 *    would arrive in one read, split at a point the input picks, and a
 *    byte at a time must give the same events — each head (method, path,
 *    query, version, fields, framing), each message's body bytes, each
 *    end, the error answered (its status, and its reason unless it is a
 *    431, where "too large" and "too many fields" may trade places).
 *
 * 2. The whole server (connection loop, router, handlers) over an
 *    in-memory connection (a uw_conn whose reads hand out the input,
 *    first up to the split point, then the rest, then the end of stream,
 *    and whose writes collect the answers).  The input whole and split
 *    must give the same answers, and every answer is checked: a status
 *    line the server writes ("HTTP/1.1 NNN Reason"), then framing that
 *    parses back to back — Content-Length bodies complete, chunked bodies
 *    well formed, a body delimited by the close only last.  Answers are
 *    compared decoded (status line, headers without Date and X-Request-Id, body), since
 *    chunk boundaries follow reads.
 *
 * Any difference, malformed answer or impossible event aborts.
 */
#include "../../src/http/h1.h"
#include <uweb/web.h>
#include <uweb/net.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_INPUT 16384
#define MAX_FIELDS 16
#define MAX_HEAD 1024

/* ------------------------------------------------------------ 1. the engine */

typedef struct transcript {
    char text[1 << 16];
    size_t len;
    uint64_t body_hash, body_len;
    bool in_message;
} transcript;

static void add(transcript *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(transcript *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(t->text + t->len, sizeof t->text - t->len, fmt, ap);
    va_end(ap);
    if (n > 0) t->len += (size_t)n;
    if (t->len >= sizeof t->text) t->len = sizeof t->text - 1;
}

static void body_done(transcript *t)
{
    add(t, "body %llu %016llx\n", (unsigned long long)t->body_len, (unsigned long long)t->body_hash);
    t->body_len = 0;
    t->body_hash = 1469598103934665603ull;
}

/* Parses data[0..size), handed to the engine step bytes at a time (the
 * first piece is first bytes long), and writes what it saw into t. */
static void engine_run(const uint8_t *data, size_t size, size_t first, size_t step, transcript *t)
{
    static char buf[MAX_INPUT + 1];
    static uw_header fields[MAX_FIELDS + 1];
    memcpy(buf, data, size);
    memset(t, 0, sizeof *t);
    t->body_hash = 1469598103934665603ull;
    uw_h1_parser p;
    uw_h1_init(&p, fields, MAX_FIELDS, MAX_HEAD);
    size_t pos = 0, avail = first < size ? first : size;
    for (;;) {
        uw_h1_event ev;
        size_t used = uw_h1_parse(&p, buf + pos, avail - pos, &ev);
        if (used > avail - pos) abort();
        pos += used;
        switch (ev.kind) {
        case UW_H1_HEAD: {
            const uw_h1_head *h = &p.head;
            if (t->in_message) abort();
            t->in_message = true;
            add(t, "head %s %s ? %s HTTP/1.%d len %lld%s%s%s\n", h->method_name, h->path, h->query, h->minor,
                (long long)h->content_length, h->chunked ? " chunked" : "",
                h->expect_continue ? " continue" : "", h->keep_alive ? " keep-alive" : "");
            if (strlen(h->path) != h->path_len) abort();
            for (size_t i = 0; i < h->nheaders; i++) {
                const uw_header *f = &h->headers[i];
                if (strlen(f->name) != f->name_len || strlen(f->value) != f->value_len) abort();
                add(t, "  %s: %s\n", f->name, f->value);
            }
            break;
        }
        case UW_H1_BODY:
            if (!t->in_message) abort();
            for (size_t i = 0; i < ev.len; i++)
                t->body_hash = (t->body_hash ^ (unsigned char)ev.data[i]) * 1099511628211ull;
            t->body_len += ev.len;
            break;
        case UW_H1_END:
            if (!t->in_message) abort();
            body_done(t);
            add(t, "end\n");
            t->in_message = false;
            break;
        case UW_H1_ERROR:
            if (ev.status < 400 || ev.status > 599 || !ev.why) abort();
            if (t->in_message) body_done(t);
            add(t, "error %d %s\n", ev.status, ev.status == 431 ? "" : ev.why);
            return;
        case UW_H1_MORE:
            if (pos != avail) abort();
            if (avail == size) {
                if (t->in_message) body_done(t);
                add(t, "eof\n");
                return;
            }
            avail = avail + step < size ? avail + step : size;
            break;
        }
    }
}

static transcript whole, split_t;

static void same(const char *how, size_t at)
{
    if (whole.len == split_t.len && memcmp(whole.text, split_t.text, whole.len) == 0) return;
    fprintf(stderr, "fuzz_request: engine events differ (%s at %zu):\n--- whole\n%.*s--- split\n%.*s", how, at,
            (int)whole.len, whole.text, (int)split_t.len, split_t.text);
    abort();
}

/* ------------------------------------------------------------ 2. the server */

static void hello(uw_req *req, uw_res *res) { (void)req; uw_res_text(res, 200, "Hello World!\n"); }

static void user(uw_req *req, uw_res *res)
{
    int64_t id = 0;
    uw_req_param_int(req, "id", &id);
    const char *host = uw_req_header(req, "Host");
    uw_res_textf(res, 200, "user %lld q=%s host=%s path=%s\n", (long long)id,
                 uw_req_query(req, "q") ? uw_req_query(req, "q") : "-", host ? host : "-", uw_req_path(req));
}

/* Reads the whole body (at most its limit), then streams it back chunked
 * in pieces of fixed size, so the answer does not depend on how the body
 * arrived.  On a read error the server answers (413/400). */
static void echo(uw_req *req, uw_res *res)
{
    static char body[4096];
    size_t len = 0;
    ssize_t n;
    while ((n = uw_req_read(req, body + len, sizeof body - len)) > 0) len += (size_t)n;
    if (n < 0) return;
    uw_res_begin(res);
    for (size_t i = 0; i < len; i += 700) uw_res_write(res, body + i, len - i < 700 ? len - i : 700);
    uw_res_end(res);
}

/* Reads the body, then answers the head (which must outlive the body). */
static void count(uw_req *req, uw_res *res)
{
    const void *d;
    ssize_t n;
    uint64_t total = 0, sum = 0;
    while ((n = uw_req_read_chunk(req, &d)) > 0) {
        for (ssize_t i = 0; i < n; i++) sum += ((const unsigned char *)d)[i];
        total += (uint64_t)n;
    }
    if (n < 0) return;   /* the server answers 413/400 */
    const char *ct = uw_req_header(req, "Content-Type");
    uw_res_textf(res, 200, "%llu %llu %s %s\n", (unsigned long long)total, (unsigned long long)sum,
                 uw_req_path(req), ct ? ct : "-");
}

/* Which answers are to HEAD (no body follows their Content-Length). */
static bool heads[4096];
static size_t nheads;
static int record(uw_req *req, uw_res *res, void *arg)
{
    (void)res, (void)arg;
    if (nheads < sizeof heads) heads[nheads++] = uw_req_method(req) == UW_HEAD;
    return UW_NEXT;
}

static const uw_basic_auth auth = { "fuzz", "/secret", "u", "p" };
static const uw_middleware mws[] = { { record, NULL }, { uw_mw_basic_auth, (void *)&auth } };
static const uw_route routes[] = {
    { UW_GET, "/", hello },
    { UW_GET, "/users/<int:id>", user, .query = UW_QUERY_NAMED, .params = "q" },
    { UW_GET, "/files/<rest:p>", hello, .query = UW_QUERY_NONE },
    { UW_POST, "/echo", echo, .max_body = 4096 },
    { UW_POST | UW_PUT, "/count", count, .max_body = 1000 },
    { UW_GET, "/secret/", hello },
};
static const uw_app app = { UW_ROUTES(routes), UW_MIDDLEWARES(mws) };

/* The in-memory connection: reads hand out in[0..split), then
 * in[split..len), then the end of stream; writes append to out. */
typedef struct mem_conn {
    uw_conn base;
    const uint8_t *in;
    size_t len, split, pos;
    size_t got;
} mem_conn;
static char out[1 << 20];

static ssize_t mc_read(uw_conn *c, void *buf, size_t n, int64_t deadline)
{
    mem_conn *m = (mem_conn *)c;
    (void)deadline;
    size_t end = m->pos < m->split ? m->split : m->len;
    size_t k = end - m->pos < n ? end - m->pos : n;
    memcpy(buf, m->in + m->pos, k);
    m->pos += k;
    return (ssize_t)k;
}
static int mc_writev(uw_conn *c, const uw_slice *v, size_t n, int64_t deadline)
{
    mem_conn *m = (mem_conn *)c;
    (void)deadline;
    for (size_t i = 0; i < n; i++) {
        if (v[i].len > sizeof out - m->got) return UW_ECLOSED;
        memcpy(out + m->got, v[i].ptr, v[i].len);
        m->got += v[i].len;
    }
    return UW_OK;
}
static bool mc_may_read(const uw_conn *c) { (void)c; return true; }   /* data, or the end of stream */
static void mc_set_notify(uw_conn *c, void (*fn)(uw_conn *c, void *arg), void *arg) { (void)c, (void)fn, (void)arg; }
static void mc_shutdown_write(uw_conn *c) { (void)c; }
static void mc_close(uw_conn *c, bool reset) { (void)c, (void)reset; }
static const char *mc_peer(uw_conn *c, char *buf, size_t n) { (void)c; snprintf(buf, n, "fuzz"); return buf; }
static const struct uw_conn_ops mem_ops = {
    mc_read, mc_writev, mc_may_read, mc_set_notify, mc_shutdown_write, mc_close, mc_peer,
};

static mem_conn conn;
static void server_task(void *arg)
{
    uw_app_serve_conn(&app, arg, &conn.base);
}

/* ------------------------------------------------------------ answers */

#define MAX_ANSWERS 512
typedef struct answer {
    char head[2048];             /* status line and headers, Date blanked */
    char *body;                  /* decoded, malloc'ed */
    size_t body_len;
} answer;
typedef struct answers {
    answer a[MAX_ANSWERS];
    size_t n;
} answers;
static answers whole_run, split_run;

static void fail(const char *what, const char *at, size_t left)
{
    fprintf(stderr, "fuzz_request: %s at: %.*s\n", what, (int)(left < 200 ? left : 200), at);
    abort();
}

static const char *find(const char *p, const char *end, const char *s)
{
    size_t n = strlen(s);
    for (; p + n <= end; p++)
        if (memcmp(p, s, n) == 0) return p;
    return NULL;
}

static bool header_is(const char *line, size_t len, const char *name, const char **value)
{
    size_t n = strlen(name);
    if (len < n + 1 || strncasecmp(line, name, n) != 0 || line[n] != ':') return false;
    *value = line + n + 1;
    while (**value == ' ') (*value)++;
    return true;
}

static void append(answer *a, const char *p, size_t n)
{
    a->body = realloc(a->body, a->body_len + n + 1);
    if (!a->body) abort();
    memcpy(a->body + a->body_len, p, n);
    a->body_len += n;
}

/* Parses out[0..len) into answers, checking each one's status line and
 * framing.  The last answer may be a chunked body cut short (a handler
 * that aborts its stream); nothing else may be incomplete. */
static void parse_answers(char *buf, size_t len, answers *as)
{
    const char *p = buf, *end = buf + len;
    size_t nbodied = 0;          /* answers with a final status, for heads[] */
    as->n = 0;
    while (p < end) {
        if (as->n == MAX_ANSWERS) fail("too many answers", p, (size_t)(end - p));
        answer *a = &as->a[as->n++];
        a->body = NULL;
        a->body_len = 0;
        const char *he = find(p, end, "\r\n\r\n");
        if (!he) fail("answer head without its end", p, (size_t)(end - p));
        size_t hl = (size_t)(he - p) + 2;
        if (hl >= sizeof a->head) fail("answer head too long", p, hl);
        memcpy(a->head, p, hl);
        a->head[hl] = 0;
        /* status line: HTTP/1.1 NNN Reason, the reason the server uses */
        int code = 0;
        if (strncmp(a->head, "HTTP/1.1 ", 9) != 0 || sscanf(a->head + 9, "%3d", &code) != 1 ||
            code < 100 || code > 599 || a->head[12] != ' ')
            fail("malformed status line", p, hl);
        const char *reason = uw_http_reason(code);
        if (strncmp(a->head + 13, reason, strlen(reason)) != 0 || strncmp(a->head + 13 + strlen(reason), "\r\n", 2) != 0)
            fail("status line with the wrong reason", p, hl);
        /* headers */
        long long clen = -1;
        bool chunked = false;
        for (char *line = strstr(a->head, "\r\n") + 2; *line; line = strstr(line, "\r\n") + 2) {
            size_t ll = (size_t)(strstr(line, "\r\n") - line);
            const char *v;
            if (ll == 0) break;
            if (!memchr(line, ':', ll)) fail("header line without a colon", line, ll);
            if (header_is(line, ll, "Date", &v) || header_is(line, ll, "X-Request-Id", &v))
                for (char *d = (char *)v; d < line + ll; d++) *d = 'x';   /* differ by design */
            else if (header_is(line, ll, "Content-Length", &v)) {
                if (clen >= 0) fail("two Content-Length headers", line, ll);
                char *e;
                clen = strtoll(v, &e, 10);
                if (e != line + ll || clen < 0) fail("malformed Content-Length", line, ll);
            } else if (header_is(line, ll, "Transfer-Encoding", &v)) {
                if (strncmp(v, "chunked\r\n", 9) != 0) fail("Transfer-Encoding other than chunked", line, ll);
                chunked = true;
            }
        }
        if (chunked && clen >= 0) fail("both Content-Length and chunked", p, hl);
        p = he + 4;
        if (code < 200) continue;   /* 100 Continue: no body, the final answer follows */
        bool head = nbodied < nheads ? heads[nbodied] : p == end;   /* an early error to HEAD: last */
        nbodied++;
        if (head || code == 204 || code == 304) continue;
        if (clen >= 0) {
            if ((size_t)(end - p) < (size_t)clen) fail("Content-Length body cut short", p, (size_t)(end - p));
            append(a, p, (size_t)clen);
            p += clen;
        } else if (chunked) {
            for (;;) {
                char *e;
                const char *le = find(p, end, "\r\n");
                if (!le) {
                    if (p == end) return;   /* a stream the server aborted */
                    fail("chunk size line cut short", p, (size_t)(end - p));
                }
                unsigned long long n = strtoull(p, &e, 16);
                if (e != le || e == p) fail("malformed chunk size", p, (size_t)(end - p));
                p = le + 2;
                if (n == 0) {
                    if (end - p < 2 || memcmp(p, "\r\n", 2) != 0) fail("chunked body without its final CRLF", p, (size_t)(end - p));
                    p += 2;
                    break;
                }
                if ((size_t)(end - p) < n + 2) {
                    if ((size_t)(end - p) <= n) return;   /* aborted stream */
                    fail("chunk cut short", p, (size_t)(end - p));
                }
                if (memcmp(p + n, "\r\n", 2) != 0) fail("chunk data without its CRLF", p, (size_t)(end - p));
                append(a, p, (size_t)n);
                p += n + 2;
            }
        } else {
            append(a, p, (size_t)(end - p));   /* delimited by the close (HTTP/1.0) */
            p = end;
        }
    }
}

static void free_answers(answers *as)
{
    for (size_t i = 0; i < as->n; i++) free(as->a[i].body);
    as->n = 0;
}

static void server_run(const uw_http_config *cfg, const uint8_t *data, size_t size, size_t at, answers *as)
{
    conn = (mem_conn){ { &mem_ops }, data, size, at, 0, 0 };
    nheads = 0;
    uw_task *t = uw_spawn(server_task, (void *)cfg, 0);
    if (!t) abort();
    uw_detach(t);
    uw_rt_run();
    parse_answers(out, conn.got, as);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uw_http_config cfg;
    static bool init;
    if (!init) {
        uw_rt_init();
        uw_http_config_default(&cfg);
        cfg.max_head_bytes = MAX_HEAD;
        cfg.max_headers = MAX_FIELDS;
        /* The memory connection never makes the server wait (its reads
         * hand out data or the end of stream at once); long timeouts all
         * the same, so no timer can change an answer. */
        cfg.header_timeout = UW_SEC(5);
        cfg.io_timeout = UW_SEC(5);
        cfg.idle_timeout = UW_SEC(5);
        init = true;
    }
    if (size > MAX_INPUT) size = MAX_INPUT;
    /* the split point: a hash of the input (FNV-1a), anywhere in it */
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < size; i++) h = (h ^ data[i]) * 16777619u;
    size_t at = size ? h % (size + 1) : 0;

    engine_run(data, size, size, size, &whole);
    engine_run(data, size, at, size, &split_t);
    same("split", at);
    engine_run(data, size, 1, 1, &split_t);
    same("byte at a time", 1);

    server_run(&cfg, data, size, size, &whole_run);
    server_run(&cfg, data, size, at, &split_run);
    if (whole_run.n != split_run.n) {
        fprintf(stderr, "fuzz_request: %zu answers whole, %zu split at %zu\n", whole_run.n, split_run.n, at);
        abort();
    }
    for (size_t i = 0; i < whole_run.n; i++) {
        answer *x = &whole_run.a[i], *y = &split_run.a[i];
        if (strcmp(x->head, y->head) != 0 || x->body_len != y->body_len ||
            (x->body_len && memcmp(x->body, y->body, x->body_len) != 0)) {
            fprintf(stderr, "fuzz_request: answer %zu differs when split at %zu:\n%s\nvs\n%s\n", i, at, x->head, y->head);
            abort();
        }
    }
    free_answers(&whole_run);
    free_answers(&split_run);
    return 0;
}
