/*
 * The TLS engine on OpenSSL 3 (unix, TLS=openssl), and uw_random on
 * OpenSSL's DRBG (seeded by OpenSSL from getrandom).
 *
 * Bytes: each SSL has one BIO of our own method whose read takes from the
 * engine's input buffer and whose write appends to its output buffer
 * (tls_common.c), so OpenSSL never blocks and never touches a socket.
 *
 * Certificates: one SSL_CTX per certificate slot holds the certificate and
 * key; connections start on the configuration's base SSL_CTX (policy,
 * ticket keys) and the ClientHello callback moves them to the slot chosen
 * by SNI and ALPN (SSL_set_SSL_CTX).  A slot swapped by uw_tls_set_cert
 * gets a new SSL_CTX; open connections hold a reference to the old one.
 *
 * Tickets: our own keys (SSL_CTX_set_tlsext_ticket_key_evp_cb on the base
 * SSL_CTX, which OpenSSL uses as the session context for every slot):
 * AES-256-CBC + HMAC-SHA256 keys made with RAND_bytes, the current one
 * encrypts, the previous one is still accepted (and its tickets renewed);
 * rotated every ticket_rotation when a ticket is issued (OpenSSL itself
 * never rotates).  No server-side session store (SSL_SESS_CACHE_NO_INTERNAL):
 * resumption is by ticket only.
 *
 * Memory: SSL_MODE_RELEASE_BUFFERS gives OpenSSL's record buffers back
 * whenever they are empty; uw_tls_shrink frees ours.  An idle connection
 * after a TLS 1.3 handshake holds the SSL object, its record keys and its
 * session: 14.8 KB of heap with OpenSSL 3.0.19 (tests/unit/test_tls.c
 * prints the figure, "idle bytes").
 */
#include "tls_internal.h"
#include <uweb/random.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#define MAX_SLOTS 64

/* A slot's certificate object (uw_tls_slot.cert) is its SSL_CTX. */
typedef uw_tls_slot slot;
#define SLOT_CTX(sl) ((SSL_CTX *)(sl)->cert)

typedef struct ticket_key {
    unsigned char name[16], aes[32], hmac[32];
} ticket_key;

struct uw_tls_config {
    uw_tls_options opt;
    bool client;                /* a client configuration (uw_tls_client_config_new) */
    bool insecure;
    unsigned char alpn[256 * UW_TLS_MAX_ALPN];     /* wire form */
    size_t alpn_len;
    char alpn_names[UW_TLS_MAX_ALPN][256];          /* the same, NUL-terminated */
    SSL_CTX *base;
    slot slots[MAX_SLOTS];
    ticket_key keys[2];         /* [0] current, [1] previous */
    int64_t rotated_at;
    /* a client's sessions to resume, by host (the newest replaces the oldest) */
    struct { char host[256]; SSL_SESSION *s; } sessions[16];
    unsigned next_session;
};

struct uw_tls {
    struct uw_tls_core core;    /* first: tls_common.c works on it */
    uw_tls_config *cfg;
    SSL *ssl;
    const char *alpn;           /* the protocol chosen: into cfg->alpn's copy, or ACME */
    bool acme;                  /* the ClientHello asked for acme-tls/1 only and got its certificate */
    char host[256];             /* a client's server name (its sessions' key) */
};

/* ------------------------------------------------------------ random */

int uw_random(void *buf, size_t n)
{
    unsigned char *p = buf;
    size_t left = n;
    while (left > 0) {
        int k = left > (1u << 30) ? 1 << 30 : (int)left;
        if (RAND_bytes(p, k) != 1) {
            memset(buf, 0, n);
            ERR_clear_error();
            return UW_EIO;
        }
        p += k;
        left -= (size_t)k;
    }
    return UW_OK;
}

/* ------------------------------------------------------------ the BIO */

static int bio_write(BIO *b, const char *src, int n)
{
    uw_tls *t = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    if (n <= 0) return 0;
    if (!uw_tls__out_put(&t->core, src, (size_t)n)) return -1;
    return n;
}

static int bio_read(BIO *b, char *dst, int n)
{
    uw_tls *t = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    if (n <= 0) return 0;
    size_t k = uw_tls__in_take(&t->core, dst, (size_t)n);
    if (k == 0) {
        if (t->core.state != UW_TLS_FAILED) BIO_set_retry_read(b);
        return -1;
    }
    return (int)k;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    (void)b;
    (void)num;
    (void)ptr;
    switch (cmd) {
    case BIO_CTRL_FLUSH: return 1;
    case BIO_CTRL_PUSH:
    case BIO_CTRL_POP: return 0;
    default: return 0;
    }
}

static int bio_create(BIO *b)
{
    BIO_set_init(b, 1);
    return 1;
}

static BIO_METHOD *bio_method(void)
{
    static BIO_METHOD *m;
    if (!m) {
        BIO_METHOD *n = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "uweb tls");
        if (!n) return NULL;
        BIO_meth_set_write(n, bio_write);
        BIO_meth_set_read(n, bio_read);
        BIO_meth_set_ctrl(n, bio_ctrl);
        BIO_meth_set_create(n, bio_create);
        m = n;
    }
    return m;
}

/* ------------------------------------------------------------ tickets */

static int make_keys(ticket_key *k)
{
    return uw_random(k, sizeof *k);
}

void uw_tls_rotate_tickets(uw_tls_config *cfg)
{
    ticket_key k;
    if (make_keys(&k) != UW_OK) return;     /* keep the old keys rather than none */
    cfg->keys[1] = cfg->keys[0];
    cfg->keys[0] = k;
    cfg->rotated_at = uw_now();
    OPENSSL_cleanse(&k, sizeof k);
}

static int ticket_cb(SSL *s, unsigned char key_name[16], unsigned char *iv, EVP_CIPHER_CTX *ectx,
                     EVP_MAC_CTX *hctx, int enc)
{
    uw_tls *t = SSL_get_app_data(s);
    uw_tls_config *cfg = t->cfg;
    const ticket_key *k = NULL;
    int result = 1;
    if (enc) {
        if (uw_now() - cfg->rotated_at >= cfg->opt.ticket_rotation) uw_tls_rotate_tickets(cfg);
        k = &cfg->keys[0];
        if (RAND_bytes(iv, 16) != 1) return -1;
        memcpy(key_name, k->name, 16);
    } else {
        for (int i = 0; i < 2; i++)
            if (memcmp(key_name, cfg->keys[i].name, 16) == 0) { k = &cfg->keys[i]; result = i == 0 ? 1 : 2; }
        if (!k) return 0;       /* unknown or expired key: a full handshake */
        if (uw_now() - cfg->rotated_at >= cfg->opt.ticket_rotation && k == &cfg->keys[0]) result = 2;
    }
    OSSL_PARAM params[3];
    params[0] = OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, (void *)k->hmac, sizeof k->hmac);
    params[1] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0);
    params[2] = OSSL_PARAM_construct_end();
    if (!EVP_MAC_CTX_set_params(hctx, params)) return -1;
    if (enc) {
        if (!EVP_EncryptInit_ex(ectx, EVP_aes_256_cbc(), NULL, k->aes, iv)) return -1;
    } else {
        if (!EVP_DecryptInit_ex(ectx, EVP_aes_256_cbc(), NULL, k->aes, iv)) return -1;
    }
    return result;
}

/* ------------------------------------------------------------ ClientHello: certificate and ALPN */

/* The SNI host name of the ClientHello, lowercase, into buf; false if none. */
static bool hello_sni(SSL *s, char *buf, size_t n)
{
    const unsigned char *p;
    size_t len;
    if (!SSL_client_hello_get0_ext(s, TLSEXT_TYPE_server_name, &p, &len) || len < 5) return false;
    size_t list = (size_t)p[0] << 8 | p[1];
    if (list + 2 > len || p[2] != TLSEXT_NAMETYPE_host_name) return false;
    size_t name = (size_t)p[3] << 8 | p[4];
    if (name + 5 > len) return false;
    return uw_tls__sni_host(p + 5, name, buf, n);
}

static int hello_cb(SSL *s, int *alert, void *arg)
{
    uw_tls *t = SSL_get_app_data(s);
    uw_tls_config *cfg = arg;
    char host[256];
    bool have_host = hello_sni(s, host, sizeof host);
    const unsigned char *alpn;
    size_t alpn_len;
    bool acme_only = false;
    if (SSL_client_hello_get0_ext(s, TLSEXT_TYPE_application_layer_protocol_negotiation, &alpn, &alpn_len)
        && alpn_len >= 2 && ((size_t)alpn[0] << 8 | alpn[1]) == alpn_len - 2)
        acme_only = uw_tls__alpn_only_acme(alpn + 2, alpn_len - 2);
    /* An ACME client without its certificate gets the default one, and
     * then no ALPN protocol in common (alpn_cb). */
    slot *chosen = uw_tls__pick_slot(cfg->slots, MAX_SLOTS, have_host ? host : NULL, acme_only, false);
    if (chosen && chosen->kind == UW_TLS_CERT_ACME) t->acme = true;
    if (!chosen) {
        *alert = SSL_AD_UNRECOGNIZED_NAME;
        uw_tls__fail(&t->core, UW_TLS_EHANDSHAKE, "no certificate for %s", have_host ? host : "(no SNI)");
        return SSL_CLIENT_HELLO_ERROR;
    }
    if (SSL_set_SSL_CTX(s, SLOT_CTX(chosen)) != SLOT_CTX(chosen)) {
        *alert = SSL_AD_INTERNAL_ERROR;
        return SSL_CLIENT_HELLO_ERROR;
    }
    return SSL_CLIENT_HELLO_SUCCESS;
}

static int alpn_cb(SSL *s, const unsigned char **out, unsigned char *outlen, const unsigned char *in,
                   unsigned int inlen, void *arg)
{
    uw_tls *t = SSL_get_app_data(s);
    uw_tls_config *cfg = arg;
    static const unsigned char acme[] = UW_TLS_ALPN_ACME;
    if (t->acme) {
        *out = acme;
        *outlen = sizeof acme - 1;
        t->alpn = UW_TLS_ALPN_ACME;
        return SSL_TLSEXT_ERR_OK;
    }
    if (cfg->alpn_len == 0) return SSL_TLSEXT_ERR_NOACK;
    if (!uw_tls__alpn_choose(cfg->alpn, cfg->alpn_len, in, inlen, out, outlen)) {
        uw_tls__fail(&t->core, UW_TLS_EHANDSHAKE, "no ALPN protocol in common with the client");
        return SSL_TLSEXT_ERR_ALERT_FATAL;
    }
    return SSL_TLSEXT_ERR_OK;
}

/* ------------------------------------------------------------ configuration */

static const char ciphers12[] =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
static const char ciphers13[] = "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";
static const unsigned char sid_ctx[] = "uweb";

static SSL_CTX *ctx_new(uw_tls_config *cfg, bool base)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) return NULL;
    bool ok = SSL_CTX_set_min_proto_version(ctx, cfg->opt.modern ? TLS1_3_VERSION : TLS1_2_VERSION)
        && SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION)
        && SSL_CTX_set_cipher_list(ctx, ciphers12)
        && SSL_CTX_set_ciphersuites(ctx, ciphers13)
        && SSL_CTX_set1_groups_list(ctx, "X25519:P-256")
        && SSL_CTX_set_session_id_context(ctx, sid_ctx, sizeof sid_ctx - 1);
    if (!ok) { SSL_CTX_free(ctx); return NULL; }
    /* The server's cipher order (AES-GCM, then ChaCha20) wins over the
     * client's: every suite is AEAD, and scanners (testssl.sh) rate a
     * server without an order of its own as a finding. */
    uint64_t opts = SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE;
    if (cfg->opt.no_tickets) opts |= SSL_OP_NO_TICKET;
    SSL_CTX_set_options(ctx, opts);
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_max_early_data(ctx, 0);
    SSL_CTX_set_recv_max_early_data(ctx, 0);
    SSL_CTX_set_alpn_select_cb(ctx, alpn_cb, cfg);
    if (base) {
        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER | SSL_SESS_CACHE_NO_INTERNAL);
        SSL_CTX_set_timeout(ctx, (long)(cfg->opt.ticket_rotation / 1000000000));
        SSL_CTX_set_num_tickets(ctx, cfg->opt.no_tickets ? 0 : 1);
        SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, ticket_cb);
        SSL_CTX_set_client_hello_cb(ctx, hello_cb, cfg);
    }
    return ctx;
}

int uw_tls_config_new(uw_tls_config **out, const uw_tls_options *opt)
{
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
    if (make_keys(&cfg->keys[0]) != UW_OK || make_keys(&cfg->keys[1]) != UW_OK) {
        free(cfg);
        return UW_TLS_EINVAL;
    }
    cfg->rotated_at = uw_now();
    cfg->base = ctx_new(cfg, true);
    if (!cfg->base) {
        free(cfg);
        ERR_clear_error();
        return UW_TLS_ENOMEM;
    }
    *out = cfg;
    return UW_TLS_OK;
}

static void slot_clear(slot *sl)
{
    SSL_CTX_free(SLOT_CTX(sl));
    uw_tls__names_clear(&sl->names);
    memset(sl, 0, sizeof *sl);
}

void uw_tls_config_free(uw_tls_config *cfg)
{
    if (!cfg) return;
    for (int i = 0; i < MAX_SLOTS; i++) slot_clear(&cfg->slots[i]);
    for (size_t i = 0; i < sizeof cfg->sessions / sizeof *cfg->sessions; i++) SSL_SESSION_free(cfg->sessions[i].s);
    SSL_CTX_free(cfg->base);
    OPENSSL_cleanse(cfg->keys, sizeof cfg->keys);
    free(cfg);
}

static int set_err(char *err, size_t errlen, const char *what)
{
    if (err && errlen) {
        unsigned long e = ERR_peek_last_error();
        if (e) snprintf(err, errlen, "%s: %s", what, ERR_reason_error_string(e) ? ERR_reason_error_string(e) : "?");
        else snprintf(err, errlen, "%s", what);
    }
    ERR_clear_error();
    return UW_TLS_EINVAL;
}

/* The leaf's subjectAltName DNS names and IP addresses into sl. */
static int leaf_names(X509 *leaf, slot *sl)
{
    GENERAL_NAMES *gens = X509_get_ext_d2i(leaf, NID_subject_alt_name, NULL, NULL);
    if (!gens) return 0;
    for (int i = 0; i < sk_GENERAL_NAME_num(gens); i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
        if (g->type == GEN_DNS)
            uw_tls__names_add_dns(&sl->names, ASN1_STRING_get0_data(g->d.dNSName),
                                  (size_t)ASN1_STRING_length(g->d.dNSName));
        else if (g->type == GEN_IPADD)
            uw_tls__names_add_ip(&sl->names, ASN1_STRING_get0_data(g->d.iPAddress),
                                 (size_t)ASN1_STRING_length(g->d.iPAddress));
    }
    GENERAL_NAMES_free(gens);
    return (int)sl->names.n;
}

/* ECDSA P-256 or RSA >= 2048: NULL, or why not. */
static const char *key_unfit(EVP_PKEY *key)
{
    char group[64] = "";
    size_t glen;
    if (EVP_PKEY_is_a(key, "EC")) {
        if (!EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &glen)
            || strcmp(group, "prime256v1") != 0)
            return "ECDSA keys must be on P-256";
        return NULL;
    }
    if (EVP_PKEY_is_a(key, "RSA")) return EVP_PKEY_get_bits(key) < 2048 ? "RSA keys need 2048 bits or more" : NULL;
    return "the key is neither ECDSA P-256 nor RSA";
}

/* Loads chain + key into a new SSL_CTX in *sl (names too). */
static int load_slot(uw_tls_config *cfg, slot *sl, const void *chain_pem, size_t chain_len, const void *key_pem,
                     size_t key_len, char *err, size_t errlen)
{
    memset(sl, 0, sizeof *sl);
    if (!chain_pem || !key_pem || chain_len > INT32_MAX || key_len > INT32_MAX)
        return set_err(err, errlen, "no certificate or key");
    BIO *b = BIO_new_mem_buf(chain_pem, (int)chain_len);
    if (!b) return UW_TLS_ENOMEM;
    X509 *leaf = PEM_read_bio_X509(b, NULL, NULL, NULL);
    if (!leaf) { BIO_free(b); return set_err(err, errlen, "certificate chain: no PEM certificate"); }
    SSL_CTX *ctx = ctx_new(cfg, false);
    if (!ctx) { X509_free(leaf); BIO_free(b); return set_err(err, errlen, "out of memory"); }
    int r = UW_TLS_OK;
    const char *unfit = X509_get0_pubkey(leaf) ? key_unfit(X509_get0_pubkey(leaf)) : "no public key";
    if (unfit) r = set_err(err, errlen, unfit);
    else if (!SSL_CTX_use_certificate(ctx, leaf)) r = set_err(err, errlen, "certificate");
    X509 *x;
    while (r == UW_TLS_OK && (x = PEM_read_bio_X509(b, NULL, NULL, NULL))) {
        if (!SSL_CTX_add0_chain_cert(ctx, x)) { X509_free(x); r = set_err(err, errlen, "chain certificate"); }
    }
    ERR_clear_error();          /* the end of the PEM stream */
    BIO_free(b);
    EVP_PKEY *key = NULL;
    if (r == UW_TLS_OK) {
        BIO *kb = BIO_new_mem_buf(key_pem, (int)key_len);
        key = kb ? PEM_read_bio_PrivateKey(kb, NULL, NULL, (void *)"") : NULL;
        BIO_free(kb);
        if (!key) r = set_err(err, errlen, "private key: no unencrypted PEM key");
    }
    if (r == UW_TLS_OK && (!SSL_CTX_use_PrivateKey(ctx, key) || !SSL_CTX_check_private_key(ctx)))
        r = set_err(err, errlen, "private key does not match the certificate");
    EVP_PKEY_free(key);
    if (r == UW_TLS_OK && leaf_names(leaf, sl) == 0)
        r = set_err(err, errlen, "certificate names no host (no subjectAltName DNS or IP entry)");
    X509_free(leaf);
    if (r != UW_TLS_OK) {
        SSL_CTX_free(ctx);
        uw_tls__names_clear(&sl->names);
        memset(sl, 0, sizeof *sl);
        return r;
    }
    sl->cert = ctx;
    sl->used = true;
    return UW_TLS_OK;
}

int uw_tls_add_cert(uw_tls_config *cfg, int kind, const void *chain_pem, size_t chain_len,
                    const void *key_pem, size_t key_len, char *err, size_t errlen)
{
    if (kind != UW_TLS_CERT_DEFAULT && kind != UW_TLS_CERT_ACME) return set_err(err, errlen, "bad certificate kind");
    for (int i = 0; i < MAX_SLOTS; i++) {
        if (cfg->slots[i].used) continue;
        int r = load_slot(cfg, &cfg->slots[i], chain_pem, chain_len, key_pem, key_len, err, errlen);
        if (r != UW_TLS_OK) return r;
        cfg->slots[i].kind = kind;
        return i;
    }
    return set_err(err, errlen, "too many certificates");
}

int uw_tls_set_cert(uw_tls_config *cfg, int slot_no, const void *chain_pem, size_t chain_len,
                    const void *key_pem, size_t key_len, char *err, size_t errlen)
{
    if (slot_no < 0 || slot_no >= MAX_SLOTS || !cfg->slots[slot_no].used) return set_err(err, errlen, "no such certificate slot");
    slot fresh;
    int r = load_slot(cfg, &fresh, chain_pem, chain_len, key_pem, key_len, err, errlen);
    if (r != UW_TLS_OK) return r;
    fresh.kind = cfg->slots[slot_no].kind;
    slot_clear(&cfg->slots[slot_no]);       /* open connections keep a reference to the old SSL_CTX */
    cfg->slots[slot_no] = fresh;
    return UW_TLS_OK;
}

int uw_tls_remove_cert(uw_tls_config *cfg, int slot_no)
{
    if (slot_no < 0 || slot_no >= MAX_SLOTS || !cfg->slots[slot_no].used) return UW_TLS_EINVAL;
    slot_clear(&cfg->slots[slot_no]);
    return UW_TLS_OK;
}

/* ------------------------------------------------------------ engine */

/* An engine on cfg->base with our BIO, not started. */
static int engine_new(uw_tls **out, uw_tls_config *cfg)
{
    BIO_METHOD *m = bio_method();
    uw_tls *t = calloc(1, sizeof *t);
    if (!t || !m) { free(t); return UW_TLS_ENOMEM; }
    uw_tls__core_init(&t->core, cfg->opt.max_handshake);
    t->core.client = cfg->client;
    t->cfg = cfg;
    t->ssl = SSL_new(cfg->base);
    BIO *b = BIO_new(m);
    if (!t->ssl || !b) {
        BIO_free(b);
        SSL_free(t->ssl);
        free(t);
        ERR_clear_error();
        return UW_TLS_ENOMEM;
    }
    BIO_set_data(b, t);
    SSL_set_bio(t->ssl, b, b);
    SSL_set_app_data(t->ssl, t);
    *out = t;
    return UW_TLS_OK;
}

int uw_tls_new(uw_tls **out, uw_tls_config *cfg)
{
    bool any = false;
    for (int i = 0; i < MAX_SLOTS; i++) any |= cfg->slots[i].used;
    if (cfg->client || !any) return UW_TLS_EINVAL;
    int r = engine_new(out, cfg);
    if (r == UW_TLS_OK) SSL_set_accept_state((*out)->ssl);
    return r;
}

void uw_tls_free(uw_tls *t)
{
    if (!t) return;
    SSL_free(t->ssl);
    uw_tls__core_fini(&t->core);
    free(t);
}

/* Classifies OpenSSL's failure into the engine's error. */
static int ssl_fail(uw_tls *t, int ret)
{
    int e = SSL_get_error(t->ssl, ret);
    if (t->core.state == UW_TLS_FAILED) { ERR_clear_error(); return t->core.error; }
    unsigned long err = ERR_peek_error();
    int reason = ERR_GET_REASON(err);
    const char *text = err ? ERR_reason_error_string(err) : NULL;
    ERR_clear_error();
    if (t->core.client && SSL_get_verify_result(t->ssl) != X509_V_OK)
        return uw_tls__fail(&t->core, UW_TLS_EVERIFY, "the server's certificate: %s",
                            X509_verify_cert_error_string(SSL_get_verify_result(t->ssl)));
    if (e != SSL_ERROR_SSL && !err) return uw_tls__fail(&t->core, UW_TLS_EPROTO, "TLS error %d", e);
    int status = UW_TLS_EPROTO;
    switch (reason) {
    case SSL_R_UNSUPPORTED_PROTOCOL:
    case SSL_R_VERSION_TOO_LOW:
    case SSL_R_NO_SHARED_CIPHER:
    case SSL_R_NO_SHARED_GROUPS:
    case SSL_R_NO_SUITABLE_KEY_SHARE:
    case SSL_R_NO_SUITABLE_SIGNATURE_ALGORITHM:
    case SSL_R_NO_SHARED_SIGNATURE_ALGORITHMS:
    case SSL_R_NO_APPLICATION_PROTOCOL:
    case SSL_R_INAPPROPRIATE_FALLBACK:
        status = UW_TLS_EHANDSHAKE;
        break;
    default:
        break;
    }
    if (reason == SSL_R_UNSUPPORTED_PROTOCOL || reason == SSL_R_VERSION_TOO_LOW) {
        int v = SSL_client_version(t->ssl);
        return uw_tls__fail(&t->core, status, "%s (client offered at most %s)", text ? text : "unsupported protocol",
                            v == TLS1_1_VERSION ? "TLS 1.1" : v == TLS1_VERSION ? "TLS 1.0" : v == SSL3_VERSION ? "SSL 3.0" : "an old version");
    }
    return uw_tls__fail(&t->core, status, "%s", text ? text : "TLS error");
}

static void opened(uw_tls *t)
{
    t->core.state = UW_TLS_OPEN;
    if (t->acme) return;
    const unsigned char *sel;
    unsigned int len;
    SSL_get0_alpn_selected(t->ssl, &sel, &len);
    for (size_t i = 0; len && i < UW_TLS_MAX_ALPN && t->cfg->alpn_names[i][0]; i++)
        if (strlen(t->cfg->alpn_names[i]) == len && memcmp(t->cfg->alpn_names[i], sel, len) == 0)
            t->alpn = t->cfg->alpn_names[i];
}

int uw_tls_handshake(uw_tls *t)
{
    if (t->core.state == UW_TLS_FAILED) return t->core.error;
    if (t->core.state != UW_TLS_HANDSHAKING) return UW_TLS_OK;
    ERR_clear_error();
    int r = SSL_do_handshake(t->ssl);
    if (r == 1) {
        opened(t);
        return UW_TLS_OK;
    }
    if (SSL_get_error(t->ssl, r) == SSL_ERROR_WANT_READ && t->core.state != UW_TLS_FAILED) {
        ERR_clear_error();
        return UW_TLS_WANT_INPUT;
    }
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
    ERR_clear_error();
    size_t got;
    int r = SSL_read_ex(t->ssl, buf, n, &got);
    if (r == 1) return (ssize_t)got;
    int e = SSL_get_error(t->ssl, r);
    if (e == SSL_ERROR_WANT_READ) { ERR_clear_error(); return UW_TLS_WANT_INPUT; }
    if (e == SSL_ERROR_ZERO_RETURN) {
        t->core.state = UW_TLS_CLOSED;
        return UW_TLS_EOF;
    }
    return ssl_fail(t, r);
}

size_t uw_tls_pending(const uw_tls *t)
{
    return (size_t)SSL_pending(t->ssl) + uw_tls__in_avail(&t->core);
}

/* One record (or a few) from p: UW_TLS_OK or the engine's error. */
static int put_record(uw_tls *t, const unsigned char *p, size_t len)
{
    ERR_clear_error();
    size_t w;
    int r = SSL_write_ex(t->ssl, p, len, &w);
    return r == 1 && w == len ? UW_TLS_OK : ssl_fail(t, r);
}

ssize_t uw_tls_writev(uw_tls *t, const uw_slice *v, size_t n)
{
    static _Thread_local unsigned char gather[16384];
    if (t->core.state == UW_TLS_FAILED) return t->core.error;
    if (t->core.close_sent) return UW_TLS_ECLOSED;
    if (t->core.state != UW_TLS_OPEN) return UW_TLS_EINVAL;
    return uw_tls__writev_records(t, v, n, gather, sizeof gather, put_record);
}

void uw_tls_close(uw_tls *t)
{
    if (t->core.close_sent) return;
    t->core.close_sent = true;
    if (t->core.state == UW_TLS_OPEN || t->core.state == UW_TLS_CLOSED) {
        ERR_clear_error();
        SSL_shutdown(t->ssl);
        ERR_clear_error();
    }
}

int uw_tls_recv_eof(uw_tls *t)
{
    t->core.eof = true;
    if (t->core.state == UW_TLS_CLOSED || (SSL_get_shutdown(t->ssl) & SSL_RECEIVED_SHUTDOWN)) {
        t->core.state = UW_TLS_CLOSED;
        return UW_TLS_EOF;
    }
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
}

const char *uw_tls_alpn(const uw_tls *t) { return t->core.state == UW_TLS_HANDSHAKING ? NULL : t->alpn; }

const char *uw_tls_sni(const uw_tls *t)
{
    if (t->core.state == UW_TLS_HANDSHAKING) return NULL;
    return SSL_get_servername(t->ssl, TLSEXT_NAMETYPE_host_name);
}

const char *uw_tls_version(const uw_tls *t)
{
    return t->core.state == UW_TLS_HANDSHAKING || t->core.state == UW_TLS_FAILED ? "" : SSL_get_version(t->ssl);
}

const char *uw_tls_cipher(const uw_tls *t)
{
    if (t->core.state == UW_TLS_HANDSHAKING || t->core.state == UW_TLS_FAILED) return "";
    const SSL_CIPHER *c = SSL_get_current_cipher(t->ssl);
    const char *name = c ? SSL_CIPHER_standard_name(c) : NULL;
    return name ? name : "";
}

bool uw_tls_resumed(const uw_tls *t) { return t->core.state != UW_TLS_HANDSHAKING && SSL_session_reused(t->ssl); }

/* ------------------------------------------------------------ client */

/* Adds every certificate of the PEM text to the store: the count added. */
static int add_cas(X509_STORE *store, const char *pem, size_t len)
{
    BIO *b = BIO_new_mem_buf(pem, len > INT32_MAX ? INT32_MAX : (int)len);
    if (!b) return 0;
    int count = 0;
    X509 *x;
    while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL))) {
        if (X509_STORE_add_cert(store, x)) count++;
        X509_free(x);
    }
    ERR_clear_error();          /* the end of the PEM stream, a duplicate */
    BIO_free(b);
    return count;
}

/* A client's new session (a TLS 1.2 handshake's, a TLS 1.3 ticket's):
 * kept for the next connection to the same host. */
static int new_session(SSL *s, SSL_SESSION *sess)
{
    uw_tls *t = SSL_get_app_data(s);
    uw_tls_config *cfg = t->cfg;
    size_t n = sizeof cfg->sessions / sizeof *cfg->sessions, k = n;
    for (size_t i = 0; i < n && k == n; i++)
        if (cfg->sessions[i].s && strcmp(cfg->sessions[i].host, t->host) == 0) k = i;
    if (k == n) k = cfg->next_session++ % n;
    SSL_SESSION_free(cfg->sessions[k].s);
    snprintf(cfg->sessions[k].host, sizeof cfg->sessions[k].host, "%s", t->host);
    cfg->sessions[k].s = sess;
    return 1;                   /* the reference is ours */
}

int uw_tls_client_config_new(uw_tls_config **out, const uw_tls_client_options *opt, char *err, size_t errlen)
{
    uw_tls_client_options o = opt ? *opt : (uw_tls_client_options){ 0 };
    uw_tls_config *cfg = calloc(1, sizeof *cfg);
    if (!cfg) return UW_TLS_ENOMEM;
    cfg->client = true;
    cfg->insecure = o.insecure;
    cfg->opt.modern = o.modern;
    cfg->opt.max_handshake = o.max_handshake ? o.max_handshake : UW_TLS_CLIENT_MAX_HANDSHAKE;
    if (uw_tls__alpn_wire(o.alpn, cfg->alpn, &cfg->alpn_len) != UW_TLS_OK) {
        free(cfg);
        return set_err(err, errlen, "bad ALPN list");
    }
    for (size_t i = 0; o.alpn && o.alpn[i]; i++) memcpy(cfg->alpn_names[i], o.alpn[i], strlen(o.alpn[i]) + 1);
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    cfg->base = ctx;
    bool ok = ctx && SSL_CTX_set_min_proto_version(ctx, o.modern ? TLS1_3_VERSION : TLS1_2_VERSION)
        && SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION)
        && SSL_CTX_set_cipher_list(ctx, ciphers12)
        && SSL_CTX_set_ciphersuites(ctx, ciphers13)
        && SSL_CTX_set1_groups_list(ctx, "X25519:P-256")
        && (cfg->alpn_len == 0 || SSL_CTX_set_alpn_protos(ctx, cfg->alpn, (unsigned)cfg->alpn_len) == 0);
    if (!ok) {
        uw_tls_config_free(cfg);
        return set_err(err, errlen, "TLS client setup");
    }
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_sess_set_new_cb(ctx, new_session);
    if (o.insecure) {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    } else {
        size_t len;
        char why[200] = "";
        char *pem = uw_tls__ca_pem(&o, &len, why, sizeof why);
        int count = pem ? add_cas(SSL_CTX_get_cert_store(ctx), pem, len) : 0;
        free(pem);
        if (count == 0) {
            uw_tls_config_free(cfg);
            if (err && errlen) snprintf(err, errlen, "%s", why[0] ? why : "no CA certificate in the bundle");
            return UW_TLS_EINVAL;
        }
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    }
    *out = cfg;
    return UW_TLS_OK;
}

int uw_tls_new_client(uw_tls **out, uw_tls_config *cfg, const char *host)
{
    if (!cfg->client || !host || !*host || strlen(host) > 253) return UW_TLS_EINVAL;
    unsigned char addr[16];
    bool ip = inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1;
    uw_tls *t;
    int r = engine_new(&t, cfg);
    if (r != UW_TLS_OK) return r;
    bool ok = ip || SSL_set_tlsext_host_name(t->ssl, host);     /* no SNI for an address (RFC 6066) */
    if (ok && !cfg->insecure) {
        if (ip) {
            ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(t->ssl), host);
        } else {
            SSL_set_hostflags(t->ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
            ok = SSL_set1_host(t->ssl, host);
        }
    }
    if (!ok) {
        ERR_clear_error();
        uw_tls_free(t);
        return UW_TLS_EINVAL;
    }
    snprintf(t->host, sizeof t->host, "%s", host);
    for (size_t i = 0; i < sizeof cfg->sessions / sizeof *cfg->sessions; i++)
        if (cfg->sessions[i].s && strcmp(cfg->sessions[i].host, host) == 0) {
            if (SSL_SESSION_is_resumable(cfg->sessions[i].s)) SSL_set_session(t->ssl, cfg->sessions[i].s);
            break;
        }
    SSL_set_connect_state(t->ssl);
    *out = t;
    return UW_TLS_OK;
}
