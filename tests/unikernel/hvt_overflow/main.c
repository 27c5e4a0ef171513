/*
 * hvt_overflow: an address inside guest memory with a length that makes
 * address + length wrap around 2^64 must be caught by the tender's range
 * check (which would pass a naive `addr + len <= size`).
 * Expected: exit 139 and "bad address 0x200000"; never SUCCESS.
 */
#include <stdint.h>
#include <stdio.h>
#include "uw_platform.h"

UW_PLAT_MANIFEST();

int main(void)
{
    /* 0x200000 + (2^64 - 0x100000) wraps to 0x100000. */
    uw_plat_console_write((const char *)(uintptr_t)0x200000u,
                          (size_t)0 - 0x100000u);
    printf("SUCCESS (the tender accepted a wrapping length)\n");
    return 0;
}
