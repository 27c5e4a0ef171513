/*
 * token.c — delete tokens.  The token of paste ID is the first 16 bytes of
 * HMAC-SHA256(key, "pasteur delete v1 " || ID as 16 hex digits), as 32 hex
 * digits: nothing is stored with the paste, and it is checked in constant
 * time.  The key (32 random bytes) is the file of --paste-key-file=FILE
 * (unix; made when missing), or else a record of the store itself
 * (PASTEUR_KEY_ID, which no request can name): made with a warning the
 * first time, it lives as long as the store, so tokens survive restarts,
 * and with Redis every instance shares it.  Records written before keep
 * the random token stored in their first 16 bytes and it keeps working;
 * new records have 16 zero bytes there.
 */
#include <uweb/aead.h>
#include <uweb/random.h>
#include <uweb/runtime.h>
#include <uweb/store.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if __has_include(<sys/stat.h>)
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#define HAVE_FILES 1
#endif

#include "pasteur.h"

#define KEY_LEN 32
#define KEY_MAGIC "uweb-pasteur-key"        /* 16 bytes, then the key */
#define KEY_MAX 4096

static uint8_t key[KEY_MAX];
static size_t key_len;                      /* 0: not loaded yet */
static const char *key_file;

void pasteur_key_file(const char *file) { key_file = file; }
int pasteur_key_file_given(void) { return key_file != NULL; }

static void hex(const uint8_t *p, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    out[2 * n] = 0;
}

/* The key of --paste-key-file: the file's bytes (a trailing newline
 * dropped), at least 32; a missing file is made with 32 random bytes in
 * hex, readable by its owner only. */
static int load_file(void)
{
#ifndef HAVE_FILES
    fprintf(stderr, "pasteur: --paste-key-file is for unix; the guests keep the key in the store\n");
    return 2;
#else
    FILE *f = fopen(key_file, "rb");
    if (f) {
        size_t n = fread(key, 1, sizeof key, f);
        int bad = ferror(f) || !feof(f);
        fclose(f);
        while (n && (key[n - 1] == '\n' || key[n - 1] == '\r')) n--;
        if (bad || n < KEY_LEN) {
            fprintf(stderr, "pasteur: --paste-key-file=%s: the key must be %d to %d bytes\n", key_file, KEY_LEN, KEY_MAX);
            return 2;
        }
        key_len = n;
        return 0;
    }
    uint8_t raw[KEY_LEN];
    char text[2 * KEY_LEN + 2];
    if (uw_random(raw, sizeof raw) != UW_OK) return fprintf(stderr, "pasteur: no random generator\n"), 1;
    hex(raw, sizeof raw, text);
    strcat(text, "\n");
    int fd = open(key_file, O_WRONLY | O_CREAT | O_EXCL, 0600);
    f = fd >= 0 ? fdopen(fd, "wb") : NULL;
    if (fd >= 0 && !f) close(fd);
    if (!f || fwrite(text, 1, strlen(text), f) != strlen(text) || fclose(f) != 0) {
        fprintf(stderr, "pasteur: --paste-key-file=%s: cannot read or create it\n", key_file);
        return 1;
    }
    memcpy(key, text, 2 * KEY_LEN);
    key_len = 2 * KEY_LEN;
    fprintf(stderr, "pasteur: warning: made a new delete-token key in %s (keep it: tokens given out before "
                    "a new key no longer delete their pastes)\n", key_file);
    return 0;
#endif
}

/* The key record of the store; UW_OK with the key loaded. */
static int load_record(void)
{
    void *d;
    size_t n;
    int r = pasteur_get(PASTEUR_KEY_ID, &d, &n);
    if (r == UW_OK) {
        int ok = n == 16 + KEY_LEN && memcmp(d, KEY_MAGIC, 16) == 0;
        if (ok) memcpy(key, (uint8_t *)d + 16, KEY_LEN), key_len = KEY_LEN;
        free(d);
        return ok ? UW_OK : UW_STORE_ECORRUPT;
    }
    return r;
}

int pasteur_key_load(void)
{
    if (key_len) return UW_OK;
    if (key_file) return load_file() == 0 ? UW_OK : UW_EINVAL;
    int r = load_record();
    if (r != UW_STORE_ENOTFOUND) return r;
    uint8_t rec[16 + KEY_LEN];
    memcpy(rec, KEY_MAGIC, 16);
    if (uw_random(rec + 16, KEY_LEN) != UW_OK) return UW_EIO;
    r = pasteur_put(PASTEUR_KEY_ID, rec, sizeof rec, 0, 0);
    if (r == UW_STORE_EEXIST) return load_record();     /* another instance made it first */
    if (r != UW_OK) return r;
    memcpy(key, rec + 16, KEY_LEN);
    key_len = KEY_LEN;
    fprintf(stderr, "pasteur: warning: made a new delete-token key, kept in the store (give --paste-key-file=FILE "
                    "to keep it apart)\n");
    return UW_OK;
}

void pasteur_key_keep(struct uw_store *s)
{
    /* The cleaner may evict the key's record as any unread one: put back
     * at once (the key itself is in memory). */
    unsigned flags;
    int64_t expires;
    if (key_file || !key_len || uw_store_stat(s, PASTEUR_KEY_ID, 0, &flags, &expires) != UW_STORE_ENOTFOUND) return;
    uint8_t rec[16 + KEY_LEN];
    memcpy(rec, KEY_MAGIC, 16);
    memcpy(rec + 16, key, KEY_LEN);
    uw_store_put(s, PASTEUR_KEY_ID, rec, sizeof rec, 0, 0);
}

int pasteur_token(uint64_t id, char out[2 * PASTEUR_TOKEN_LEN + 1])
{
    int r = pasteur_key_load();
    if (r != UW_OK) return r;
    char msg[40];
    uint8_t mac[UW_HMAC_SHA256_BYTES];
    int n = snprintf(msg, sizeof msg, "pasteur delete v1 %016llx", (unsigned long long)id);
    if (uw_hmac_sha256(key, key_len, msg, (size_t)n, mac) != UW_OK) return UW_EIO;
    hex(mac, PASTEUR_TOKEN_LEN, out);
    return UW_OK;
}

int pasteur_token_check(uint64_t id, const uint8_t *stored, size_t n, const char *token)
{
    char want[2 * PASTEUR_TOKEN_LEN + 1];
    static const uint8_t zero[PASTEUR_TOKEN_LEN];
    if (n < PASTEUR_TOKEN_LEN) return UW_STORE_ECORRUPT;
    if (uw_equal_ct(stored, zero, PASTEUR_TOKEN_LEN)) {
        int r = pasteur_token(id, want);
        if (r != UW_OK) return r;
    } else {
        hex(stored, PASTEUR_TOKEN_LEN, want);            /* a record of before: its own random token */
    }
    if (strlen(token) != 2 * PASTEUR_TOKEN_LEN) return 0;
    return uw_equal_ct(token, want, 2 * PASTEUR_TOKEN_LEN);
}
