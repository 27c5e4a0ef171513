/* SHA-256 for bulk data on the guests (platform/mbedtls/sha256_process.c). */
#ifndef UW_SHA256_H
#define UW_SHA256_H

#include <mbedtls/sha256.h>
#include <stddef.h>

/* mbedtls_sha256_update, with the whole 64-byte blocks of INPUT handed
 * to the SHA extensions in one call when the CPU has them (mbedTLS's own
 * update compresses one block per call). */
int uw_mbedtls_sha256_update(mbedtls_sha256_context *ctx, const unsigned char *input, size_t ilen);

#endif
