/*
 * fortify: the checking functions that code built with _FORTIFY_SOURCE
 * against glibc's headers calls (__memcpy_chk, __snprintf_chk, ...) work
 * like the functions they check when the sizes fit, and abort the guest
 * ("buffer overflow detected", status 255) when they do not.  Expected:
 * the in-bounds calls pass, then the overflow aborts; never SUCCESS.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "uw_platform.h"

UW_PLAT_MANIFEST();

void *__memcpy_chk(void *dst, const void *src, size_t n, size_t dstlen);
void *__memset_chk(void *dst, int c, size_t n, size_t dstlen);
char *__strcpy_chk(char *dst, const char *src, size_t dstlen);
int __snprintf_chk(char *buf, size_t size, int flag, size_t buflen, const char *fmt, ...);
int __sprintf_chk(char *buf, int flag, size_t buflen, const char *fmt, ...);

int main(int argc, char **argv)
{
    char buf[16];
    volatile size_t big = 16 + (size_t)argc;   /* argc >= 1: one byte too many */
    (void)argv;
    if (__memcpy_chk(buf, "0123456789abcdef", 16, sizeof buf) != buf || memcmp(buf, "0123456789abcdef", 16)
        || __memset_chk(buf, 'x', 8, sizeof buf) != buf || buf[7] != 'x' || buf[8] != '8'
        || strcmp(__strcpy_chk(buf, "fits", sizeof buf), "fits") != 0
        || __snprintf_chk(buf, sizeof buf, 1, sizeof buf, "%d-%s", 42, "ok") != 5 || strcmp(buf, "42-ok")
        || __sprintf_chk(buf, 1, sizeof buf, "%x", 255u) != 2 || strcmp(buf, "ff")) {
        puts("FAILURE: an in-bounds checked call misbehaved");
        return 1;
    }
    puts("in-bounds checked calls work; now one byte too many");
    __memcpy_chk(buf, "0123456789abcdefg", big, sizeof buf);
    puts("SUCCESS (the overflow went unnoticed)");
    return 0;
}
