/*
 * permessage-deflate's streams (RFC 7692 §7.2) on zlib, without I/O:
 * raw deflate, the 00 00 ff ff tail of a sync flush taken off each sent
 * message and put back at the end of each received one.
 *
 * zlib's inflate accepts a match reaching farther back than the
 * negotiated client window when the bytes are still in the output of the
 * same call: a client that breaks its client_max_window_bits may be
 * accepted or refused (1007) depending on how its frames were cut.  It
 * costs no memory; the window allocated is the negotiated one.
 */
#include <uweb/ws.h>

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define CHUNK 16384

struct uw_ws_inflater {
    z_stream z;
    bool live;                  /* inflateInit2 done */
    bool reset;                 /* client_no_context_takeover: a fresh stream per message */
    bool ended;                 /* this message's stream had its final block */
    int bits;
};

uw_ws_inflater *uw_ws_inflater_new(const uw_ws_pmd *pmd)
{
    uw_ws_inflater *f = calloc(1, sizeof *f);
    if (!f) return NULL;
    f->reset = pmd->client_no_context_takeover;
    f->bits = pmd->client_max_window_bits < 9 ? 9 : pmd->client_max_window_bits;
    return f;
}

void uw_ws_inflater_idle(uw_ws_inflater *f)
{
    if (f && f->live && f->reset) {
        inflateEnd(&f->z);
        f->live = false;
    }
}

void uw_ws_inflater_free(uw_ws_inflater *f)
{
    if (!f) return;
    if (f->live) inflateEnd(&f->z);
    free(f);
}

static int run_inflate(uw_ws_inflater *f, const uint8_t *in, size_t len, uw_ws_sink sink, void *arg)
{
    uint8_t out[CHUNK];
    f->z.next_in = (Bytef *)in;
    f->z.avail_in = (uInt)len;
    do {
        f->z.next_out = out;
        f->z.avail_out = sizeof out;
        int r = inflate(&f->z, Z_SYNC_FLUSH);
        if (r == Z_MEM_ERROR) return UW_ENOMEM;
        /* Z_STREAM_END: a final block (RFC 7692 §7.2.3.4 allows BFINAL);
         * nothing may follow it in this message, and the next message
         * begins a fresh stream. */
        if (r != Z_OK && r != Z_BUF_ERROR && r != Z_STREAM_END) return UW_EPROTO;
        size_t got = sizeof out - f->z.avail_out;
        if (got) {
            int s = sink(arg, out, got);
            if (s != UW_OK) return s;
        }
        if (r == Z_STREAM_END) {
            if (f->z.avail_in) return UW_EPROTO;
            inflateReset(&f->z);
            f->ended = true;
            return UW_OK;
        }
        if (r == Z_BUF_ERROR && got == 0) break;
    } while (f->z.avail_in > 0 || f->z.avail_out == 0);
    return UW_OK;
}

int uw_ws_inflate(uw_ws_inflater *f, const uint8_t *in, size_t len, bool message_end,
                  uw_ws_sink sink, void *arg)
{
    if (!f->live) {
        memset(&f->z, 0, sizeof f->z);
        if (inflateInit2(&f->z, -f->bits) != Z_OK) return UW_ENOMEM;
        f->live = true;
    }
    if (f->ended && len) return UW_EPROTO;
    int r = len ? run_inflate(f, in, len, sink, arg) : UW_OK;
    if (r == UW_OK && message_end && f->ended) {
        f->ended = false;       /* no sync flush tail after a final block */
    } else if (r == UW_OK && message_end) {
        static const uint8_t tail[4] = { 0x00, 0x00, 0xff, 0xff };
        r = run_inflate(f, tail, 4, sink, arg);
        if (r == UW_OK && f->reset) inflateReset(&f->z);
    }
    return r;
}

int uw_ws_deflate_message(const uw_ws_pmd *pmd, int level, const void *in, size_t len,
                          uw_ws_sink sink, void *arg)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    int bits = pmd->server_max_window_bits < 9 ? 9 : pmd->server_max_window_bits;
    /* memLevel by window: small windows, small hash tables */
    int mem = bits >= 15 ? 8 : bits - 6;
    if (deflateInit2(&z, level, Z_DEFLATED, -bits, mem, Z_DEFAULT_STRATEGY) != Z_OK) return UW_ENOMEM;
    uint8_t out[CHUNK];
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)len;
    /* Keep the last 4 output bytes back: the message ends without the
     * sync flush's 00 00 ff ff. */
    uint8_t held[4];
    size_t nheld = 0;
    int r = UW_OK;
    for (;;) {
        z.next_out = out;
        z.avail_out = sizeof out;
        int zr = deflate(&z, Z_SYNC_FLUSH);
        if (zr != Z_OK && zr != Z_BUF_ERROR) { r = UW_ENOMEM; break; }
        size_t got = sizeof out - z.avail_out;
        if (got) {
            /* emit held + out, keeping the last 4 bytes back */
            size_t total = nheld + got;
            if (total > 4) {
                size_t emit = total - 4;
                size_t from_held = emit < nheld ? emit : nheld;
                if (from_held && (r = sink(arg, held, from_held)) != UW_OK) break;
                size_t from_out = emit - from_held;
                if (from_out && (r = sink(arg, out, from_out)) != UW_OK) break;
                uint8_t keep[4];
                size_t k = 0;
                for (size_t i = from_held; i < nheld; i++) keep[k++] = held[i];
                for (size_t i = from_out; i < got; i++) keep[k++] = out[i];
                memcpy(held, keep, k);
                nheld = k;
            } else {
                memcpy(held + nheld, out, got);
                nheld = total;
            }
        }
        if (z.avail_in == 0 && z.avail_out != 0) break;
    }
    deflateEnd(&z);
    return r;
}
