/* stdio.c - the formatting engine and console output (contracts: stdio.h). */
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <limits.h>
#include <errno.h>
#include "uw_platform.h"

struct uwc_file {
    int unused;
};
static struct uwc_file console;
FILE *const stdout = &console;
FILE *const stderr = &console;
static struct uwc_file no_input;
FILE *const stdin = &no_input;

/* Where formatted bytes go: a buffer (snprintf) or the console (printf). */
struct sink {
    char *buf;        /* NULL: the console, through `chunk` */
    size_t size;      /* bytes of buf usable, terminator included */
    size_t len;       /* bytes produced so far (even past size) */
    char chunk[256];  /* console: pending bytes */
    size_t pending;
};

static void sink_flush(struct sink *s)
{
    if (!s->buf && s->pending) {
        uw_plat_console_write(s->chunk, s->pending);
        s->pending = 0;
    }
}

/* Stores N bytes at P where S sends them (the buffer: at s->len, if room). */
static void put(struct sink *s, const char *p, size_t n)
{
    if (s->buf) {
        if (s->len < s->size) {
            size_t room = s->size - 1 - s->len;
            memcpy(s->buf + s->len, p, n < room ? n : room);
        }
    } else {
        while (n) {
            size_t room = sizeof s->chunk - s->pending;
            size_t k = n < room ? n : room;
            memcpy(s->chunk + s->pending, p, k);
            s->pending += k;
            p += k;
            n -= k;
            if (s->pending == sizeof s->chunk)
                sink_flush(s);
        }
    }
}

/* Emits N bytes at P and counts them, even past the buffer's end. */
static void putn(struct sink *s, const char *p, size_t n)
{
    put(s, p, n);
    s->len += n;
}

static void pad(struct sink *s, char c, long n)
{
    char block[32];
    memset(block, c, sizeof block);
    while (n > 0) {
        size_t k = n < (long)sizeof block ? (size_t)n : sizeof block;
        putn(s, block, k);
        n -= (long)k;
    }
}

enum { F_LEFT = 1, F_ZERO = 2, F_PLUS = 4, F_SPACE = 8, F_ALT = 16 };

/* Formats FMT into S; returns the number of bytes produced, or -1. */
static int format(struct sink *s, const char *fmt, va_list ap)
{
    while (*fmt) {
        if (*fmt != '%') {
            const char *p = strchr(fmt, '%');
            size_t n = p ? (size_t)(p - fmt) : strlen(fmt);
            putn(s, fmt, n);
            fmt += n;
            continue;
        }
        const char *spec = fmt++;
        int flags = 0;
        for (;; fmt++) {
            if (*fmt == '-') flags |= F_LEFT;
            else if (*fmt == '0') flags |= F_ZERO;
            else if (*fmt == '+') flags |= F_PLUS;
            else if (*fmt == ' ') flags |= F_SPACE;
            else if (*fmt == '#') flags |= F_ALT;
            else break;
        }
        long width = 0;
        if (*fmt == '*') {
            width = va_arg(ap, int);
            if (width < 0) {
                flags |= F_LEFT;
                width = -width;
            }
            fmt++;
        } else {
            while (*fmt >= '0' && *fmt <= '9' && width < 100000)
                width = width * 10 + (*fmt++ - '0');
        }
        long prec = -1;
        if (*fmt == '.') {
            fmt++;
            prec = 0;
            if (*fmt == '*') {
                prec = va_arg(ap, int);
                if (prec < 0)
                    prec = -1;
                fmt++;
            } else {
                while (*fmt >= '0' && *fmt <= '9' && prec < 100000)
                    prec = prec * 10 + (*fmt++ - '0');
            }
        }
        int len = 0;  /* 'H' hh, 'h', 'l', 'L' ll, 'j', 'z', 't' */
        if (*fmt == 'h') { len = 'h'; if (*++fmt == 'h') { len = 'H'; fmt++; } }
        else if (*fmt == 'l') { len = 'l'; if (*++fmt == 'l') { len = 'L'; fmt++; } }
        else if (*fmt == 'j' || *fmt == 'z' || *fmt == 't') len = *fmt++;

        char conv = *fmt++;
        char tmp[72];
        const char *body = tmp;
        size_t blen = 0;
        char prefix[3] = "";
        size_t plen = 0;
        unsigned long long u = 0;
        int is_signed = 0, neg = 0, base = 10, upper = 0;

        switch (conv) {
        case '%':
            putn(s, "%", 1);
            continue;
        case 'c':
            tmp[0] = (char)va_arg(ap, int);
            blen = 1;
            prec = -1;
            flags &= ~F_ZERO;
            goto emit;
        case 's':
            body = va_arg(ap, const char *);
            if (!body)
                body = "(null)";
            blen = prec >= 0 ? strnlen(body, (size_t)prec) : strlen(body);
            prec = -1;
            flags &= ~F_ZERO;
            goto emit;
        case 'p':
            u = (uintptr_t)va_arg(ap, void *);
            base = 16;
            flags |= F_ALT;
            goto number;
        case 'd': case 'i':
            is_signed = 1;
            break;
        case 'u':
            break;
        case 'x':
            base = 16;
            break;
        case 'X':
            base = 16;
            upper = 1;
            break;
        case 'o':
            base = 8;
            break;
        case 'n':
            /* Writes through a pointer taken from the format: refused. */
        default:
            /* Floating point and unknown conversions: not supported.  The
             * argument cannot be skipped safely, so formatting ends. */
            putn(s, "?", 1);
            (void)spec;
            return (int)(s->len > INT_MAX ? INT_MAX : s->len);
        }
        if (is_signed) {
            long long v;
            switch (len) {
            case 'H': v = (signed char)va_arg(ap, int); break;
            case 'h': v = (short)va_arg(ap, int); break;
            case 'l': v = va_arg(ap, long); break;
            case 'L': v = va_arg(ap, long long); break;
            case 'j': v = va_arg(ap, intmax_t); break;
            case 'z': v = va_arg(ap, long); break;
            case 't': v = va_arg(ap, ptrdiff_t); break;
            default: v = va_arg(ap, int); break;
            }
            neg = v < 0;
            u = neg ? 0ull - (unsigned long long)v : (unsigned long long)v;
        } else {
            switch (len) {
            case 'H': u = (unsigned char)va_arg(ap, unsigned); break;
            case 'h': u = (unsigned short)va_arg(ap, unsigned); break;
            case 'l': u = va_arg(ap, unsigned long); break;
            case 'L': u = va_arg(ap, unsigned long long); break;
            case 'j': u = va_arg(ap, uintmax_t); break;
            case 'z': u = va_arg(ap, size_t); break;
            case 't': u = (unsigned long long)va_arg(ap, ptrdiff_t); break;
            default: u = va_arg(ap, unsigned); break;
            }
        }
    number:
        {
            const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
            char *end = tmp + sizeof tmp, *p = end;
            unsigned long long v = u;
            while (v) {
                *--p = digits[v % (unsigned)base];
                v /= (unsigned)base;
            }
            if (prec < 0 && p == end)
                *--p = '0';
            /* precision: minimum digits */
            while (prec >= 0 && end - p < prec && p > tmp)
                *--p = '0';
            if ((flags & F_ALT) && base == 8 && *p != '0' && p > tmp)
                *--p = '0';
            body = p;
            blen = (size_t)(end - p);
            if (neg) prefix[plen++] = '-';
            else if (is_signed && (flags & F_PLUS)) prefix[plen++] = '+';
            else if (is_signed && (flags & F_SPACE)) prefix[plen++] = ' ';
            if ((flags & F_ALT) && base == 16 && (u || conv == 'p')) {
                prefix[plen++] = '0';
                prefix[plen++] = upper ? 'X' : 'x';
            }
            if (prec >= 0)
                flags &= ~F_ZERO;
        }
    emit:
        {
            long fill = width - (long)(blen + plen);
            if (!(flags & F_LEFT) && !(flags & F_ZERO))
                pad(s, ' ', fill);
            putn(s, prefix, plen);
            if (!(flags & F_LEFT) && (flags & F_ZERO))
                pad(s, '0', fill);
            putn(s, body, blen);
            if (flags & F_LEFT)
                pad(s, ' ', fill);
        }
    }
    return (int)(s->len > INT_MAX ? INT_MAX : s->len);
}

int vsnprintf(char *restrict buf, size_t size, const char *restrict fmt, va_list ap)
{
    struct sink s = { .buf = buf, .size = size };
    char dummy;
    if (size == 0) {
        s.buf = &dummy;   /* count only */
        s.size = 0;
    }
    int n = format(&s, fmt, ap);
    if (size)
        buf[s.len < size ? s.len : size - 1] = 0;
    if (s.len > INT_MAX) {
        errno = EOVERFLOW;
        return -1;
    }
    return n;
}

int snprintf(char *restrict buf, size_t size, const char *restrict fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

int vsprintf(char *restrict buf, const char *restrict fmt, va_list ap)
{
    return vsnprintf(buf, INT_MAX, fmt, ap);
}

int sprintf(char *restrict buf, const char *restrict fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, INT_MAX, fmt, ap);
    va_end(ap);
    return n;
}

int vfprintf(FILE *f, const char *restrict fmt, va_list ap)
{
    struct sink s = { .buf = NULL };
    (void)f;
    int n = format(&s, fmt, ap);
    sink_flush(&s);
    return n;
}

int vprintf(const char *restrict fmt, va_list ap)
{
    return vfprintf(stdout, fmt, ap);
}

int fprintf(FILE *f, const char *restrict fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vfprintf(f, fmt, ap);
    va_end(ap);
    return n;
}

int printf(const char *restrict fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vfprintf(stdout, fmt, ap);
    va_end(ap);
    return n;
}

int fputs(const char *restrict str, FILE *restrict f)
{
    (void)f;
    uw_plat_console_write(str, strlen(str));
    return 0;
}

int puts(const char *str)
{
    uw_plat_console_write(str, strlen(str));
    uw_plat_console_write("\n", 1);
    return 0;
}

int fputc(int c, FILE *f)
{
    char ch = (char)c;
    (void)f;
    uw_plat_console_write(&ch, 1);
    return (unsigned char)c;
}

int putc(int c, FILE *f) { return fputc(c, f); }
int putchar(int c) { return fputc(c, stdout); }

size_t fwrite(const void *restrict p, size_t size, size_t n, FILE *restrict f)
{
    (void)f;
    if (size && n > SIZE_MAX / size)
        return 0;
    uw_plat_console_write(p, size * n);
    return n;
}

int fflush(FILE *f)
{
    (void)f;
    return 0;
}

FILE *fopen(const char *restrict path, const char *restrict mode)
{
    (void)path, (void)mode;
    errno = ENOENT;
    return NULL;
}

int fclose(FILE *f)
{
    return f == stdout || f == stderr ? fflush(f) : EOF;
}

int fgetc(FILE *f)
{
    (void)f;
    return EOF;
}

int getc(FILE *f) { return fgetc(f); }

int fseek(FILE *f, long offset, int whence)
{
    (void)f, (void)offset, (void)whence;
    errno = EBADF;
    return -1;
}
