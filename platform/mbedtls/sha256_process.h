/* Between sha256_process.c and sha256_shani.c (platform/mbedtls). */
#ifndef UW_SHA256_PROCESS_H
#define UW_SHA256_PROCESS_H

#include <stddef.h>
#include <stdint.h>

/* x86-64 with SSE (not hvt guests built -mgeneral-regs-only) */
#if defined(__x86_64__) && defined(__SSE2__)
#define UW_SHA256_SHANI 1
#endif

/* The round constants (sha256_process.c). */
extern const uint32_t *uw_sha256_k;

/* n 64-byte blocks into state[8] with the SHA extensions (the caller
 * checked CPUID). */
void uw_sha256_blocks_shani(uint32_t state[8], const unsigned char *data, size_t n);

#endif
