/*
 * The WebSocket frame codec (src/ws): RFC 6455's examples, every split
 * point, the protocol errors and their close codes, UTF-8 across
 * fragments, SHA-1 and the accept key, permessage-deflate's negotiation
 * and RFC 7692's example, deflate round trips.
 */
#include "../check.h"
#include <uweb/ws.h>

#include <stdlib.h>
#include <string.h>

static const uw_ws_parser_config SERVER = { .server = true };
static const uw_ws_parser_config CLIENT = { .server = false };

/* Parses in (copied: it is unmasked in place) in pieces of `step` bytes;
 * gathers the data of messages, control frames, the first error. */
typedef struct result {
    char data[70000];
    size_t len;
    int messages, controls, last_opcode;
    int error;                  /* close code, 0: none */
    char ctl[200];
    int close_code;
} result;

static void run(const uw_ws_parser_config *cfg, const uint8_t *in, size_t n, size_t step, result *r)
{
    memset(r, 0, sizeof *r);
    uw_ws_parser p;
    uw_ws_parser_init(&p, cfg);
    uint8_t *buf = malloc(n ? n : 1);
    memcpy(buf, in, n);
    size_t pos = 0;
    while (pos < n || n == 0) {
        size_t end = step && pos + step < n ? pos + step : n;
        size_t at = pos;
        while (at < end) {
            uw_ws_event ev;
            at += uw_ws_parse(&p, buf + at, end - at, &ev);
            if (ev.kind == UW_WS_EV_ERROR) {
                r->error = ev.close_code;
                free(buf);
                return;
            }
            if (ev.kind == UW_WS_EV_DATA) {
                memcpy(r->data + r->len, ev.data, ev.len);
                r->len += ev.len;
                r->last_opcode = ev.opcode;
                if (ev.message_end) r->messages++;
            }
            if (ev.kind == UW_WS_EV_CONTROL) {
                r->controls++;
                r->last_opcode = ev.opcode;
                memcpy(r->ctl, ev.data, ev.len);
                r->ctl[ev.len] = 0;
                r->close_code = ev.close_code;
            }
            if (ev.kind == UW_WS_EV_MORE) break;
        }
        pos = end;
        if (n == 0) break;
    }
    free(buf);
}

/* Every split: whole, and pieces of 1..n bytes; all must agree. */
static void run_all(const uw_ws_parser_config *cfg, const uint8_t *in, size_t n, result *r)
{
    run(cfg, in, n, 0, r);
    result *o = malloc(sizeof *o);
    for (size_t step = 1; step < n && step < 40; step++) {
        run(cfg, in, n, step, o);
        CHECK_EQ_INT(o->error, r->error);
        CHECK_EQ_INT(o->messages, r->messages);
        CHECK_EQ_MEM(o->data, o->len, r->data, r->len);
    }
    free(o);
}

static void test_rfc_examples(void)
{
    result *r = malloc(sizeof *r);
    /* RFC 6455 §5.7: unmasked "Hello" from a server */
    static const uint8_t a[] = { 0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f };
    run_all(&CLIENT, a, sizeof a, r);
    CHECK_EQ_INT(r->error, 0);
    CHECK_EQ_INT(r->messages, 1);
    CHECK_EQ_MEM(r->data, r->len, "Hello", 5);
    /* masked "Hello" from a client */
    static const uint8_t b[] = { 0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58 };
    run_all(&SERVER, b, sizeof b, r);
    CHECK_EQ_INT(r->error, 0);
    CHECK_EQ_MEM(r->data, r->len, "Hello", 5);
    /* fragmented "Hel" "lo" */
    static const uint8_t c[] = { 0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f };
    run_all(&CLIENT, c, sizeof c, r);
    CHECK_EQ_INT(r->messages, 1);
    CHECK_EQ_MEM(r->data, r->len, "Hello", 5);
    /* ping "Hello" and 256 bytes binary with a 16-bit length */
    static const uint8_t d[] = { 0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f };
    run_all(&CLIENT, d, sizeof d, r);
    CHECK_EQ_INT(r->controls, 1);
    CHECK_EQ_INT(r->last_opcode, UW_WS_PING);
    CHECK_EQ_STR(r->ctl, "Hello");
    uint8_t e[4 + 256] = { 0x82, 0x7e, 0x01, 0x00 };
    for (int i = 0; i < 256; i++) e[4 + i] = (uint8_t)i;
    run_all(&CLIENT, e, sizeof e, r);
    CHECK_EQ_INT(r->messages, 1);
    CHECK_EQ_INT(r->len, 256);
    CHECK_EQ_MEM(r->data, r->len, e + 4, 256);
    free(r);
}

/* A frame from a client: head, mask, masked payload. */
static size_t client_frame(uint8_t *out, unsigned op, bool fin, bool rsv1, const void *data, size_t n)
{
    static const uint8_t mask[4] = { 0x11, 0x22, 0x33, 0x44 };
    size_t h = uw_ws_write_head(out, op, fin, rsv1, n, mask);
    memcpy(out + h, data, n);
    uw_ws_mask(out + h, n, mask, 0);
    return h + n;
}

static void test_write_and_parse(void)
{
    result *r = malloc(sizeof *r);
    static uint8_t big[70000], frame[70100];
    for (size_t i = 0; i < sizeof big; i++) big[i] = (uint8_t)(i * 7);
    size_t sizes[] = { 0, 1, 125, 126, 127, 65535, 65536, 69999 };
    for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
        size_t n = client_frame(frame, UW_WS_BINARY, true, false, big, sizes[k]);
        run(&SERVER, frame, n, 0, r);
        CHECK_EQ_INT(r->error, 0);
        CHECK_EQ_INT(r->messages, 1);
        CHECK_EQ_MEM(r->data, r->len, big, sizes[k]);
        run(&SERVER, frame, n, 3, r);
        CHECK_EQ_MEM(r->data, r->len, big, sizes[k]);
        /* server frames: unmasked */
        size_t h = uw_ws_write_head(frame, UW_WS_TEXT, true, false, sizes[k], NULL);
        CHECK_EQ_INT(h, sizes[k] < 126 ? 2 : sizes[k] <= 65535 ? 4 : 10);
    }
    free(r);
}

static void test_errors(void)
{
    result *r = malloc(sizeof *r);
    uint8_t f[300];
    size_t n;
    /* unmasked frame from a client: 1002 */
    static const uint8_t unmasked[] = { 0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f };
    run_all(&SERVER, unmasked, sizeof unmasked, r);
    CHECK_EQ_INT(r->error, UW_WS_PROTOCOL_ERROR);
    /* RSV2, reserved opcodes, RSV1 without an extension */
    n = client_frame(f, UW_WS_TEXT, true, false, "a", 1);
    f[0] |= 0x20;
    run_all(&SERVER, f, n, r);
    CHECK_EQ_INT(r->error, UW_WS_PROTOCOL_ERROR);
    n = client_frame(f, 0x3, true, false, "a", 1);
    run_all(&SERVER, f, n, r);
    CHECK_EQ_INT(r->error, UW_WS_PROTOCOL_ERROR);
    n = client_frame(f, 0xB, true, false, "a", 1);
    run_all(&SERVER, f, n, r);
    CHECK_EQ_INT(r->error, UW_WS_PROTOCOL_ERROR);
    n = client_frame(f, UW_WS_TEXT, true, true, "a", 1);
    run_all(&SERVER, f, n, r);
    CHECK_EQ_INT(r->error, UW_WS_PROTOCOL_ERROR);
    /* fragmented ping; ping over 125 bytes */
    n = client_frame(f, UW_WS_PING, false, false, "a", 1);
    run_all(&SERVER, f, n, r);
    CHECK_EQ_INT(r->error, UW_WS_PROTOCOL_ERROR);
    uint8_t xs[126];
    memset(xs, 'x', sizeof xs);
    n = client_frame(f, UW_WS_PING, true, false, xs, sizeof xs);
    run_all(&SERVER, f, n, r);
    CHECK_EQ_INT(r->error, UW_WS_PROTOCOL_ERROR);
    /* continuation without a message; a new message inside one */
    n = client_frame(f, UW_WS_CONT, true, false, "a", 1);
    run_all(&SERVER, f, n, r);
    CHECK_EQ_INT(r->error, UW_WS_PROTOCOL_ERROR);
    n = client_frame(f, UW_WS_TEXT, false, false, "a", 1);
    n += client_frame(f + n, UW_WS_TEXT, true, false, "b", 1);
    run_all(&SERVER, f, n, r);
    CHECK_EQ_INT(r->error, UW_WS_PROTOCOL_ERROR);
    /* a ping between fragments is fine */
    n = client_frame(f, UW_WS_TEXT, false, false, "ab", 2);
    n += client_frame(f + n, UW_WS_PING, true, false, "p", 1);
    n += client_frame(f + n, UW_WS_CONT, true, false, "cd", 2);
    run_all(&SERVER, f, n, r);
    CHECK_EQ_INT(r->error, 0);
    CHECK_EQ_INT(r->messages, 1);
    CHECK_EQ_INT(r->controls, 1);
    CHECK_EQ_MEM(r->data, r->len, "abcd", 4);
    /* a length not in its shortest form */
    static const uint8_t longlen[] = { 0x82, 0xfe, 0x00, 0x05, 1, 2, 3, 4, 0, 0, 0, 0, 0 };
    run_all(&SERVER, longlen, sizeof longlen, r);
    CHECK_EQ_INT(r->error, UW_WS_PROTOCOL_ERROR);
    /* limits: 1009 */
    uw_ws_parser_config lim = { .server = true, .max_frame = 10, .max_message = 15 };
    n = client_frame(f, UW_WS_BINARY, true, false, "0123456789a", 11);
    run_all(&lim, f, n, r);
    CHECK_EQ_INT(r->error, UW_WS_TOO_BIG);
    n = client_frame(f, UW_WS_BINARY, false, false, "0123456789", 10);
    n += client_frame(f + n, UW_WS_CONT, true, false, "012345", 6);
    run_all(&lim, f, n, r);
    CHECK_EQ_INT(r->error, UW_WS_TOO_BIG);
    /* close frames: code and reason; one byte; bad code; bad reason */
    uint8_t pl[125];
    size_t pn = uw_ws_close_payload(pl, 1000, "bye");
    n = client_frame(f, UW_WS_CLOSE, true, false, pl, pn);
    run_all(&SERVER, f, n, r);
    CHECK_EQ_INT(r->error, 0);
    CHECK_EQ_INT(r->close_code, 1000);
    n = client_frame(f, UW_WS_CLOSE, true, false, "", 0);
    run_all(&SERVER, f, n, r);
    CHECK_EQ_INT(r->close_code, UW_WS_NO_STATUS);
    n = client_frame(f, UW_WS_CLOSE, true, false, "\x03", 1);
    run_all(&SERVER, f, n, r);
    CHECK_EQ_INT(r->error, UW_WS_PROTOCOL_ERROR);
    pn = uw_ws_close_payload(pl, 1005, NULL);
    n = client_frame(f, UW_WS_CLOSE, true, false, pl, pn);
    run_all(&SERVER, f, n, r);
    CHECK_EQ_INT(r->error, UW_WS_PROTOCOL_ERROR);
    n = client_frame(f, UW_WS_CLOSE, true, false, "\x03\xe8\xff", 3);
    run_all(&SERVER, f, n, r);
    CHECK_EQ_INT(r->error, UW_WS_INVALID_DATA);
    free(r);
}

static void test_utf8(void)
{
    struct { const char *s; bool ok; } v[] = {
        { "", true }, { "hello", true }, { "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5", true },
        { "\xf0\x9f\x98\x80", true }, { "\xf4\x8f\xbf\xbf", true }, { "\xef\xbf\xbf", true },
        { "\xc0\xaf", false }, { "\xe0\x80\xaf", false }, { "\xed\xa0\x80", false },
        { "\xf4\x90\x80\x80", false }, { "\xf5\x80\x80\x80", false }, { "\x80", false },
        { "\xce", false }, { "\xf0\x9f\x98", false }, { "a\xffz", false },
    };
    result *r = malloc(sizeof *r);
    for (size_t i = 0; i < sizeof v / sizeof *v; i++) {
        const uint8_t *s = (const uint8_t *)v[i].s;
        size_t n = strlen(v[i].s);
        uint32_t st = 0;
        bool ok = uw_ws_utf8_feed(&st, s, n) && uw_ws_utf8_complete(st);
        CHECK(ok == v[i].ok);
        /* byte by byte */
        st = 0;
        bool ok2 = true;
        for (size_t k = 0; k < n; k++) ok2 = ok2 && uw_ws_utf8_feed(&st, s + k, 1);
        CHECK((ok2 && uw_ws_utf8_complete(st)) == v[i].ok);
        /* as a text message split in two fragments at every point */
        for (size_t cut = 0; cut <= n; cut++) {
            uint8_t f[64];
            size_t fn = client_frame(f, UW_WS_TEXT, false, false, s, cut);
            fn += client_frame(f + fn, UW_WS_CONT, true, false, s + cut, n - cut);
            run(&SERVER, f, fn, 0, r);
            CHECK_EQ_INT(r->error, v[i].ok ? 0 : UW_WS_INVALID_DATA);
        }
    }
    /* a long ASCII run then a bad byte (the 8-byte fast path) */
    uint8_t longs[40];
    memset(longs, 'a', sizeof longs);
    longs[33] = 0xff;
    uint32_t st = 0;
    CHECK(!uw_ws_utf8_feed(&st, longs, sizeof longs));
    free(r);
}

static void test_sha1_and_key(void)
{
    uint8_t d[20];
    uw_ws_sha1("abc", 3, d);
    static const uint8_t abc[20] = { 0xa9, 0x99, 0x3e, 0x36, 0x47, 0x06, 0x81, 0x6a, 0xba, 0x3e,
                                     0x25, 0x71, 0x78, 0x50, 0xc2, 0x6c, 0x9c, 0xd0, 0xd8, 0x9d };
    CHECK_EQ_MEM(d, 20, abc, 20);
    const char *l = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    uw_ws_sha1(l, strlen(l), d);
    static const uint8_t lv[20] = { 0x84, 0x98, 0x3e, 0x44, 0x1c, 0x3b, 0xd2, 0x6e, 0xba, 0xae,
                                    0x4a, 0xa1, 0xf9, 0x51, 0x29, 0xe5, 0xe5, 0x46, 0x70, 0xf1 };
    CHECK_EQ_MEM(d, 20, lv, 20);
    char key[29];
    uw_ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==", key);
    CHECK_EQ_STR(key, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

static void test_negotiate(void)
{
    uw_ws_pmd p;
    char resp[160];
    const char *a[] = { "permessage-deflate; client_max_window_bits" };
    CHECK(uw_ws_pmd_negotiate(a, 1, 15, &p, resp, sizeof resp));
    CHECK_EQ_STR(resp, "permessage-deflate; server_no_context_takeover");
    CHECK(p.server_no_context_takeover && !p.client_no_context_takeover);
    CHECK_EQ_INT(p.client_max_window_bits, 15);
    CHECK(uw_ws_pmd_negotiate(a, 1, 12, &p, resp, sizeof resp));
    CHECK_EQ_STR(resp, "permessage-deflate; server_no_context_takeover; client_max_window_bits=12");
    CHECK_EQ_INT(p.client_max_window_bits, 12);
    const char *b[] = { "x-webkit-deflate-frame, permessage-deflate; server_max_window_bits=8, "
                        "permessage-deflate; client_no_context_takeover; server_max_window_bits=\"10\"" };
    CHECK(uw_ws_pmd_negotiate(b, 1, 15, &p, resp, sizeof resp));
    CHECK_EQ_STR(resp, "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10");
    CHECK_EQ_INT(p.server_max_window_bits, 10);
    const char *c[] = { "permessage-deflate; foo", "permessage-deflate; server_no_context_takeover; server_no_context_takeover" };
    CHECK(!uw_ws_pmd_negotiate(c, 2, 15, &p, resp, sizeof resp));
    const char *d[] = { "permessage-deflate" };
    CHECK(uw_ws_pmd_negotiate(d, 1, 12, &p, resp, sizeof resp));
    CHECK_EQ_STR(resp, "permessage-deflate; server_no_context_takeover");
    CHECK_EQ_INT(p.client_max_window_bits, 15);   /* the client did not let us choose */
}

typedef struct buf {
    uint8_t d[300000];
    size_t n;
} buf;

static int sink(void *arg, const uint8_t *p, size_t n)
{
    buf *b = arg;
    if (b->n + n > sizeof b->d) return UW_ELIMIT;
    memcpy(b->d + b->n, p, n);
    b->n += n;
    return UW_OK;
}

static void test_deflate(void)
{
    uw_ws_pmd pmd = { .server_no_context_takeover = true, .server_max_window_bits = 15, .client_max_window_bits = 15 };
    buf *out = calloc(1, sizeof *out), *back = calloc(1, sizeof *back);
    /* RFC 7692 §7.2.3.1: "Hello" is f2 48 cd c9 c9 07 00 */
    static const uint8_t hello[] = { 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00 };
    uw_ws_inflater *f = uw_ws_inflater_new(&pmd);
    CHECK_EQ_INT(uw_ws_inflate(f, hello, sizeof hello, true, sink, back), UW_OK);
    CHECK_EQ_MEM(back->d, back->n, "Hello", 5);
    /* context takeover: the second "Hello" of §7.2.3.2 refers back */
    static const uint8_t hello2[] = { 0xf2, 0x00, 0x11, 0x00, 0x00 };
    back->n = 0;
    CHECK_EQ_INT(uw_ws_inflate(f, hello2, sizeof hello2, true, sink, back), UW_OK);
    CHECK_EQ_MEM(back->d, back->n, "Hello", 5);
    /* split across pieces */
    back->n = 0;
    uw_ws_inflater_free(f);
    f = uw_ws_inflater_new(&pmd);
    for (size_t i = 0; i < sizeof hello; i++)
        CHECK_EQ_INT(uw_ws_inflate(f, hello + i, 1, i == sizeof hello - 1, sink, back), UW_OK);
    CHECK_EQ_MEM(back->d, back->n, "Hello", 5);
    /* round trips, our deflate into our inflate */
    static uint8_t text[200000];
    for (size_t i = 0; i < sizeof text; i++) text[i] = "the quick brown fox "[i % 20] ^ (uint8_t)(i / 5000);
    for (int bits = 9; bits <= 15; bits += 3) {
        pmd.server_max_window_bits = pmd.client_max_window_bits = bits;
        out->n = back->n = 0;
        CHECK_EQ_INT(uw_ws_deflate_message(&pmd, 6, text, sizeof text, sink, out), UW_OK);
        CHECK(out->n < sizeof text / 4);
        uw_ws_inflater *g = uw_ws_inflater_new(&pmd);
        CHECK_EQ_INT(uw_ws_inflate(g, out->d, out->n, true, sink, back), UW_OK);
        CHECK_EQ_MEM(back->d, back->n, text, sizeof text);
        uw_ws_inflater_free(g);
    }
    /* garbage */
    back->n = 0;
    uw_ws_inflater *g = uw_ws_inflater_new(&pmd);
    CHECK_EQ_INT(uw_ws_inflate(g, (const uint8_t *)"\xff\xff\xff\xff", 4, true, sink, back), UW_EPROTO);
    uw_ws_inflater_free(g);
    uw_ws_inflater_free(f);
    free(out);
    free(back);
}

int main(void)
{
    RUN(test_rfc_examples);
    RUN(test_write_and_parse);
    RUN(test_errors);
    RUN(test_utf8);
    RUN(test_sha1_and_key);
    RUN(test_negotiate);
    RUN(test_deflate);
    return CHECK_DONE();
}
