/* uw_main on the unikernels: no file system (certificates come from the
 * app's block device), HTTPS on 443 by default. */
#include "web_internal.h"

#include <stdio.h>

uint16_t uw__default_tls_port(void) { return 443; }

char *uw__read_file(const char *path, size_t *len, char *err, size_t errlen)
{
    (void)len;
    snprintf(err, errlen, "%s: a unikernel has no files (its certificate comes from a block device)", path);
    return NULL;
}
