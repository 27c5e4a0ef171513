/*
 * abort: abort() ends the guest with a non-zero status (255) and the rest
 * of main never runs.  Expected: status 255, no SUCCESS.
 */
#include <stdio.h>
#include <stdlib.h>
#include "uw_platform.h"

UW_PLAT_MANIFEST();

int main(void)
{
    puts("aborting");
    abort();
    puts("SUCCESS (abort returned)");
    return 0;
}
