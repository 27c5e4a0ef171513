/*
 * The opening handshake's pieces without I/O: SHA-1 (our own: the
 * unikernels' TLS library is not always linked, and this is the only
 * hash the handshake needs), base64, the accept key, and
 * permessage-deflate's negotiation (RFC 7692 §7.1).
 */
#include <uweb/ws.h>
#include "../util/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t rol(uint32_t x, int n) { return x << n | x >> (32 - n); }

static void sha1_block(uint32_t h[5], const uint8_t *b)
{
    uint32_t w[80];
    for (int i = 0; i < 16; i++) w[i] = (uint32_t)b[4 * i] << 24 | b[4 * i + 1] << 16 | b[4 * i + 2] << 8 | b[4 * i + 3];
    for (int i = 16; i < 80; i++) w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
    uint32_t a = h[0], bb = h[1], c = h[2], d = h[3], e = h[4];
    for (int i = 0; i < 80; i++) {
        uint32_t f, k;
        if (i < 20) { f = (bb & c) | (~bb & d); k = 0x5a827999; }
        else if (i < 40) { f = bb ^ c ^ d; k = 0x6ed9eba1; }
        else if (i < 60) { f = (bb & c) | (bb & d) | (c & d); k = 0x8f1bbcdc; }
        else { f = bb ^ c ^ d; k = 0xca62c1d6; }
        uint32_t t = rol(a, 5) + f + e + k + w[i];
        e = d; d = c; c = rol(bb, 30); bb = a; a = t;
    }
    h[0] += a; h[1] += bb; h[2] += c; h[3] += d; h[4] += e;
}

void uw_ws_sha1(const void *data, size_t len, uint8_t out[20])
{
    uint32_t h[5] = { 0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0 };
    const uint8_t *p = data;
    size_t left = len;
    for (; left >= 64; p += 64, left -= 64) sha1_block(h, p);
    uint8_t tail[128] = { 0 };
    memcpy(tail, p, left);
    tail[left] = 0x80;
    size_t tl = left < 56 ? 64 : 128;
    uint64_t bits = (uint64_t)len * 8;
    for (int i = 0; i < 8; i++) tail[tl - 1 - i] = (uint8_t)(bits >> (8 * i));
    sha1_block(h, tail);
    if (tl == 128) sha1_block(h, tail + 64);
    for (int i = 0; i < 5; i++) {
        out[4 * i] = (uint8_t)(h[i] >> 24);
        out[4 * i + 1] = (uint8_t)(h[i] >> 16);
        out[4 * i + 2] = (uint8_t)(h[i] >> 8);
        out[4 * i + 3] = (uint8_t)h[i];
    }
}

void uw_ws_accept_key(const char *key, char out[29])
{
    static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    char buf[256];
    size_t kl = strlen(key);
    if (kl > sizeof buf - sizeof guid) kl = sizeof buf - sizeof guid;
    memcpy(buf, key, kl);
    memcpy(buf + kl, guid, sizeof guid - 1);
    uint8_t d[20];
    uw_ws_sha1(buf, kl + sizeof guid - 1, d);
    uw__b64_encode(d, 20, out, 29, 0);
}

/* ------------------------------------------------------------ permessage-deflate */

static const char *skip_ws(const char *s, const char *end)
{
    while (s < end && (*s == ' ' || *s == '\t')) s++;
    return s;
}

static bool token_is(const char *s, size_t n, const char *lit)
{
    size_t l = strlen(lit);
    if (n != l) return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
        if (c != lit[i]) return false;
    }
    return true;
}

/* A window-bits value, 8..15 (quoted or not); -1 when malformed. */
static int bits_value(const char *v, size_t n)
{
    if (n >= 2 && v[0] == '"' && v[n - 1] == '"') { v++; n -= 2; }
    if (n == 1 && v[0] >= '8' && v[0] <= '9') return v[0] - '0';
    if (n == 2 && v[0] == '1' && v[1] >= '0' && v[1] <= '5') return 10 + v[1] - '0';
    return -1;
}

/* One offer: "permessage-deflate; p1; p2=v".  True when acceptable. */
static bool offer(const char *s, const char *end, int client_bits, uw_ws_pmd *out, char *resp, size_t cap)
{
    s = skip_ws(s, end);
    const char *name = s;
    while (s < end && *s != ';' && *s != ' ' && *s != '\t') s++;
    if (!token_is(name, (size_t)(s - name), "permessage-deflate")) return false;
    uw_ws_pmd p = { .server_no_context_takeover = true, .server_max_window_bits = 15, .client_max_window_bits = 15 };
    bool seen[4] = { 0 }, client_bits_offered = false;
    for (;;) {
        s = skip_ws(s, end);
        if (s == end) break;
        if (*s != ';') return false;
        s = skip_ws(s + 1, end);
        const char *pn = s;
        while (s < end && *s != '=' && *s != ';' && *s != ' ' && *s != '\t') s++;
        size_t pl = (size_t)(s - pn);
        s = skip_ws(s, end);
        const char *pv = NULL;
        size_t vl = 0;
        if (s < end && *s == '=') {
            s = skip_ws(s + 1, end);
            pv = s;
            if (s < end && *s == '"') {
                s++;
                while (s < end && *s != '"') s++;
                if (s == end) return false;
                s++;
            } else {
                while (s < end && *s != ';' && *s != ' ' && *s != '\t') s++;
            }
            vl = (size_t)(s - pv);
        }
        int which;
        if (token_is(pn, pl, "server_no_context_takeover")) which = 0;
        else if (token_is(pn, pl, "client_no_context_takeover")) which = 1;
        else if (token_is(pn, pl, "server_max_window_bits")) which = 2;
        else if (token_is(pn, pl, "client_max_window_bits")) which = 3;
        else return false;                       /* unknown parameter: decline this offer */
        if (seen[which]) return false;           /* twice: decline */
        seen[which] = true;
        if (which <= 1 && pv) return false;
        if (which == 1) p.client_no_context_takeover = true;
        if (which == 2) {
            int b = pv ? bits_value(pv, vl) : -1;
            if (b < 9) return false;             /* zlib's raw deflate has no 8-bit window */
            p.server_max_window_bits = b;
        }
        if (which == 3) {
            client_bits_offered = true;
            if (pv) {
                int b = bits_value(pv, vl);
                if (b < 8) return false;
                if (b < p.client_max_window_bits) p.client_max_window_bits = b;
            }
        }
    }
    if (client_bits_offered && client_bits >= 9 && client_bits < p.client_max_window_bits)
        p.client_max_window_bits = client_bits;
    int n = snprintf(resp, cap, "permessage-deflate; server_no_context_takeover%s", p.client_no_context_takeover ? "; client_no_context_takeover" : "");
    if (n < 0 || (size_t)n >= cap) return false;
    size_t used = (size_t)n;
    if (seen[2]) {
        n = snprintf(resp + used, cap - used, "; server_max_window_bits=%d", p.server_max_window_bits);
        if (n < 0 || (size_t)n >= cap - used) return false;
        used += (size_t)n;
    }
    if (client_bits_offered && p.client_max_window_bits < 15) {
        n = snprintf(resp + used, cap - used, "; client_max_window_bits=%d", p.client_max_window_bits);
        if (n < 0 || (size_t)n >= cap - used) return false;
    }
    /* A client window of 8 bits is inflated with 9 (a larger window reads
     * any stream a smaller one wrote). */
    if (p.client_max_window_bits < 9) p.client_max_window_bits = 9;
    *out = p;
    return true;
}

bool uw_ws_pmd_negotiate(const char *const *values, size_t n, int client_bits,
                         uw_ws_pmd *out, char *resp, size_t cap)
{
    for (size_t i = 0; i < n; i++) {
        const char *s = values[i];
        while (*s) {
            /* offers are separated by commas outside quotes */
            const char *e = s;
            bool q = false;
            while (*e && (q || *e != ',')) {
                if (*e == '"') q = !q;
                e++;
            }
            if (offer(s, e, client_bits, out, resp, cap)) return true;
            s = *e ? e + 1 : e;
        }
    }
    return false;
}
