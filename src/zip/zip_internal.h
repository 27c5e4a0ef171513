/* Internals of the ZIP writer shared between its files. */
#ifndef UWEB_ZIP_INTERNAL_H
#define UWEB_ZIP_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#define ZIP_NAME_MAX 1024       /* bytes of a sanitized name */
#define ZIP_COMPONENT_MAX 200   /* bytes of one path component */
#define ZIP_COMPONENT_IN 600    /* bytes of a component normalized: NFC makes
                                   at least a third as many (Hangul jamo) */
#define ZIP_SUFFIX_MAX 16       /* " (4294967295)" and a NUL, rounded up */
/* Code points of work buffers for n bytes of UTF-8: a code point
 * decomposes to at most 3 per 2 bytes (checked against the tables). */
#define ZIP_WORK_CPS(n) ((n) * 3 / 2 + 1)
#define ZIP_KEY_MAX ZIP_WORK_CPS(ZIP_NAME_MAX + ZIP_SUFFIX_MAX)

/* Sanitizes name[0..len) into out (ZIP_NAME_MAX + 1 bytes, NUL-terminated),
 * using work (ZIP_WORK_CPS(ZIP_COMPONENT_IN) code points); returns the
 * length written (0 when nothing usable is left). */
size_t zip_sanitize_name(const char *name, size_t len, char *out, uint32_t *work, size_t work_cap);

/* Offset of the extension ("." and what follows) in the last component of
 * name[0..len), or len when there is none.  A leading dot is not one. */
size_t zip_extension_start(const char *name, size_t len);

/* Unicode (unicode.c).  Strings are UTF-8 of len bytes, valid where said. */

/* Length of the valid UTF-8 sequence at s[0..len) (its code point in
 * *cp), or 0 when it is not valid. */
size_t zip_utf8_decode(const unsigned char *s, size_t len, uint32_t *cp);

/* Writes cp as UTF-8 to out (up to 4 bytes); returns the length. */
size_t zip_utf8_encode(uint32_t cp, char *out);

/* Whether cp is a bidirectional formatting control (Bidi_Control). */
int zip_is_bidi_control(uint32_t cp);

/* NFC of valid UTF-8 s into out, at most cap bytes (cut before the first
 * code point that does not fit); work holds ZIP_WORK_CPS(len) code
 * points.  Returns the bytes written. */
size_t zip_nfc(const char *s, size_t len, char *out, size_t cap, uint32_t *work, size_t work_cap);

/*
 * The key names are compared by: NFD(simple case folding(NFD(s))), the
 * canonical caseless match of Unicode 3.13 with simple folding, as code
 * points (each with its combining class in bits 21 and up) into key
 * (cap >= ZIP_WORK_CPS(len)).  Two names match when their keys are equal.
 * A '/' in s is a '/' in the key, and the key of the part of s before a
 * '/' is the part of the key before the matching '/'.  Returns the length.
 */
size_t zip_name_key(const char *s, size_t len, uint32_t *key, size_t cap);

/* DOS date and time (UTC) of a Unix time, clamped to 1980..2107. */
void zip_dos_time(int64_t t, uint16_t *dos_time, uint16_t *dos_date);

#endif
