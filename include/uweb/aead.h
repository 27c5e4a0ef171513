/*
 * aead.h — AES-256-GCM, one message at a time, from the TLS library's
 * crypto: OpenSSL's EVP on unix (src/tls/aead_unix.c), mbedTLS's gcm on
 * the unikernels (src/tls/aead_uk.c).  For sealed and signed cookies
 * (cookie.h) and whatever else needs authenticated encryption.
 *
 * A nonce must never repeat under one key: take 12 random bytes
 * (uw_random) per message.
 */
#ifndef UWEB_AEAD_H
#define UWEB_AEAD_H

#include <stddef.h>
#include <stdint.h>

#define UW_AEAD_KEY_BYTES 32
#define UW_AEAD_NONCE_BYTES 12
#define UW_AEAD_TAG_BYTES 16

/* Encrypts in[0..n) into out[0..n) and appends the 16-byte tag (out has
 * room for n + 16).  aad is authenticated, not encrypted.  UW_OK or
 * UW_EINVAL. */
int uw_aead_seal(const uint8_t key[UW_AEAD_KEY_BYTES], const uint8_t nonce[UW_AEAD_NONCE_BYTES],
                 const void *aad, size_t aad_len, const void *in, size_t n, uint8_t *out);
/* Checks and decrypts in[0..n) (ciphertext then tag, n >= 16) into
 * out[0..n-16).  UW_OK, or UW_EINVAL when the tag does not match (nothing
 * of out may be used then). */
int uw_aead_open(const uint8_t key[UW_AEAD_KEY_BYTES], const uint8_t nonce[UW_AEAD_NONCE_BYTES],
                 const void *aad, size_t aad_len, const uint8_t *in, size_t n, uint8_t *out);

/* HMAC-SHA256 (RFC 2104) of data under key, from the same library:
 * out[32].  UW_OK or UW_EINVAL. */
#define UW_HMAC_SHA256_BYTES 32
int uw_hmac_sha256(const void *key, size_t key_len, const void *data, size_t n, uint8_t out[UW_HMAC_SHA256_BYTES]);

/* 1 when a[0..n) equals b[0..n), in a time that does not depend on where
 * they differ (for comparing MACs and tokens). */
static inline int uw_equal_ct(const void *a, const void *b, size_t n)
{
    const volatile uint8_t *x = (const volatile uint8_t *)a, *y = (const volatile uint8_t *)b;
    uint8_t d = 0;
    for (size_t i = 0; i < n; i++) d |= (uint8_t)(x[i] ^ y[i]);
    return d == 0;
}

#endif
