/*
 * stdio.h - formatted output for uweb guests.
 *
 * stdout and stderr both go to the platform console
 * (uw_plat_console_write); there are no files.  The formatting engine
 * handles the C99 integer, string, character and pointer conversions with
 * flags, width, precision and length modifiers; floating-point
 * conversions are not supported (they print "?" and end formatting),
 * since hvt guests have no floating-point registers.
 */
#ifndef UWC_STDIO_H
#define UWC_STDIO_H
#include <stddef.h>
#include <stdarg.h>

typedef struct uwc_file FILE;
extern FILE *const stdout;
extern FILE *const stderr;
extern FILE *const stdin;   /* always at end of file */
#define EOF (-1)
#define BUFSIZ 1024
#ifndef SEEK_SET
#define SEEK_SET 0
#define SEEK_CUR 1
#define SEEK_END 2
#endif

int snprintf(char *restrict buf, size_t size, const char *restrict fmt, ...)
    __attribute__((format(printf, 3, 4)));
int vsnprintf(char *restrict buf, size_t size, const char *restrict fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
int sprintf(char *restrict buf, const char *restrict fmt, ...)
    __attribute__((format(printf, 2, 3)));
int vsprintf(char *restrict buf, const char *restrict fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
int printf(const char *restrict fmt, ...) __attribute__((format(printf, 1, 2)));
int vprintf(const char *restrict fmt, va_list ap) __attribute__((format(printf, 1, 0)));
int fprintf(FILE *f, const char *restrict fmt, ...) __attribute__((format(printf, 2, 3)));
int vfprintf(FILE *f, const char *restrict fmt, va_list ap) __attribute__((format(printf, 2, 0)));
int puts(const char *s);
int fputs(const char *restrict s, FILE *restrict f);
int putchar(int c);
int fputc(int c, FILE *f);
int putc(int c, FILE *f);
size_t fwrite(const void *restrict p, size_t size, size_t n, FILE *restrict f);
int fflush(FILE *f);
/* Guests have no files: fopen fails with errno ENOENT (a caller that
 * opens a log file says it cannot); fclose of stdout or stderr is 0. */
FILE *fopen(const char *restrict path, const char *restrict mode);
int fclose(FILE *f);
/* Nothing to read: EOF; nothing to seek: -1 with errno EBADF. */
int fseek(FILE *f, long offset, int whence);
int fgetc(FILE *f);
int getc(FILE *f);

#endif
