/*
 * The WebSocket frame codec: the parser (bytes in, events out, no I/O),
 * frame heads, masking, close payloads, and the UTF-8 check of text.
 */
#include <uweb/ws.h>

#include <string.h>

enum { ST_HEAD, ST_DATA, ST_CONTROL, ST_FAILED };

bool uw_ws_close_code_valid(int code)
{
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

/* The state is the number of continuation bytes still expected (bits
 * 0-1) and, for the next byte only, its allowed range (bits 8-15: low,
 * 16-23: high); 0xffffffff once invalid. */
#define UTF8_BAD 0xffffffffu

bool uw_ws_utf8_feed(uint32_t *state, const uint8_t *s, size_t n)
{
    uint32_t st = *state;
    if (st == UTF8_BAD) return false;
    size_t i = 0;
    for (;;) {
        if (st == 0) {
            /* fast path over ASCII, 8 bytes at a time */
            while (i + 8 <= n) {
                uint64_t w;
                memcpy(&w, s + i, 8);
                if (w & 0x8080808080808080ull) break;
                i += 8;
            }
            while (i < n && s[i] < 0x80) i++;
            if (i == n) break;
        }
        if (i == n) break;
        uint8_t c = s[i++];
        if (st == 0) {
            uint32_t need, lo = 0x80, hi = 0xbf;
            if (c < 0xc2) { st = UTF8_BAD; break; }
            else if (c < 0xe0) need = 1;
            else if (c < 0xf0) {
                need = 2;
                if (c == 0xe0) lo = 0xa0;           /* overlong */
                else if (c == 0xed) hi = 0x9f;      /* surrogates */
            } else if (c < 0xf5) {
                need = 3;
                if (c == 0xf0) lo = 0x90;           /* overlong */
                else if (c == 0xf4) hi = 0x8f;      /* past U+10FFFF */
            } else { st = UTF8_BAD; break; }
            st = need | lo << 8 | hi << 16;
        } else {
            uint32_t lo = (st >> 8) & 0xff, hi = (st >> 16) & 0xff;
            if (c < lo || c > hi) { st = UTF8_BAD; break; }
            uint32_t need = (st & 3) - 1;
            st = need ? need | 0x80u << 8 | 0xbfu << 16 : 0;
        }
    }
    *state = st;
    return st != UTF8_BAD;
}

void uw_ws_parser_init(uw_ws_parser *p, const uw_ws_parser_config *cfg)
{
    memset(p, 0, sizeof *p);
    p->cfg = *cfg;
    p->state = ST_HEAD;
    p->head_need = 2;
}

/* The next bytes start a frame head. */
static void next_frame(uw_ws_parser *p)
{
    p->state = ST_HEAD;
    p->head_len = 0;
    p->head_need = 2;
}

static size_t fail(uw_ws_parser *p, uw_ws_event *ev, size_t used, int code, const char *why)
{
    p->state = ST_FAILED;
    p->failed = true;
    ev->kind = UW_WS_EV_ERROR;
    ev->close_code = code;
    ev->why = why;
    return used;
}

static uint64_t be(const uint8_t *b, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) v = v << 8 | b[i];
    return v;
}

/* The head is complete: checks it and moves to the payload.  NULL when
 * fine, else why (with *code). */
static const char *head_done(uw_ws_parser *p, int *code)
{
    const uint8_t *h = p->head;
    uint8_t len7 = h[1] & 0x7f;
    p->frame_len = len7 == 126 ? be(h + 2, 2) : len7 == 127 ? be(h + 2, 8) : len7;
    *code = UW_WS_PROTOCOL_ERROR;
    if (len7 == 126 && p->frame_len < 126) return "length not in its shortest form";
    if (len7 == 127 && p->frame_len <= 0xffff) return "length not in its shortest form";
    if (len7 == 127 && (p->frame_len >> 63)) return "length with its top bit set";
    if (p->masked) memcpy(p->mask, h + p->head_len - 4, 4);
    p->frame_done = 0;
    if (p->opcode >= 8) {
        p->state = ST_CONTROL;
        return NULL;
    }
    *code = UW_WS_TOO_BIG;
    if (p->cfg.max_frame && p->frame_len > p->cfg.max_frame) return "frame larger than the limit";
    if (p->cfg.max_message && p->message_len + p->frame_len > p->cfg.max_message)
        return "message larger than the limit";
    p->message_len += p->frame_len;
    p->state = ST_DATA;
    return NULL;
}

/* The first two bytes: what the rest of the head holds, and the rules on
 * opcodes, RSV bits, masking and fragmentation. */
static const char *head_start(uw_ws_parser *p)
{
    uint8_t b0 = p->head[0], b1 = p->head[1];
    p->fin = b0 & 0x80;
    p->rsv1 = b0 & 0x40;
    p->opcode = b0 & 0x0f;
    p->masked = b1 & 0x80;
    if (b0 & 0x30) return "RSV2 or RSV3 set";
    if (p->rsv1 && !p->cfg.rsv1) return "RSV1 set without an extension";
    if (p->masked != p->cfg.server) return p->cfg.server ? "unmasked frame from a client" : "masked frame from a server";
    switch (p->opcode) {
    case UW_WS_CONT:
        if (!p->in_message) return "continuation without a message";
        if (p->rsv1) return "RSV1 on a continuation";
        break;
    case UW_WS_TEXT: case UW_WS_BINARY:
        if (p->in_message) return "new message inside a fragmented one";
        p->in_message = true;
        p->msg_opcode = p->opcode;
        p->msg_compressed = p->rsv1;
        p->message_len = 0;
        p->utf8 = 0;
        break;
    case UW_WS_CLOSE: case UW_WS_PING: case UW_WS_PONG:
        if (!p->fin) return "fragmented control frame";
        if (p->rsv1) return "RSV1 on a control frame";
        if ((b1 & 0x7f) > 125) return "control frame longer than 125 bytes";
        break;
    default:
        return "reserved opcode";
    }
    uint8_t len7 = b1 & 0x7f;
    p->head_need = 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) + (p->masked ? 4 : 0);
    return NULL;
}

/* A whole control frame: a close's code and reason are checked. */
static size_t control_done(uw_ws_parser *p, uw_ws_event *ev, size_t used)
{
    size_t n = (size_t)p->frame_len;
    p->ctl[n] = 0;
    next_frame(p);
    ev->kind = UW_WS_EV_CONTROL;
    ev->opcode = p->opcode;
    ev->data = p->ctl;
    ev->len = n;
    ev->close_code = 0;
    ev->why = "";
    if (p->opcode == UW_WS_CLOSE) {
        if (n == 1) return fail(p, ev, used, UW_WS_PROTOCOL_ERROR, "close payload of one byte");
        ev->close_code = UW_WS_NO_STATUS;
        if (n >= 2) {
            int code = p->ctl[0] << 8 | p->ctl[1];
            if (!uw_ws_close_code_valid(code)) return fail(p, ev, used, UW_WS_PROTOCOL_ERROR, "invalid close code");
            uint32_t st = 0;
            if (!uw_ws_utf8_feed(&st, p->ctl + 2, n - 2) || !uw_ws_utf8_complete(st))
                return fail(p, ev, used, UW_WS_INVALID_DATA, "close reason is not UTF-8");
            ev->close_code = code;
            ev->why = (const char *)p->ctl + 2;
        }
        p->state = ST_FAILED;       /* nothing may follow a close */
    }
    return used;
}

size_t uw_ws_parse(uw_ws_parser *p, uint8_t *buf, size_t len, uw_ws_event *ev)
{
    size_t pos = 0;
    memset(ev, 0, sizeof *ev);
    for (;;) {
        switch (p->state) {
        case ST_FAILED:
            ev->kind = UW_WS_EV_ERROR;
            ev->close_code = UW_WS_PROTOCOL_ERROR;
            ev->why = p->failed ? "after an error" : "data after a close";
            return pos;
        case ST_HEAD: {
            while (p->head_len < p->head_need && pos < len) {
                p->head[p->head_len++] = buf[pos++];
                if (p->head_len == 2) {
                    const char *why = head_start(p);
                    if (why) return fail(p, ev, pos, UW_WS_PROTOCOL_ERROR, why);
                }
            }
            if (p->head_len < p->head_need) {
                ev->kind = UW_WS_EV_MORE;
                return pos;
            }
            int code;
            const char *why = head_done(p, &code);
            if (why) return fail(p, ev, pos, code, why);
            if (p->state == ST_DATA && p->frame_len == 0) {
                /* an empty frame: one empty DATA event */
                next_frame(p);
                ev->kind = UW_WS_EV_DATA;
                ev->opcode = p->msg_opcode;
                ev->compressed = p->msg_compressed;
                ev->frame_end = true;
                ev->message_end = p->fin;
                ev->data = buf + pos;
                if (p->fin) {
                    p->in_message = false;
                    if (p->msg_opcode == UW_WS_TEXT && !p->msg_compressed && !uw_ws_utf8_complete(p->utf8))
                        return fail(p, ev, pos, UW_WS_INVALID_DATA, "text message ends inside a character");
                }
                return pos;
            }
            if (p->state == ST_CONTROL && p->frame_len == 0) return control_done(p, ev, pos);
            break;
        }
        case ST_CONTROL: {
            size_t want = (size_t)(p->frame_len - p->frame_done), k = len - pos < want ? len - pos : want;
            memcpy(p->ctl + p->frame_done, buf + pos, k);
            if (p->masked) uw_ws_mask(p->ctl + p->frame_done, k, p->mask, p->frame_done);
            p->frame_done += k;
            pos += k;
            if (p->frame_done < p->frame_len) {
                ev->kind = UW_WS_EV_MORE;
                return pos;
            }
            return control_done(p, ev, pos);
        }
        case ST_DATA: {
            uint64_t want = p->frame_len - p->frame_done;
            size_t k = (uint64_t)(len - pos) < want ? len - pos : (size_t)want;
            if (k == 0) {
                ev->kind = UW_WS_EV_MORE;
                return pos;
            }
            uint8_t *d = buf + pos;
            if (p->masked) uw_ws_mask(d, k, p->mask, p->frame_done);
            p->frame_done += k;
            pos += k;
            ev->kind = UW_WS_EV_DATA;
            ev->opcode = p->msg_opcode;
            ev->compressed = p->msg_compressed;
            ev->data = d;
            ev->len = k;
            ev->frame_end = p->frame_done == p->frame_len;
            ev->message_end = ev->frame_end && p->fin;
            if (p->msg_opcode == UW_WS_TEXT && !p->msg_compressed) {
                if (!uw_ws_utf8_feed(&p->utf8, d, k))
                    return fail(p, ev, pos, UW_WS_INVALID_DATA, "text message is not UTF-8");
                if (ev->message_end && !uw_ws_utf8_complete(p->utf8))
                    return fail(p, ev, pos, UW_WS_INVALID_DATA, "text message ends inside a character");
            }
            if (ev->frame_end) {
                next_frame(p);
                if (p->fin) p->in_message = false;
            }
            return pos;
        }
        }
    }
}

size_t uw_ws_write_head(uint8_t out[UW_WS_HEAD_MAX], unsigned opcode, bool fin, bool rsv1,
                        uint64_t len, const uint8_t *mask)
{
    size_t n = 0;
    out[n++] = (uint8_t)((fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | (opcode & 0x0f));
    uint8_t m = mask ? 0x80 : 0;
    if (len < 126) {
        out[n++] = m | (uint8_t)len;
    } else if (len <= 0xffff) {
        out[n++] = m | 126;
        out[n++] = (uint8_t)(len >> 8);
        out[n++] = (uint8_t)len;
    } else {
        out[n++] = m | 127;
        for (int i = 7; i >= 0; i--) out[n++] = (uint8_t)(len >> (8 * i));
    }
    if (mask) {
        memcpy(out + n, mask, 4);
        n += 4;
    }
    return n;
}

void uw_ws_mask(uint8_t *data, size_t len, const uint8_t mask[4], uint64_t offset)
{
    size_t i = 0;
    unsigned o = (unsigned)(offset & 3);
    /* head bytes until the mask lines up, then 8 at a time */
    while (i < len && ((o + i) & 3)) { data[i] ^= mask[(o + i) & 3]; i++; }
    if (len - i >= 8) {
        uint32_t m4;
        memcpy(&m4, mask, 4);
        uint64_t m8 = (uint64_t)m4 << 32 | m4;
        for (; i + 8 <= len; i += 8) {
            uint64_t w;
            memcpy(&w, data + i, 8);
            w ^= m8;
            memcpy(data + i, &w, 8);
        }
    }
    for (; i < len; i++) data[i] ^= mask[(o + i) & 3];
}

size_t uw_ws_close_payload(uint8_t out[125], int code, const char *reason)
{
    if (!code) return 0;
    out[0] = (uint8_t)(code >> 8);
    out[1] = (uint8_t)code;
    size_t n = reason ? strlen(reason) : 0;
    if (n > 123) {
        n = 123;
        while (n > 0 && ((uint8_t)reason[n] & 0xc0) == 0x80) n--;   /* a character boundary */
    }
    if (n) memcpy(out + 2, reason, n);
    return 2 + n;
}
