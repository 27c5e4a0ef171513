/*
 * Unicode for entry names: UTF-8, NFC and the keys names are compared by.
 * The tables come from the Unicode Character Database at build time
 * (src/zip/unicode_tables.py -> zip_unicode_tables.h in the build
 * directory); this code needs no libc locale and runs freestanding.
 *
 * While a string is worked on, each code point is kept with its canonical
 * combining class in the top bits (class << 21 | code point), so sorting
 * and composing never look the class up twice.
 */
#include "zip_internal.h"
#include "zip_unicode_tables.h"

#include <string.h>

_Static_assert(UNI_EXPAND_NUM * 2 <= 3 * UNI_EXPAND_DEN,
               "ZIP_WORK_CPS allows 3 code points per 2 bytes");

#define CP_MASK 0x1FFFFFu
#define PACK(cp, cc) ((uint32_t)(cc) << 21 | (cp))
#define CCC_OF(v) (((v) >> 21) & 0xFF)
#define SPECIAL 0x80000000u     /* work entry from a code point that may fold */

/* Hangul syllables (Unicode 15, section 3.12) */
#define S_BASE 0xAC00u
#define L_BASE 0x1100u
#define V_BASE 0x1161u
#define T_BASE 0x11A7u
#define L_COUNT 19u
#define V_COUNT 21u
#define T_COUNT 28u
#define N_COUNT (V_COUNT * T_COUNT)
#define S_COUNT (L_COUNT * N_COUNT)

size_t zip_utf8_decode(const unsigned char *s, size_t len, uint32_t *cp)
{
    unsigned c = s[0];
    size_t n;
    uint32_t min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF) { n = 2; min = 0x80; }
    else if (c >= 0xE0 && c <= 0xEF) { n = 3; min = 0x800; }
    else if (c >= 0xF0 && c <= 0xF4) { n = 4; min = 0x10000; }
    else return 0;
    if (len < n)
        return 0;
    uint32_t v = c & (0x7F >> n);
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        v = (v << 6) | (s[i] & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    *cp = v;
    return n;
}

size_t zip_utf8_encode(uint32_t cp, char *out)
{
    unsigned char *o = (unsigned char *)out;
    if (cp < 0x80) {
        o[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (unsigned char)(0xC0 | cp >> 6);
        o[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (unsigned char)(0xE0 | cp >> 12);
        o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (unsigned char)(0xF0 | cp >> 18);
    o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

int zip_is_bidi_control(uint32_t cp)
{
    /* Bidi_Control in PropList.txt */
    return cp == 0x061C || cp == 0x200E || cp == 0x200F || (cp >= 0x202A && cp <= 0x202E) ||
           (cp >= 0x2066 && cp <= 0x2069);
}

/* Index of the last entry of a sorted table whose key (entry >> shift) is
 * at most key, or -1. */
#define LAST_AT_MOST(table, count, shift, key, out) do { \
    size_t lo_ = 0, hi_ = (count); \
    while (lo_ < hi_) { \
        size_t mid_ = (lo_ + hi_) / 2; \
        if (((table)[mid_] >> (shift)) <= (key)) lo_ = mid_ + 1; else hi_ = mid_; \
    } \
    (out) = (long)lo_ - 1; \
} while (0)

/* Whether cp is in one of the ranges (start << 11 | (length - 1)). */
static int in_ranges(const uint32_t *table, size_t count, uint32_t cp)
{
    long i;
    LAST_AT_MOST(table, count, 11, cp, i);
    return i >= 0 && cp - (table[i] >> 11) <= (table[i] & 0x7FF);
}

static unsigned ccc(uint32_t cp)
{
    long i;
    if (cp < UNI_CCC_FIRST)
        return 0;
    LAST_AT_MOST(uni_ccc, UNI_CCC_COUNT, 11, cp, i);
    if (i < 0)
        return 0;
    uint32_t w = uni_ccc[i];
    return cp - (w >> 11) <= ((w >> 8) & 7) ? w & 0xFF : 0;
}

static uint32_t fold(uint32_t cp)
{
    long i;
    if (cp < 0x80)
        return cp >= 'A' && cp <= 'Z' ? cp + 32 : cp;
    LAST_AT_MOST(uni_fold, UNI_FOLD_COUNT, 43, (uint64_t)cp, i);
    if (i < 0)
        return cp;
    uint64_t w = uni_fold[i];
    uint32_t start = (uint32_t)(w >> 43), count = (uint32_t)((w >> 33) & 0x3FF) + 1;
    uint32_t stride = (uint32_t)((w >> 32) & 1) + 1, off = cp - start;
    if (off % stride || off / stride >= count)
        return cp;
    return (uint32_t)((int32_t)cp + (int32_t)(uint32_t)w);
}

/* The full canonical decomposition of cp into out (at most 4). */
static size_t decompose(uint32_t cp, uint32_t *out)
{
    if (cp - S_BASE < S_COUNT) {
        uint32_t s = cp - S_BASE, t = s % T_COUNT;
        out[0] = L_BASE + s / N_COUNT;
        out[1] = V_BASE + (s % N_COUNT) / T_COUNT;
        if (!t)
            return 2;
        out[2] = T_BASE + t;
        return 3;
    }
    long i = -1;
    if (cp >= UNI_DECOMP_FIRST)
        LAST_AT_MOST(uni_decomp, UNI_DECOMP_COUNT, 42, (uint64_t)cp, i);
    if (i < 0 || (uni_decomp[i] >> 42) != cp) {
        out[0] = cp;
        return 1;
    }
    uint32_t first = (uint32_t)(uni_decomp[i] >> 21) & CP_MASK, second = (uint32_t)uni_decomp[i] & CP_MASK;
    size_t n = decompose(first, out);
    return second ? n + decompose(second, out + n) : n;
}

/* The primary composite of a + b, or 0. */
static uint32_t compose_pair(uint32_t a, uint32_t b)
{
    if (a - L_BASE < L_COUNT && b - V_BASE < V_COUNT)
        return S_BASE + ((a - L_BASE) * V_COUNT + (b - V_BASE)) * T_COUNT;
    if (a - S_BASE < S_COUNT && (a - S_BASE) % T_COUNT == 0 && b - T_BASE - 1 < T_COUNT - 1)
        return a + (b - T_BASE);
    if (b < UNI_COMP_SECOND_MIN)
        return 0;
    uint64_t key = (uint64_t)a << 21 | b;
    size_t lo = 0, hi = UNI_COMP_COUNT;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        uint64_t w = uni_decomp[uni_comp[mid]];
        uint64_t k = w & (((uint64_t)1 << 42) - 1);
        if (k == key)
            return (uint32_t)(w >> 42);
        if (k < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

/* Canonical ordering: a stable sort of each run of non-starters by class.
 * Runs are short (a component is at most ZIP_COMPONENT_MAX bytes). */
static void reorder(uint32_t *b, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        uint32_t x = b[i];
        unsigned c = CCC_OF(x);
        if (!c)
            continue;
        size_t j = i;
        while (j > 0 && CCC_OF(b[j - 1]) > c) {
            b[j] = b[j - 1];
            j--;
        }
        b[j] = x;
    }
}

/* The canonical decomposition of s[0..len) (valid UTF-8) into work, in
 * canonical order; returns its length (cut at cap).  Entries of code
 * points that decompose (Hangul syllables too), fold or combine carry
 * SPECIAL. */
static size_t nfd(const char *s, size_t len, uint32_t *work, size_t cap)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t n = 0;
    int marks = 0;
    for (size_t i = 0; i < len;) {
        uint32_t cp, d[4];
        size_t k = zip_utf8_decode(u + i, len - i, &cp);
        if (!k) { /* not for sanitized input; taken as U+FFFD */
            cp = 0xFFFD;
            k = 1;
        }
        i += k;
        if (cp < 0x80 || (cp - S_BASE >= S_COUNT && !in_ranges(uni_special, UNI_SPECIAL_COUNT, cp))) {
            if (n + 1 > cap)
                break;
            work[n++] = cp >= 'A' && cp <= 'Z' ? cp | SPECIAL : cp;
            continue;
        }
        size_t m = decompose(cp, d);
        if (n + m > cap)
            break;
        for (size_t j = 0; j < m; j++) {
            unsigned c = ccc(d[j]);
            marks |= c != 0;
            work[n++] = PACK(d[j], c) | SPECIAL;
        }
    }
    if (marks)
        reorder(work, n);
    return n;
}

/* Whether s (valid UTF-8) is NFC as it is: no code point that NFC could
 * change or reorder (the quick check of UAX #15, with Maybe as No). */
static int quick_nfc(const unsigned char *s, size_t len)
{
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t k = zip_utf8_decode(s + i, len - i, &cp);
        if (!k || (cp >= UNI_CCC_FIRST && in_ranges(uni_not_quick, UNI_NOT_QUICK_COUNT, cp)))
            return 0;
        i += k;
    }
    return 1;
}

size_t zip_nfc(const char *s, size_t len, char *out, size_t cap, uint32_t *work, size_t work_cap)
{
    if (quick_nfc((const unsigned char *)s, len)) {
        size_t o = len;
        if (o > cap) /* cut before the code point that does not fit */
            for (o = cap; o > 0 && ((unsigned char)s[o] & 0xC0) == 0x80; o--)
                ;
        memmove(out, s, o);
        return o;
    }
    size_t n = nfd(s, len, work, work_cap);
    size_t w = 0, starter = SIZE_MAX;
    unsigned last = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t v = work[i] & ~SPECIAL;
        unsigned c = CCC_OF(v);
        if (starter != SIZE_MAX && (w == starter + 1 || last < c)) {
            uint32_t comp = compose_pair(work[starter] & CP_MASK, v & CP_MASK);
            if (comp) {
                work[starter] = PACK(comp, 0);
                continue;
            }
        }
        if (!c)
            starter = w;
        last = c;
        work[w++] = v;
    }
    size_t o = 0;
    for (size_t i = 0; i < w; i++) {
        char enc[4];
        size_t k = zip_utf8_encode(work[i] & CP_MASK, enc);
        if (o + k > cap)
            break;
        memcpy(out + o, enc, k);
        o += k;
    }
    return o;
}

size_t zip_name_key(const char *s, size_t len, uint32_t *key, size_t cap)
{
    size_t n = nfd(s, len, key, cap);
    int changed = 0;
    for (size_t i = 0; i < n; i++) {
        if (!(key[i] & SPECIAL))
            continue;
        key[i] &= ~SPECIAL;
        uint32_t cp = key[i] & CP_MASK, f = fold(cp);
        if (f == cp)
            continue;
        /* a code point that does not decompose folds to one that does not
         * either (checked by unicode_tables.py) */
        unsigned c = ccc(f);
        changed |= c != CCC_OF(key[i]);
        key[i] = PACK(f, c);
    }
    if (changed) /* U+0345 folds to U+03B9, a starter */
        reorder(key, n);
    return n;
}
