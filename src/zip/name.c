/* Entry names and times: sanitizing, extensions, DOS time. */
#include "zip_internal.h"

#include <string.h>

/* Length of the valid UTF-8 sequence at s[0..len), or 0 if invalid. */
static size_t utf8_sequence(const unsigned char *s, size_t len)
{
    unsigned c = s[0];
    size_t n;
    unsigned min;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF) { n = 2; min = 0x80; }
    else if (c >= 0xE0 && c <= 0xEF) { n = 3; min = 0x800; }
    else if (c >= 0xF0 && c <= 0xF4) { n = 4; min = 0x10000; }
    else return 0;
    if (len < n)
        return 0;
    unsigned cp = c & (0x7F >> n);
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

/*
 * One component at a time: split on '/' and '\\', drop "", "." and "..",
 * drop a drive letter ("C:") at the very start, replace control characters
 * and invalid UTF-8 by '_', cut components at ZIP_COMPONENT_MAX and the
 * whole at ZIP_NAME_MAX, both on a UTF-8 boundary.
 */
size_t zip_sanitize_name(const char *name, size_t len, char *out)
{
    const unsigned char *s = (const unsigned char *)name;
    size_t i = 0, o = 0;
    if (len >= 2 && ((s[0] | 0x20) >= 'a' && (s[0] | 0x20) <= 'z') && s[1] == ':')
        i = 2;
    while (i < len) {
        size_t start = i;
        while (i < len && s[i] != '/' && s[i] != '\\')
            i++;
        size_t clen = i - start;
        if (i < len)
            i++; /* the separator */
        if (clen == 0 || (clen == 1 && s[start] == '.') ||
            (clen == 2 && s[start] == '.' && s[start + 1] == '.'))
            continue;
        size_t mark = o;
        if (o > 0) {
            if (o + 1 > ZIP_NAME_MAX)
                break;
            out[o++] = '/';
        }
        size_t comp = 0;
        for (size_t k = start; k < start + clen;) {
            size_t n = utf8_sequence(s + k, start + clen - k);
            const unsigned char *src = s + k;
            unsigned char underscore = '_';
            if (n == 0 || (n == 1 && (s[k] < 0x20 || s[k] == 0x7F))) {
                src = &underscore;
                k += 1;
                n = 1;
            } else {
                k += n;
            }
            if (comp + n > ZIP_COMPONENT_MAX || o + n > ZIP_NAME_MAX)
                break;
            memcpy(out + o, src, n);
            o += n;
            comp += n;
        }
        if (comp == 0)
            o = mark;
        if (o >= ZIP_NAME_MAX)
            break;
    }
    out[o] = '\0';
    return o;
}

size_t zip_extension_start(const char *name, size_t len)
{
    size_t base = len;
    while (base > 0 && name[base - 1] != '/')
        base--;
    for (size_t i = len; i > base + 1; i--)
        if (name[i - 1] == '.')
            return i - 1 == len - 1 ? len : i - 1; /* "a." has no extension */
    return len;
}

/* Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm). */
static void civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t year = (int64_t)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int)(year + (*m <= 2));
}

void zip_dos_time(int64_t t, uint16_t *dos_time, uint16_t *dos_date)
{
    const int64_t min = 315532800;  /* 1980-01-01 00:00:00 */
    const int64_t max = 4354819198; /* 2107-12-31 23:59:58 */
    if (t < min)
        t = min;
    if (t > max)
        t = max;
    int64_t days = t / 86400, secs = t % 86400;
    int y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    *dos_date = (uint16_t)(((y - 1980) << 9) | (m << 5) | d);
    *dos_time = (uint16_t)(((secs / 3600) << 11) | (((secs / 60) % 60) << 5) | ((secs % 60) / 2));
}
