"""A raw HTTP/2 client for uweb's h2 tests: frames built by hand (so they
can be malformed on purpose), header blocks by python3-hpack (a part of
python3-h2), over h2c (plain TCP, the server run with --h2c) or TLS with
ALPN h2.

    c = H2("127.0.0.1", port)                 # preface + SETTINGS sent
    c.headers(1, [(":method", "GET"), ...], end_stream=True)
    fr = c.until(lambda f: f.type == DATA and f.flags & END_STREAM)
    c.goaway_code()                            # None while none came
"""
import os
import socket
import ssl
import struct
import sys
import time

for d in ("/usr/lib/python3/dist-packages",):   # Debian's python3-h2 under another python3
    if os.path.isdir(d) and d not in sys.path:
        sys.path.append(d)
try:
    import hpack  # noqa: E402
except ImportError:   # the callers skip
    hpack = None

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS, PUSH_PROMISE, PING, GOAWAY, WINDOW_UPDATE, CONTINUATION = range(10)
END_STREAM, ACK, END_HEADERS, PADDED, PRIO = 0x1, 0x1, 0x4, 0x8, 0x20
NO_ERROR, PROTOCOL_ERROR, INTERNAL_ERROR, FLOW_CONTROL_ERROR, SETTINGS_TIMEOUT, STREAM_CLOSED, \
    FRAME_SIZE_ERROR, REFUSED_STREAM, CANCEL, COMPRESSION_ERROR, CONNECT_ERROR, ENHANCE_YOUR_CALM = range(12)
ERRORS = ["NO_ERROR", "PROTOCOL_ERROR", "INTERNAL_ERROR", "FLOW_CONTROL_ERROR", "SETTINGS_TIMEOUT",
          "STREAM_CLOSED", "FRAME_SIZE_ERROR", "REFUSED_STREAM", "CANCEL", "COMPRESSION_ERROR",
          "CONNECT_ERROR", "ENHANCE_YOUR_CALM", "INADEQUATE_SECURITY", "HTTP_1_1_REQUIRED"]


def frame(ftype, flags, stream, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([ftype, flags]) + struct.pack(">I", stream) + payload


class Frame:
    def __init__(self, ftype, flags, stream, payload):
        self.type, self.flags, self.stream, self.payload = ftype, flags, stream, payload

    def code(self):
        """The error code of RST_STREAM / GOAWAY."""
        if self.type == RST_STREAM:
            return struct.unpack(">I", self.payload[:4])[0]
        if self.type == GOAWAY:
            return struct.unpack(">I", self.payload[4:8])[0]
        return None

    def __repr__(self):
        names = ["DATA", "HEADERS", "PRIORITY", "RST_STREAM", "SETTINGS", "PUSH_PROMISE", "PING",
                 "GOAWAY", "WINDOW_UPDATE", "CONTINUATION"]
        n = names[self.type] if self.type < len(names) else str(self.type)
        c = self.code()
        return f"{n}(s={self.stream},f={self.flags:#x},len={len(self.payload)}" + \
            (f",{ERRORS[c] if c < len(ERRORS) else c})" if c is not None else ")")


class H2:
    def __init__(self, host, port, tls_ca=None, settings=None, preface=True, timeout=5.0):
        s = socket.create_connection((host, port), timeout=timeout)
        if tls_ca:
            ctx = ssl.create_default_context(cafile=tls_ca)
            ctx.set_alpn_protocols(["h2"])
            s = ctx.wrap_socket(s, server_hostname="localhost")
            self.alpn = s.selected_alpn_protocol()
        self.sock = s
        self.buf = b""
        self.frames = []            # every frame received, in order
        self.closed = False
        self.enc = hpack.Encoder()
        self.dec = hpack.Decoder()
        if preface:
            self.send(PREFACE + self.settings_frame(settings or {}))

    @staticmethod
    def settings_frame(settings, ack=False):
        return frame(SETTINGS, ACK if ack else 0, 0, b"".join(struct.pack(">HI", k, v) for k, v in settings.items()))

    def send(self, data):
        try:
            self.sock.sendall(data)
            return True
        except OSError:
            self.closed = True
            return False

    def block(self, headers):
        return self.enc.encode(headers)

    def headers(self, stream, headers, end_stream=False, raw_block=None, flags=END_HEADERS):
        blk = raw_block if raw_block is not None else self.block(headers)
        return self.send(frame(HEADERS, flags | (END_STREAM if end_stream else 0), stream, blk))

    def request(self, stream, path="/", method="GET", extra=(), end_stream=True, authority="localhost"):
        h = [(":method", method), (":scheme", "http"), (":path", path), (":authority", authority), *extra]
        return self.headers(stream, h, end_stream)

    def data(self, stream, payload, end_stream=False):
        return self.send(frame(DATA, END_STREAM if end_stream else 0, stream, payload))

    def read_some(self, timeout):
        """One read; appends parsed frames; False once the peer closed."""
        if self.closed:
            return False
        self.sock.settimeout(timeout)
        try:
            d = self.sock.recv(65536)
        except socket.timeout:
            return True
        except (ConnectionResetError, ssl.SSLError, OSError):
            self.closed = True
            return False
        if not d:
            self.closed = True
            return False
        self.buf += d
        while len(self.buf) >= 9:
            n = struct.unpack(">I", b"\0" + self.buf[:3])[0]
            if len(self.buf) < 9 + n:
                break
            f = Frame(self.buf[3], self.buf[4], struct.unpack(">I", self.buf[5:9])[0] & 0x7fffffff, self.buf[9:9 + n])
            self.buf = self.buf[9 + n:]
            if f.type == HEADERS:       # decoded in arrival order (HPACK state)
                p = f.payload
                if f.flags & PADDED:
                    p = p[1:len(p) - p[0]]
                if f.flags & PRIO:
                    p = p[5:]
                try:
                    f.headers = [(k if isinstance(k, str) else k.decode(), v if isinstance(v, str) else v.decode())
                                 for k, v in self.dec.decode(p)]
                except Exception as x:
                    f.headers = [("x-decode-error", repr(x))]
            if f.type == SETTINGS and not f.flags & ACK:
                self.send(self.settings_frame({}, ack=True))
            if f.type == PING and not f.flags & ACK:
                self.send(frame(PING, ACK, 0, f.payload))
            self.frames.append(f)
        return True

    def until(self, pred, timeout=3.0):
        """Reads until a frame satisfies pred (returns it) or the time is up
        or the connection closed (returns None)."""
        end = time.time() + timeout
        seen = 0
        while True:
            for f in self.frames[seen:]:
                if pred(f):
                    return f
            seen = len(self.frames)
            left = end - time.time()
            if left <= 0 or not self.read_some(min(left, 0.5)):
                for f in self.frames[seen:]:
                    if pred(f):
                        return f
                return None

    def goaway(self, timeout=3.0):
        return self.until(lambda f: f.type == GOAWAY, timeout)

    def response(self, stream, timeout=3.0):
        """(status, headers dict, body) of a stream, or None."""
        end = self.until(lambda f: f.stream == stream and (f.type == RST_STREAM or
                                                           (f.type in (DATA, HEADERS) and f.flags & END_STREAM)), timeout)
        if not end or end.type == RST_STREAM:
            return None
        hdrs, body = {}, b""
        for f in self.frames:
            if f.stream != stream:
                continue
            if f.type == HEADERS:
                hdrs.update(dict(f.headers))
            elif f.type == DATA:
                body += f.payload
        return int(hdrs.get(":status", 0)), hdrs, body

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass
