/* The tree's one base64 encoder (RFC 4648 §4, and §5's URL-safe alphabet):
 * the WebSocket accept key, ACME's JWS fields, sealed cookies. */
#include "util.h"

size_t uw__b64_encode(const void *data, size_t n, char *out, size_t cap, unsigned flags)
{
    static const char std[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const unsigned char *p = data;
    bool url = flags & UW__B64_URL, pad = !(flags & UW__B64_NOPAD);
    size_t o = 0;
    if (cap == 0) return 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0) | (i + 2 < n ? p[i + 2] : 0);
        int chars = i + 2 < n ? 4 : i + 1 < n ? 3 : 2;
        for (int k = 0; k < 4; k++) {
            if (k >= chars && !pad) break;
            if (o + 1 >= cap) goto done;
            unsigned x = v >> (18 - 6 * k) & 63;
            out[o++] = k >= chars ? '=' : url && x >= 62 ? "-_"[x - 62] : std[x];
        }
    }
done:
    out[o] = 0;
    return o;
}
