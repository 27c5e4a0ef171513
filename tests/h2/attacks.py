#!/usr/bin/env python3
"""HTTP/2 attacks from the last years' advisories against the echo test app
over h2c: each is followed (or accompanied) by another client that must
be answered within a second, and the server's resident memory must stay
bounded (under 64 MiB over what it used before the attacks).

- rapid reset (CVE-2023-44487): thousands of HEADERS + RST_STREAM pairs;
- CONTINUATION flood (CVE-2024-27316, CVE-2024-28182): a header block that
  never ends;
- SETTINGS, PING and empty DATA floods (CVE-2019-9512/9515/9518), sent
  without reading the answers;
- a peer that keeps a zero window forever (CVE-2019-9517 and relatives)
  while asking for 3 MiB answers on many streams;
- an HPACK bomb: one 4 KB dynamic-table entry referenced thousands of
  times (CVE-2016-6581);
- stream ids going backwards and reused;
- frames larger than SETTINGS_MAX_FRAME_SIZE (claimed 16 MiB);
- streams left open without another byte (an HTTP/2 slowloris).
"""
import os
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from uwtest import T, Server, BUILD, program  # noqa: E402
import h2raw  # noqa: E402
from h2raw import (H2, frame, DATA, HEADERS, RST_STREAM, SETTINGS, PING, GOAWAY, WINDOW_UPDATE,  # noqa: E402
                   CONTINUATION, END_STREAM, END_HEADERS, ERRORS, CANCEL)

t = T()
if h2raw.hpack is None:
    t.skip("h2 attacks", "python3-hpack is not installed (Debian package python3-h2)")
    t.done()
ECHO = program(os.path.join(BUILD, "tests", "apps", "echo"))
GET = [(":method", "GET"), (":scheme", "http"), (":path", "/"), (":authority", "localhost")]


def rss(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def other_client(port):
    """A well-behaved client on a new connection: (answered within 1 s, seconds)."""
    t0 = time.time()
    try:
        c = H2("127.0.0.1", port, timeout=2)
        c.request(1, "/")
        r = c.response(1, 1.5)
        c.close()
    except OSError:
        r = None
    dt = time.time() - t0
    return r is not None and r[0] == 200 and dt < 1.0, dt


def ended(c, timeout=5):
    """The attacker's connection: (GOAWAY frame or None, closed)."""
    g = c.goaway(timeout)
    c.until(lambda f: False, 1)
    return g, c.closed


def report(label, srv, base, attacker=None, expect_close=True):
    ok, dt = other_client(srv.port)
    mem = rss(srv.proc.pid)
    why = f"other client {dt:.2f}s, rss {mem >> 20} MiB (base {base >> 20})"
    if attacker is not None:
        g, closed = ended(attacker, 3)
        why += f", attacker: {g}, closed={closed}"
        if expect_close:
            ok = ok and closed
    t.check(f"{label}: another client is served at once, memory bounded", ok and srv.alive()
            and mem < base + (64 << 20), why)


with Server(None, binary=ECHO, args=["--h2c", "--quiet"]) as S:
    other_client(S.port)
    base = rss(S.proc.pid)

    # rapid reset: 5000 streams opened and canceled at once
    c = H2("127.0.0.1", S.port)
    burst = b""
    for i in range(5000):
        sid = 1 + 2 * i
        burst += frame(HEADERS, END_HEADERS | END_STREAM, sid, c.block([(":method", "GET"), (":scheme", "http"),
                                                                         (":path", "/slow?s=1"), (":authority", "x")]))
        burst += frame(RST_STREAM, 0, sid, struct.pack(">I", CANCEL))
    c.send(burst)
    report("rapid reset (5000 HEADERS + RST_STREAM)", S, base, c)
    c.close()

    # CONTINUATION flood: a header block that never ends
    c = H2("127.0.0.1", S.port)
    c.send(frame(HEADERS, END_STREAM, 1, c.block(GET)))
    enc = h2raw.hpack.Encoder()
    chunk = b"".join(frame(CONTINUATION, 0, 1, enc.encode([(f"x-f{i}", "v" * 900)], huffman=False))
                     for i in range(50))
    for _ in range(40):              # 2000 frames, about 1.8 MB of fields
        if not c.send(chunk):
            break
    report("CONTINUATION flood (2000 frames, no END_HEADERS)", S, base, c)
    c.close()

    # SETTINGS, PING, empty DATA floods, the answers never read
    for label, unit in (("SETTINGS flood (20000 frames)", frame(SETTINGS, 0, 0, struct.pack(">HI", 3, 100))),
                        ("PING flood (20000 frames)", frame(PING, 0, 0, b"01234567"))):
        c = H2("127.0.0.1", S.port)
        c.sock.setsockopt(__import__("socket").SOL_SOCKET, __import__("socket").SO_RCVBUF, 4096)
        for _ in range(20):
            if not c.send(unit * 1000):
                break
        report(label, S, base, c)
        c.close()
    c = H2("127.0.0.1", S.port)
    c.headers(1, [(":method", "POST"), (":scheme", "http"), (":path", "/echo"), (":authority", "x")])
    for _ in range(20):
        if not c.send(frame(DATA, 0, 1) * 1000):
            break
    report("empty DATA flood (20000 frames)", S, base, c)
    c.close()

    # zero window forever: 50 streams asking for 3 MiB each, never a WINDOW_UPDATE
    c = H2("127.0.0.1", S.port, settings={4: 0})
    for i in range(50):
        c.request(1 + 2 * i, "/large")
    c.until(lambda f: False, 1)
    t0 = time.time()
    ok, dt = other_client(S.port)
    mem = rss(S.proc.pid)
    t.check("zero window forever (50 streams of 3 MiB): others are served, memory bounded",
            ok and mem < base + (64 << 20), f"other client {dt:.2f}s, rss {mem >> 20} MiB")
    got = sum(len(f.payload) for f in c.frames if f.type == DATA)
    t.check("zero window forever: no DATA sent past the window", got == 0, f"{got} bytes")
    c.close()

    # HPACK bomb: a 4 KB entry, then 4000 one-byte references to it
    c = H2("127.0.0.1", S.port)
    enc = h2raw.hpack.Encoder()
    first = enc.encode(GET + [("x-bomb", "b" * 4000)], huffman=False)   # adds x-bomb to the table (index 62)
    c.send(frame(HEADERS, END_HEADERS | END_STREAM, 1, first))
    block = enc.encode(GET, huffman=False) + b"\xbe" * 4000              # 0xbe: indexed field 62
    for i in range(3):
        sid = 3 + 2 * i
        c.send(frame(HEADERS, 0, sid, block[:16000]) +
               b"".join(frame(CONTINUATION, END_HEADERS if j + 16000 >= len(block) else 0, sid, block[j:j + 16000])
                        for j in range(16000, len(block), 16000)))
    report("HPACK bomb (4000 references to a 4 KB entry, 16 MB decoded)", S, base, c)
    c.close()

    # stream ids going backwards, then reused
    c = H2("127.0.0.1", S.port)
    c.headers(7, GET, True)
    c.until(lambda f: f.stream == 7 and f.flags & END_STREAM, 2)
    c.headers(3, GET, True)
    report("a stream id going backwards", S, base, c)
    c.close()
    c = H2("127.0.0.1", S.port)
    for _ in range(200):
        c.headers(1, GET, True)
    report("one stream id used 200 times", S, base, c)
    c.close()

    # a frame claiming 16 MiB
    c = H2("127.0.0.1", S.port)
    c.headers(1, [(":method", "POST"), (":scheme", "http"), (":path", "/echo"), (":authority", "x")])
    c.send(struct.pack(">I", (1 << 24) - 1)[1:] + bytes([DATA, 0]) + struct.pack(">I", 1) + b"z" * 65536)
    report("a DATA frame of 16 MiB (over SETTINGS_MAX_FRAME_SIZE)", S, base, c)
    c.close()

    t.check("the server is still up after every attack", S.alive())

# streams left open without a byte more (the handlers answered): the
# connection is idle and closed after --idle-timeout
with Server(None, binary=ECHO, args=["--h2c", "--quiet", "--idle-timeout=1"]) as S:
    c = H2("127.0.0.1", S.port)
    for i in range(10):
        c.headers(1 + 2 * i, [(":method", "POST"), (":scheme", "http"), (":path", "/nope"), (":authority", "x")])
    t0 = time.time()
    g, closed = ended(c, 4)
    t.check("streams left open forever: GOAWAY and close after the idle timeout (1 s)",
            g is not None and closed and 0.5 < time.time() - t0 < 4, f"{g} closed={closed} after {time.time() - t0:.1f}s")
    c.close()

t.done()
