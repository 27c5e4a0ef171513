/* Unit tests of the static asset engine (src/static/static.c). */
#include <stdlib.h>

#include "../check.h"
#include "uweb/static.h"

/* A small asset: "0123456789" as two chunks, a gzip and a brotli variant. */
static const char id0[] = "01234", id1[] = "56789";
static const uw_slice id_chunks[] = { { id0, 5 }, { id1, 5 } };
static const char gz0[] = "GZIPPED";
static const uw_slice gz_chunks[] = { { gz0, 7 } };
static const char br0[] = "BROT";
static const uw_slice br_chunks[] = { { br0, 4 } };
#define MTIME 784111777 /* Sun, 06 Nov 1994 08:49:37 GMT */

static const uw_static_asset asset = {
    "/index.html", "text/html; charset=utf-8", MTIME,
    { { id_chunks, 2, 10, "\"abc-a\"" }, { gz_chunks, 1, 7, "\"abc-a-gz\"" }, { br_chunks, 1, 4, "\"abc-a-br\"" } },
};
static const uw_static_asset plain = {
    "/logo.png", "image/png", MTIME, { { id_chunks, 2, 10, "\"p\"" }, { NULL, 0, 0, NULL }, { NULL, 0, 0, NULL } },
};
static const uw_static_entry entries[] = {
    { "/", 1, &asset }, { "/docs/", 6, &plain }, { "/index.html", 11, &asset }, { "/logo.png", 9, &plain },
};
static const uw_static_set set = { entries, 4, &asset, 1 };

static uw_slice s(const char *v) { return (uw_slice){ v, v ? strlen(v) : 0 }; }

static uw_static_response decide(const uw_static_asset *a, uw_static_request rq)
{
    uw_static_response rs;
    memset(&rs, 0xa5, sizeof rs);
    CHECK_EQ_INT(uw_static_decide(a, &rq, &rs), UW_STATIC_OK);
    return rs;
}

static int chosen(const char *accept_encoding)
{
    uw_static_request rq = { .accept_encoding = s(accept_encoding) };
    uw_static_response rs = decide(&asset, rq);
    return rs.status == 406 ? -1 : (int)rs.encoding;
}

static void test_find(void)
{
    CHECK(uw_static_find(&set, "/", 1) == &asset);
    CHECK(uw_static_find(&set, "/index.html", 11) == &asset);
    CHECK(uw_static_find(&set, "/logo.png", 9) == &plain);
    CHECK(uw_static_find(&set, "/index.htm", 10) == NULL);
    CHECK(uw_static_find(&set, "/index.html/", 12) == NULL);
    CHECK(uw_static_find(&set, "", 0) == NULL);
    CHECK(uw_static_find(&set, "/zzz", 4) == NULL);
    CHECK(uw_static_find(NULL, "/", 1) == NULL);
    CHECK(uw_static_find_dir(&set, "/docs", 5));
    CHECK(!uw_static_find_dir(&set, "/docs/", 6));
    CHECK(!uw_static_find_dir(&set, "/logo.png", 9));
    CHECK(uw_static_path_cmp("/a", 2, "/a/", 3) < 0);
    CHECK(uw_static_path_cmp("/b", 2, "/a/", 3) > 0);
    CHECK(uw_static_path_cmp("/a", 2, "/a", 2) == 0);
}

static void test_content_types(void)
{
    CHECK_EQ_STR(uw_static_content_type("index.html"), "text/html; charset=utf-8");
    CHECK_EQ_STR(uw_static_content_type("/a/b/STYLE.CSS"), "text/css; charset=utf-8");
    CHECK_EQ_STR(uw_static_content_type("app.js"), "text/javascript; charset=utf-8");
    CHECK_EQ_STR(uw_static_content_type("app.mjs"), "text/javascript; charset=utf-8");
    CHECK_EQ_STR(uw_static_content_type("data.json"), "application/json");
    CHECK_EQ_STR(uw_static_content_type("logo.svg"), "image/svg+xml; charset=utf-8");
    CHECK_EQ_STR(uw_static_content_type("logo.png"), "image/png");
    CHECK_EQ_STR(uw_static_content_type("photo.jpeg"), "image/jpeg");
    CHECK_EQ_STR(uw_static_content_type("photo.jpg"), "image/jpeg");
    CHECK_EQ_STR(uw_static_content_type("favicon.ico"), "image/x-icon");
    CHECK_EQ_STR(uw_static_content_type("font.woff2"), "font/woff2");
    CHECK_EQ_STR(uw_static_content_type("app.wasm"), "application/wasm");
    CHECK_EQ_STR(uw_static_content_type("notes.txt"), "text/plain; charset=utf-8");
    CHECK_EQ_STR(uw_static_content_type("site.webmanifest"), "application/manifest+json");
    CHECK_EQ_STR(uw_static_content_type("a.zip"), "application/zip");
    /* Unknown, missing or odd extensions. */
    CHECK_EQ_STR(uw_static_content_type("Makefile"), "application/octet-stream");
    CHECK_EQ_STR(uw_static_content_type(".htaccess"), "application/octet-stream");
    CHECK_EQ_STR(uw_static_content_type("dir.css/file"), "application/octet-stream");
    CHECK_EQ_STR(uw_static_content_type("trailing."), "application/octet-stream");
    CHECK_EQ_STR(uw_static_content_type("x.averyveryverylongextension"), "application/octet-stream");
    CHECK_EQ_STR(uw_static_content_type("x.zzz"), "application/octet-stream");
    CHECK_EQ_STR(uw_static_content_type(NULL), "application/octet-stream");
}

static void test_accept_encoding(void)
{
    CHECK_EQ_INT(chosen(NULL), UW_STATIC_IDENTITY);               /* absent */
    CHECK_EQ_INT(chosen(""), UW_STATIC_IDENTITY);                 /* empty: identity only */
    CHECK_EQ_INT(chosen("gzip"), UW_STATIC_GZIP);
    CHECK_EQ_INT(chosen("GZip"), UW_STATIC_GZIP);
    CHECK_EQ_INT(chosen("x-gzip"), UW_STATIC_GZIP);
    CHECK_EQ_INT(chosen("br"), UW_STATIC_BR);
    CHECK_EQ_INT(chosen("gzip, deflate, br"), UW_STATIC_BR);      /* equal q: smallest */
    CHECK_EQ_INT(chosen("gzip, deflate, br, zstd"), UW_STATIC_BR);
    CHECK_EQ_INT(chosen("br;q=0.5, gzip"), UW_STATIC_GZIP);
    CHECK_EQ_INT(chosen("br;q=0, gzip;q=0.1"), UW_STATIC_GZIP);
    CHECK_EQ_INT(chosen("br;q=0, gzip;q=0"), UW_STATIC_IDENTITY);
    CHECK_EQ_INT(chosen("gzip;q=0.5"), UW_STATIC_GZIP);           /* unnamed identity comes last */
    CHECK_EQ_INT(chosen("gzip;q=0.5, identity"), UW_STATIC_IDENTITY);
    CHECK_EQ_INT(chosen("*"), UW_STATIC_BR);
    CHECK_EQ_INT(chosen("*;q=0.3, br;q=0.2"), UW_STATIC_GZIP);
    CHECK_EQ_INT(chosen("deflate"), UW_STATIC_IDENTITY);
    CHECK_EQ_INT(chosen("identity;q=0"), -1);                     /* nothing acceptable */
    CHECK_EQ_INT(chosen("*;q=0"), -1);
    CHECK_EQ_INT(chosen("*;q=0, identity"), UW_STATIC_IDENTITY);
    CHECK_EQ_INT(chosen("identity;q=0, gzip"), UW_STATIC_GZIP);
    CHECK_EQ_INT(chosen(" ,, gzip ;  q=1.000 ,"), UW_STATIC_GZIP); /* empty elements, OWS */
    CHECK_EQ_INT(chosen("gzip;Q=0.9"), UW_STATIC_GZIP);
    /* Malformed headers are ignored: identity. */
    CHECK_EQ_INT(chosen("gzip;q=2"), UW_STATIC_IDENTITY);
    CHECK_EQ_INT(chosen("gzip;q=1.5"), UW_STATIC_IDENTITY);
    CHECK_EQ_INT(chosen("gzip;q=0.1234"), UW_STATIC_IDENTITY);
    CHECK_EQ_INT(chosen("gzip;q="), UW_STATIC_IDENTITY);
    CHECK_EQ_INT(chosen("gzip;level=1"), UW_STATIC_IDENTITY);
    CHECK_EQ_INT(chosen("gzip br"), UW_STATIC_IDENTITY);
    CHECK_EQ_INT(chosen("g\"zip"), UW_STATIC_IDENTITY);
    /* An asset without compressed variants is served as is, without Vary. */
    uw_static_request rq = { .accept_encoding = s("br, gzip") };
    uw_static_response rs = decide(&plain, rq);
    CHECK_EQ_INT(rs.encoding, UW_STATIC_IDENTITY);
    CHECK(!rs.vary);
    rs = decide(&asset, rq);
    CHECK(rs.vary);

    int q[3];
    CHECK(uw_static_parse_accept_encoding("br;q=0.25, gzip;q=0.5", 21, q));
    CHECK_EQ_INT(q[UW_STATIC_BR], 250);
    CHECK_EQ_INT(q[UW_STATIC_GZIP], 500);
    CHECK_EQ_INT(q[UW_STATIC_IDENTITY], 1);
    /* A length past the limit is refused, never read. */
    char *big = malloc(UW_STATIC_HEADER_MAX + 2);
    memset(big, ',', UW_STATIC_HEADER_MAX + 1);
    CHECK(!uw_static_parse_accept_encoding(big, UW_STATIC_HEADER_MAX + 1, q));
    free(big);
}

static uw_static_range_result range(const char *v, uint64_t size, uint64_t *f, uint64_t *n)
{
    *f = *n = 12345;
    return uw_static_parse_range(v, strlen(v), size, f, n);
}

static void test_range_parse(void)
{
    uint64_t f, n;
    CHECK_EQ_INT(range("bytes=0-4", 10, &f, &n), UW_STATIC_RANGE_OK);
    CHECK_EQ_INT(f, 0); CHECK_EQ_INT(n, 5);
    CHECK_EQ_INT(range("bytes=3-", 10, &f, &n), UW_STATIC_RANGE_OK);
    CHECK_EQ_INT(f, 3); CHECK_EQ_INT(n, 7);
    CHECK_EQ_INT(range("bytes=-3", 10, &f, &n), UW_STATIC_RANGE_OK);
    CHECK_EQ_INT(f, 7); CHECK_EQ_INT(n, 3);
    CHECK_EQ_INT(range("bytes=-30", 10, &f, &n), UW_STATIC_RANGE_OK);      /* suffix longer: all */
    CHECK_EQ_INT(f, 0); CHECK_EQ_INT(n, 10);
    CHECK_EQ_INT(range("bytes=5-500", 10, &f, &n), UW_STATIC_RANGE_OK);    /* last clamped */
    CHECK_EQ_INT(f, 5); CHECK_EQ_INT(n, 5);
    CHECK_EQ_INT(range("bytes=9-9", 10, &f, &n), UW_STATIC_RANGE_OK);
    CHECK_EQ_INT(f, 9); CHECK_EQ_INT(n, 1);
    CHECK_EQ_INT(range("BYTES=1-1", 10, &f, &n), UW_STATIC_RANGE_OK);
    CHECK_EQ_INT(range(" bytes=1-2 ", 10, &f, &n), UW_STATIC_RANGE_OK);
    CHECK_EQ_INT(range("bytes=1-2,", 10, &f, &n), UW_STATIC_RANGE_OK);
    CHECK_EQ_INT(range("bytes=0-99999999999999999999999", 10, &f, &n), UW_STATIC_RANGE_OK);
    CHECK_EQ_INT(n, 10);
    /* Unsatisfiable. */
    CHECK_EQ_INT(range("bytes=10-", 10, &f, &n), UW_STATIC_RANGE_UNSATISFIABLE);
    CHECK_EQ_INT(range("bytes=10-20", 10, &f, &n), UW_STATIC_RANGE_UNSATISFIABLE);
    CHECK_EQ_INT(range("bytes=-0", 10, &f, &n), UW_STATIC_RANGE_UNSATISFIABLE);
    CHECK_EQ_INT(range("bytes=99999999999999999999999-", 10, &f, &n), UW_STATIC_RANGE_UNSATISFIABLE);
    CHECK_EQ_INT(range("bytes=20-30, 40-50", 10, &f, &n), UW_STATIC_RANGE_UNSATISFIABLE);
    /* Ignored: several ranges, other units, bad syntax, empty asset. */
    CHECK_EQ_INT(range("bytes=0-1,3-4", 10, &f, &n), UW_STATIC_RANGE_IGNORE);
    CHECK_EQ_INT(range("bytes=0-1, 20-30", 10, &f, &n), UW_STATIC_RANGE_IGNORE);
    CHECK_EQ_INT(range("items=0-1", 10, &f, &n), UW_STATIC_RANGE_IGNORE);
    CHECK_EQ_INT(range("bytes 0-1", 10, &f, &n), UW_STATIC_RANGE_IGNORE);
    CHECK_EQ_INT(range("bytes=", 10, &f, &n), UW_STATIC_RANGE_IGNORE);
    CHECK_EQ_INT(range("bytes=-", 10, &f, &n), UW_STATIC_RANGE_IGNORE);
    CHECK_EQ_INT(range("bytes=5-2", 10, &f, &n), UW_STATIC_RANGE_IGNORE);
    CHECK_EQ_INT(range("bytes=a-2", 10, &f, &n), UW_STATIC_RANGE_IGNORE);
    CHECK_EQ_INT(range("bytes=1-2x", 10, &f, &n), UW_STATIC_RANGE_IGNORE);
    CHECK_EQ_INT(range("bytes=+1-2", 10, &f, &n), UW_STATIC_RANGE_IGNORE);
    CHECK_EQ_INT(range("bytes=0-0", 0, &f, &n), UW_STATIC_RANGE_IGNORE);
    CHECK_EQ_INT(range("bytes=-5", 0, &f, &n), UW_STATIC_RANGE_IGNORE);
    CHECK_EQ_INT(f, 12345);                                                /* untouched when ignored */
}

static void test_range_decide(void)
{
    uw_static_request rq = { .range = s("bytes=2-7") };
    uw_static_response rs = decide(&asset, rq);
    CHECK_EQ_INT(rs.status, 206);
    CHECK_EQ_INT(rs.offset, 2);
    CHECK_EQ_INT(rs.length, 6);
    CHECK_EQ_INT(rs.total, 10);
    CHECK(rs.send_body);
    /* The body crosses the chunk boundary without copying. */
    uw_slice body[4];
    size_t nb = uw_static_body(&asset, &rs, body, 4);
    CHECK_EQ_INT(nb, 2);
    CHECK_EQ_MEM(body[0].ptr, body[0].len, "234", 3);
    CHECK_EQ_MEM(body[1].ptr, body[1].len, "567", 3);
    CHECK(body[0].ptr == id0 + 2);
    CHECK_EQ_INT(uw_static_body(&asset, &rs, body, 1), 2);                 /* count even when short */
    char head[UW_STATIC_HEADERS_MAX];
    size_t hn = uw_static_headers(&asset, &rs, NULL, head, sizeof head);
    head[hn] = 0;
    CHECK(strstr(head, "Content-Range: bytes 2-7/10\r\n") != NULL);
    CHECK(strstr(head, "Content-Length: 6\r\n") != NULL);

    /* Range on a compressed representation applies to its bytes. */
    rq.accept_encoding = s("gzip");
    rq.range = s("bytes=-2");
    rs = decide(&asset, rq);
    CHECK_EQ_INT(rs.status, 206);
    CHECK_EQ_INT(rs.encoding, UW_STATIC_GZIP);
    nb = uw_static_body(&asset, &rs, body, 4);
    CHECK_EQ_INT(nb, 1);
    CHECK_EQ_MEM(body[0].ptr, body[0].len, "ED", 2);

    /* 416 */
    rq = (uw_static_request){ .range = s("bytes=10-") };
    rs = decide(&asset, rq);
    CHECK_EQ_INT(rs.status, 416);
    CHECK(!rs.send_body);
    hn = uw_static_headers(&asset, &rs, NULL, head, sizeof head);
    head[hn] = 0;
    CHECK(strstr(head, "Content-Range: bytes */10\r\n") != NULL);
    CHECK(strstr(head, "Content-Length: 0\r\n") != NULL);

    /* HEAD ignores Range. */
    rq = (uw_static_request){ .method = UW_STATIC_HEAD, .range = s("bytes=0-1") };
    rs = decide(&asset, rq);
    CHECK_EQ_INT(rs.status, 200);
    CHECK_EQ_INT(rs.length, 10);
    CHECK(!rs.send_body);
    CHECK_EQ_INT(uw_static_body(&asset, &rs, body, 4), 2);          /* what GET would send */

    /* No body slices for 304 and 416. */
    rq = (uw_static_request){ .if_none_match = s("*") };
    rs = decide(&asset, rq);
    CHECK_EQ_INT(uw_static_body(&asset, &rs, body, 4), 0);

    /* Several ranges: the whole asset. */
    rq = (uw_static_request){ .range = s("bytes=0-1,4-5") };
    rs = decide(&asset, rq);
    CHECK_EQ_INT(rs.status, 200);
    CHECK_EQ_INT(rs.length, 10);
}

static void test_if_range(void)
{
    uw_static_request rq = { .range = s("bytes=0-0"), .if_range = s("\"abc-a\"") };
    CHECK_EQ_INT(decide(&asset, rq).status, 206);
    rq.if_range = s("\"other\"");
    CHECK_EQ_INT(decide(&asset, rq).status, 200);
    rq.if_range = s("W/\"abc-a\"");                          /* weak never matches If-Range */
    CHECK_EQ_INT(decide(&asset, rq).status, 200);
    rq.if_range = s("Sun, 06 Nov 1994 08:49:37 GMT");        /* exactly Last-Modified */
    CHECK_EQ_INT(decide(&asset, rq).status, 206);
    rq.if_range = s("Sun, 06 Nov 1994 08:49:38 GMT");
    CHECK_EQ_INT(decide(&asset, rq).status, 200);
    rq.if_range = s("garbage");
    CHECK_EQ_INT(decide(&asset, rq).status, 200);
    rq.if_range = s("\"abc-a\" junk");
    CHECK_EQ_INT(decide(&asset, rq).status, 200);
    /* The gzip representation has its own ETag. */
    rq.accept_encoding = s("gzip");
    rq.if_range = s("\"abc-a\"");
    CHECK_EQ_INT(decide(&asset, rq).status, 200);
    rq.if_range = s("\"abc-a-gz\"");
    CHECK_EQ_INT(decide(&asset, rq).status, 206);
}

static bool inm(const char *v, const char *etag) { return uw_static_etag_match(v, strlen(v), etag); }

static void test_etag_match(void)
{
    CHECK(inm("\"abc\"", "\"abc\""));
    CHECK(inm("W/\"abc\"", "\"abc\""));                      /* weak comparison */
    CHECK(inm("\"x\", \"abc\"", "\"abc\""));
    CHECK(inm("\"x\",W/\"abc\" , \"y\"", "\"abc\""));
    CHECK(inm("*", "\"abc\""));
    CHECK(inm("  *  ", "\"abc\""));
    CHECK(inm(", ,\"abc\",", "\"abc\""));
    CHECK(!inm("\"abcd\"", "\"abc\""));
    CHECK(!inm("\"ab\"", "\"abc\""));
    CHECK(!inm("abc", "\"abc\""));                           /* unquoted: malformed */
    CHECK(!inm("\"abc", "\"abc\""));
    CHECK(!inm("\"abc\" \"abc\"", "\"abc\""));
    CHECK(!inm("\"x\", garbage, \"abc\"", "\"abc\""));
    CHECK(!inm("w/\"abc\"", "\"abc\""));                     /* W/ is case-sensitive */
    CHECK(!inm("", "\"abc\""));
    CHECK(!inm("**", "\"abc\""));
    CHECK(!inm("\"a b\"", "\"a b\""));                       /* space is not an etagc */
}

static void test_conditionals(void)
{
    uw_static_request rq = { .if_none_match = s("\"abc-a\"") };
    uw_static_response rs = decide(&asset, rq);
    CHECK_EQ_INT(rs.status, 304);
    CHECK(!rs.send_body);
    char head[UW_STATIC_HEADERS_MAX];
    size_t hn = uw_static_headers(&asset, &rs, "no-cache", head, sizeof head);
    head[hn] = 0;
    CHECK(strstr(head, "ETag: \"abc-a\"\r\n") != NULL);
    CHECK(strstr(head, "Cache-Control: no-cache\r\n") != NULL);
    CHECK(strstr(head, "Vary: Accept-Encoding\r\n") != NULL);
    CHECK(strstr(head, "Content-Length") == NULL);
    CHECK(strstr(head, "Content-Type") == NULL);

    /* The ETag compared is the chosen representation's. */
    rq.accept_encoding = s("br");
    CHECK_EQ_INT(decide(&asset, rq).status, 200);
    rq.if_none_match = s("\"abc-a\", \"abc-a-br\"");
    CHECK_EQ_INT(decide(&asset, rq).status, 304);
    rq.if_none_match = s("*");
    CHECK_EQ_INT(decide(&asset, rq).status, 304);

    /* If-Modified-Since. */
    rq = (uw_static_request){ .if_modified_since = s("Sun, 06 Nov 1994 08:49:37 GMT") };
    CHECK_EQ_INT(decide(&asset, rq).status, 304);
    rq.if_modified_since = s("Sun, 06 Nov 1994 08:49:36 GMT");
    CHECK_EQ_INT(decide(&asset, rq).status, 200);
    rq.if_modified_since = s("Sunday, 06-Nov-94 08:49:37 GMT");
    CHECK_EQ_INT(decide(&asset, rq).status, 304);
    rq.if_modified_since = s("Sun Nov  6 08:49:37 1994");
    CHECK_EQ_INT(decide(&asset, rq).status, 304);
    rq.if_modified_since = s("yesterday");
    CHECK_EQ_INT(decide(&asset, rq).status, 200);
    /* If-None-Match takes precedence over If-Modified-Since. */
    rq.if_modified_since = s("Sun, 06 Nov 2044 08:49:37 GMT");
    rq.if_none_match = s("\"nope\"");
    CHECK_EQ_INT(decide(&asset, rq).status, 200);
    /* A 304 wins over Range. */
    rq = (uw_static_request){ .if_none_match = s("\"abc-a\""), .range = s("bytes=0-1") };
    CHECK_EQ_INT(decide(&asset, rq).status, 304);
}

static void test_headers_200(void)
{
    uw_static_request rq = { .accept_encoding = s("gzip") };
    uw_static_response rs = decide(&asset, rq);
    CHECK_EQ_INT(rs.status, 200);
    char head[UW_STATIC_HEADERS_MAX];
    size_t hn = uw_static_headers(&asset, &rs, "public, max-age=60", head, sizeof head);
    CHECK(hn > 0);
    head[hn] = 0;
    CHECK_EQ_STR(head, "Content-Type: text/html; charset=utf-8\r\n"
                       "Content-Length: 7\r\n"
                       "Content-Encoding: gzip\r\n"
                       "Accept-Ranges: bytes\r\n"
                       "ETag: \"abc-a-gz\"\r\n"
                       "Last-Modified: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
                       "Cache-Control: public, max-age=60\r\n"
                       "Vary: Accept-Encoding\r\n");
    /* Every too-small buffer is refused, never overrun. */
    for (size_t cap = 0; cap < hn + 1; cap++) {
        char *b = malloc(cap ? cap : 1);
        CHECK_EQ_INT(uw_static_headers(&asset, &rs, "public, max-age=60", b, cap), 0);
        free(b);
    }
    uw_slice body[2];
    CHECK_EQ_INT(uw_static_body(&asset, &rs, body, 2), 1);
    CHECK_EQ_MEM(body[0].ptr, body[0].len, "GZIPPED", 7);

    /* 406 */
    rq.accept_encoding = s("identity;q=0");
    rs = decide(&asset, rq);
    CHECK_EQ_INT(rs.status, 406);
    CHECK(!rs.send_body);
    CHECK_EQ_INT(uw_static_decide(NULL, &rq, &rs), UW_STATIC_EINVAL);
    rq.method = 7;
    CHECK_EQ_INT(uw_static_decide(&asset, &rq, &rs), UW_STATIC_EINVAL);
    CHECK_EQ_STR(uw_static_strerror(UW_STATIC_EINVAL), "invalid argument");
}

/* Ranges over many chunks: every (first, length) of a 5-chunk body gives
 * slices that concatenate to exactly those bytes. */
static void test_body_slices(void)
{
    static const char c0[] = "abc", c1[] = "defgh", c2[] = "i", c3[] = "jklmnop", c4[] = "qr";
    static const uw_slice chunks[] = { { c0, 3 }, { c1, 5 }, { c2, 1 }, { c3, 7 }, { c4, 2 } };
    const char *all = "abcdefghijklmnopqr";
    uw_static_asset a = { "/a", "text/plain", 0, { { chunks, 5, 18, "\"x\"" }, { 0 }, { 0 } } };
    for (uint64_t first = 0; first < 18; first++) {
        for (uint64_t len = 1; first + len <= 18; len++) {
            uw_static_response rs = { .status = 206, .encoding = UW_STATIC_IDENTITY, .offset = first,
                                      .length = len, .total = 18, .send_body = true };
            uw_slice out[5];
            size_t n = uw_static_body(&a, &rs, out, 5);
            char got[32];
            size_t gl = 0;
            for (size_t i = 0; i < n && i < 5; i++) {
                memcpy(got + gl, out[i].ptr, out[i].len);
                gl += out[i].len;
                CHECK(out[i].len > 0);
            }
            CHECK(n <= 5);
            CHECK_EQ_MEM(got, gl, all + first, len);
        }
    }
    /* A path longer than find_dir's buffer is simply not a directory. */
    char longpath[2000];
    memset(longpath, 'a', sizeof longpath);
    longpath[0] = '/';
    CHECK(!uw_static_find_dir(&set, longpath, sizeof longpath));
}

static void test_dates(void)
{
    char buf[30];
    uw_static_format_http_date(784111777, buf);
    CHECK_EQ_STR(buf, "Sun, 06 Nov 1994 08:49:37 GMT");
    uw_static_format_http_date(0, buf);
    CHECK_EQ_STR(buf, "Thu, 01 Jan 1970 00:00:00 GMT");
    uw_static_format_http_date(951782400, buf);
    CHECK_EQ_STR(buf, "Tue, 29 Feb 2000 00:00:00 GMT");
    int64_t t;
    CHECK(uw_static_parse_http_date("Tue, 29 Feb 2000 00:00:00 GMT", 29, &t));
    CHECK_EQ_INT(t, 951782400);
    CHECK(uw_static_parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT", 29, &t));
    CHECK_EQ_INT(t, 0);
    CHECK(uw_static_parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT", 30, &t));
    CHECK_EQ_INT(t, 784111777);
    CHECK(uw_static_parse_http_date("Sun Nov  6 08:49:37 1994", 24, &t));
    CHECK_EQ_INT(t, 784111777);
    const char *bad[] = {
        "Sun, 06 Nov 1994 08:49:37 UTC", "Sun, 6 Nov 1994 08:49:37 GMT", "Sun, 06 Nov 1994 24:49:37 GMT",
        "Sun, 32 Nov 1994 08:49:37 GMT", "Sun, 06 Foo 1994 08:49:37 GMT", "Sun, 06 Nov 1994 08:49:37 GMTx",
        "Sun, 06 Nov 1994 08:49 GMT", "", "Sun", "1994-11-06T08:49:37Z",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) CHECK(!uw_static_parse_http_date(bad[i], strlen(bad[i]), &t));
}

/* Every prefix of every sample, copied to an exact-size heap buffer so
 * that the sanitizer build faults on any read past the end. */
static void test_truncations(void)
{
    const char *samples[] = {
        "gzip;q=0.5, br;q=1.0, *;q=0", "bytes=0-499", "bytes=-500", "bytes=9500-", "W/\"xyzzy\", \"r2d2\"",
        "Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994",
    };
    for (size_t k = 0; k < sizeof samples / sizeof samples[0]; k++) {
        size_t n = strlen(samples[k]);
        for (size_t len = 0; len <= n; len++) {
            char *b = malloc(len ? len : 1);
            memcpy(b, samples[k], len);
            int q[3];
            uint64_t f, l;
            int64_t t;
            (void)uw_static_parse_accept_encoding(b, len, q);
            (void)uw_static_parse_range(b, len, 10000, &f, &l);
            (void)uw_static_etag_match(b, len, "\"r2d2\"");
            (void)uw_static_parse_http_date(b, len, &t);
            uw_static_request rq = { .if_none_match = { b, len }, .accept_encoding = { b, len },
                                     .range = { b, len }, .if_range = { b, len } };
            uw_static_response rs;
            CHECK_EQ_INT(uw_static_decide(&asset, &rq, &rs), UW_STATIC_OK);
            free(b);
        }
    }
}

int main(void)
{
    RUN(test_find);
    RUN(test_content_types);
    RUN(test_accept_encoding);
    RUN(test_range_parse);
    RUN(test_range_decide);
    RUN(test_if_range);
    RUN(test_etag_match);
    RUN(test_conditionals);
    RUN(test_headers_200);
    RUN(test_body_slices);
    RUN(test_dates);
    RUN(test_truncations);
    return CHECK_DONE();
}
