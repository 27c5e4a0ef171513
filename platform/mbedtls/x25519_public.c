/*
 * x25519_public.c - X25519 public keys by Everest (HACL*) for PSA.
 *
 * mbedTLS 3.6's PSA keeps only the private scalar of a key pair; a TLS 1.3
 * key share (psa_export_public_key) computes d*G with mbedtls_ecp_mul,
 * the generic Montgomery ladder on bignums (~15x Everest's time).  The
 * key agreement itself already goes to Everest through mbedtls_ecdh
 * (MBEDTLS_ECDH_VARIANT_EVEREST_ENABLED).  platform/mbedtls/build.mk
 * points psa_crypto_ecp.o's calls of mbedtls_ecp_mul here (objcopy
 * --redefine-sym): Curve25519 times its base point goes to Everest,
 * every other product to mbedtls_ecp_mul.
 */
#include <mbedtls/build_info.h>
#include <mbedtls/ecp.h>
#include <mbedtls/platform_util.h>

/* Everest's (3rdparty/everest/include/everest/Hacl_Curve25519.h; its
 * header wants the kremlib include paths) */
void Hacl_Curve25519_crypto_scalarmult(uint8_t *mypublic, uint8_t *secret, uint8_t *basepoint);

int uw_mbedtls_ecp_mul(mbedtls_ecp_group *grp, mbedtls_ecp_point *R, const mbedtls_mpi *m,
                       const mbedtls_ecp_point *P, int (*f_rng)(void *, unsigned char *, size_t),
                       void *p_rng);

int uw_mbedtls_ecp_mul(mbedtls_ecp_group *grp, mbedtls_ecp_point *R, const mbedtls_mpi *m,
                       const mbedtls_ecp_point *P, int (*f_rng)(void *, unsigned char *, size_t),
                       void *p_rng)
{
    if (grp->id != MBEDTLS_ECP_DP_CURVE25519 || P != &grp->G)
        return mbedtls_ecp_mul(grp, R, m, P, f_rng, p_rng);
    /* m is a private key mbedtls_ecp_read_key or _gen_privkey made: already
     * clamped; HACL* clamps its copy again. */
    unsigned char d[32], q[32], base[32] = {9};
    int r = mbedtls_ecp_check_privkey(grp, m);
    if (r == 0) r = mbedtls_mpi_write_binary_le(m, d, sizeof d);
    if (r == 0) {
        Hacl_Curve25519_crypto_scalarmult(q, d, base);
        r = mbedtls_mpi_read_binary_le(&R->MBEDTLS_PRIVATE(X), q, sizeof q);
    }
    if (r == 0) r = mbedtls_mpi_lset(&R->MBEDTLS_PRIVATE(Z), 1);
    if (r == 0) mbedtls_mpi_free(&R->MBEDTLS_PRIVATE(Y));
    mbedtls_platform_zeroize(d, sizeof d);
    return r;
}
