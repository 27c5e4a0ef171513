/* uw_main on unix: certificates from files, HTTPS on 8443 by default. */
#include "web_internal.h"

#include <stdio.h>
#include <stdlib.h>

uint16_t uw__default_tls_port(void) { return 8443; }

char *uw__read_file(const char *path, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "cannot open %s", path);
        return NULL;
    }
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap) break;
        if (cap >= (size_t)1 << 24) {   /* no PEM file is 16 MiB */
            free(buf);
            buf = NULL;
            break;
        }
        char *b = realloc(buf, cap * 2);
        if (!b) { free(buf); buf = NULL; break; }
        buf = b;
        cap *= 2;
    }
    bool bad = ferror(f);
    fclose(f);
    if (!buf || bad) {
        free(buf);
        snprintf(err, errlen, "cannot read %s", path);
        return NULL;
    }
    *len = n;
    return buf;
}
