/*
 * acme_crypto.h — the few cryptographic operations the ACME client needs,
 * behind one small interface so each target brings its own library:
 * OpenSSL's libcrypto (crypto_openssl.c) with TLS=openssl on unix,
 * mbedTLS (crypto_mbedtls.c) on the unikernels and with TLS=mbedtls; the
 * Makefile picks the one of the TLS backend.
 *
 * Keys are ECDSA P-256 only.  Every function returns UW_OK or a negative
 * uw_status (UW_EINVAL for unreadable input, UW_ENOMEM, UW_EIO when the
 * library failed); buffers returned are malloc'd (the caller frees them).
 */
#ifndef UWEB_ACME_CRYPTO_H
#define UWEB_ACME_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

typedef struct acme_key acme_key;

/* A new P-256 key. */
int acme_key_generate(acme_key **out);
/* A key from PEM (SEC1 or PKCS#8, not encrypted). */
int acme_key_from_pem(acme_key **out, const void *pem, size_t len);
/* The key as PEM (SEC1 "EC PRIVATE KEY"), NUL-terminated. */
int acme_key_to_pem(const acme_key *k, char **pem, size_t *len);
void acme_key_free(acme_key *k);

/* The public point's coordinates, 32 bytes each (for the JWK). */
int acme_key_public(const acme_key *k, unsigned char x[32], unsigned char y[32]);
/* ES256: SHA-256 of data signed, as r || s (32 bytes each). */
int acme_sign_es256(const acme_key *k, const void *data, size_t n, unsigned char sig[64]);
void acme_sha256(const void *data, size_t n, unsigned char out[32]);

/* A PKCS#10 request (DER) for names (the first also the subject's CN),
 * signed by k. */
int acme_csr(const acme_key *k, const char *const *names, size_t n, unsigned char **der, size_t *len);

/* What the client needs of a certificate (the first of a PEM chain). */
typedef struct acme_cert_info {
    int64_t not_before, not_after;    /* seconds since 1970 */
    char ari_id[256];                 /* RFC 9773 (ARI) certificate id: base64url(AKI) "." base64url(serial) */
} acme_cert_info;
int acme_cert_info_get(const void *pem, size_t len, acme_cert_info *info);
/* Whether the first certificate of the chain names every one of names
 * (exactly, as DNS subjectAltNames) and k is its key. */
int acme_cert_matches(const void *pem, size_t len, const acme_key *k, const char *const *names, size_t n);

/* A self-signed TLS-ALPN-01 certificate (RFC 8737) for name carrying the
 * critical acmeIdentifier extension with digest (SHA-256 of the key
 * authorization), made with k; PEM, NUL-terminated. */
int acme_alpn_cert(const acme_key *k, const char *name, const unsigned char digest[32], char **pem, size_t *len);

#endif
