/*
 * Fuzz target of the sealed and signed cookie readers (cookie.h).
 *
 * Input: a cookie value as a client may send it.  It must never be
 * accepted (the key is random per run: only values made here are
 * authentic), and a value made here must come back whole.  A violation
 * traps.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <uweb/cookie.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool keyed;
    if (!keyed) {
        uint8_t k[32];
        for (int i = 0; i < 32; i++) k[i] = (uint8_t)(i * 37 + 11);
        uw_cookie_set_key(k, sizeof k);
        keyed = true;
    }
    char *in = malloc(size + 1), out[4096];
    if (!in) return 0;
    memcpy(in, data, size);
    in[size] = 0;
    for (int enc = 0; enc < 2; enc++)
        if (uw_cookie_unseal("sid", in, 1000, enc, out, sizeof out) >= 0) __builtin_trap();
    /* a value of the input's first printable bytes goes round */
    size_t n = 0;
    while (n < size && n < 200 && data[n] > 0x20 && data[n] < 0x7f && data[n] != ';' && data[n] != ',' && data[n] != '"' && data[n] != '\\') n++;
    char v[256], c[1024];
    memcpy(v, data, n);
    v[n] = 0;
    for (int enc = 0; enc < 2; enc++) {
        int k = uw_cookie_seal("sid", v, 0, enc, c, sizeof c);
        if (k < 0) __builtin_trap();
        if (uw_cookie_unseal("sid", c, 1000, enc, out, sizeof out) != (int)n || strcmp(out, v) != 0) __builtin_trap();
    }
    free(in);
    return 0;
}
