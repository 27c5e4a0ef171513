/*
 * double_free: freeing a block twice (small or large) is detected and
 * aborts the guest with a message instead of corrupting the heap.
 * argv[1] is the block size.  Expected: status 255, "heap corrupted",
 * never SUCCESS.
 */
#include <stdio.h>
#include <stdlib.h>
#include "uw_platform.h"

UW_PLAT_MANIFEST();

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 32;
    char *volatile p = malloc(n);
    char *volatile keep = malloc(16);   /* keeps p from merging into the rest */
    printf("freeing a %zu-byte block twice\n", n);
    free(p);
    free(p);
    free(keep);
    puts("SUCCESS (the second free went unnoticed)");
    return 0;
}
