/*
 * Fuzz target for HTTP/1.1 request parsing: the engine (src/http/h1.c)
 * fed directly, no sockets.  The input is parsed as it would arrive in
 * one read, then split at a point the input picks, then a byte at a time;
 * every way must give the same events: each head (method, path, query,
 * version, fields, framing), each message's body bytes, each end, and
 * the error answered (its status, and its reason unless it is a 431,
 * where "too large" and "too many fields" may trade places).  Aborts on a
 * difference, and on an event the engine must never give (a body before
 * a head, an error status outside 4xx/5xx, consumed bytes past the input).
 */
#include "../../src/http/h1.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_INPUT 16384
#define MAX_FIELDS 16
#define MAX_HEAD 1024

typedef struct transcript {
    char text[1 << 16];
    size_t len;
    uint64_t body_hash, body_len;
    bool in_message;
} transcript;

static void add(transcript *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(transcript *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(t->text + t->len, sizeof t->text - t->len, fmt, ap);
    va_end(ap);
    if (n > 0) t->len += (size_t)n;
    if (t->len >= sizeof t->text) t->len = sizeof t->text - 1;
}

static void body_done(transcript *t)
{
    add(t, "body %llu %016llx\n", (unsigned long long)t->body_len, (unsigned long long)t->body_hash);
    t->body_len = 0;
    t->body_hash = 1469598103934665603ull;
}

/* Parses data[0..size), handed to the engine step bytes at a time (the
 * first piece is first bytes long), and writes what it saw into t. */
static void run(const uint8_t *data, size_t size, size_t first, size_t step, transcript *t)
{
    static char buf[MAX_INPUT + 1];
    static uw_header fields[MAX_FIELDS + 1];
    memcpy(buf, data, size);
    memset(t, 0, sizeof *t);
    t->body_hash = 1469598103934665603ull;
    uw_h1_parser p;
    uw_h1_init(&p, fields, MAX_FIELDS, MAX_HEAD);
    size_t pos = 0, avail = first < size ? first : size;
    for (;;) {
        uw_h1_event ev;
        size_t used = uw_h1_parse(&p, buf + pos, avail - pos, &ev);
        if (used > avail - pos) abort();
        pos += used;
        switch (ev.kind) {
        case UW_H1_HEAD: {
            const uw_h1_head *h = &p.head;
            if (t->in_message) abort();
            t->in_message = true;
            add(t, "head %s %s ? %s HTTP/1.%d len %lld%s%s%s\n", h->method_name, h->path, h->query, h->minor,
                (long long)h->content_length, h->chunked ? " chunked" : "",
                h->expect_continue ? " continue" : "", h->keep_alive ? " keep-alive" : "");
            if (strlen(h->path) != h->path_len) abort();
            for (size_t i = 0; i < h->nheaders; i++) {
                const uw_header *f = &h->headers[i];
                if (strlen(f->name) != f->name_len || strlen(f->value) != f->value_len) abort();
                add(t, "  %s: %s\n", f->name, f->value);
            }
            break;
        }
        case UW_H1_BODY:
            if (!t->in_message) abort();
            for (size_t i = 0; i < ev.len; i++)
                t->body_hash = (t->body_hash ^ (unsigned char)ev.data[i]) * 1099511628211ull;
            t->body_len += ev.len;
            break;
        case UW_H1_END:
            if (!t->in_message) abort();
            body_done(t);
            add(t, "end\n");
            t->in_message = false;
            break;
        case UW_H1_ERROR:
            if (ev.status < 400 || ev.status > 599 || !ev.why) abort();
            if (t->in_message) body_done(t);
            add(t, "error %d %s\n", ev.status, ev.status == 431 ? "" : ev.why);
            return;
        case UW_H1_MORE:
            if (pos != avail) abort();
            if (avail == size) {
                if (t->in_message) body_done(t);
                add(t, "eof\n");
                return;
            }
            avail = avail + step < size ? avail + step : size;
            break;
        }
    }
}

static transcript whole, split;

static void same(const char *how, size_t at)
{
    if (whole.len == split.len && memcmp(whole.text, split.text, whole.len) == 0) return;
    fprintf(stderr, "events differ (%s at %zu):\n--- whole\n%.*s--- split\n%.*s", how, at,
            (int)whole.len, whole.text, (int)split.len, split.text);
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > MAX_INPUT) size = MAX_INPUT;
    run(data, size, size, size, &whole);
    if (size < 2) return 0;
    size_t at = ((size_t)data[0] << 8 | data[size - 1]) % size;
    run(data, size, at, size, &split);
    same("split", at);
    run(data, size, 1, 1, &split);
    same("byte at a time", 1);
    return 0;
}
