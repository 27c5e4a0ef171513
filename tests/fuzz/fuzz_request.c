/*
 * Fuzz target for the request path: bytes in through a socketpair, parsed
 * by the HTTP server, routed, answered.  Differential, like test_http.c:
 * the input is sent whole, then split at a position derived from the data
 * (the server sees the first part alone), and both runs must give the same
 * answers.  Every answer is checked: a status line the server writes
 * ("HTTP/1.1 NNN Reason"), then framing that parses back to back —
 * Content-Length bodies complete, chunked bodies well formed, a body
 * delimited by the close only last.  Answers are compared decoded (status
 * line, headers without Date, body), since chunk boundaries follow reads.
 * Any mismatch or malformed answer aborts.
 */
#include <uweb/web.h>
#include <uweb/net.h>
#include <uweb/io_unix.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

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

static int sv[2];
static const uint8_t *in;
static size_t in_len, split;
static size_t got;
static char out[1 << 20];

static void server_task(void *arg)
{
    uw_http_config *cfg = arg;
    uw_conn *c;
    if (uw_conn_from_fd(&c, sv[0]) == UW_OK) uw_app_serve_conn(&app, cfg, c);
}

/* The client: sends the input (in two parts when split < in_len),
 * half-closes, reads every answer. */
static void client_task(void *arg)
{
    (void)arg;
    uw_conn *c;
    if (uw_conn_from_fd(&c, sv[1]) != UW_OK) return;
    uw_slice a = { in, split }, b = { in + split, in_len - split };
    uw_conn_writev(c, &a, 1, uw_now() + UW_SEC(1));
    if (b.len) {
        uw_sleep(UW_MS(1));   /* let the server see the first part alone */
        uw_conn_writev(c, &b, 1, uw_now() + UW_SEC(1));
    }
    uw_conn_shutdown_write(c);
    ssize_t n;
    while ((n = uw_conn_read(c, out + got, sizeof out - got, uw_now() + UW_SEC(1))) > 0) got += (size_t)n;
    uw_conn_close(c, false);
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
            if (header_is(line, ll, "Date", &v))
                for (char *d = (char *)v; d < line + ll; d++) *d = 'x';
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

static void run(const uw_http_config *cfg, const uint8_t *data, size_t size, size_t at, answers *as)
{
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0) abort();
    in = data;
    in_len = size;
    split = at;
    got = 0;
    nheads = 0;
    uw_task *t = uw_spawn(server_task, (void *)cfg, 0), *u = uw_spawn(client_task, NULL, 0);
    if (!t || !u) abort();
    uw_detach(t);
    uw_detach(u);
    uw_rt_run();
    parse_answers(out, got, as);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uw_http_config cfg;
    static bool init;
    if (!init) {
        uw_rt_init();
        uw_http_config_default(&cfg);
        cfg.max_head_bytes = 1024;
        cfg.max_headers = 16;
        /* The client always half-closes after its input, so the server
         * never waits for these; they are long so that a loaded machine
         * cannot turn a split input's second part into a 408. */
        cfg.header_timeout = UW_SEC(5);
        cfg.io_timeout = UW_SEC(5);
        cfg.idle_timeout = UW_SEC(5);
        init = true;
    }
    if (size > 16384) size = 16384;
    /* the split point: a hash of the input (FNV-1a), anywhere in it */
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < size; i++) h = (h ^ data[i]) * 16777619u;
    size_t at = size ? h % (size + 1) : 0;

    run(&cfg, data, size, size, &whole_run);
    run(&cfg, data, size, at, &split_run);
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
