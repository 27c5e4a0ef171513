/*
 * h1.h — the HTTP/1.1 engine: no I/O, no allocation.  Not a public
 * interface.
 *
 * Parsing (llhttp underneath): the caller hands in the bytes it has read
 * and gets back how many were consumed and one event —
 *
 *   UW_H1_MORE    everything consumed, nothing complete: read more
 *   UW_H1_HEAD    a request head, validated (p->head); the handler may run
 *   UW_H1_BODY    body bytes (ev.data, ev.len, inside the input); framing
 *                 bytes that count against a body limit add up in
 *                 p->body_extra (chunk extensions, leading zeros)
 *   UW_H1_END     the end of the message (the next bytes are a new request)
 *   UW_H1_ERROR   the input is not HTTP/1.1 as we serve it: answer
 *                 ev.status (400, 431, 417, 501, 505) with ev.why and close;
 *                 the parser takes nothing more
 *
 * — so a connection loop parses, acts on the event, and calls again with
 * the unconsumed rest.  The head is parsed in place: the method, target,
 * header names and values are NUL-terminated inside the input buffer, so
 * the bytes from the head's first byte on must stay where they are (the
 * caller may append after them) until the request ends.  The limits on
 * head bytes and header fields are the engine's (431); the result is the
 * same wherever the input is split.
 *
 * Writing: the status line and fields of a response, and chunked framing,
 * into a caller's buffer.
 */
#ifndef UWEB_H1_H
#define UWEB_H1_H

#include "http_internal.h"

#include <llhttp.h>

typedef enum uw_h1_event_kind {
    UW_H1_MORE, UW_H1_HEAD, UW_H1_BODY, UW_H1_END, UW_H1_ERROR,
} uw_h1_event_kind;

typedef struct uw_h1_event {
    uw_h1_event_kind kind;
    const char *data;           /* UW_H1_BODY */
    size_t len;
    int status;                 /* UW_H1_ERROR */
    const char *why;
} uw_h1_event;

/* A request head.  On a UW_H1_ERROR for a complete head (505, 417, 400
 * for a bad target, ...) method and minor are set; for an error inside
 * the head they are 0 and 1. */
typedef struct uw_h1_head {
    unsigned method;            /* UW_GET ... */
    const char *method_name;    /* "GET" (static) */
    int minor;                  /* HTTP/1.minor */
    char *path;                 /* NUL-terminated, without the query */
    size_t path_len;
    const char *query;          /* "" when none */
    uw_header *headers;
    size_t nheaders;
    int64_t content_length;     /* -1 when chunked */
    bool has_body, chunked;
    bool expect_continue;       /* HTTP/1.1 with Expect: 100-continue */
    bool keep_alive;            /* the client lets the connection go on */
} uw_h1_head;

typedef struct uw_h1_parser {
    llhttp_t llhttp;
    uw_h1_head head;
    uw_header *fields;          /* the caller's array of max_fields + 1 */
    size_t max_fields, nfields;
    size_t max_head_bytes, head_bytes, trailer_bytes;
    char *url;
    size_t url_len;
    const char *span;
    size_t span_len;
    enum { UW_H1_IN_HEAD, UW_H1_IN_BODY, UW_H1_FAILED } phase;
    enum { UW_H1_FIELD_BETWEEN, UW_H1_FIELD_NAME, UW_H1_FIELD_VALUE } field;
    bool headers_done, message_done, too_many_fields, trailer_too_big;
    /* the chunk-size line being parsed: its digits are counted before
     * llhttp sees them (llhttp has no callback for them) */
    bool in_size_line, size_nonzero, last_chunk;
    unsigned size_digits, size_zeros;
    size_t chunk_ext;
    uint64_t body_extra;        /* chunk extension bytes and leading zeros of this message */
} uw_h1_parser;

/* fields must hold max_fields + 1 entries and outlive the parser. */
void uw_h1_init(uw_h1_parser *p, uw_header *fields, size_t max_fields, size_t max_head_bytes);

/* Parses buf[0..len) (writable: the head is NUL-terminated in place).
 * Returns the bytes consumed; *ev tells what they ended with. */
size_t uw_h1_parse(uw_h1_parser *p, char *buf, size_t len, uw_h1_event *ev);

/* A response head to format. */
typedef struct uw_h1_response {
    int status;                 /* 100..999 */
    int minor;                  /* the request's */
    const char *date;           /* "Date: ...\r\n" or NULL */
    size_t date_len;
    const char *fields;         /* "Name: value\r\n"... */
    size_t fields_len;
    bool no_body;               /* 1xx, 204, 304: no framing field */
    bool has_length;            /* Content-Length: length; else streamed */
    uint64_t length;
    bool close;                 /* in: Connection: close; out: also when the
                                 * body must end with the connection (HTTP/1.0
                                 * stream) */
    bool chunked;               /* out: the body is chunked */
} uw_h1_response;

/* Bytes uw_h1_write_head may write. */
static inline size_t uw_h1_head_max(const uw_h1_response *r)
{
    return 256 + r->date_len + r->fields_len;
}
/* Writes the status line and fields; returns the length. */
size_t uw_h1_write_head(char *out, uw_h1_response *r);

#define UW_H1_CHUNK_HEAD_MAX 20
/* "<hex length>\r\n" before a chunk of n bytes; returns the length. */
size_t uw_h1_chunk_head(char out[UW_H1_CHUNK_HEAD_MAX], size_t n);
#define UW_H1_CHUNK_TAIL "\r\n"
#define UW_H1_LAST_CHUNK "0\r\n\r\n"
#define UW_H1_CONTINUE "HTTP/1.1 100 Continue\r\n\r\n"
/* The whole answer "503 ...: why" to a connection that gets no worker;
 * returns its length. */
size_t uw_h1_busy(char *out, size_t cap, const char *why);

/* Moves a head in progress: the bytes the parser consumed of the current
 * head were copied from `from` to `to` (the same offsets); its spans
 * follow.  p->fields must hold the same entries at its new place. */
void uw_h1_rebase(uw_h1_parser *p, const char *from, char *to);

#endif
