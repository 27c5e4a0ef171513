/*
 * tls.h — TLS 1.3 and 1.2 for servers and clients: a configuration, an
 * engine without I/O, and a connection that wraps another one.
 *
 * Three layers, bottom up:
 *
 *   uw_tls_config  what a listener offers: certificates (chosen by SNI),
 *                  ALPN protocols, versions, session tickets.  Shared by
 *                  every connection of the listener; changed at run time
 *                  (uw_tls_set_cert) for new handshakes only.  Or, made by
 *                  uw_tls_client_config_new, what a client trusts (CAs)
 *                  and offers (ALPN).
 *   uw_tls         one connection's engine: ciphertext in, plaintext out,
 *                  plaintext in, ciphertext out.  It never touches a
 *                  socket; the caller moves the bytes (like BearSSL's
 *                  engine), so it runs the same over host sockets, lwIP or
 *                  a test's buffers.
 *   uw_tls_accept  a uw_conn (net.h) that runs an engine over a TCP
 *   uw_tls_connect uw_conn: everything above it reads and writes plaintext
 *                  through the ordinary uw_conn_* calls.
 *
 * Backends, chosen by the build (no #ifdef in common code): OpenSSL 3 on
 * unix (src/tls/tls_openssl.c, TLS=openssl, the default), mbedTLS 3.6 on
 * the unikernels and with TLS=mbedtls on unix (src/tls/tls_mbedtls.c).
 * src/tls/tls_conn.c (the connection) is common to both.
 *
 * The policy is fixed, not configurable beyond `modern`: TLS 1.2 and 1.3
 * (Mozilla's "intermediate" profile) or 1.3 only (`modern`); key exchange
 * ECDHE only with X25519 or P-256; AEAD ciphers only (AES-128-GCM,
 * AES-256-GCM, ChaCha20-Poly1305); no compression, no renegotiation, no
 * 0-RTT data.  Certificates: ECDSA P-256 or RSA >= 2048 bits.
 *
 * Engine calling pattern (what tls_conn.c does):
 *
 *     uw_tls *t;  uw_tls_new(&t, cfg);
 *     for (;;) {
 *         r = uw_tls_handshake(t);          // or uw_tls_read / uw_tls_writev
 *         send every byte of uw_tls_send_buf() to the peer, uw_tls_send_done();
 *         if (r == UW_TLS_OK) break;        // open
 *         if (r != UW_TLS_WANT_INPUT) fail; // r says why, uw_tls_reason() in words
 *         p = uw_tls_recv_buf(t, &room);    // read up to room bytes from the peer into p
 *         n = read(peer, p, room);
 *         n > 0 ? uw_tls_recv_done(t, n) : uw_tls_recv_eof(t);
 *     }
 *
 * Ciphertext to send can appear after any call (handshake messages,
 * session tickets, alerts on failure, close_notify, records from writes):
 * the caller checks uw_tls_send_buf after each.  After an error the engine
 * may still hold an alert to send; send it, then close.
 *
 * Errors are values: every call returns UW_TLS_OK (or a count), or one of
 * the uw_tls_status codes below; an engine that failed stays failed
 * (every later call returns the same code).
 *
 * Memory: the engine's buffers (a 16 KiB + record overhead input buffer,
 * an output buffer for up to UW_TLS_OUT_MAX bytes of ciphertext, and the
 * backend's own record buffers) are allocated when needed and given back
 * by uw_tls_shrink when empty; an idle connection then holds only the
 * backend's session state (the SSL object, its keys and session).
 * Measured per idle connection after a TLS 1.3 handshake and
 * uw_tls_shrink, heap bytes (tests/unit/test_tls.c prints it, "idle
 * bytes"): OpenSSL 3.0.19, 14.8 KB.  A backend states its figure in its
 * source.
 *
 * Threads: a config may be used by connections of one thread at a time
 * (uweb runs one thread); engines are independent objects.
 */
#ifndef UWEB_TLS_H
#define UWEB_TLS_H

#include <uweb/net.h>
#include <uweb/slice.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct uw_tls_config uw_tls_config;
typedef struct uw_tls uw_tls;

/* Results of the TLS calls.  Negative values are errors and are disjoint
 * from uw_status's (runtime.h), so uw_tls_strerror names both. */
typedef enum uw_tls_status {
    UW_TLS_OK = 0,
    UW_TLS_WANT_INPUT = -100,   /* needs ciphertext from the peer (not an error) */
    UW_TLS_WANT_OUTPUT = -101,  /* send uw_tls_send_buf's bytes first (not an error) */
    UW_TLS_EOF = -102,          /* the peer sent close_notify: no more plaintext */
    UW_TLS_EPROTO = -103,       /* the peer broke the protocol: garbage, a bad record, an unexpected message */
    UW_TLS_EHANDSHAKE = -104,   /* nothing in common: version, cipher, group, ALPN (an alert was queued) */
    UW_TLS_ETRUNCATED = -105,   /* the peer's end of stream without close_notify */
    UW_TLS_ELIMIT = -106,       /* the handshake exceeded max_handshake bytes */
    UW_TLS_ENOMEM = -107,       /* an allocation failed */
    UW_TLS_EINVAL = -108,       /* a bad argument: certificate, key, option, misuse */
    UW_TLS_ECLOSED = -109,      /* write after close, or after the engine failed */
    UW_TLS_ETIMEDOUT = -110,    /* the handshake deadline passed (uw_tls_accept, uw_tls_connect) */
    UW_TLS_EVERIFY = -111,      /* client: the server's certificate is not trusted or names another host */
} uw_tls_status;

/* A short text for a uw_tls_status or a uw_status ("protocol error", ...). */
const char *uw_tls_strerror(int status);

/* ------------------------------------------------------------ configuration */

/* Protocol names of ALPN. */
#define UW_TLS_ALPN_HTTP1 "http/1.1"
#define UW_TLS_ALPN_H2 "h2"
#define UW_TLS_ALPN_ACME "acme-tls/1"

#define UW_TLS_MAX_ALPN 8

typedef struct uw_tls_options {
    /* TLS 1.3 only (Mozilla "modern"); false: TLS 1.2 and 1.3 ("intermediate"). */
    bool modern;
    /* The listener's protocols, most preferred first (e.g. "h2",
     * "http/1.1"), up to UW_TLS_MAX_ALPN, NULL-terminated; NULL: none.
     * The server picks its most preferred protocol the client offers; a
     * client offering ALPN with none in common is refused (RFC 7301
     * no_application_protocol); a client offering no ALPN gets no ALPN
     * (the caller then speaks its default, HTTP/1.1).  "acme-tls/1" need
     * not be listed: an ACME certificate (UW_TLS_CERT_ACME) enables it. */
    const char *const *alpn;
    /* Bytes of records the handshake may read from the client before it
     * is refused with UW_TLS_ELIMIT (application data sent right behind
     * the client's Finished does not count); 0: 16 KiB. */
    size_t max_handshake;
    /* Session resumption: tickets (TLS 1.2) and PSK tickets (TLS 1.3),
     * encrypted with keys made in memory (uw_random) and rotated every
     * ticket_rotation nanoseconds (0: one hour); a ticket is accepted with
     * the current or the previous key and lives one rotation period.
     * no_tickets: full handshakes only. */
    bool no_tickets;
    int64_t ticket_rotation;
} uw_tls_options;

/* Makes a configuration with no certificate yet (opt NULL: defaults).
 * UW_TLS_OK, UW_TLS_ENOMEM or UW_TLS_EINVAL (too many ALPN names, a name
 * longer than 255 bytes). */
int uw_tls_config_new(uw_tls_config **out, const uw_tls_options *opt);
/* Frees the configuration.  Engines made from it must be freed first. */
void uw_tls_config_free(uw_tls_config *cfg);

/* What a certificate is for. */
enum {
    UW_TLS_CERT_DEFAULT = 0,    /* served to clients whose SNI names it (or to any, see below) */
    UW_TLS_CERT_ACME = 1,       /* served only to a client offering exactly ALPN "acme-tls/1"
                                 * with an SNI it names (RFC 8737); never to others */
};

/*
 * Adds a certificate: chain_pem holds the leaf certificate first, then
 * any intermediates (PEM, as a CA delivers fullchain.pem), key_pem its
 * private key (PEM: PKCS#8, SEC1 "EC PRIVATE KEY" or PKCS#1 "RSA PRIVATE
 * KEY"; not encrypted).  ECDSA P-256 or RSA >= 2048 bits; the key must
 * match the leaf.  The names it serves are the leaf's subjectAltName DNS
 * names (a leading "*." matches one label) and IP addresses.
 *
 * Choice at handshake: the first certificate (of kind DEFAULT) whose names
 * match the client's SNI; with no SNI or no match, the first certificate
 * added of kind DEFAULT.
 *
 * Returns a slot number >= 0 for uw_tls_set_cert / uw_tls_remove_cert, or
 * UW_TLS_EINVAL (unreadable PEM, weak or mismatched key, no names; the
 * reason in err[errlen] when err is not NULL) or UW_TLS_ENOMEM.
 */
int uw_tls_add_cert(uw_tls_config *cfg, int kind, const void *chain_pem, size_t chain_len,
                    const void *key_pem, size_t key_len, char *err, size_t errlen);

/* Replaces the certificate in slot (same kind, names taken from the new
 * leaf) for handshakes that start afterwards; connections already open
 * keep theirs.  UW_TLS_OK, or an error as for uw_tls_add_cert (the slot
 * then keeps its old certificate). */
int uw_tls_set_cert(uw_tls_config *cfg, int slot, const void *chain_pem, size_t chain_len,
                    const void *key_pem, size_t key_len, char *err, size_t errlen);

/* Removes the certificate of slot for new handshakes (e.g. an ACME
 * challenge certificate once validated).  UW_TLS_OK or UW_TLS_EINVAL. */
int uw_tls_remove_cert(uw_tls_config *cfg, int slot);

/* Makes new ticket keys now (the previous current key is still accepted
 * for one period).  Happens by itself every ticket_rotation. */
void uw_tls_rotate_tickets(uw_tls_config *cfg);

/* ------------------------------------------------------------ engine */

/* Most ciphertext the engine buffers for sending before uw_tls_writev
 * answers UW_TLS_WANT_OUTPUT. */
#define UW_TLS_OUT_MAX (64 * 1024)

/* A server engine for one connection, starting in the handshake.
 * UW_TLS_OK, UW_TLS_ENOMEM or UW_TLS_EINVAL (no certificate). */
int uw_tls_new(uw_tls **out, uw_tls_config *cfg);
void uw_tls_free(uw_tls *t);

/* Room for ciphertext from the peer: a pointer into the engine's input
 * buffer and *room > 0 bytes, or NULL and *room = 0 when the engine takes
 * no input now (it holds a whole record not yet read, or it is closed or
 * failed).  Valid until the next call on t. */
void *uw_tls_recv_buf(uw_tls *t, size_t *room);
/* n bytes (<= room) were written at the recv_buf pointer.  UW_TLS_OK, or
 * the engine's error when it had failed.  The next uw_tls_handshake /
 * uw_tls_read processes them. */
int uw_tls_recv_done(uw_tls *t, size_t n);
/* The peer's end of stream (TCP FIN).  Returns UW_TLS_EOF when the peer
 * had sent close_notify (a clean end: reads still drain what is buffered),
 * else UW_TLS_ETRUNCATED (the engine fails with it). */
int uw_tls_recv_eof(uw_tls *t);

/* Ciphertext to send: a pointer and *len bytes, or NULL and 0 when there
 * is none.  Valid until the next call on t. */
const void *uw_tls_send_buf(uw_tls *t, size_t *len);
/* n bytes (<= len) of it were sent. */
void uw_tls_send_done(uw_tls *t, size_t n);

/* Advances the handshake with the input given so far.  UW_TLS_OK once
 * the connection is open (at once if it already was), UW_TLS_WANT_INPUT,
 * or an error (a backend reason in uw_tls_reason). */
int uw_tls_handshake(uw_tls *t);

/* Reads plaintext (runs the handshake first if needed): the count > 0,
 * or UW_TLS_WANT_INPUT, UW_TLS_EOF, an error. */
ssize_t uw_tls_read(uw_tls *t, void *buf, size_t n);

/* Bytes buffered in the engine that a read may turn into plaintext
 * without new input: decrypted plaintext not yet read plus ciphertext not
 * yet processed (which may be a partial record); 0 when a read would need
 * input.  uw_conn_may_read of a TLS connection is "this > 0 or the TCP
 * connection may read". */
size_t uw_tls_pending(const uw_tls *t);

/* Encrypts plaintext from the slices, in order, gathering small slices
 * into records of up to 16 KiB (not one record per slice): the count of
 * bytes taken (the first `count` bytes across v), which is less than the
 * total when the output buffer reached UW_TLS_OUT_MAX (send, then call
 * again with the rest); UW_TLS_WANT_OUTPUT when it took none because the
 * output buffer is full; or an error.  Only once the handshake is done. */
ssize_t uw_tls_writev(uw_tls *t, const uw_slice *v, size_t n);

/* Queues close_notify (once); later writes fail with UW_TLS_ECLOSED.
 * Reading goes on until the peer's close_notify. */
void uw_tls_close(uw_tls *t);

/* Gives back the engine's buffers that are empty (input, output, the
 * backend's record buffers when it allows).  For idle connections. */
void uw_tls_shrink(uw_tls *t);

typedef enum uw_tls_state {
    UW_TLS_HANDSHAKING,     /* before the handshake completed */
    UW_TLS_OPEN,            /* application data flows */
    UW_TLS_CLOSED,          /* the peer's close_notify was read */
    UW_TLS_FAILED,          /* an error: uw_tls_error, uw_tls_reason */
} uw_tls_state;

uw_tls_state uw_tls_get_state(const uw_tls *t);
/* The error the engine failed with (UW_TLS_OK when it did not). */
int uw_tls_error(const uw_tls *t);
/* Why it failed, in words, for a log line ("client offered only TLS 1.1",
 * "no shared cipher", "handshake larger than 16384 bytes", ...); "" when
 * it did not fail.  Owned by the engine. */
const char *uw_tls_reason(const uw_tls *t);

/* After the handshake (NULL / "" before): the ALPN protocol chosen (NULL
 * when none was negotiated), the client's SNI (NULL when it sent none),
 * the version ("TLSv1.3", "TLSv1.2"), the cipher in IANA form
 * ("TLS_AES_128_GCM_SHA256", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"),
 * and whether the session was resumed from a ticket.  Owned by the
 * engine. */
const char *uw_tls_alpn(const uw_tls *t);
const char *uw_tls_sni(const uw_tls *t);
const char *uw_tls_version(const uw_tls *t);
const char *uw_tls_cipher(const uw_tls *t);
bool uw_tls_resumed(const uw_tls *t);

/* ------------------------------------------------------------ client */

/*
 * A client configuration: what a client offers and whom it trusts.
 * Engines and connections made from it (uw_tls_new_client,
 * uw_tls_connect) verify the server's certificate chain against the
 * trusted CAs and its subjectAltName against the host name asked for
 * (DNS names, "*." matching one label; IP addresses for IP literals),
 * unless `insecure`.  The same policy as servers (TLS 1.2 and 1.3, or
 * 1.3 only; ECDHE; AEAD).  Freed with uw_tls_config_free.
 */
typedef struct uw_tls_client_options {
    /* Trusted CAs: PEM certificates in memory (ca_pem, ca_len bytes) ... */
    const void *ca_pem;
    size_t ca_len;
    /* ... or from ca_file: a PEM file on unix, the name of a block device
     * on the unikernels (read with uw_block_slurp, block.h).  With
     * neither: the system store, /etc/ssl/certs/ca-certificates.crt on
     * unix; the unikernels have none (UW_TLS_EINVAL: give one). */
    const char *ca_file;
    /* No verification at all: any certificate, any name.  Only by an
     * explicit choice (a test, a host known by other means). */
    bool insecure;
    /* ALPN protocols offered, most preferred first, NULL-terminated; NULL:
     * none.  uw_tls_alpn gives the server's choice. */
    const char *const *alpn;
    bool modern;
    /* Bytes of the server's handshake records accepted; 0: 64 KiB. */
    size_t max_handshake;
} uw_tls_client_options;

/* UW_TLS_OK, UW_TLS_ENOMEM, or UW_TLS_EINVAL (no CA could be read, a bad
 * ALPN list; the reason in err[errlen] when err is not NULL).
 * Sessions: on OpenSSL the configuration keeps the last session (TLS 1.2)
 * or ticket (TLS 1.3) of up to 16 hosts and offers it to the next
 * connection to the same host (uw_tls_resumed says whether the server
 * took it); on mbedTLS every connection makes a full handshake. */
int uw_tls_client_config_new(uw_tls_config **out, const uw_tls_client_options *opt, char *err, size_t errlen);

/* A client engine for one connection to host (a DNS name, sent as SNI
 * and verified; or an IPv4 / IPv6 literal, verified against the
 * certificate's IP addresses).  The handshake starts with the first
 * uw_tls_handshake (the ClientHello is then in uw_tls_send_buf).
 * UW_TLS_OK, UW_TLS_ENOMEM or UW_TLS_EINVAL (a server configuration, a
 * bad host).  Failures to verify end the handshake with UW_TLS_EVERIFY,
 * the reason in uw_tls_reason ("certificate has expired", ...). */
int uw_tls_new_client(uw_tls **out, uw_tls_config *cfg, const char *host);

/* Wraps the TCP connection tcp (owned from now on) into a TLS client
 * connection *out to host and runs the handshake until it completes or
 * deadline passes.  As uw_tls_accept otherwise: on failure tcp is closed,
 * *out not set, the reason in why. */
int uw_tls_connect(uw_conn *tcp, uw_tls_config *cfg, const char *host, int64_t deadline, uw_conn **out,
                   char *why, size_t why_len);

/* ------------------------------------------------------------ connection */

/*
 * Wraps the TCP connection tcp (which it owns from now on) into a TLS
 * server connection *out and runs the handshake until it completes or
 * handshake_deadline passes.  Reads and writes of *out carry plaintext;
 * uw_conn_may_read counts plaintext already inside the engine; writev
 * gathers slices into records of up to 16 KiB; shutdown_write sends
 * close_notify then FIN; close sends close_notify (without waiting) unless
 * reset.
 *
 * On failure the connection is closed (after sending the engine's alert,
 * without waiting), *out is not set, and the result is a uw_tls_status
 * (UW_TLS_ETIMEDOUT at the deadline, UW_TLS_ETRUNCATED when the peer left,
 * ...) or a uw_status from the TCP connection; the reason, in words, goes
 * to why[why_len] when why is not NULL (for a rate-limited log line).
 */
int uw_tls_accept(uw_conn *tcp, uw_tls_config *cfg, int64_t handshake_deadline,
                  uw_conn **out, char *why, size_t why_len);

/* Like uw_tls_accept without the handshake: it runs within the first
 * read or write of *out (or uw_tls_conn_handshake), whose deadline is
 * then capped by handshake_deadline.  Lets a server park a new connection
 * with no task until its ClientHello arrives (uw_conn_set_notify). */
int uw_tls_wrap(uw_conn *tcp, uw_tls_config *cfg, int64_t handshake_deadline, uw_conn **out);
/* Completes the handshake of a wrapped connection: UW_OK or as above
 * (the connection stays open: the caller closes it). */
int uw_tls_conn_handshake(uw_conn *c, int64_t deadline);

/* The engine of a connection made by uw_tls_accept / uw_tls_wrap (for
 * uw_tls_alpn, uw_tls_sni, ...), NULL for any other connection. */
uw_tls *uw_tls_conn_engine(uw_conn *c);

#endif
