/*
 * Fuzz target for the client's response parser (uw_client_parser): the
 * input's first byte picks the split size, HEAD or not, the header
 * storage and skip_body; the rest is fed as answers from a server.  Checks that events
 * come in order (a head before its body and its end), that body spans
 * lie inside the bytes fed, and that limits hold.
 */
#include <uweb/client.h>

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    unsigned mode = data[0];
    data++;
    size--;
    size_t step = (mode & 15) + 1;
    if ((mode & 15) == 15) step = size ? size : 1;
    bool head_request = mode & 16;
    static char head[2048];
    uw_client_parser p;
    uw_client_parser_init(&p, (mode & 32) ? NULL : head, sizeof head, 1024, 16, head_request);
    p.skip_body = mode & 64;
    size_t fed = 0, pos = 0;
    bool in_message = false, headed = false;
    uint64_t body = 0;
    while (pos < size || fed < size) {
        if (fed < size) fed = fed + step > size ? size : fed + step;
        size_t used;
        int r = uw_client_parser_feed(&p, (const char *)data + pos, fed - pos, &used);
        if (used > fed - pos) abort();
        if (r != UW_OK) {
            if (r != UW_EPROTO && r != UW_ELIMIT) abort();
            return 0;
        }
        pos += used;
        switch (p.event) {
        case UW_CP_HEAD:
            if (headed) abort();
            headed = in_message = true;
            if (p.status < 100 || p.status > 999 || p.status / 100 == 1) abort();
            if (p.nheaders > 16) abort();
            for (size_t i = 0; i < p.nheaders && !(mode & 32); i++) {
                const char *n, *v;
                uw_client_parser_header_at(&p, i, &n, &v);
                if (!n || !v || n < head || v >= head + sizeof head) abort();
            }
            break;
        case UW_CP_BODY:
            if (!headed) abort();
            if (p.body < (const char *)data || p.body + p.body_len > (const char *)data + fed) abort();
            if (head_request || p.skip_body) abort();
            body += p.body_len;
            break;
        case UW_CP_DONE:
            if (!headed) abort();
            uw_client_parser_next(&p, head_request);
            headed = in_message = false;
            break;
        default:
            if (fed == size && pos < size && used == 0) return 0;   /* waits for more that never comes */
            if (fed == size && pos == size) goto eof;
        }
    }
eof:
    if (body > size) abort();
    int r = uw_client_parser_eof(&p);
    if (r != UW_OK && r != UW_ECLOSED && r != UW_EPROTO && r != UW_ELIMIT && r != UW_EINVAL) abort();
    (void)in_message;
    return 0;
}
