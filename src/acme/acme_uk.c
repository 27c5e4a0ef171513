/* ACME on the unikernels: not yet.  jansson is there now
 * (platform/jansson/), but acme_unix.c still needs an mbedTLS
 * implementation of acme_crypto.h (crypto_openssl_unix.c is OpenSSL's),
 * its state on the block device only (no --acme-dir: the guests have no
 * open/write/fsync/rename/mkdir), Retry-After dates without
 * strptime/timegm, and no floating point in its log lines (hvt).  The task
 * says so and ends; plain HTTP goes on. */
#include "acme_internal.h"

void acme_engine_main(void *arg)
{
    uw_acme *a = arg;
    if (a->cfg.log) fprintf(a->cfg.log, "%s: acme: not available on this target yet\n", a->cfg.name);
}

void acme_engine_free(uw_acme *a)
{
    (void)a;
}
