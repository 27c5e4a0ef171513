#!/usr/bin/env python3
"""Writes the seed corpus of tests/fuzz/fuzz_h2.c into tests/fuzz/corpus/h2/
(run by hand; python3-hpack from Debian's python3-h2).  Each seed is a
read-size byte, then what a client sends after the connection preface."""
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import h2raw  # noqa: E402
from h2raw import frame, DATA, HEADERS, RST_STREAM, SETTINGS, PING, WINDOW_UPDATE, CONTINUATION, \
    PRIORITY, GOAWAY, END_STREAM, END_HEADERS, ACK, PADDED, PRIO  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "corpus", "h2")
os.makedirs(OUT, exist_ok=True)


def req(enc, path, method="GET", extra=()):
    return enc.encode([(":method", method), (":scheme", "https"), (":path", path), (":authority", "localhost"),
                       *extra])


def seeds():
    e = h2raw.hpack.Encoder()
    s0 = frame(SETTINGS, 0, 0)
    yield "get", 0, s0 + frame(HEADERS, END_HEADERS | END_STREAM, 1, req(e, "/"))
    e = h2raw.hpack.Encoder()
    yield "get_split", 7, s0 + frame(HEADERS, END_HEADERS | END_STREAM, 1, req(e, "/")) + \
        frame(HEADERS, END_HEADERS | END_STREAM, 3, req(e, "/nope"))
    e = h2raw.hpack.Encoder()
    yield "echo", 0, s0 + frame(HEADERS, END_HEADERS, 1, req(e, "/echo", "POST", [("content-length", "10")])) + \
        frame(DATA, 0, 1, b"01234") + frame(DATA, END_STREAM, 1, b"56789")
    e = h2raw.hpack.Encoder()
    yield "echo_padded_trailers", 3, s0 + frame(HEADERS, END_HEADERS | PADDED, 1, b"\x02" + req(e, "/echo", "POST") + b"\0\0") + \
        frame(DATA, PADDED, 1, b"\x03abc\0\0\0") + frame(HEADERS, END_HEADERS | END_STREAM, 1, e.encode([("x-t", "1")]))
    e = h2raw.hpack.Encoder()
    yield "big_window", 0, frame(SETTINGS, 0, 0, struct.pack(">HI", 4, 1000)) + \
        frame(HEADERS, END_HEADERS | END_STREAM, 1, req(e, "/big")) + frame(WINDOW_UPDATE, 0, 1, struct.pack(">I", 50000)) + \
        frame(WINDOW_UPDATE, 0, 0, struct.pack(">I", 100000))
    e = h2raw.hpack.Encoder()
    yield "pipe_reset", 0, s0 + frame(HEADERS, END_HEADERS | END_STREAM, 1, req(e, "/pipe")) + \
        frame(HEADERS, END_HEADERS | END_STREAM, 3, req(e, "/big")) + frame(RST_STREAM, 0, 3, struct.pack(">I", 8))
    e = h2raw.hpack.Encoder()
    blk = req(e, "/", extra=[("x-long", "v" * 300)])
    yield "continuation_prio", 5, s0 + frame(HEADERS, PRIO, 1, struct.pack(">IB", 0, 15) + blk[:20]) + \
        frame(CONTINUATION, 0, 1, blk[20:40]) + frame(CONTINUATION, END_HEADERS, 1, blk[40:]) + \
        frame(PRIORITY, 0, 3, struct.pack(">IB", 1, 200))
    yield "control", 0, s0 + frame(PING, 0, 0, b"12345678") + frame(SETTINGS, ACK, 0) + \
        frame(SETTINGS, 0, 0, struct.pack(">HIHI", 1, 0, 5, 32768)) + frame(GOAWAY, 0, 0, struct.pack(">II", 0, 0))
    e = h2raw.hpack.Encoder()
    yield "many_streams", 0, s0 + b"".join(frame(HEADERS, END_HEADERS | END_STREAM, 1 + 2 * i, req(e, "/?i=%d" % i))
                                          for i in range(12))
    e = h2raw.hpack.Encoder()
    yield "head_and_413", 0, s0 + frame(HEADERS, END_HEADERS | END_STREAM, 1, req(e, "/", "HEAD")) + \
        frame(HEADERS, END_HEADERS, 3, req(e, "/echo", "POST", [("expect", "100-continue")])) + frame(DATA, END_STREAM, 3, b"x")


for name, chunk, body in seeds():
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(bytes([chunk]) + body)
print(f"wrote {len(os.listdir(OUT))} seeds into {OUT}")
