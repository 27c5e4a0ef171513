/*
 * Content-Transfer-Encoding decoders of the multipart parser: base64 and
 * quoted-printable, one byte at a time with their state in the parser, so
 * any split of the input gives the same output.  Output collects in
 * mp->out and goes to part_data when full and at the end of each call.
 *
 * base64: whitespace is skipped; padding may be missing at the end of the
 * part; any other character, or data after padding, is an error.
 * quoted-printable (RFC 2045 6.7): "=XX" (either case), soft line breaks
 * "=" [spaces] CRLF, trailing spaces and tabs of a line removed; a "="
 * that starts no valid sequence is kept as it is.
 */
#include <string.h>

#include "mp_internal.h"

enum { B64_DATA, B64_PAD };
enum { QP_TEXT, QP_EQ, QP_EQ_HEX, QP_EQ_WS, QP_EQ_CR };

static const signed char b64_table[256] = {
    ['A'] = 1, ['B'] = 2, ['C'] = 3, ['D'] = 4, ['E'] = 5, ['F'] = 6, ['G'] = 7, ['H'] = 8,
    ['I'] = 9, ['J'] = 10, ['K'] = 11, ['L'] = 12, ['M'] = 13, ['N'] = 14, ['O'] = 15, ['P'] = 16,
    ['Q'] = 17, ['R'] = 18, ['S'] = 19, ['T'] = 20, ['U'] = 21, ['V'] = 22, ['W'] = 23, ['X'] = 24,
    ['Y'] = 25, ['Z'] = 26, ['a'] = 27, ['b'] = 28, ['c'] = 29, ['d'] = 30, ['e'] = 31, ['f'] = 32,
    ['g'] = 33, ['h'] = 34, ['i'] = 35, ['j'] = 36, ['k'] = 37, ['l'] = 38, ['m'] = 39, ['n'] = 40,
    ['o'] = 41, ['p'] = 42, ['q'] = 43, ['r'] = 44, ['s'] = 45, ['t'] = 46, ['u'] = 47, ['v'] = 48,
    ['w'] = 49, ['x'] = 50, ['y'] = 51, ['z'] = 52, ['0'] = 53, ['1'] = 54, ['2'] = 55, ['3'] = 56,
    ['4'] = 57, ['5'] = 58, ['6'] = 59, ['7'] = 60, ['8'] = 61, ['9'] = 62, ['+'] = 63, ['/'] = 64,
};   /* value + 1; 0 means "not in the alphabet" */

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

typedef struct outbuf {
    uw_mp_parser *mp;
    size_t n;
} outbuf;

static uw_mp_err out_flush(outbuf *o)
{
    size_t n = o->n;
    o->n = 0;
    return mp_deliver(o->mp, o->mp->out, n);
}

static uw_mp_err out_byte(outbuf *o, unsigned char c)
{
    o->mp->out[o->n++] = c;
    return o->n == sizeof o->mp->out ? out_flush(o) : UW_MP_OK;
}

void mp_decode_start(uw_mp_parser *mp)
{
    mp->dec_state = 0;
    mp->dec_acc = 0;
    mp->dec_count = 0;
    mp->dec_pending_len = 0;
}

static uw_mp_err b64(uw_mp_parser *mp, outbuf *o, const unsigned char *p, size_t n)
{
    uint32_t acc = mp->dec_acc, count = mp->dec_count;
    uw_mp_err e = UW_MP_OK;
    for (size_t i = 0; i < n && !e; i++) {
        unsigned char c = p[i];
        int v = b64_table[c];
        if (v && mp->dec_state == B64_DATA) {
            acc = acc << 6 | (uint32_t)(v - 1);
            if (++count == 4) {
                if ((e = out_byte(o, (unsigned char)(acc >> 16)))) break;
                if ((e = out_byte(o, (unsigned char)(acc >> 8)))) break;
                e = out_byte(o, (unsigned char)acc);
                acc = 0;
                count = 0;
            }
        } else if (c == '=') {
            if (mp->dec_state == B64_DATA) {
                if (count < 2) return mp_fail(mp, UW_MP_E_ENCODING);
                if ((e = out_byte(o, (unsigned char)(acc >> (count == 2 ? 4 : 10))))) break;
                if (count == 3) e = out_byte(o, (unsigned char)(acc >> 2));
                acc = 0;
                count = 0;
                mp->dec_state = B64_PAD;
            }
        } else if (c != '\r' && c != '\n' && c != ' ' && c != '\t') {
            return mp_fail(mp, UW_MP_E_ENCODING);
        }
    }
    mp->dec_acc = acc;
    mp->dec_count = count;
    return e;
}

static uw_mp_err flush_pending(uw_mp_parser *mp, outbuf *o)
{
    uw_mp_err e = UW_MP_OK;
    for (uint32_t i = 0; i < mp->dec_pending_len && !e; i++) e = out_byte(o, mp->dec_pending[i]);
    mp->dec_pending_len = 0;
    return e;
}

static uw_mp_err qp(uw_mp_parser *mp, outbuf *o, const unsigned char *p, size_t n)
{
    uw_mp_err e = UW_MP_OK;
    size_t i = 0;
    while (i < n && !e) {
        unsigned char c = p[i];
        int h;
        switch (mp->dec_state) {
        case QP_TEXT:
            i++;
            if (c == ' ' || c == '\t') {
                if (mp->dec_pending_len == sizeof mp->dec_pending) e = flush_pending(mp, o);
                mp->dec_pending[mp->dec_pending_len++] = c;
            } else if (c == '\r') {
                mp->dec_pending_len = 0;          /* trailing whitespace */
                e = out_byte(o, c);
            } else if (c == '=') {
                e = flush_pending(mp, o);
                mp->dec_state = QP_EQ;
            } else {
                if (!(e = flush_pending(mp, o))) e = out_byte(o, c);
            }
            break;
        case QP_EQ:
            if ((h = hexval(c)) >= 0) { mp->dec_acc = c; mp->dec_state = QP_EQ_HEX; i++; }
            else if (c == ' ' || c == '\t') { mp->dec_state = QP_EQ_WS; i++; }
            else if (c == '\r') { mp->dec_state = QP_EQ_CR; i++; }
            else if (c == '\n') { mp->dec_state = QP_TEXT; i++; }
            else { e = out_byte(o, '='); mp->dec_state = QP_TEXT; }   /* c again, as text */
            break;
        case QP_EQ_HEX:
            if ((h = hexval(c)) >= 0) {
                e = out_byte(o, (unsigned char)(hexval((unsigned char)mp->dec_acc) << 4 | h));
                i++;
            } else if (!(e = out_byte(o, '='))) {
                e = out_byte(o, (unsigned char)mp->dec_acc);
            }
            mp->dec_state = QP_TEXT;
            break;
        case QP_EQ_WS:
            if (c == ' ' || c == '\t') i++;
            else if (c == '\r') { mp->dec_state = QP_EQ_CR; i++; }
            else if (c == '\n') { mp->dec_state = QP_TEXT; i++; }
            else { e = out_byte(o, '='); mp->dec_state = QP_TEXT; }
            break;
        case QP_EQ_CR:
            if (c == '\n') i++;
            mp->dec_state = QP_TEXT;
            break;
        }
    }
    return e;
}

uw_mp_err mp_decode(uw_mp_parser *mp, const unsigned char *p, size_t n)
{
    outbuf o = { mp, 0 };
    uw_mp_err e;
    if (mp->levels[mp->level].part.encoding == UW_MP_ENC_BASE64) e = b64(mp, &o, p, n);
    else e = qp(mp, &o, p, n);
    if (e) return e;
    return out_flush(&o);
}

uw_mp_err mp_decode_end(uw_mp_parser *mp)
{
    outbuf o = { mp, 0 };
    uw_mp_err e = UW_MP_OK;
    if (mp->levels[mp->level].part.encoding == UW_MP_ENC_BASE64) {
        uint32_t acc = mp->dec_acc;
        if (mp->dec_count == 1) return mp_fail(mp, UW_MP_E_ENCODING);
        if (mp->dec_count >= 2) e = out_byte(&o, (unsigned char)(acc >> (mp->dec_count == 2 ? 4 : 10)));
        if (!e && mp->dec_count == 3) e = out_byte(&o, (unsigned char)(acc >> 2));
    } else {
        if (mp->dec_state == QP_EQ) e = out_byte(&o, '=');
        else if (mp->dec_state == QP_EQ_HEX && !(e = out_byte(&o, '=')))
            e = out_byte(&o, (unsigned char)mp->dec_acc);
        mp->dec_pending_len = 0;                  /* trailing whitespace of the last line */
    }
    mp_decode_start(mp);
    if (e) return e;
    return out_flush(&o);
}
