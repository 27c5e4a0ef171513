/* Brotli for compression on the fly (libbrotli's encoder). */
#include "compress_internal.h"

#include <brotli/encode.h>

bool uw__br_available(void) { return true; }

static void *br_alloc(void *opaque, size_t n) { return uw_arena_alloc(opaque, n); }
static void br_free(void *opaque, void *p) { (void)opaque; (void)p; }   /* the arena frees */

uw__br *uw__br_new(uw_arena *a, int quality, int lgwin)
{
    BrotliEncoderState *s = BrotliEncoderCreateInstance(br_alloc, br_free, a);
    if (!s) return NULL;
    BrotliEncoderSetParameter(s, BROTLI_PARAM_QUALITY, (uint32_t)quality);
    BrotliEncoderSetParameter(s, BROTLI_PARAM_LGWIN, (uint32_t)lgwin);
    BrotliEncoderSetParameter(s, BROTLI_PARAM_MODE, BROTLI_MODE_TEXT);
    return (uw__br *)s;
}

int uw__br_run(uw__br *b, const uint8_t **in, size_t *in_left, uint8_t **out, size_t *out_left, bool finish)
{
    BrotliEncoderState *s = (BrotliEncoderState *)b;
    if (!BrotliEncoderCompressStream(s, finish ? BROTLI_OPERATION_FINISH : BROTLI_OPERATION_PROCESS,
                                     in_left, in, out_left, out, NULL))
        return -1;
    if (finish) return BrotliEncoderIsFinished(s) && !BrotliEncoderHasMoreOutput(s) ? 1 : 0;
    return *in_left == 0 && !BrotliEncoderHasMoreOutput(s) ? 1 : 0;
}

void uw__br_free(uw__br *b) { BrotliEncoderDestroyInstance((BrotliEncoderState *)b); }
