/*
 * seed.c - uw_plat_seed() for every target (contract: uw_platform.h):
 * the tender's seed, kept by the bindings' start code, XORed with the
 * CPU's RDSEED (else RDRAND) output where cpuid has them.  General
 * registers only: fine in hvt guests built with -mgeneral-regs-only.
 */
#include <string.h>
#include "guest.h"

static uint8_t tender_seed[UW_PLAT_SEED_SIZE];

void uw_guest_set_seed(const uint8_t *seed)
{
    memcpy(tender_seed, seed, sizeof tender_seed);
}

static void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
    __asm__ __volatile__("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
                         : "a"(leaf), "c"(sub));
}

/* One 64-bit word from RDSEED (else RDRAND), retried a bounded number of
 * times (the carry flag says whether it delivered); 0 when neither did. */
static int cpu_word(int has_rdseed, int has_rdrand, uint64_t *v)
{
    unsigned char ok;
    for (int i = 0; has_rdseed && i < 64; i++) {
        __asm__ __volatile__("rdseed %0; setc %1" : "=r"(*v), "=qm"(ok) : : "cc");
        if (ok)
            return 1;
        __asm__ __volatile__("pause");
    }
    for (int i = 0; has_rdrand && i < 10; i++) {
        __asm__ __volatile__("rdrand %0; setc %1" : "=r"(*v), "=qm"(ok) : : "cc");
        if (ok)
            return 1;
    }
    return 0;
}

uw_plat_result_t uw_plat_seed(uint8_t *buf, size_t size)
{
    if (!buf || size == 0 || size > UW_PLAT_SEED_SIZE)
        return UW_PLAT_EINVAL;
    uint32_t r[4];
    cpuid(0, 0, r);
    uint32_t max = r[0];
    cpuid(1, 0, r);
    int has_rdrand = (r[2] >> 30) & 1;
    int has_rdseed = 0;
    if (max >= 7) {
        cpuid(7, 0, r);
        has_rdseed = (r[1] >> 18) & 1;
    }
    uint8_t out[UW_PLAT_SEED_SIZE];
    memcpy(out, tender_seed, sizeof out);
    for (size_t off = 0; off < sizeof out; off += 8) {
        uint64_t v, w;
        if (!cpu_word(has_rdseed, has_rdrand, &v))
            continue;
        memcpy(&w, out + off, 8);
        w ^= v;
        memcpy(out + off, &w, 8);
    }
    memcpy(buf, out, size);
    memset(out, 0, sizeof out);
    return UW_PLAT_OK;
}
