/* The unikernels have no brotli (yet): compression on the fly offers gzip. */
#include "compress_internal.h"

bool uw__br_available(void) { return false; }
uw__br *uw__br_new(uw_arena *a, int quality, int lgwin) { (void)a; (void)quality; (void)lgwin; return NULL; }
int uw__br_run(uw__br *b, const uint8_t **in, size_t *in_left, uint8_t **out, size_t *out_left, bool finish)
{
    (void)b; (void)in; (void)in_left; (void)out; (void)out_left; (void)finish;
    return -1;
}
void uw__br_free(uw__br *b) { (void)b; }
