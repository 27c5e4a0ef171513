/*
 * The latency histogram (HdrHistogram's log-linear layout with a unit of
 * 1 µs) and SHA-256 (FIPS 180-4) for --expect-body-sha256.
 */
#include "bench.h"

#include <stdio.h>
#include <string.h>

void hist_init(hist *h)
{
    memset(h, 0, sizeof *h);
    h->min_us = UINT64_MAX;
}

size_t hist_index(uint64_t us)
{
    if (us > HIST_MAX_US) us = HIST_MAX_US;
    int bucket = 64 - __builtin_clzll(us | (2 * HIST_SUB_HALF - 1)) - (HIST_SUB_HALF_MAG + 1);
    uint64_t sub = us >> bucket;
    return ((size_t)(bucket + 1) << HIST_SUB_HALF_MAG) + (size_t)(sub - HIST_SUB_HALF);
}

uint64_t hist_value_at(size_t i)
{
    int bucket = (int)(i >> HIST_SUB_HALF_MAG) - 1;
    uint64_t sub = (i & (HIST_SUB_HALF - 1)) + HIST_SUB_HALF;
    if (bucket < 0) { bucket = 0; sub -= HIST_SUB_HALF; }
    return sub << bucket;
}

uint64_t hist_width_at(size_t i)
{
    int bucket = (int)(i >> HIST_SUB_HALF_MAG) - 1;
    return (uint64_t)1 << (bucket < 0 ? 0 : bucket);
}

void hist_record(hist *h, uint64_t us)
{
    h->counts[hist_index(us)]++;
    h->total++;
    h->sum_us += (double)us;
    if (us < h->min_us) h->min_us = us;
    if (us > h->max_us) h->max_us = us;
}

void hist_merge(hist *into, const hist *from)
{
    for (size_t i = 0; i < HIST_LEN; i++) into->counts[i] += from->counts[i];
    into->total += from->total;
    into->sum_us += from->sum_us;
    if (from->min_us < into->min_us) into->min_us = from->min_us;
    if (from->max_us > into->max_us) into->max_us = from->max_us;
}

uint64_t hist_percentile(const hist *h, double p)
{
    if (h->total == 0) return 0;
    uint64_t rank = (uint64_t)(p / 100.0 * (double)h->total + 0.5);
    if (rank < 1) rank = 1;
    if (rank > h->total) rank = h->total;
    uint64_t seen = 0;
    for (size_t i = 0; i < HIST_LEN; i++) {
        seen += h->counts[i];
        if (seen >= rank) {
            uint64_t v = hist_value_at(i) + hist_width_at(i) - 1;
            return v > h->max_us ? h->max_us : v < h->min_us ? h->min_us : v;
        }
    }
    return h->max_us;
}

/* ------------------------------------------------------------ SHA-256 */

static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void block(sha256 *s, const unsigned char *p)
{
    uint32_t w[64], a, b, c, d, e, f, g, h;
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    a = s->h[0]; b = s->h[1]; c = s->h[2]; d = s->h[3];
    e = s->h[4]; f = s->h[5]; g = s->h[6]; h = s->h[7];
    for (int i = 0; i < 64; i++) {
        uint32_t t1 = h + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i];
        uint32_t t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        h = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;
    }
    s->h[0] += a; s->h[1] += b; s->h[2] += c; s->h[3] += d;
    s->h[4] += e; s->h[5] += f; s->h[6] += g; s->h[7] += h;
}

void sha256_init(sha256 *s)
{
    static const uint32_t iv[8] = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                    0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 };
    memcpy(s->h, iv, sizeof iv);
    s->len = 0;
    s->n = 0;
}

void sha256_update(sha256 *s, const void *data, size_t n)
{
    const unsigned char *p = data;
    s->len += n;
    while (n > 0) {
        size_t k = 64 - s->n < n ? 64 - s->n : n;
        memcpy(s->buf + s->n, p, k);
        s->n += k;
        p += k;
        n -= k;
        if (s->n == 64) { block(s, s->buf); s->n = 0; }
    }
}

void sha256_hex(sha256 *s, char out[65])
{
    uint64_t bits = s->len * 8;
    unsigned char pad = 0x80, zero = 0, len[8];
    sha256_update(s, &pad, 1);
    while (s->n != 56) sha256_update(s, &zero, 1);
    for (int i = 0; i < 8; i++) len[i] = (unsigned char)(bits >> (56 - 8 * i));
    sha256_update(s, len, 8);
    for (int i = 0; i < 8; i++) snprintf(out + 8 * i, 9, "%08x", s->h[i]);
}
