/*
 * What the TLS backends (tls_openssl.c, tls_mbedtls.c) share with the
 * common part (tls_common.c: the engine's byte buffers, states, errors,
 * names).  A backend's struct uw_tls begins with a struct uw_tls_core;
 * tls_common.c implements uw_tls_recv_buf / _recv_done / _send_buf /
 * _send_done / _get_state / _error / _reason on it, and the backend moves
 * bytes with uw_tls__in_take (its "receive" callback) and uw_tls__out_put
 * (its "send" callback).
 */
#ifndef UWEB_TLS_INTERNAL_H
#define UWEB_TLS_INTERNAL_H

#include <uweb/tls.h>

/* Input buffer: room for a whole TLS record (2^14 + 2048 + header) so one
 * read from the socket can bring one. */
#define UW_TLS_IN_CAP (16384 + 2048 + 5)
#define UW_TLS_DEFAULT_MAX_HANDSHAKE (16 * 1024)
#define UW_TLS_CLIENT_MAX_HANDSHAKE (64 * 1024)
#define UW_TLS_DEFAULT_ROTATION ((int64_t)3600 * 1000000000)

struct uw_tls_core {
    unsigned char *in;          /* ciphertext received, [in_pos, in_len) not yet taken */
    size_t in_pos, in_len;
    unsigned char *out;         /* ciphertext to send, [out_pos, out_len) */
    size_t out_pos, out_len, out_cap;
    size_t hs_bytes, max_hs;    /* ciphertext the handshake read (uw_tls__in_take), its cap */
    uw_tls_state state;
    int error;                  /* the uw_tls_status the engine failed with */
    bool close_sent;            /* uw_tls_close was called */
    bool eof;                   /* the peer's end of stream arrived */
    bool client;                /* a client engine (the peer is a server) */
    char reason[120];
};

/* Sets up the core (no allocation). */
void uw_tls__core_init(struct uw_tls_core *c, size_t max_handshake);
/* Frees the core's buffers. */
void uw_tls__core_fini(struct uw_tls_core *c);
/* Gives back empty buffers. */
void uw_tls__core_shrink(struct uw_tls_core *c);
/* Copies up to n received bytes to dst: the count, 0 when none or when
 * the handshake would exceed max_handshake (the engine then fails with
 * UW_TLS_ELIMIT: the backend's receive callback reports an error, not
 * "would block", when c->state is UW_TLS_FAILED). */
size_t uw_tls__in_take(struct uw_tls_core *c, void *dst, size_t n);
static inline size_t uw_tls__in_avail(const struct uw_tls_core *c) { return c->in_len - c->in_pos; }
/* Appends n bytes of ciphertext to send; false when out of memory. */
bool uw_tls__out_put(struct uw_tls_core *c, const void *src, size_t n);
static inline size_t uw_tls__out_queued(const struct uw_tls_core *c) { return c->out_len - c->out_pos; }
/* Makes the engine fail with status and a reason (printf format); the
 * first failure sticks.  Returns status. */
int uw_tls__fail(struct uw_tls_core *c, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* True if host (already lowercase, no trailing dot) matches a certificate
 * name: exact (case-insensitive), or "*.rest" matching one label + rest. */
bool uw_tls__name_match(const char *pattern, const char *host);

/* The names a certificate serves: its leaf's subjectAltName DNS names
 * (lowercase) and IP addresses (as text, RFC 5952 for IPv6). */
#define UW_TLS_MAX_NAMES 64
typedef struct uw_tls_names {
    char *name[UW_TLS_MAX_NAMES];
    size_t n;
} uw_tls_names;
/* Adds a DNS name (n bytes, no NUL inside, < 256) lowercased; false when
 * it is not one or out of room or memory. */
bool uw_tls__names_add_dns(uw_tls_names *s, const unsigned char *p, size_t n);
/* Adds an IP address of 4 or 16 bytes. */
bool uw_tls__names_add_ip(uw_tls_names *s, const unsigned char *p, size_t n);
bool uw_tls__names_serve(const uw_tls_names *s, const char *host);
void uw_tls__names_clear(uw_tls_names *s);
/* An IP address of 4 or 16 bytes as text (RFC 5952 for IPv6). */
void uw_tls__ip_text(const unsigned char *p, size_t n, char *out, size_t cap);

/* A certificate slot of a server configuration: what it is for, the names
 * it serves and the backend's certificate object (an SSL_CTX, a chain and
 * key). */
typedef struct uw_tls_slot {
    bool used;
    int kind;
    void *cert;
    uw_tls_names names;
} uw_tls_slot;
/* The slot for a ClientHello: the first DEFAULT slot serving host, or
 * with acme (the client asked for "acme-tls/1" only) the first ACME slot
 * serving it; without a match the first DEFAULT slot, except for acme
 * when acme_strict.  NULL when none. */
uw_tls_slot *uw_tls__pick_slot(uw_tls_slot *slots, size_t n, const char *host, bool acme, bool acme_strict);
/* The SNI name p[n] lowercased without a trailing dot into buf; false
 * when empty, too long or holding a NUL. */
bool uw_tls__sni_host(const unsigned char *p, size_t n, char *buf, size_t cap);

/* uw_tls_writev's gathering for both backends: plaintext from the slices
 * into records of up to rec bytes (small slices copied together into
 * gather, which holds rec bytes), each passed to put (UW_TLS_OK or an
 * error), until the output buffer holds UW_TLS_OUT_MAX.  Returns as
 * uw_tls_writev. */
ssize_t uw_tls__writev_records(uw_tls *t, const uw_slice *v, size_t n, unsigned char *gather, size_t rec,
                               int (*put)(uw_tls *t, const unsigned char *p, size_t len));

/* The trusted CAs of a client configuration as PEM, malloc'd with a NUL
 * after *len bytes: opt's ca_pem copied, ca_file read (a file on unix, a
 * block device on the unikernels), or the system store (ca_unix.c,
 * ca_uk.c).  NULL with a reason in err when there is none. */
char *uw_tls__ca_pem(const uw_tls_client_options *opt, size_t *len, char *err, size_t errlen);
/* The platform's part of it: the PEM of a file / block device, or with
 * name NULL of the system store. */
char *uw_tls__ca_read(const char *name, size_t *len, char *err, size_t errlen);

/* The listener's ALPN list in wire form (length-prefixed names) from
 * options; UW_TLS_OK or UW_TLS_EINVAL.  out holds at least 256 *
 * UW_TLS_MAX_ALPN bytes. */
int uw_tls__alpn_wire(const char *const *names, unsigned char *out, size_t *out_len);
/* The server's choice among the client's offer (both in wire form): the
 * first of ours the client also offers.  Sets *sel / *sel_len (pointing
 * into ours) and returns true, or false when nothing is in common. */
bool uw_tls__alpn_choose(const unsigned char *ours, size_t ours_len, const unsigned char *theirs,
                         size_t theirs_len, const unsigned char **sel, unsigned char *sel_len);
/* True when the client's ALPN offer (wire form) is exactly "acme-tls/1". */
bool uw_tls__alpn_only_acme(const unsigned char *theirs, size_t theirs_len);

/* mbedTLS (tls_mbedtls.c): a PEM chain (NUL-terminated, len counting the
 * NUL) appended to crt certificate by certificate, RFC 8737's critical
 * acmeIdentifier extension of TLS-ALPN-01 certificates accepted (other
 * unknown critical extensions are still refused).  0 or mbedTLS's error.
 * Also the ACME client's (src/acme/crypto_mbedtls.c). */
struct mbedtls_x509_crt;
int uw_tls__mbedtls_parse_chain(struct mbedtls_x509_crt *crt, const unsigned char *pem, size_t len);

#endif
