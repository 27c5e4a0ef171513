/*
 * hvt_nx: data is never executable on hvt; jumping into a data buffer
 * faults and the tender stops the guest.
 * Expected: exit 139 and a page fault message; never SUCCESS.
 */
#include <stdint.h>
#include <stdio.h>
#include "uw_platform.h"

UW_PLAT_MANIFEST();

/* A single `ret` instruction in writable data. */
static volatile uint8_t code[16] = { 0xc3 };

int main(void)
{
    void (*fn)(void) = (void (*)(void))(uintptr_t)code;
    fn();
    printf("SUCCESS (ran code from data at %p)\n", (void *)code);
    return 0;
}
