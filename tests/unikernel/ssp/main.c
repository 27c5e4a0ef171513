/*
 * ssp: a stack buffer overflow is caught by the stack protector before
 * the function returns.  Expected: "stack smashing detected", status 255,
 * never SUCCESS.
 */
#include <stdio.h>
#include <string.h>
#include "uw_platform.h"

UW_PLAT_MANIFEST();

static void __attribute__((noinline)) copy(const char *src, size_t n)
{
    char buf[16];
    memcpy(buf, src, n);
    __asm__ __volatile__("" : : "r"(buf) : "memory");
}

int main(int argc, char **argv)
{
    static char big[256];
    (void)argv;
    memset(big, 'A', sizeof big);
    copy(big, 16 + 48 * (size_t)argc);   /* argc >= 1: overflows buf */
    puts("SUCCESS (the overflow went unnoticed)");
    return 0;
}
