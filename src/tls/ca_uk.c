/*
 * A client's trusted CAs on the unikernels: a PEM bundle on a block
 * device (the tender's --block:NAME=FILE), read whole.  There is no
 * system store: a client names its device or gives the PEM in memory.
 */
#include "tls_internal.h"
#include <uweb/block.h>

#include <stdio.h>

#define MAX_BUNDLE (4 * 1024 * 1024)

char *uw_tls__ca_read(const char *name, size_t *len, char *err, size_t errlen)
{
    if (!name) {
        if (err && errlen) snprintf(err, errlen, "no system CA store on this target: give a CA bundle (a block device or PEM in memory)");
        return NULL;
    }
    int status = 0;
    char *b = uw_block_slurp(name, MAX_BUNDLE, len, &status);
    if (!b && err && errlen) snprintf(err, errlen, "cannot read the CA bundle from block device %s: %s", name, uw_strerror(status));
    return b;
}
