/* AES-256-GCM for aead.h with OpenSSL's EVP (unix, whichever TLS backend
 * the build chose: libcrypto is always there on unix). */
#include <uweb/aead.h>
#include <uweb/runtime.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

static int run(bool seal, const uint8_t *key, const uint8_t *nonce, const void *aad, size_t aad_len,
               const uint8_t *in, size_t n, uint8_t *out, uint8_t *tag)
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    if (!ctx) return UW_ENOMEM;
    int len, ok = EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL, seal) == 1
        && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, UW_AEAD_NONCE_BYTES, NULL) == 1
        && EVP_CipherInit_ex(ctx, NULL, NULL, key, nonce, seal) == 1
        && (!aad_len || EVP_CipherUpdate(ctx, NULL, &len, aad, (int)aad_len) == 1)
        && (!n || EVP_CipherUpdate(ctx, out, &len, in, (int)n) == 1)
        && (seal || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, UW_AEAD_TAG_BYTES, tag) == 1)
        && EVP_CipherFinal_ex(ctx, out + n, &len) == 1
        && (!seal || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, UW_AEAD_TAG_BYTES, tag) == 1);
    EVP_CIPHER_CTX_free(ctx);
    return ok ? UW_OK : UW_EINVAL;
}

int uw_aead_seal(const uint8_t key[UW_AEAD_KEY_BYTES], const uint8_t nonce[UW_AEAD_NONCE_BYTES],
                 const void *aad, size_t aad_len, const void *in, size_t n, uint8_t *out)
{
    if (n > (1u << 30) || aad_len > (1u << 30)) return UW_EINVAL;
    return run(true, key, nonce, aad, aad_len, in, n, out, out + n);
}

int uw_aead_open(const uint8_t key[UW_AEAD_KEY_BYTES], const uint8_t nonce[UW_AEAD_NONCE_BYTES],
                 const void *aad, size_t aad_len, const uint8_t *in, size_t n, uint8_t *out)
{
    if (n < UW_AEAD_TAG_BYTES || n > (1u << 30) || aad_len > (1u << 30)) return UW_EINVAL;
    uint8_t tag[UW_AEAD_TAG_BYTES];
    for (int i = 0; i < UW_AEAD_TAG_BYTES; i++) tag[i] = in[n - UW_AEAD_TAG_BYTES + i];
    return run(false, key, nonce, aad, aad_len, in, n - UW_AEAD_TAG_BYTES, out, tag);
}

int uw_hmac_sha256(const void *key, size_t key_len, const void *data, size_t n, uint8_t out[UW_HMAC_SHA256_BYTES])
{
    unsigned len = UW_HMAC_SHA256_BYTES;
    if (key_len > (1u << 30)) return UW_EINVAL;
    return HMAC(EVP_sha256(), key, (int)key_len, data, n, out, &len) ? UW_OK : UW_EINVAL;
}
