/*
 * Fuzz target of the WebSocket frame codec (src/ws).
 *
 * Input: one byte of flags (bit 0: frames from a client, bit 1:
 * permessage-deflate negotiated, bit 2: small limits, bit 3: client
 * context takeover off), one byte choosing a split step, then the
 * frames.  The input is parsed whole, then in pieces of the step, then
 * byte by byte when short; every run must give the same events (data of
 * messages, control frames; after an error, its close code), and compressed
 * messages are inflated (into a bounded sink) the same way each time.
 * The UTF-8 check must agree with itself fed byte by byte.  A difference
 * traps.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "uweb/ws.h"

typedef struct digest {
    uint64_t h;
    size_t inflated;
    int error;
} digest;

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++) h = (h ^ s[i]) * 1099511628211ull;
    return h;
}

static int sink(void *arg, const uint8_t *p, size_t n)
{
    digest *d = arg;
    if (d->inflated + n > 1 << 20) return UW_ELIMIT;
    d->inflated += n;
    d->h = fnv(d->h, p, n);
    return UW_OK;
}

static void run(const uw_ws_parser_config *cfg, const uw_ws_pmd *pmd, const uint8_t *in, size_t n,
                size_t step, digest *d)
{
    memset(d, 0, sizeof *d);
    d->h = 1469598103934665603ull;
    uw_ws_parser p;
    uw_ws_parser_init(&p, cfg);
    uw_ws_inflater *f = cfg->rsv1 ? uw_ws_inflater_new(pmd) : NULL;
    bool inflate_failed = false;
    size_t pos = 0;
    while (pos < n && !d->error) {
        size_t len = step && step < n - pos ? step : n - pos;
        /* each piece in its own exact-size buffer: an over-read faults */
        uint8_t *piece = malloc(len);
        memcpy(piece, in + pos, len);
        size_t at = 0;
        while (at < len) {
            uw_ws_event ev;
            at += uw_ws_parse(&p, piece + at, len - at, &ev);
            if (ev.kind == UW_WS_EV_MORE) break;
            if (ev.kind == UW_WS_EV_ERROR) {
                d->error = ev.close_code;
                break;
            }
            uint8_t op = ev.opcode;
            if (ev.kind == UW_WS_EV_CONTROL) {
                d->h = fnv(d->h, "#", 1);
                d->h = fnv(d->h, &op, 1);
                d->h = fnv(d->h, ev.data, ev.len);
                d->h = fnv(d->h, &ev.close_code, sizeof ev.close_code);
                continue;
            }
            if (ev.compressed && f && !inflate_failed) {
                if (uw_ws_inflate(f, ev.data, ev.len, ev.message_end, sink, d) != UW_OK) {
                    inflate_failed = true;     /* a bad stream: like an error (1007) */
                    d->error = UW_WS_INVALID_DATA;
                    break;
                }
            } else if (!ev.compressed) {
                d->h = fnv(d->h, ev.data, ev.len);
            }
            if (ev.message_end) {
                d->h = fnv(d->h, "$", 1);
                d->h = fnv(d->h, &op, 1);
            }
        }
        free(piece);
        pos += len;
    }
    if (inflate_failed) d->h = fnv(d->h, "!", 1);
    uw_ws_inflater_free(f);
}

static bool differ(const digest *a, const digest *b)
{
    return a->error != b->error || (!a->error && a->h != b->h);
}

/* zlib accepts a match farther back than the negotiated window when
 * the bytes it copies are still in the output of the same inflate call,
 * so a peer that breaks its client_max_window_bits may be accepted whole
 * and refused in pieces.  Such a difference is allowed only if it goes
 * away with the largest window, which no deflate distance exceeds. */
static bool window_leniency(const uw_ws_parser_config *cfg, const uw_ws_pmd *pmd, const uint8_t *in,
                            size_t n, size_t step)
{
    if (!cfg->rsv1 || pmd->client_max_window_bits >= 15) return false;
    uw_ws_pmd wide = *pmd;
    wide.client_max_window_bits = 15;
    digest a, b;
    run(cfg, &wide, in, n, 0, &a);
    run(cfg, &wide, in, n, step, &b);
    return !differ(&a, &b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) return 0;
    uint8_t flags = data[0], step = data[1];
    data += 2;
    size -= 2;
    uw_ws_parser_config cfg = {
        .server = flags & 1, .rsv1 = flags & 2,
        .max_frame = flags & 4 ? 64 : 0, .max_message = flags & 4 ? 100 : 0,
    };
    uw_ws_pmd pmd = {
        .server_no_context_takeover = true, .client_no_context_takeover = flags & 8,
        .server_max_window_bits = 15, .client_max_window_bits = 9 + (flags >> 4) % 7,
    };
    digest whole, split;
    run(&cfg, &pmd, data, size, 0, &whole);
    run(&cfg, &pmd, data, size, step ? step : 1, &split);
    /* After an error only its code must agree: invalid UTF-8 fails as
     * soon as it is seen, so the data handed out before it follows the
     * splits. */
    if (differ(&whole, &split) && !window_leniency(&cfg, &pmd, data, size, step ? step : 1)) __builtin_trap();
    if (size <= 512) {
        run(&cfg, &pmd, data, size, 1, &split);
        if (differ(&whole, &split) && !window_leniency(&cfg, &pmd, data, size, 1)) __builtin_trap();
    }
    /* UTF-8: whole and byte by byte agree */
    uint32_t a = 0, b = 0;
    bool ok_a = uw_ws_utf8_feed(&a, data, size), ok_b = true;
    for (size_t i = 0; i < size && ok_b; i++) ok_b = uw_ws_utf8_feed(&b, data + i, 1);
    if (ok_a != ok_b || (ok_a && a != b)) __builtin_trap();
    return 0;
}
