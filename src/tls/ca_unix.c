/*
 * A client's trusted CAs on unix: a PEM file, or the system store
 * (Debian's bundle of /etc/ssl/certs, made by update-ca-certificates).
 */
#include "tls_internal.h"

#include <stdio.h>
#include <stdlib.h>

#define SYSTEM_STORE "/etc/ssl/certs/ca-certificates.crt"
#define MAX_BUNDLE (16 * 1024 * 1024)

char *uw_tls__ca_read(const char *name, size_t *len, char *err, size_t errlen)
{
    const char *path = name ? name : SYSTEM_STORE;
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (err && errlen) snprintf(err, errlen, "cannot read the CA file %s", path);
        return NULL;
    }
    size_t cap = 64 * 1024, n = 0, k;
    char *b = malloc(cap + 1);
    while (b && (k = fread(b + n, 1, cap - n, f)) > 0) {
        n += k;
        if (n == cap) {
            char *nb = cap < MAX_BUNDLE ? realloc(b, cap * 2 + 1) : NULL;
            if (!nb) { free(b); b = NULL; break; }
            b = nb;
            cap *= 2;
        }
    }
    bool bad = ferror(f);
    fclose(f);
    if (!b || bad) {
        free(b);
        if (err && errlen) snprintf(err, errlen, "cannot read the CA file %s", path);
        return NULL;
    }
    b[n] = 0;
    *len = n;
    return b;
}
