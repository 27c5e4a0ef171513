/*
 * hvt_badaddr: a guest that hands the tender an address outside its
 * memory must be stopped with a message, not crash or fool the tender.
 * Expected: exit 139 and "bad address" from uweb-hvt; never SUCCESS.
 */
#include <stdint.h>
#include <stdio.h>
#include "uw_platform.h"

UW_PLAT_MANIFEST();

int main(void)
{
    /* 2 GiB: far above the 32 MiB this test runs with. */
    uw_plat_console_write((const char *)(uintptr_t)0x80000000u, 16);
    printf("SUCCESS (the tender wrote memory the guest does not have)\n");
    return 0;
}
