/*
 * Fuzz target of the ZIP writer's entry names (sanitizing, NFC, duplicate
 * detection).
 *
 * Input: entry names separated by '\n' (at most 64), written as entries
 * of one archive.  Every name the writer gives must be safe to extract:
 * valid UTF-8 in NFC, no control or bidi control characters, no '\\',
 * relative, no "", "." or ".." component, within the length limits, and
 * no two names may match (equal keys: case-folded, normalized) nor one
 * be a directory of another.  Each input name that is valid UTF-8 also
 * checks NFC itself: NFC(NFC(x)) = NFC(x) and x, NFC(x) have one key.
 * A violation traps.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "uweb/zip.h"
#include "../../src/zip/zip_internal.h"

#define MAX_NAMES 64
#define CHECK_MAX 4096      /* input names up to this long check NFC itself */

static int count_sink(void *ctx, const void *buf, size_t len)
{
    (void)buf;
    *(uint64_t *)ctx += len;
    return 0;
}

static int valid_utf8(const char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t k = zip_utf8_decode((const unsigned char *)s + i, n - i, &cp);
        if (!k)
            return 0;
        i += k;
    }
    return 1;
}

static uint32_t *key_of(const char *s, size_t n, size_t *kn)
{
    uint32_t *k = malloc(ZIP_WORK_CPS(n) * sizeof *k);
    if (!k)
        __builtin_trap();
    *kn = zip_name_key(s, n, k, ZIP_WORK_CPS(n));
    return k;
}

/* NFC of s into a new buffer (3 bytes out per byte in at most). */
static char *nfc_of(const char *s, size_t n, size_t *out_len)
{
    char *out = malloc(3 * n + 1);
    uint32_t *work = malloc(ZIP_WORK_CPS(n) * sizeof *work);
    if (!out || !work)
        __builtin_trap();
    *out_len = zip_nfc(s, n, out, 3 * n, work, ZIP_WORK_CPS(n));
    free(work);
    return out;
}

static void check_nfc_itself(const char *s, size_t n)
{
    if (n > CHECK_MAX || !valid_utf8(s, n))
        return;
    size_t a, b, ka, kb;
    char *once = nfc_of(s, n, &a);
    char *twice = nfc_of(once, a, &b);
    if (a != b || memcmp(once, twice, a) != 0)
        __builtin_trap();
    uint32_t *k1 = key_of(s, n, &ka), *k2 = key_of(once, a, &kb);
    if (ka != kb || memcmp(k1, k2, ka * sizeof *k1) != 0)
        __builtin_trap();
    free(once);
    free(twice);
    free(k1);
    free(k2);
}

static void check_safe(const char *n)
{
    size_t len = strlen(n);
    if (len == 0 || len > ZIP_NAME_MAX + ZIP_SUFFIX_MAX || n[0] == '/' || n[len - 1] == '/' ||
        !valid_utf8(n, len) || strchr(n, '\\'))
        __builtin_trap();
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t k = zip_utf8_decode((const unsigned char *)n + i, len - i, &cp);
        if (cp < 0x20 || cp == 0x7F || zip_is_bidi_control(cp))
            __builtin_trap();
        i += k;
    }
    for (const char *c = n; c;) {
        const char *end = strchr(c, '/');
        size_t cl = end ? (size_t)(end - c) : strlen(c);
        if (cl == 0 || cl > ZIP_COMPONENT_MAX + ZIP_SUFFIX_MAX || (cl == 1 && c[0] == '.') ||
            (cl == 2 && c[0] == '.' && c[1] == '.'))
            __builtin_trap();
        c = end ? end + 1 : NULL;
    }
    size_t m;
    char *again = nfc_of(n, len, &m);
    if (m != len || memcmp(again, n, len) != 0)
        __builtin_trap();
    free(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint64_t bytes = 0;
    uw_zip *z;
    if (uw_zip_new(&z, NULL, count_sink, &bytes) != UW_ZIP_OK)
        return 0;
    uint32_t *keys[MAX_NAMES];
    size_t klen[MAX_NAMES], count = 0;
    const char *s = (const char *)data, *end = s + size;
    while (count < MAX_NAMES && s <= end) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        size_t n = nl ? (size_t)(nl - s) : (size_t)(end - s);
        check_nfc_itself(s, n);
        if (uw_zip_entry_begin(z, s, n, 0, 0) != UW_ZIP_OK || uw_zip_entry_end(z) != UW_ZIP_OK)
            __builtin_trap();
        const char *name = uw_zip_entry_name(z);
        check_safe(name);
        keys[count] = key_of(name, strlen(name), &klen[count]);
        count++;
        if (!nl)
            break;
        s = nl + 1;
    }
    for (size_t i = 0; i < count; i++)
        for (size_t j = 0; j < count; j++)
            if (i != j && (klen[i] == klen[j] || (klen[i] < klen[j] && keys[j][klen[i]] == '/')) &&
                memcmp(keys[i], keys[j], klen[i] * sizeof keys[i][0]) == 0)
                __builtin_trap();
    if (uw_zip_finish(z) != UW_ZIP_OK)
        __builtin_trap();
    uw_zip_free(z);
    for (size_t i = 0; i < count; i++)
        free(keys[i]);
    return 0;
}
