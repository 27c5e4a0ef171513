/*
 * random.h — bytes from a cryptographically secure generator.
 *
 * Every target has one: on unix with OpenSSL, OpenSSL's DRBG (RAND_bytes),
 * which seeds itself from getrandom; with mbedTLS (the unikernels, and
 * TLS=mbedtls on unix), mbedTLS's CTR_DRBG seeded from the platform's
 * seed (the tender's fresh getrandom bytes, mixed with RDSEED/RDRAND).
 * The implementation comes with the TLS backend the build chose
 * (src/tls/tls_openssl.c, src/tls/tls_mbedtls.c): link module tls.
 *
 * For keys, tokens, nonces, ticket keys.  Not for a simulation's dice: it
 * is slower than a plain PRNG.
 */
#ifndef UWEB_RANDOM_H
#define UWEB_RANDOM_H

#include <stddef.h>

/* Fills buf with n random bytes.  UW_OK, or UW_EIO when the generator
 * could not be seeded or failed (buf is then zeroed: never use it). */
int uw_random(void *buf, size_t n);

#endif
