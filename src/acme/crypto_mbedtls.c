/* The ACME client's cryptography on mbedTLS 3.6 (acme_crypto.h): the
 * unikernels' and unix's with TLS=mbedtls.  Randomness from uw_random. */
#include "acme_crypto.h"
#include "acme_internal.h"
#include "../tls/tls_internal.h"
#include "../util/util.h"
#include <uweb/random.h>
#include <uweb/runtime.h>

#include <mbedtls/asn1.h>
#include <mbedtls/ecp.h>
#include <mbedtls/pk.h>
#include <mbedtls/sha256.h>
#include <mbedtls/x509_crt.h>
#include <mbedtls/x509_csr.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct acme_key {
    mbedtls_pk_context pk;
};

static int rng(void *p, unsigned char *buf, size_t n)
{
    (void)p;
    return uw_random(buf, n) == UW_OK ? 0 : MBEDTLS_ERR_ECP_RANDOM_FAILED;
}

static acme_key *key_new(void)
{
    acme_key *k = malloc(sizeof *k);
    if (k) mbedtls_pk_init(&k->pk);
    return k;
}

static bool is_p256(const mbedtls_pk_context *pk)
{
    return mbedtls_pk_get_type(pk) == MBEDTLS_PK_ECKEY &&
           mbedtls_ecp_keypair_get_group_id(mbedtls_pk_ec(*pk)) == MBEDTLS_ECP_DP_SECP256R1;
}

int acme_key_generate(acme_key **out)
{
    acme_key *k = key_new();
    if (!k) return UW_ENOMEM;
    if (mbedtls_pk_setup(&k->pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY)) != 0 ||
        mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(k->pk), rng, NULL) != 0) {
        acme_key_free(k);
        return UW_EIO;
    }
    *out = k;
    return UW_OK;
}

/* A NUL-terminated copy (mbedTLS's PEM parsers want the NUL counted). */
static unsigned char *nul_copy(const void *data, size_t len)
{
    unsigned char *s = malloc(len + 1);
    if (s) {
        memcpy(s, data, len);
        s[len] = 0;
    }
    return s;
}

int acme_key_from_pem(acme_key **out, const void *pem, size_t len)
{
    unsigned char *buf = nul_copy(pem, len);
    acme_key *k = buf ? key_new() : NULL;
    if (!k) {
        free(buf);
        return UW_ENOMEM;
    }
    int e = mbedtls_pk_parse_key(&k->pk, buf, len + 1, NULL, 0, rng, NULL);
    free(buf);
    if (e != 0 || !is_p256(&k->pk)) {
        acme_key_free(k);
        return UW_EINVAL;
    }
    *out = k;
    return UW_OK;
}

static int dup_text(const unsigned char *buf, char **out, size_t *len)
{
    size_t n = strlen((const char *)buf);
    char *s = malloc(n + 1);
    if (!s) return UW_ENOMEM;
    memcpy(s, buf, n + 1);
    *out = s;
    if (len) *len = n;
    return UW_OK;
}

int acme_key_to_pem(const acme_key *k, char **pem, size_t *len)
{
    unsigned char buf[512];
    if (mbedtls_pk_write_key_pem((mbedtls_pk_context *)&k->pk, buf, sizeof buf) != 0) return UW_EIO;
    int r = dup_text(buf, pem, len);
    mbedtls_platform_zeroize(buf, sizeof buf);
    return r;
}

void acme_key_free(acme_key *k)
{
    if (!k) return;
    mbedtls_pk_free(&k->pk);
    free(k);
}

int acme_key_public(const acme_key *k, unsigned char x[32], unsigned char y[32])
{
    unsigned char pt[65];
    size_t n = 0;
    if (mbedtls_ecp_write_public_key(mbedtls_pk_ec(k->pk), MBEDTLS_ECP_PF_UNCOMPRESSED, &n, pt, sizeof pt) != 0 ||
        n != 65)
        return UW_EIO;
    memcpy(x, pt + 1, 32);
    memcpy(y, pt + 33, 32);
    return UW_OK;
}

void acme_sha256(const void *data, size_t n, unsigned char out[32])
{
    mbedtls_sha256(data, n, out, 0);
}

int acme_sign_es256(const acme_key *k, const void *data, size_t n, unsigned char sig[64])
{
    unsigned char hash[32], der[MBEDTLS_PK_SIGNATURE_MAX_SIZE];
    size_t dl = 0, len;
    acme_sha256(data, n, hash);
    if (mbedtls_pk_sign((mbedtls_pk_context *)&k->pk, MBEDTLS_MD_SHA256, hash, sizeof hash, der, sizeof der, &dl,
                        rng, NULL) != 0)
        return UW_EIO;
    /* ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER } into r || s */
    unsigned char *p = der, *end = der + dl;
    mbedtls_mpi r, s;
    mbedtls_mpi_init(&r);
    mbedtls_mpi_init(&s);
    int ok = mbedtls_asn1_get_tag(&p, end, &len, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) == 0 &&
             mbedtls_asn1_get_mpi(&p, end, &r) == 0 && mbedtls_asn1_get_mpi(&p, end, &s) == 0 &&
             mbedtls_mpi_write_binary(&r, sig, 32) == 0 && mbedtls_mpi_write_binary(&s, sig + 32, 32) == 0;
    mbedtls_mpi_free(&r);
    mbedtls_mpi_free(&s);
    return ok ? UW_OK : UW_EIO;
}

/* The DNS subjectAltName list of names (nodes has room for n), linked
 * last name first: mbedTLS writes DER backwards, so the extension lists
 * them in their order. */
static mbedtls_x509_san_list *san_list(mbedtls_x509_san_list *nodes, const char *const *names, size_t n)
{
    memset(nodes, 0, n * sizeof *nodes);
    for (size_t i = 0; i < n; i++) {
        nodes[i].node.type = MBEDTLS_X509_SAN_DNS_NAME;
        nodes[i].node.san.unstructured_name.p = (unsigned char *)names[i];
        nodes[i].node.san.unstructured_name.len = strlen(names[i]);
        nodes[i].next = i > 0 ? &nodes[i - 1] : NULL;
    }
    return &nodes[n - 1];
}

int acme_csr(const acme_key *k, const char *const *names, size_t n, unsigned char **der, size_t *len)
{
    if (n == 0 || n > UW_ACME_MAX_DOMAINS) return UW_EINVAL;
    mbedtls_x509_san_list nodes[UW_ACME_MAX_DOMAINS];
    char subject[300];
    snprintf(subject, sizeof subject, "CN=%s", names[0]);
    mbedtls_x509write_csr w;
    mbedtls_x509write_csr_init(&w);
    mbedtls_x509write_csr_set_md_alg(&w, MBEDTLS_MD_SHA256);
    mbedtls_x509write_csr_set_key(&w, (mbedtls_pk_context *)&k->pk);
    unsigned char *buf = malloc(8192);
    int r = UW_EIO, l;
    if (!buf) r = UW_ENOMEM;
    else if (mbedtls_x509write_csr_set_subject_name(&w, subject) == 0 &&
             mbedtls_x509write_csr_set_subject_alternative_name(&w, san_list(nodes, names, n)) == 0 &&
             (l = mbedtls_x509write_csr_der(&w, buf, 8192, rng, NULL)) > 0) {
        /* mbedTLS writes at the end of the buffer */
        memmove(buf, buf + 8192 - l, (size_t)l);
        *der = buf;
        *len = (size_t)l;
        buf = NULL;
        r = UW_OK;
    }
    free(buf);
    mbedtls_x509write_csr_free(&w);
    return r;
}

static int64_t x509_seconds(const mbedtls_x509_time *t)
{
    return uw__days_from_civil(t->year, (unsigned)t->mon, (unsigned)t->day) * 86400 + t->hour * 3600 +
           t->min * 60 + t->sec;
}

/* A PEM chain, the TLS-ALPN-01 certificate's acmeIdentifier extension
 * accepted (the TLS backend's parser, tls_mbedtls.c). */
static int first_cert(mbedtls_x509_crt *crt, const void *pem, size_t len)
{
    mbedtls_x509_crt_init(crt);
    unsigned char *buf = nul_copy(pem, len);
    if (!buf) return UW_ENOMEM;
    int e = uw_tls__mbedtls_parse_chain(crt, buf, len + 1);
    free(buf);
    if (e < 0 || !crt->raw.p) {
        mbedtls_x509_crt_free(crt);
        return UW_EINVAL;
    }
    return UW_OK;
}

int acme_cert_info_get(const void *pem, size_t len, acme_cert_info *info)
{
    mbedtls_x509_crt crt;
    if (first_cert(&crt, pem, len) != UW_OK) return UW_EINVAL;
    memset(info, 0, sizeof *info);
    info->not_before = x509_seconds(&crt.valid_from);
    info->not_after = x509_seconds(&crt.valid_to);
    /* RFC 9773: the AKI's keyIdentifier and the serial's DER content
     * octets (mbedTLS keeps both as they were encoded) */
    const mbedtls_x509_buf *aki = &crt.authority_key_id.keyIdentifier, *serial = &crt.serial;
    if (aki->p && aki->len && aki->len <= 64 && serial->p && serial->len && serial->len <= 64) {
        size_t o = acme_b64url(aki->p, aki->len, info->ari_id, sizeof info->ari_id);
        if (o + 1 < sizeof info->ari_id) {
            info->ari_id[o] = '.';
            acme_b64url(serial->p, serial->len, info->ari_id + o + 1, sizeof info->ari_id - o - 1);
        }
    }
    mbedtls_x509_crt_free(&crt);
    return info->not_after ? UW_OK : UW_EINVAL;
}

static bool names_dns(const mbedtls_x509_crt *crt, const char *name)
{
    size_t n = strlen(name);
    for (const mbedtls_x509_sequence *s = &crt->subject_alt_names; s && s->buf.p; s = s->next)
        if (s->buf.tag == (MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_X509_SAN_DNS_NAME) && s->buf.len == n &&
            strncasecmp((const char *)s->buf.p, name, n) == 0)
            return true;
    return false;
}

int acme_cert_matches(const void *pem, size_t len, const acme_key *k, const char *const *names, size_t n)
{
    mbedtls_x509_crt crt;
    if (first_cert(&crt, pem, len) != UW_OK) return UW_EINVAL;
    bool ok = mbedtls_pk_check_pair(&crt.pk, &k->pk, rng, NULL) == 0;
    for (size_t i = 0; i < n && ok; i++) ok = names_dns(&crt, names[i]);
    mbedtls_x509_crt_free(&crt);
    return ok ? UW_OK : UW_EINVAL;
}

/* "YYYYMMDDhhmmss" of t, as mbedtls_x509write_crt_set_validity wants. */
static void x509_time_text(int64_t t, char out[16])
{
    uw__civil c;
    uw__civil_time(t, &c);
    snprintf(out, 16, "%04d%02d%02d%02d%02d%02d", (int)c.year, c.month, c.day, c.hour, c.minute, c.second);
}

int acme_alpn_cert(const acme_key *k, const char *name, const unsigned char digest[32], char **pem, size_t *len)
{
    /* id-pe-acmeIdentifier, 1.3.6.1.5.5.7.1.31, critical, its value an
     * OCTET STRING of the key authorization's SHA-256 (RFC 8737) */
    static const char oid[] = "\x2b\x06\x01\x05\x05\x07\x01\x1f";
    unsigned char value[34] = { 0x04, 0x20 }, serial[16];
    memcpy(value + 2, digest, 32);
    if (uw_random(serial, sizeof serial) != UW_OK) return UW_EIO;
    serial[0] &= 0x7f;
    serial[0] |= 0x01;                  /* positive, no leading zero */
    char subject[300], from[16], until[16];
    snprintf(subject, sizeof subject, "CN=%s", name);
    int64_t now = uw_wall_now() / UW_SEC(1);
    x509_time_text(now - 86400, from);
    x509_time_text(now + 7 * 86400, until);
    mbedtls_x509_san_list san;
    mbedtls_x509write_cert w;
    mbedtls_x509write_crt_init(&w);
    mbedtls_x509write_crt_set_version(&w, MBEDTLS_X509_CRT_VERSION_3);
    mbedtls_x509write_crt_set_md_alg(&w, MBEDTLS_MD_SHA256);
    mbedtls_x509write_crt_set_subject_key(&w, (mbedtls_pk_context *)&k->pk);
    mbedtls_x509write_crt_set_issuer_key(&w, (mbedtls_pk_context *)&k->pk);
    unsigned char *buf = malloc(4096);
    int r = UW_EIO;
    if (!buf) r = UW_ENOMEM;
    else if (mbedtls_x509write_crt_set_serial_raw(&w, serial, sizeof serial) == 0 &&
             mbedtls_x509write_crt_set_validity(&w, from, until) == 0 &&
             mbedtls_x509write_crt_set_subject_name(&w, subject) == 0 &&
             mbedtls_x509write_crt_set_issuer_name(&w, subject) == 0 &&
             mbedtls_x509write_crt_set_subject_alternative_name(&w, san_list(&san, &name, 1)) == 0 &&
             mbedtls_x509write_crt_set_extension(&w, oid, sizeof oid - 1, 1, value, sizeof value) == 0 &&
             mbedtls_x509write_crt_pem(&w, buf, 4096, rng, NULL) == 0)
        r = dup_text(buf, pem, len);
    free(buf);
    mbedtls_x509write_crt_free(&w);
    return r;
}
