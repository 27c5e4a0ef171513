/*
 * The TLS engine on mbedTLS 3.6 (the unikernels, and unix with
 * TLS=mbedtls), and uw_random on mbedTLS's CTR_DRBG.
 *
 * Randomness: one CTR_DRBG (AES-256) for the process, seeded on first use
 * from the target's seed (seed.h: getrandom on unix, uw_plat_seed on the
 * unikernels); PSA's generator (MBEDTLS_PSA_CRYPTO_EXTERNAL_RNG,
 * used by TLS 1.3's key exchange) is the same DRBG.  Nothing random is
 * made before it is seeded: uw_tls_config_new seeds it first and fails if
 * it cannot.
 *
 * Bytes: the SSL context's send and receive callbacks append to the
 * engine's output buffer and take from its input buffer (tls_common.c),
 * so mbedTLS never blocks and never touches a socket.
 *
 * Certificates: every slot holds a reference-counted chain + key; the
 * certificate callback (after the whole ClientHello, ALPN chosen) picks
 * one by SNI and ALPN and the engine keeps a reference until it is freed,
 * so uw_tls_set_cert can swap a slot while older handshakes go on.
 * ACME: when an ACME certificate exists, "acme-tls/1" is offered last in
 * the ALPN list; a client whose choice ends up "acme-tls/1" (it offered
 * none of the listener's protocols) gets the ACME certificate naming its
 * SNI, or is refused.
 *
 * Tickets: mbedtls_ssl_ticket (AES-256-GCM) with keys made by the DRBG;
 * mbedTLS keeps the current and the previous key and makes a new one
 * every ticket_rotation (its lifetime); uw_tls_rotate_tickets forces one.
 * No server-side session cache.
 *
 * Memory: uw_tls_shrink frees our buffers and, when they hold nothing,
 * swaps mbedTLS's two record buffers (about 2 x 16.7 KiB) for 64-byte
 * ones, keeping the offsets into them; the next read or write makes them
 * full again (park / unpark: this touches private fields of
 * mbedtls_ssl_context, so it is tied to mbedTLS 3.6, checked by
 * tests/unit/test_tls.c and the tls test unikernel).  Measured by
 * tests/unit/test_tls.c ("idle bytes").
 */
/* The record buffers of an idle connection are given back (park below):
 * that touches fields of mbedtls_ssl_context that are private in 3.6. */
#define MBEDTLS_ALLOW_PRIVATE_ACCESS
#include "tls_internal.h"
#include "seed.h"
#include <uweb/random.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/pem.h>
#include <mbedtls/pk.h>
#include <mbedtls/platform.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/ssl.h>
#include <mbedtls/ssl_ticket.h>
#include <mbedtls/x509_crt.h>
#include <psa/crypto.h>

#define MAX_SLOTS 64

/* A chain and its key, shared by a slot and the engines that chose it. */
typedef struct certkey {
    int refs;
    mbedtls_x509_crt chain;
    mbedtls_pk_context key;
} certkey;

/* A slot's certificate object (uw_tls_slot.cert) is its certkey. */
typedef uw_tls_slot slot;
#define SLOT_CK(sl) ((certkey *)(sl)->cert)

struct uw_tls_config {
    uw_tls_options opt;
    bool client;                /* a client configuration (uw_tls_client_config_new) */
    bool insecure;
    mbedtls_x509_crt ca;        /* a client's trusted CAs */
    unsigned char alpn[256 * UW_TLS_MAX_ALPN];     /* wire form */
    size_t alpn_len;
    char alpn_names[UW_TLS_MAX_ALPN][256];          /* the same, NUL-terminated */
    const char *alpn_list[UW_TLS_MAX_ALPN + 2];     /* mbedTLS's list: ours, then maybe ACME */
    mbedtls_ssl_config conf;
    mbedtls_ssl_ticket_context ticket;
    slot slots[MAX_SLOTS];
    uw_tls *stepping;           /* the engine inside mbedtls_ssl_handshake (ticket callback) */
};

struct uw_tls {
    struct uw_tls_core core;    /* first: tls_common.c works on it */
    uw_tls_config *cfg;
    mbedtls_ssl_context ssl;
    certkey *ck;                /* the certificate chosen, referenced */
    const char *alpn;           /* the protocol chosen: into cfg->alpn_names, or ACME */
    char *sni;
    bool ticket_ok;             /* a ticket of ours was accepted during the handshake */
    bool resumed;
    unsigned hello_version;     /* legacy_version of the ClientHello, 0 until seen */
    size_t in_full, out_full;   /* record buffer sizes while parked, 0 when not parked */
    char cipher[80];
};

/* ------------------------------------------------------------ random */

static mbedtls_ctr_drbg_context drbg;
static int drbg_state;          /* 0 unseeded, 1 seeded, -1 seeding failed */

static int seed_source(void *p, unsigned char *out, size_t len, size_t *olen)
{
    (void)p;
    if (len > 32) len = 32;
    if (len == 0 || uw_tls__seed(out, len) != 0) return MBEDTLS_ERR_ENTROPY_SOURCE_FAILED;
    *olen = len;
    return 0;
}

static bool drbg_ready(void)
{
    if (drbg_state == 0) {
        static mbedtls_entropy_context entropy;
        mbedtls_entropy_init(&entropy);
        mbedtls_ctr_drbg_init(&drbg);
        static const char pers[] = "uweb uw_random";
        drbg_state = mbedtls_entropy_add_source(&entropy, seed_source, NULL, 32, MBEDTLS_ENTROPY_SOURCE_STRONG) == 0
                && mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy, (const unsigned char *)pers,
                                         sizeof pers - 1) == 0
            ? 1 : -1;
        if (drbg_state == 1) psa_crypto_init();
    }
    return drbg_state == 1;
}

int uw_random(void *buf, size_t n)
{
    unsigned char *p = buf;
    size_t left = n;
    if (n == 0) return UW_OK;
    if (!drbg_ready()) {
        memset(buf, 0, n);
        return UW_EIO;
    }
    while (left > 0) {
        size_t k = left > MBEDTLS_CTR_DRBG_MAX_REQUEST ? MBEDTLS_CTR_DRBG_MAX_REQUEST : left;
        if (mbedtls_ctr_drbg_random(&drbg, p, k) != 0) {
            memset(buf, 0, n);
            return UW_EIO;
        }
        p += k;
        left -= k;
    }
    return UW_OK;
}

/* mbedTLS's f_rng on uw_random. */
static int rng(void *p, unsigned char *out, size_t n)
{
    (void)p;
    return uw_random(out, n) == UW_OK ? 0 : MBEDTLS_ERR_CTR_DRBG_ENTROPY_SOURCE_FAILED;
}

/* PSA's generator (MBEDTLS_PSA_CRYPTO_EXTERNAL_RNG). */
psa_status_t mbedtls_psa_external_get_random(mbedtls_psa_external_random_context_t *ctx, uint8_t *out,
                                             size_t size, size_t *len)
{
    (void)ctx;
    if (uw_random(out, size) != UW_OK) return PSA_ERROR_INSUFFICIENT_ENTROPY;
    *len = size;
    return PSA_SUCCESS;
}

/* ------------------------------------------------------------ bytes */

static int bio_send(void *p, const unsigned char *buf, size_t n)
{
    uw_tls *t = p;
    if (!uw_tls__out_put(&t->core, buf, n)) return MBEDTLS_ERR_SSL_ALLOC_FAILED;
    return (int)n;
}

static int bio_recv(void *p, unsigned char *buf, size_t n)
{
    uw_tls *t = p;
    size_t k = uw_tls__in_take(&t->core, buf, n);
    return k ? (int)k : MBEDTLS_ERR_SSL_WANT_READ;
}

/* ------------------------------------------------------------ tickets */

void uw_tls_rotate_tickets(uw_tls_config *cfg)
{
    unsigned char name[4], key[32];
    if (uw_random(name, sizeof name) != UW_OK || uw_random(key, sizeof key) != UW_OK) return;
    mbedtls_ssl_ticket_rotate(&cfg->ticket, name, sizeof name, key, sizeof key,
                              (uint32_t)(cfg->opt.ticket_rotation / 1000000000));
    mbedtls_platform_zeroize(key, sizeof key);
}

static int ticket_write(void *p, const mbedtls_ssl_session *session, unsigned char *start,
                        const unsigned char *end, size_t *len, uint32_t *lifetime)
{
    uw_tls_config *cfg = p;
    return mbedtls_ssl_ticket_write(&cfg->ticket, session, start, end, len, lifetime);
}

/* Marks the engine in the handshake as resuming when its ticket is ours. */
static int ticket_parse(void *p, mbedtls_ssl_session *session, unsigned char *buf, size_t len)
{
    uw_tls_config *cfg = p;
    int r = mbedtls_ssl_ticket_parse(&cfg->ticket, session, buf, len);
    if (r == 0 && cfg->stepping) cfg->stepping->ticket_ok = true;
    return r;
}

/* ------------------------------------------------------------ ClientHello: certificate */

static void certkey_put(certkey *ck)
{
    if (!ck || --ck->refs > 0) return;
    mbedtls_x509_crt_free(&ck->chain);
    mbedtls_pk_free(&ck->key);
    free(ck);
}

static int cert_cb(mbedtls_ssl_context *ssl)
{
    uw_tls *t = mbedtls_ssl_get_user_data_p(ssl);
    uw_tls_config *cfg = t->cfg;
    char host[256];
    size_t sni_len = 0;
    const unsigned char *sni = mbedtls_ssl_get_hs_sni(ssl, &sni_len);
    bool have_host = uw_tls__sni_host(sni, sni_len, host, sizeof host);
    if (have_host) {
        free(t->sni);
        t->sni = strdup(host);
    }
    const char *alpn = mbedtls_ssl_get_alpn_protocol(ssl);
    bool acme = alpn && strcmp(alpn, UW_TLS_ALPN_ACME) == 0;
    slot *chosen = uw_tls__pick_slot(cfg->slots, MAX_SLOTS, have_host ? host : NULL, acme, true);
    if (!chosen) {
        uw_tls__fail(&t->core, UW_TLS_EHANDSHAKE, "no certificate for %s", have_host ? host : "(no SNI)");
        return MBEDTLS_ERR_SSL_HANDSHAKE_FAILURE;
    }
    certkey_put(t->ck);
    t->ck = SLOT_CK(chosen);
    t->ck->refs++;
    t->alpn = NULL;
    if (acme) {
        t->alpn = UW_TLS_ALPN_ACME;
    } else if (alpn) {
        for (size_t i = 0; i < UW_TLS_MAX_ALPN && cfg->alpn_names[i][0]; i++)
            if (strcmp(cfg->alpn_names[i], alpn) == 0) t->alpn = cfg->alpn_names[i];
    }
    return mbedtls_ssl_set_hs_own_cert(ssl, &t->ck->chain, &t->ck->key);
}

/* mbedTLS's ALPN list: ours, then "acme-tls/1" while an ACME certificate exists. */
static void alpn_list_update(uw_tls_config *cfg)
{
    size_t n = 0;
    for (size_t i = 0; i < UW_TLS_MAX_ALPN && cfg->alpn_names[i][0]; i++) cfg->alpn_list[n++] = cfg->alpn_names[i];
    bool acme = false;
    for (int i = 0; i < MAX_SLOTS; i++) acme |= cfg->slots[i].used && cfg->slots[i].kind == UW_TLS_CERT_ACME;
    if (acme) cfg->alpn_list[n++] = UW_TLS_ALPN_ACME;
    cfg->alpn_list[n] = NULL;
}

/* ------------------------------------------------------------ configuration */

static const int suites13[] = {
    MBEDTLS_TLS1_3_AES_128_GCM_SHA256, MBEDTLS_TLS1_3_AES_256_GCM_SHA384, MBEDTLS_TLS1_3_CHACHA20_POLY1305_SHA256,
};
static const int suites12[] = {
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, MBEDTLS_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, MBEDTLS_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
};
static int suites[sizeof suites13 / sizeof *suites13 + sizeof suites12 / sizeof *suites12 + 1];
/* The suites in mbedTLS's form: TLS 1.3's, then TLS 1.2's. */
static void suites_init(void)
{
    if (suites[0]) return;
    size_t n = 0;
    for (size_t i = 0; i < sizeof suites13 / sizeof *suites13; i++) suites[n++] = suites13[i];
    for (size_t i = 0; i < sizeof suites12 / sizeof *suites12; i++) suites[n++] = suites12[i];
    suites[n] = 0;
}
static const uint16_t groups[] = { MBEDTLS_SSL_IANA_TLS_GROUP_X25519, MBEDTLS_SSL_IANA_TLS_GROUP_SECP256R1,
                                   MBEDTLS_SSL_IANA_TLS_GROUP_NONE };

int uw_tls_config_new(uw_tls_config **out, const uw_tls_options *opt)
{
    if (!drbg_ready()) return UW_TLS_EINVAL;       /* no seed: no key may be made */
    uw_tls_config *cfg = calloc(1, sizeof *cfg);
    if (!cfg) return UW_TLS_ENOMEM;
    if (opt) cfg->opt = *opt;
    if (cfg->opt.ticket_rotation <= 0) cfg->opt.ticket_rotation = UW_TLS_DEFAULT_ROTATION;
    if (cfg->opt.max_handshake == 0) cfg->opt.max_handshake = UW_TLS_DEFAULT_MAX_HANDSHAKE;
    cfg->opt.alpn = NULL;
    if (uw_tls__alpn_wire(opt ? opt->alpn : NULL, cfg->alpn, &cfg->alpn_len) != UW_TLS_OK) {
        free(cfg);
        return UW_TLS_EINVAL;
    }
    for (size_t i = 0; opt && opt->alpn && opt->alpn[i]; i++)
        memcpy(cfg->alpn_names[i], opt->alpn[i], strlen(opt->alpn[i]) + 1);
    alpn_list_update(cfg);
    suites_init();
    mbedtls_ssl_config *c = &cfg->conf;
    mbedtls_ssl_config_init(c);
    mbedtls_ssl_ticket_init(&cfg->ticket);
    int r = mbedtls_ssl_config_defaults(c, MBEDTLS_SSL_IS_SERVER, MBEDTLS_SSL_TRANSPORT_STREAM,
                                        MBEDTLS_SSL_PRESET_DEFAULT);
    if (r == 0) {
        mbedtls_ssl_conf_rng(c, rng, NULL);
        mbedtls_ssl_conf_min_tls_version(c, cfg->opt.modern ? MBEDTLS_SSL_VERSION_TLS1_3 : MBEDTLS_SSL_VERSION_TLS1_2);
        mbedtls_ssl_conf_max_tls_version(c, MBEDTLS_SSL_VERSION_TLS1_3);
        mbedtls_ssl_conf_ciphersuites(c, suites);
        mbedtls_ssl_conf_groups(c, groups);
        mbedtls_ssl_conf_authmode(c, MBEDTLS_SSL_VERIFY_NONE);
        mbedtls_ssl_conf_cert_cb(c, cert_cb);
        r = mbedtls_ssl_conf_alpn_protocols(c, cfg->alpn_list);
    }
    if (r == 0 && !cfg->opt.no_tickets) {
        r = mbedtls_ssl_ticket_setup(&cfg->ticket, rng, NULL, MBEDTLS_CIPHER_AES_256_GCM,
                                     (uint32_t)(cfg->opt.ticket_rotation / 1000000000));
        if (r == 0) mbedtls_ssl_conf_session_tickets_cb(c, ticket_write, ticket_parse, cfg);
    }
    if (r == 0 && cfg->opt.no_tickets) mbedtls_ssl_conf_new_session_tickets(c, 0);
    if (r != 0) {
        mbedtls_ssl_ticket_free(&cfg->ticket);
        mbedtls_ssl_config_free(c);
        free(cfg);
        return r == MBEDTLS_ERR_SSL_ALLOC_FAILED ? UW_TLS_ENOMEM : UW_TLS_EINVAL;
    }
    *out = cfg;
    return UW_TLS_OK;
}

static void slot_clear(slot *sl)
{
    certkey_put(SLOT_CK(sl));
    uw_tls__names_clear(&sl->names);
    memset(sl, 0, sizeof *sl);
}

void uw_tls_config_free(uw_tls_config *cfg)
{
    if (!cfg) return;
    for (int i = 0; i < MAX_SLOTS; i++) slot_clear(&cfg->slots[i]);
    mbedtls_ssl_ticket_free(&cfg->ticket);
    mbedtls_ssl_config_free(&cfg->conf);
    mbedtls_x509_crt_free(&cfg->ca);
    free(cfg);
}

static int set_err(char *err, size_t errlen, const char *what, int code)
{
    if (err && errlen) {
        if (code) {
            char e[100];
            mbedtls_strerror(code, e, sizeof e);
            snprintf(err, errlen, "%s: %s", what, e);
        } else {
            snprintf(err, errlen, "%s", what);
        }
    }
    return UW_TLS_EINVAL;
}

/* The leaf's subjectAltName DNS names and IP addresses into sl. */
static int leaf_names(const mbedtls_x509_crt *leaf, slot *sl)
{
    for (const mbedtls_x509_sequence *s = &leaf->subject_alt_names; s; s = s->next) {
        if (!s->buf.p) continue;
        mbedtls_x509_subject_alternative_name san;
        if (mbedtls_x509_parse_subject_alt_name(&s->buf, &san) != 0) continue;
        const mbedtls_x509_buf *b = &san.san.unstructured_name;
        if (san.type == MBEDTLS_X509_SAN_DNS_NAME) uw_tls__names_add_dns(&sl->names, b->p, b->len);
        else if (san.type == MBEDTLS_X509_SAN_IP_ADDRESS) uw_tls__names_add_ip(&sl->names, b->p, b->len);
        mbedtls_x509_free_subject_alt_name(&san);
    }
    return (int)sl->names.n;
}

/* mbedTLS parses PEM only from a NUL-terminated buffer. */
static unsigned char *nul_copy(const void *p, size_t n)
{
    unsigned char *s = malloc(n + 1);
    if (!s) return NULL;
    memcpy(s, p, n);
    s[n] = 0;
    return s;
}

/* The acmeIdentifier extension (RFC 8737, id-pe-acmeIdentifier
 * 1.3.6.1.5.5.7.1.31), critical in a TLS-ALPN-01 challenge certificate,
 * which mbedTLS does not know: accepted, other unknown critical
 * extensions still refused. */
static int acme_ext(void *ctx, const mbedtls_x509_crt *crt, const mbedtls_x509_buf *oid, int critical,
                    const unsigned char *p, const unsigned char *end)
{
    static const unsigned char acme_id[] = { 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x01, 0x1f };
    (void)ctx, (void)crt, (void)critical, (void)p, (void)end;
    return oid->len == sizeof acme_id && memcmp(oid->p, acme_id, sizeof acme_id) == 0 ? 0 : -1;
}

int uw_tls__mbedtls_parse_chain(mbedtls_x509_crt *crt, const unsigned char *pem, size_t len)
{
    int n = 0;
    while (len > 1) {
        mbedtls_pem_context ctx;
        size_t used = 0, der_len;
        mbedtls_pem_init(&ctx);
        int e = mbedtls_pem_read_buffer(&ctx, "-----BEGIN CERTIFICATE-----", "-----END CERTIFICATE-----", pem,
                                        NULL, 0, &used);
        const unsigned char *der = e == 0 ? mbedtls_pem_get_buffer(&ctx, &der_len) : NULL;
        if (der) e = mbedtls_x509_crt_parse_der_with_ext_cb(crt, der, der_len, 1, acme_ext, NULL);
        mbedtls_pem_free(&ctx);
        if (e == MBEDTLS_ERR_PEM_NO_HEADER_FOOTER_PRESENT && n > 0) return 0;
        if (e != 0) return e;
        n++;
        pem += used, len -= used;
    }
    return n ? 0 : MBEDTLS_ERR_PEM_NO_HEADER_FOOTER_PRESENT;
}

/* Loads chain + key into *sl (names too). */
static int load_slot(slot *sl, const void *chain_pem, size_t chain_len, const void *key_pem, size_t key_len,
                     char *err, size_t errlen)
{
    memset(sl, 0, sizeof *sl);
    if (!chain_pem || !key_pem) return set_err(err, errlen, "no certificate or key", 0);
    certkey *ck = calloc(1, sizeof *ck);
    unsigned char *chain = nul_copy(chain_pem, chain_len), *key = nul_copy(key_pem, key_len);
    if (!ck || !chain || !key) {
        free(ck);
        free(chain);
        free(key);
        return UW_TLS_ENOMEM;
    }
    ck->refs = 1;
    mbedtls_x509_crt_init(&ck->chain);
    mbedtls_pk_init(&ck->key);
    int r = UW_TLS_OK, e;
    if (!memmem(chain, chain_len, "-----BEGIN CERTIFICATE-----", 27))
        r = set_err(err, errlen, "certificate chain: no PEM certificate", 0);
    else if ((e = uw_tls__mbedtls_parse_chain(&ck->chain, chain, chain_len + 1)) != 0)
        r = set_err(err, errlen, (-e & 0xff80) == -MBEDTLS_ERR_PK_UNKNOWN_NAMED_CURVE
                                     ? "certificate: ECDSA keys must be on P-256" : "certificate chain", e);
    if (r == UW_TLS_OK && (e = mbedtls_pk_parse_key(&ck->key, key, key_len + 1, NULL, 0, rng, NULL)) != 0)
        r = set_err(err, errlen, "private key: no unencrypted PEM key", e);
    if (r == UW_TLS_OK) {
        mbedtls_pk_type_t type = mbedtls_pk_get_type(&ck->key);
        if (type == MBEDTLS_PK_ECKEY) {
            if (mbedtls_ecp_keypair_get_group_id(mbedtls_pk_ec(ck->key)) != MBEDTLS_ECP_DP_SECP256R1)
                r = set_err(err, errlen, "private key: ECDSA keys must be on P-256", 0);
        } else if (type == MBEDTLS_PK_RSA) {
            if (mbedtls_pk_get_bitlen(&ck->key) < 2048)
                r = set_err(err, errlen, "private key: RSA keys need 2048 bits or more", 0);
        } else {
            r = set_err(err, errlen, "private key: neither ECDSA P-256 nor RSA", 0);
        }
    }
    if (r == UW_TLS_OK && mbedtls_pk_check_pair(&ck->chain.pk, &ck->key, rng, NULL) != 0)
        r = set_err(err, errlen, "private key does not match the certificate", 0);
    if (r == UW_TLS_OK && leaf_names(&ck->chain, sl) == 0)
        r = set_err(err, errlen, "certificate names no host (no subjectAltName DNS or IP entry)", 0);
    mbedtls_platform_zeroize(key, key_len);
    free(key);
    free(chain);
    if (r != UW_TLS_OK) {
        certkey_put(ck);
        uw_tls__names_clear(&sl->names);
        memset(sl, 0, sizeof *sl);
        return r;
    }
    sl->cert = ck;
    sl->used = true;
    return UW_TLS_OK;
}

int uw_tls_add_cert(uw_tls_config *cfg, int kind, const void *chain_pem, size_t chain_len,
                    const void *key_pem, size_t key_len, char *err, size_t errlen)
{
    if (kind != UW_TLS_CERT_DEFAULT && kind != UW_TLS_CERT_ACME) return set_err(err, errlen, "bad certificate kind", 0);
    for (int i = 0; i < MAX_SLOTS; i++) {
        if (cfg->slots[i].used) continue;
        int r = load_slot(&cfg->slots[i], chain_pem, chain_len, key_pem, key_len, err, errlen);
        if (r != UW_TLS_OK) return r;
        cfg->slots[i].kind = kind;
        alpn_list_update(cfg);
        return i;
    }
    return set_err(err, errlen, "too many certificates", 0);
}

int uw_tls_set_cert(uw_tls_config *cfg, int slot_no, const void *chain_pem, size_t chain_len,
                    const void *key_pem, size_t key_len, char *err, size_t errlen)
{
    if (slot_no < 0 || slot_no >= MAX_SLOTS || !cfg->slots[slot_no].used)
        return set_err(err, errlen, "no such certificate slot", 0);
    slot fresh;
    int r = load_slot(&fresh, chain_pem, chain_len, key_pem, key_len, err, errlen);
    if (r != UW_TLS_OK) return r;
    fresh.kind = cfg->slots[slot_no].kind;
    slot_clear(&cfg->slots[slot_no]);       /* engines that chose the old one keep a reference */
    cfg->slots[slot_no] = fresh;
    return UW_TLS_OK;
}

int uw_tls_remove_cert(uw_tls_config *cfg, int slot_no)
{
    if (slot_no < 0 || slot_no >= MAX_SLOTS || !cfg->slots[slot_no].used) return UW_TLS_EINVAL;
    slot_clear(&cfg->slots[slot_no]);
    alpn_list_update(cfg);
    return UW_TLS_OK;
}

/* ------------------------------------------------------------ idle buffers */

/* mbedTLS's own (library/ssl_misc.h): pointers into the record buffers
 * recomputed from in_hdr / out_buf. */
void mbedtls_ssl_update_in_pointers(mbedtls_ssl_context *ssl);
void mbedtls_ssl_reset_out_pointers(mbedtls_ssl_context *ssl);

/* A parked connection's record buffers: room for the offsets only. */
#define PARKED_BUF 64

/* Moves both record buffers to new sizes, keeping the offsets into them
 * (what mbedTLS's MBEDTLS_SSL_VARIABLE_BUFFER_LENGTH resizing does after a
 * handshake).  False when out of memory (nothing changed). */
static bool resize_buffers(mbedtls_ssl_context *s, size_t in_len, size_t out_len)
{
    unsigned char *in = mbedtls_calloc(1, in_len), *out = mbedtls_calloc(1, out_len);
    if (!in || !out) {
        mbedtls_free(in);
        mbedtls_free(out);
        return false;
    }
    size_t hdr_in = s->in_hdr - s->in_buf, msg_in = s->in_msg - s->in_buf, len_in = s->in_len - s->in_buf,
           iv_in = s->in_iv - s->in_buf;
    size_t msg_out = s->out_msg - s->out_buf, len_out = s->out_len - s->out_buf, iv_out = s->out_iv - s->out_buf;
    size_t keep_in = s->in_buf_len < in_len ? s->in_buf_len : in_len;
    size_t keep_out = s->out_buf_len < out_len ? s->out_buf_len : out_len;
    memcpy(in, s->in_buf, keep_in);
    memcpy(out, s->out_buf, keep_out);
    mbedtls_platform_zeroize(s->in_buf, s->in_buf_len);
    mbedtls_free(s->in_buf);
    mbedtls_platform_zeroize(s->out_buf, s->out_buf_len);
    mbedtls_free(s->out_buf);
    s->in_buf = in;
    s->in_buf_len = in_len;
    s->out_buf = out;
    s->out_buf_len = out_len;
    s->in_hdr = in + hdr_in;
    mbedtls_ssl_update_in_pointers(s);
    mbedtls_ssl_reset_out_pointers(s);
    s->out_msg = out + msg_out;
    s->out_len = out + len_out;
    s->out_iv = out + iv_out;
    s->in_msg = in + msg_in;
    s->in_len = in + len_in;
    s->in_iv = in + iv_in;
    return true;
}

/* Gives the record buffers back when they hold nothing (an open
 * connection between requests): about 33 KiB per connection. */
static void park(uw_tls *t)
{
    mbedtls_ssl_context *s = &t->ssl;
    if (t->in_full || (t->core.state != UW_TLS_OPEN && t->core.state != UW_TLS_CLOSED)) return;
    /* Nothing in them: no record partly fetched or not yet read (the last
     * handshake message, all processed, may still be counted: its bytes
     * are not read again), nothing to send. */
    bool consumed = s->in_msglen == 0 || (s->in_hslen == s->in_msglen && !s->keep_current_message);
    if (!s->in_buf || !s->out_buf || s->in_left || !consumed || s->in_offt || s->out_left
        || s->in_buf_len <= PARKED_BUF || s->out_buf_len <= PARKED_BUF)
        return;
    size_t hdr_in = s->in_hdr - s->in_buf, end_in = s->in_iv - s->in_buf, end_out = s->out_iv - s->out_buf;
    if (hdr_in >= PARKED_BUF / 2 || end_in >= PARKED_BUF / 2 || end_out >= PARKED_BUF / 2) return;
    size_t in_full = s->in_buf_len, out_full = s->out_buf_len;
    if (!resize_buffers(s, PARKED_BUF, PARKED_BUF)) return;
    t->in_full = in_full;
    t->out_full = out_full;
}

/* Before any call into mbedTLS: full record buffers again.  False when out
 * of memory (the engine then fails). */
static bool unpark(uw_tls *t)
{
    if (!t->in_full) return true;
    if (!resize_buffers(&t->ssl, t->in_full, t->out_full)) return false;
    t->in_full = t->out_full = 0;
    return true;
}

/* ------------------------------------------------------------ engine */

/* An engine on cfg, not started. */
static int engine_new(uw_tls **out, uw_tls_config *cfg)
{
    uw_tls *t = calloc(1, sizeof *t);
    if (!t) return UW_TLS_ENOMEM;
    uw_tls__core_init(&t->core, cfg->opt.max_handshake);
    t->core.client = cfg->client;
    t->cfg = cfg;
    mbedtls_ssl_init(&t->ssl);
    int r = mbedtls_ssl_setup(&t->ssl, &cfg->conf);
    if (r != 0) {
        mbedtls_ssl_free(&t->ssl);
        free(t);
        return r == MBEDTLS_ERR_SSL_ALLOC_FAILED ? UW_TLS_ENOMEM : UW_TLS_EINVAL;
    }
    mbedtls_ssl_set_user_data_p(&t->ssl, t);
    mbedtls_ssl_set_bio(&t->ssl, t, bio_send, bio_recv, NULL);
    *out = t;
    return UW_TLS_OK;
}

int uw_tls_new(uw_tls **out, uw_tls_config *cfg)
{
    bool any = false;
    for (int i = 0; i < MAX_SLOTS; i++) any |= cfg->slots[i].used;
    if (cfg->client || !any) return UW_TLS_EINVAL;
    return engine_new(out, cfg);
}

void uw_tls_free(uw_tls *t)
{
    if (!t) return;
    mbedtls_ssl_free(&t->ssl);
    certkey_put(t->ck);
    free(t->sni);
    uw_tls__core_fini(&t->core);
    free(t);
}

static bool want(int r)
{
    return r == MBEDTLS_ERR_SSL_WANT_READ || r == MBEDTLS_ERR_SSL_WANT_WRITE
        || r == MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET || r == MBEDTLS_ERR_SSL_RECEIVED_EARLY_DATA;
}

/* Classifies mbedTLS's failure into the engine's error. */
static int ssl_fail(uw_tls *t, int r)
{
    if (t->core.state == UW_TLS_FAILED) return t->core.error;
    char text[100];
    mbedtls_strerror(r, text, sizeof text);
    uint32_t flags = t->core.client ? mbedtls_ssl_get_verify_result(&t->ssl) : 0;
    if (r == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED || (flags && flags != (uint32_t)-1)) {
        char info[200] = "";
        if (flags && flags != (uint32_t)-1) mbedtls_x509_crt_verify_info(info, sizeof info, "", flags);
        size_t n = strlen(info);
        while (n && (info[n - 1] == '\n' || info[n - 1] == ' ')) info[--n] = 0;
        for (char *nl; (nl = strchr(info, '\n'));) *nl = ';';
        return uw_tls__fail(&t->core, UW_TLS_EVERIFY, "the server's certificate: %s", info[0] ? info : text);
    }
    switch (r) {
    case MBEDTLS_ERR_SSL_ALLOC_FAILED:
        return uw_tls__fail(&t->core, UW_TLS_ENOMEM, "%s", text);
    case MBEDTLS_ERR_SSL_BAD_PROTOCOL_VERSION: {
        unsigned v = t->hello_version;
        return uw_tls__fail(&t->core, UW_TLS_EHANDSHAKE, "unsupported protocol (client offered at most %s)",
                            v == 0x0302 ? "TLS 1.1" : v == 0x0301 ? "TLS 1.0" : v == 0x0300 ? "SSL 3.0"
                            : v == 0x0303 ? "TLS 1.2" : "an old version");
    }
    case MBEDTLS_ERR_SSL_NO_APPLICATION_PROTOCOL:
        return uw_tls__fail(&t->core, UW_TLS_EHANDSHAKE, "no ALPN protocol in common with the client");
    case MBEDTLS_ERR_SSL_HANDSHAKE_FAILURE:
        return uw_tls__fail(&t->core, UW_TLS_EHANDSHAKE, "no shared cipher, group or signature algorithm");
    default:
        return uw_tls__fail(&t->core, UW_TLS_EPROTO, "%s", text);
    }
}

static void opened(uw_tls *t)
{
    t->core.state = UW_TLS_OPEN;
    t->resumed = t->ticket_ok;
    const char *alpn = t->core.client ? mbedtls_ssl_get_alpn_protocol(&t->ssl) : NULL;
    for (size_t i = 0; alpn && i < UW_TLS_MAX_ALPN && t->cfg->alpn_names[i][0]; i++)
        if (strcmp(t->cfg->alpn_names[i], alpn) == 0) t->alpn = t->cfg->alpn_names[i];
    const char *s = mbedtls_ssl_get_ciphersuite(&t->ssl);
    size_t n = 0;
    if (s && strncmp(s, "TLS1-3-", 7) == 0) {
        memcpy(t->cipher, "TLS_", 4);
        n = 4;
        s += 7;
    }
    for (; s && *s && n + 1 < sizeof t->cipher; s++) t->cipher[n++] = *s == '-' ? '_' : *s;
    t->cipher[n] = 0;
}

int uw_tls_handshake(uw_tls *t)
{
    if (t->core.state == UW_TLS_FAILED) return t->core.error;
    if (t->core.state != UW_TLS_HANDSHAKING) return UW_TLS_OK;
    if (!t->core.client && !t->hello_version && uw_tls__in_avail(&t->core) >= 6) {
        /* The first record: header (5), handshake type 1 = ClientHello,
         * length (3), legacy_version (2).  mbedTLS would wait for the rest
         * of any handshake message, whatever its type and length. */
        const unsigned char *p = t->core.in + t->core.in_pos;
        size_t avail = uw_tls__in_avail(&t->core);
        if (p[0] == 0x16 && p[5] != 1)
            return uw_tls__fail(&t->core, UW_TLS_EPROTO, "the first handshake message is no ClientHello");
        if (p[0] == 0x16 && avail >= 9 && ((size_t)p[6] << 16 | (size_t)p[7] << 8 | p[8]) > t->core.max_hs)
            return uw_tls__fail(&t->core, UW_TLS_ELIMIT, "a ClientHello larger than %zu bytes", t->core.max_hs);
        if (p[0] == 0x16 && avail >= 11) t->hello_version = (unsigned)p[9] << 8 | p[10];
    }
    t->cfg->stepping = t;
    int r = mbedtls_ssl_handshake(&t->ssl);
    t->cfg->stepping = NULL;
    if (r == 0) {
        opened(t);
        return UW_TLS_OK;
    }
    if (t->core.state == UW_TLS_FAILED) return t->core.error;
    if (want(r)) return UW_TLS_WANT_INPUT;
    return ssl_fail(t, r);
}

ssize_t uw_tls_read(uw_tls *t, void *buf, size_t n)
{
    if (t->core.state == UW_TLS_HANDSHAKING) {
        int r = uw_tls_handshake(t);
        if (r != UW_TLS_OK) return r;
    }
    if (t->core.state == UW_TLS_FAILED) return t->core.error;
    if (t->core.state == UW_TLS_CLOSED) return UW_TLS_EOF;
    if (n == 0) return UW_TLS_EINVAL;
    if (uw_tls__in_avail(&t->core) == 0 && t->in_full) return UW_TLS_WANT_INPUT;  /* parked, nothing came */
    if (!unpark(t)) return uw_tls__fail(&t->core, UW_TLS_ENOMEM, "out of memory for the record buffers");
    for (;;) {
        int r = mbedtls_ssl_read(&t->ssl, buf, n);
        if (r > 0) return r;
        if (r == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY || r == 0) {
            t->core.state = UW_TLS_CLOSED;
            return UW_TLS_EOF;
        }
        if (r == MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET || r == MBEDTLS_ERR_SSL_RECEIVED_EARLY_DATA) continue;
        if (r == MBEDTLS_ERR_SSL_WANT_READ || r == MBEDTLS_ERR_SSL_WANT_WRITE) return UW_TLS_WANT_INPUT;
        return ssl_fail(t, r);
    }
}

size_t uw_tls_pending(const uw_tls *t)
{
    return mbedtls_ssl_get_bytes_avail(&t->ssl) + uw_tls__in_avail(&t->core);
}

/* One record from p: UW_TLS_OK or the engine's error. */
static int put_record(uw_tls *t, const unsigned char *p, size_t len)
{
    for (size_t done = 0; done < len;) {
        int r = mbedtls_ssl_write(&t->ssl, p + done, len - done);
        if (r <= 0) return ssl_fail(t, r);
        done += (size_t)r;
    }
    return UW_TLS_OK;
}

ssize_t uw_tls_writev(uw_tls *t, const uw_slice *v, size_t n)
{
    static unsigned char gather[16384];
    if (t->core.state == UW_TLS_FAILED) return t->core.error;
    if (t->core.close_sent) return UW_TLS_ECLOSED;
    if (t->core.state != UW_TLS_OPEN) return UW_TLS_EINVAL;
    if (!unpark(t)) return uw_tls__fail(&t->core, UW_TLS_ENOMEM, "out of memory for the record buffers");
    /* mbedTLS's largest record: 16384 bytes, 16383 in TLS 1.3 (it counts
     * the inner content type in 2^14) */
    int max = mbedtls_ssl_get_max_out_record_payload(&t->ssl);
    size_t rec = max > 0 && (size_t)max < sizeof gather ? (size_t)max : sizeof gather;
    return uw_tls__writev_records(t, v, n, gather, rec, put_record);
}

void uw_tls_close(uw_tls *t)
{
    if (t->core.close_sent) return;
    t->core.close_sent = true;
    if ((t->core.state == UW_TLS_OPEN || t->core.state == UW_TLS_CLOSED) && unpark(t))
        mbedtls_ssl_close_notify(&t->ssl);
}

int uw_tls_recv_eof(uw_tls *t)
{
    t->core.eof = true;
    if (t->core.state == UW_TLS_CLOSED) return UW_TLS_EOF;
    if (t->core.state == UW_TLS_FAILED) return t->core.error;
    if (t->core.state == UW_TLS_HANDSHAKING)
        return uw_tls__fail(&t->core, UW_TLS_ETRUNCATED, "the %s left during the handshake after %zu bytes",
                            t->core.client ? "server" : "client", t->core.hs_bytes);
    return uw_tls__fail(&t->core, UW_TLS_ETRUNCATED, "the %s closed without close_notify",
                        t->core.client ? "server" : "client");
}

void uw_tls_shrink(uw_tls *t)
{
    uw_tls__core_shrink(&t->core);
    park(t);
}

const char *uw_tls_alpn(const uw_tls *t) { return t->core.state == UW_TLS_HANDSHAKING ? NULL : t->alpn; }

const char *uw_tls_sni(const uw_tls *t) { return t->core.state == UW_TLS_HANDSHAKING ? NULL : t->sni; }

const char *uw_tls_version(const uw_tls *t)
{
    return t->core.state == UW_TLS_HANDSHAKING || t->core.state == UW_TLS_FAILED ? "" : mbedtls_ssl_get_version(&t->ssl);
}

const char *uw_tls_cipher(const uw_tls *t)
{
    return t->core.state == UW_TLS_HANDSHAKING || t->core.state == UW_TLS_FAILED ? "" : t->cipher;
}

bool uw_tls_resumed(const uw_tls *t) { return t->core.state != UW_TLS_HANDSHAKING && t->resumed; }

/* ------------------------------------------------------------ client */

int uw_tls_client_config_new(uw_tls_config **out, const uw_tls_client_options *opt, char *err, size_t errlen)
{
    if (!drbg_ready()) return set_err(err, errlen, "no random seed", 0);
    uw_tls_client_options o = opt ? *opt : (uw_tls_client_options){ 0 };
    uw_tls_config *cfg = calloc(1, sizeof *cfg);
    if (!cfg) return UW_TLS_ENOMEM;
    cfg->client = true;
    cfg->insecure = o.insecure;
    cfg->opt.modern = o.modern;
    cfg->opt.max_handshake = o.max_handshake ? o.max_handshake : UW_TLS_CLIENT_MAX_HANDSHAKE;
    mbedtls_ssl_config_init(&cfg->conf);
    mbedtls_ssl_ticket_init(&cfg->ticket);
    mbedtls_x509_crt_init(&cfg->ca);
    if (uw_tls__alpn_wire(o.alpn, cfg->alpn, &cfg->alpn_len) != UW_TLS_OK) {
        uw_tls_config_free(cfg);
        return set_err(err, errlen, "bad ALPN list", 0);
    }
    for (size_t i = 0; o.alpn && o.alpn[i]; i++) memcpy(cfg->alpn_names[i], o.alpn[i], strlen(o.alpn[i]) + 1);
    alpn_list_update(cfg);
    suites_init();
    mbedtls_ssl_config *c = &cfg->conf;
    int r = mbedtls_ssl_config_defaults(c, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM,
                                        MBEDTLS_SSL_PRESET_DEFAULT);
    if (r == 0) {
        mbedtls_ssl_conf_rng(c, rng, NULL);
        mbedtls_ssl_conf_min_tls_version(c, o.modern ? MBEDTLS_SSL_VERSION_TLS1_3 : MBEDTLS_SSL_VERSION_TLS1_2);
        mbedtls_ssl_conf_max_tls_version(c, MBEDTLS_SSL_VERSION_TLS1_3);
        mbedtls_ssl_conf_ciphersuites(c, suites);
        mbedtls_ssl_conf_groups(c, groups);
        /* No session tickets kept: every connection makes a full handshake. */
        mbedtls_ssl_conf_session_tickets(c, MBEDTLS_SSL_SESSION_TICKETS_DISABLED);
        if (cfg->alpn_list[0]) r = mbedtls_ssl_conf_alpn_protocols(c, cfg->alpn_list);
    }
    if (r != 0) {
        uw_tls_config_free(cfg);
        return r == MBEDTLS_ERR_SSL_ALLOC_FAILED ? UW_TLS_ENOMEM : set_err(err, errlen, "TLS client setup", r);
    }
    if (o.insecure) {
        mbedtls_ssl_conf_authmode(c, MBEDTLS_SSL_VERIFY_NONE);
    } else {
        size_t len;
        char why[200] = "";
        char *pem = uw_tls__ca_pem(&o, &len, why, sizeof why);
        /* A bundle may hold certificates this build cannot parse (curves
         * other than P-256): those are skipped (a positive count). */
        int e = pem ? mbedtls_x509_crt_parse(&cfg->ca, (const unsigned char *)pem, len + 1) : -1;
        free(pem);
        if (e < 0 || !cfg->ca.raw.p) {
            uw_tls_config_free(cfg);
            return set_err(err, errlen, why[0] ? why : "no CA certificate in the bundle", why[0] ? 0 : e);
        }
        mbedtls_ssl_conf_ca_chain(c, &cfg->ca, NULL);
        mbedtls_ssl_conf_authmode(c, MBEDTLS_SSL_VERIFY_REQUIRED);
    }
    *out = cfg;
    return UW_TLS_OK;
}

int uw_tls_new_client(uw_tls **out, uw_tls_config *cfg, const char *host)
{
    if (!cfg->client || !host || !*host || strlen(host) > 253) return UW_TLS_EINVAL;
    uw_tls *t;
    int r = engine_new(&t, cfg);
    if (r != UW_TLS_OK) return r;
    /* The name for SNI and for the certificate's check (an IP literal is
     * matched against its IP addresses). */
    if (mbedtls_ssl_set_hostname(&t->ssl, host) != 0) {
        uw_tls_free(t);
        return UW_TLS_EINVAL;
    }
    *out = t;
    return UW_TLS_OK;
}
