/*
 * The shared helpers of src/util: hex digits, token characters, base64
 * (RFC 4648's test vectors in both alphabets, with and without padding,
 * a short buffer), both ways, and the date formatter's names.
 */
#include "../check.h"
#include "../../src/util/util.h"

#include <stdlib.h>
#include <string.h>

static void test_hexval(void)
{
    const char *digits = "0123456789abcdef";
    for (int i = 0; i < 16; i++) {
        CHECK_EQ_INT(uw__hexval(digits[i]), i);
        if (i >= 10) CHECK_EQ_INT(uw__hexval(digits[i] - 'a' + 'A'), i);
    }
    int bad = 0;
    for (int c = 0; c < 256; c++)
        if (!strchr("0123456789abcdefABCDEF", c) || c == 0) bad += uw__hexval(c) == -1;
    CHECK_EQ_INT(bad, 256 - 22);
}

static void test_tchar(void)
{
    const char *tokens = "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    int n = 0;
    for (int c = 0; c < 256; c++) {
        bool want = c && strchr(tokens, c);
        CHECK(uw__tchar((unsigned char)c) == want);
        n += want;
    }
    CHECK_EQ_INT(n, 77);
}

/* RFC 4648 §10 */
static const char *const vec_in[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
static const char *const vec_out[] = { "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy" };

static void test_b64_rfc4648_vectors(void)
{
    char out[16];
    for (int i = 0; i < 7; i++) {
        size_t n = strlen(vec_in[i]);
        CHECK_EQ_INT(uw__b64_encode(vec_in[i], n, out, sizeof out, 0), strlen(vec_out[i]));
        CHECK_EQ_STR(out, vec_out[i]);
        /* without padding: the same characters, no '=' */
        char want[16];
        strcpy(want, vec_out[i]);
        if (strchr(want, '=')) *strchr(want, '=') = 0;
        uw__b64_encode(vec_in[i], n, out, sizeof out, UW__B64_NOPAD);
        CHECK_EQ_STR(out, want);
    }
}

static void test_b64_alphabets_both_ways(void)
{
    unsigned char all[48];
    for (int g = 0; g < 16; g++) {                   /* the 6-bit values 0..63 in order */
        uint32_t x = (uint32_t)(4 * g) << 18 | (uint32_t)(4 * g + 1) << 12 | (uint32_t)(4 * g + 2) << 6 | (uint32_t)(4 * g + 3);
        all[3 * g] = (unsigned char)(x >> 16), all[3 * g + 1] = (unsigned char)(x >> 8), all[3 * g + 2] = (unsigned char)x;
    }
    char std[80], url[80];
    CHECK_EQ_INT(uw__b64_encode(all, sizeof all, std, sizeof std, 0), 64);
    CHECK_EQ_INT(uw__b64_encode(all, sizeof all, url, sizeof url, UW__B64_URL), 64);
    int seen[64] = { 0 };
    for (int i = 0; i < 64; i++) {
        int v = uw__b64val((unsigned char)std[i]);
        int w = uw__b64urlval((unsigned char)url[i]);
        CHECK(v >= 0 && v == w);
        CHECK_EQ_INT(v, i);
        if (v >= 0) seen[v]++;
        if (v < 62) CHECK(std[i] == url[i]);
        else CHECK(url[i] == (v == 62 ? '-' : '_') && std[i] == (v == 62 ? '+' : '/'));
    }
    int missing = 0;
    for (int v = 0; v < 64; v++) missing += !seen[v];
    CHECK_EQ_INT(missing, 0);
    /* decoding back gives the bytes */
    unsigned char back[48];
    for (int g = 0; g < 16; g++) {
        uint32_t x = 0;
        for (int k = 0; k < 4; k++) x = x << 6 | (uint32_t)uw__b64urlval((unsigned char)url[4 * g + k]);
        back[3 * g] = (unsigned char)(x >> 16), back[3 * g + 1] = (unsigned char)(x >> 8), back[3 * g + 2] = (unsigned char)x;
    }
    CHECK_EQ_MEM(back, sizeof back, all, sizeof all);
    CHECK_EQ_INT(uw__b64val('-'), -1);
    CHECK_EQ_INT(uw__b64val('='), -1);
    CHECK_EQ_INT(uw__b64urlval('+'), -1);
    CHECK_EQ_INT(uw__b64urlval('/'), -1);
    CHECK_EQ_INT(uw__b64urlval('='), -1);
}

static void test_b64_short_buffer_stops_at_a_character(void)
{
    char out[6];
    memset(out, 'x', sizeof out);
    CHECK_EQ_INT(uw__b64_encode("foobar", 6, out, sizeof out, 0), 5);
    CHECK_EQ_STR(out, "Zm9vY");
    CHECK_EQ_INT(uw__b64_encode("f", 1, out, 1, 0), 0);
    CHECK_EQ_STR(out, "");
    CHECK_EQ_INT(uw__b64_encode("f", 1, out, 0, 0), 0);
}

static void test_month_and_day_names(void)
{
    char d[30];
    uw__http_date(784111777, d);                      /* RFC 9110's example */
    CHECK_EQ_STR(d, "Sun, 06 Nov 1994 08:49:37 GMT");
    CHECK_EQ_STR(uw__month_names[0], "Jan");
    CHECK_EQ_STR(uw__month_names[11], "Dec");
    CHECK_EQ_STR(uw__day_names[6], "Sat");
    char months[37] = "";
    for (int m = 0; m < 12; m++) {
        uw__http_date(uw__days_from_civil(2026, (unsigned)m + 1, 15) * 86400, d);
        memcpy(months + 3 * m, d + 8, 3);
    }
    CHECK_EQ_STR(months, "JanFebMarAprMayJunJulAugSepOctNovDec");
}

int main(void)
{
    RUN(test_hexval);
    RUN(test_tchar);
    RUN(test_b64_rfc4648_vectors);
    RUN(test_b64_alphabets_both_ways);
    RUN(test_b64_short_buffer_stops_at_a_character);
    RUN(test_month_and_day_names);
    return CHECK_DONE();
}
