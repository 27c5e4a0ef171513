/*
 * A test server with one route per framework feature, driven by
 * tests/integration/http.py with curl and raw sockets.
 */
#include <uweb/web.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static void hello(uw_req *req, uw_res *res) { (void)req; uw_res_text(res, 200, "Hello World!\n"); }

static void user(uw_req *req, uw_res *res)
{
    int64_t id;
    if (uw_req_param_int(req, "id", &id) != UW_OK) { uw_res_error(res, 400, "bad id"); return; }
    uw_res_textf(res, 200, "user %lld\n", (long long)id);
}

static void file(uw_req *req, uw_res *res) { uw_res_textf(res, 200, "path=%s\n", uw_req_param(req, "path")); }
static void item(uw_req *req, uw_res *res) { uw_res_textf(res, 200, "name=%s\n", uw_req_param(req, "name")); }

static void search(uw_req *req, uw_res *res)
{
    const char *q = uw_req_query(req, "q"), *page = uw_req_query(req, "page");
    uw_res_textf(res, 200, "q=%s page=%s\n", q ? q : "(none)", page ? page : "(none)");
}

/* Streams the body back, chunked, as it arrives. */
static void echo(uw_req *req, uw_res *res)
{
    const void *d;
    ssize_t n;
    const char *ct = uw_req_header(req, "Content-Type");
    if (ct) uw_res_header(res, "Content-Type", ct);
    uw_res_begin(res);
    while ((n = uw_req_read_chunk(req, &d)) > 0)
        if (uw_res_write(res, d, (size_t)n) != UW_OK) return;
    if (n < 0) { uw_res_close(res); return; }
    uw_res_end(res);
}

/* Reads the whole body; answers its length and CRC-32. */
static void count(uw_req *req, uw_res *res)
{
    const void *d;
    ssize_t n;
    uint64_t total = 0;
    uLong crc = crc32(0, NULL, 0);
    while ((n = uw_req_read_chunk(req, &d)) > 0) {
        total += (uint64_t)n;
        crc = crc32(crc, d, (uInt)n);
    }
    if (n < 0) return;   /* the server answers 413 or 400 */
    uw_res_textf(res, 200, "%llu %08lx\n", (unsigned long long)total, crc);
}

/* A response body produced by another task through a bounded pipe. */
struct producer { uw_pipe pipe; int chunks; };
static void produce(void *arg)
{
    struct producer *p = arg;
    char line[64];
    for (int i = 0; i < p->chunks; i++) {
        int n = snprintf(line, sizeof line, "line %d\n", i);
        if (uw_pipe_write(&p->pipe, line, (size_t)n, uw_now() + UW_SEC(5)) != UW_OK) break;
        if (i % 100 == 0) uw_yield();
    }
    uw_pipe_close_write(&p->pipe, 0);
}

static void stream(uw_req *req, uw_res *res)
{
    const char *n = uw_req_query(req, "n");
    struct producer *p = uw_arena_alloc(uw_req_arena(req), sizeof *p);
    char *buf = uw_arena_alloc(uw_req_arena(req), 256);
    if (!p || !buf) { uw_res_error(res, 500, "out of memory"); return; }
    p->chunks = n ? atoi(n) : 10;
    uw_pipe_init(&p->pipe, buf, 256);
    uw_task *t = uw_spawn(produce, p, 0);
    if (!t) { uw_res_error(res, 503, "cannot start the producer"); return; }
    uw_res_header(res, "Content-Type", "text/plain");
    uw_res_pipe(res, &p->pipe);
    uw_cancel(t);      /* if the client went away first */
    uw_join(t);
}

static const char part_a[] = "slices ", part_b[] = "without ", part_c[] = "copies\n";
static void slices(uw_req *req, uw_res *res)
{
    (void)req;
    uw_slice v[] = { UW_SLICE_LIT(part_a), UW_SLICE_LIT(part_b), UW_SLICE_LIT(part_c) };
    uw_res_slices(res, 200, "text/plain", v, 3);
}

static char big[3 * 1024 * 1024];
static void large(uw_req *req, uw_res *res)
{
    (void)req;
    uw_res_send(res, 200, "application/octet-stream", big, sizeof big);
}

static void slow(uw_req *req, uw_res *res)          /* ?s=N: N seconds, default 2 */
{
    const char *sec = uw_req_query(req, "s");
    uw_sleep(UW_SEC(sec ? atoi(sec) : 2));
    uw_res_text(res, 200, "slow done\n");
}

static void secret(uw_req *req, uw_res *res) { uw_res_textf(res, 200, "welcome %s\n", (char *)uw_req_value(req, UW_AUTH_USER)); }

static const char REQUEST_ID[] = "request-id";
static int tag(uw_req *req, uw_res *res, void *arg)
{
    (void)res; (void)arg;
    const char *id = uw_req_header(req, "X-Request-Id");
    if (id) uw_req_set_value(req, REQUEST_ID, (void *)id);
    return UW_NEXT;
}

static void whoami(uw_req *req, uw_res *res)
{
    const char *id = uw_req_value(req, REQUEST_ID);
    uw_res_textf(res, 200, "id=%s\n", id ? id : "(none)");
}

/* Reads the whole body first, then the head: every accessor must still
 * answer what the client sent (the head outlives the body reads). */
static void late(uw_req *req, uw_res *res)
{
    const char *tag_before = uw_req_header(req, "X-Tag");
    const void *d;
    ssize_t n;
    uint64_t total = 0;
    while ((n = uw_req_read_chunk(req, &d)) > 0) total += (uint64_t)n;
    if (n < 0) return;
    const char *tag = uw_req_header(req, "X-Tag"), *q = uw_req_query(req, "q");
    const char *id = uw_req_value(req, REQUEST_ID);
    const char *last_name = "", *last_value = "";
    if (uw_req_header_count(req)) uw_req_header_at(req, uw_req_header_count(req) - 1, &last_name, &last_value);
    uw_res_textf(res, 200, "%llu bytes; path=%s query=%s q=%s name=%s tag=%s tag_before=%s id=%s last=%s:%s\n",
                 (unsigned long long)total, uw_req_path(req), uw_req_query_string(req), q ? q : "(none)",
                 uw_req_param(req, "name"), tag ? tag : "(none)", tag_before ? tag_before : "(none)",
                 id ? id : "(none)", last_name, last_value);
}

static const uw_basic_auth auth = { .realm = "echo", .prefix = "/secret", .user = "alice", .password = "s3cret" };
static const uw_middleware middlewares[] = {
    { tag, NULL },
    { uw_mw_basic_auth, (void *)&auth },
};

static const uw_route routes[] = {
    { UW_GET,            "/",                  hello, .query = UW_QUERY_ANY },
    { UW_GET | UW_DELETE,"/users/<int:id>",    user,  .query = UW_QUERY_NONE },
    { UW_GET,            "/files/<rest:path>", file },
    { UW_GET,            "/items/<name>",      item },
    { UW_GET,            "/search",            search, .query = UW_QUERY_NAMED, .params = "q,page" },
    { UW_GET,            "/dir/",              hello },
    { UW_POST | UW_PUT,  "/echo",              echo,  .max_body = 64 << 20 },
    { UW_POST,           "/count",             count, .max_body = UW_BODY_UNLIMITED },
    { UW_POST,           "/small",             count, .max_body = 16 },
    { UW_POST,           "/late/<name>",       late,  .max_body = UW_BODY_UNLIMITED },
    { UW_GET,            "/stream",            stream },
    { UW_GET,            "/slices",            slices },
    { UW_GET,            "/large",             large },
    { UW_GET,            "/slow",              slow },
    { UW_GET,            "/secret/<rest:x>",   secret },
    { UW_GET,            "/whoami",            whoami },
};

int main(int argc, char **argv)
{
    for (size_t i = 0; i < sizeof big; i++) big[i] = (char)('a' + i % 26);
    return uw_main(argc, argv, &(uw_app){ UW_ROUTES(routes), UW_MIDDLEWARES(middlewares), .name = "echo" });
}
