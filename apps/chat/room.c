/*
 * The room: every member (a WebSocket, or a server-sent events stream)
 * has a bounded queue of messages to send; a message is one JSON text,
 * shared by the queues that hold it (counted references).  Publishing
 * never waits and never grows memory: a member whose queue is full is
 * too slow and is dropped (its WebSocket closed with 1008), the others
 * go on.  The last HISTORY messages greet whoever joins.
 *
 * One room per process (the runtime is one thread: no locks).
 */
#include "chat.h"

#include <uweb/sse.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define QUEUE_LEN 64
#define HISTORY 32

typedef struct chat_msg {
    size_t refs, len;
    char data[];
} chat_msg;

typedef struct member {
    struct member *prev, *next;
    uw_queue q;
    chat_msg *slots[QUEUE_LEN];
    bool dropped;
    bool talker;                     /* on a WebSocket (else a reader of /events) */
} member;

static struct {
    member *head;
    size_t count;                    /* members on WebSockets ("online"), not readers */
    chat_msg *history[HISTORY];
    size_t hist_len, hist_next;
    unsigned guests;
} room;

static void unref(chat_msg *m)
{
    if (m && --m->refs == 0) free(m);
}

/* Queues m for one member, or drops that member when it is too slow. */
static void offer(member *mb, chat_msg *m)
{
    if (mb->dropped) return;
    if (uw_queue_len(&mb->q) == QUEUE_LEN) {
        mb->dropped = true;
        uw_wake_all(&mb->q.readers);
        return;
    }
    m->refs++;
    uw_queue_put(&mb->q, &m, 0);      /* room is there: never waits */
}

static void publish(chat_msg *m)
{
    m->refs++;                       /* ours, until the end of this call */
    if (room.hist_len == HISTORY) unref(room.history[room.hist_next]);
    else room.hist_len++;
    room.history[room.hist_next] = m;
    room.hist_next = (room.hist_next + 1) % HISTORY;
    m->refs++;
    for (member *mb = room.head; mb; mb = mb->next) offer(mb, m);
    unref(m);
}

/* ------------------------------------------------------------ JSON */

typedef struct out {
    char *p;
    size_t len, cap;
} out;

static void put(out *o, const char *s, size_t n)
{
    if (o->len + n > o->cap) n = o->cap - o->len;
    memcpy(o->p + o->len, s, n);
    o->len += n;
}

/* s as a JSON string (quotes included): ", \ and controls escaped. */
static void put_json(out *o, const char *s, size_t n)
{
    put(o, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char e[8];
        if (c == '"' || c == '\\') {
            e[0] = '\\';
            e[1] = (char)c;
            put(o, e, 2);
        } else if (c < 0x20 || c == 0x7f) {
            snprintf(e, sizeof e, "\\u%04x", c);
            put(o, e, 6);
        } else {
            put(o, (const char *)&c, 1);
        }
    }
    put(o, "\"", 1);
}

/* {"from":NAME,"text":TEXT,"online":N} or {"system":TEXT,"online":N} */
static chat_msg *make(const char *from, const char *text, size_t text_len)
{
    size_t cap = 64 + 6 * (CHAT_NAME_MAX + text_len);
    chat_msg *m = malloc(sizeof *m + cap);
    if (!m) return NULL;
    m->refs = 0;
    out o = { m->data, 0, cap };
    if (from) {
        put(&o, "{\"from\":", 8);
        put_json(&o, from, strlen(from));
        put(&o, ",\"text\":", 8);
    } else {
        put(&o, "{\"system\":", 10);
    }
    put_json(&o, text, text_len);
    char n[48];
    int k = snprintf(n, sizeof n, ",\"online\":%zu}", room.count);
    put(&o, n, (size_t)k);
    m->len = o.len;
    return m;
}

static void announce(const char *name, const char *what)
{
    char line[CHAT_NAME_MAX + 32];
    int n = snprintf(line, sizeof line, "%s %s", name, what);
    chat_msg *m = make(NULL, line, (size_t)n);
    if (m) publish(m);
}

/* ------------------------------------------------------------ members */

static void join(member *mb, bool talker)
{
    memset(mb, 0, sizeof *mb);
    mb->talker = talker;
    uw_queue_init(&mb->q, mb->slots, sizeof(chat_msg *), QUEUE_LEN);
    for (size_t i = 0; i < room.hist_len; i++)
        offer(mb, room.history[(room.hist_next + HISTORY - room.hist_len + i) % HISTORY]);
    mb->next = room.head;
    if (room.head) room.head->prev = mb;
    room.head = mb;
    if (talker) room.count++;
}

static void leave(member *mb)
{
    if (mb->prev) mb->prev->next = mb->next; else room.head = mb->next;
    if (mb->next) mb->next->prev = mb->prev;
    if (mb->talker) room.count--;
    chat_msg *m;
    while (uw_queue_get(&mb->q, &m, 0) == UW_OK) unref(m);
}

/* Valid UTF-8 cut to at most max bytes at a character boundary, without
 * control characters (replaced by spaces). */
static size_t clean(char *s, size_t n, size_t max)
{
    if (n > max) {
        n = max;
        while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80) n--;
    }
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 && s[i] != '\n') s[i] = ' ';
    return n;
}

void chat_name(const char *query, char out[CHAT_NAME_MAX + 1])
{
    size_t n = query ? strlen(query) : 0;
    uint32_t st = 0;
    if (n) {
        memcpy(out, query, n > CHAT_NAME_MAX ? CHAT_NAME_MAX + 1 : n);
        n = clean(out, n, CHAT_NAME_MAX);
        out[n] = 0;
        for (size_t i = 0; i < n; i++)
            if (out[i] == '\n') out[i] = ' ';
        while (n && out[n - 1] == ' ') out[--n] = 0;
    }
    if (!n || !uw_ws_utf8_feed(&st, (const uint8_t *)out, n) || !uw_ws_utf8_complete(st))
        snprintf(out, CHAT_NAME_MAX + 1, "guest-%u", ++room.guests);
}

void chat_serve_ws(uw_ws *ws, const char *name)
{
    member mb;
    join(&mb, true);
    announce(name, "joined");
    for (;;) {
        chat_msg *m;
        int r = UW_OK;
        while (r == UW_OK && uw_queue_get(&mb.q, &m, 0) == UW_OK) {
            r = uw_ws_send(ws, UW_WS_TEXT, m->data, m->len);
            unref(m);
        }
        if (r != UW_OK) break;
        if (mb.dropped) {
            uw_ws_close(ws, UW_WS_POLICY, "too slow: messages were not read in time");
            break;
        }
        uw_ws_msg in;
        r = uw_ws_read_or_wake(ws, &in, &mb.q.readers, UW_FOREVER);
        if (r == 1) continue;
        if (r != UW_OK) break;
        if (in.type != UW_WS_TEXT || in.len == 0) continue;
        size_t n = clean((char *)in.data, in.len, CHAT_TEXT_MAX);
        if ((m = make(name, (const char *)in.data, n))) publish(m);
        /* Let the members send it before this one reads more: a fast
         * talker cannot fill the queues of readers that keep up. */
        uw_yield();
    }
    leave(&mb);
    announce(name, "left");
}

void chat_serve_sse(uw_res *res)
{
    member mb;
    join(&mb, false);
    for (;;) {
        chat_msg *m;
        int r = UW_OK;
        while (r == UW_OK && uw_queue_get(&mb.q, &m, 0) == UW_OK) {
            char *text = malloc(m->len + 1);
            if (text) {
                memcpy(text, m->data, m->len);
                text[m->len] = 0;
                r = uw_sse_send(res, "chat", text, NULL);
                free(text);
            }
            unref(m);
        }
        if (r != UW_OK || mb.dropped) break;
        r = uw_sse_wait(res, &mb.q.readers, UW_FOREVER, 0);
        if (r != UW_OK) break;
    }
    leave(&mb);
}
