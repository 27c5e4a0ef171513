/*
 * SHA-256's compression function for mbedTLS (MBEDTLS_SHA256_PROCESS_ALT
 * in uw_mbedtls_config.h): the x86 SHA extensions when the CPU has them
 * (sha256_shani.c, compiled with -msha where the target allows SSE), else
 * portable C.  mbedTLS 3.6 accelerates SHA-256 on Arm only; on x86 its C
 * version costs about 15 cycles a byte plus a 296-byte zeroize per block,
 * and every block of a uweb image (src/image/reader.c) and every TLS
 * handshake hash goes through here.
 */
#include <mbedtls/build_info.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/sha256.h>
#include <stddef.h>
#include <stdint.h>

#include "sha256_process.h"
#include "uw_sha256.h"

#if defined(UW_SHA256_SHANI)
#include <cpuid.h>

/* CPUID leaf 7 EBX bit 29 (SHA), leaf 1 ECX bits 9 (SSSE3) and 19
 * (SSE4.1); asked once.  0 unknown, 1 yes, 2 no. */
static int uw_shani_state;

static int uw_shani(void)
{
    if (uw_shani_state == 0) {
        unsigned a, b, c, d, ok = 0;
        if (__get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 9)) && (c & (1u << 19)) &&
            __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & (1u << 29)))
            ok = 1;
        uw_shani_state = ok ? 1 : 2;
    }
    return uw_shani_state == 1;
}
#endif

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

const uint32_t *uw_sha256_k = K;

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void uw_sha256_block_c(uint32_t st[8], const unsigned char *p)
{
    uint32_t w[64], a = st[0], b = st[1], c = st[2], d = st[3], e = st[4], f = st[5], g = st[6], h = st[7];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    for (int i = 0; i < 64; i++) {
        uint32_t t1 = h + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i];
        uint32_t t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        h = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;
    }
    st[0] += a; st[1] += b; st[2] += c; st[3] += d; st[4] += e; st[5] += f; st[6] += g; st[7] += h;
    /* as mbedTLS's own: no message words left on the stack (HMAC keys) */
    mbedtls_platform_zeroize(w, sizeof w);
}

int mbedtls_internal_sha256_process(mbedtls_sha256_context *ctx, const unsigned char data[64])
{
#if defined(UW_SHA256_SHANI)
    if (uw_shani()) {
        uw_sha256_blocks_shani(ctx->MBEDTLS_PRIVATE(state), data, 1);
        return 0;
    }
#endif
    uw_sha256_block_c(ctx->MBEDTLS_PRIVATE(state), data);
    return 0;
}

int uw_mbedtls_sha256_update(mbedtls_sha256_context *ctx, const unsigned char *input, size_t ilen)
{
#if defined(UW_SHA256_SHANI)
    /* Only with no partial block buffered: the blocks then start at INPUT. */
    if (ilen >= 64 && (ctx->MBEDTLS_PRIVATE(total)[0] & 63) == 0 && uw_shani()) {
        size_t n = ilen / 64, done = n * 64;
        uw_sha256_blocks_shani(ctx->MBEDTLS_PRIVATE(state), input, n);
        uint64_t total = ((uint64_t)ctx->MBEDTLS_PRIVATE(total)[1] << 32 | ctx->MBEDTLS_PRIVATE(total)[0]) + done;
        ctx->MBEDTLS_PRIVATE(total)[0] = (uint32_t)total;
        ctx->MBEDTLS_PRIVATE(total)[1] = (uint32_t)(total >> 32);
        input += done;
        ilen -= done;
    }
#endif
    return ilen ? mbedtls_sha256_update(ctx, input, ilen) : 0;
}
