/* The unikernels have no files: the ACME client's state lives on the block
 * device acme (store_block.c), --acme-dir finds nothing and stores
 * nothing. */
#include "acme_internal.h"

#include <stdio.h>

char *acme_file_read(const char *dir, const char *file, size_t *len)
{
    (void)dir, (void)file, (void)len;
    return NULL;
}

int acme_file_write(const char *dir, const char *file, const char *data, size_t len, bool secret, char *why,
                    size_t n)
{
    (void)dir, (void)file, (void)data, (void)len, (void)secret;
    snprintf(why, n, "no files on this target: --block:acme=FILE (64 KiB) keeps the state instead of --acme-dir");
    return UW_EINVAL;
}
