/*
 * hvt_wnox: code is never writable on hvt; a guest writing over its own
 * code faults and the tender stops it.
 * Expected: exit 139 and a page fault message; never SUCCESS.
 */
#include <stdint.h>
#include <stdio.h>
#include "uw_platform.h"

UW_PLAT_MANIFEST();

static volatile uintptr_t target;

int main(void)
{
    target = (uintptr_t)&main;
    *(volatile uint8_t *)target = 0xc3; /* ret */
    printf("SUCCESS (wrote over main at %#lx)\n", (unsigned long)target);
    return 0;
}
