/* ACME on the unikernels: not yet (jansson and the mbedTLS crypto of
 * acme_crypto.h are still to come).  The task says so and ends; plain HTTP
 * goes on. */
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
