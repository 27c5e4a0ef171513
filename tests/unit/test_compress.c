/* Compression on the fly (compress.h): Accept-Encoding with q-values,
 * the compressible types, and answers through the middleware decoded
 * again (gzip with zlib, brotli with libbrotli's decoder) to the original:
 * whole, streamed in many writes, large; and what must stay as it is. */
#include "../check.h"
#include "exchange.h"
#include <uweb/compress.h>

#include <brotli/decode.h>
#include <zlib.h>

static void test_choose(void)
{
    unsigned both = 1u << UW_ENC_GZIP | 1u << UW_ENC_BR, gz = 1u << UW_ENC_GZIP;
    CHECK_EQ_INT(uw_compress_choose(NULL, both), UW_ENC_IDENTITY);
    CHECK_EQ_INT(uw_compress_choose("", both), UW_ENC_IDENTITY);
    CHECK_EQ_INT(uw_compress_choose("gzip", both), UW_ENC_GZIP);
    CHECK_EQ_INT(uw_compress_choose("gzip, deflate, br", both), UW_ENC_BR);
    CHECK_EQ_INT(uw_compress_choose("gzip, deflate, br", gz), UW_ENC_GZIP);
    CHECK_EQ_INT(uw_compress_choose("br;q=0.5, gzip", both), UW_ENC_GZIP);
    CHECK_EQ_INT(uw_compress_choose("br;q=0.5, gzip;q=0.4", both), UW_ENC_BR);
    CHECK_EQ_INT(uw_compress_choose("gzip;q=0", both), UW_ENC_IDENTITY);
    CHECK_EQ_INT(uw_compress_choose("*", both), UW_ENC_BR);
    CHECK_EQ_INT(uw_compress_choose("*;q=0.1, br;q=0", both), UW_ENC_GZIP);
    CHECK_EQ_INT(uw_compress_choose("GZIP ; Q=1.000", both), UW_ENC_GZIP);
    CHECK_EQ_INT(uw_compress_choose("gzip;q=1.5", both), UW_ENC_IDENTITY);   /* malformed weight: ignored */
    CHECK_EQ_INT(uw_compress_choose("identity", both), UW_ENC_IDENTITY);
    CHECK_EQ_INT(uw_compress_choose("x-gzip", both), UW_ENC_GZIP);
}

static void test_types(void)
{
    CHECK(uw_compress_type_ok("text/html; charset=utf-8", NULL));
    CHECK(uw_compress_type_ok("application/json", NULL));
    CHECK(uw_compress_type_ok("image/svg+xml", NULL));
    CHECK(!uw_compress_type_ok("image/png", NULL));
    CHECK(!uw_compress_type_ok("application/zip", NULL));
    CHECK(!uw_compress_type_ok("text/event-stream", NULL));
    CHECK(!uw_compress_type_ok("application/jsonx", NULL));
    static const char *const mine[] = { "application/x-mine", NULL };
    CHECK(uw_compress_type_ok("application/x-mine", mine));
    CHECK(!uw_compress_type_ok("text/html", mine));
}

static char big[300000];
static void whole(uw_req *req, uw_res *res) { (void)req; uw_res_send(res, 200, "text/plain", big, 5000); }
static void large(uw_req *req, uw_res *res) { (void)req; uw_res_send(res, 200, "text/plain", big, sizeof big); }
static void small(uw_req *req, uw_res *res) { (void)req; uw_res_send(res, 200, "text/plain", big, 100); }
static void png(uw_req *req, uw_res *res) { (void)req; uw_res_send(res, 200, "image/png", big, 5000); }
static void pre(uw_req *req, uw_res *res)
{
    (void)req;
    uw_res_header(res, "Content-Encoding", "gzip");
    uw_res_send(res, 200, "text/plain", big, 5000);
}
static void partial(uw_req *req, uw_res *res)
{
    (void)req;
    uw_res_header(res, "Content-Range", "bytes 0-4999/300000");
    uw_res_send(res, 206, "text/plain", big, 5000);
}
static void stream(uw_req *req, uw_res *res)
{
    (void)req;
    uw_res_header(res, "Content-Type", "application/json");
    uw_res_header(res, "ETag", "\"v1\"");
    uw_res_begin(res);
    for (size_t i = 0; i < sizeof big; i += 1000) uw_res_write(res, big + i, 1000);
    uw_res_end(res);
}
static const uw_route routes[] = {
    { UW_GET, "/whole", whole }, { UW_GET, "/large", large }, { UW_GET, "/small", small }, { UW_GET, "/png", png },
    { UW_GET, "/pre", pre }, { UW_GET, "/partial", partial }, { UW_GET, "/stream", stream },
};
static const uw_middleware mws[] = { { uw_mw_compress, NULL } };
static const uw_app app = { UW_ROUTES(routes), UW_MIDDLEWARES(mws) };

/* The body of an answer, de-chunked when chunked, into out. */
static size_t body_of(const char *a, size_t alen, char *out, size_t cap)
{
    const char *b = strstr(a, "\r\n\r\n");
    if (!b) return 0;
    b += 4;
    size_t n = alen - (size_t)(b - a), o = 0;
    if (!strstr(a, "Transfer-Encoding: chunked")) {
        memcpy(out, b, n < cap ? n : cap);
        return n;
    }
    const char *p = b, *end = a + alen;
    while (p < end) {
        size_t k = strtoul(p, NULL, 16);
        p = strstr(p, "\r\n") + 2;
        if (!k) break;
        if (o + k > cap) return 0;
        memcpy(out + o, p, k);
        o += k;
        p += k + 2;
    }
    return o;
}

static char got[1 << 20], plain[1 << 20];

static size_t get(const char *path, const char *ae, const char **answer)
{
    char req[512];
    snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: x\r\n%s%s%s\r\n", path, ae ? "Accept-Encoding: " : "", ae ? ae : "", ae ? "\r\n" : "");
    *answer = ex_run(&app, req);
    return body_of(*answer, ex_got, got, sizeof got);
}

static size_t gunzip(const char *in, size_t n)
{
    z_stream z = { 0 };
    inflateInit2(&z, 15 + 16);
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)n;
    z.next_out = (Bytef *)plain;
    z.avail_out = sizeof plain;
    int r = inflate(&z, Z_FINISH);
    size_t out = r == Z_STREAM_END ? z.total_out : 0;
    inflateEnd(&z);
    return out;
}

static size_t unbr(const char *in, size_t n)
{
    size_t out = sizeof plain;
    return BrotliDecoderDecompress(n, (const uint8_t *)in, &out, (uint8_t *)plain) == BROTLI_DECODER_RESULT_SUCCESS ? out : 0;
}

static void test_compressed_answers(void)
{
    const char *a;
    size_t n = get("/whole", "gzip", &a);
    CHECK(strstr(a, "Content-Encoding: gzip\r\n") != NULL);
    CHECK(strstr(a, "Vary: Accept-Encoding\r\n") != NULL);
    CHECK(n < 5000);
    CHECK_EQ_MEM(plain, gunzip(got, n), big, 5000);
    n = get("/whole", "br, gzip", &a);
    CHECK(strstr(a, "Content-Encoding: br\r\n") != NULL);
    CHECK_EQ_MEM(plain, unbr(got, n), big, 5000);
    n = get("/large", "gzip", &a);
    CHECK_EQ_MEM(plain, gunzip(got, n), big, sizeof big);
    n = get("/large", "br", &a);
    CHECK_EQ_MEM(plain, unbr(got, n), big, sizeof big);
    n = get("/stream", "gzip", &a);
    CHECK(strstr(a, "ETag: W/\"v1\"\r\n") != NULL);
    CHECK_EQ_MEM(plain, gunzip(got, n), big, sizeof big);
    n = get("/stream", "br", &a);
    CHECK_EQ_MEM(plain, unbr(got, n), big, sizeof big);
}

static void test_left_alone(void)
{
    const char *a;
    size_t n = get("/whole", NULL, &a);
    CHECK(strstr(a, "Content-Encoding") == NULL);
    CHECK(strstr(a, "Vary: Accept-Encoding\r\n") != NULL);
    CHECK_EQ_MEM(got, n, big, 5000);
    n = get("/small", "gzip", &a);
    CHECK(strstr(a, "Content-Encoding") == NULL);
    CHECK_EQ_MEM(got, n, big, 100);
    n = get("/png", "gzip", &a);
    CHECK(strstr(a, "Content-Encoding") == NULL);
    CHECK(strstr(a, "Vary") == NULL);
    CHECK_EQ_MEM(got, n, big, 5000);
    n = get("/pre", "gzip", &a);
    CHECK_EQ_MEM(got, n, big, 5000);
    n = get("/partial", "gzip", &a);
    CHECK(strstr(a, "Content-Encoding") == NULL);
    CHECK_EQ_MEM(got, n, big, 5000);
    n = get("/whole", "gzip;q=0", &a);
    CHECK(strstr(a, "Content-Encoding") == NULL);
    a = ex_run(&app, "HEAD /whole HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n");
    CHECK(strstr(a, "Content-Encoding") == NULL);
    CHECK(strstr(a, "Content-Length: 5000\r\n") != NULL);
}

int main(void)
{
    for (size_t i = 0; i < sizeof big; i++) big[i] = "the quick brown fox jumps over the lazy dog\n"[i % 44] ^ (char)((i / 997) % 3);
    uw_rt_init();
    RUN(test_choose);
    RUN(test_types);
    RUN(test_compressed_answers);
    RUN(test_left_alone);
    uw_rt_fini();
    return CHECK_DONE();
}
