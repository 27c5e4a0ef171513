/*
 * zlib: zlib built for the guest works: CRC-32 and Adler-32 known
 * answers, and a deflate/inflate round trip (streaming, small output
 * buffers) and compress/uncompress give back the input exactly, and
 * corrupted input is an error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include "uw_platform.h"

UW_PLAT_MANIFEST();

static int failures;
#define EXPECT(cond, what) do { if (!(cond)) { printf("FAILURE: %s\n", what); failures++; } } while (0)

/* argv[1]: bytes to compress (default 200 KiB; the runner gives less on
 * an emulated hvt, which is about a thousand times slower). */
int main(int argc, char **argv)
{
    size_t N = argc > 1 ? strtoul(argv[1], NULL, 10) : 200 * 1024;
    if (N < 4096 || N > 16 * 1024 * 1024) {
        puts("FAILURE: size must be 4096 to 16 MiB");
        return 2;
    }
    static const char check[] = "123456789";
    EXPECT(crc32(0, (const Bytef *)check, 9) == 0xCBF43926ul, "crc32(\"123456789\") != 0xcbf43926");
    EXPECT(adler32(1, (const Bytef *)"Wikipedia", 9) == 0x11E60398ul, "adler32(\"Wikipedia\") != 0x11e60398");

    unsigned char *in = malloc(N), *packed = malloc(N + 1024), *out = malloc(N);
    if (!in || !packed || !out)
        return 1;
    static const char *const words[] = { "unikernel ", "stream ", "deflate ", "zip ", "the ",
                                         "of ", "request\n", "handler ", "block ", "uweb " };
    unsigned x = 12345;
    for (size_t i = 0; i < N;) {   /* text-like: compressible, not trivially */
        x = x * 1103515245u + 12345u;
        for (const char *w = words[(x >> 16) % 10]; *w && i < N; w++)
            in[i++] = (unsigned char)*w;
    }

    /* Streaming deflate into a large buffer, in 1000-byte input slices. */
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    EXPECT(deflateInit2(&zs, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) == Z_OK, "deflateInit2");
    zs.next_out = packed;
    zs.avail_out = N + 1024;
    for (size_t off = 0; off < N; off += 1000) {
        zs.next_in = in + off;
        zs.avail_in = (uInt)(N - off < 1000 ? N - off : 1000);
        EXPECT(deflate(&zs, Z_NO_FLUSH) == Z_OK, "deflate");
    }
    EXPECT(deflate(&zs, Z_FINISH) == Z_STREAM_END, "deflate finish");
    size_t packed_len = zs.total_out;
    deflateEnd(&zs);
    printf("deflate: %zu bytes -> %zu bytes\n", N, packed_len);
    EXPECT(packed_len < N / 2, "deflate did not compress");

    /* Streaming inflate into 4 KiB output windows. */
    memset(&zs, 0, sizeof zs);
    EXPECT(inflateInit2(&zs, -15) == Z_OK, "inflateInit2");
    zs.next_in = packed;
    zs.avail_in = (uInt)packed_len;
    int ret = Z_OK;
    size_t got = 0;
    while (ret == Z_OK && got < N) {
        zs.next_out = out + got;
        zs.avail_out = N - got < 4096 ? (uInt)(N - got) : 4096;
        ret = inflate(&zs, Z_NO_FLUSH);
        got = zs.total_out;
    }
    if (ret == Z_OK) {   /* the end-of-stream marker may need one more call */
        zs.avail_out = 0;
        ret = inflate(&zs, Z_FINISH);
    }
    EXPECT(ret == Z_STREAM_END, "inflate did not reach the end of the stream");
    EXPECT(got == N && memcmp(in, out, N) == 0, "inflate output differs from the input");
    inflateEnd(&zs);

    uLongf dlen = N + 1024, olen = N;
    EXPECT(compress2(packed, &dlen, in, N, 9) == Z_OK, "compress2");
    EXPECT(uncompress(out, &olen, packed, dlen) == Z_OK && olen == N && memcmp(in, out, N) == 0,
           "uncompress round trip");
    packed[dlen / 2] ^= 0x55;   /* corrupted input is an error, not a crash */
    olen = N;
    EXPECT(uncompress(out, &olen, packed, dlen) != Z_OK, "corrupted data uncompressed without error");
    printf("zlib %s\n", zlibVersion());
    if (failures)
        return 1;
    puts("SUCCESS");
    return 0;
}
