/*
 * redis.c — Pasteur's pastes in Redis (--store=redis://HOST:PORT), so
 * that several instances behind a load balancer share them.  One key per
 * paste, "pasteur:ID", holding a flags byte then what the block store
 * holds (the delete token and the JSON); expiry is Redis's (SET ... EX),
 * and burn after reading is one Lua script (GET, and DEL when the flags
 * say burn), atomic across every instance.  RESP is parsed by hiredis's
 * reader, which does no I/O; the bytes travel on uweb's own connections
 * (uw_tcp_connect), kept in a small pool of idle ones.
 */
#include <uweb/net.h>
#include <uweb/runtime.h>
#include <uweb/slice.h>
#include <uweb/store.h>

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pasteur.h"

#define POOL 16
#define TIMEOUT_NS (5 * 1000000000ll)

static uw_conn *idle[POOL];
static int nidle;

static const char burn_get[] =
    "local v = redis.call('GET', KEYS[1]) "
    "if v and string.byte(v, 1) == 1 then redis.call('DEL', KEYS[1]) end "
    "return v";
static const char stat_script[] =
    "local v = redis.call('GETRANGE', KEYS[1], 0, 0) "
    "if v == '' then return false end "
    "return {v, redis.call('TTL', KEYS[1])}";

int pasteur_redis_parse(const char *url)
{
    const char *p = url + strlen("redis://");
    const char *colon = strrchr(p, ':');
    size_t n = colon ? (size_t)(colon - p) : strlen(p);
    if (n == 0 || n >= sizeof P.redis_host) return -1;
    memcpy(P.redis_host, p, n);
    P.redis_host[n] = 0;
    long port = colon ? strtol(colon + 1, NULL, 10) : 6379;
    if (port <= 0 || port > 65535) return -1;
    P.redis_port = (uint16_t)port;
    return 0;
}

/* Sends argv as one RESP command and reads one reply (the caller frees
 * it with freeReplyObject); NULL when Redis cannot be reached or answered
 * garbage. */
static redisReply *command(int argc, const char **argv, const size_t *lens)
{
    size_t cap = 32;
    for (int i = 0; i < argc; i++) cap += lens[i] + 32;
    char *buf = malloc(cap);
    if (!buf) return NULL;
    size_t n = (size_t)snprintf(buf, cap, "*%d\r\n", argc);
    for (int i = 0; i < argc; i++) {
        n += (size_t)snprintf(buf + n, cap - n, "$%zu\r\n", lens[i]);
        memcpy(buf + n, argv[i], lens[i]);
        n += lens[i];
        buf[n++] = '\r';
        buf[n++] = '\n';
    }
    int64_t deadline = uw_now() + TIMEOUT_NS;
    redisReply *reply = NULL;
    for (int attempt = 0; attempt < 2 && !reply; attempt++) {
        int pooled = nidle > 0;
        uw_conn *c = pooled ? idle[--nidle] : NULL;
        if (!c && uw_tcp_connect(&c, P.redis_host, P.redis_port, deadline) != UW_OK) break;
        redisReader *rd = redisReaderCreate();
        int ok = rd && uw_conn_writev(c, &(uw_slice){ buf, n }, 1, deadline) == UW_OK;
        void *r = NULL;
        char in[16384];
        while (ok && !r) {
            ssize_t k = uw_conn_read(c, in, sizeof in, deadline);
            ok = k > 0 && redisReaderFeed(rd, in, (size_t)k) == REDIS_OK && redisReaderGetReply(rd, &r) == REDIS_OK;
        }
        if (rd) redisReaderFree(rd);
        if (r) {
            reply = r;
            if (nidle < POOL) idle[nidle++] = c;
            else uw_conn_close(c, false);
        } else {
            uw_conn_close(c, true);
            if (!pooled) break;                 /* a fresh connection failed: Redis is away */
        }
    }
    free(buf);
    return reply;
}

static int key_of(uint64_t id, char key[32])
{
    return snprintf(key, 32, "pasteur:%016llx", (unsigned long long)id);
}

int pasteur_redis_put(uint64_t id, const void *data, size_t len, int64_t expires, unsigned flags)
{
    char key[32], ex[24];
    size_t kl = (size_t)key_of(id, key);
    char *val = malloc(len + 1);
    if (!val) return UW_ENOMEM;
    val[0] = (char)flags;
    memcpy(val + 1, data, len);
    int64_t ttl = expires ? expires - pasteur_now() : 0;
    if (expires && ttl < 1) ttl = 1;
    snprintf(ex, sizeof ex, "%lld", (long long)ttl);
    const char *argv[] = { "SET", key, val, "NX", "EX", ex };
    size_t lens[] = { 3, kl, len + 1, 2, 2, strlen(ex) };
    redisReply *r = command(expires ? 6 : 4, argv, lens);
    free(val);
    if (!r) return UW_EIO;
    int st = r->type == REDIS_REPLY_STATUS ? UW_OK : r->type == REDIS_REPLY_NIL ? UW_STORE_EEXIST
           : r->type == REDIS_REPLY_ERROR && strstr(r->str, "OOM") ? UW_STORE_EFULL : UW_EIO;
    freeReplyObject(r);
    return st;
}

/* A string reply without its flags byte, as the block store gives it. */
static int value_of(redisReply *r, void **data, size_t *len)
{
    if (!r) return UW_EIO;
    int st = UW_EIO;
    if (r->type == REDIS_REPLY_NIL) st = UW_STORE_ENOTFOUND;
    else if (r->type == REDIS_REPLY_STRING && r->len >= 1 && (*data = malloc(r->len))) {
        memcpy(*data, r->str + 1, r->len - 1);
        *len = r->len - 1;
        st = UW_OK;
    }
    freeReplyObject(r);
    return st;
}

int pasteur_redis_get(uint64_t id, void **data, size_t *len)
{
    char key[32];
    size_t kl = (size_t)key_of(id, key);
    const char *argv[] = { "EVAL", burn_get, "1", key };
    size_t lens[] = { 4, sizeof burn_get - 1, 1, kl };
    return value_of(command(4, argv, lens), data, len);
}

int pasteur_redis_peek(uint64_t id, void **data, size_t *len)
{
    char key[32];
    size_t kl = (size_t)key_of(id, key);
    const char *argv[] = { "GET", key };
    size_t lens[] = { 3, kl };
    return value_of(command(2, argv, lens), data, len);
}

int pasteur_redis_stat(uint64_t id, unsigned *flags, int64_t *expires)
{
    char key[32];
    size_t kl = (size_t)key_of(id, key);
    const char *argv[] = { "EVAL", stat_script, "1", key };
    size_t lens[] = { 4, sizeof stat_script - 1, 1, kl };
    redisReply *r = command(4, argv, lens);
    if (!r) return UW_EIO;
    int st = UW_EIO;
    if (r->type == REDIS_REPLY_NIL) {
        st = UW_STORE_ENOTFOUND;
    } else if (r->type == REDIS_REPLY_ARRAY && r->elements == 2 && r->element[0]->type == REDIS_REPLY_STRING &&
               r->element[0]->len == 1 && r->element[1]->type == REDIS_REPLY_INTEGER) {
        *flags = (unsigned char)r->element[0]->str[0];
        long long ttl = r->element[1]->integer;
        *expires = ttl > 0 ? pasteur_now() + ttl : 0;
        st = UW_OK;
    }
    freeReplyObject(r);
    return st;
}

int pasteur_redis_delete(uint64_t id)
{
    char key[32];
    size_t kl = (size_t)key_of(id, key);
    const char *argv[] = { "DEL", key };
    size_t lens[] = { 3, kl };
    redisReply *r = command(2, argv, lens);
    if (!r) return UW_EIO;
    int st = r->type == REDIS_REPLY_INTEGER ? (r->integer == 1 ? UW_OK : UW_STORE_ENOTFOUND) : UW_EIO;
    freeReplyObject(r);
    return st;
}
