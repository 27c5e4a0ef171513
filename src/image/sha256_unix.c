/* SHA-256 through OpenSSL's EVP (SHA-NI / AVX2 where the CPU has them:
 * several times the portable code's speed); sha256_uk.c on the guests. */
#include "sha256.h"

#include <openssl/evp.h>
#include <stdlib.h>

void uw__sha256_init(uw__sha256_ctx *s)
{
    s->md = EVP_MD_CTX_new();
    if (!s->md || !EVP_DigestInit_ex(s->md, EVP_sha256(), NULL)) abort();
}

void uw__sha256_update(uw__sha256_ctx *s, const void *data, size_t n)
{
    EVP_DigestUpdate(s->md, data, n);
}

void uw__sha256_final(uw__sha256_ctx *s, uint8_t out[32])
{
    unsigned len = 32;
    EVP_DigestFinal_ex(s->md, out, &len);
    EVP_MD_CTX_free(s->md);
    s->md = NULL;
}

void uw__sha256(const void *data, size_t n, uint8_t out[32])
{
    unsigned len = 32;
    if (!EVP_Digest(data, n, out, &len, EVP_sha256(), NULL)) abort();
}
