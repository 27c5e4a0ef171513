/*
 * A server for the client's and uweb-bench's tests: answers that take
 * known times, fail on purpose or stall the whole process once.
 *
 *   GET  /                     "Hello World!\n"
 *   GET  /status/<int:code>    that status, a one-line body
 *   GET  /sleep/<int:ms>       answers after ms (only this request waits)
 *   GET  /stall-once/<int:ms>  the first call freezes the whole server for ms
 *   GET  /drop/<int:n>         every n-th call starts a chunked answer and
 *                              aborts the connection midway
 *   GET  /bytes/<int:n>        n bytes ("x"), with Content-Length
 *   GET  /chunked/<int:n>      n lines, chunked
 *   GET  /slow/<int:ms>        four parts, ms apart, chunked
 *   GET  /cut                  Content-Length 100, 50 bytes, then the connection ends
 *   GET  /redirect/<int:n>     302 to /redirect/n-1; /redirect/0 answers "arrived"
 *
 * Request bodies are tested against tests/apps/echo (/echo, /count).
 */
#include <uweb/web.h>

#include <stdio.h>
#include <string.h>
#include <time.h>

static void hello(uw_req *req, uw_res *res) { (void)req; uw_res_text(res, 200, "Hello World!\n"); }

static int64_t param(uw_req *req, const char *name)
{
    int64_t v = 0;
    uw_req_param_int(req, name, &v);
    return v;
}

static void status(uw_req *req, uw_res *res)
{
    int64_t c = param(req, "code");
    if (c < 200 || c > 599) { uw_res_error(res, 400, "status out of range"); return; }
    uw_res_textf(res, (int)c, "status %d\n", (int)c);
}

static void sleep_ms(uw_req *req, uw_res *res)
{
    uw_sleep(UW_MS(param(req, "ms")));
    uw_res_text(res, 200, "slept\n");
}

static bool stalled;
static void stall_once(uw_req *req, uw_res *res)
{
    if (!stalled) {
        stalled = true;
        int64_t ms = param(req, "ms");
        struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000 };
        while (nanosleep(&ts, &ts) != 0) {}          /* blocks every connection */
    }
    uw_res_text(res, 200, "ok\n");
}

static uint64_t drop_calls;
static void drop(uw_req *req, uw_res *res)
{
    int64_t n = param(req, "n");
    if (n > 0 && ++drop_calls % (uint64_t)n == 0) {
        uw_res_begin(res);
        uw_res_write(res, "partial", 7);
        uw_res_close(res);                           /* after the head: aborts */
        return;
    }
    uw_res_text(res, 200, "ok\n");
}

static void bytes(uw_req *req, uw_res *res)
{
    static char x[65536];
    if (!x[0]) memset(x, 'x', sizeof x);
    int64_t n = param(req, "n");
    if (n < 0) { uw_res_error(res, 400, "negative"); return; }
    uw_res_content_length(res, (uint64_t)n);
    uw_res_begin(res);
    while (n > 0) {
        size_t k = n < (int64_t)sizeof x ? (size_t)n : sizeof x;
        if (uw_res_write(res, x, k) != UW_OK) return;
        n -= (int64_t)k;
    }
    uw_res_end(res);
}

static void chunked(uw_req *req, uw_res *res)
{
    int64_t n = param(req, "n");
    uw_res_begin(res);
    for (int64_t i = 0; i < n; i++) {
        char line[32];
        int k = snprintf(line, sizeof line, "line %lld\n", (long long)i);
        if (uw_res_write(res, line, (size_t)k) != UW_OK) return;
    }
    uw_res_end(res);
}

static void slow(uw_req *req, uw_res *res)
{
    int64_t ms = param(req, "ms");
    uw_res_begin(res);
    for (int i = 0; i < 4; i++) {
        if (i) uw_sleep(UW_MS(ms));
        if (uw_res_write(res, "part\n", 5) != UW_OK) return;
    }
    uw_res_end(res);
}

static void cut(uw_req *req, uw_res *res)
{
    (void)req;
    static const char half[50] = "0123456789012345678901234567890123456789012345678";
    uw_res_content_length(res, 100);
    uw_res_begin(res);
    uw_res_write(res, half, sizeof half);
    uw_res_close(res);
}

static void redirect(uw_req *req, uw_res *res)
{
    int64_t n = param(req, "n");
    if (n <= 0) { uw_res_text(res, 200, "arrived\n"); return; }
    uw_res_headerf(res, "Location", "/redirect/%lld", (long long)(n - 1));
    uw_res_text(res, 302, "moved\n");
}

static const uw_route routes[] = {
    { UW_GET, "/", hello },
    { UW_GET, "/status/<int:code>", status },
    { UW_GET, "/sleep/<int:ms>", sleep_ms },
    { UW_GET, "/stall-once/<int:ms>", stall_once },
    { UW_GET, "/drop/<int:n>", drop },
    { UW_GET, "/bytes/<int:n>", bytes },
    { UW_GET, "/chunked/<int:n>", chunked },
    { UW_GET, "/slow/<int:ms>", slow },
    { UW_GET, "/cut", cut },
    { UW_GET, "/redirect/<int:n>", redirect },
};

int main(int argc, char **argv)
{
    return uw_main(argc, argv, &(uw_app){ UW_ROUTES(routes), .name = "benchtarget" });
}
