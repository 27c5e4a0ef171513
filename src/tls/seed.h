/*
 * The seed of uw_random's generator when mbedTLS is the backend
 * (tls_mbedtls.c): fresh bytes from the target, asked for once, before
 * the first random byte (and so before any TLS or ticket key) is made.
 * seed_unix.c: getrandom; seed_uk.c: uw_plat_seed (the tender's seed).
 */
#ifndef UWEB_TLS_SEED_H
#define UWEB_TLS_SEED_H

#include <stddef.h>

/* Fills buf with n (1..32) unpredictable bytes: 0, or -1 when the target
 * has none to give (buf is then unusable).  The same boot may give the
 * same bytes again (the unikernels' seed is drawn once per boot). */
int uw_tls__seed(unsigned char *buf, size_t n);

#endif
