/* Entry names and times: sanitizing, extensions, DOS time. */
#include "zip_internal.h"

#include <string.h>

/*
 * One component at a time: split on '/' and '\\', drop a drive letter
 * ("C:") at the very start, replace control characters and invalid UTF-8
 * by '_', drop bidirectional controls, normalize the first
 * ZIP_COMPONENT_IN bytes of that to NFC and cut the result at
 * ZIP_COMPONENT_MAX bytes, drop it if it is "", "." or "..", and cut the
 * whole at ZIP_NAME_MAX; cuts fall on a UTF-8 boundary.  (NFC never makes
 * a '/', '\\', '.' or control character out of anything else: checked by
 * unicode_tables.py.)
 */
size_t zip_sanitize_name(const char *name, size_t len, char *out, uint32_t *work, size_t work_cap)
{
    const unsigned char *s = (const unsigned char *)name;
    char comp[ZIP_COMPONENT_IN];
    size_t i = 0, o = 0;
    if (len >= 2 && ((s[0] | 0x20) >= 'a' && (s[0] | 0x20) <= 'z') && s[1] == ':')
        i = 2;
    while (i < len && o < ZIP_NAME_MAX) {
        size_t start = i;
        while (i < len && s[i] != '/' && s[i] != '\\')
            i++;
        size_t end = i;
        if (i < len)
            i++; /* the separator */
        size_t cl = 0;
        for (size_t k = start; k < end;) {
            uint32_t cp;
            size_t n = zip_utf8_decode(s + k, end - k, &cp);
            const unsigned char *src = s + k;
            if (n == 0 || cp < 0x20 || cp == 0x7F) {
                src = (const unsigned char *)"_";
                n = 1;
                k += 1;
            } else {
                k += n;
                if (zip_is_bidi_control(cp))
                    continue;
            }
            if (cl + n > ZIP_COMPONENT_IN)
                break;
            memcpy(comp + cl, src, n);
            cl += n;
        }
        size_t at = o ? o + 1 : 0;
        size_t room = ZIP_NAME_MAX - at < ZIP_COMPONENT_MAX ? ZIP_NAME_MAX - at : ZIP_COMPONENT_MAX;
        size_t n = zip_nfc(comp, cl, out + at, room, work, work_cap);
        if (n == 0 || (n == 1 && out[at] == '.') || (n == 2 && out[at] == '.' && out[at + 1] == '.'))
            continue;
        if (o)
            out[o] = '/';
        o = at + n;
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
