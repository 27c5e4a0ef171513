/* SHA-256 through mbedTLS, which every guest links for TLS (its
 * MBEDTLS_SHA256_C), whole blocks through platform/mbedtls's multi-block
 * compression (uw_sha256.h); sha256_unix.c uses OpenSSL. */
#include "sha256.h"

#include <mbedtls/sha256.h>
#include <uw_sha256.h>
#include <stdlib.h>

void uw__sha256_init(uw__sha256_ctx *s)
{
    s->md = malloc(sizeof(mbedtls_sha256_context));
    if (!s->md) abort();
    mbedtls_sha256_init(s->md);
    mbedtls_sha256_starts(s->md, 0);
}

void uw__sha256_update(uw__sha256_ctx *s, const void *data, size_t n)
{
    uw_mbedtls_sha256_update(s->md, data, n);
}

void uw__sha256_final(uw__sha256_ctx *s, uint8_t out[32])
{
    mbedtls_sha256_finish(s->md, out);
    mbedtls_sha256_free(s->md);
    free(s->md);
    s->md = NULL;
}

void uw__sha256(const void *data, size_t n, uint8_t out[32])
{
    mbedtls_sha256_context c;
    mbedtls_sha256_init(&c);
    mbedtls_sha256_starts(&c, 0);
    uw_mbedtls_sha256_update(&c, data, n);
    mbedtls_sha256_finish(&c, out);
    mbedtls_sha256_free(&c);
}
