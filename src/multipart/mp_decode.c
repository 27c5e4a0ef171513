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
#include "../util/util.h"

enum { B64_DATA, B64_PAD };
enum { QP_TEXT, QP_EQ, QP_EQ_HEX, QP_EQ_WS, QP_EQ_CR };


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
        int v = uw__b64val(c);
        if (v >= 0 && mp->dec_state == B64_DATA) {
            acc = acc << 6 | (uint32_t)v;
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
            if ((h = uw__hexval(c)) >= 0) { mp->dec_acc = c; mp->dec_state = QP_EQ_HEX; i++; }
            else if (c == ' ' || c == '\t') { mp->dec_state = QP_EQ_WS; i++; }
            else if (c == '\r') { mp->dec_state = QP_EQ_CR; i++; }
            else if (c == '\n') { mp->dec_state = QP_TEXT; i++; }
            else { e = out_byte(o, '='); mp->dec_state = QP_TEXT; }   /* c again, as text */
            break;
        case QP_EQ_HEX:
            if ((h = uw__hexval(c)) >= 0) {
                e = out_byte(o, (unsigned char)(uw__hexval((unsigned char)mp->dec_acc) << 4 | h));
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
