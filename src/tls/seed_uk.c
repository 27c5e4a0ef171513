/*
 * The seed of uw_random on the unikernels (src/tls/seed.h): the platform's
 * seed (uw_plat_seed: the tender's fresh getrandom bytes for this boot,
 * mixed with RDSEED/RDRAND where the CPU has them).
 */
#include "seed.h"

#include <uw_platform.h>

int uw_tls__seed(unsigned char *buf, size_t n)
{
    return uw_plat_seed(buf, n) == UW_PLAT_OK ? 0 : -1;
}
