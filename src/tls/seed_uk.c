/*
 * The seed of uw_random on the unikernels (src/tls/seed.h).
 *
 * RDSEED (else RDRAND) where cpuid has them, each 64-bit word checked
 * (the carry flag) and retried a bounded number of times.  The tender's
 * fresh getrandom seed (the platform ABI's seed call) is to be mixed in
 * here once the ABI has it; until then a CPU without either instruction
 * has no seed, and uw_random fails (UW_EIO) rather than make weak keys.
 */
#include "seed.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

static void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
    __asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(sub));
}

static bool rdseed64(uint64_t *v)
{
    for (int i = 0; i < 100; i++) {
        unsigned char ok;
        __asm__ volatile("rdseed %0; setc %1" : "=r"(*v), "=qm"(ok) : : "cc");
        if (ok) return true;
        __asm__ volatile("pause");
    }
    return false;
}

static bool rdrand64(uint64_t *v)
{
    for (int i = 0; i < 10; i++) {
        unsigned char ok;
        __asm__ volatile("rdrand %0; setc %1" : "=r"(*v), "=qm"(ok) : : "cc");
        if (ok) return true;
    }
    return false;
}

int uw_tls__seed(unsigned char *buf, size_t n)
{
    uint32_t r[4];
    cpuid(0, 0, r);
    uint32_t max = r[0];
    cpuid(1, 0, r);
    bool has_rdrand = r[2] & (1u << 30);
    bool has_rdseed = false;
    if (max >= 7) {
        cpuid(7, 0, r);
        has_rdseed = r[1] & (1u << 18);
    }
    if (!has_rdrand && !has_rdseed) return -1;
    for (size_t off = 0; off < n; off += 8) {
        uint64_t v;
        if (!(has_rdseed && rdseed64(&v)) && !(has_rdrand && rdrand64(&v))) return -1;
        size_t k = n - off < 8 ? n - off : 8;
        memcpy(buf + off, &v, k);
    }
    return 0;
}
