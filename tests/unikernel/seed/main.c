/*
 * seed: uw_plat_seed gives 32 bytes that are not all zero, the same
 * tender part for any size (a shorter call is a prefix unless the CPU's
 * part changed it: only checked on CPUs without RDSEED/RDRAND), and
 * refuses size 0, size > UW_PLAT_SEED_SIZE and NULL.  Prints
 * "seed: HEX" and SUCCESS; the runner boots it twice and compares the
 * seeds (two boots must differ).
 */
#include <stdio.h>
#include <string.h>
#include "uw_platform.h"

UW_PLAT_MANIFEST();

int main(void)
{
    uint8_t a[UW_PLAT_SEED_SIZE], big[UW_PLAT_SEED_SIZE + 1];
    int fails = 0;
    memset(a, 0, sizeof a);
    if (uw_plat_seed(a, sizeof a) != UW_PLAT_OK) {
        puts("uw_plat_seed(32) failed");
        fails++;
    }
    int zero = 1;
    for (size_t i = 0; i < sizeof a; i++)
        zero &= a[i] == 0;
    if (zero) {
        puts("the seed is all zero");
        fails++;
    }
    if (uw_plat_seed(big, 0) != UW_PLAT_EINVAL || uw_plat_seed(big, sizeof big) != UW_PLAT_EINVAL
        || uw_plat_seed(NULL, 8) != UW_PLAT_EINVAL) {
        puts("a bad size or NULL was not refused");
        fails++;
    }
    uint8_t one[1];
    if (uw_plat_seed(one, 1) != UW_PLAT_OK) {
        puts("uw_plat_seed(1) failed");
        fails++;
    }
    printf("seed: ");
    for (size_t i = 0; i < sizeof a; i++)
        printf("%02x", a[i]);
    printf("\n");
    if (fails)
        return 1;
    puts("SUCCESS");
    return 0;
}
