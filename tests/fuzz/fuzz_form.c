/*
 * Fuzz target of the urlencoded form decoder (form.h) and the
 * Accept-Encoding chooser of compression on the fly (compress.h).
 *
 * Input: a form body.  Every decoded name and value must lie in the arena
 * and the count stay within the limit; the same bytes as an
 * Accept-Encoding value must give a coding among those offered.  A
 * violation traps.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <uweb/compress.h>
#include <uweb/form.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uw_arena a;
    uw_arena_init(&a, 4096, 1 << 24);
    uw_form f;
    const char *why = "";
    uw_form_limits lim = { .max_fields = 64, .max_field_bytes = 1024 };
    int r = uw_form_parse(&a, (const char *)data, size, &lim, &f, &why);
    if (r == UW_OK) {
        if (f.n > 64) __builtin_trap();
        for (size_t i = 0; i < f.n; i++) {
            if (strlen(f.names[i]) > 1024 || f.value_lens[i] > 1024) __builtin_trap();
            if (uw_form_get(&f, f.names[i]) == NULL) __builtin_trap();
        }
    } else if (!why || !*why) {
        __builtin_trap();
    }
    uw_arena_fini(&a);

    char *ae = malloc(size + 1);
    if (!ae) return 0;
    memcpy(ae, data, size);
    ae[size] = 0;
    unsigned offered = 1u << UW_ENC_GZIP;
    int c = uw_compress_choose(ae, offered);
    if (c != UW_ENC_IDENTITY && c != UW_ENC_GZIP) __builtin_trap();
    c = uw_compress_choose(ae, offered | 1u << UW_ENC_BR);
    if (c < UW_ENC_IDENTITY || c > UW_ENC_BR) __builtin_trap();
    (void)uw_compress_type_ok(ae, NULL);
    free(ae);
    return 0;
}
