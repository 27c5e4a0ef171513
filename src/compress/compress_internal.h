/* The brotli half of compression on the fly: libbrotli on unix
 * (compress_br_unix.c), absent on the unikernels (compress_br_uk.c). */
#ifndef UWEB_COMPRESS_INTERNAL_H
#define UWEB_COMPRESS_INTERNAL_H

#include <uweb/arena.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct uw__br uw__br;
bool uw__br_available(void);
/* An encoder whose memory comes from the arena; NULL without brotli or memory. */
uw__br *uw__br_new(uw_arena *a, int quality, int lgwin);
/* Compresses what it can of *in into *out (both advanced); finish: the
 * input is complete.  1 when finished and all output given, 0 to call
 * again (with more room), -1 on error. */
int uw__br_run(uw__br *b, const uint8_t **in, size_t *in_left, uint8_t **out, size_t *out_left, bool finish);
void uw__br_free(uw__br *b);

#endif
