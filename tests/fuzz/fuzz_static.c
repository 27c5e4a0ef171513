/*
 * Fuzz target for the static asset engine's header parsers: the input is
 * fed whole to each parser (Accept-Encoding, Range, If-None-Match, HTTP
 * dates: a parsed date must format as an IMF-fixdate that parses back to
 * the same time), then split at newlines into the five request headers of
 * uw_static_decide, whose answer is checked for consistency.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "uweb/static.h"

static const char c0[] = "0123456789abcdef", c1[] = "ghijklmnop";
static const uw_slice chunks[] = { { c0, 16 }, { c1, 10 } };
static const char g0[] = "gz-bytes";
static const uw_slice gchunks[] = { { g0, 8 } };
static const uw_static_asset asset = {
    "/a.css", "text/css; charset=utf-8", 784111777,
    { { chunks, 2, 26, "\"e1\"" }, { gchunks, 1, 8, "\"e1-gz\"" }, { NULL, 0, 0, NULL } },
};

/* A parsed date formats as an IMF-fixdate (RFC 9110 5.6.7: the exact
 * grammar, the weekday and calendar of gmtime_r) that parses back to the
 * same time. */
static unsigned digits(const char *p, int n)
{
    unsigned v = 0;
    for (int i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9') abort();
        v = v * 10 + (unsigned)(p[i] - '0');
    }
    return v;
}

static int name_index(const char *p, const char *const *names, int n)
{
    for (int i = 0; i < n; i++)
        if (memcmp(p, names[i], 3) == 0) return i;
    abort();
}

static void check_date(int64_t t)
{
    static const char *const days[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
    static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
    char out[30];
    memset(out, 'x', sizeof out);
    uw_static_format_http_date(t, out);
    /* "Sun, 06 Nov 1994 08:49:37 GMT" */
    if (strlen(out) != 29 || memcmp(out + 3, ", ", 2) || out[7] != ' ' || out[11] != ' ' || out[16] != ' ' ||
        out[19] != ':' || out[22] != ':' || memcmp(out + 25, " GMT", 4))
        abort();
    int wday = name_index(out, days, 7), mon = name_index(out + 8, months, 12);
    unsigned mday = digits(out + 5, 2), year = digits(out + 12, 4);
    unsigned hour = digits(out + 17, 2), min = digits(out + 20, 2), sec = digits(out + 23, 2);
    if (hour > 23 || min > 59 || sec > 59) abort();
    int64_t back;
    if (!uw_static_parse_http_date(out, 29, &back) || back != t) abort();
    /* The same calendar as the C library's. */
    time_t tt = (time_t)t;
    struct tm tm;
    if (gmtime_r(&tt, &tm) &&
        (tm.tm_wday != wday || tm.tm_mon != mon || (unsigned)tm.tm_mday != mday ||
         (unsigned)tm.tm_year + 1900 != year || (unsigned)tm.tm_hour != hour || (unsigned)tm.tm_min != min ||
         (unsigned)tm.tm_sec != sec))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* An exact-size copy, so any over-read is caught by ASan. */
    char *buf = malloc(size ? size : 1);
    if (!buf) return 0;
    memcpy(buf, data, size);

    int q[UW_STATIC_ENCODINGS];
    if (uw_static_parse_accept_encoding(buf, size, q))
        for (int e = 0; e < UW_STATIC_ENCODINGS; e++)
            if (q[e] < 0 || q[e] > 1000) abort();
    uint64_t first = 0, len = 0;
    if (uw_static_parse_range(buf, size, 26, &first, &len) == UW_STATIC_RANGE_OK)
        if (len == 0 || first >= 26 || first + len > 26) abort();
    (void)uw_static_etag_match(buf, size, "\"e1\"");
    int64_t t;
    if (uw_static_parse_http_date(buf, size, &t)) check_date(t);

    uw_slice field[5] = { { NULL, 0 } };
    size_t start = 0;
    int k = 0;
    for (size_t i = 0; i <= size && k < 5; i++) {
        if (i == size || buf[i] == '\n') {
            field[k].ptr = buf + start;
            field[k].len = i - start;
            k++;
            start = i + 1;
        }
    }
    uw_static_request rq = { .method = size && (data[0] & 1) ? UW_STATIC_HEAD : UW_STATIC_GET,
                             .accept_encoding = field[0], .if_none_match = field[1],
                             .if_modified_since = field[2], .range = field[3], .if_range = field[4] };
    uw_static_response rs;
    if (uw_static_decide(&asset, &rq, &rs) != UW_STATIC_OK) abort();
    if (rs.status == 206 && (rs.length == 0 || rs.offset + rs.length > rs.total)) abort();
    char head[UW_STATIC_HEADERS_MAX];
    if (rs.status != 406 && uw_static_headers(&asset, &rs, "no-cache", head, sizeof head) == 0) abort();
    uw_slice body[4];
    size_t nb = uw_static_body(&asset, &rs, body, 4);
    uint64_t total = 0;
    for (size_t i = 0; i < nb && i < 4; i++) total += body[i].len;
    if (rs.send_body && total != rs.length) abort();
    free(buf);
    return 0;
}
