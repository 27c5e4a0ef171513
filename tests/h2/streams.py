#!/usr/bin/env python3
"""Streams side by side on ONE HTTP/2 connection (h2c, the echo test app):
flow control is per stream, so a stream that cannot move suspends only
itself.

- a download whose reader never opens its stream window (3 MiB asked,
  the client's 64 KiB stream window never updated; the connection window
  is open): the other streams of the same connection -- twenty small
  GETs and another 3 MiB download whose window is open -- complete within
  seconds, the stuck stream got no byte past its window and is still
  open; opening its window then finishes it with the whole body;
- an upload that trickles (a few bytes every 50 ms, no END_STREAM): the
  other streams -- small GETs and a 2 MiB upload sent as the server's
  windows allow -- complete meanwhile; the slow one then ends and is
  counted right.
"""
import os
import struct
import sys
import time
import zlib

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from uwtest import T, Server, BUILD, program  # noqa: E402
import h2raw  # noqa: E402
from h2raw import H2, frame, DATA, HEADERS, SETTINGS, WINDOW_UPDATE, RST_STREAM, END_STREAM  # noqa: E402

t = T()
if h2raw.hpack is None:
    t.skip("h2 streams", "python3-hpack is not installed (Debian package python3-h2)")
    t.done()
ECHO = program(os.path.join(BUILD, "tests", "apps", "echo"))


def window_update(c, sid, n):
    c.send(frame(WINDOW_UPDATE, 0, sid, struct.pack(">I", n)))


def data_bytes(c, sid):
    return sum(len(f.payload) for f in c.frames if f.type == DATA and f.stream == sid)


def done(c, sid):
    return any(f.stream == sid and (f.type == RST_STREAM or (f.type in (DATA, HEADERS) and f.flags & END_STREAM))
               for f in c.frames)


def wait_all(c, sids, timeout):
    end = time.time() + timeout
    while time.time() < end and not all(done(c, s) for s in sids):
        if not c.read_some(0.2):
            break
    return [s for s in sids if not done(c, s)]


class Windows:
    """The server's receive windows as the client sees them: its SETTINGS
    INITIAL_WINDOW_SIZE and WINDOW_UPDATEs, less the DATA sent."""

    def __init__(self, c):
        self.c, self.sent = c, {}

    def left(self, sid):
        init, conn, stream = 65535, 65535, 0
        for f in self.c.frames:
            if f.type == SETTINGS and not f.flags & 1:
                for i in range(0, len(f.payload), 6):
                    k, v = struct.unpack(">HI", f.payload[i:i + 6])
                    if k == 4:
                        init = v
            elif f.type == WINDOW_UPDATE:
                n = struct.unpack(">I", f.payload[:4])[0] & 0x7fffffff
                if f.stream == 0:
                    conn += n
                elif f.stream == sid:
                    stream += n
        return min(conn - sum(self.sent.values()), init + stream - self.sent.get(sid, 0))

    def send(self, sid, payload, end=False):
        self.sent[sid] = self.sent.get(sid, 0) + len(payload)
        return self.c.data(sid, payload, end)


def post(c, sid, path):
    c.headers(sid, [(":method", "POST"), (":scheme", "http"), (":path", path), (":authority", "localhost")])


with Server(None, binary=ECHO, args=["--h2c", "--quiet"]) as S:
    # ---- a download that is never read, beside others on the same connection
    c = H2("127.0.0.1", S.port)
    window_update(c, 0, 64 << 20)            # the connection window: open
    c.request(1, "/large")                   # its stream window (65535) never opened
    c.until(lambda f: data_bytes(c, 1) >= 65535, 3)
    stuck = data_bytes(c, 1)
    t0 = time.time()
    small = list(range(3, 43, 2))
    for sid in small:
        c.request(sid, "/")
    c.request(43, "/large")
    window_update(c, 43, 16 << 20)
    left = wait_all(c, small + [43], 10)
    dt = time.time() - t0
    big = data_bytes(c, 43)
    bodies_ok = all(c.response(s, 0)[0] == 200 for s in small if s not in left)
    t.check("one connection: a download whose window stays shut does not hold up 20 GETs and another "
            "3 MiB download (within 5 s)", not left and bodies_ok and big >= 3 << 20 and dt < 5,
            f"unanswered {left}, {big} bytes on stream 43, {dt:.2f} s")
    t.check("the stuck download got no byte past its stream window and is still open",
            stuck == 65535 and data_bytes(c, 1) == 65535 and not done(c, 1),
            f"{stuck} then {data_bytes(c, 1)} bytes, ended={done(c, 1)}")
    window_update(c, 1, 16 << 20)
    wait_all(c, [1], 10)
    t.check("opening its window then finishes it with the whole body", done(c, 1) and data_bytes(c, 1) == big,
            f"{data_bytes(c, 1)} of {big} bytes")
    c.close()

    # ---- an upload that trickles, beside others on the same connection
    c = H2("127.0.0.1", S.port)
    w = Windows(c)
    c.until(lambda f: f.type == SETTINGS, 2)
    post(c, 1, "/count")
    slow = b""
    blob = os.urandom(2 << 20)
    post(c, 3, "/count")
    small = list(range(5, 25, 2))
    for sid in small:
        c.request(sid, "/")
    t0 = time.time()
    off, last = 0, 0
    while time.time() - t0 < 20 and not (done(c, 3) and all(done(c, s) for s in small)):
        if time.time() - last > 0.05:                     # the slow one: 10 bytes every 50 ms
            w.send(1, b"0123456789")
            slow += b"0123456789"
            last = time.time()
        n = min(16384, len(blob) - off, w.left(3))
        if off < len(blob) and n > 0:
            w.send(3, blob[off:off + n], off + n == len(blob))
            off += n
        elif not c.read_some(0.02):
            break
    dt = time.time() - t0
    r3 = c.response(3, 0) if done(c, 3) else None
    want = f"{len(blob)} {zlib.crc32(blob):08x}\n".encode()
    t.check("one connection: an upload trickling 10 bytes per 50 ms does not hold up a 2 MiB upload and "
            "10 GETs (within 10 s)", r3 is not None and r3[0] == 200 and r3[2] == want and
            all(done(c, s) for s in small) and dt < 10,
            f"2 MiB upload: {r3 and r3[:1]} {r3 and r3[2]!r}, {dt:.2f} s, {len(slow)} slow bytes sent")
    t.check("the trickling upload is still open meanwhile", not done(c, 1), "it ended")
    w.send(1, b"end", True)
    slow += b"end"
    r1 = c.response(1, 5)
    t.check("the trickling upload, ended, is counted right",
            r1 is not None and r1[0] == 200 and r1[2] == f"{len(slow)} {zlib.crc32(slow):08x}\n".encode(),
            f"{r1}")
    c.close()
    t.check("the server is still up", S.alive())

t.done()
