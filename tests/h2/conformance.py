#!/usr/bin/env python3
"""HTTP/2 conformance, our own cases from RFC 9113's MUST-level rules,
driven with hand-made frames (tests/lib/h2raw.py, python3-hpack) against
the echo test app over h2c (--h2c).  Each case expects the error code
the RFC names, and either a connection error (GOAWAY with that code, then
the connection closed) or a stream error (RST_STREAM with that code, then
a new request on the same connection still answered 200)."""
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from uwtest import T, Server, BUILD, program  # noqa: E402
import h2raw  # noqa: E402
from h2raw import (H2, frame, DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS, PUSH_PROMISE, PING, GOAWAY,  # noqa: E402
                   WINDOW_UPDATE, CONTINUATION, END_STREAM, ACK, END_HEADERS, PADDED, PRIO, ERRORS,
                   NO_ERROR, PROTOCOL_ERROR, FLOW_CONTROL_ERROR, STREAM_CLOSED, FRAME_SIZE_ERROR,
                   REFUSED_STREAM, COMPRESSION_ERROR)

t = T()
if h2raw.hpack is None:
    t.skip("h2 conformance", "python3-hpack is not installed (Debian package python3-h2)")
    t.done()
ECHO = program(os.path.join(BUILD, "tests", "apps", "echo"))
GET = [(":method", "GET"), (":scheme", "http"), (":path", "/"), (":authority", "localhost")]


def name(code):
    return ERRORS[code] if code is not None and code < len(ERRORS) else str(code)


def ok_after(c, sid):
    """A fresh request on c answers 200."""
    c.request(sid, "/")
    r = c.response(sid, 3)
    return r is not None and r[0] == 200


def conn_error(label, code, send, settings=None):
    """send(c) breaks a rule: GOAWAY(code) and the connection closes."""
    c = H2("127.0.0.1", S.port, settings=settings)
    c.until(lambda f: f.type == SETTINGS and not f.flags & ACK, 2)
    send(c)
    g = c.goaway(3)
    c.until(lambda f: False, 2)          # until it closes
    t.check(f"{label}: connection error {name(code)}", g is not None and g.code() == code and c.closed,
            f"got {g}, closed={c.closed}, frames {c.frames[-4:]}")
    c.close()


def stream_error(label, codes, send, sid=1, next_sid=3):
    """send(c) breaks a rule on stream sid: RST_STREAM(code), the
    connection goes on."""
    codes = codes if isinstance(codes, tuple) else (codes,)
    c = H2("127.0.0.1", S.port)
    c.until(lambda f: f.type == SETTINGS and not f.flags & ACK, 2)
    send(c)
    r = c.until(lambda f: (f.type == RST_STREAM and f.stream == sid) or f.type == GOAWAY, 3)
    usable = r is not None and r.type == RST_STREAM and ok_after(c, next_sid)
    t.check(f"{label}: stream error {'/'.join(name(x) for x in codes)}, the connection still serves",
            r is not None and r.type == RST_STREAM and r.code() in codes and usable,
            f"got {r}, usable={usable}, frames {c.frames[-4:]}")
    c.close()


def stream_or_conn_error(label, code, send, sid=1):
    """A stream error that the server may treat as a connection error
    (§5.4.1 allows it; nghttp2 does for these): RST_STREAM(code) with the
    connection still serving, or GOAWAY(code) and the connection closed."""
    c = H2("127.0.0.1", S.port)
    c.until(lambda f: f.type == SETTINGS and not f.flags & ACK, 2)
    send(c)
    r = c.until(lambda f: (f.type == RST_STREAM and f.stream == sid) or f.type == GOAWAY, 3)
    if r is not None and r.type == GOAWAY:
        c.until(lambda f: False, 2)
        good = r.code() == code and c.closed
    else:
        good = r is not None and r.code() == code and ok_after(c, sid + 2)
    t.check(f"{label}: {name(code)} (a stream error, or a connection error)", good, f"got {r}, frames {c.frames[-4:]}")
    c.close()


def answered(label, status, send, sid=1, body=None):
    c = H2("127.0.0.1", S.port)
    send(c)
    r = c.response(sid, 3)
    t.check(f"{label}: answered {status}", r is not None and r[0] == status and (body is None or body(r)),
            f"{r and (r[0], r[1], r[2][:100])} frames {c.frames[-4:]}")
    c.close()
    return r


def hblock(c, headers):
    return c.block(headers)


with Server(None, binary=ECHO, args=["--h2c", "--quiet"]) as S:
    # ---------------------------------------------------------------- preface and SETTINGS (§3.4, §6.5)
    c = H2("127.0.0.1", S.port, preface=False)
    c.send(b"PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n" + frame(SETTINGS, 0, 0))
    g = c.goaway(2)
    c.until(lambda f: False, 2)
    t.check("a broken connection preface: the connection is closed", c.closed, f"{g} {c.frames}")
    conn_error("the preface followed by PING, not SETTINGS (§3.4)", PROTOCOL_ERROR,
               lambda c: None, settings=None) if False else None
    c = H2("127.0.0.1", S.port, preface=False)
    c.send(h2raw.PREFACE + frame(PING, 0, 0, b"12345678"))
    g = c.goaway(3)
    c.until(lambda f: False, 2)
    t.check("the preface followed by PING, not SETTINGS (§3.4): connection error PROTOCOL_ERROR",
            g is not None and g.code() == PROTOCOL_ERROR and c.closed, f"{g} {c.frames}")
    conn_error("SETTINGS of 7 bytes (§6.5)", FRAME_SIZE_ERROR, lambda c: c.send(frame(SETTINGS, 0, 0, b"\0" * 7)))
    conn_error("SETTINGS ACK with a payload (§6.5)", FRAME_SIZE_ERROR,
               lambda c: c.send(frame(SETTINGS, ACK, 0, struct.pack(">HI", 3, 10))))
    conn_error("SETTINGS on stream 1 (§6.5)", PROTOCOL_ERROR, lambda c: c.send(frame(SETTINGS, 0, 1)))
    conn_error("SETTINGS_ENABLE_PUSH=2 (§6.5.2)", PROTOCOL_ERROR,
               lambda c: c.send(frame(SETTINGS, 0, 0, struct.pack(">HI", 2, 2))))
    conn_error("SETTINGS_INITIAL_WINDOW_SIZE=2^31 (§6.5.2)", FLOW_CONTROL_ERROR,
               lambda c: c.send(frame(SETTINGS, 0, 0, struct.pack(">HI", 4, 1 << 31))))
    conn_error("SETTINGS_MAX_FRAME_SIZE=16383 (§6.5.2)", PROTOCOL_ERROR,
               lambda c: c.send(frame(SETTINGS, 0, 0, struct.pack(">HI", 5, 16383))))
    conn_error("SETTINGS_MAX_FRAME_SIZE=2^24 (§6.5.2)", PROTOCOL_ERROR,
               lambda c: c.send(frame(SETTINGS, 0, 0, struct.pack(">HI", 5, 1 << 24))))
    c = H2("127.0.0.1", S.port)
    c.send(frame(SETTINGS, 0, 0, struct.pack(">HI", 0x7777, 1)))
    a = c.until(lambda f: f.type == SETTINGS and f.flags & ACK, 2)
    t.check("an unknown setting is ignored and acknowledged (§6.5.2)", a is not None and ok_after(c, 1))
    c.close()

    # ---------------------------------------------------------------- PING, GOAWAY (§6.7, §6.8)
    conn_error("PING of 7 bytes (§6.7)", FRAME_SIZE_ERROR, lambda c: c.send(frame(PING, 0, 0, b"1234567")))
    conn_error("PING on stream 1 (§6.7)", PROTOCOL_ERROR, lambda c: c.send(frame(PING, 0, 1, b"12345678")))
    c = H2("127.0.0.1", S.port)
    c.send(frame(PING, 0, 0, b"abcdefgh"))
    p = c.until(lambda f: f.type == PING and f.flags & ACK, 2)
    t.check("PING is answered with ACK and the same payload (§6.7)", p is not None and p.payload == b"abcdefgh")
    c.close()
    conn_error("GOAWAY on stream 1 (§6.8)", PROTOCOL_ERROR,
               lambda c: c.send(frame(GOAWAY, 0, 1, struct.pack(">II", 0, 0))))

    # ---------------------------------------------------------------- WINDOW_UPDATE (§6.9)
    conn_error("WINDOW_UPDATE of 0 on the connection (§6.9)", PROTOCOL_ERROR,
               lambda c: c.send(frame(WINDOW_UPDATE, 0, 0, struct.pack(">I", 0))))
    conn_error("WINDOW_UPDATE of 3 bytes (§6.9)", FRAME_SIZE_ERROR,
               lambda c: c.send(frame(WINDOW_UPDATE, 0, 0, b"\0\0\1")))
    conn_error("the connection window past 2^31-1 (§6.9.1)", FLOW_CONTROL_ERROR,
               lambda c: c.send(frame(WINDOW_UPDATE, 0, 0, struct.pack(">I", 0x7fffffff)) * 2))

    def stream_wu(inc, n=1):
        def send(c):
            c.request(1, "/slow?s=1")
            for _ in range(n):
                c.send(frame(WINDOW_UPDATE, 0, 1, struct.pack(">I", inc)))
        return send
    stream_or_conn_error("WINDOW_UPDATE of 0 on a stream (§6.9)", PROTOCOL_ERROR, stream_wu(0))
    stream_error("a stream window past 2^31-1 (§6.9.1)", FLOW_CONTROL_ERROR, stream_wu(0x7fffffff, 2))

    # ---------------------------------------------------------------- DATA (§6.1)
    conn_error("DATA on stream 0 (§6.1)", PROTOCOL_ERROR, lambda c: c.send(frame(DATA, 0, 0, b"x")))
    conn_error("DATA on an idle stream (§5.1)", PROTOCOL_ERROR, lambda c: c.send(frame(DATA, 0, 5, b"x")))

    def data_after_end(c):
        c.request(1, "/slow?s=1")                      # END_STREAM: half-closed (remote)
        c.send(frame(DATA, 0, 1, b"late"))
    c = H2("127.0.0.1", S.port)
    data_after_end(c)
    r = c.until(lambda f: f.type in (RST_STREAM, GOAWAY), 3)
    t.check("DATA on a half-closed (remote) stream: STREAM_CLOSED (§5.1)", r is not None and r.code() == STREAM_CLOSED,
            str(r))
    c.close()

    def over_window(c):
        c.headers(1, [(":method", "POST"), (":scheme", "http"), (":path", "/echo"), (":authority", "x")])
        c.send(b"".join(frame(DATA, 0, 1, b"z" * 16384) for _ in range(5)))
    c = H2("127.0.0.1", S.port)
    over_window(c)
    r = c.until(lambda f: f.type in (RST_STREAM, GOAWAY) and f.code() != NO_ERROR, 3)
    t.check("DATA past the stream's window (§6.9.1): FLOW_CONTROL_ERROR", r is not None and r.code() == FLOW_CONTROL_ERROR,
            f"{r} {c.frames[-3:]}")
    c.close()

    def bad_pad(ftype):
        def send(c):
            if ftype == DATA:
                c.headers(1, [(":method", "POST"), (":scheme", "http"), (":path", "/echo"), (":authority", "x")])
                c.send(frame(DATA, PADDED, 1, bytes([10]) + b"abc"))
            else:
                c.send(frame(HEADERS, PADDED | END_HEADERS | END_STREAM, 1, bytes([200]) + c.block(GET)))
        return send
    conn_error("DATA whose padding is longer than the frame (§6.1)", PROTOCOL_ERROR, bad_pad(DATA))
    conn_error("HEADERS whose padding is longer than the frame (§6.2)", PROTOCOL_ERROR, bad_pad(HEADERS))

    def cl_mismatch(c):
        c.headers(1, [(":method", "POST"), (":scheme", "http"), (":path", "/echo"), (":authority", "x"),
                      ("content-length", "10")])
        c.data(1, b"12345", end_stream=True)
    stream_error("content-length 10 with 5 bytes of DATA (§8.1.1)", PROTOCOL_ERROR, cl_mismatch)

    def frame_too_big(c):
        c.headers(1, [(":method", "POST"), (":scheme", "http"), (":path", "/echo"), (":authority", "x")])
        c.send(frame(DATA, 0, 1, b"y" * 16385))
    conn_error("a frame larger than SETTINGS_MAX_FRAME_SIZE (§4.2)", FRAME_SIZE_ERROR, frame_too_big)

    # ---------------------------------------------------------------- HEADERS, streams (§5.1, §6.2, §6.10)
    conn_error("HEADERS on stream 0 (§6.2)", PROTOCOL_ERROR, lambda c: c.headers(0, GET, True))
    conn_error("HEADERS on an even stream id (§5.1.1)", PROTOCOL_ERROR, lambda c: c.headers(2, GET, True))

    def backwards(c):
        c.headers(5, GET, True)
        c.until(lambda f: f.stream == 5 and f.flags & END_STREAM, 2)
        c.headers(3, GET, True)
    conn_error("a stream id lower than one used before (§5.1.1)", PROTOCOL_ERROR, backwards)

    def reuse(c):
        c.headers(1, GET, True)
        c.until(lambda f: f.stream == 1 and f.flags & END_STREAM, 2)
        c.headers(1, GET, True)
    c = H2("127.0.0.1", S.port)
    reuse(c)
    g = c.until(lambda f: f.type in (GOAWAY, RST_STREAM) and f.code() != NO_ERROR, 3)
    t.check("a closed stream's id used again (§5.1): STREAM_CLOSED or PROTOCOL_ERROR",
            g is not None and g.code() in (STREAM_CLOSED, PROTOCOL_ERROR), str(g))
    c.close()

    def self_dep(c):
        c.send(frame(HEADERS, PRIO | END_HEADERS | END_STREAM, 1, struct.pack(">IB", 1, 16) + c.block(GET)))
    stream_or_conn_error("a stream that depends on itself (§5.3.1)", PROTOCOL_ERROR, self_dep)
    conn_error("a header block that is not HPACK (§4.3)", COMPRESSION_ERROR,
               lambda c: c.headers(1, None, True, raw_block=b"\xff\xff\xff\xff\xff\xff\xff"))

    def interleaved(c):
        blk = c.block(GET)
        c.send(frame(HEADERS, END_STREAM, 1, blk[:2]) + frame(PING, 0, 0, b"12345678"))
    conn_error("a PING inside a header block (§6.10)", PROTOCOL_ERROR, interleaved)

    def cont_other(c):
        blk = c.block(GET)
        c.send(frame(HEADERS, END_STREAM, 1, blk[:2]) + frame(CONTINUATION, END_HEADERS, 3, blk[2:]))
    conn_error("CONTINUATION on another stream (§6.10)", PROTOCOL_ERROR, cont_other)
    conn_error("CONTINUATION without HEADERS (§6.10)", PROTOCOL_ERROR,
               lambda c: c.send(frame(CONTINUATION, END_HEADERS, 1, c.block(GET))))

    def split(c):
        blk = c.block(GET)
        c.send(frame(HEADERS, END_STREAM, 1, blk[:3]) + frame(CONTINUATION, 0, 1, blk[3:6]) +
               frame(CONTINUATION, END_HEADERS, 1, blk[6:]))
    answered("a header block in HEADERS and two CONTINUATIONs (§6.10)", 200, split)
    conn_error("PUSH_PROMISE from a client (§8.4)", PROTOCOL_ERROR,
               lambda c: c.send(frame(PUSH_PROMISE, END_HEADERS, 1, struct.pack(">I", 2) + c.block(GET))))
    conn_error("RST_STREAM on an idle stream (§6.4)", PROTOCOL_ERROR,
               lambda c: c.send(frame(RST_STREAM, 0, 7, struct.pack(">I", 8))))

    def rst3(c):
        c.request(1, "/slow?s=1")
        c.send(frame(RST_STREAM, 0, 1, b"\0\0\0"))
    conn_error("RST_STREAM of 3 bytes (§6.4)", FRAME_SIZE_ERROR, rst3)

    def prio4(c):
        c.request(1, "/slow?s=1")
        c.send(frame(PRIORITY, 0, 1, b"\0\0\0\0"))
    stream_or_conn_error("PRIORITY of 4 bytes (§6.3)", FRAME_SIZE_ERROR, prio4)
    c = H2("127.0.0.1", S.port)
    c.send(frame(0x42, 0xff, 0, b"whatever"))
    t.check("a frame of an unknown type is ignored (§4.1)", ok_after(c, 1))
    c.close()

    # ---------------------------------------------------------------- fields (§8.2, §8.3)
    def req(headers, end=True):
        return lambda c: c.headers(1, headers, end)
    stream_error("no :method (§8.3.1)", PROTOCOL_ERROR, req([(":scheme", "http"), (":path", "/")]))
    stream_error("no :path (§8.3.1)", PROTOCOL_ERROR, req([(":method", "GET"), (":scheme", "http")]))
    stream_error("no :scheme (§8.3.1)", PROTOCOL_ERROR, req([(":method", "GET"), (":path", "/")]))
    stream_error("an empty :path (§8.3.1)", PROTOCOL_ERROR, req([(":method", "GET"), (":scheme", "http"), (":path", "")]))
    stream_error("an unknown pseudo-header (§8.3)", PROTOCOL_ERROR, req(GET + [(":foo", "bar")]))
    stream_error("a pseudo-header after a regular field (§8.3)", PROTOCOL_ERROR,
                 req([(":method", "GET"), ("accept", "*/*"), (":scheme", "http"), (":path", "/")]))
    stream_error("two :method fields (§8.3.1)", PROTOCOL_ERROR, req(GET + [(":method", "POST")]))
    stream_error("a response pseudo-header in a request (§8.3.2)", PROTOCOL_ERROR, req(GET + [(":status", "200")]))
    stream_error("an upper-case field name (§8.2.1)", PROTOCOL_ERROR, req(GET + [("X-Upper", "1")]))
    stream_error("connection: keep-alive (§8.2.2)", PROTOCOL_ERROR, req(GET + [("connection", "keep-alive")]))
    stream_error("transfer-encoding: chunked (§8.2.2)", PROTOCOL_ERROR, req(GET + [("transfer-encoding", "chunked")]))
    stream_error("te: gzip (§8.2.2)", PROTOCOL_ERROR, req(GET + [("te", "gzip")]))
    answered("te: trailers is allowed (§8.2.2)", 200, req(GET + [("te", "trailers")]))
    stream_error("a field value with a line feed (§8.2.1)", PROTOCOL_ERROR, req(GET + [("x-a", "a\nb")]))
    stream_error("a field name with a space (§8.2.1)", PROTOCOL_ERROR, req(GET + [("x a", "1")]))

    def trailer_pseudo(c):
        c.headers(1, [(":method", "POST"), (":scheme", "http"), (":path", "/echo"), (":authority", "x")])
        c.data(1, b"abc")
        c.headers(1, [(":path", "/x")], end_stream=True)
    stream_error("a pseudo-header in trailers (§8.1)", PROTOCOL_ERROR, trailer_pseudo)

    def trailers_ok(c):
        c.headers(1, [(":method", "POST"), (":scheme", "http"), (":path", "/echo"), (":authority", "x")])
        c.data(1, b"abc")
        c.headers(1, [("x-checksum", "1")], end_stream=True)
    answered("trailers after a body are accepted (§8.1)", 200, trailers_ok, body=lambda r: r[2] == b"abc")

    # ---------------------------------------------------------------- what the server answers
    answered("HEAD: 200 with content-length and no DATA (§8.1)", 200,
             req([(":method", "HEAD"), (":scheme", "http"), (":path", "/"), (":authority", "x")]),
             body=lambda r: r[2] == b"" and r[1].get("content-length") == "13")
    answered(":authority stands for Host (§8.3.1)", 200,
             req([(":method", "GET"), (":scheme", "http"), (":path", "/users/7"), (":authority", "example.org")]))
    answered("response field names are lower case (§8.2.1)", 200, req(GET),
             body=lambda r: all(k == k.lower() for k in r[1]))
    answered("a header list over the limit: 431", 431, req(GET + [("x-big", "v" * 17000)]))
    answered("more fields than --max-headers: 431", 431, req(GET + [(f"x-{i}", "1") for i in range(70)]))
    answered("a request body over the route's limit: 413", 413,
             lambda c: (c.headers(1, [(":method", "POST"), (":scheme", "http"), (":path", "/small"), (":authority", "x"),
                                      ("content-length", "100")]), c.data(1, b"q" * 100, True)))
    stream_error("an absolute-form :path (§8.3.1)", PROTOCOL_ERROR,
                 req([(":method", "GET"), (":scheme", "http"), (":path", "http://x/"), (":authority", "x")]))
    answered("CONNECT is not served: 501", 501, req([(":method", "CONNECT"), (":authority", "x:443")]))

    def too_many(c):
        # --h2-max-streams 100 (SETTINGS_MAX_CONCURRENT_STREAMS): the 101st at once is refused
        for i in range(101):
            c.request(1 + 2 * i, "/slow?s=1")
    c = H2("127.0.0.1", S.port)
    c.until(lambda f: f.type == SETTINGS and not f.flags & ACK, 2)
    too_many(c)
    r = c.until(lambda f: f.type in (RST_STREAM, GOAWAY), 3)
    # nghttp2 makes it a connection error (§5.4.1): GOAWAY naming stream 199
    t.check("a 101st concurrent stream: REFUSED_STREAM or PROTOCOL_ERROR (§5.1.2)",
            r is not None and ((r.type == RST_STREAM and r.stream == 201 and r.code() in (REFUSED_STREAM, PROTOCOL_ERROR))
                               or (r.type == GOAWAY and r.code() == PROTOCOL_ERROR
                                   and struct.unpack(">I", r.payload[:4])[0] == 199)), str(r))
    c.close()
    t.check("the server is still up after every case", S.alive())

t.done()
