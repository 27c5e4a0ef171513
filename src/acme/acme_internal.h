/* The ACME client's state, shared by its common part (acme.c: options,
 * the HTTP-01 answers), its engine (engine.c, every target) and its
 * storage (files_unix.c / files_uk.c, store_block.c). */
#ifndef UWEB_ACME_INTERNAL_H
#define UWEB_ACME_INTERNAL_H

#include <uweb/acme.h>
#include <uweb/runtime.h>
#include <stddef.h>

/* A pending HTTP-01 answer. */
typedef struct acme_token {
    char *token, *key_auth;
} acme_token;

struct uw_acme {
    uw_acme_config cfg;
    uw_tls_config *tls;
    uw_http_dispatch next;
    void *next_arg;
    acme_token tokens[UW_ACME_MAX_DOMAINS];
    uw_task *task;
    uw_waitq wake;               /* the task sleeps here until its next renewal */
    bool renew_now;
    int slot;                    /* the certificate's slot in tls, -1 before the first */
    int64_t not_after;
    void *engine;                /* the engine's own state (engine.c) */
};

/* base64url without padding of n bytes into out (room for cap bytes with
 * the NUL); the length written. */
size_t acme_b64url(const void *data, size_t n, char *out, size_t cap);

/* The HTTP-01 answers: add (copies) and clear. */
int acme_token_add(uw_acme *a, const char *token, const char *key_auth);
void acme_tokens_clear(uw_acme *a);

/* State on the block device "acme" (store_block.c): UW_OK when it is
 * attached, writable and large enough (else why says so); the PEM text
 * stored for "account.key", "cert.pem" or "cert.key" (malloc'd, NULL
 * when empty); writing one (flushed). */
#define ACME_BLOCK "acme"
#define ACME_BLOCK_SIZE 65536u
int acme_block_check(char *why, size_t n);
char *acme_block_read(const char *file, size_t *len);
int acme_block_write(const char *file, const char *data, size_t len);

/* State as files in dir (--acme-dir; unix only, files_unix.c): the
 * file's bytes NUL-terminated (malloc'd; NULL when absent), or written
 * atomically (secret: readable by the owner only; else UW_EIO or
 * UW_EINVAL with why filled). */
char *acme_file_read(const char *dir, const char *file, size_t *len);
int acme_file_write(const char *dir, const char *file, const char *data, size_t len, bool secret, char *why,
                    size_t n);

/* The engine's task and its cleanup (engine.c). */
void acme_engine_main(void *acme);
void acme_engine_free(uw_acme *a);

#endif
