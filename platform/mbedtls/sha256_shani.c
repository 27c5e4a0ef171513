/*
 * SHA-256 blocks with the x86 SHA extensions (SHA256RNDS2, SHA256MSG1/2):
 * four rounds per pair of RNDS2, the message schedule four words at a
 * time.  Compiled with -msha -mssse3 -msse4.1 (platform/mbedtls/build.mk);
 * sha256_process.c calls it only on a CPU that has them.
 */
#include "sha256_process.h"

#if defined(UW_SHA256_SHANI)
#include <immintrin.h>

/* Rounds 4i..4i+3 with message words m; ABEF in s0, CDGH in s1. */
#define QROUND(i, m)                                                                  \
    do {                                                                              \
        __m128i w_ = _mm_add_epi32(m, _mm_loadu_si128((const __m128i *)(k + 4 * (i)))); \
        s1 = _mm_sha256rnds2_epu32(s1, s0, w_);                                       \
        w_ = _mm_shuffle_epi32(w_, 0x0e);                                             \
        s0 = _mm_sha256rnds2_epu32(s0, s1, w_);                                       \
    } while (0)

/* The next four schedule words into next, from cur and prev (W[t-7] by
 * alignr; next already holds sigma0 terms from MSG1). */
#define SCHED2(next, cur, prev) \
    next = _mm_sha256msg2_epu32(_mm_add_epi32(next, _mm_alignr_epi8(cur, prev, 4)), cur)

void uw_sha256_blocks_shani(uint32_t state[8], const unsigned char *data, size_t n)
{
    const uint32_t *k = uw_sha256_k;
    const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
    __m128i t = _mm_loadu_si128((const __m128i *)&state[0]);  /* DCBA */
    __m128i s1 = _mm_loadu_si128((const __m128i *)&state[4]); /* HGFE */
    t = _mm_shuffle_epi32(t, 0xb1);                           /* CDAB */
    s1 = _mm_shuffle_epi32(s1, 0x1b);                         /* EFGH */
    __m128i s0 = _mm_alignr_epi8(t, s1, 8);                   /* ABEF */
    s1 = _mm_blend_epi16(s1, t, 0xf0);                        /* CDGH */

    for (; n; n--, data += 64) {
        __m128i save0 = s0, save1 = s1;
        __m128i m0 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(data + 0)), bswap);
        __m128i m1 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(data + 16)), bswap);
        __m128i m2 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(data + 32)), bswap);
        __m128i m3 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(data + 48)), bswap);

        QROUND(0, m0);
        QROUND(1, m1); m0 = _mm_sha256msg1_epu32(m0, m1);
        QROUND(2, m2); m1 = _mm_sha256msg1_epu32(m1, m2);
        QROUND(3, m3); SCHED2(m0, m3, m2); m2 = _mm_sha256msg1_epu32(m2, m3);
        QROUND(4, m0); SCHED2(m1, m0, m3); m3 = _mm_sha256msg1_epu32(m3, m0);
        QROUND(5, m1); SCHED2(m2, m1, m0); m0 = _mm_sha256msg1_epu32(m0, m1);
        QROUND(6, m2); SCHED2(m3, m2, m1); m1 = _mm_sha256msg1_epu32(m1, m2);
        QROUND(7, m3); SCHED2(m0, m3, m2); m2 = _mm_sha256msg1_epu32(m2, m3);
        QROUND(8, m0); SCHED2(m1, m0, m3); m3 = _mm_sha256msg1_epu32(m3, m0);
        QROUND(9, m1); SCHED2(m2, m1, m0); m0 = _mm_sha256msg1_epu32(m0, m1);
        QROUND(10, m2); SCHED2(m3, m2, m1); m1 = _mm_sha256msg1_epu32(m1, m2);
        QROUND(11, m3); SCHED2(m0, m3, m2); m2 = _mm_sha256msg1_epu32(m2, m3);
        QROUND(12, m0); SCHED2(m1, m0, m3); m3 = _mm_sha256msg1_epu32(m3, m0);
        QROUND(13, m1); SCHED2(m2, m1, m0);
        QROUND(14, m2); SCHED2(m3, m2, m1);
        QROUND(15, m3);

        s0 = _mm_add_epi32(s0, save0);
        s1 = _mm_add_epi32(s1, save1);
    }

    t = _mm_shuffle_epi32(s0, 0x1b);        /* FEBA */
    s1 = _mm_shuffle_epi32(s1, 0xb1);       /* DCHG */
    s0 = _mm_blend_epi16(t, s1, 0xf0);      /* DCBA */
    s1 = _mm_alignr_epi8(s1, t, 8);         /* HGFE */
    _mm_storeu_si128((__m128i *)&state[0], s0);
    _mm_storeu_si128((__m128i *)&state[4], s1);
}
#else
/* (nothing on this target: sha256_process.c uses portable C) */
typedef int uw_sha256_shani_unused;
#endif
