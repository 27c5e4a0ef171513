/*
 * Pasteur: an end-to-end encrypted pastebin.  The page (web/, embedded)
 * encrypts in the browser; the key stays in the URL's fragment; this
 * server stores ciphertext and the metadata it must honour (expiry,
 * burn after reading) in the paste store (store.h) on the block device
 * "store".  Routes:
 *
 *   GET    /                      the page (?ID#KEY views a paste)
 *   POST   /api/paste             create: JSON or multipart/form-data
 *                                 {adata, ct} -> 201 {id, url, delete_token}
 *   GET    /api/paste/<id>/info   {burn, expires} without reading it
 *   GET    /api/paste/<id>        {v, adata, ct}; a burn paste is gone after
 *   DELETE /api/paste/<id>        with ?token= or X-Delete-Token
 *
 * Options beside uw_main's: see usage() and apps/pasteur/README.md.
 */
#include <uweb/block.h>
#include <uweb/random.h>
#include <uweb/runtime.h>
#include <uweb/static.h>
#include <uweb/store.h>
#include <uweb/web.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pasteur.h"
#include "pasteur_assets.h"

pasteur_state P = {
    .max_paste = 10u << 20,
    .rate = 30,
    .burst = 10,
    .full = UW_STORE_EVICT,
    .max_comment = 64 * 1024,
    .max_comments = 100,
};

static const uw_static_mount site = { &pasteur_assets, .cache_control = "no-cache" };

static const uw_route routes[] = {
    { UW_POST, "/api/paste", pasteur_create, .max_body = UW_BODY_UNLIMITED },
    { UW_GET, "/api/paste/<seg:id>/info", pasteur_info },
    { UW_POST, "/api/paste/<seg:id>/comments", pasteur_comment_create },
    { UW_GET, "/api/paste/<seg:id>/comments", pasteur_comments },
    { UW_GET, "/api/paste/<seg:id>", pasteur_read },
    { UW_DELETE, "/api/paste/<seg:id>", pasteur_delete },
    { UW_GET, "/<rest:path>", uw_static_handler, .arg = (void *)&site },
};

static const uw_middleware middlewares[] = {
    { pasteur_security_headers, NULL },
};

static void usage(void)
{
    printf("pasteur: an end-to-end encrypted pastebin\n\n"
           "    pasteur --block:store=FILE [--store-size=BYTES] [OPTIONS]\n\n"
           "    --block:store=FILE      the paste store (a file on unix; the block device\n"
           "                            \"store\" on spt and hvt)\n"
           "    --store=redis://HOST:PORT  the pastes in Redis instead (shared by several\n"
           "                            instances; HOST a numeric IPv4 address)\n"
           "    --store-size=BYTES      create FILE with this size when it does not exist\n"
           "                            (suffixes K, M, G); a new store is formatted\n"
           "    --store-full=POLICY     evict (default: least recently read pastes go first)\n"
           "                            or refuse (507 Insufficient Storage)\n"
           "    --max-paste=BYTES       largest paste accepted (default 10M; 413 beyond)\n"
           "    --max-comments=N        comments per paste (default 100)\n"
           "    --max-comment=BYTES     largest comment (default 64K)\n"
           "    --rate=N                pastes and comments created per minute per client\n"
           "                            (default 30; 429)\n"
           "    --burst=N               pastes a client may create at once (default 10)\n"
           "    --paste-key-file=FILE   the key of the delete tokens (HMAC-SHA256 of the id),\n"
           "                            made when missing (unix); default: a record of the\n"
           "                            store (or of Redis), made at the first start\n"
           "    --clock-offset=SEC      move the clock (tests of expiry)\n\n"
           "and the options every uweb app takes:\n\n");
}

static int parse_size(const char *s, uint64_t *out)
{
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (end == s) return -1;
    uint64_t mul = 1;
    if (*end == 'K' || *end == 'k') mul = 1024, end++;
    else if (*end == 'M' || *end == 'm') mul = 1024 * 1024, end++;
    else if (*end == 'G' || *end == 'g') mul = 1024ull * 1024 * 1024, end++;
    if (*end) return -1;
    *out = v * mul;
    return 0;
}

int main(int argc, char **argv)
{
    /* Pasteur's own options are taken out; uw_main gets the rest
     * (including --block:store=FILE, which it attaches). */
    char **rest = calloc((size_t)argc + 1, sizeof *rest);
    int n = 0;
    const char *file = NULL;
    uint64_t create_size = 0, v;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (i == 0) { rest[n++] = argv[i]; continue; }
        if (strncmp(a, "--block:store=", 14) == 0) file = a + 14;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) usage();
        if (strncmp(a, "--store-size=", 13) == 0) {
            if (parse_size(a + 13, &create_size) != 0 || create_size < 64 * 1024) {
                fprintf(stderr, "pasteur: --store-size must be a size of at least 64K\n");
                return 2;
            }
        } else if (strncmp(a, "--store-full=", 13) == 0) {
            if (strcmp(a + 13, "evict") == 0) P.full = UW_STORE_EVICT;
            else if (strcmp(a + 13, "refuse") == 0) P.full = UW_STORE_REFUSE;
            else { fprintf(stderr, "pasteur: --store-full is evict or refuse\n"); return 2; }
        } else if (strncmp(a, "--max-paste=", 12) == 0) {
            if (parse_size(a + 12, &v) != 0 || v < 1024) { fprintf(stderr, "pasteur: bad --max-paste\n"); return 2; }
            P.max_paste = (size_t)v;
        } else if (strncmp(a, "--max-comments=", 15) == 0) {
            if (parse_size(a + 15, &v) != 0 || v > 10000) { fprintf(stderr, "pasteur: bad --max-comments\n"); return 2; }
            P.max_comments = (unsigned)v;
        } else if (strncmp(a, "--max-comment=", 14) == 0) {
            if (parse_size(a + 14, &v) != 0 || v < 256) { fprintf(stderr, "pasteur: bad --max-comment\n"); return 2; }
            P.max_comment = (size_t)v;
        } else if (strncmp(a, "--rate=", 7) == 0) {
            if (parse_size(a + 7, &v) != 0 || v == 0 || v > 1000000000) { fprintf(stderr, "pasteur: bad --rate\n"); return 2; }
            P.rate = v;
        } else if (strncmp(a, "--burst=", 8) == 0) {
            if (parse_size(a + 8, &v) != 0 || v == 0 || v > 100000000) { fprintf(stderr, "pasteur: bad --burst\n"); return 2; }
            P.burst = v;
        } else if (strncmp(a, "--store=", 8) == 0) {
            if (strncmp(a + 8, "redis://", 8) == 0 && pasteur_redis_parse(a + 8) == 0) continue;
            if (strcmp(a + 8, "block:store") == 0) continue;
            fprintf(stderr, "pasteur: --store is block:store or redis://HOST:PORT\n");
            return 2;
        } else if (strcmp(a, "--trust-proxy") == 0) {
            fprintf(stderr, "pasteur: --trust-proxy takes the proxies' addresses: --trust-proxy=CIDR\n");
            return 2;
        } else if (strncmp(a, "--paste-key-file=", 17) == 0 && a[17]) {
            pasteur_key_file(a + 17);
        } else if (strncmp(a, "--clock-offset=", 15) == 0) {
            P.clock_offset = strtoll(a + 15, NULL, 10);
        } else {
            rest[n++] = argv[i];
        }
    }
    int help = 0;
    for (int i = 1; i < n; i++)
        help |= strcmp(rest[i], "--help") == 0 || strcmp(rest[i], "-h") == 0 || strcmp(rest[i], "--version") == 0;
    if (!help && !P.redis_host[0]) {
        int r = pasteur_open_store(file, create_size);
        if (r != 0) return r;
    }
    /* The delete-token key now (with Redis: at the first create or
     * delete, once the runtime runs). */
    if (!help && (P.store || pasteur_key_file_given())) {
        int r = pasteur_key_load();
        if (r != UW_OK) {
            if (r != UW_EINVAL) fprintf(stderr, "pasteur: the delete-token key: %s\n", uw_store_strerror(r));
            return 1;
        }
    }
    int status = uw_main(n, rest, &(uw_app){ UW_ROUTES(routes), UW_MIDDLEWARES(middlewares), .name = "pasteur" });
    uw_store_close(P.store);
    uw_block_close(P.block);
    free(rest);
    return status;
}
