/*
 * hvt_nullpage: page 0 is not mapped on hvt, so reading through a NULL
 * pointer faults and the tender stops the guest.
 * Expected: exit 139, "page fault address 0x0"; never SUCCESS.
 */
#include <stdint.h>
#include <stdio.h>
#include "uw_platform.h"

UW_PLAT_MANIFEST();

/* volatile: the compiler cannot see the NULL and must do the load. */
static volatile uintptr_t address;

int main(void)
{
    int value = *(volatile int *)address;
    printf("SUCCESS (read %d from address 0)\n", value);
    return 0;
}
