/*
 * Unit tests of the TLS engine (uweb/tls.h) against OpenSSL's own client,
 * in memory: the client's SSL object talks through memory BIOs, a pump
 * moves the bytes to and from the engine.  Certificates are made at test
 * time with the openssl command into a temporary directory.  The last
 * tests run the TLS uw_conn over real sockets with the runtime, the client
 * in a thread of its own.
 */
#include "uweb/tls.h"
#include "uweb/net.h"
#include "uweb/random.h"
#include "uweb/runtime.h"
#include "../check.h"

#include <arpa/inet.h>
#include <malloc.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

static char dir[64];
static bool have_certs;

typedef struct pem { char *chain, *key; size_t chain_len, key_len; } pem;
static pem cert_a, cert_a2, cert_b, cert_acme, cert_weak, cert_p384;

static char *slurp(const char *name, size_t *len)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = malloc(65536);
    *len = fread(buf, 1, 65535, f);
    buf[*len] = 0;
    fclose(f);
    return buf;
}

static bool make_cert(pem *p, const char *name, const char *keyopt, const char *san)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "cd %s && openssl req -x509 -newkey %s -nodes -keyout %s.key -out %s.crt -days 2 "
             "-subj /CN=%s -addext 'subjectAltName=%s' >/dev/null 2>&1",
             dir, keyopt, name, name, name, san);
    if (system(cmd) != 0) return false;
    char f[128];
    snprintf(f, sizeof f, "%s.crt", name);
    p->chain = slurp(f, &p->chain_len);
    snprintf(f, sizeof f, "%s.key", name);
    p->key = slurp(f, &p->key_len);
    return p->chain && p->key;
}

static void setup_certs(void)
{
    snprintf(dir, sizeof dir, "/tmp/uweb-tls-XXXXXX");
    if (!mkdtemp(dir)) return;
    const char *ec = "ec -pkeyopt ec_paramgen_curve:P-256";
    have_certs = make_cert(&cert_a, "a", ec, "DNS:a.test,DNS:*.wild.test,IP:127.0.0.1")
        && make_cert(&cert_a2, "a2", ec, "DNS:a.test")
        && make_cert(&cert_b, "b", "rsa:2048", "DNS:b.test")
        && make_cert(&cert_acme, "acme", ec, "DNS:a.test")
        && make_cert(&cert_weak, "weak", "rsa:1024", "DNS:weak.test")
        && make_cert(&cert_p384, "p384", "ec -pkeyopt ec_paramgen_curve:P-384", "DNS:p384.test");
}

static void cleanup_certs(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (dir[0]) (void)!system(cmd);
}

static const char *const alpn_h2_h1[] = { "h2", "http/1.1", NULL };

static uw_tls_config *config(const uw_tls_options *opt)
{
    uw_tls_options o = { .alpn = alpn_h2_h1 };
    uw_tls_config *cfg;
    if (uw_tls_config_new(&cfg, opt ? opt : &o) != UW_TLS_OK) return NULL;
    char err[200];
    if (uw_tls_add_cert(cfg, UW_TLS_CERT_DEFAULT, cert_a.chain, cert_a.chain_len, cert_a.key, cert_a.key_len, err, sizeof err) != 0
        || uw_tls_add_cert(cfg, UW_TLS_CERT_DEFAULT, cert_b.chain, cert_b.chain_len, cert_b.key, cert_b.key_len, err, sizeof err) != 1) {
        printf("# add_cert: %s\n", err);
        uw_tls_config_free(cfg);
        return NULL;
    }
    return cfg;
}

/* ------------------------------------------------------------ an OpenSSL client in memory */

typedef struct client {
    SSL_CTX *ctx;
    SSL *ssl;
    BIO *in, *out;          /* the client reads from in, writes to out */
} client;

typedef struct client_opts {
    int min_version, max_version;
    const char *ciphers;        /* TLS 1.2 cipher list */
    const char *alpn;           /* wire form */
    size_t alpn_len;
    const char *sni;
    SSL_SESSION *session;
    int seclevel;
    const char *groups;
} client_opts;

static void client_init(client *c, const client_opts *o)
{
    memset(c, 0, sizeof *c);
    c->ctx = SSL_CTX_new(TLS_client_method());
    if (o->seclevel >= 0) SSL_CTX_set_security_level(c->ctx, o->seclevel);
    SSL_CTX_set_min_proto_version(c->ctx, o->min_version ? o->min_version : TLS1_2_VERSION);
    SSL_CTX_set_max_proto_version(c->ctx, o->max_version ? o->max_version : TLS1_3_VERSION);
    if (o->ciphers) SSL_CTX_set_cipher_list(c->ctx, o->ciphers);
    if (o->groups) SSL_CTX_set1_groups_list(c->ctx, o->groups);
    SSL_CTX_set_session_cache_mode(c->ctx, SSL_SESS_CACHE_OFF);   /* freeing a cache would spoil the sessions kept */
    c->ssl = SSL_new(c->ctx);
    c->in = BIO_new(BIO_s_mem());
    c->out = BIO_new(BIO_s_mem());
    BIO_set_mem_eof_return(c->in, -1);
    SSL_set_bio(c->ssl, c->in, c->out);
    if (o->alpn) SSL_set_alpn_protos(c->ssl, (const unsigned char *)o->alpn, (unsigned)o->alpn_len);
    if (o->sni) SSL_set_tlsext_host_name(c->ssl, o->sni);
    if (o->session) SSL_set_session(c->ssl, o->session);
    SSL_set_connect_state(c->ssl);
}

static void client_free(client *c)
{
    /* as after a clean close: OpenSSL keeps the session resumable */
    SSL_set_shutdown(c->ssl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
    SSL_free(c->ssl);
    SSL_CTX_free(c->ctx);
}

/* Client -> engine, engine -> client.  Returns bytes moved. */
static size_t move(client *c, uw_tls *t)
{
    size_t moved = 0;
    char tmp[4096];
    int n;
    while ((n = BIO_read(c->out, tmp, sizeof tmp)) > 0) {
        for (int off = 0; off < n;) {
            size_t room;
            void *p = uw_tls_recv_buf(t, &room);
            if (!p) return moved;
            size_t k = (size_t)(n - off) < room ? (size_t)(n - off) : room;
            memcpy(p, tmp + off, k);
            uw_tls_recv_done(t, k);
            off += (int)k;
            moved += k;
            int r = uw_tls_handshake(t);
            if (r != UW_TLS_OK && r != UW_TLS_WANT_INPUT) return moved;
        }
    }
    size_t len;
    const void *p;
    while ((p = uw_tls_send_buf(t, &len))) {
        BIO_write(c->in, p, (int)len);
        uw_tls_send_done(t, len);
        moved += len;
    }
    return moved;
}

/* Runs both handshakes: the engine's result (UW_TLS_OK when both ended). */
static int handshake(client *c, uw_tls *t)
{
    bool done = false;
    int r = UW_TLS_WANT_INPUT;
    for (int i = 0; i < 50; i++) {
        if (!done) done = SSL_do_handshake(c->ssl) == 1;
        size_t m = move(c, t);
        r = uw_tls_handshake(t);
        m += move(c, t);
        if (r != UW_TLS_OK && r != UW_TLS_WANT_INPUT) return r;
        if (done && r == UW_TLS_OK) return UW_TLS_OK;
        if (m == 0 && i > 2) break;
    }
    return r;
}

/* Client writes s; the engine reads it back. */
static bool client_to_server(client *c, uw_tls *t, const char *s)
{
    SSL_write(c->ssl, s, (int)strlen(s));
    move(c, t);
    char buf[256];
    size_t got = 0;
    for (int i = 0; i < 10 && got < strlen(s); i++) {
        ssize_t n = uw_tls_read(t, buf + got, sizeof buf - got);
        if (n > 0) got += (size_t)n;
        move(c, t);
    }
    return got == strlen(s) && memcmp(buf, s, got) == 0;
}

/* The engine writes slices; the client reads them back. */
static bool server_to_client(client *c, uw_tls *t, const uw_slice *v, size_t n, const char *expect)
{
    ssize_t k = uw_tls_writev(t, v, n);
    if (k != (ssize_t)strlen(expect)) return false;
    move(c, t);
    char buf[4096];
    size_t got = 0;
    for (int i = 0; i < 10 && got < strlen(expect); i++) {
        int r = SSL_read(c->ssl, buf + got, (int)(sizeof buf - got));
        if (r > 0) got += (size_t)r;
        move(c, t);
    }
    return got == strlen(expect) && memcmp(buf, expect, got) == 0;
}

/* The subject CN of the certificate the client got. */
static void peer_cn(client *c, char *buf, size_t n)
{
    buf[0] = 0;
    X509 *x = SSL_get1_peer_certificate(c->ssl);
    if (!x) return;
    X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, buf, (int)n);
    X509_free(x);
}

static bool peer_is(client *c, const pem *p)
{
    X509 *x = SSL_get1_peer_certificate(c->ssl);
    BIO *b = BIO_new_mem_buf(p->chain, (int)p->chain_len);
    X509 *y = PEM_read_bio_X509(b, NULL, NULL, NULL);
    bool same = x && y && X509_cmp(x, y) == 0;
    X509_free(x);
    X509_free(y);
    BIO_free(b);
    return same;
}

/* ------------------------------------------------------------ tests */

static void test_tls13_handshake_and_data(void)
{
    uw_tls_config *cfg = config(NULL);
    CHECK(cfg);
    if (!cfg) return;
    uw_tls *t;
    CHECK_EQ_INT(uw_tls_new(&t, cfg), UW_TLS_OK);
    client c;
    client_init(&c, &(client_opts){ .min_version = TLS1_3_VERSION, .alpn = "\x08http/1.1", .alpn_len = 9, .sni = "a.test", .seclevel = -1 });
    CHECK_EQ_INT(uw_tls_get_state(t), UW_TLS_HANDSHAKING);
    CHECK_EQ_INT(handshake(&c, t), UW_TLS_OK);
    CHECK_EQ_INT(uw_tls_get_state(t), UW_TLS_OPEN);
    CHECK_EQ_STR(uw_tls_version(t), "TLSv1.3");
    CHECK(strncmp(uw_tls_cipher(t), "TLS_AES_", 8) == 0 || strcmp(uw_tls_cipher(t), "TLS_CHACHA20_POLY1305_SHA256") == 0);
    CHECK_EQ_STR(uw_tls_alpn(t), "http/1.1");
    CHECK_EQ_STR(uw_tls_sni(t), "a.test");
    CHECK(!uw_tls_resumed(t));
    CHECK(client_to_server(&c, t, "GET / HTTP/1.1\r\n\r\n"));
    uw_slice v[] = { UW_SLICE_LIT("HTTP/1.1 200 OK\r\n"), UW_SLICE_LIT("\r\n"), UW_SLICE_LIT("hello") };
    CHECK(server_to_client(&c, t, v, 3, "HTTP/1.1 200 OK\r\n\r\nhello"));
    /* close_notify from the client: EOF, then our own close_notify. */
    SSL_shutdown(c.ssl);
    move(&c, t);
    char buf[16];
    CHECK_EQ_INT(uw_tls_read(t, buf, sizeof buf), UW_TLS_EOF);
    CHECK_EQ_INT(uw_tls_get_state(t), UW_TLS_CLOSED);
    uw_tls_close(t);
    size_t len;
    CHECK(uw_tls_send_buf(t, &len) != NULL && len > 0);
    CHECK_EQ_INT(uw_tls_writev(t, v, 1), UW_TLS_ECLOSED);
    uw_tls_free(t);
    client_free(&c);
    uw_tls_config_free(cfg);
}

static void test_writev_gathers_records(void)
{
    uw_tls_config *cfg = config(NULL);
    if (!cfg) { CHECK(cfg); return; }
    uw_tls *t;
    uw_tls_new(&t, cfg);
    client c;
    client_init(&c, &(client_opts){ .min_version = TLS1_3_VERSION, .seclevel = -1 });
    CHECK_EQ_INT(handshake(&c, t), UW_TLS_OK);
    /* 100 slices of 10 bytes: one record (5 header + 1000 + 1 type + 16 tag). */
    static char data[1000];
    for (size_t i = 0; i < sizeof data; i++) data[i] = (char)('a' + i % 26);
    uw_slice v[100];
    for (int i = 0; i < 100; i++) v[i] = (uw_slice){ data + 10 * i, 10 };
    size_t len;
    CHECK(uw_tls_send_buf(t, &len) == NULL);
    CHECK_EQ_INT(uw_tls_writev(t, v, 100), 1000);
    uw_tls_send_buf(t, &len);
    CHECK_EQ_INT(len, 1022);
    move(&c, t);
    char buf[1000];
    CHECK_EQ_INT(SSL_read(c.ssl, buf, sizeof buf), 1000);
    CHECK(memcmp(buf, data, 1000) == 0);
    /* 200 KiB in one slice: taken up to the output cap, in full records. */
    size_t big = 200 * 1024;
    char *p = malloc(big);
    memset(p, 'x', big);
    uw_slice one = { p, big };
    ssize_t k = uw_tls_writev(t, &one, 1);
    /* Full records: 16384 bytes on OpenSSL, 16383 on mbedTLS (its TLS 1.3
     * limit counts the inner content-type byte). */
    ssize_t rec = k % 16384 == 0 ? 16384 : 16383;
    CHECK(k >= UW_TLS_OUT_MAX - 16384 && k < (ssize_t)big && k % rec == 0);
    uw_tls_send_buf(t, &len);
    CHECK_EQ_INT(len, (size_t)(k / rec) * (size_t)(rec + 22));
    CHECK_EQ_INT(uw_tls_writev(t, &one, 1), UW_TLS_WANT_OUTPUT);
    free(p);
    uw_tls_free(t);
    client_free(&c);
    uw_tls_config_free(cfg);
}

static void test_tls12(void)
{
    uw_tls_config *cfg = config(NULL);
    if (!cfg) { CHECK(cfg); return; }
    uw_tls *t;
    uw_tls_new(&t, cfg);
    client c;
    client_init(&c, &(client_opts){ .max_version = TLS1_2_VERSION, .alpn = "\x02h2\x08http/1.1", .alpn_len = 12, .seclevel = -1 });
    CHECK_EQ_INT(handshake(&c, t), UW_TLS_OK);
    CHECK_EQ_STR(uw_tls_version(t), "TLSv1.2");
    CHECK(strncmp(uw_tls_cipher(t), "TLS_ECDHE_ECDSA_WITH_", 21) == 0);
    CHECK(strstr(uw_tls_cipher(t), "GCM") || strstr(uw_tls_cipher(t), "CHACHA20_POLY1305"));
    CHECK_EQ_STR(uw_tls_alpn(t), "h2");         /* the server's preference */
    CHECK(uw_tls_sni(t) == NULL);
    CHECK(client_to_server(&c, t, "ping"));
    uw_slice v[] = { UW_SLICE_LIT("pong") };
    CHECK(server_to_client(&c, t, v, 1, "pong"));
    uw_tls_free(t);
    client_free(&c);
    /* modern: TLS 1.3 only; a TLS 1.2 client is refused. */
    uw_tls_options o = { .modern = true };
    uw_tls_config *m = config(&o);
    uw_tls_new(&t, m);
    client_init(&c, &(client_opts){ .max_version = TLS1_2_VERSION, .seclevel = -1 });
    CHECK_EQ_INT(handshake(&c, t), UW_TLS_EHANDSHAKE);
    uw_tls_free(t);
    client_free(&c);
    uw_tls_config_free(m);
    uw_tls_config_free(cfg);
}

/* Groups: X25519 or P-256.  A client whose first key share is P-384 gets
 * a HelloRetryRequest for P-256 (the ClientHello callback runs twice, SNI
 * still chooses); one with neither is refused. */
static void test_groups(void)
{
    uw_tls_config *cfg = config(NULL);
    if (!cfg) { CHECK(cfg); return; }
    uw_tls *t;
    uw_tls_new(&t, cfg);
    client c;
    client_init(&c, &(client_opts){ .min_version = TLS1_3_VERSION, .groups = "P-384:P-256", .sni = "b.test", .seclevel = -1 });
    CHECK_EQ_INT(handshake(&c, t), UW_TLS_OK);
    char cn[64];
    peer_cn(&c, cn, sizeof cn);
    CHECK_EQ_STR(cn, "b");
    CHECK(client_to_server(&c, t, "after HRR"));
    uw_tls_free(t);
    client_free(&c);
    uw_tls_new(&t, cfg);
    client_init(&c, &(client_opts){ .groups = "P-384:P-521", .seclevel = -1 });
    CHECK_EQ_INT(handshake(&c, t), UW_TLS_EHANDSHAKE);
    uw_tls_free(t);
    client_free(&c);
    uw_tls_config_free(cfg);
}

static void test_alpn(void)
{
    uw_tls_config *cfg = config(NULL);
    if (!cfg) { CHECK(cfg); return; }
    struct { const char *offer; size_t len; int result; const char *chosen; } cases[] = {
        { "\x08http/1.1\x02h2", 12, UW_TLS_OK, "h2" },
        { "\x08http/1.1", 9, UW_TLS_OK, "http/1.1" },
        { NULL, 0, UW_TLS_OK, NULL },
        { "\x06spdy/3", 7, UW_TLS_EHANDSHAKE, NULL },
        { "\x0a" "acme-tls/1", 11, UW_TLS_EHANDSHAKE, NULL },   /* no ACME certificate */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        uw_tls *t;
        uw_tls_new(&t, cfg);
        client c;
        client_init(&c, &(client_opts){ .alpn = cases[i].offer, .alpn_len = cases[i].len, .seclevel = -1 });
        CHECK_EQ_INT(handshake(&c, t), cases[i].result);
        if (cases[i].result == UW_TLS_OK) {
            if (cases[i].chosen) CHECK_EQ_STR(uw_tls_alpn(t), cases[i].chosen);
            else CHECK(uw_tls_alpn(t) == NULL);
        } else {
            CHECK(strstr(uw_tls_reason(t), "ALPN") != NULL);
        }
        uw_tls_free(t);
        client_free(&c);
    }
    /* acme-tls/1 alone gets the ACME certificate; with others, the ordinary one. */
    char err[200] = "";
    int acme = uw_tls_add_cert(cfg, UW_TLS_CERT_ACME, cert_acme.chain, cert_acme.chain_len, cert_acme.key, cert_acme.key_len, err, sizeof err);
    CHECK(acme >= 2);
    for (int only = 1; only >= 0; only--) {
        uw_tls *t;
        uw_tls_new(&t, cfg);
        client c;
        client_init(&c, &(client_opts){ .alpn = only ? "\x0a" "acme-tls/1" : "\x0a" "acme-tls/1\x08http/1.1",
                                        .alpn_len = only ? 11 : 20, .sni = "a.test", .seclevel = -1 });
        CHECK_EQ_INT(handshake(&c, t), UW_TLS_OK);
        CHECK_EQ_STR(uw_tls_alpn(t), only ? "acme-tls/1" : "http/1.1");
        CHECK(peer_is(&c, only ? &cert_acme : &cert_a));
        uw_tls_free(t);
        client_free(&c);
    }
    CHECK_EQ_INT(uw_tls_remove_cert(cfg, acme), UW_TLS_OK);
    CHECK_EQ_INT(uw_tls_remove_cert(cfg, acme), UW_TLS_EINVAL);
    uw_tls_config_free(cfg);
}

static void test_sni_chooses_certificate(void)
{
    uw_tls_config *cfg = config(NULL);
    if (!cfg) { CHECK(cfg); return; }
    struct { const char *sni; const char *cn; } cases[] = {
        { "a.test", "a" }, { "b.test", "b" }, { "B.Test", "b" }, { "x.wild.test", "a" },
        { "wild.test", "a" /* no match: the default */ }, { "unknown.test", "a" }, { NULL, "a" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        uw_tls *t;
        uw_tls_new(&t, cfg);
        client c;
        client_init(&c, &(client_opts){ .sni = cases[i].sni, .seclevel = -1 });
        CHECK_EQ_INT(handshake(&c, t), UW_TLS_OK);
        char cn[64];
        peer_cn(&c, cn, sizeof cn);
        CHECK_EQ_STR(cn, cases[i].cn);
        uw_tls_free(t);
        client_free(&c);
    }
    uw_tls_config_free(cfg);
}

/* A session ticket after a first handshake (TLS 1.3 sends it after). */
static SSL_SESSION *first_session(uw_tls_config *cfg, int version, bool *resumed)
{
    uw_tls *t;
    uw_tls_new(&t, cfg);
    client c;
    client_init(&c, &(client_opts){ .min_version = version, .max_version = version, .seclevel = -1 });
    int r = handshake(&c, t);
    char buf[8];
    SSL_read(c.ssl, buf, sizeof buf);      /* takes NewSessionTicket in */
    *resumed = r == UW_TLS_OK && uw_tls_resumed(t) && SSL_session_reused(c.ssl);
    SSL_SESSION *s = r == UW_TLS_OK ? SSL_get1_session(c.ssl) : NULL;
    uw_tls_free(t);
    client_free(&c);
    return s;
}

static bool resumes(uw_tls_config *cfg, int version, SSL_SESSION *s, SSL_SESSION **next)
{
    uw_tls *t;
    uw_tls_new(&t, cfg);
    client c;
    client_init(&c, &(client_opts){ .min_version = version, .max_version = version, .session = s, .seclevel = -1 });
    int r = handshake(&c, t);
    char buf[8];
    SSL_read(c.ssl, buf, sizeof buf);
    bool ok = r == UW_TLS_OK && uw_tls_resumed(t) && SSL_session_reused(c.ssl);
    if (next) *next = SSL_get1_session(c.ssl);
    uw_tls_free(t);
    client_free(&c);
    return ok;
}

static void test_resumption(void)
{
    uw_tls_config *cfg = config(NULL);
    if (!cfg) { CHECK(cfg); return; }
    int versions[] = { TLS1_3_VERSION, TLS1_2_VERSION };
    for (int i = 0; i < 2; i++) {
        bool resumed;
        SSL_SESSION *s = first_session(cfg, versions[i], &resumed);
        CHECK(s != NULL);
        CHECK(!resumed);
        CHECK(SSL_SESSION_is_resumable(s));
        CHECK(resumes(cfg, versions[i], s, NULL));
        /* After one rotation the previous key still opens it... */
        uw_tls_rotate_tickets(cfg);
        SSL_SESSION *renewed = NULL;
        CHECK(resumes(cfg, versions[i], s, &renewed));
        /* ...after two, it does not: a full handshake. */
        uw_tls_rotate_tickets(cfg);
        CHECK(!resumes(cfg, versions[i], s, NULL));
        SSL_SESSION_free(renewed);
        SSL_SESSION_free(s);
    }
    /* no_tickets: nothing to resume with. */
    uw_tls_options o = { .no_tickets = true };
    uw_tls_config *nt = config(&o);
    bool resumed;
    SSL_SESSION *s = first_session(nt, TLS1_3_VERSION, &resumed);
    CHECK(!s || !SSL_SESSION_is_resumable(s));
    SSL_SESSION_free(s);
    s = first_session(nt, TLS1_2_VERSION, &resumed);
    CHECK(!s || !resumes(nt, TLS1_2_VERSION, s, NULL));
    SSL_SESSION_free(s);
    uw_tls_config_free(nt);
    uw_tls_config_free(cfg);
}

static void test_old_and_weak_clients_refused(void)
{
    uw_tls_config *cfg = config(NULL);
    if (!cfg) { CHECK(cfg); return; }
    struct { const char *what; client_opts o; const char *reason; } cases[] = {
        { "TLS 1.1", { .min_version = TLS1_1_VERSION, .max_version = TLS1_1_VERSION, .ciphers = "DEFAULT@SECLEVEL=0", .seclevel = 0 }, "TLS 1.1" },
        { "TLS 1.0", { .min_version = TLS1_VERSION, .max_version = TLS1_VERSION, .ciphers = "DEFAULT@SECLEVEL=0", .seclevel = 0 }, "TLS 1.0" },
        { "CBC only", { .max_version = TLS1_2_VERSION, .ciphers = "ECDHE-ECDSA-AES128-SHA256:ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA", .seclevel = -1 }, "no shared cipher" },
        { "RSA key exchange", { .max_version = TLS1_2_VERSION, .ciphers = "AES128-GCM-SHA256", .seclevel = -1 }, "no shared cipher" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        uw_tls *t;
        uw_tls_new(&t, cfg);
        client c;
        client_init(&c, &cases[i].o);
        int r = handshake(&c, t);
        if (r != UW_TLS_EHANDSHAKE || !strstr(uw_tls_reason(t), cases[i].reason))
            printf("# %s: %s (%s)\n", cases[i].what, uw_tls_strerror(r), uw_tls_reason(t));
        CHECK_EQ_INT(r, UW_TLS_EHANDSHAKE);
        CHECK(strstr(uw_tls_reason(t), cases[i].reason) != NULL);
        CHECK_EQ_INT(uw_tls_get_state(t), UW_TLS_FAILED);
        CHECK(SSL_get_state(c.ssl) != TLS_ST_OK);
        uw_tls_free(t);
        client_free(&c);
    }
    uw_tls_config_free(cfg);
}

static void test_garbage(void)
{
    uw_tls_config *cfg = config(NULL);
    if (!cfg) { CHECK(cfg); return; }
#define IN(s) { s, sizeof s - 1 }
    static const struct { const char *p; size_t n; } inputs[] = {
        IN("GET / HTTP/1.1\r\nHost: a.test\r\n\r\n"),
        IN("\x16\x03\x01\x00\x05hello"),                /* a handshake record that is no ClientHello */
        IN("\x17\x03\x03\x00\x10" "0123456789abcdef"),  /* application data first */
        IN("\x16\x03\x01\xff\xff"),                      /* a record too long */
    };
    for (size_t i = 0; i < sizeof inputs / sizeof *inputs; i++) {
        uw_tls *t;
        uw_tls_new(&t, cfg);
        size_t room;
        void *p = uw_tls_recv_buf(t, &room);
        size_t n = inputs[i].n;
        memcpy(p, inputs[i].p, n);
        CHECK_EQ_INT(uw_tls_recv_done(t, n), UW_TLS_OK);
        int r = uw_tls_handshake(t);
        CHECK(r == UW_TLS_EPROTO || r == UW_TLS_EHANDSHAKE);
        CHECK(uw_tls_reason(t)[0] != 0);
        CHECK_EQ_INT(uw_tls_get_state(t), UW_TLS_FAILED);
        CHECK_EQ_INT(uw_tls_handshake(t), r);                 /* sticky */
        char buf[8];
        CHECK_EQ_INT(uw_tls_read(t, buf, sizeof buf), r);
        CHECK(uw_tls_recv_buf(t, &room) == NULL);
        uw_tls_free(t);
    }
    /* Random bytes, many times: never OK, never a crash. */
    for (int i = 0; i < 200; i++) {
        uw_tls *t;
        uw_tls_new(&t, cfg);
        size_t room;
        unsigned char *p = uw_tls_recv_buf(t, &room);
        uw_random(p, 600);
        if (i % 2) p[0] = 0x16;
        uw_tls_recv_done(t, 600);
        int r = uw_tls_handshake(t);
        CHECK(r != UW_TLS_OK);
        uw_tls_free(t);
    }
    uw_tls_config_free(cfg);
}

/* The client's first flight. */
static size_t client_hello(unsigned char *buf, size_t cap, const client_opts *o)
{
    client c;
    client_init(&c, o);
    SSL_do_handshake(c.ssl);
    int n = BIO_read(c.out, buf, (int)cap);
    client_free(&c);
    return n > 0 ? (size_t)n : 0;
}

static void test_truncation_at_every_byte(void)
{
    uw_tls_config *cfg = config(NULL);
    if (!cfg) { CHECK(cfg); return; }
    unsigned char hello[4096];
    size_t len = client_hello(hello, sizeof hello, &(client_opts){ .alpn = "\x08http/1.1", .alpn_len = 9, .sni = "a.test", .seclevel = -1 });
    CHECK(len > 100);
    size_t bad = 0;
    for (size_t k = 0; k < len; k++) {
        uw_tls *t;
        uw_tls_new(&t, cfg);
        size_t room;
        void *p = uw_tls_recv_buf(t, &room);
        memcpy(p, hello, k);
        uw_tls_recv_done(t, k);
        int r1 = uw_tls_handshake(t);
        size_t out;
        bool sent = uw_tls_send_buf(t, &out) != NULL;
        int r2 = uw_tls_recv_eof(t);
        if (r1 != UW_TLS_WANT_INPUT || sent || r2 != UW_TLS_ETRUNCATED || uw_tls_get_state(t) != UW_TLS_FAILED) {
            if (bad++ < 3) printf("# cut at %zu: %s, %s\n", k, uw_tls_strerror(r1), uw_tls_strerror(r2));
        }
        uw_tls_free(t);
    }
    CHECK_EQ_INT(bad, 0);
    /* The whole ClientHello, one byte at a time: the server answers. */
    uw_tls *t;
    uw_tls_new(&t, cfg);
    int r = UW_TLS_WANT_INPUT;
    for (size_t k = 0; k < len; k++) {
        size_t room;
        unsigned char *p = uw_tls_recv_buf(t, &room);
        *p = hello[k];
        uw_tls_recv_done(t, 1);
        r = uw_tls_handshake(t);
        size_t out;
        if (k + 1 < len) CHECK(r == UW_TLS_WANT_INPUT && uw_tls_send_buf(t, &out) == NULL);
    }
    size_t out;
    CHECK_EQ_INT(r, UW_TLS_WANT_INPUT);     /* the client's Finished is still to come */
    CHECK(uw_tls_send_buf(t, &out) != NULL && out > 200);
    uw_tls_free(t);
    /* A limit on handshake bytes. */
    uw_tls_options o = { .max_handshake = 100 };
    uw_tls_config *small = config(&o);
    uw_tls_new(&t, small);
    size_t room;
    void *p = uw_tls_recv_buf(t, &room);
    memcpy(p, hello, len);
    CHECK_EQ_INT(uw_tls_recv_done(t, len), UW_TLS_OK);
    CHECK_EQ_INT(uw_tls_handshake(t), UW_TLS_ELIMIT);
    CHECK_EQ_INT(uw_tls_handshake(t), UW_TLS_ELIMIT);
    CHECK(strstr(uw_tls_reason(t), "100 bytes") != NULL);
    uw_tls_free(t);
    uw_tls_config_free(small);
    uw_tls_config_free(cfg);
}

/* Data the client sends right behind its Finished is no handshake: it
 * does not count against max_handshake. */
static void test_app_data_after_finished(void)
{
    uw_tls_options o = { .max_handshake = 2000 };
    uw_tls_config *cfg = config(&o);
    if (!cfg) { CHECK(cfg); return; }
    uw_tls *t;
    uw_tls_new(&t, cfg);
    client c;
    client_init(&c, &(client_opts){ .min_version = TLS1_3_VERSION, .seclevel = -1 });
    SSL_do_handshake(c.ssl);
    move(&c, t);                                /* ClientHello in, the server's flight out */
    CHECK_EQ_INT(SSL_do_handshake(c.ssl), 1);   /* the client is done; its Finished is queued */
    static char data[10000];
    memset(data, 'd', sizeof data);
    CHECK_EQ_INT(SSL_write(c.ssl, data, sizeof data), (int)sizeof data);
    move(&c, t);
    CHECK_EQ_INT(uw_tls_handshake(t), UW_TLS_OK);
    static char got[10000];
    size_t n = 0;
    for (int i = 0; i < 20 && n < sizeof got; i++) {
        ssize_t k = uw_tls_read(t, got + n, sizeof got - n);
        if (k > 0) n += (size_t)k;
        else move(&c, t);
    }
    CHECK_EQ_INT(n, sizeof data);
    CHECK(memcmp(got, data, sizeof data) == 0);
    uw_tls_free(t);
    client_free(&c);
    uw_tls_config_free(cfg);
}

static void test_cert_swap(void)
{
    uw_tls_config *cfg = config(NULL);
    if (!cfg) { CHECK(cfg); return; }
    uw_tls *old;
    uw_tls_new(&old, cfg);
    client co;
    client_init(&co, &(client_opts){ .sni = "a.test", .seclevel = -1 });
    CHECK_EQ_INT(handshake(&co, old), UW_TLS_OK);
    CHECK(peer_is(&co, &cert_a));
    char err[200] = "";
    CHECK_EQ_INT(uw_tls_set_cert(cfg, 0, cert_a2.chain, cert_a2.chain_len, cert_a2.key, cert_a2.key_len, err, sizeof err), UW_TLS_OK);
    /* A bad replacement leaves the slot as it was. */
    CHECK_EQ_INT(uw_tls_set_cert(cfg, 0, cert_a2.chain, cert_a2.chain_len, cert_b.key, cert_b.key_len, err, sizeof err), UW_TLS_EINVAL);
    CHECK_EQ_INT(uw_tls_set_cert(cfg, 7, cert_a2.chain, cert_a2.chain_len, cert_a2.key, cert_a2.key_len, err, sizeof err), UW_TLS_EINVAL);
    uw_tls *fresh;
    uw_tls_new(&fresh, cfg);
    client cf;
    client_init(&cf, &(client_opts){ .sni = "a.test", .seclevel = -1 });
    CHECK_EQ_INT(handshake(&cf, fresh), UW_TLS_OK);
    CHECK(peer_is(&cf, &cert_a2));
    /* The open connection goes on, both ways. */
    CHECK(client_to_server(&co, old, "still there?"));
    uw_slice v[] = { UW_SLICE_LIT("yes") };
    CHECK(server_to_client(&co, old, v, 1, "yes"));
    uw_tls_free(old);
    uw_tls_free(fresh);
    client_free(&co);
    client_free(&cf);
    uw_tls_config_free(cfg);
}

static void test_bad_certificates(void)
{
    uw_tls_config *cfg;
    CHECK_EQ_INT(uw_tls_config_new(&cfg, NULL), UW_TLS_OK);
    uw_tls *t;
    CHECK_EQ_INT(uw_tls_new(&t, cfg), UW_TLS_EINVAL);     /* no certificate yet */
    char err[200];
    struct { const pem *chain, *key; const char *why; } cases[] = {
        { &cert_weak, &cert_weak, "2048" },
        { &cert_p384, &cert_p384, "P-256" },
        { &cert_a, &cert_b, "" },
        { &cert_a, &cert_a2, "match" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        err[0] = 0;
        CHECK_EQ_INT(uw_tls_add_cert(cfg, UW_TLS_CERT_DEFAULT, cases[i].chain->chain, cases[i].chain->chain_len,
                                     cases[i].key->key, cases[i].key->key_len, err, sizeof err), UW_TLS_EINVAL);
        CHECK(err[0] && strstr(err, cases[i].why));
        if (!strstr(err, cases[i].why)) printf("# case %zu: %s\n", i, err);
    }
    CHECK_EQ_INT(uw_tls_add_cert(cfg, UW_TLS_CERT_DEFAULT, "junk", 4, "junk", 4, err, sizeof err), UW_TLS_EINVAL);
    CHECK(strstr(err, "PEM") != NULL);
    const char *const bad_alpn[] = { "", NULL };
    uw_tls_options o = { .alpn = bad_alpn };
    uw_tls_config *c2;
    CHECK_EQ_INT(uw_tls_config_new(&c2, &o), UW_TLS_EINVAL);
    CHECK_EQ_STR(uw_tls_strerror(UW_TLS_ETRUNCATED), "TLS stream truncated");
    uw_tls_config_free(cfg);
}

static void test_random(void)
{
    unsigned char a[64], b[64], zero[64] = { 0 };
    CHECK_EQ_INT(uw_random(a, sizeof a), UW_OK);
    CHECK_EQ_INT(uw_random(b, sizeof b), UW_OK);
    CHECK(memcmp(a, b, sizeof a) != 0);
    CHECK(memcmp(a, zero, sizeof a) != 0);
    CHECK_EQ_INT(uw_random(a, 0), UW_OK);
}

/* Heap bytes an idle connection keeps after a TLS 1.3 handshake and
 * uw_tls_shrink (what tls.h states). */
__attribute__((unused)) static void test_idle_memory(void)
{
    uw_tls_config *cfg = config(NULL);
    if (!cfg) { CHECK(cfg); return; }
    enum { N = 200 };
    static uw_tls *t[N];
    /* warm up OpenSSL's lazily made tables */
    for (int round = 0; round < 2; round++) {
        struct mallinfo2 before = mallinfo2();
        for (int i = 0; i < N; i++) {
            uw_tls_new(&t[i], cfg);
            client c;
            client_init(&c, &(client_opts){ .sni = "a.test", .alpn = "\x08http/1.1", .alpn_len = 9, .seclevel = -1 });
            handshake(&c, t[i]);
            char buf[8];
            SSL_read(c.ssl, buf, sizeof buf);
            move(&c, t[i]);
            client_free(&c);
            uw_tls_shrink(t[i]);
        }
        struct mallinfo2 after = mallinfo2();
        long per = ((long)after.uordblks - (long)before.uordblks) / N;
        if (round == 1) {
            printf("# idle bytes per TLS connection (TLS 1.3, after uw_tls_shrink): %ld\n", per);
            CHECK(per > 0 && per < 20 * 1024);    /* a guard against growth; tls.h states the figure */
        }
        for (int i = 0; i < N; i++) uw_tls_free(t[i]);
    }
    uw_tls_config_free(cfg);
}

/* ------------------------------------------------------------ the TLS uw_conn over sockets */

static uw_tls_config *sock_cfg;
static uint16_t sock_port;
static int served, refused;
static char last_reason[200];
static int last_status;
static uw_listener *sock_listener;

static void serve_one(uw_conn *tcp)
{
    uw_conn *c;
    char why[200] = "";
    int r = uw_tls_accept(tcp, sock_cfg, uw_now() + UW_MS(500), &c, why, sizeof why);
    if (r != UW_OK) {
        refused++;
        last_status = r;
        snprintf(last_reason, sizeof last_reason, "%s", why);
        return;
    }
    uw_tls *t = uw_tls_conn_engine(c);
    char req[64] = "";
    size_t got = 0;
    while (got < 4) {
        ssize_t n = uw_conn_read(c, req + got, sizeof req - 1 - got, uw_now() + UW_SEC(5));
        if (n <= 0) break;
        got += (size_t)n;
    }
    if (got == 4 && memcmp(req, "big?", 4) == 0) {
        static char chunk[100000];
        memset(chunk, 'z', sizeof chunk);
        uw_slice v[11];
        for (int i = 0; i < 10; i++) v[i] = (uw_slice){ chunk, sizeof chunk };
        v[10] = (uw_slice){ "END", 3 };
        uw_conn_writev(c, v, 11, uw_now() + UW_SEC(10));
    } else {
        const char *alpn = uw_tls_alpn(t) ? uw_tls_alpn(t) : "-";
        uw_slice v[] = { { "pong ", 5 }, { alpn, strlen(alpn) }, { "\n", 1 } };
        uw_conn_writev(c, v, 3, uw_now() + UW_SEC(5));
    }
    served++;
    uw_conn_close(c, false);
}

static void acceptor(void *arg)
{
    (void)arg;
    for (;;) {
        uw_conn *tcp;
        if (uw_tcp_accept(sock_listener, &tcp, UW_FOREVER) != UW_OK) break;
        serve_one(tcp);
    }
}

static int connect_tcp(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(sock_port) };
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) { close(fd); return -1; }
    return fd;
}

typedef struct client_result {
    bool good_ok, big_ok, garbage_done, stall_done;
    char good_reply[64];
    size_t big_len;
} client_result;

static void *client_thread(void *arg)
{
    client_result *res = arg;
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    /* 1. garbage, then EOF */
    int fd = connect_tcp();
    (void)!write(fd, "GET / HTTP/1.1\r\n\r\n", 18);
    char tmp[256];
    while (read(fd, tmp, sizeof tmp) > 0) {}
    close(fd);
    res->garbage_done = true;
    /* 2. a client that stalls after half a ClientHello */
    fd = connect_tcp();
    (void)!write(fd, "\x16\x03\x01\x00\x80\x01", 6);
    while (read(fd, tmp, sizeof tmp) > 0) {}
    close(fd);
    res->stall_done = true;
    /* 3. a good request */
    for (int round = 0; round < 2; round++) {
        fd = connect_tcp();
        SSL *s = SSL_new(ctx);
        SSL_set_fd(s, fd);
        SSL_set_alpn_protos(s, (const unsigned char *)"\x08http/1.1", 9);
        SSL_set_tlsext_host_name(s, "a.test");
        if (SSL_connect(s) == 1) {
            SSL_write(s, round == 0 ? "ping" : "big?", 4);
            if (round == 0) {
                int n = SSL_read(s, res->good_reply, sizeof res->good_reply - 1);
                res->good_ok = n > 0;
            } else {
                static char buf[1 << 20];
                size_t got = 0;
                int n;
                while ((n = SSL_read(s, buf + got, (int)(sizeof buf - got))) > 0) got += (size_t)n;
                res->big_len = got;
                res->big_ok = got == 1000003 && memcmp(buf + got - 3, "END", 3) == 0 && buf[0] == 'z'
                    && SSL_get_error(s, n) == SSL_ERROR_ZERO_RETURN;   /* the server's close_notify */
            }
        }
        SSL_free(s);
        close(fd);
    }
    SSL_CTX_free(ctx);
    return NULL;
}

/* A connection wrapped without its handshake and parked with no task:
 * the ClientHello's arrival calls the notify function; the handshake then
 * runs within the first read (what a server does for idle connections). */
static uw_waitq parked_q = UW_WAITQ_INIT;
static int parked_notified;
static char parked_reply[64];
static uw_listener *parked_listener;
static uint16_t parked_port;
static pthread_t parked_thread;
static bool parked_started;

static void on_parked(uw_conn *c, void *arg)
{
    (void)arg;
    parked_notified++;
    uw_conn_set_notify(c, NULL, NULL);
    uw_wake_one(&parked_q);
}

static void parked_server(void *arg)
{
    (void)arg;
    uw_conn *tcp, *c;
    if (uw_tcp_accept(parked_listener, &tcp, uw_now() + UW_SEC(10)) != UW_OK) return;
    if (uw_tls_wrap(tcp, sock_cfg, uw_now() + UW_SEC(10), &c) != UW_TLS_OK) return;
    uw_conn_set_notify(c, on_parked, NULL);
    if (uw_wait(&parked_q, uw_now() + UW_SEC(10)) == UW_OK) {
        char buf[16];
        ssize_t n = uw_conn_read(c, buf, sizeof buf, uw_now() + UW_SEC(5));
        uw_tls *t = uw_tls_conn_engine(c);
        if (n == 4 && memcmp(buf, "ping", 4) == 0 && uw_tls_get_state(t) == UW_TLS_OPEN) {
            uw_slice v[] = { { "parked ", 7 }, { uw_tls_version(t), strlen(uw_tls_version(t)) } };
            uw_conn_writev(c, v, 2, uw_now() + UW_SEC(5));
        }
    }
    uw_conn_close(c, false);
    uw_listener_close(parked_listener);
}

static void *parked_client(void *arg)
{
    (void)arg;
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(parked_port) };
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) { close(fd); SSL_CTX_free(ctx); return NULL; }
    usleep(200 * 1000);         /* the server parks first */
    SSL *s = SSL_new(ctx);
    SSL_set_fd(s, fd);
    if (SSL_connect(s) == 1) {
        SSL_write(s, "ping", 4);
        int n = SSL_read(s, parked_reply, sizeof parked_reply - 1);
        if (n < 0) parked_reply[0] = 0;
    }
    SSL_free(s);
    close(fd);
    SSL_CTX_free(ctx);
    return NULL;
}

/* Started by the sockets test's waiter, in the same runtime. */
static void start_parked(void)
{
    if (uw_tcp_listen(&parked_listener, "127.0.0.1", 0, 16) != UW_OK) return;
    parked_port = uw_listener_port(parked_listener);
    if (pthread_create(&parked_thread, NULL, parked_client, NULL) != 0) return;
    parked_started = true;
    uw_detach(uw_spawn(parked_server, NULL, 0));
}

static void waiter(void *arg)
{
    pthread_t *th = arg;
    (void)th;
    /* The client thread ends by itself; poll for its results. */
    for (int i = 0; i < 200 && served < 2; i++) uw_sleep(UW_MS(50));
    uw_listener_close(sock_listener);
    start_parked();
}

static void test_tls_conn_over_sockets(void)
{
    sock_cfg = config(NULL);
    if (!sock_cfg) { CHECK(sock_cfg); return; }
    CHECK_EQ_INT(uw_rt_init(), UW_OK);
    CHECK_EQ_INT(uw_tcp_listen(&sock_listener, "127.0.0.1", 0, 16), UW_OK);
    sock_port = uw_listener_port(sock_listener);
    client_result res = { 0 };
    pthread_t th;
    pthread_create(&th, NULL, client_thread, &res);
    uw_task *a = uw_spawn(acceptor, NULL, 0);
    uw_task *w = uw_spawn(waiter, &th, 0);
    uw_rt_run();
    uw_join(a);
    uw_join(w);
    pthread_join(th, NULL);
    if (parked_started) pthread_join(parked_thread, NULL);
    uw_listener_free(sock_listener);
    uw_listener_free(parked_listener);
    uw_rt_fini();
    CHECK(res.garbage_done && res.stall_done);
    /* A wrapped connection parked with no task until its ClientHello. */
    CHECK(parked_started);
    CHECK_EQ_INT(parked_notified, 1);
    CHECK_EQ_STR(parked_reply, "parked TLSv1.3");
    CHECK_EQ_INT(refused, 2);
    CHECK_EQ_INT(last_status, UW_TLS_ETIMEDOUT);
    CHECK(strstr(last_reason, "timed out") != NULL);
    CHECK(res.good_ok);
    CHECK_EQ_STR(res.good_reply, "pong http/1.1\n");
    CHECK(res.big_ok);
    CHECK_EQ_INT(served, 2);
    uw_tls_config_free(sock_cfg);
}

/* ------------------------------------------------------------ the client engine */

/* Moves ciphertext from a to b: the count moved. */
static size_t pump(uw_tls *a, uw_tls *b)
{
    size_t len, moved = 0;
    const void *p;
    while ((p = uw_tls_send_buf(a, &len))) {
        size_t room;
        void *q = uw_tls_recv_buf(b, &room);
        if (!q) break;
        size_t k = len < room ? len : room;
        memcpy(q, p, k);
        uw_tls_recv_done(b, k);
        uw_tls_send_done(a, k);
        moved += k;
    }
    return moved;
}

/* Runs both handshakes: the client's result. */
static int engines_handshake(uw_tls *cl, uw_tls *sv)
{
    int rc = UW_TLS_WANT_INPUT, rs = UW_TLS_WANT_INPUT;
    for (int i = 0; i < 50; i++) {
        if (rc == UW_TLS_WANT_INPUT) rc = uw_tls_handshake(cl);
        size_t m = pump(cl, sv);
        if (rs == UW_TLS_WANT_INPUT) rs = uw_tls_handshake(sv);
        m += pump(sv, cl);
        if (rc != UW_TLS_WANT_INPUT && rs != UW_TLS_WANT_INPUT && m == 0) break;
        if (rc != UW_TLS_WANT_INPUT && rc != UW_TLS_OK) break;
    }
    return rc;
}

/* A client engine for host trusting ca (NULL: insecure) against a server
 * with certificates a and b: the client's handshake result, its reason. */
static int client_to(const char *host, const pem *ca, const char *const *alpn, char *alpn_out, char *why,
                     size_t why_len)
{
    uw_tls_config *sv_cfg = config(NULL), *cl_cfg;
    uw_tls_client_options o = { .insecure = !ca, .alpn = alpn };
    if (ca) { o.ca_pem = ca->chain; o.ca_len = ca->chain_len; }
    char err[200] = "";
    if (!sv_cfg || uw_tls_client_config_new(&cl_cfg, &o, err, sizeof err) != UW_TLS_OK) {
        printf("# client config: %s\n", err);
        uw_tls_config_free(sv_cfg);
        return -1;
    }
    uw_tls *cl, *sv;
    int r = uw_tls_new_client(&cl, cl_cfg, host);
    if (r == UW_TLS_OK && uw_tls_new(&sv, sv_cfg) == UW_TLS_OK) {
        r = engines_handshake(cl, sv);
        snprintf(why, why_len, "%s", uw_tls_reason(cl));
        if (alpn_out) snprintf(alpn_out, 16, "%s", uw_tls_alpn(cl) ? uw_tls_alpn(cl) : "-");
        if (r == UW_TLS_OK) {
            /* data both ways */
            uw_slice v = UW_SLICE_LIT("ping");
            char buf[16];
            if (uw_tls_writev(cl, &v, 1) != 4) r = -2;
            pump(cl, sv);
            if (r == UW_TLS_OK && (uw_tls_read(sv, buf, sizeof buf) != 4 || memcmp(buf, "ping", 4) != 0)) r = -3;
            v = (uw_slice)UW_SLICE_LIT("pong!");
            if (r == UW_TLS_OK && uw_tls_writev(sv, &v, 1) != 5) r = -4;
            pump(sv, cl);
            ssize_t n;
            while (r == UW_TLS_OK && (n = uw_tls_read(cl, buf, sizeof buf)) != 5) {
                if (n != UW_TLS_WANT_INPUT) { r = -5; break; }
                if (!pump(sv, cl)) { r = -6; break; }
            }
        }
        uw_tls_free(sv);
        uw_tls_free(cl);
    }
    uw_tls_config_free(cl_cfg);
    uw_tls_config_free(sv_cfg);
    return r;
}

static void test_client_verifies(void)
{
    char why[200], alpn[16];
    static const char *const h1[] = { "http/1.1", NULL };
    CHECK_EQ_INT(client_to("a.test", &cert_a, alpn_h2_h1, alpn, why, sizeof why), UW_TLS_OK);
    CHECK_EQ_STR(alpn, "h2");
    CHECK_EQ_INT(client_to("a.test", &cert_a, h1, alpn, why, sizeof why), UW_TLS_OK);
    CHECK_EQ_STR(alpn, "http/1.1");
    CHECK_EQ_INT(client_to("a.test", &cert_a, NULL, alpn, why, sizeof why), UW_TLS_OK);
    CHECK_EQ_STR(alpn, "-");
    CHECK_EQ_INT(client_to("A.Test", &cert_a, NULL, NULL, why, sizeof why), UW_TLS_OK);
    CHECK_EQ_INT(client_to("x.wild.test", &cert_a, NULL, NULL, why, sizeof why), UW_TLS_OK);
    CHECK_EQ_INT(client_to("127.0.0.1", &cert_a, NULL, NULL, why, sizeof why), UW_TLS_OK);
    CHECK_EQ_INT(client_to("b.test", &cert_b, NULL, NULL, why, sizeof why), UW_TLS_OK);     /* RSA, by SNI */
    /* refused: another name, a name below the wildcard's label, another
     * address, a CA that did not sign it */
    CHECK_EQ_INT(client_to("c.test", &cert_a, NULL, NULL, why, sizeof why), UW_TLS_EVERIFY);
    CHECK(strstr(why, "certificate") != NULL);
    CHECK_EQ_INT(client_to("y.x.wild.test", &cert_a, NULL, NULL, why, sizeof why), UW_TLS_EVERIFY);
    CHECK_EQ_INT(client_to("127.0.0.2", &cert_a, NULL, NULL, why, sizeof why), UW_TLS_EVERIFY);
    CHECK_EQ_INT(client_to("a.test", &cert_b, NULL, NULL, why, sizeof why), UW_TLS_EVERIFY);
    printf("# refused: %s\n", why);
    /* insecure: anything goes */
    CHECK_EQ_INT(client_to("c.test", NULL, NULL, NULL, why, sizeof why), UW_TLS_OK);
}

static void test_client_config(void)
{
    uw_tls_config *cfg;
    char err[200] = "";
    /* the system store */
    CHECK_EQ_INT(uw_tls_client_config_new(&cfg, NULL, err, sizeof err), UW_TLS_OK);
    uw_tls *t;
    CHECK_EQ_INT(uw_tls_new(&t, cfg), UW_TLS_EINVAL);        /* a client config serves no one */
    CHECK_EQ_INT(uw_tls_new_client(&t, cfg, ""), UW_TLS_EINVAL);
    uw_tls_config_free(cfg);
    uw_tls_client_options o = { .ca_file = "/nonexistent/ca.pem" };
    CHECK_EQ_INT(uw_tls_client_config_new(&cfg, &o, err, sizeof err), UW_TLS_EINVAL);
    CHECK(strstr(err, "/nonexistent/ca.pem") != NULL);
    o = (uw_tls_client_options){ .ca_pem = "not a certificate", .ca_len = 17 };
    CHECK_EQ_INT(uw_tls_client_config_new(&cfg, &o, err, sizeof err), UW_TLS_EINVAL);
    char path[128];
    snprintf(path, sizeof path, "%s/a.crt", dir);
    o = (uw_tls_client_options){ .ca_file = path };
    CHECK_EQ_INT(uw_tls_client_config_new(&cfg, &o, err, sizeof err), UW_TLS_OK);
    uw_tls_config_free(cfg);
    /* a server config makes no client engine */
    cfg = config(NULL);
    CHECK_EQ_INT(uw_tls_new_client(&t, cfg, "a.test"), UW_TLS_EINVAL);
    uw_tls_config_free(cfg);
}

int main(void)
{
    setup_certs();
    if (!have_certs) {
        printf("skipped - test_tls: the openssl command could not make test certificates\n");
        cleanup_certs();
        return 0;
    }
    RUN(test_tls13_handshake_and_data);
    RUN(test_writev_gathers_records);
    RUN(test_tls12);
    RUN(test_groups);
    RUN(test_alpn);
    RUN(test_sni_chooses_certificate);
    RUN(test_resumption);
    RUN(test_old_and_weak_clients_refused);
    RUN(test_garbage);
    RUN(test_truncation_at_every_byte);
    RUN(test_app_data_after_finished);
    RUN(test_cert_swap);
    RUN(test_bad_certificates);
    RUN(test_random);
#if defined(__SANITIZE_ADDRESS__)
    printf("skipped - test_idle_memory: heap figures mean nothing under ASan\n");
#else
    RUN(test_idle_memory);
#endif
    RUN(test_tls_conn_over_sockets);
    RUN(test_client_verifies);
    RUN(test_client_config);
    cleanup_certs();
    return CHECK_DONE();
}
