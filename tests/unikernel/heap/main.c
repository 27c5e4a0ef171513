/*
 * heap: malloc returns NULL (errno ENOMEM) when the heap the tender gave
 * is used up, never aborts; everything freed can be allocated again;
 * realloc keeps contents; aligned allocation is aligned; size overflows
 * are refused.  Run with --mem=8: the heap is about 8 MiB minus the 1 MiB
 * stack and the image.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "uw_platform.h"

UW_PLAT_MANIFEST();

#define CHUNK (64 * 1024)
#define MAX_CHUNKS 4096

static void *chunks[MAX_CHUNKS];
static int failures;
#define EXPECT(cond, what) do { if (!(cond)) { printf("FAILURE: %s\n", what); failures++; } } while (0)

int main(void)
{
    volatile size_t huge = SIZE_MAX;   /* hidden from the compiler's own checks */
    errno = 0;
    EXPECT(malloc(huge) == NULL && errno == ENOMEM, "malloc(SIZE_MAX) did not fail with ENOMEM");
    EXPECT(calloc(huge / 2, 4) == NULL, "calloc with an overflowing size succeeded");

    char *s = malloc(10);
    EXPECT(s != NULL, "malloc(10)");
    memcpy(s, "0123456789", 10);
    s = realloc(s, 100000);
    EXPECT(s && memcmp(s, "0123456789", 10) == 0, "realloc lost the contents");
    free(s);
    void *a = NULL;
    EXPECT(posix_memalign(&a, 4096, 100) == 0 && ((uintptr_t)a & 4095) == 0, "posix_memalign(4096)");
    free(a);

    size_t n = 0;
    errno = 0;
    while (n < MAX_CHUNKS && (chunks[n] = malloc(CHUNK)) != NULL) {
        memset(chunks[n], (int)n, CHUNK);   /* the memory is really there */
        n++;
    }
    size_t total = n * CHUNK;
    printf("allocated %zu KiB before malloc returned NULL\n", total / 1024);
    EXPECT(n < MAX_CHUNKS, "the heap never ran out");
    EXPECT(errno == ENOMEM, "errno is not ENOMEM after the heap ran out");
    EXPECT(total > 5 * 1024 * 1024 && total < 8 * 1024 * 1024, "heap size not what --mem=8 gives");
    EXPECT(malloc(CHUNK) == NULL, "a second attempt succeeded");
    for (size_t i = 0; i < n; i++) {
        if (((unsigned char *)chunks[i])[CHUNK - 1] != (unsigned char)i) {
            printf("FAILURE: chunk %zu overwritten\n", i);
            failures++;
            break;
        }
    }
    for (size_t i = 0; i < n; i += 2)
        free(chunks[i]);
    for (size_t i = 1; i < n; i += 2)
        free(chunks[i]);
    /* All merged back: one block of nearly everything fits again. */
    void *big = malloc(total - CHUNK);
    EXPECT(big != NULL, "after freeing everything, a large block does not fit");
    free(big);
    if (failures)
        return 1;
    puts("SUCCESS");
    return 0;
}
