/* stdlib.c - conversions, sorting, process end, errno, time (contracts: stdlib.h, time.h). */
#include <stdlib.h>
#include <string.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <time.h>
#include "uw_platform.h"

int errno;

void abort(void)
{
    uw_plat_abort();
}

void exit(int status)
{
    fflush(stdout);
    uw_plat_exit(status);
}

void _Exit(int status)
{
    uw_plat_exit(status);
}

void uwc_assert_fail(const char *expr, const char *file, int line, const char *func)
{
    fprintf(stderr, "%s:%d: %s: assertion \"%s\" failed\n", file, line, func, expr);
    uw_plat_abort();
}

char *getenv(const char *name)
{
    (void)name;
    return NULL;
}

int abs(int x) { return x < 0 ? -x : x; }
long labs(long x) { return x < 0 ? -x : x; }
long long llabs(long long x) { return x < 0 ? -x : x; }

/*
 * The common parser: skips spaces, reads a sign and a number in BASE
 * (0: 0x.. hex, 0.. octal, else decimal) and saturates at MAX (the
 * magnitude limit, one more for a negative number when SIGNED_MIN).
 */
static unsigned long long parse(const char *s, char **end, int base, int *neg, int *overflow)
{
    const char *p = s;
    unsigned long long v = 0;
    int any = 0;
    *neg = 0;
    *overflow = 0;
    while (isspace((unsigned char)*p))
        p++;
    if (*p == '+' || *p == '-')
        *neg = *p++ == '-';
    if ((base == 0 || base == 16) && p[0] == '0' && (p[1] | 32) == 'x' && isxdigit((unsigned char)p[2])) {
        p += 2;
        base = 16;
    } else if (base == 0) {
        base = *p == '0' ? 8 : 10;
    }
    if (base < 2 || base > 36) {
        errno = EINVAL;
        if (end)
            *end = (char *)s;
        return 0;
    }
    for (;; p++) {
        int d;
        if (isdigit((unsigned char)*p))
            d = *p - '0';
        else if (isalpha((unsigned char)*p))
            d = (*p | 32) - 'a' + 10;
        else
            break;
        if (d >= base)
            break;
        any = 1;
        if (v > (ULLONG_MAX - (unsigned)d) / (unsigned)base)
            *overflow = 1;
        else
            v = v * (unsigned)base + (unsigned)d;
    }
    if (end)
        *end = (char *)(any ? p : s);
    return v;
}

unsigned long long strtoull(const char *s, char **end, int base)
{
    int neg, overflow;
    unsigned long long v = parse(s, end, base, &neg, &overflow);
    if (overflow) {
        errno = ERANGE;
        return ULLONG_MAX;
    }
    return neg ? -v : v;
}

unsigned long strtoul(const char *s, char **end, int base)
{
    return strtoull(s, end, base);   /* long is 64 bits */
}

long long strtoll(const char *s, char **end, int base)
{
    int neg, overflow;
    unsigned long long v = parse(s, end, base, &neg, &overflow);
    if (overflow || v > (unsigned long long)LLONG_MAX + neg) {
        errno = ERANGE;
        return neg ? LLONG_MIN : LLONG_MAX;
    }
    return neg ? (long long)-v : (long long)v;
}

long strtol(const char *s, char **end, int base)
{
    return strtoll(s, end, base);
}

int atoi(const char *s) { return (int)strtol(s, NULL, 10); }
long atol(const char *s) { return strtol(s, NULL, 10); }

static void swap_bytes(unsigned char *a, unsigned char *b, size_t size)
{
    while (size--) {
        unsigned char t = *a;
        *a++ = *b;
        *b++ = t;
    }
}

/* Heapsort: O(n log n) whatever the input, no recursion, no allocation. */
void qsort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
    unsigned char *a = base;
    if (n < 2 || size == 0)
        return;
    for (size_t start = n / 2; start-- > 0;) {
        size_t root = start, child;
        while ((child = 2 * root + 1) < n) {
            if (child + 1 < n && cmp(a + child * size, a + (child + 1) * size) < 0)
                child++;
            if (cmp(a + root * size, a + child * size) >= 0)
                break;
            swap_bytes(a + root * size, a + child * size, size);
            root = child;
        }
    }
    for (size_t end = n - 1; end > 0; end--) {
        swap_bytes(a, a + end * size, size);
        size_t root = 0, child;
        while ((child = 2 * root + 1) < end) {
            if (child + 1 < end && cmp(a + child * size, a + (child + 1) * size) < 0)
                child++;
            if (cmp(a + root * size, a + child * size) >= 0)
                break;
            swap_bytes(a + root * size, a + child * size, size);
            root = child;
        }
    }
}

void *bsearch(const void *key, const void *base, size_t n, size_t size,
              int (*cmp)(const void *, const void *))
{
    const unsigned char *a = base;
    while (n > 0) {
        const unsigned char *mid = a + (n / 2) * size;
        int c = cmp(key, mid);
        if (c == 0)
            return (void *)mid;
        if (c > 0) {
            a = mid + size;
            n -= n / 2 + 1;
        } else {
            n /= 2;
        }
    }
    return NULL;
}

static unsigned long long rand_state = 1;

void srand(unsigned seed) { rand_state = seed; }

int rand(void)
{
    rand_state = rand_state * 6364136223846793005ull + 1442695040888963407ull;
    return (int)(rand_state >> 33);
}

char *strerror(int e)
{
    switch (e) {
    case 0: return "Success";
    case ENOMEM: return "Out of memory";
    case EINVAL: return "Invalid argument";
    case ERANGE: return "Result out of range";
    case EAGAIN: return "Resource temporarily unavailable";
    case EIO: return "I/O error";
    case ENOSPC: return "No space left on device";
    case ETIMEDOUT: return "Connection timed out";
    case ECONNRESET: return "Connection reset by peer";
    case ECONNREFUSED: return "Connection refused";
    default: return "Unknown error";
    }
}

struct tm *gmtime_r(const time_t *t, struct tm *out)
{
    int64_t secs = (int64_t)*t, days = secs / 86400, rem = secs % 86400;
    if (rem < 0) rem += 86400, days--;
    out->tm_hour = (int)(rem / 3600);
    out->tm_min = (int)(rem / 60 % 60);
    out->tm_sec = (int)(rem % 60);
    out->tm_wday = (int)(((days + 4) % 7 + 7) % 7);   /* 1970-01-01 was a Thursday */
    /* Civil date from days since the epoch (H. Hinnant's algorithm). */
    int64_t z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = yoe + era * 400, doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153, d = doy - (153 * mp + 2) / 5 + 1, m = mp < 10 ? mp + 3 : mp - 9;
    if (m <= 2) y++;
    out->tm_mday = (int)d;
    out->tm_mon = (int)m - 1;
    out->tm_year = (int)(y - 1900);
    static const int before[12] = { 0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334 };
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    out->tm_yday = before[m - 1] + (int)d - 1 + (leap && m > 2);
    out->tm_isdst = 0;
    return out;
}

time_t time(time_t *out)
{
    time_t t = (time_t)(uw_plat_clock_wall() / 1000000000ull);
    if (out)
        *out = t;
    return t;
}

int clock_gettime(clockid_t clock, struct timespec *ts)
{
    uw_plat_time_t ns;
    if (clock == CLOCK_REALTIME)
        ns = uw_plat_clock_wall();
    else if (clock == CLOCK_MONOTONIC)
        ns = uw_plat_clock_monotonic();
    else {
        errno = EINVAL;
        return -1;
    }
    ts->tv_sec = (time_t)(ns / 1000000000ull);
    ts->tv_nsec = (long)(ns % 1000000000ull);
    return 0;
}
