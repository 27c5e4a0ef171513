/* string.c - memory and string functions (contracts: string.h). */
#include <string.h>
#include <stdint.h>
#include <stdlib.h>
#include <ctype.h>

typedef uint64_t __attribute__((may_alias, aligned(1))) uwc_word;
typedef uint32_t __attribute__((may_alias, aligned(1))) uwc_word32;
typedef uint64_t __attribute__((may_alias)) uwc_aligned_word;

#define ONES 0x0101010101010101ull
#define HIGHS 0x8080808080808080ull
/* Non-zero when some byte of W is zero. */
#define HAS_ZERO(w) (((w) - ONES) & ~(w) & HIGHS)

/*
 * Small copies use overlapping word moves from both ends (no byte loop,
 * no branch per byte); mid sizes a 32-byte word loop plus an overlapping
 * tail; large ones `rep movsb`, which modern x86 runs at full speed.
 * Only general-purpose registers: hvt guests may have no SSE.
 */
void *memcpy(void *restrict dst, const void *restrict src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;
    if (n <= 16) {
        if (n >= 8) {
            uint64_t a = *(const uwc_word *)s, b = *(const uwc_word *)(s + n - 8);
            *(uwc_word *)d = a;
            *(uwc_word *)(d + n - 8) = b;
        } else if (n >= 4) {
            uint32_t a = *(const uwc_word32 *)s, b = *(const uwc_word32 *)(s + n - 4);
            *(uwc_word32 *)d = a;
            *(uwc_word32 *)(d + n - 4) = b;
        } else if (n) {
            unsigned char a = s[0], b = s[n / 2], c = s[n - 1];
            d[0] = a;
            d[n / 2] = b;
            d[n - 1] = c;
        }
        return dst;
    }
    if (n <= 32) {
        uint64_t a = *(const uwc_word *)s, b = *(const uwc_word *)(s + 8);
        uint64_t c = *(const uwc_word *)(s + n - 16), e = *(const uwc_word *)(s + n - 8);
        *(uwc_word *)d = a;
        *(uwc_word *)(d + 8) = b;
        *(uwc_word *)(d + n - 16) = c;
        *(uwc_word *)(d + n - 8) = e;
        return dst;
    }
    if (n < 512) {
        const unsigned char *end = s + n - 32;
        unsigned char *dend = d + n - 32;
        uint64_t t0 = *(const uwc_word *)end, t1 = *(const uwc_word *)(end + 8);
        uint64_t t2 = *(const uwc_word *)(end + 16), t3 = *(const uwc_word *)(end + 24);
        for (; s < end; s += 32, d += 32) {
            uint64_t a = *(const uwc_word *)s, b = *(const uwc_word *)(s + 8);
            uint64_t c = *(const uwc_word *)(s + 16), e = *(const uwc_word *)(s + 24);
            *(uwc_word *)d = a;
            *(uwc_word *)(d + 8) = b;
            *(uwc_word *)(d + 16) = c;
            *(uwc_word *)(d + 24) = e;
        }
        *(uwc_word *)dend = t0;
        *(uwc_word *)(dend + 8) = t1;
        *(uwc_word *)(dend + 16) = t2;
        *(uwc_word *)(dend + 24) = t3;
        return dst;
    }
    __asm__ __volatile__("rep movsb" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
    return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;
    if (d == s || n == 0)
        return dst;
    if ((uintptr_t)d - (uintptr_t)s >= n)    /* no overlap with d after s */
        return memcpy(dst, src, n);
    d += n;
    s += n;
    for (; n >= 8; n -= 8) {
        d -= 8;
        s -= 8;
        *(uwc_word *)d = *(const uwc_word *)s;
    }
    while (n--)
        *--d = *--s;
    return dst;
}

void *memset(void *dst, int c, size_t n)
{
    unsigned char *d = dst;
    if (n >= 256) {
        __asm__ __volatile__("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
        return dst;
    }
    uint64_t w = (unsigned char)c * 0x0101010101010101ull;
    for (; n >= 8; n -= 8, d += 8)
        *(uwc_word *)d = w;
    while (n--)
        *d++ = (unsigned char)c;
    return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const unsigned char *x = a, *y = b;
    for (; n >= 8; n -= 8, x += 8, y += 8)
        if (*(const uwc_word *)x != *(const uwc_word *)y)
            break;
    for (; n; n--, x++, y++)
        if (*x != *y)
            return *x - *y;
    return 0;
}

void *memchr(const void *s, int c, size_t n)
{
    const unsigned char *p = s;
    for (; n; n--, p++)
        if (*p == (unsigned char)c)
            return (void *)p;
    return NULL;
}

void *memrchr(const void *s, int c, size_t n)
{
    const unsigned char *p = (const unsigned char *)s + n;
    while (n--)
        if (*--p == (unsigned char)c)
            return (void *)p;
    return NULL;
}

void *memmem(const void *hay, size_t hlen, const void *needle, size_t nlen)
{
    const unsigned char *h = hay, *n = needle;
    if (nlen == 0)
        return (void *)h;
    for (; hlen >= nlen; h++, hlen--) {
        if (*h == *n && memcmp(h, n, nlen) == 0)
            return (void *)h;
    }
    return NULL;
}

/*
 * A word at a time once aligned: an aligned 8-byte read never crosses
 * into another page, so reading past the terminator within it is safe.
 */
size_t strlen(const char *s)
{
    const char *p = s;
    for (; (uintptr_t)p % 8; p++)
        if (!*p)
            return (size_t)(p - s);
    const uwc_aligned_word *w = (const uwc_aligned_word *)p;
    while (!HAS_ZERO(*w))
        w++;
    for (p = (const char *)w; *p; p++)
        ;
    return (size_t)(p - s);
}

size_t strnlen(const char *s, size_t max)
{
    const char *p = memchr(s, 0, max);
    return p ? (size_t)(p - s) : max;
}

int strcmp(const char *a, const char *b)
{
    for (; *a && *a == *b; a++, b++)
        ;
    return (unsigned char)*a - (unsigned char)*b;
}

int strncmp(const char *a, const char *b, size_t n)
{
    for (; n && *a && *a == *b; n--, a++, b++)
        ;
    return n ? (unsigned char)*a - (unsigned char)*b : 0;
}

int strcasecmp(const char *a, const char *b)
{
    for (; *a && tolower((unsigned char)*a) == tolower((unsigned char)*b); a++, b++)
        ;
    return tolower((unsigned char)*a) - tolower((unsigned char)*b);
}

int strncasecmp(const char *a, const char *b, size_t n)
{
    for (; n && *a && tolower((unsigned char)*a) == tolower((unsigned char)*b); n--, a++, b++)
        ;
    return n ? tolower((unsigned char)*a) - tolower((unsigned char)*b) : 0;
}

char *strchr(const char *s, int c)
{
    for (;; s++) {
        if (*s == (char)c)
            return (char *)s;
        if (!*s)
            return NULL;
    }
}

char *strrchr(const char *s, int c)
{
    const char *last = NULL;
    for (;; s++) {
        if (*s == (char)c)
            last = s;
        if (!*s)
            return (char *)last;
    }
}

char *strstr(const char *hay, const char *needle)
{
    return memmem(hay, strlen(hay), needle, strlen(needle));
}

char *strcpy(char *restrict dst, const char *restrict src)
{
    return memcpy(dst, src, strlen(src) + 1);
}

char *strncpy(char *restrict dst, const char *restrict src, size_t n)
{
    size_t len = strnlen(src, n);
    memcpy(dst, src, len);
    memset(dst + len, 0, n - len);
    return dst;
}

char *strcat(char *restrict dst, const char *restrict src)
{
    strcpy(dst + strlen(dst), src);
    return dst;
}

char *strncat(char *restrict dst, const char *restrict src, size_t n)
{
    char *d = dst + strlen(dst);
    size_t len = strnlen(src, n);
    memcpy(d, src, len);
    d[len] = 0;
    return dst;
}

size_t strlcpy(char *restrict dst, const char *restrict src, size_t size)
{
    size_t len = strlen(src);
    if (size) {
        size_t n = len < size - 1 ? len : size - 1;
        memcpy(dst, src, n);
        dst[n] = 0;
    }
    return len;
}

size_t strspn(const char *s, const char *accept)
{
    const char *p = s;
    while (*p && strchr(accept, *p))
        p++;
    return (size_t)(p - s);
}

size_t strcspn(const char *s, const char *reject)
{
    const char *p = s;
    while (*p && !strchr(reject, *p))
        p++;
    return (size_t)(p - s);
}

char *strpbrk(const char *s, const char *accept)
{
    s += strcspn(s, accept);
    return *s ? (char *)s : NULL;
}

char *stpcpy(char *restrict dst, const char *restrict src)
{
    size_t n = strlen(src);
    memcpy(dst, src, n + 1);
    return dst + n;
}

char *stpncpy(char *restrict dst, const char *restrict src, size_t n)
{
    size_t len = strnlen(src, n);
    memcpy(dst, src, len);
    memset(dst + len, 0, n - len);
    return dst + len;
}

void *mempcpy(void *restrict dst, const void *restrict src, size_t n)
{
    return (char *)memcpy(dst, src, n) + n;
}

int bcmp(const void *a, const void *b, size_t n)
{
    return memcmp(a, b, n);
}

char *strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    return d ? memcpy(d, s, n) : NULL;
}

char *strndup(const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    char *d = malloc(len + 1);
    if (!d)
        return NULL;
    memcpy(d, s, len);
    d[len] = 0;
    return d;
}
