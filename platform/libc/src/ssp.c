/*
 * ssp.c - stack-protector canary and the _FORTIFY_SOURCE checking
 * wrappers (__memcpy_chk, __snprintf_chk, ...) that code built with
 * Debian's hardening flags calls.  A failed check prints one line on the
 * console and aborts the guest.
 *
 * Guests are compiled with -mstack-protector-guard=global: the canary is
 * __stack_chk_guard, set by the bindings before the first protected
 * function runs (platform/README.md).
 */
#include <stdint.h>
#include <string.h>
#include <stdio.h>
#include <stdarg.h>
#include "uw_platform.h"
#include "guest.h"

uintptr_t __stack_chk_guard = 0x00000aff0a0dff00ul;   /* replaced at start */

static void die(const char *msg)
{
    uw_plat_console_write(msg, strlen(msg));
    uw_plat_abort();
}

void __stack_chk_fail(void)
{
    die("uweb guest: stack smashing detected\n");
}

void __chk_fail(void)
{
    die("uweb guest: buffer overflow detected\n");
}

void *__memcpy_chk(void *dst, const void *src, size_t n, size_t dstlen)
{
    if (n > dstlen)
        __chk_fail();
    return memcpy(dst, src, n);
}

void *__memmove_chk(void *dst, const void *src, size_t n, size_t dstlen)
{
    if (n > dstlen)
        __chk_fail();
    return memmove(dst, src, n);
}

void *__memset_chk(void *dst, int c, size_t n, size_t dstlen)
{
    if (n > dstlen)
        __chk_fail();
    return memset(dst, c, n);
}

char *__strcpy_chk(char *dst, const char *src, size_t dstlen)
{
    if (strlen(src) >= dstlen)
        __chk_fail();
    return strcpy(dst, src);
}

char *__strncpy_chk(char *dst, const char *src, size_t n, size_t dstlen)
{
    if (n > dstlen)
        __chk_fail();
    return strncpy(dst, src, n);
}

char *__strcat_chk(char *dst, const char *src, size_t dstlen)
{
    if (strlen(dst) + strlen(src) >= dstlen)
        __chk_fail();
    return strcat(dst, src);
}

char *__strncat_chk(char *dst, const char *src, size_t n, size_t dstlen)
{
    if (strlen(dst) + strnlen(src, n) >= dstlen)
        __chk_fail();
    return strncat(dst, src, n);
}

int __vsnprintf_chk(char *buf, size_t size, int flag, size_t buflen, const char *fmt, va_list ap)
{
    (void)flag;
    if (size > buflen)
        __chk_fail();
    return vsnprintf(buf, size, fmt, ap);
}

int __snprintf_chk(char *buf, size_t size, int flag, size_t buflen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = __vsnprintf_chk(buf, size, flag, buflen, fmt, ap);
    va_end(ap);
    return n;
}

int __vsprintf_chk(char *buf, int flag, size_t buflen, const char *fmt, va_list ap)
{
    (void)flag;
    int n = vsnprintf(buf, buflen, fmt, ap);
    if (n < 0 || (size_t)n >= buflen)
        __chk_fail();
    return n;
}

int __sprintf_chk(char *buf, int flag, size_t buflen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = __vsprintf_chk(buf, flag, buflen, fmt, ap);
    va_end(ap);
    return n;
}

int __vfprintf_chk(FILE *f, int flag, const char *fmt, va_list ap)
{
    (void)flag;
    return vfprintf(f, fmt, ap);
}

int __fprintf_chk(FILE *f, int flag, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vfprintf(f, fmt, ap);
    va_end(ap);
    (void)flag;
    return n;
}

int __vprintf_chk(int flag, const char *fmt, va_list ap)
{
    (void)flag;
    return vfprintf(stdout, fmt, ap);
}

int __printf_chk(int flag, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vfprintf(stdout, fmt, ap);
    va_end(ap);
    (void)flag;
    return n;
}
