/*
 * Fuzz target for the static asset engine's header parsers: the input is
 * fed whole to each parser (Accept-Encoding, Range, If-None-Match, HTTP
 * dates), then split at newlines into the five request headers of
 * uw_static_decide, whose answer is checked for consistency.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "uweb/static.h"

static const char c0[] = "0123456789abcdef", c1[] = "ghijklmnop";
static const uw_slice chunks[] = { { c0, 16 }, { c1, 10 } };
static const char g0[] = "gz-bytes";
static const uw_slice gchunks[] = { { g0, 8 } };
static const uw_static_asset asset = {
    "/a.css", "text/css; charset=utf-8", 784111777,
    { { chunks, 2, 26, "\"e1\"" }, { gchunks, 1, 8, "\"e1-gz\"" }, { NULL, 0, 0, NULL } },
};

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
    if (uw_static_parse_http_date(buf, size, &t)) {
        char out[30];
        uw_static_format_http_date(t, out);
    }

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
