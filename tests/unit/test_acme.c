/* Unit tests of the ACME client's parts without a server: base64url, the
 * --acme-* options, the crypto interface (keys, ES256 checked by OpenSSL,
 * the CSR, the TLS-ALPN-01 certificate, certificate facts). */
#include "../check.h"
#include "../../src/acme/acme_internal.h"
#include "../../src/acme/acme_crypto.h"

#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <uweb/block.h>

#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static void test_b64url(void)
{
    char out[64];
    /* RFC 4648 section 10, in the URL alphabet without padding */
    static const struct { const char *in, *out; } v[] = {
        { "", "" }, { "f", "Zg" }, { "fo", "Zm8" }, { "foo", "Zm9v" },
        { "foob", "Zm9vYg" }, { "fooba", "Zm9vYmE" }, { "foobar", "Zm9vYmFy" },
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        CHECK_EQ_INT(acme_b64url(v[i].in, strlen(v[i].in), out, sizeof out), strlen(v[i].out));
        CHECK_EQ_STR(out, v[i].out);
    }
    const unsigned char url[] = { 0xfb, 0xff, 0xfe };
    acme_b64url(url, sizeof url, out, sizeof out);
    CHECK_EQ_STR(out, "-__-");
    /* too small: cut, still terminated */
    CHECK_EQ_INT(acme_b64url("foobar", 6, out, 4), 3);
    CHECK_EQ_STR(out, "Zm9");
}

static void test_options(void)
{
    uw_acme_config c = { 0 };
    CHECK_EQ_INT(uw_acme_option(&c, "--port=80"), 0);
    CHECK_EQ_INT(uw_acme_option(&c, "--acme-directory=https://acme.test/dir"), 1);
    CHECK_EQ_STR(c.directory, "https://acme.test/dir");
    CHECK_EQ_INT(uw_acme_option(&c, "--acme=http://127.0.0.1:14000/dir"), 1);
    CHECK_EQ_STR(c.directory, "http://127.0.0.1:14000/dir");
    CHECK_EQ_INT(uw_acme_option(&c, "--acme-directory=ftp://x"), -1);
    CHECK_EQ_INT(uw_acme_config_check(&c, "test"), UW_EINVAL);    /* no domain yet */
    CHECK_EQ_INT(uw_acme_option(&c, "--acme-domain=a.test,b.test"), 1);
    CHECK_EQ_INT(uw_acme_option(&c, "--acme-domain=c.test"), 1);
    CHECK_EQ_INT(c.ndomains, 3);
    CHECK_EQ_STR(c.domains[1], "b.test");
    CHECK_EQ_INT(uw_acme_option(&c, "--acme-domain=a.test,,b"), -1);
    CHECK_EQ_INT(uw_acme_option(&c, "--acme-domain=http://x"), -1);
    CHECK_EQ_INT(uw_acme_option(&c, "--acme-domain=*.a.test"), -1);
    CHECK_EQ_INT(uw_acme_option(&c, "--acme-challenge=tls-alpn-01"), 1);
    CHECK_EQ_INT(c.challenge, UW_ACME_CHALLENGE_TLSALPN01);
    CHECK_EQ_INT(uw_acme_option(&c, "--acme-challenge=dns-01"), -1);
    CHECK_EQ_INT(uw_acme_option(&c, "--acme-renew-after=30"), 1);
    CHECK_EQ_INT(c.renew_after, UW_SEC(30));
    CHECK_EQ_INT(uw_acme_option(&c, "--acme-renew-after=-1"), -1);
    CHECK_EQ_INT(uw_acme_option(&c, "--acme-email=a@b.test"), 1);
    CHECK_EQ_INT(uw_acme_option(&c, "--acme-agree-tos"), 1);
    CHECK(c.agree_tos);
    CHECK_EQ_INT(uw_acme_config_check(&c, "test"), UW_OK);
    uw_acme_config off = { 0 };
    CHECK_EQ_INT(uw_acme_config_check(&off, "test"), UW_OK);
    off.ndomains = 1;
    CHECK_EQ_INT(uw_acme_config_check(&off, "test"), UW_EINVAL);  /* a domain, no directory */
    CHECK(strstr(uw_acme_options_help(), "--acme-directory=URL") != NULL);
    for (size_t i = 0; i < c.ndomains; i++) free((char *)c.domains[i]);
}

static EVP_PKEY *public_of(const acme_key *k)
{
    char *pem;
    size_t len;
    if (acme_key_to_pem(k, &pem, &len) != UW_OK) return NULL;
    BIO *b = BIO_new_mem_buf(pem, (int)len);
    EVP_PKEY *p = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
    BIO_free(b);
    free(pem);
    return p;
}

static void test_keys_and_es256(void)
{
    acme_key *k, *k2;
    CHECK_EQ_INT(acme_key_generate(&k), UW_OK);
    char *pem;
    size_t len;
    CHECK_EQ_INT(acme_key_to_pem(k, &pem, &len), UW_OK);
    CHECK(strstr(pem, "PRIVATE KEY") != NULL);
    CHECK_EQ_INT(acme_key_from_pem(&k2, pem, len), UW_OK);
    unsigned char x[32], y[32], x2[32], y2[32];
    CHECK_EQ_INT(acme_key_public(k, x, y), UW_OK);
    CHECK_EQ_INT(acme_key_public(k2, x2, y2), UW_OK);
    CHECK_EQ_MEM(x, 32, x2, 32);
    CHECK_EQ_MEM(y, 32, y2, 32);
    CHECK_EQ_INT(acme_key_from_pem(&k2, "garbage", 7) == UW_OK, 0);
    free(pem);

    /* ES256: r || s, checked by OpenSSL's verifier */
    const char msg[] = "eyJhbGciOiJFUzI1NiJ9.eyJ0ZXN0Ijp0cnVlfQ";
    unsigned char sig[64];
    CHECK_EQ_INT(acme_sign_es256(k, msg, strlen(msg), sig), UW_OK);
    ECDSA_SIG *es = ECDSA_SIG_new();
    ECDSA_SIG_set0(es, BN_bin2bn(sig, 32, NULL), BN_bin2bn(sig + 32, 32, NULL));
    unsigned char *der = NULL;
    int dl = i2d_ECDSA_SIG(es, &der);
    EVP_PKEY *p = public_of(k);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    CHECK(p && EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, p) == 1);
    CHECK_EQ_INT(EVP_DigestVerify(ctx, der, (size_t)dl, (const unsigned char *)msg, strlen(msg)), 1);
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(p);
    OPENSSL_free(der);
    ECDSA_SIG_free(es);

    unsigned char d[32];
    acme_sha256("abc", 3, d);
    static const unsigned char abc[4] = { 0xba, 0x78, 0x16, 0xbf };   /* FIPS 180-2 */
    CHECK_EQ_MEM(d, 4, abc, 4);
    acme_key_free(k);
    acme_key_free(k2);
}

static void test_csr(void)
{
    acme_key *k;
    CHECK_EQ_INT(acme_key_generate(&k), UW_OK);
    const char *names[] = { "a.test", "www.a.test" };
    unsigned char *der;
    size_t len;
    CHECK_EQ_INT(acme_csr(k, names, 2, &der, &len), UW_OK);
    const unsigned char *p = der;
    X509_REQ *req = d2i_X509_REQ(NULL, &p, (long)len);
    CHECK(req != NULL);
    if (req) {
        EVP_PKEY *pub = X509_REQ_get0_pubkey(req);
        CHECK_EQ_INT(X509_REQ_verify(req, pub), 1);
        STACK_OF(X509_EXTENSION) *exts = X509_REQ_get_extensions(req);
        GENERAL_NAMES *gens = NULL;
        for (int i = 0; i < sk_X509_EXTENSION_num(exts) && !gens; i++) {
            X509_EXTENSION *e = sk_X509_EXTENSION_value(exts, i);
            if (OBJ_obj2nid(X509_EXTENSION_get_object(e)) == NID_subject_alt_name) gens = X509V3_EXT_d2i(e);
        }
        CHECK(gens && sk_GENERAL_NAME_num(gens) == 2);
        for (int i = 0; gens && i < sk_GENERAL_NAME_num(gens) && i < 2; i++) {
            GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
            CHECK_EQ_INT(g->type, GEN_DNS);
            CHECK_EQ_STR((const char *)ASN1_STRING_get0_data(g->d.dNSName), names[i]);
        }
        GENERAL_NAMES_free(gens);
        sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
        X509_REQ_free(req);
    }
    free(der);
    CHECK_EQ_INT(acme_csr(k, names, 0, &der, &len), UW_EINVAL);
    acme_key_free(k);
}

static void test_alpn_cert(void)
{
    acme_key *k, *other;
    CHECK_EQ_INT(acme_key_generate(&k), UW_OK);
    CHECK_EQ_INT(acme_key_generate(&other), UW_OK);
    unsigned char digest[32];
    for (int i = 0; i < 32; i++) digest[i] = (unsigned char)i;
    char *pem;
    size_t len;
    CHECK_EQ_INT(acme_alpn_cert(k, "a.test", digest, &pem, &len), UW_OK);
    BIO *b = BIO_new_mem_buf(pem, (int)len);
    X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
    BIO_free(b);
    CHECK(x != NULL);
    if (x) {
        ASN1_OBJECT *oid = OBJ_txt2obj("1.3.6.1.5.5.7.1.31", 1);
        int at = X509_get_ext_by_OBJ(x, oid, -1);
        CHECK(at >= 0);
        X509_EXTENSION *e = at >= 0 ? X509_get_ext(x, at) : NULL;
        CHECK(e && X509_EXTENSION_get_critical(e) == 1);
        if (e) {
            ASN1_OCTET_STRING *v = X509_EXTENSION_get_data(e);
            CHECK_EQ_INT(ASN1_STRING_length(v), 34);
            const unsigned char *d = ASN1_STRING_get0_data(v);
            CHECK(d[0] == 0x04 && d[1] == 0x20 && memcmp(d + 2, digest, 32) == 0);
        }
        ASN1_OBJECT_free(oid);
        X509_free(x);
    }
    acme_cert_info info;
    CHECK_EQ_INT(acme_cert_info_get(pem, len, &info), UW_OK);
    int64_t now = (int64_t)time(NULL);
    CHECK(info.not_before < now && info.not_after > now + 6 * 86400);
    const char *name = "a.test", *wrong = "b.test";
    CHECK_EQ_INT(acme_cert_matches(pem, len, k, &name, 1), UW_OK);
    CHECK_EQ_INT(acme_cert_matches(pem, len, k, &wrong, 1), UW_EINVAL);
    CHECK_EQ_INT(acme_cert_matches(pem, len, other, &name, 1), UW_EINVAL);
    CHECK_EQ_INT(acme_cert_info_get("x", 1, &info), UW_EINVAL);
    free(pem);
    acme_key_free(k);
    acme_key_free(other);
}

/* The block device "acme": regions written and read back, sizes refused. */
static void test_block_store(void)
{
    char path[] = "/tmp/uweb-acme-blockXXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0 && ftruncate(fd, 65536) == 0);
    close(fd);
    char why[200] = "";
    CHECK_EQ_INT(uw_block_attach(ACME_BLOCK, path, 0), UW_OK);
    CHECK_EQ_INT(acme_block_check(why, sizeof why), UW_OK);
    size_t len = 0;
    CHECK(acme_block_read("account.key", &len) == NULL);       /* empty */
    CHECK_EQ_INT(acme_block_write("account.key", "KEY-A", 5), UW_OK);
    CHECK_EQ_INT(acme_block_write("cert.pem", "CHAIN", 5), UW_OK);
    CHECK_EQ_INT(acme_block_write("cert.key", "KEY-C", 5), UW_OK);
    CHECK_EQ_INT(acme_block_write("cert.key", "KEY", 3), UW_OK);   /* shorter: the rest is cleared */
    char *a = acme_block_read("account.key", &len), *c = acme_block_read("cert.pem", &len),
         *k = acme_block_read("cert.key", &len);
    CHECK_EQ_STR(a, "KEY-A");
    CHECK_EQ_STR(c, "CHAIN");
    CHECK_EQ_STR(k, "KEY");
    CHECK_EQ_INT(len, 3);
    free(a);
    free(c);
    free(k);
    static char big[8192];
    memset(big, 'x', sizeof big);
    CHECK_EQ_INT(acme_block_write("account.key", big, sizeof big), UW_ELIMIT);
    CHECK_EQ_INT(acme_block_write("other", "x", 1), UW_ELIMIT);
    CHECK(truncate(path, 4096) == 0);
    CHECK_EQ_INT(uw_block_attach(ACME_BLOCK, path, 0), UW_OK);
    CHECK_EQ_INT(acme_block_check(why, sizeof why), UW_EINVAL);
    CHECK(strstr(why, "needs 65536 writable bytes") != NULL);
    unlink(path);
}

/* The task against a directory nobody serves: one line per attempt, no
 * certificate, and uw_acme_stop ends it (ASan's leak check sees the rest). */
static void stop_later(void *arg)
{
    uw_sleep(UW_SEC(1) / 2);
    uw_acme_stop(arg);
}

static void test_lifecycle(void)
{
    CHECK_EQ_INT(uw_rt_init(), UW_OK);
    uw_tls_config *tls;
    CHECK_EQ_INT(uw_tls_config_new(&tls, NULL), UW_TLS_OK);
    FILE *log = tmpfile();
    uw_acme_config cfg = { .directory = "http://127.0.0.1:1/dir", .domains = { "a.test" }, .ndomains = 1,
                           .retry_min = UW_SEC(1) / 10, .name = "t", .log = log };
    uw_acme *a;
    CHECK_EQ_INT(uw_acme_new(&a, &cfg, tls), UW_OK);
    CHECK_EQ_INT(uw_acme_start(a), UW_OK);
    uw_task *t = uw_spawn(stop_later, a, 0);
    CHECK(t != NULL);
    uw_detach(t);
    uw_rt_run();                 /* returns once both tasks ended */
    CHECK(!uw_acme_has_cert(a));
    CHECK_EQ_INT(uw_acme_not_after(a), 0);
    uw_acme_free(a);
    uw_tls_config_free(tls);
    uw_rt_fini();
    char line[512] = "";
    rewind(log);
    CHECK(fgets(line, sizeof line, log) != NULL);
    CHECK(strstr(line, "t: acme: directory: http://127.0.0.1:1/dir: ") == line);
    CHECK(strstr(line, "; no certificate yet, next attempt in 0 s\n") != NULL);
    fclose(log);
}

int main(void)
{
    RUN(test_b64url);
    RUN(test_options);
    RUN(test_keys_and_es256);
    RUN(test_csr);
    RUN(test_alpn_cert);
    RUN(test_lifecycle);
    RUN(test_block_store);
    return CHECK_DONE();
}
