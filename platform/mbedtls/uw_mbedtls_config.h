/*
 * uw_mbedtls_config.h - the mbedTLS 3.6 configuration of uweb (used as
 * MBEDTLS_CONFIG_FILE instead of mbedTLS's default configuration), the
 * same on the unikernels (freestanding) and on unix (TLS=mbedtls).
 *
 * What it allows, and nothing else (the policy of include/uweb/tls.h):
 * TLS 1.3 and 1.2, server and client; ECDHE over X25519 and P-256 only;
 * ECDSA (P-256) and RSA certificates; AEAD only (AES-128/256-GCM,
 * ChaCha20-Poly1305); SHA-256/384; session tickets, SNI, ALPN.
 *
 * What it leaves out: the file system (certificates come as PEM bytes),
 * threads, sockets (the engine moves bytes itself), the timing module,
 * the platform's entropy sources.  Randomness: PSA's generator is
 * external (MBEDTLS_PSA_CRYPTO_EXTERNAL_RNG): src/tls/tls_mbedtls.c
 * implements it on uweb's one CTR_DRBG (uw_random), seeded by the target
 * (src/tls/seed_unix.c: getrandom; src/tls/seed_uk.c: the tender's seed).
 * Memory: MBEDTLS_PLATFORM_MEMORY (mbedtls_calloc/mbedtls_free are a hook,
 * by default the libc's calloc/free; mbedtls_platform_set_calloc_free
 * changes it).
 *
 * AES-NI is used where the compiler may emit SSE (spt, unix, hvt on a
 * hardware KVM); hvt guests built with -mgeneral-regs-only
 * (HVT_SOFT_KVM=1) get the portable AES.
 */
#ifndef UW_MBEDTLS_CONFIG_H
#define UW_MBEDTLS_CONFIG_H

/* ---------------------------------------------------------------- system */
#define MBEDTLS_HAVE_ASM
#define MBEDTLS_HAVE_TIME
#if __STDC_HOSTED__
#define MBEDTLS_HAVE_TIME_DATE       /* certificate validity (clients); glibc's gmtime_r */
#else
/* The guest's millisecond clock: platform/mbedtls/mbedtls_guest.c.  No
 * calendar time on guests (the guest libc has no struct tm): a client
 * there cannot check certificate dates yet. */
#define MBEDTLS_PLATFORM_MS_TIME_ALT
#endif
#define MBEDTLS_PLATFORM_C
#define MBEDTLS_PLATFORM_MEMORY
#define MBEDTLS_NO_PLATFORM_ENTROPY
#define MBEDTLS_DEPRECATED_REMOVED
#define MBEDTLS_ERROR_C              /* mbedtls_strerror for uw_tls_reason */

/* ---------------------------------------------------------------- randomness */
#define MBEDTLS_ENTROPY_C
#define MBEDTLS_CTR_DRBG_C
#define MBEDTLS_PSA_CRYPTO_C
#define MBEDTLS_PSA_CRYPTO_EXTERNAL_RNG

/* ---------------------------------------------------------------- ciphers */
#define MBEDTLS_AES_C
#define MBEDTLS_AES_FEWER_TABLES     /* 8 KiB of tables instead of 32 KiB */
#if defined(__x86_64__) && defined(__SSE2__)
#define MBEDTLS_AESNI_C
#endif
#define MBEDTLS_GCM_C
#define MBEDTLS_CHACHA20_C
#define MBEDTLS_POLY1305_C
#define MBEDTLS_CHACHAPOLY_C
#define MBEDTLS_CIPHER_C
#define MBEDTLS_CIPHER_MODE_CBC      /* unused by TLS here; PSA's AES key type wants a mode besides the AEADs */

/* ---------------------------------------------------------------- hashes */
#define MBEDTLS_MD_C
#define MBEDTLS_SHA224_C             /* sha256.c builds both */
#define MBEDTLS_SHA256_C
#define MBEDTLS_SHA256_PROCESS_ALT   /* ours: platform/mbedtls/sha256_process.c (SHA-NI) */
#define MBEDTLS_SHA384_C
#define MBEDTLS_SHA512_C
#define MBEDTLS_SHA1_C               /* X.509 (some CA signatures), RSA-PSS parameters */
#define MBEDTLS_HKDF_C

/* ---------------------------------------------------------------- public keys */
#define MBEDTLS_BIGNUM_C
#define MBEDTLS_ECP_C
#define MBEDTLS_ECP_DP_SECP256R1_ENABLED
#define MBEDTLS_ECP_DP_CURVE25519_ENABLED
#define MBEDTLS_ECP_NIST_OPTIM
#define MBEDTLS_ECDH_C
/* X25519 by Everest (HACL*; platform/mbedtls/build.mk compiles it): the
 * ECDH of TLS 1.2 and the key agreement of PSA (TLS 1.3) go through
 * mbedtls_ecdh, which picks it for Curve25519; ~15x faster than the
 * generic ECP ladder.  (PSA's key generation stays on the ECP code.) */
#define MBEDTLS_ECDH_VARIANT_EVEREST_ENABLED
#define MBEDTLS_ECDSA_C
#define MBEDTLS_ECDSA_DETERMINISTIC
#define MBEDTLS_HMAC_DRBG_C          /* deterministic ECDSA */
#define MBEDTLS_RSA_C
#define MBEDTLS_PKCS1_V15
#define MBEDTLS_PKCS1_V21            /* RSA-PSS: TLS 1.3 with RSA certificates */
#define MBEDTLS_PK_C
#define MBEDTLS_PK_PARSE_C
#define MBEDTLS_PK_WRITE_C
#define MBEDTLS_ASN1_PARSE_C
#define MBEDTLS_ASN1_WRITE_C
#define MBEDTLS_OID_C
#define MBEDTLS_BASE64_C
#define MBEDTLS_PEM_PARSE_C
#define MBEDTLS_X509_USE_C
#define MBEDTLS_X509_CRT_PARSE_C
#define MBEDTLS_X509_RSASSA_PSS_SUPPORT
/* The ACME client (src/acme/crypto_mbedtls.c): its keys and the CSR in
 * PEM/DER, the TLS-ALPN-01 challenge certificate. */
#define MBEDTLS_PEM_WRITE_C
#define MBEDTLS_X509_CREATE_C
#define MBEDTLS_X509_CSR_WRITE_C
#define MBEDTLS_X509_CRT_WRITE_C

/* ---------------------------------------------------------------- TLS */
#define MBEDTLS_SSL_TLS_C
#define MBEDTLS_SSL_SRV_C
#define MBEDTLS_SSL_CLI_C
#define MBEDTLS_SSL_PROTO_TLS1_2
#define MBEDTLS_SSL_PROTO_TLS1_3
#define MBEDTLS_SSL_TLS1_3_COMPATIBILITY_MODE
#define MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_EPHEMERAL_ENABLED
#define MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_PSK_EPHEMERAL_ENABLED  /* resumption */
#define MBEDTLS_KEY_EXCHANGE_ECDHE_ECDSA_ENABLED
#define MBEDTLS_KEY_EXCHANGE_ECDHE_RSA_ENABLED
#define MBEDTLS_SSL_EXTENDED_MASTER_SECRET
#define MBEDTLS_SSL_SESSION_TICKETS
#define MBEDTLS_SSL_TICKET_C
#define MBEDTLS_SSL_SERVER_NAME_INDICATION
#define MBEDTLS_SSL_ALPN
#define MBEDTLS_SSL_KEEP_PEER_CERTIFICATE
#define MBEDTLS_SSL_MAX_FRAGMENT_LENGTH
/* Record buffers of their own size per connection (in_buf_len /
 * out_buf_len): tls_mbedtls.c shrinks them while a connection is idle. */
#define MBEDTLS_SSL_VARIABLE_BUFFER_LENGTH
#define MBEDTLS_SSL_IN_CONTENT_LEN 16384
#define MBEDTLS_SSL_OUT_CONTENT_LEN 16384
/* No padding of TLS 1.3 records (mbedTLS pads to 16 bytes by default):
 * a record is 22 bytes more than its data, as with OpenSSL. */
#define MBEDTLS_SSL_CID_TLS1_3_PADDING_GRANULARITY 1
/* The server issues one TLS 1.3 ticket per handshake (as tls_openssl.c). */
#define MBEDTLS_SSL_TLS1_3_DEFAULT_NEW_SESSION_TICKETS 1

#endif
