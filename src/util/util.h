/*
 * util.h — character classes and formatters that several modules share
 * (HTTP, the router, static files, multipart).  Not a public interface.
 *
 * The classes are inline (each is a line or a small table, on hot paths
 * of the parsers); the date formatter is in date.c.
 */
#ifndef UWEB_UTIL_H
#define UWEB_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The value of a hex digit, or -1. */
static inline int uw__hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* RFC 9110 tchar (the bytes of a token: field names, methods, parameter
 * names), as a bitmap over 7-bit characters. */
static inline bool uw__tchar(unsigned char c)
{
    static const uint32_t map[4] = {
        0x00000000,                 /* controls */
        0x03ff6cfa,                 /* ! # $ % & ' * + - . 0-9 */
        0xc7fffffe,                 /* A-Z ^ _ */
        0x57ffffff,                 /* ` a-z | ~ */
    };
    return c < 128 && (map[c >> 5] >> (c & 31) & 1);
}

/* The value of a character of the standard base64 alphabet (RFC 4648 §4),
 * or -1 ('=' included: padding is the caller's business). */
static inline int uw__b64val(unsigned char c)
{
    static const signed char value_plus_one[256] = {
        ['A'] = 1, ['B'] = 2, ['C'] = 3, ['D'] = 4, ['E'] = 5, ['F'] = 6, ['G'] = 7, ['H'] = 8,
        ['I'] = 9, ['J'] = 10, ['K'] = 11, ['L'] = 12, ['M'] = 13, ['N'] = 14, ['O'] = 15, ['P'] = 16,
        ['Q'] = 17, ['R'] = 18, ['S'] = 19, ['T'] = 20, ['U'] = 21, ['V'] = 22, ['W'] = 23, ['X'] = 24,
        ['Y'] = 25, ['Z'] = 26, ['a'] = 27, ['b'] = 28, ['c'] = 29, ['d'] = 30, ['e'] = 31, ['f'] = 32,
        ['g'] = 33, ['h'] = 34, ['i'] = 35, ['j'] = 36, ['k'] = 37, ['l'] = 38, ['m'] = 39, ['n'] = 40,
        ['o'] = 41, ['p'] = 42, ['q'] = 43, ['r'] = 44, ['s'] = 45, ['t'] = 46, ['u'] = 47, ['v'] = 48,
        ['w'] = 49, ['x'] = 50, ['y'] = 51, ['z'] = 52, ['0'] = 53, ['1'] = 54, ['2'] = 55, ['3'] = 56,
        ['4'] = 57, ['5'] = 58, ['6'] = 59, ['7'] = 60, ['8'] = 61, ['9'] = 62, ['+'] = 63, ['/'] = 64,
    };
    return value_plus_one[c] - 1;
}

/* The same for the URL-safe alphabet (RFC 4648 §5: '-' and '_' for '+'
 * and '/'). */
static inline int uw__b64urlval(unsigned char c)
{
    return c == '-' ? 62 : c == '_' ? 63 : c == '+' || c == '/' ? -1 : uw__b64val(c);
}

/* Encodes n bytes as base64 into out (cap bytes, NUL included; the output
 * stops early, at a character, when it does not fit) and returns the
 * characters written.  (n + 2) / 3 * 4 + 1 bytes always suffice. */
enum { UW__B64_URL = 1, UW__B64_NOPAD = 2 };      /* flags: the URL-safe alphabet; no '=' */
size_t uw__b64_encode(const void *data, size_t n, char *out, size_t cap, unsigned flags);

/* Formats t (seconds since the epoch) as an IMF-fixdate, "Sun, 06 Nov
 * 1994 08:49:37 GMT" (29 characters and a NUL).  Our own calendar
 * arithmetic, so the unikernels need no time zone code; years are
 * clamped to 0000..9999. */
void uw__http_date(int64_t t, char out[30]);
/* "Jan".."Dec", and "Sun".."Sat" (weekday 0 is Sunday). */
extern const char uw__month_names[12][4], uw__day_names[7][4];

/* Days since 1970-01-01 of a proleptic Gregorian date (month 1..12). */
int64_t uw__days_from_civil(int64_t y, unsigned m, unsigned d);
/* The UTC date and time of t (seconds since the epoch); weekday 0 is
 * Sunday. */
typedef struct uw__civil {
    int64_t year;
    int month, day, hour, minute, second, weekday;
} uw__civil;
void uw__civil_time(int64_t t, uw__civil *c);

#endif
