/*
 * Fuzz target for the server's TLS input path: bytes from a "client" go
 * into a TLS engine (uweb/tls.h) configured like a listener (a fixed test
 * certificate, ECDSA P-256, embedded below: test data of ours, valid for
 * fuzz.test until 2126; ALPN h2 and http/1.1), in pieces whose sizes the
 * input chooses, with handshake, read and write steps between them and the
 * engine's output drained, then the end of stream.  Checks that the
 * engine's answers stay within its contract: a failed engine has a reason
 * and stays failed; what it asks to send is bounded.
 *
 * Seed corpus: tests/fuzz/corpus/tls/, ClientHellos of openssl s_client
 * made by tests/fuzz/tls_corpus.py.
 */
#include <uweb/tls.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char cert_pem[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBoDCCAUagAwIBAgIUQ0qVMcd2v5zJqAqRKKsXJZ+HSSAwCgYIKoZIzj0EAwIw\n"
    "FDESMBAGA1UEAwwJZnV6ei50ZXN0MCAXDTI2MTIwMTIzMzU1NFoYDzIxMjYxMTA3\n"
    "MjMzNTU0WjAUMRIwEAYDVQQDDAlmdXp6LnRlc3QwWTATBgcqhkjOPQIBBggqhkjO\n"
    "PQMBBwNCAAT12wvNoq7uwXv454MYLJs7+QLR0oqX2f/xsVi9UKtCPzSJfQjbzJrx\n"
    "VsPYGDq2lxOqeKP08DUcIa2igCCge3Xko3QwcjAdBgNVHQ4EFgQUEvsdpqSUNMLE\n"
    "J+ffw2XnDuyAC5wwHwYDVR0jBBgwFoAUEvsdpqSUNMLEJ+ffw2XnDuyAC5wwDwYD\n"
    "VR0TAQH/BAUwAwEB/zAfBgNVHREEGDAWgglmdXp6LnRlc3SCCWxvY2FsaG9zdDAK\n"
    "BggqhkjOPQQDAgNIADBFAiAt4JFGIgGwhYHmqkCxTq+2klTsQfbNIK0ln+iiCaOx\n"
    "TAIhAI9nNGM94FBN2P1AY20Sy13DBAu99q8w/AZc9BUIGELY\n"
    "-----END CERTIFICATE-----\n";

static const char key_pem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgR+uHK/Vg9hr0rlly\n"
    "572L5D0XIxXG/sIZHxGi9Muaf9ehRANCAAT12wvNoq7uwXv454MYLJs7+QLR0oqX\n"
    "2f/xsVi9UKtCPzSJfQjbzJrxVsPYGDq2lxOqeKP08DUcIa2igCCge3Xk\n"
    "-----END PRIVATE KEY-----\n";

static uw_tls_config *cfg;

static void setup(void)
{
    static const char *const alpn[] = { "h2", "http/1.1", NULL };
    uw_tls_options o = { .alpn = alpn };
    char err[200];
    if (uw_tls_config_new(&cfg, &o) != UW_TLS_OK
        || uw_tls_add_cert(cfg, UW_TLS_CERT_DEFAULT, cert_pem, sizeof cert_pem - 1, key_pem, sizeof key_pem - 1,
                           err, sizeof err) < 0) {
        fprintf(stderr, "fuzz_tls: no configuration: %s\n", err);
        abort();
    }
}

static void drain(uw_tls *t)
{
    size_t len;
    const void *p = uw_tls_send_buf(t, &len);
    if (p && len > UW_TLS_OUT_MAX + 65536) abort();
    if (p) uw_tls_send_done(t, len);
}

static void check_failed(uw_tls *t, int r)
{
    if (uw_tls_get_state(t) != UW_TLS_FAILED) return;
    if (!uw_tls_reason(t)[0] || uw_tls_error(t) >= 0) abort();
    if (r < 0 && r != uw_tls_error(t) && r != UW_TLS_EOF) abort();
    if (uw_tls_handshake(t) != uw_tls_error(t)) abort();   /* it stays failed */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!cfg) setup();
    uw_tls *t;
    if (uw_tls_new(&t, cfg) != UW_TLS_OK) abort();
    /* The first byte chooses the piece size (0: all at once). */
    size_t piece = size ? data[0] : 0;
    if (size) { data++; size--; }
    char plain[4096];
    for (size_t off = 0; off < size;) {
        size_t room;
        void *p = uw_tls_recv_buf(t, &room);
        if (!p) break;
        size_t k = piece ? piece : size - off;
        if (k > size - off) k = size - off;
        if (k > room) k = room;
        memcpy(p, data + off, k);
        off += k;
        int r = uw_tls_recv_done(t, k);
        if (r == UW_TLS_OK) r = uw_tls_handshake(t);
        if (r == UW_TLS_OK) {
            ssize_t n = uw_tls_read(t, plain, sizeof plain);
            if (n > (ssize_t)sizeof plain) abort();
            uw_slice v[] = { UW_SLICE_LIT("HTTP/1.1 200 OK\r\n\r\n"), { plain, n > 0 ? (size_t)n : 0 } };
            uw_tls_writev(t, v, 2);
            (void)uw_tls_alpn(t);
            (void)uw_tls_sni(t);
            if (!uw_tls_version(t) || !uw_tls_cipher(t)) abort();
        }
        check_failed(t, r);
        drain(t);
        if (uw_tls_get_state(t) == UW_TLS_FAILED) break;
    }
    int r = uw_tls_recv_eof(t);
    if (r != UW_TLS_EOF && r != UW_TLS_ETRUNCATED && uw_tls_get_state(t) != UW_TLS_FAILED) abort();
    check_failed(t, r);
    uw_tls_close(t);
    drain(t);
    uw_tls_free(t);
    return 0;
}
