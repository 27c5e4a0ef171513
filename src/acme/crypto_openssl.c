/* The ACME client's cryptography on OpenSSL 3's libcrypto (acme_crypto.h). */
#include "acme_crypto.h"
#include "acme_internal.h"
#include <uweb/runtime.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

struct acme_key {
    EVP_PKEY *pkey;
};

static int wrap(acme_key **out, EVP_PKEY *p)
{
    if (!p) return UW_EIO;
    acme_key *k = malloc(sizeof *k);
    if (!k) {
        EVP_PKEY_free(p);
        return UW_ENOMEM;
    }
    k->pkey = p;
    *out = k;
    return UW_OK;
}

int acme_key_generate(acme_key **out)
{
    return wrap(out, EVP_EC_gen("P-256"));
}

static bool is_p256(EVP_PKEY *p)
{
    char group[32] = "";
    size_t gl = 0;
    return EVP_PKEY_is_a(p, "EC") &&
           EVP_PKEY_get_utf8_string_param(p, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &gl) == 1 &&
           (strcmp(group, "prime256v1") == 0 || strcmp(group, "P-256") == 0);
}

int acme_key_from_pem(acme_key **out, const void *pem, size_t len)
{
    BIO *b = BIO_new_mem_buf(pem, (int)len);
    if (!b) return UW_ENOMEM;
    EVP_PKEY *p = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
    BIO_free(b);
    if (!p) return UW_EINVAL;
    if (!is_p256(p)) {
        EVP_PKEY_free(p);
        return UW_EINVAL;
    }
    return wrap(out, p);
}

/* The BIO's bytes, malloc'd and NUL-terminated. */
static int bio_take(BIO *b, char **out, size_t *len)
{
    char *data;
    long n = BIO_get_mem_data(b, &data);
    char *s = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (s) {
        memcpy(s, data, (size_t)n);
        s[n] = 0;
        *out = s;
        if (len) *len = (size_t)n;
    }
    BIO_free(b);
    return s ? UW_OK : UW_ENOMEM;
}

int acme_key_to_pem(const acme_key *k, char **pem, size_t *len)
{
    BIO *b = BIO_new(BIO_s_mem());
    if (!b) return UW_ENOMEM;
    if (PEM_write_bio_PrivateKey(b, k->pkey, NULL, NULL, 0, NULL, NULL) != 1) {
        BIO_free(b);
        return UW_EIO;
    }
    return bio_take(b, pem, len);
}

void acme_key_free(acme_key *k)
{
    if (!k) return;
    EVP_PKEY_free(k->pkey);
    free(k);
}

int acme_key_public(const acme_key *k, unsigned char x[32], unsigned char y[32])
{
    BIGNUM *bx = NULL, *by = NULL;
    int r = UW_EIO;
    if (EVP_PKEY_get_bn_param(k->pkey, OSSL_PKEY_PARAM_EC_PUB_X, &bx) == 1 &&
        EVP_PKEY_get_bn_param(k->pkey, OSSL_PKEY_PARAM_EC_PUB_Y, &by) == 1 &&
        BN_bn2binpad(bx, x, 32) == 32 && BN_bn2binpad(by, y, 32) == 32)
        r = UW_OK;
    BN_free(bx);
    BN_free(by);
    return r;
}

int acme_sign_es256(const acme_key *k, const void *data, size_t n, unsigned char sig[64])
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char der[80];
    size_t dl = sizeof der;
    int r = UW_EIO;
    if (ctx && EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, k->pkey) == 1 &&
        EVP_DigestSign(ctx, der, &dl, data, n) == 1) {
        const unsigned char *p = der;
        ECDSA_SIG *s = d2i_ECDSA_SIG(NULL, &p, (long)dl);
        if (s) {
            const BIGNUM *br, *bs;
            ECDSA_SIG_get0(s, &br, &bs);
            if (BN_bn2binpad(br, sig, 32) == 32 && BN_bn2binpad(bs, sig + 32, 32) == 32) r = UW_OK;
            ECDSA_SIG_free(s);
        }
    }
    EVP_MD_CTX_free(ctx);
    return r;
}

void acme_sha256(const void *data, size_t n, unsigned char out[32])
{
    unsigned int ol = 32;
    EVP_Digest(data, n, out, &ol, EVP_sha256(), NULL);
}

/* "DNS:a,DNS:b" for names. */
static char *san_list(const char *const *names, size_t n)
{
    size_t cap = 1;
    for (size_t i = 0; i < n; i++) cap += strlen(names[i]) + 5;
    char *s = malloc(cap);
    if (!s) return NULL;
    s[0] = 0;
    for (size_t i = 0; i < n; i++) {
        if (i) strcat(s, ",");
        strcat(s, "DNS:");
        strcat(s, names[i]);
    }
    return s;
}

static X509_NAME *cn_name(const char *cn)
{
    X509_NAME *nm = X509_NAME_new();
    if (nm && X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0) != 1) {
        X509_NAME_free(nm);
        return NULL;
    }
    return nm;
}

int acme_csr(const acme_key *k, const char *const *names, size_t n, unsigned char **der, size_t *len)
{
    if (n == 0) return UW_EINVAL;
    int r = UW_EIO;
    X509_REQ *req = X509_REQ_new();
    X509_NAME *nm = cn_name(names[0]);
    char *san = san_list(names, n);
    STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
    X509_EXTENSION *ext = san ? X509V3_EXT_conf_nid(NULL, NULL, NID_subject_alt_name, san) : NULL;
    if (ext && exts && sk_X509_EXTENSION_push(exts, ext)) ext = NULL;     /* owned by exts now */
    if (req && nm && exts && sk_X509_EXTENSION_num(exts) == 1 &&
        X509_REQ_set_version(req, 0) == 1 && X509_REQ_set_subject_name(req, nm) == 1 &&
        X509_REQ_add_extensions(req, exts) == 1 && X509_REQ_set_pubkey(req, k->pkey) == 1 &&
        X509_REQ_sign(req, k->pkey, EVP_sha256()) > 0) {
        unsigned char *p = NULL;
        int dl = i2d_X509_REQ(req, &p);
        if (dl > 0) {
            *der = malloc((size_t)dl);
            if (*der) {
                memcpy(*der, p, (size_t)dl);
                *len = (size_t)dl;
                r = UW_OK;
            } else {
                r = UW_ENOMEM;
            }
        }
        OPENSSL_free(p);
    }
    X509_EXTENSION_free(ext);
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    free(san);
    X509_NAME_free(nm);
    X509_REQ_free(req);
    return r;
}

static X509 *first_cert(const void *pem, size_t len)
{
    BIO *b = BIO_new_mem_buf(pem, (int)len);
    if (!b) return NULL;
    X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
    BIO_free(b);
    return x;
}

static int64_t asn1_seconds(const ASN1_TIME *t)
{
    struct tm tm;
    if (!t || ASN1_TIME_to_tm(t, &tm) != 1) return 0;
    return (int64_t)timegm(&tm);
}

int acme_cert_info_get(const void *pem, size_t len, acme_cert_info *info)
{
    X509 *x = first_cert(pem, len);
    if (!x) return UW_EINVAL;
    memset(info, 0, sizeof *info);
    info->not_before = asn1_seconds(X509_get0_notBefore(x));
    info->not_after = asn1_seconds(X509_get0_notAfter(x));
    const ASN1_OCTET_STRING *aki = X509_get0_authority_key_id(x);
    BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
    if (aki && bn && ASN1_STRING_length(aki) <= 64) {
        unsigned char serial[64];
        int sl = BN_num_bytes(bn);
        if (sl < 63) {
            /* The DER content octets of the INTEGER: a leading zero when
             * the high bit is set. */
            size_t off = 0;
            BN_bn2bin(bn, serial + 1);
            if (sl == 0 || (serial[1] & 0x80)) serial[0] = 0, sl++;
            else off = 1;
            size_t o = acme_b64url(ASN1_STRING_get0_data(aki), (size_t)ASN1_STRING_length(aki), info->ari_id, sizeof info->ari_id);
            if (o + 1 < sizeof info->ari_id) {
                info->ari_id[o] = '.';
                acme_b64url(serial + off, (size_t)sl, info->ari_id + o + 1, sizeof info->ari_id - o - 1);
            }
        }
    }
    BN_free(bn);
    X509_free(x);
    return info->not_after ? UW_OK : UW_EINVAL;
}

int acme_cert_matches(const void *pem, size_t len, const acme_key *k, const char *const *names, size_t n)
{
    X509 *x = first_cert(pem, len);
    if (!x) return UW_EINVAL;
    bool ok = X509_check_private_key(x, k->pkey) == 1;
    for (size_t i = 0; i < n && ok; i++)
        ok = X509_check_host(x, names[i], 0, X509_CHECK_FLAG_NO_WILDCARDS, NULL) == 1;
    X509_free(x);
    return ok ? UW_OK : UW_EINVAL;
}

int acme_alpn_cert(const acme_key *k, const char *name, const unsigned char digest[32], char **pem, size_t *len)
{
    int r = UW_EIO;
    X509 *x = X509_new();
    X509_NAME *nm = cn_name(name);
    char *san = san_list(&name, 1);
    X509_EXTENSION *ext_san = NULL, *ext_id = NULL;
    ASN1_OBJECT *oid = OBJ_txt2obj("1.3.6.1.5.5.7.1.31", 1);   /* id-pe-acmeIdentifier */
    ASN1_OCTET_STRING *val = ASN1_OCTET_STRING_new();
    unsigned char der[34] = { 0x04, 0x20 };                     /* OCTET STRING (32 bytes) */
    memcpy(der + 2, digest, 32);
    unsigned char serial[16];
    BIGNUM *bn = NULL;
    if (RAND_bytes(serial, sizeof serial) == 1) serial[0] &= 0x7f, bn = BN_bin2bn(serial, sizeof serial, NULL);
    if (x && nm && san && oid && val && bn && ASN1_OCTET_STRING_set(val, der, sizeof der) == 1 &&
        (ext_san = X509V3_EXT_conf_nid(NULL, NULL, NID_subject_alt_name, san)) != NULL &&
        (ext_id = X509_EXTENSION_create_by_OBJ(NULL, oid, 1, val)) != NULL &&
        X509_set_version(x, 2) == 1 && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) &&
        X509_gmtime_adj(X509_getm_notBefore(x), -86400) && X509_gmtime_adj(X509_getm_notAfter(x), 7 * 86400) &&
        X509_set_subject_name(x, nm) == 1 && X509_set_issuer_name(x, nm) == 1 &&
        X509_set_pubkey(x, k->pkey) == 1 && X509_add_ext(x, ext_san, -1) == 1 && X509_add_ext(x, ext_id, -1) == 1 &&
        X509_sign(x, k->pkey, EVP_sha256()) > 0) {
        BIO *b = BIO_new(BIO_s_mem());
        if (b && PEM_write_bio_X509(b, x) == 1) r = bio_take(b, pem, len);
        else BIO_free(b);
    }
    BN_free(bn);
    ASN1_OCTET_STRING_free(val);
    ASN1_OBJECT_free(oid);
    X509_EXTENSION_free(ext_san);
    X509_EXTENSION_free(ext_id);
    free(san);
    X509_NAME_free(nm);
    X509_free(x);
    return r;
}
