/* Cookies (cookie.h): Set-Cookie with every attribute and the checks on
 * prefixes; the Cookie field read; signed and sealed values, tampered,
 * moved to another name, expired, under another key; AES-GCM vectors. */
#include "../check.h"
#include "exchange.h"
#include <uweb/cookie.h>
#include <uweb/aead.h>

static void test_format(void)
{
    char b[512];
    int n = uw_cookie_format(&(uw_cookie){ .name = "id", .value = "a3fWa", .max_age = 3600, .path = "/",
                                           .domain = "example.org", .secure = true, .http_only = true,
                                           .same_site = UW_SAMESITE_STRICT }, 784111777, b, sizeof b);
    CHECK(n > 0);
    CHECK_EQ_STR(b, "id=a3fWa; Max-Age=3600; Expires=Sun, 06 Nov 1994 09:49:37 GMT; Path=/; Domain=example.org; Secure; HttpOnly; SameSite=Strict");
    uw_cookie_format(&(uw_cookie){ .name = "x", .value = "", .max_age = UW_COOKIE_DELETE }, 0, b, sizeof b);
    CHECK_EQ_STR(b, "x=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:01 GMT");
    uw_cookie_format(&(uw_cookie){ .name = "s", .value = "1", .same_site = UW_SAMESITE_LAX }, 0, b, sizeof b);
    CHECK_EQ_STR(b, "s=1; SameSite=Lax");
    /* refused */
    CHECK_EQ_INT(uw_cookie_format(&(uw_cookie){ .name = "a b", .value = "1" }, 0, b, sizeof b), UW_EINVAL);
    CHECK_EQ_INT(uw_cookie_format(&(uw_cookie){ .name = "a", .value = "x;y" }, 0, b, sizeof b), UW_EINVAL);
    CHECK_EQ_INT(uw_cookie_format(&(uw_cookie){ .name = "a", .value = "x y" }, 0, b, sizeof b), UW_EINVAL);
    CHECK_EQ_INT(uw_cookie_format(&(uw_cookie){ .name = "__Secure-a", .value = "1" }, 0, b, sizeof b), UW_EINVAL);
    CHECK(uw_cookie_format(&(uw_cookie){ .name = "__Secure-a", .value = "1", .secure = true }, 0, b, sizeof b) > 0);
    CHECK_EQ_INT(uw_cookie_format(&(uw_cookie){ .name = "__Host-a", .value = "1", .secure = true }, 0, b, sizeof b), UW_EINVAL);
    CHECK_EQ_INT(uw_cookie_format(&(uw_cookie){ .name = "__Host-a", .value = "1", .secure = true, .path = "/x" }, 0, b, sizeof b), UW_EINVAL);
    CHECK_EQ_INT(uw_cookie_format(&(uw_cookie){ .name = "__Host-a", .value = "1", .secure = true, .path = "/", .domain = "e.org" }, 0, b, sizeof b), UW_EINVAL);
    CHECK(uw_cookie_format(&(uw_cookie){ .name = "__Host-a", .value = "1", .secure = true, .path = "/" }, 0, b, sizeof b) > 0);
    CHECK_EQ_INT(uw_cookie_format(&(uw_cookie){ .name = "a", .value = "1", .same_site = UW_SAMESITE_NONE }, 0, b, sizeof b), UW_EINVAL);
    CHECK_EQ_INT(uw_cookie_format(&(uw_cookie){ .name = "a", .value = "1", .path = "/;x" }, 0, b, sizeof b), UW_EINVAL);
}

static void test_aead_vector(void)
{
    /* NIST GCM test case 14 (AES-256, zero key, zero IV, one zero block). */
    uint8_t key[32] = { 0 }, iv[12] = { 0 }, pt[16] = { 0 }, ct[32], back[16];
    static const uint8_t want[32] = { 0xce, 0xa7, 0x40, 0x3d, 0x4d, 0x60, 0x6b, 0x6e, 0x07, 0x4e, 0xc5, 0xd3, 0xba, 0xf3, 0x9d, 0x18,
                                      0xd0, 0xd1, 0xc8, 0xa7, 0x99, 0x99, 0x6b, 0xf0, 0x26, 0x5b, 0x98, 0xb5, 0xd4, 0x8a, 0xb9, 0x19 };
    CHECK_EQ_INT(uw_aead_seal(key, iv, NULL, 0, pt, 16, ct), UW_OK);
    CHECK_EQ_MEM(ct, 32, want, 32);
    CHECK_EQ_INT(uw_aead_open(key, iv, NULL, 0, ct, 32, back), UW_OK);
    CHECK_EQ_MEM(back, 16, pt, 16);
    ct[3] ^= 1;
    CHECK_EQ_INT(uw_aead_open(key, iv, NULL, 0, ct, 32, back), UW_EINVAL);
    ct[3] ^= 1;
    CHECK_EQ_INT(uw_aead_open(key, iv, "x", 1, ct, 32, back), UW_EINVAL);
}

static void test_seal_and_tamper(void)
{
    uint8_t k[32];
    CHECK_EQ_INT(uw_cookie_key_parse("00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n", 65, k), UW_OK);
    CHECK_EQ_INT(k[1], 0x11);
    CHECK_EQ_INT(uw_cookie_key_parse("short", 5, k), UW_EINVAL);
    uw_cookie_set_key(k, 32);
    char c[512], v[512];
    for (int enc = 0; enc < 2; enc++) {
        int n = uw_cookie_seal("sid", "user-42", 2000, enc, c, sizeof c);
        CHECK(n > 0);
        CHECK_EQ_INT(enc ? strstr(c, "user-42") == NULL : strncmp(c, "user-42.", 8) == 0, 1);
        CHECK_EQ_INT(uw_cookie_unseal("sid", c, 1000, enc, v, sizeof v), 7);
        CHECK_EQ_STR(v, "user-42");
        CHECK_EQ_INT(uw_cookie_unseal("other", c, 1000, enc, v, sizeof v), UW_EINVAL);   /* moved */
        CHECK_EQ_INT(uw_cookie_unseal("sid", c, 2000, enc, v, sizeof v), UW_ETIMEDOUT);  /* expired */
        for (int i = 0; i < n; i++) {                                                    /* every byte flipped */
            char t[512];
            memcpy(t, c, (size_t)n + 1);
            t[i] = t[i] == 'A' ? 'B' : 'A';
            if (uw_cookie_unseal("sid", t, 1000, enc, v, sizeof v) >= 0) { CHECK(!"tampered accepted"); break; }
        }
        uint8_t k2[32] = { 1 };
        uw_cookie_set_key(k2, 32);
        CHECK_EQ_INT(uw_cookie_unseal("sid", c, 1000, enc, v, sizeof v), UW_EINVAL);      /* another key */
        uw_cookie_set_key(k, 32);
    }
    CHECK_EQ_INT(uw_cookie_seal("sid", "a b", 0, false, c, sizeof c), UW_EINVAL);   /* signed: visible value */
    CHECK(uw_cookie_seal("sid", "a b;\"", 0, true, c, sizeof c) > 0);              /* sealed: any text */
}

static void set(uw_req *req, uw_res *res)
{
    (void)req;
    uw_res_cookie(res, &(uw_cookie){ .name = "plain", .value = "p1", .path = "/" });
    uw_res_cookie_sealed(res, &(uw_cookie){ .name = "__Host-s", .value = "secret 1", .secure = true, .path = "/", .http_only = true });
    int bad = uw_res_cookie(res, &(uw_cookie){ .name = "__Host-x", .value = "1" });
    uw_res_textf(res, 200, "bad=%d\n", bad);
}
static void get(uw_req *req, uw_res *res)
{
    const char *p = uw_req_cookie(req, "plain"), *q = uw_req_cookie(req, "q"), *s = uw_req_cookie_sealed(req, "__Host-s");
    uw_res_textf(res, 200, "plain=%s q=%s s=%s\n", p ? p : "-", q ? q : "-", s ? s : "-");
}
static const uw_route routes[] = { { UW_GET, "/set", set }, { UW_GET, "/get", get } };
static const uw_app app = { UW_ROUTES(routes) };

static void test_through_app(void)
{
    const char *a = ex_run(&app, "GET /set HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK(strstr(a, "Set-Cookie: plain=p1; Path=/\r\n") != NULL);
    CHECK_EQ_STR(ex_body(a), "bad=-6\n");
    const char *s = strstr(a, "Set-Cookie: __Host-s=");
    CHECK(s != NULL);
    if (!s) return;
    char sealed[512];
    size_t n = strcspn(s + 21, ";");
    snprintf(sealed, sizeof sealed, "%.*s", (int)n, s + 21);
    char req[1024];
    snprintf(req, sizeof req, "GET /get HTTP/1.1\r\nHost: x\r\nCookie: plain=p1; q=\"quoted\"\r\nCookie: __Host-s=%s\r\n\r\n", sealed);
    CHECK_EQ_STR(ex_body(ex_run(&app, req)), "plain=p1 q=quoted s=secret 1\n");
    sealed[5] = sealed[5] == 'x' ? 'y' : 'x';
    snprintf(req, sizeof req, "GET /get HTTP/1.1\r\nHost: x\r\nCookie: __Host-s=%s\r\n\r\n", sealed);
    CHECK_EQ_STR(ex_body(ex_run(&app, req)), "plain=- q=- s=-\n");
}

/* HMAC-SHA256 (aead.h): RFC 4231 test cases 2 and 6 (a key longer than
 * the block); uw_equal_ct. */
static void test_hmac_vector(void)
{
    uint8_t mac[UW_HMAC_SHA256_BYTES], key[131];
    static const uint8_t want2[32] = { 0x5b, 0xdc, 0xc1, 0x46, 0xbf, 0x60, 0x75, 0x4e, 0x6a, 0x04, 0x24, 0x26, 0x08, 0x95, 0x75, 0xc7,
                                       0x5a, 0x00, 0x3f, 0x08, 0x9d, 0x27, 0x39, 0x83, 0x9d, 0xec, 0x58, 0xb9, 0x64, 0xec, 0x38, 0x43 };
    static const uint8_t want6[32] = { 0x60, 0xe4, 0x31, 0x59, 0x1e, 0xe0, 0xb6, 0x7f, 0x0d, 0x8a, 0x26, 0xaa, 0xcb, 0xf5, 0xb7, 0x7f,
                                       0x8e, 0x0b, 0xc6, 0x21, 0x37, 0x28, 0xc5, 0x14, 0x05, 0x46, 0x04, 0x0f, 0x0e, 0xe3, 0x7f, 0x54 };
    CHECK_EQ_INT(uw_hmac_sha256("Jefe", 4, "what do ya want for nothing?", 28, mac), UW_OK);
    CHECK_EQ_MEM(mac, 32, want2, 32);
    memset(key, 0xaa, sizeof key);
    const char *m = "Test Using Larger Than Block-Size Key - Hash Key First";
    CHECK_EQ_INT(uw_hmac_sha256(key, sizeof key, m, strlen(m), mac), UW_OK);
    CHECK_EQ_MEM(mac, 32, want6, 32);
    CHECK(uw_equal_ct(want2, want2, 32));
    CHECK(!uw_equal_ct(want2, want6, 32));
    CHECK(uw_equal_ct(want2, want6, 0));
}

int main(void)
{
    uw_rt_init();
    RUN(test_format);
    RUN(test_aead_vector);
    RUN(test_hmac_vector);
    RUN(test_seal_and_tamper);
    RUN(test_through_app);
    uw_rt_fini();
    return CHECK_DONE();
}
