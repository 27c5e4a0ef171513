/*
 * tls: uweb's TLS engine (src/tls/tls_mbedtls.c, the server) and an
 * mbedTLS client handshake in memory on the unikernel, freestanding:
 * TLS 1.3 then TLS 1.2, ALPN and SNI, data both ways (with the engine's
 * buffers given back in between, as for an idle connection), a resumption from
 * the TLS 1.3 ticket, uw_random, and SHA-256 known answers (FIPS 180-2;
 * on spt through the SHA extensions when the CPU has them, on hvt built
 * -mgeneral-regs-only through platform/mbedtls's portable code).  Prints
 * SUCCESS when all hold.
 * tests/unikernel/run.sh runs it on spt, and with --one on hvt.
 */
#include <uw_platform.h>
#include <uweb/random.h>
#include <uweb/runtime.h>
#include <uweb/tls.h>

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <mbedtls/sha256.h>
#include <uw_sha256.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>

UW_PLAT_MANIFEST();

/* A self-signed ECDSA P-256 test certificate for uk.test (test data). */
static const char cert_pem[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBkDCCATWgAwIBAgIUMxuwjZdNC88jeRl9VcnOzA6qJ0QwCgYIKoZIzj0EAwIw\n"
    "EjEQMA4GA1UEAwwHdWsudGVzdDAgFw0yNjEyMDEyMzQ0MDFaGA8yMTI2MTEwNzIz\n"
    "NDQwMVowEjEQMA4GA1UEAwwHdWsudGVzdDBZMBMGByqGSM49AgEGCCqGSM49AwEH\n"
    "A0IABLvhmkQdAJ6X9tE3Z13fBTlFQSnPuNJRbmfkc+0BuUlhiFqHK0IljYyYEJFa\n"
    "i02EiDKRsNSKcZViPpvKuy2q4iKjZzBlMB0GA1UdDgQWBBTxxMg8Z/1SIk+pLNMy\n"
    "gmoaOk0yXjAfBgNVHSMEGDAWgBTxxMg8Z/1SIk+pLNMygmoaOk0yXjAPBgNVHRMB\n"
    "Af8EBTADAQH/MBIGA1UdEQQLMAmCB3VrLnRlc3QwCgYIKoZIzj0EAwIDSQAwRgIh\n"
    "AMzRLLDUlkN05BChjtdOffn5HkLf/VSK01Cpi0c8Z1vqAiEA3nzrVYaFQvzf9Arb\n"
    "fxeG5onJsovP0CcNIhGWrVOlhp0=\n"
    "-----END CERTIFICATE-----\n";

static const char key_pem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgdYK68RDtPID9XVtR\n"
    "Ro6MmSmuAfpsuc0OPoAMAeO9rj6hRANCAAS74ZpEHQCel/bRN2dd3wU5RUEpz7jS\n"
    "UW5n5HPtAblJYYhahytCJY2MmBCRWotNhIgykbDUinGVYj6byrstquIi\n"
    "-----END PRIVATE KEY-----\n";

static int failures;

static void check(int ok, const char *what)
{
    printf("%s - %s\n", ok ? "ok" : "not ok", what);
    if (!ok) failures++;
}

/* SHA-256 of a message given as REPEAT copies of PART, fed to UPDATE in
 * pieces of STEP bytes (so both the buffered and the many-block paths
 * run). */
typedef int sha256_update_fn(mbedtls_sha256_context *, const unsigned char *, size_t);
static void sha256_known_with(sha256_update_fn *update, const char *part, size_t repeat, size_t step,
                              const char *hex, const char *what)
{
    mbedtls_sha256_context c;
    unsigned char d[32];
    char got[65];
    size_t plen = strlen(part);
    mbedtls_sha256_init(&c);
    int ok = mbedtls_sha256_starts(&c, 0) == 0;
    static unsigned char buf[4096];
    size_t fill = 0;
    for (size_t r = 0; r < repeat && ok; r++)
        for (size_t i = 0; i < plen && ok; i++) {
            buf[fill++] = (unsigned char)part[i];
            if (fill == step || fill == sizeof buf) { ok = update(&c, buf, fill) == 0; fill = 0; }
        }
    ok = ok && update(&c, buf, fill) == 0 && mbedtls_sha256_finish(&c, d) == 0;
    mbedtls_sha256_free(&c);
    for (int i = 0; i < 32; i++) snprintf(got + 2 * i, 3, "%02x", d[i]);
    check(ok && strcmp(got, hex) == 0, what);
}

static void sha256_known(const char *part, size_t repeat, size_t step, const char *hex, const char *what)
{
    sha256_known_with(mbedtls_sha256_update, part, repeat, step, hex, what);
}

/* The client's side of the wire: what the server sent, not yet read. */
static unsigned char to_client[64 * 1024];
static size_t to_client_len, to_client_pos;

static int cli_send(void *p, const unsigned char *buf, size_t n)
{
    uw_tls *t = p;
    size_t room;
    void *dst = uw_tls_recv_buf(t, &room);
    if (!dst) return MBEDTLS_ERR_SSL_WANT_WRITE;
    if (n > room) n = room;
    memcpy(dst, buf, n);
    if (uw_tls_recv_done(t, n) != UW_TLS_OK) return MBEDTLS_ERR_SSL_INTERNAL_ERROR;
    return (int)n;
}

static int cli_recv(void *p, unsigned char *buf, size_t n)
{
    (void)p;
    if (to_client_pos == to_client_len) return MBEDTLS_ERR_SSL_WANT_READ;
    if (n > to_client_len - to_client_pos) n = to_client_len - to_client_pos;
    memcpy(buf, to_client + to_client_pos, n);
    to_client_pos += n;
    return (int)n;
}

/* Moves the server's ciphertext to the client's side. */
static void pump(uw_tls *t)
{
    size_t len;
    const void *p;
    while ((p = uw_tls_send_buf(t, &len)) != NULL && len > 0) {
        if (to_client_pos == to_client_len) to_client_pos = to_client_len = 0;
        if (len > sizeof to_client - to_client_len) len = sizeof to_client - to_client_len;
        memcpy(to_client + to_client_len, p, len);
        to_client_len += len;
        uw_tls_send_done(t, len);
    }
}

static int rng(void *p, unsigned char *out, size_t n)
{
    (void)p;
    return uw_random(out, n) == UW_OK ? 0 : -1;
}

/* One connection: handshake at VERSION (offering SESSION if not NULL),
 * "ping" to the server, "pong" back.  Saves the session into SAVE. */
static void connection(uw_tls_config *cfg, mbedtls_x509_crt *ca, mbedtls_ssl_protocol_version version,
                       mbedtls_ssl_session *session, mbedtls_ssl_session *save, const char *label)
{
    char what[120];
    uw_tls *t;
    check(uw_tls_new(&t, cfg) == UW_TLS_OK, "server engine");
    mbedtls_ssl_config conf;
    mbedtls_ssl_context ssl;
    mbedtls_ssl_config_init(&conf);
    mbedtls_ssl_init(&ssl);
    static const char *alpn[] = { "http/1.1", NULL };
    int r = mbedtls_ssl_config_defaults(&conf, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM,
                                        MBEDTLS_SSL_PRESET_DEFAULT);
    mbedtls_ssl_conf_rng(&conf, rng, NULL);
    mbedtls_ssl_conf_authmode(&conf, MBEDTLS_SSL_VERIFY_REQUIRED);
    mbedtls_ssl_conf_ca_chain(&conf, ca, NULL);
    mbedtls_ssl_conf_min_tls_version(&conf, version);
    mbedtls_ssl_conf_max_tls_version(&conf, version);
    mbedtls_ssl_conf_alpn_protocols(&conf, alpn);
    mbedtls_ssl_conf_tls13_enable_signal_new_session_tickets(&conf, MBEDTLS_SSL_TLS1_3_SIGNAL_NEW_SESSION_TICKETS_ENABLED);
    if (r == 0) r = mbedtls_ssl_setup(&ssl, &conf);
    if (r == 0) r = mbedtls_ssl_set_hostname(&ssl, "uk.test");
    if (r == 0 && session) r = mbedtls_ssl_set_session(&ssl, session);
    mbedtls_ssl_set_bio(&ssl, t, cli_send, cli_recv, NULL);
    to_client_len = to_client_pos = 0;
    int sr = UW_TLS_WANT_INPUT;
    for (int i = 0; r == 0 && i < 50; i++) {
        r = mbedtls_ssl_handshake(&ssl);
        if (r == MBEDTLS_ERR_SSL_WANT_READ || r == MBEDTLS_ERR_SSL_WANT_WRITE) r = 0;
        else if (r != 0) break;
        sr = uw_tls_handshake(t);
        pump(t);
        if (sr != UW_TLS_OK && sr != UW_TLS_WANT_INPUT) break;
        if (sr == UW_TLS_OK && mbedtls_ssl_is_handshake_over(&ssl)) break;
    }
    snprintf(what, sizeof what, "%s: handshake (client %d, server %d %s)", label, r, sr, uw_tls_reason(t));
    check(r == 0 && sr == UW_TLS_OK && mbedtls_ssl_is_handshake_over(&ssl), what);
    snprintf(what, sizeof what, "%s: %s %s, ALPN %s, SNI %s", label, uw_tls_version(t), uw_tls_cipher(t),
             uw_tls_alpn(t) ? uw_tls_alpn(t) : "-", uw_tls_sni(t) ? uw_tls_sni(t) : "-");
    check(strcmp(uw_tls_version(t), version == MBEDTLS_SSL_VERSION_TLS1_3 ? "TLSv1.3" : "TLSv1.2") == 0
              && uw_tls_alpn(t) && strcmp(uw_tls_alpn(t), "http/1.1") == 0
              && uw_tls_sni(t) && strcmp(uw_tls_sni(t), "uk.test") == 0,
          what);
    if (session) {
        snprintf(what, sizeof what, "%s: resumed from the ticket", label);
        check(uw_tls_resumed(t), what);
    }
    /* data both ways, twice, the engine shrunk (idle) before each round */
    for (int round = 0; round < 2; round++) {
        uw_tls_shrink(t);
        char buf[16];
        check(uw_tls_read(t, buf, sizeof buf) == UW_TLS_WANT_INPUT, "an idle engine waits for input");
        r = mbedtls_ssl_write(&ssl, (const unsigned char *)"ping", 4);
        ssize_t n = uw_tls_read(t, buf, sizeof buf);
        snprintf(what, sizeof what, "%s: client to server (round %d)", label, round);
        check(r == 4 && n == 4 && memcmp(buf, "ping", 4) == 0, what);
        uw_tls_shrink(t);
        uw_slice v[] = { { "po", 2 }, { "ng", 2 } };
        check(uw_tls_writev(t, v, 2) == 4, "server writev");
        pump(t);
        int got = 0;
        for (int i = 0; i < 4 && got <= 0; i++) got = mbedtls_ssl_read(&ssl, (unsigned char *)buf, sizeof buf);
        snprintf(what, sizeof what, "%s: server to client (round %d)", label, round);
        check(got == 4 && memcmp(buf, "pong", 4) == 0, what);
    }
    if (save) check(mbedtls_ssl_get_session(&ssl, save) == 0, "client keeps the session");
    mbedtls_ssl_free(&ssl);
    mbedtls_ssl_config_free(&conf);
    uw_tls_free(t);
}

/* --one: the TLS 1.3 handshake only (hvt on an emulated /dev/kvm takes
 * about 90 s per handshake). */
int main(int argc, char **argv)
{
    bool one = argc > 1 && strcmp(argv[1], "--one") == 0;
    unsigned char a[32], b[32], zero[32] = { 0 };
    check(uw_random(a, sizeof a) == UW_OK && uw_random(b, sizeof b) == UW_OK && memcmp(a, b, sizeof a) != 0
              && memcmp(a, zero, sizeof a) != 0,
          "uw_random gives different, non-zero bytes");
    printf("random: ");
    for (size_t i = 0; i < 16; i++) printf("%02x", a[i]);
    printf("\n");

    sha256_known("abc", 1, 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "SHA-256 of \"abc\"");
    sha256_known("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 1, 56,
                 "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1", "SHA-256 of the 448-bit message");
    sha256_known("a", one ? 100000 : 1000000, one ? 4096 : 1000,
                 one ? "6d1cf22d7cc09b085dfc25ee1a1f3ae0265804c607bc2074ad253bcc82fd81ee"
                     : "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
                 one ? "SHA-256 of 100,000 x 'a'" : "SHA-256 of a million 'a'");
    /* the image reader's update: whole blocks in one call (4096-byte
     * pieces), and pieces that leave part of a block buffered (1000) */
    sha256_known_with(uw_mbedtls_sha256_update, "a", one ? 100000 : 1000000, 4096,
                      one ? "6d1cf22d7cc09b085dfc25ee1a1f3ae0265804c607bc2074ad253bcc82fd81ee"
                          : "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
                      "uw_mbedtls_sha256_update, 4096-byte pieces");
    sha256_known_with(uw_mbedtls_sha256_update, "a", one ? 100000 : 1000000, 1000,
                      one ? "6d1cf22d7cc09b085dfc25ee1a1f3ae0265804c607bc2074ad253bcc82fd81ee"
                          : "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
                      "uw_mbedtls_sha256_update, 1000-byte pieces");

    uw_tls_config *cfg;
    static const char *const alpn[] = { "h2", "http/1.1", NULL };
    uw_tls_options opt = { .alpn = alpn };
    check(uw_tls_config_new(&cfg, &opt) == UW_TLS_OK, "config");
    char err[200] = "";
    int slot = uw_tls_add_cert(cfg, UW_TLS_CERT_DEFAULT, cert_pem, sizeof cert_pem - 1, key_pem, sizeof key_pem - 1,
                               err, sizeof err);
    check(slot == 0, err[0] ? err : "certificate added");
    mbedtls_x509_crt ca;
    mbedtls_x509_crt_init(&ca);
    check(mbedtls_x509_crt_parse(&ca, (const unsigned char *)cert_pem, sizeof cert_pem) == 0, "CA parsed");

    uint64_t t0 = uw_plat_clock_monotonic();
    mbedtls_ssl_session s13;
    mbedtls_ssl_session_init(&s13);
    connection(cfg, &ca, MBEDTLS_SSL_VERSION_TLS1_3, NULL, &s13, "TLS 1.3");
    uint64_t t1 = uw_plat_clock_monotonic();
    printf("TLS 1.3 full handshake + data: %llu us\n", (unsigned long long)((t1 - t0) / 1000));
    if (!one) {
        connection(cfg, &ca, MBEDTLS_SSL_VERSION_TLS1_3, &s13, NULL, "TLS 1.3 resumed");
        connection(cfg, &ca, MBEDTLS_SSL_VERSION_TLS1_2, NULL, NULL, "TLS 1.2");
    }
    mbedtls_ssl_session_free(&s13);
    mbedtls_x509_crt_free(&ca);
    uw_tls_config_free(cfg);
    if (failures) {
        printf("FAILED: %d\n", failures);
        return 1;
    }
    printf("SUCCESS\n");
    return 0;
}
