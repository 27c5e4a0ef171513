/* Internals of the ZIP writer shared between its files. */
#ifndef UWEB_ZIP_INTERNAL_H
#define UWEB_ZIP_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#define ZIP_NAME_MAX 1024       /* bytes of a sanitized name */
#define ZIP_COMPONENT_MAX 200   /* bytes of one path component */
#define ZIP_SUFFIX_MAX 16       /* " (4294967295)" and a NUL, rounded up */

/* Sanitizes name[0..len) into out (ZIP_NAME_MAX + 1 bytes, NUL-terminated);
 * returns the length written (0 when nothing usable is left). */
size_t zip_sanitize_name(const char *name, size_t len, char *out);

/* Offset of the extension ("." and what follows) in the last component of
 * name[0..len), or len when there is none.  A leading dot is not one. */
size_t zip_extension_start(const char *name, size_t len);

/* DOS date and time (UTC) of a Unix time, clamped to 1980..2107. */
void zip_dos_time(int64_t t, uint16_t *dos_time, uint16_t *dos_date);

#endif
