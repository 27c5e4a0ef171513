/*
 * acme.h — certificates from an ACME certificate authority (RFC 8555:
 * Let's Encrypt, or pebble in tests), obtained and renewed by the service
 * itself while it serves.
 *
 * A uw_acme runs one task in the runtime.  In direct style it: reads the
 * stored state (account key, certificate and its key under state_dir),
 * installs a stored certificate that is still valid for the names, and
 * otherwise (or when its renewal time comes) fetches the directory, a
 * nonce, creates or finds the account (ES256 JWK, then its kid), places
 * an order for every name, answers each authorization's challenge —
 * HTTP-01 through uw_acme_dispatch on the plain listener
 * (/.well-known/acme-challenge/TOKEN; every other path goes to the next
 * dispatch), or TLS-ALPN-01 (RFC 8737) with a challenge certificate in the
 * listener's "acme-tls/1" slot (UW_TLS_CERT_ACME) — finalizes with a CSR
 * for a new P-256 key, downloads the chain and installs it with
 * uw_tls_add_cert / uw_tls_set_cert: new handshakes get it, open
 * connections keep theirs.  No restart, no listener closed.
 *
 * Renewal: at two thirds of the certificate's lifetime (or renew_after
 * after issuance, for tests), with up to 1/20 of the lifetime of random
 * jitter; earlier when the server's renewal information (ARI, RFC 9773)
 * says so.  Failure keeps the old certificate and retries with a backoff
 * (retry_min doubling up to retry_max; Retry-After and rate limits
 * honoured).  badNonce answers are retried at once with the fresh nonce.
 *
 * Errors are one log line per failed attempt: "NAME: acme: STEP:
 * PROBLEM-TYPE: DETAIL; no certificate yet, next attempt in 5 s" (the
 * problem document's type and detail, or the transport's reason).
 *
 * uw_main does all of this with --acme-directory and --acme-domain.  With
 * a server of one's own (http.h):
 *
 *     uw_tls_config *tls;  uw_tls_config_new(&tls, &opts);          // no certificate yet
 *     uw_acme *acme;
 *     uw_acme_new(&acme, &(uw_acme_config){ .directory = URL, .domains = { "example.org" },
 *                                           .ndomains = 1, .agree_tos = true,
 *                                           .state_dir = "/var/lib/app/acme", .log = stderr }, tls);
 *     uw_acme_set_next(acme, app_dispatch, app);                    // what :80 serves besides challenges
 *     uw_http_server_listen(&srv, &(uw_http_listen){ .port = 80, .dispatch = uw_acme_dispatch, .arg = acme });
 *     uw_http_server_listen(&srv, &(uw_http_listen){ .port = 443, .tls = tls });
 *     uw_http_server_start(&srv);
 *     uw_acme_start(acme);                                          // its task runs in uw_rt_run
 *     uw_rt_run();
 *     ...  uw_acme_free(acme);  uw_tls_config_free(tls);            // after the runtime ended
 *
 * The HTTP client (client.h) carries the requests; an https:// directory
 * needs the client's TLS (ca_file: the CA of the ACME server's own
 * certificate, e.g. pebble's; NULL: the system's).
 *
 * Storage on unix: files in state_dir (created if missing): account.key,
 * cert.pem (the chain), cert.key; written atomically (rename).  NULL: the
 * block device "acme" when one is attached (block.h; 64 KiB in three
 * NUL-padded regions, src/acme/store_block.c: the unikernels' storage,
 * --block:acme=FILE on unix), else memory only (a new account and
 * certificate at every start).
 *
 * On the unikernels (spt, hvt) the same engine runs (src/acme/engine.c);
 * state_dir finds and keeps nothing there (no files): the block device
 * acme is their storage (uweb-spt --block:acme=acme.img ... -- app.spt
 * --acme-directory=...), ca_file names a block device holding PEM.
 *
 * Crypto: the TLS backend's library behind src/acme/acme_crypto.h:
 * OpenSSL's libcrypto (src/acme/crypto_openssl.c) on unix, mbedTLS
 * (src/acme/crypto_mbedtls.c) on the unikernels and with TLS=mbedtls.
 */
#ifndef UWEB_ACME_H
#define UWEB_ACME_H

#include <uweb/http.h>
#include <uweb/tls.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define UW_ACME_MAX_DOMAINS 16

enum {
    UW_ACME_CHALLENGE_ANY = 0,       /* HTTP-01; TLS-ALPN-01 when the server offers no HTTP-01
                                      * or after an authorization failed (the next attempt) */
    UW_ACME_CHALLENGE_HTTP01 = 1,
    UW_ACME_CHALLENGE_TLSALPN01 = 2,
};

typedef struct uw_acme_config {
    const char *directory;           /* the directory URL; NULL: ACME is off */
    const char *domains[UW_ACME_MAX_DOMAINS];
    size_t ndomains;
    const char *email;               /* contact, optional */
    bool agree_tos;                  /* agree to the server's terms of service (needed when it has some) */
    const char *state_dir;           /* NULL: memory only */
    const char *ca_file;             /* trust for an https:// directory; NULL: the system's */
    int challenge;                   /* UW_ACME_CHALLENGE_* */
    int64_t renew_after;             /* ns after issuance; 0: two thirds of the lifetime */
    int64_t retry_min, retry_max;    /* backoff after a failure; 0: 5 s and 1 hour */
    const char *name;                /* log prefix, default "uweb" */
    FILE *log;                       /* NULL: quiet */
} uw_acme_config;

/* "--acme-...=" options of uw_main: 1 when arg was one (taken into cfg),
 * 0 when it is another option, -1 after a line on stderr for a bad value.
 * Strings point into arg. */
int uw_acme_option(uw_acme_config *cfg, const char *arg);
/* Their --help lines. */
const char *uw_acme_options_help(void);
/* After parsing: UW_OK, or UW_EINVAL after a line on stderr (a directory
 * without a domain, or a domain without a directory). */
int uw_acme_config_check(const uw_acme_config *cfg, const char *name);

typedef struct uw_acme uw_acme;

/* Makes the client for the listener configuration tls (the certificates
 * go there).  cfg is copied (its strings must outlive the client).
 * UW_OK, UW_ENOMEM. */
int uw_acme_new(uw_acme **out, const uw_acme_config *cfg, uw_tls_config *tls);
/* Spawns its task (the runtime must be initialized; the task first runs
 * in uw_rt_run).  UW_OK or UW_ENOMEM. */
int uw_acme_start(uw_acme *a);
/* Cancels the task (it ends at its next wait). */
void uw_acme_stop(uw_acme *a);
/* Frees the client: after its task ended, or after uw_rt_run returned
 * (uw_rt_fini then abandons the task). */
void uw_acme_free(uw_acme *a);

/* The plain listener's dispatch (arg: the uw_acme): HTTP-01 answers at
 * /.well-known/acme-challenge/TOKEN, every other request goes to next. */
void uw_acme_set_next(uw_acme *a, uw_http_dispatch next, void *arg);
void uw_acme_dispatch(uw_req *req, uw_res *res, void *acme);

/* Whether a certificate is installed, and when it expires (seconds since
 * 1970; 0 when none). */
bool uw_acme_has_cert(const uw_acme *a);
int64_t uw_acme_not_after(const uw_acme *a);
/* Asks for a renewal now (the task wakes up). */
void uw_acme_renew_now(uw_acme *a);

#endif
