/* AES-256-GCM for aead.h with mbedTLS's gcm (the unikernels). */
#include <uweb/aead.h>
#include <uweb/runtime.h>

#include <mbedtls/gcm.h>
#include <mbedtls/md.h>

int uw_aead_seal(const uint8_t key[UW_AEAD_KEY_BYTES], const uint8_t nonce[UW_AEAD_NONCE_BYTES],
                 const void *aad, size_t aad_len, const void *in, size_t n, uint8_t *out)
{
    mbedtls_gcm_context g;
    mbedtls_gcm_init(&g);
    int r = mbedtls_gcm_setkey(&g, MBEDTLS_CIPHER_ID_AES, key, 256);
    if (r == 0)
        r = mbedtls_gcm_crypt_and_tag(&g, MBEDTLS_GCM_ENCRYPT, n, nonce, UW_AEAD_NONCE_BYTES, aad, aad_len,
                                      in, out, UW_AEAD_TAG_BYTES, out + n);
    mbedtls_gcm_free(&g);
    return r == 0 ? UW_OK : UW_EINVAL;
}

int uw_aead_open(const uint8_t key[UW_AEAD_KEY_BYTES], const uint8_t nonce[UW_AEAD_NONCE_BYTES],
                 const void *aad, size_t aad_len, const uint8_t *in, size_t n, uint8_t *out)
{
    if (n < UW_AEAD_TAG_BYTES) return UW_EINVAL;
    mbedtls_gcm_context g;
    mbedtls_gcm_init(&g);
    int r = mbedtls_gcm_setkey(&g, MBEDTLS_CIPHER_ID_AES, key, 256);
    if (r == 0)
        r = mbedtls_gcm_auth_decrypt(&g, n - UW_AEAD_TAG_BYTES, nonce, UW_AEAD_NONCE_BYTES, aad, aad_len,
                                     in + n - UW_AEAD_TAG_BYTES, UW_AEAD_TAG_BYTES, in, out);
    mbedtls_gcm_free(&g);
    return r == 0 ? UW_OK : UW_EINVAL;
}

int uw_hmac_sha256(const void *key, size_t key_len, const void *data, size_t n, uint8_t out[UW_HMAC_SHA256_BYTES])
{
    const mbedtls_md_info_t *md = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
    return md && mbedtls_md_hmac(md, key, key_len, data, n, out) == 0 ? UW_OK : UW_EINVAL;
}
