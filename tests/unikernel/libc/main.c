/*
 * libc: the guest libc's answers are the C standard's: snprintf
 * conversions and truncation, strtol family edge cases, string and memory
 * functions (overlapping moves, around the sizes where the copy strategy
 * changes), qsort/bsearch, ctype; and the heap survives a long random mix
 * of malloc/realloc/free (argv[1] operations, default 20000) with every
 * block's contents intact, then gives back its largest block again.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include "uw_platform.h"

UW_PLAT_MANIFEST();

static int failures;
#define EXPECT(cond, what) do { if (!(cond)) { printf("FAILURE: %s (line %d)\n", what, __LINE__); failures++; } } while (0)

static char buf[256];
#define FMT(want, ...) do { int n_ = snprintf(buf, sizeof buf, __VA_ARGS__); \
    if (strcmp(buf, want) != 0 || n_ != (int)strlen(want)) { \
        printf("FAILURE: snprintf(%s) gave \"%s\" (%d), expected \"%s\"\n", #__VA_ARGS__, buf, n_, want); \
        failures++; } } while (0)

static void test_format(void)
{
    FMT("-2147483648 2147483647", "%d %i", INT_MIN, INT_MAX);
    FMT("[   42|42   |00042|+42| 42]", "[%5d|%-5d|%05d|%+d|% d]", 42, 42, 42, 42, 42);
    FMT("ff FF 0xff 17 017 0", "%x %X %#x %o %#o %#x", 255u, 255u, 255u, 15u, 15u, 0u);
    FMT("18446744073709551615 -9223372036854775808", "%lu %lld", ULONG_MAX, LLONG_MIN);
    FMT("123 -5 44 7", "%zu %zd %hhd %hu", (size_t)123, (ssize_t)-5, 300, 65543);
    FMT("0x1234 (null) abc|  abc|x|%", "%p %s %.3s|%5.3s|%c|%%", (void *)0x1234, (char *)NULL,
        "abcdef", "abcdef", 'x');
    FMT("00042 -0042   0042", "%.5d %.4d %6.4d", 42, -42, 42);
    FMT("[    7] [7    ]", "[%*d] [%-*d]", 5, 7, 5, 7);
    int n = snprintf(buf, 5, "hello world");
    EXPECT(n == 11 && strcmp(buf, "hell") == 0, "snprintf truncation");
    EXPECT(snprintf(NULL, 0, "%d", 12345) == 5, "snprintf(NULL, 0) counts");
    char small[1] = { 'z' };
    EXPECT(snprintf(small, 1, "abc") == 3 && small[0] == 0, "snprintf into 1 byte");
}

static void test_strto(void)
{
    char *end;
    EXPECT(strtol("  -42xyz", &end, 10) == -42 && *end == 'x', "strtol -42xyz");
    EXPECT(strtol("0x1f", NULL, 0) == 31 && strtol("0777", NULL, 0) == 511, "strtol base 0");
    EXPECT(strtol("z", NULL, 36) == 35 && strtoul("ff", NULL, 16) == 255, "strtol bases");
    errno = 0;
    EXPECT(strtol("99999999999999999999", NULL, 10) == LONG_MAX && errno == ERANGE, "strtol overflow");
    errno = 0;
    EXPECT(strtol("-9223372036854775808", NULL, 10) == LONG_MIN && errno == 0, "strtol LONG_MIN");
    errno = 0;
    EXPECT(strtol("-9223372036854775809", NULL, 10) == LONG_MIN && errno == ERANGE, "strtol underflow");
    EXPECT(strtoul("-1", NULL, 10) == ULONG_MAX, "strtoul -1");
    const char *abc = "abc";
    EXPECT(strtol(abc, &end, 10) == 0 && end == abc, "strtol with no digits");
    EXPECT(atoi("  17 ") == 17, "atoi");
}

static void test_string(void)
{
    static unsigned char a[1200], b[1200];
    static const size_t sizes[] = { 0, 1, 7, 8, 9, 31, 255, 256, 257, 1000 };
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        size_t n = sizes[k];
        for (size_t i = 0; i < sizeof a; i++)
            a[i] = (unsigned char)(i * 13 + 1);
        memcpy(b, a, sizeof a);
        memmove(a + 3, a, n);                  /* forward overlap */
        int ok = memcmp(a + 3, b, n) == 0;
        memcpy(a, b, sizeof a);
        memmove(a, a + 5, n);                  /* backward overlap */
        ok = ok && memcmp(a, b + 5, n) == 0 && memcmp(a + n, b + n, sizeof a - n) == 0;
        memset(a + 1, 0xab, n);
        for (size_t i = 1; i <= n; i++)
            ok = ok && a[i] == 0xab;
        ok = ok && a[n + 1] == b[n + 1];
        if (!ok) {
            printf("FAILURE: memmove/memset of %zu bytes\n", n);
            failures++;
        }
    }
    /* memcpy and strlen at every size to 80, then sizes to 600, and every
     * alignment to 8,
     * against a byte loop: each size class of the copy and each position
     * of the terminator within a word. */
    static unsigned char src[700], dst[700];
    for (size_t i = 0; i < sizeof src; i++)
        src[i] = (unsigned char)(i * 31 + 7) | 1;
    int copy_ok = 1, len_ok = 1;
    for (size_t n = 0; n <= 600; n += n < 80 ? 1 : 37) {
        for (size_t al = 0; al < 8; al++) {
            memset(dst, 0, al + n + 8);
            memcpy(dst + al, src + (n + al) % 8, n);
            for (size_t i = 0; i < al + n + 8; i++) {
                unsigned char want = i >= al && i < al + n ? src[(n + al) % 8 + i - al] : 0;
                if (dst[i] != want)
                    copy_ok = 0;
            }
            src[al + n] = 0;
            if (strlen((const char *)src + al) != n)
                len_ok = 0;
            src[al + n] = (unsigned char)((al + n) * 31 + 7) | 1;
        }
    }
    EXPECT(copy_ok, "memcpy differs from a byte copy");
    EXPECT(len_ok, "strlen miscounts");
    EXPECT(memcmp("abc", "abd", 3) < 0 && memcmp("b", "a", 1) > 0 && memcmp("\xff", "\x01", 1) > 0,
           "memcmp order is unsigned");
    EXPECT(strcmp("abc", "abcd") < 0 && strncmp("abcx", "abcy", 3) == 0, "strcmp/strncmp");
    EXPECT(strcasecmp("Content-Length", "content-length") == 0, "strcasecmp");
    const char *s = "path/to/file.txt";
    EXPECT(strrchr(s, '/') == s + 7 && strchr(s, 0) == s + 16 && strstr(s, "file") == s + 8
           && strstr(s, "nope") == NULL, "strchr/strrchr/strstr");
    char d[8];
    strncpy(d, "ab", sizeof d);
    EXPECT(d[1] == 'b' && d[2] == 0 && d[7] == 0, "strncpy pads with zeros");
    EXPECT(strlcpy(d, "0123456789", sizeof d) == 10 && strcmp(d, "0123456") == 0, "strlcpy truncates");
    char e[16];
    EXPECT(stpcpy(e, "abc") == e + 3 && strcmp(e, "abc") == 0, "stpcpy");
    EXPECT(stpncpy(e, "ab", 4) == e + 2 && e[3] == 0 && (char *)mempcpy(e, "xy", 2) == e + 2
           && e[0] == 'x' && bcmp("ab", "ab", 2) == 0 && bcmp("ab", "ac", 2) != 0,
           "stpncpy/mempcpy/bcmp");
    EXPECT(strspn("aab", "a") == 2 && strcspn("abc:", ":") == 3, "strspn/strcspn");
    EXPECT(isdigit('7') && !isdigit('a') && isxdigit('F') && isspace('\n') && !isspace('x')
           && toupper('q') == 'Q' && tolower('Q') == 'q' && ispunct('!') && !isalpha('1'), "ctype");
}

static int cmp_int(const void *x, const void *y)
{
    int a = *(const int *)x, b = *(const int *)y;
    return (a > b) - (a < b);
}

static void test_sort(void)
{
    static int v[1000];
    unsigned x = 7;
    for (int i = 0; i < 1000; i++) {
        x = x * 1103515245u + 12345u;
        v[i] = (int)(x >> 8) % 5000 - 2500;
    }
    qsort(v, 1000, sizeof v[0], cmp_int);
    int sorted = 1;
    for (int i = 1; i < 1000; i++)
        sorted = sorted && v[i - 1] <= v[i];
    EXPECT(sorted, "qsort");
    int key = v[500], missing = 99999;
    int *hit = bsearch(&key, v, 1000, sizeof v[0], cmp_int);
    EXPECT(hit && *hit == key && bsearch(&missing, v, 1000, sizeof v[0], cmp_int) == NULL, "bsearch");
}

/* The largest single block malloc gives now (to 4 KiB). */
static size_t largest_block(void)
{
    size_t lo = 0, hi = (size_t)1 << 40;
    while (hi - lo > 4096) {
        size_t mid = lo + (hi - lo) / 2;
        void *p = malloc(mid);
        if (p) {
            free(p);
            lo = mid;
        } else {
            hi = mid;
        }
    }
    return lo;
}

#define SLOTS 512
struct slot { unsigned char *p; size_t n; unsigned char tag; };
static struct slot slots[SLOTS];

/* Writes (or checks, below LIMIT) TAG at the start, the end and every
 * 4 KiB of S. */
static int stamp_below(const struct slot *s, int check, size_t limit)
{
    for (size_t i = 0; i < s->n; i += (i < 16 || i + 16 >= s->n) ? 1 : 4096) {
        unsigned char want = (unsigned char)(s->tag + i);
        if (i >= limit)
            break;
        if (check && s->p[i] != want)
            return 0;
        s->p[i] = want;
    }
    return 1;
}

static int stamp(const struct slot *s, int check)
{
    return stamp_below(s, check, s->n);
}

static void test_heap(long ops)
{
    size_t before = largest_block();
    unsigned x = 99;
    long corrupt = 0, oom = 0;
    for (long op = 0; op < ops; op++) {
        x = x * 1103515245u + 12345u;
        struct slot *s = &slots[(x >> 8) % SLOTS];
        x = x * 1103515245u + 12345u;
        size_t n = (x >> 16) % 4 == 0 ? (x >> 4) % 70000 : (x >> 4) % 300;
        if (s->p && !stamp(s, 1))
            corrupt++;
        if (s->p && (x & 3) == 0) {
            free(s->p);
            s->p = NULL;
        } else if (s->p && (x & 3) == 1) {
            unsigned char *q = realloc(s->p, n + 1);
            if (!q) {
                oom++;
                continue;
            }
            s->p = q;              /* the kept prefix still holds the old stamp */
            if (!stamp_below(s, 1, n + 1))
                corrupt++;
            s->n = n + 1;
            stamp(s, 0);
        } else {
            free(s->p);
            s->p = malloc(n + 1);
            if (!s->p) {
                oom++;
                continue;
            }
            s->n = n + 1;
            s->tag = (unsigned char)op;
            stamp(s, 0);
        }
    }
    for (int i = 0; i < SLOTS; i++) {
        if (slots[i].p && !stamp(&slots[i], 1))
            corrupt++;
        free(slots[i].p);
        slots[i].p = NULL;
    }
    size_t after = largest_block();
    printf("heap: %ld operations, largest block %zu KiB before, %zu KiB after, %ld out of memory\n",
           ops, before / 1024, after / 1024, oom);
    EXPECT(corrupt == 0, "a block's contents changed under it");
    EXPECT(after == before, "memory was lost: the largest block shrank");
}

int main(int argc, char **argv)
{
    test_format();
    test_strto();
    test_string();
    test_sort();
    test_heap(argc > 1 ? strtol(argv[1], NULL, 10) : 20000);
    if (failures)
        return 1;
    puts("SUCCESS");
    return 0;
}
