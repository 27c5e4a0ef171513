/*
 * hvt_stack: unbounded recursion runs into the unmapped guard page below
 * the stack and the tender reports a stack overflow, instead of the stack
 * silently overwriting the heap.
 * Expected: exit 139 and "stack overflow"; never SUCCESS.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "uw_platform.h"

UW_PLAT_MANIFEST();

/* Never 0 in practice; the compiler cannot know, so it keeps the calls. */
static volatile unsigned limit = 1000000;

/* 4 KiB per call, every byte written: no page of the stack is skipped. */
static unsigned depth(volatile const char *caller, unsigned n)
{
    volatile char frame[4096];
    if (n == limit)
        return n;
    memset((char *)frame, (int)caller[0], sizeof frame);
    return depth(frame, n + 1) + frame[100];
}

int main(int argc, char **argv)
{
    (void)argc;
    unsigned n = depth(argv[0], 0);
    printf("SUCCESS (recursion ended at %u)\n", n);
    return 0;
}
