/* Trusted proxies (src/http/proxy.c): address ranges, addresses parsed
 * and written back, the client of X-Forwarded-For, and the PROXY protocol
 * (HAProxy's spec, versions 1 and 2) fed whole and byte by byte as the
 * server reads it. */
#include "../check.h"
#include "../../src/http/http_internal.h"

#include <string.h>

static void test_cidr(void)
{
    uw_cidr c[4];
    CHECK_EQ_INT(uw_cidr_parse("10.0.0.0/8", &c[0]), UW_OK);
    CHECK_EQ_INT(uw_cidr_parse("2001:db8::/32", &c[1]), UW_OK);
    CHECK_EQ_INT(uw_cidr_parse("::1", &c[2]), UW_OK);
    CHECK_EQ_INT(uw_cidr_parse("192.0.2.77/28", &c[3]), UW_OK);     /* host bits dropped */
    CHECK(uw_cidr_match(c, 4, "10.200.3.4"));
    CHECK(uw_cidr_match(c, 4, "::ffff:10.1.1.1"));                    /* a mapped peer of a dual-stack socket */
    CHECK(!uw_cidr_match(c, 4, "11.0.0.1"));
    CHECK(uw_cidr_match(c, 4, "2001:db8:ffff::1"));
    CHECK(!uw_cidr_match(c, 4, "2001:db9::1"));
    CHECK(uw_cidr_match(c, 4, "::1"));
    CHECK(!uw_cidr_match(c, 4, "::2"));
    CHECK(uw_cidr_match(c, 4, "192.0.2.79"));
    CHECK(!uw_cidr_match(c, 4, "192.0.2.80"));
    CHECK(!uw_cidr_match(c, 4, "unix"));
    CHECK(!uw_cidr_match(c, 0, "10.0.0.1"));
    static const char *bad[] = { "10.0.0.0/33", "::/129", "10.0.0", "10.0.0.256", "01.2.3.4", "1::2::3", ":1", "1:",
                                 "1:2:3:4:5:6:7:8:9", "10.0.0.0/", "10.0.0.0/x", "", "g::1", "12345::" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) CHECK_EQ_INT(uw_cidr_parse(bad[i], &c[0]), UW_EINVAL);
}

static void roundtrip(const char *in, const char *want)
{
    uint8_t a[16];
    char out[64];
    CHECK(uw__ip_parse(in, strlen(in), a) != 0);
    uw__ip_format(a, out, sizeof out);
    CHECK_EQ_STR(out, want);
}

static void test_format(void)
{
    roundtrip("192.0.2.1", "192.0.2.1");
    roundtrip("::ffff:192.0.2.1", "192.0.2.1");
    roundtrip("2001:DB8:0:0:0:0:0:1", "2001:db8::1");
    roundtrip("2001:db8:0:1:0:0:0:1", "2001:db8:0:1::1");      /* the longest run */
    roundtrip("2001:0:0:1:0:0:0:0", "2001:0:0:1::");
    roundtrip("::", "::");
    roundtrip("1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8");
    roundtrip("1:0:3:4:5:6:7:8", "1:0:3:4:5:6:7:8");           /* one zero group stays */
    roundtrip("64:ff9b::198.51.100.1", "64:ff9b::c633:6401");
}

static void xff(const char *peer, const char *const *values, size_t n, const uw_cidr *trust, size_t ntrust,
                const char *want)
{
    uw_header h[4];
    uw_req req;
    memset(&req, 0, sizeof req);
    for (size_t i = 0; i < n; i++) h[i] = (uw_header){ "X-Forwarded-For", values[i], 15, strlen(values[i]) };
    req.headers = h, req.nheaders = n, req.trust = trust, req.ntrust = ntrust;
    char buf[64];
    snprintf(buf, sizeof buf, "%s", peer);
    uw__xff_client(&req, buf, sizeof buf);
    CHECK_EQ_STR(buf, want);
}

static void test_forwarded_for(void)
{
    uw_cidr t[2];
    uw_cidr_parse("127.0.0.1", &t[0]);
    uw_cidr_parse("10.0.0.0/8", &t[1]);
    const char *one[] = { "198.51.100.7" };
    const char *forged[] = { "203.0.113.50, 198.51.100.7" };
    const char *chain[] = { "203.0.113.50, 198.51.100.7, 10.1.2.3" };
    const char *two[] = { "203.0.113.50", "198.51.100.7,10.0.0.9" };
    const char *v6[] = { "[2001:db8::7]:4711" };
    const char *port[] = { "198.51.100.7:5000" };
    const char *junk[] = { "198.51.100.7, unknown" };
    xff("127.0.0.1", one, 1, t, 2, "198.51.100.7");
    xff("127.0.0.1", forged, 1, t, 2, "198.51.100.7");        /* what the client wrote first proves nothing */
    xff("127.0.0.1", chain, 1, t, 2, "198.51.100.7");         /* a trusted hop is passed */
    xff("127.0.0.1", two, 2, t, 2, "198.51.100.7");           /* fields read from the last */
    xff("127.0.0.1", v6, 1, t, 2, "2001:db8::7");
    xff("127.0.0.1", port, 1, t, 2, "198.51.100.7");
    xff("127.0.0.1", junk, 1, t, 2, "127.0.0.1");             /* not an address: the hop that passed it */
    xff("192.0.2.1", one, 1, t, 2, "192.0.2.1");              /* an untrusted peer: ignored */
    xff("127.0.0.1", one, 1, t, 0, "127.0.0.1");              /* no --trust-proxy: ignored */
    xff("127.0.0.1", one, 0, t, 2, "127.0.0.1");              /* no field */
}

/* Feeds in as the server reads: *need bytes at a time. */
static ssize_t feed(const uint8_t *in, size_t n, char *peer)
{
    size_t have = 0, need;
    ssize_t r;
    while ((r = uw__proxy_parse(in, have, &need, peer, 64)) == 0) {
        CHECK(need > 0);
        if (have + need > n) return -1000;                  /* asked past the input */
        have += need;
    }
    CHECK(r < 0 || (size_t)r >= have);                      /* never read past the header */
    return r;
}

static void test_proxy_v1(void)
{
    char peer[64];
    const char *l = "PROXY TCP4 192.0.2.10 198.51.100.1 56324 443\r\nGET / HTTP/1.1\r\n";
    CHECK_EQ_INT(feed((const uint8_t *)l, strlen(l), peer), 46);
    CHECK_EQ_STR(peer, "192.0.2.10:56324");
    l = "PROXY TCP6 2001:db8::1 2001:db8::2 4711 80\r\n";
    CHECK_EQ_INT(feed((const uint8_t *)l, strlen(l), peer), (long long)strlen(l));
    CHECK_EQ_STR(peer, "[2001:db8::1]:4711");
    l = "PROXY UNKNOWN\r\n";
    CHECK_EQ_INT(feed((const uint8_t *)l, strlen(l), peer), 15);
    CHECK_EQ_STR(peer, "");
    l = "PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n";
    CHECK_EQ_INT(feed((const uint8_t *)l, strlen(l), peer), (long long)strlen(l));
    static const char *bad[] = {
        "GET / HTTP/1.1\r\n\r\n", "PROXY TCP4 192.0.2.10 198.51.100.1 56324\r\n", "PROXY TCP4 2001:db8::1 ::2 1 2\r\n",
        "PROXY TCP6 192.0.2.1 192.0.2.2 1 2\r\n", "PROXY TCP4 192.0.2.10  198.51.100.1 1 2\r\n",
        "PROXY TCP4 192.0.2.10 198.51.100.1 65536 2\r\n", "PROXY TCP4 192.0.2.10 198.51.100.1 01 2\r\n",
        "PROXY TCP4 192.0.2.10 198.51.100.1 1 2 \r\n", "PROXY UDP4 192.0.2.10 198.51.100.1 1 2\r\n",
        "PROXY UNKNOWNX\r\n", "proxy TCP4 1.2.3.4 1.2.3.4 1 2\r\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_EQ_INT(feed((const uint8_t *)bad[i], strlen(bad[i]), peer), UW_EPROTO);
    char longl[200];
    memset(longl, 'x', sizeof longl);
    memcpy(longl, "PROXY UNKNOWN ", 14);
    CHECK_EQ_INT(feed((const uint8_t *)longl, sizeof longl, peer), UW_EPROTO);      /* no CRLF within 107 bytes */
}

static void test_proxy_v2(void)
{
    char peer[64];
    uint8_t h[64] = { '\r', '\n', '\r', '\n', 0, '\r', '\n', 'Q', 'U', 'I', 'T', '\n', 0x21, 0x11, 0, 12,
                      192, 0, 2, 10, 198, 51, 100, 1, 0xdc, 0x04, 0x01, 0xbb };
    CHECK_EQ_INT(feed(h, 28, peer), 28);
    CHECK_EQ_STR(peer, "192.0.2.10:56324");
    h[15] = 20;                                             /* 8 bytes of TLV after the addresses */
    CHECK_EQ_INT(feed(h, 36, peer), 36);
    CHECK_EQ_STR(peer, "192.0.2.10:56324");
    h[13] = 0x21, h[15] = 36;                               /* TCP over IPv6 */
    memset(h + 16, 0, 32);
    h[16] = 0x20, h[17] = 0x01, h[18] = 0x0d, h[19] = 0xb8, h[31] = 7;
    h[48] = 0x12, h[49] = 0x67;
    CHECK_EQ_INT(feed(h, 52, peer), 52);
    CHECK_EQ_STR(peer, "[2001:db8::7]:4711");
    h[12] = 0x20, h[13] = 0, h[15] = 0;                     /* LOCAL (a health check): the peer stays */
    CHECK_EQ_INT(feed(h, 16, peer), 16);
    CHECK_EQ_STR(peer, "");
    h[12] = 0x21, h[13] = 0x12, h[15] = 12;                 /* UDP: the peer stays */
    CHECK_EQ_INT(feed(h, 28, peer), 28);
    CHECK_EQ_STR(peer, "");
    h[13] = 0x11, h[15] = 11;                               /* shorter than its addresses */
    CHECK_EQ_INT(feed(h, 28, peer), UW_EPROTO);
    h[15] = 12, h[12] = 0x31;                               /* version 3 */
    CHECK_EQ_INT(feed(h, 28, peer), UW_EPROTO);
    h[12] = 0x22;                                           /* command 2 */
    CHECK_EQ_INT(feed(h, 28, peer), UW_EPROTO);
    h[12] = 0x21, h[13] = 0x41;                             /* family 4 */
    CHECK_EQ_INT(feed(h, 28, peer), UW_EPROTO);
    h[13] = 0x11, h[6] = 'x';                               /* a broken signature */
    CHECK_EQ_INT(feed(h, 28, peer), UW_EPROTO);
}

int main(void)
{
    RUN(test_cidr);
    RUN(test_format);
    RUN(test_forwarded_for);
    RUN(test_proxy_v1);
    RUN(test_proxy_v2);
    return CHECK_DONE();
}
