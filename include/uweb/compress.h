/*
 * compress.h — compression on the fly: a middleware that compresses
 * dynamic and streamed responses with gzip (zlib) or brotli (Debian's
 * libbrotli; unix only, the unikernels offer gzip) as the client's
 * Accept-Encoding asks, q-values honoured ("br;q=0.5, gzip" takes gzip;
 * "identity;q=0" with nothing else acceptable is answered uncompressed
 * all the same).
 *
 *     static const uw_middleware mws[] = { { uw_mw_compress, NULL } };   // defaults
 *     uw_main(argc, argv, &(uw_app){ UW_ROUTES(routes), UW_MIDDLEWARES(mws) });
 *
 * What is compressed: responses whose Content-Type is compressible (text/...
 * but text/event-stream, JavaScript, JSON, XML, SVG, wasm, ... or the
 * options' list), of at least min_bytes when their length is known
 * (streams of unknown length always), to GET and POST requests (HEAD gets
 * the identity headers).  Never: a response whose handler set
 * Content-Encoding (precompressed assets), a 206 or any answer with
 * Content-Range, 204/304/1xx.  Compressible answers carry Vary:
 * Accept-Encoding whether compressed or not; a compressed answer's ETag
 * becomes weak (W/"...": the bytes differ, the content does not).
 *
 * Memory: bounded per response, from the request's arena: zlib's state
 * (about 256 KiB at the default memLevel 8; smaller with gzip_mem_level)
 * or brotli's with a 2^brotli_window window, and a 16 KiB output buffer.
 * Compressed bytes go out when that buffer fills and at the end (a stream
 * that must reach the client write by write, such as server-sent events,
 * is not compressible by default).
 */
#ifndef UWEB_COMPRESS_H
#define UWEB_COMPRESS_H

#include <uweb/http.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct uw_compress_options {
    int gzip_level;            /* 1..9, default 6 */
    int gzip_mem_level;        /* zlib's memLevel 1..9, default 8 */
    int brotli_quality;        /* 0..11, default 4 */
    int brotli_window;         /* log2 of the window, 10..24, default 18 */
    size_t min_bytes;          /* default 1024 */
    const char *const *types;  /* NULL-terminated media types ("text/" ends in '/': a prefix);
                                * NULL: the defaults above */
    bool no_gzip, no_brotli;
} uw_compress_options;

/* The middleware; arg is a const uw_compress_options * or NULL. */
int uw_mw_compress(uw_req *req, uw_res *res, void *arg);

enum { UW_ENC_IDENTITY = 0, UW_ENC_GZIP = 1, UW_ENC_BR = 2 };
/* The coding to use for an Accept-Encoding value (NULL: none sent) among
 * those offered (bits 1 << UW_ENC_GZIP, 1 << UW_ENC_BR).  Ties go to br. */
int uw_compress_choose(const char *accept_encoding, unsigned offered);
/* Whether a Content-Type value is compressible under the list (NULL: the defaults). */
bool uw_compress_type_ok(const char *content_type, const char *const *types);
/* Whether this build has brotli. */
bool uw_compress_have_brotli(void);

#endif
