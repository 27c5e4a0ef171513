/*
 * ws.h — WebSockets (RFC 6455) with permessage-deflate (RFC 7692).
 *
 * Two layers.  The frame codec does no I/O: bytes in, events out (frames'
 * payload unmasked in place, control frames whole, every protocol error
 * as the close code RFC 6455 asks for), frame heads written into a
 * caller's buffer, the UTF-8 check of text messages (incremental, across
 * fragments), the handshake's accept key and permessage-deflate's
 * negotiation and zlib streams.  Above it, a WebSocket for handlers in
 * direct style:
 *
 *     static void echo(uw_req *req, uw_res *res)
 *     {
 *         uw_ws *ws;
 *         if (uw_ws_accept(req, res, &ws) != UW_OK) return;   // answered 400/426 already
 *         uw_ws_msg m;
 *         while (uw_ws_read(ws, &m, UW_FOREVER) == UW_OK)
 *             uw_ws_send(ws, m.type, m.data, m.len);
 *     }                                                       // closed and freed here
 *
 * uw_ws_accept answers the Upgrade (101, Sec-WebSocket-Accept, the
 * extension chosen) on HTTP/1.1, over plain TCP or TLS alike.  The
 * WebSocket belongs to the handler's task and lives until the handler
 * returns: then a close is sent if none was (1000, or 1001 when the
 * server stops) and everything is freed.  The request's strings and
 * arena stay valid meanwhile.
 *
 * Reads give whole messages (reassembled from fragments, inflated, text
 * checked as UTF-8) up to max_message bytes; pings are answered inside
 * uw_ws_read; a peer that sends a close gets the echo of its code and
 * uw_ws_read returns UW_ECLOSED (uw_ws_close_code says which).  Protocol
 * errors close with their code: 1002 (framing, an unmasked client
 * frame), 1007 (invalid UTF-8), 1009 (over a size limit).
 *
 * Liveness: the WebSocket is exempt from the HTTP io and idle timeouts.
 * When nothing arrived for ping_interval it sends a ping; when nothing
 * (no pong, no data) arrived ping_timeout after that, the connection is
 * dropped and uw_ws_read returns UW_ETIMEDOUT.
 *
 * Tasks: one task reads (the handler's).  uw_ws_send may be called by it,
 * or on plain TCP by another task too; frames never interleave.  Over
 * TLS, send from the reading task only (a TLS read may write: tickets,
 * alerts), as uw_ws_read_or_wake below allows.  A handler
 * that must wait for both the peer and other tasks (a chat room) passes
 * a wait queue to uw_ws_read_or_wake: it returns 1 when that queue was
 * woken, and the handler sends what the others queued.
 *
 * Memory per idle WebSocket (waiting with nothing buffered): the input
 * buffer is given back, so what stays is the handler's task and stack,
 * the worker's HTTP buffers (the task holds its worker), this record, and
 * with permessage-deflate and client context takeover an inflate window
 * (2^client_max_window_bits bytes plus ~7 KiB).  Compression never keeps
 * a deflate state between messages: the server does not take context
 * over (server_no_context_takeover is always in the answer), so a deflate
 * stream is made for a message and freed after.  See the README for the
 * measured figure.
 */
#ifndef UWEB_WS_H
#define UWEB_WS_H

#include <uweb/http.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------------------ codec */

enum uw_ws_opcode {
    UW_WS_CONT = 0x0, UW_WS_TEXT = 0x1, UW_WS_BINARY = 0x2,
    UW_WS_CLOSE = 0x8, UW_WS_PING = 0x9, UW_WS_PONG = 0xA,
};

/* Close codes (RFC 6455 §7.4.1). */
enum uw_ws_close_code {
    UW_WS_NORMAL = 1000, UW_WS_GOING_AWAY = 1001, UW_WS_PROTOCOL_ERROR = 1002,
    UW_WS_UNSUPPORTED_DATA = 1003, UW_WS_NO_STATUS = 1005, UW_WS_ABNORMAL = 1006,
    UW_WS_INVALID_DATA = 1007, UW_WS_POLICY = 1008, UW_WS_TOO_BIG = 1009,
    UW_WS_EXTENSION = 1010, UW_WS_INTERNAL_ERROR = 1011,
};

/* True for a code a peer may send in a close frame: 1000-1003,
 * 1007-1014, 3000-4999. */
bool uw_ws_close_code_valid(int code);

/* Incremental UTF-8 check (RFC 3629: no overlongs, no surrogates, at most
 * U+10FFFF).  State starts at 0; feed returns false at the first invalid
 * byte (the state is then sticky); a message is valid when every feed
 * returned true and uw_ws_utf8_complete holds at its end. */
bool uw_ws_utf8_feed(uint32_t *state, const uint8_t *s, size_t n);
static inline bool uw_ws_utf8_complete(uint32_t state) { return state == 0; }

typedef struct uw_ws_parser_config {
    bool server;                /* frames from a client: must be masked (else 1002);
                                 * false: from a server, must not be */
    bool rsv1;                  /* permessage-deflate was negotiated: RSV1 marks a
                                 * compressed message */
    uint64_t max_frame;         /* payload bytes of one frame, 0: none -> 1009 */
    uint64_t max_message;       /* payload bytes of one message on the wire, 0: none -> 1009 */
} uw_ws_parser_config;

typedef enum uw_ws_event_kind {
    UW_WS_EV_MORE,              /* everything consumed: read more */
    UW_WS_EV_DATA,              /* payload bytes of a data message */
    UW_WS_EV_CONTROL,           /* a whole control frame */
    UW_WS_EV_ERROR,             /* the peer broke the protocol: close with close_code */
} uw_ws_event_kind;

typedef struct uw_ws_event {
    uw_ws_event_kind kind;
    uint8_t opcode;             /* DATA: the message's (TEXT, BINARY); CONTROL: CLOSE, PING, PONG */
    bool compressed;            /* DATA: the message has RSV1 (inflate it) */
    bool frame_end;             /* DATA: the last bytes of this frame */
    bool message_end;           /* DATA: the last bytes of the message */
    const uint8_t *data;        /* DATA: inside the input, unmasked; CONTROL: the payload */
    size_t len;                 /* (a DATA event may be empty: an empty frame) */
    int close_code;             /* CONTROL CLOSE: its code (1005 when none); ERROR: the code to send */
    const char *why;            /* ERROR: for logs; CONTROL CLOSE: the reason (NUL-terminated) */
} uw_ws_event;

typedef struct uw_ws_parser {
    uw_ws_parser_config cfg;
    int state;
    uint8_t head[14];
    size_t head_len, head_need;
    uint8_t opcode, msg_opcode;
    bool fin, rsv1, masked, in_message, msg_compressed, failed;
    uint8_t mask[4];
    uint64_t frame_len, frame_done, message_len;
    uint32_t utf8;
    uint8_t ctl[126];           /* a control frame's payload (+ NUL for a reason) */
} uw_ws_parser;

void uw_ws_parser_init(uw_ws_parser *p, const uw_ws_parser_config *cfg);
/* Parses buf[0..len) (writable: payload is unmasked in place).  Returns
 * the bytes consumed; *ev says what they ended with.  After an ERROR the
 * parser takes nothing more.  The same events come out wherever the input
 * is split (DATA pieces follow the splits). */
size_t uw_ws_parse(uw_ws_parser *p, uint8_t *buf, size_t len, uw_ws_event *ev);
/* True between messages, with no byte of a frame head taken. */
static inline bool uw_ws_parser_between(const uw_ws_parser *p)
{
    return p->head_len == 0 && !p->in_message;
}

#define UW_WS_HEAD_MAX 14
/* Writes a frame head (mask: NULL for a server's frame).  Returns its length. */
size_t uw_ws_write_head(uint8_t out[UW_WS_HEAD_MAX], unsigned opcode, bool fin, bool rsv1,
                        uint64_t len, const uint8_t *mask);
/* XORs data with mask; offset is data's place in the payload. */
void uw_ws_mask(uint8_t *data, size_t len, const uint8_t mask[4], uint64_t offset);
/* A close frame's payload: code (0: none) and the reason cut to fit 123
 * bytes at a character boundary.  Returns its length. */
size_t uw_ws_close_payload(uint8_t out[125], int code, const char *reason);

/* Sec-WebSocket-Accept for a Sec-WebSocket-Key (base64 of SHA-1 of key
 * and the RFC's GUID): 28 characters and a NUL. */
void uw_ws_accept_key(const char *key, char out[29]);
/* SHA-1 (FIPS 180-4), for the handshake. */
void uw_ws_sha1(const void *data, size_t len, uint8_t out[20]);

/* permessage-deflate parameters, as agreed. */
typedef struct uw_ws_pmd {
    bool server_no_context_takeover, client_no_context_takeover;
    int server_max_window_bits, client_max_window_bits;    /* 9..15 */
} uw_ws_pmd;

/* Picks the first acceptable permessage-deflate offer of the
 * Sec-WebSocket-Extensions values (n field values, each a list of
 * offers).  client_bits caps the client's window when it lets us (its
 * offer has client_max_window_bits); the server always answers
 * server_no_context_takeover.  Returns true with *out and the answer's
 * value in resp ("permessage-deflate; ..."), false when no offer can be
 * accepted (or none was made). */
bool uw_ws_pmd_negotiate(const char *const *values, size_t n, int client_bits,
                         uw_ws_pmd *out, char *resp, size_t cap);

/* Inflates one message's compressed pieces in turn (no I/O): the output
 * goes to sink in pieces, the end of the message adds RFC 7692's 00 00 ff
 * ff tail.  The stream is kept across messages unless
 * client_no_context_takeover (then reset).  UW_OK, UW_EPROTO for a bad
 * stream, UW_ENOMEM, or what sink returned. */
typedef int (*uw_ws_sink)(void *arg, const uint8_t *p, size_t n);
typedef struct uw_ws_inflater uw_ws_inflater;
uw_ws_inflater *uw_ws_inflater_new(const uw_ws_pmd *pmd);
int uw_ws_inflate(uw_ws_inflater *f, const uint8_t *in, size_t len, bool message_end,
                  uw_ws_sink sink, void *arg);
/* Frees the window while idle (no context takeover: nothing is lost). */
void uw_ws_inflater_idle(uw_ws_inflater *f);
void uw_ws_inflater_free(uw_ws_inflater *f);
/* Compresses one whole message with a fresh stream (the server takes no
 * context over) into sink, without the 00 00 ff ff tail.  level: zlib's
 * 1..9.  UW_OK, UW_ENOMEM or what sink returned. */
int uw_ws_deflate_message(const uw_ws_pmd *pmd, int level, const void *in, size_t len,
                          uw_ws_sink sink, void *arg);

/* ------------------------------------------------------------ WebSocket */

typedef struct uw_ws uw_ws;

typedef struct uw_ws_options {
    uint64_t max_message;       /* bytes of a message after inflating, default 16 MiB -> 1009 */
    uint64_t max_frame;         /* payload bytes of one frame, default max_message -> 1009 */
    int64_t ping_interval;      /* ping after this long without input, default 30 s; <0: never */
    int64_t ping_timeout;       /* drop when nothing came this long after the ping, default 20 s */
    int64_t write_timeout;      /* one frame's write, default 30 s; then the connection is dropped */
    int64_t close_timeout;      /* wait for the peer's close after ours, default 5 s */
    bool no_compression;        /* refuse permessage-deflate (default: accepted when offered) */
    int compression_level;      /* zlib level, default 6 */
    size_t compress_min;        /* messages shorter are sent uncompressed, default 128 */
    int client_max_window_bits; /* the client's window when it lets us choose, default 15 */
    const char *protocol;       /* Sec-WebSocket-Protocol to accept when offered, NULL: none */
} uw_ws_options;

void uw_ws_options_default(uw_ws_options *o);

/* Answers the request's Upgrade to WebSocket.  UW_OK with *ws, or a
 * negative status after answering: 400 (not a valid handshake), 426 (no
 * Upgrade: websocket; Sec-WebSocket-Version: 13), UW_EPROTO when the
 * protocol cannot upgrade (HTTP/2), UW_ENOMEM (500).  opt NULL: the
 * defaults. */
int uw_ws_accept(uw_req *req, uw_res *res, uw_ws **ws);
int uw_ws_accept_opts(uw_req *req, uw_res *res, uw_ws **ws, const uw_ws_options *opt);

/* True when the request asks for a WebSocket (GET with Upgrade: websocket). */
bool uw_ws_requested(const uw_req *req);

typedef struct uw_ws_msg {
    uint8_t type;               /* UW_WS_TEXT or UW_WS_BINARY */
    const uint8_t *data;        /* valid until the next read; a text message is NUL-terminated */
    size_t len;
} uw_ws_msg;

/* Waits for the next whole message.  UW_OK; UW_ECLOSED once closed (by
 * the peer: see uw_ws_close_code; by a protocol error: closed with its
 * code; after uw_ws_close); UW_ETIMEDOUT at the deadline (the WebSocket
 * stays usable; a message half read goes on at the next call) or when the
 * peer stopped answering pings (then closed); UW_ECANCELED. */
int uw_ws_read(uw_ws *ws, uw_ws_msg *m, int64_t deadline);
/* The same, and returns 1 as soon as wake is woken (uw_wake_one/all, or a
 * uw_queue_put on a queue whose readers wait queue it is; only this task
 * may wait on it), or after a wait ended for data that made no whole
 * message yet: the caller then looks at what it was woken for, and
 * calls again. */
int uw_ws_read_or_wake(uw_ws *ws, uw_ws_msg *m, uw_waitq *wake, int64_t deadline);

/* Sends one message (UW_WS_TEXT: data must be UTF-8, the caller's
 * business), compressed when negotiated and long enough.  UW_OK,
 * UW_ECLOSED after a close, UW_ETIMEDOUT (write_timeout: dropped),
 * UW_EINVAL. */
int uw_ws_send(uw_ws *ws, unsigned type, const void *data, size_t len);
int uw_ws_send_text(uw_ws *ws, const char *text);
/* A ping with up to 125 bytes of payload (its pong counts as liveness). */
int uw_ws_ping(uw_ws *ws, const void *data, size_t len);
/* Starts the closing handshake with code and reason (NULL: none), waits
 * for the peer's close up to close_timeout, then the connection ends.
 * Later reads return UW_ECLOSED.  UW_OK or the write's status. */
int uw_ws_close(uw_ws *ws, int code, const char *reason);

/* The peer's close code (UW_WS_NO_STATUS when it sent none,
 * UW_WS_ABNORMAL when the connection ended without one, 0 while open),
 * and its reason (""). */
int uw_ws_close_code(const uw_ws *ws);
const char *uw_ws_close_reason(const uw_ws *ws);
/* Whether permessage-deflate was agreed; the subprotocol (NULL when none). */
bool uw_ws_compressed(const uw_ws *ws);
const char *uw_ws_protocol(const uw_ws *ws);

#endif
