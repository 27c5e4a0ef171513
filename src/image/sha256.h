/*
 * sha256.h — SHA-256 (FIPS 180-4) for the image format: block hashes, the
 * Merkle tree over the block table, content hashes.  OpenSSL on unix
 * (sha256_unix.c), mbedTLS on the guests (sha256_uk.c).  Not a public
 * interface.
 */
#ifndef UWEB_IMAGE_SHA256_H
#define UWEB_IMAGE_SHA256_H

#include <stddef.h>
#include <stdint.h>

typedef struct uw__sha256_ctx {
    void *md;           /* the EVP context (unix), the mbedTLS one (guests) */
} uw__sha256_ctx;

void uw__sha256_init(uw__sha256_ctx *s);
void uw__sha256_update(uw__sha256_ctx *s, const void *data, size_t n);
void uw__sha256_final(uw__sha256_ctx *s, uint8_t out[32]);
/* One call: out = SHA-256(data). */
void uw__sha256(const void *data, size_t n, uint8_t out[32]);

#endif
