/*
 * The HTTP/1.1 engine: llhttp turned into events, the head checked as
 * RFC 9112 asks, and response heads and chunk framing written into a
 * buffer.  No I/O (see h1.h).
 *
 * llhttp is paused at the end of the head, after each body span and at
 * the end of each message, so every event leaves the parser at a point
 * where the caller may act (run the handler between the head and the
 * body; leave pipelined requests in the buffer until their turn).
 */
#include "h1.h"
#include "../util/util.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static uw_h1_parser *P(llhttp_t *l) { return (uw_h1_parser *)l; }

/* Chunked framing bounds (the shape of CVE-2024-22019: a chunk-size line
 * of megabytes kept a worker busy under any body limit).  Past them: 400.
 * Extension bytes and leading zeros also count against the body limit
 * (p->body_extra). */
#define CHUNK_EXT_MAX 256        /* extension bytes (names, values, ';' '=') per chunk */
#define CHUNK_SIZE_DIGITS_MAX 16 /* hex digits of a chunk size, leading zeros included */

static int on_message_begin(llhttp_t *l)
{
    uw_h1_parser *p = P(l);
    p->url = NULL;
    p->url_len = 0;
    p->nfields = 0;
    p->trailer_bytes = 0;
    p->body_extra = 0;
    p->field = UW_H1_FIELD_BETWEEN;
    p->headers_done = p->message_done = false;
    p->in_size_line = p->last_chunk = false;
    return 0;
}

/* Spans: llhttp may report a span empty (at the end of an input, or an
 * empty field value, at a position past it), so a span's start is taken
 * from its first non-empty piece. */
static int on_url(llhttp_t *l, const char *at, size_t len)
{
    uw_h1_parser *p = P(l);
    if (p->url_len == 0) p->url = (char *)at;
    p->url_len += len;
    return 0;
}

/* Trailer fields (after a chunked body) are ignored, but their bytes are
 * bounded like a head's. */
static int trailer_bytes(uw_h1_parser *p, size_t len)
{
    p->trailer_bytes += len;
    if (p->trailer_bytes <= p->max_head_bytes) return 0;
    p->trailer_too_big = true;
    return HPE_USER;
}

static int on_header_field(llhttp_t *l, const char *at, size_t len)
{
    uw_h1_parser *p = P(l);
    if (p->headers_done) return trailer_bytes(p, len);
    if (p->field != UW_H1_FIELD_NAME) {
        /* One field past the limit is recorded (fields has room for it)
         * and refused once its name is complete: refused at its first
         * byte, the answer would depend on where the input was split. */
        if (p->nfields > p->max_fields) return HPE_USER;
        p->fields[p->nfields++] = (uw_header){ at, NULL, 0, 0 };
        p->field = UW_H1_FIELD_NAME;
    }
    uw_header *h = &p->fields[p->nfields - 1];
    if (h->name_len == 0) h->name = at;
    h->name_len += len;
    return 0;
}

static int on_header_field_complete(llhttp_t *l)
{
    uw_h1_parser *p = P(l);
    if (p->headers_done || p->nfields <= p->max_fields) return 0;
    p->too_many_fields = true;
    return HPE_USER;
}

/* A field line that starts with its colon (": a"): llhttp has no name
 * span to report, so it shows as a value with no name before it. */
static int empty_field_name(llhttp_t *l)
{
    llhttp_set_error_reason(l, "empty header field name");
    return HPE_USER;
}

static int on_header_value(llhttp_t *l, const char *at, size_t len)
{
    uw_h1_parser *p = P(l);
    if (p->headers_done) return trailer_bytes(p, len);
    if (p->field == UW_H1_FIELD_BETWEEN) return empty_field_name(l);
    uw_header *h = &p->fields[p->nfields - 1];
    p->field = UW_H1_FIELD_VALUE;
    if (h->value_len == 0) h->value = at;
    h->value_len += len;
    return 0;
}

static int on_header_value_complete(llhttp_t *l)
{
    uw_h1_parser *p = P(l);
    if (p->headers_done) return 0;
    if (p->field == UW_H1_FIELD_BETWEEN) return empty_field_name(l);
    uw_header *h = &p->fields[p->nfields - 1];
    if (h->value_len == 0) h->value = h->name + h->name_len + 1;   /* empty: the byte after ':' */
    p->field = UW_H1_FIELD_BETWEEN;
    return 0;
}

/* A chunk-size line starts here (after the head, after each chunk). */
static void size_line_start(uw_h1_parser *p)
{
    p->in_size_line = true;
    p->size_nonzero = false;
    p->size_digits = p->size_zeros = 0;
    p->chunk_ext = 0;
}

static int on_headers_complete(llhttp_t *l)
{
    uw_h1_parser *p = P(l);
    p->headers_done = true;
    if (l->flags & F_CHUNKED) size_line_start(p);
    return HPE_PAUSED;
}

/* Chunk extensions are parsed by llhttp and ignored, but bounded: their
 * names and values, and one separator for each (';' or '='). */
static int chunk_ext_bytes(llhttp_t *l, size_t n)
{
    uw_h1_parser *p = P(l);
    p->chunk_ext += n;
    p->body_extra += n;
    if (p->chunk_ext <= CHUNK_EXT_MAX) return 0;
    llhttp_set_error_reason(l, "chunk extensions too long");
    return HPE_USER;
}
static int on_chunk_ext_data(llhttp_t *l, const char *at, size_t len) { (void)at; return chunk_ext_bytes(l, len); }
static int on_chunk_ext_done(llhttp_t *l) { return chunk_ext_bytes(l, 1); }

static int on_chunk_header(llhttp_t *l)
{
    P(l)->last_chunk = l->content_length == 0;
    return 0;
}

/* Paused so that uw_h1_parse sees where the next chunk-size line starts;
 * after the last chunk (and its trailers) the message ends instead. */
static int on_chunk_complete(llhttp_t *l)
{
    uw_h1_parser *p = P(l);
    if (p->last_chunk) return 0;
    size_line_start(p);
    return HPE_PAUSED;
}

static int on_body(llhttp_t *l, const char *at, size_t len)
{
    uw_h1_parser *p = P(l);
    /* An empty span (after a pause) has nothing to hand out: go on. */
    if (len == 0) return 0;
    p->span = at;
    p->span_len = len;
    return HPE_PAUSED;
}

static int on_message_complete(llhttp_t *l)
{
    P(l)->message_done = true;
    return HPE_PAUSED;
}

static const llhttp_settings_t settings = {
    .on_message_begin = on_message_begin,
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_field_complete = on_header_field_complete,
    .on_header_value = on_header_value,
    .on_header_value_complete = on_header_value_complete,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
    .on_chunk_extension_name = on_chunk_ext_data,
    .on_chunk_extension_value = on_chunk_ext_data,
    .on_chunk_extension_name_complete = on_chunk_ext_done,
    .on_chunk_extension_value_complete = on_chunk_ext_done,
    .on_chunk_header = on_chunk_header,
    .on_chunk_complete = on_chunk_complete,
};

void uw_h1_init(uw_h1_parser *p, uw_header *fields, size_t max_fields, size_t max_head_bytes)
{
    memset(p, 0, sizeof *p);
    llhttp_init(&p->llhttp, HTTP_REQUEST, &settings);
    p->fields = fields;
    p->max_fields = max_fields;
    p->max_head_bytes = max_head_bytes;
    p->head.minor = 1;
    p->phase = UW_H1_IN_HEAD;
}

static unsigned method_bit(uint8_t m)
{
    switch (m) {
    case HTTP_GET: return UW_GET;
    case HTTP_HEAD: return UW_HEAD;
    case HTTP_POST: return UW_POST;
    case HTTP_PUT: return UW_PUT;
    case HTTP_DELETE: return UW_DELETE;
    case HTTP_PATCH: return UW_PATCH;
    case HTTP_OPTIONS: return UW_OPTIONS;
    default: return UW_OTHER_METHOD;
    }
}

/* Turns the parsed head into p->head.  Returns 0 or an HTTP status to
 * answer with (and *why). */
static int finish_head(uw_h1_parser *p, const char **why)
{
    llhttp_t *l = &p->llhttp;
    uw_h1_head *h = &p->head;
    h->method = method_bit(l->method);
    h->method_name = llhttp_method_name((llhttp_method_t)l->method);
    h->minor = l->http_major == 1 ? l->http_minor : 1;
    if (l->http_major != 1) { *why = "only HTTP/1.x is served here"; return 505; }
    if (!p->url || p->url_len == 0) { *why = "empty request target"; return 400; }

    /* request-line = method SP request-target SP HTTP-version, one SP
     * each (llhttp lets runs of spaces through). */
    if (p->url[-1] != ' ' || p->url[-2] == ' ' || p->url[p->url_len] != ' ' || p->url[p->url_len + 1] == ' ') {
        *why = "more than one space between the parts of the request line";
        return 400;
    }
    /* NUL-terminate in place; every byte written over was consumed. */
    p->url[p->url_len] = 0;
    h->headers = p->fields;
    h->nheaders = p->nfields;
    bool host = false, te = false;
    for (size_t i = 0; i < p->nfields; i++) {
        uw_header *f = &p->fields[i];
        /* field-name = token: llhttp lets a space inside it ("X Y: a")
         * or before the colon through. */
        for (size_t k = 0; k < f->name_len; k++)
            if (!uw__tchar((unsigned char)f->name[k])) { *why = "malformed header field name"; return 400; }
        if (f->name_len == 0) { *why = "empty header field name"; return 400; }
        ((char *)f->name)[f->name_len] = 0;
        /* llhttp hands a folded line (obs-fold) over as part of the value:
         * refuse it, as RFC 9112 allows, rather than guess. */
        if (memchr(f->value, '\n', f->value_len) || memchr(f->value, '\r', f->value_len)) {
            *why = "obsolete line folding in a header";
            return 400;
        }
        ((char *)f->value)[f->value_len] = 0;
        /* Trailing whitespace is not part of a field value. */
        while (f->value_len && (f->value[f->value_len - 1] == ' ' || f->value[f->value_len - 1] == '\t'))
            ((char *)f->value)[--f->value_len] = 0;
        if (f->name_len == 4 && strcasecmp(f->name, "host") == 0) {
            if (host) { *why = "more than one Host header"; return 400; }
            if (!uw__http_host_ok(f->value, f->value_len)) { *why = "malformed Host header"; return 400; }
            host = true;
        } else if (f->name_len == 17 && strcasecmp(f->name, "transfer-encoding") == 0) {
            te = true;
        } else if (f->name_len == 6 && strcasecmp(f->name, "expect") == 0) {
            if (strcasecmp(f->value, "100-continue") != 0) { *why = "unsupported expectation"; return 417; }
            h->expect_continue = h->minor >= 1;
        }
    }
    if (h->minor >= 1 && !host) { *why = "HTTP/1.1 request without Host"; return 400; }

    /* The request-target by RFC 9112's grammar (target.c); the router
     * gets the path of an origin- or absolute-form target, "*" for a
     * server-wide OPTIONS. */
    uw_target t;
    bool connect = l->method == HTTP_CONNECT;
    const char *bad = uw__http_parse_target(p->url, p->url_len, h->method, connect, &t);
    if (bad) { *why = bad; return 400; }
    h->path = t.path;
    h->path_len = t.path_len;
    h->query = t.query;
    if (connect) {
        /* No route tunnels; what follows a CONNECT head is not HTTP. */
        *why = "CONNECT is not served here";
        return 501;
    }

    h->chunked = (l->flags & F_CHUNKED) != 0;
    if (te && !h->chunked) { *why = "Transfer-Encoding without chunked as the final coding"; return 400; }
    if (h->chunked) {
        h->content_length = -1;
        h->has_body = true;
    } else if (l->flags & F_CONTENT_LENGTH) {
        h->content_length = (int64_t)l->content_length;
        h->has_body = l->content_length > 0;
    } else {
        h->content_length = 0;
        h->has_body = false;
    }
    h->keep_alive = llhttp_should_keep_alive(l);
    return 0;
}

static size_t fail(uw_h1_parser *p, uw_h1_event *ev, size_t consumed, int status, const char *why)
{
    p->phase = UW_H1_FAILED;
    ev->kind = UW_H1_ERROR;
    ev->status = status;
    ev->why = why;
    return consumed;
}

/* Counts the hex digits at the start of a chunk-size line in the bytes
 * about to be parsed (the line may arrive in pieces).  False past
 * CHUNK_SIZE_DIGITS_MAX; leading zeros count against the body limit. */
static bool scan_size_digits(uw_h1_parser *p, const char *at, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)at[i];
        if (uw__hexval(c) < 0) {
            p->in_size_line = false;
            /* "0" alone is the last chunk's size, not a leading zero */
            p->body_extra += p->size_nonzero || !p->size_zeros ? p->size_zeros : p->size_zeros - 1;
            return true;
        }
        if (c != '0') p->size_nonzero = true;
        else if (!p->size_nonzero) p->size_zeros++;
        if (++p->size_digits > CHUNK_SIZE_DIGITS_MAX) return false;
    }
    return true;
}

size_t uw_h1_parse(uw_h1_parser *p, char *buf, size_t len, uw_h1_event *ev)
{
    llhttp_t *l = &p->llhttp;
    memset(ev, 0, sizeof *ev);
    if (p->phase == UW_H1_FAILED) return fail(p, ev, 0, 400, "input after an error");
    size_t total = 0;
    for (unsigned rounds = 0;; rounds++) {
        bool in_head = p->phase == UW_H1_IN_HEAD;
        if (in_head) {
            /* Until the head is complete and checked, an error answer
             * knows nothing of the request (not even whether it is HEAD). */
            memset(&p->head, 0, sizeof p->head);
            p->head.minor = 1;
        }
        char *at = buf + total;
        size_t n = len - total;
        if (p->in_size_line && !scan_size_digits(p, at, n))
            return fail(p, ev, total, 400, "chunk size with too many digits");
        if (llhttp_get_errno(l) == HPE_PAUSED) llhttp_resume(l);
        llhttp_errno_t e = llhttp_execute(l, at, n);
        size_t used = n;
        if (e != HPE_OK && llhttp_get_error_pos(l)) used = (size_t)(llhttp_get_error_pos(l) - at);
        if (in_head) p->head_bytes += used;
        total += used;
        if (e == HPE_PAUSED_UPGRADE) {
            /* llhttp stops after a message that asked for Upgrade (h2c,
             * websocket).  No handler takes an upgrade, so the request was
             * answered as an ordinary one (RFC 9110 §7.8: a server may
             * ignore Upgrade) and what follows is HTTP/1 again. */
            llhttp_resume_after_upgrade(l);
            e = HPE_PAUSED;
        }
        if (e == HPE_PAUSED) {
            if (in_head && p->headers_done) {
                if (p->head_bytes > p->max_head_bytes) return fail(p, ev, total, 431, "request head too large");
                const char *why = "";
                int status = finish_head(p, &why);
                if (status) return fail(p, ev, total, status, why);
                p->phase = UW_H1_IN_BODY;
                ev->kind = UW_H1_HEAD;
                return total;
            }
            if (p->message_done) {
                p->message_done = p->headers_done = false;
                p->phase = UW_H1_IN_HEAD;
                p->head_bytes = 0;
                ev->kind = UW_H1_END;
                return total;
            }
            if (p->span_len) {
                ev->kind = UW_H1_BODY;
                ev->data = p->span;
                ev->len = p->span_len;
                p->span_len = 0;
                return total;
            }
            /* A pause with nothing to hand out (a chunk's end, an
             * upgrade): go on with the rest. */
            if (total == len) break;
            if (used == 0 && rounds > 8) return fail(p, ev, total, 400, "the parser made no progress");
            continue;
        }
        if (e != HPE_OK) {
            if (in_head && p->head_bytes > p->max_head_bytes) return fail(p, ev, total, 431, "request head too large");
            if (p->too_many_fields) return fail(p, ev, total, 431, "too many header fields");
            if (p->trailer_too_big) return fail(p, ev, total, 400, "trailer fields too large");
            return fail(p, ev, total, 400, llhttp_get_error_reason(l));
        }
        break;
    }
    if (p->phase == UW_H1_IN_HEAD && p->head_bytes > p->max_head_bytes)
        return fail(p, ev, total, 431, "request head too large");
    ev->kind = UW_H1_MORE;
    return total;
}

/* ------------------------------------------------------------ writing */

static inline char *put(char *o, const char *s, size_t n)
{
    memcpy(o, s, n);
    return o + n;
}
#define PUT_LIT(o, s) put((o), (s), sizeof(s) - 1)

static char *put_u64(char *o, uint64_t v)
{
    char tmp[20];
    size_t n = 0;
    do { tmp[n++] = (char)('0' + v % 10); v /= 10; } while (v);
    while (n) *o++ = tmp[--n];
    return o;
}

/* No printf: this runs once per response. */
size_t uw_h1_write_head(char *out, uw_h1_response *r)
{
    char *o = out;
    if (r->status == 200) {
        o = PUT_LIT(o, "HTTP/1.1 200 OK\r\nServer: uweb\r\n");
    } else {
        const char *reason = uw_http_reason(r->status);
        o = PUT_LIT(o, "HTTP/1.1 ");
        o = put_u64(o, (uint64_t)r->status);
        *o++ = ' ';
        o = put(o, reason, strlen(reason));
        o = PUT_LIT(o, "\r\nServer: uweb\r\n");
    }
    if (r->date) o = put(o, r->date, r->date_len);
    o = put(o, r->fields, r->fields_len);
    r->chunked = false;
    if (r->no_body) {
        /* no framing: the head is the whole message */
    } else if (r->has_length) {
        o = PUT_LIT(o, "Content-Length: ");
        o = put_u64(o, r->length);
        o = PUT_LIT(o, "\r\n");
    } else if (r->minor >= 1) {
        r->chunked = true;
        o = PUT_LIT(o, "Transfer-Encoding: chunked\r\n");
    } else {
        r->close = true;       /* HTTP/1.0: the end of the body is the close */
    }
    if (r->close)
        o = PUT_LIT(o, "Connection: close\r\n\r\n");
    else if (r->minor == 0)
        o = PUT_LIT(o, "Connection: keep-alive\r\n\r\n");
    else
        o = PUT_LIT(o, "\r\n");
    return (size_t)(o - out);
}

size_t uw_h1_chunk_head(char out[UW_H1_CHUNK_HEAD_MAX], size_t n)
{
    static const char hex[] = "0123456789abcdef";
    char tmp[16];
    size_t k = 0;
    do { tmp[k++] = hex[n & 15]; n >>= 4; } while (n);
    size_t o = 0;
    while (k) out[o++] = tmp[--k];
    out[o++] = '\r';
    out[o++] = '\n';
    return o;
}

size_t uw_h1_busy(char *out, size_t cap, const char *why)
{
    int n = snprintf(out, cap,
                     "HTTP/1.1 503 Service Unavailable\r\nServer: uweb\r\nContent-Type: text/plain; charset=utf-8\r\n"
                     "Content-Length: %zu\r\nConnection: close\r\nRetry-After: 1\r\n\r\n"
                     "503 Service Unavailable: %s\n", strlen(why) + 26, why);
    return n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap - 1;
}

static char *rebase(const char *p, const char *from, char *to)
{
    return p ? to + (p - from) : NULL;
}

void uw_h1_rebase(uw_h1_parser *p, const char *from, char *to)
{
    p->url = rebase(p->url, from, to);
    for (size_t i = 0; i < p->nfields; i++) {
        p->fields[i].name = rebase(p->fields[i].name, from, to);
        p->fields[i].value = rebase(p->fields[i].value, from, to);
    }
}
