#!/usr/bin/python3
"""WebSockets against tests/apps/wsecho with python3-websockets (Debian's,
hence /usr/bin/python3) and raw sockets for what a polite client never
sends: echo with and without permessage-deflate, fragmentation, ping/pong,
the server's own pings and its drop of a peer that stops answering, close
codes both ways, 16 MiB messages, the size limit (1009), invalid UTF-8
(1007), unmasked frames (1002), handshake refusals (400, 426), wss:// over
TLS, the close (1001) a stop sends, and idle WebSockets with the server's
RSS (UWEB_WS_IDLE=N, default 10,000, opened with raw sockets).
"""
import asyncio
import base64
import os
import signal
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import uwtest  # noqa: E402
from uwtest import T, Server, BUILD, ROOT, free_port, wait_port  # noqa: E402

t = T()
NAME = "websocket"
try:
    import websockets
except ImportError:
    t.check(f"{NAME}: python3-websockets is installed", False, "Debian package python3-websockets (DEB_PACKAGES in src/ws/build.mk)")
    t.done()
WSECHO = os.path.join(BUILD, "tests", "apps", "wsecho")
t.require_built(WSECHO)
MIB16 = 16 * 1024 * 1024


def run(coro, timeout=60):
    return asyncio.run(asyncio.wait_for(coro, timeout))


# ------------------------------------------------------------ raw frames

def handshake(port, path="/echo", extra=b"", key=b"dGhlIHNhbXBsZSBub25jZQ=="):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(b"GET " + path.encode() + b" HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              b"Sec-WebSocket-Key: " + key + b"\r\nSec-WebSocket-Version: 13\r\n" + extra + b"\r\n")
    head = b""
    while b"\r\n\r\n" not in head:
        d = s.recv(1)
        if not d:
            break
        head += d
    return s, head.decode(errors="replace")


def frame(op, payload, fin=True, mask=b"\x11\x22\x33\x44"):
    n = len(payload)
    m = 0x80 if mask else 0
    h = bytes([(0x80 if fin else 0) | op])
    if n < 126:
        h += bytes([m | n])
    elif n < 65536:
        h += bytes([m | 126]) + struct.pack(">H", n)
    else:
        h += bytes([m | 127]) + struct.pack(">Q", n)
    if mask:
        payload = bytes(c ^ mask[i % 4] for i, c in enumerate(payload))
        h += mask
    return h + payload


def read_exact(s, n):
    b = b""
    while len(b) < n:
        d = s.recv(n - len(b))
        if not d:
            raise EOFError
        b += d
    return b


def read_frame(s):
    """(opcode, payload) of the server's next frame, or (None, b"") at EOF."""
    try:
        b0, b1 = read_exact(s, 2)
        n = b1 & 0x7f
        if n == 126:
            n = struct.unpack(">H", read_exact(s, 2))[0]
        elif n == 127:
            n = struct.unpack(">Q", read_exact(s, 8))[0]
        return b0 & 0x0f, read_exact(s, n)
    except (EOFError, OSError):
        return None, b""


def close_code(payload):
    return struct.unpack(">H", payload[:2])[0] if len(payload) >= 2 else None


def refused_with(port, data, code):
    s, head = handshake(port, "/echo-plain")
    if " 101 " not in head.split("\r\n")[0]:
        return False, head.split("\r\n")[0]
    s.sendall(data)
    op, pl = read_frame(s)
    # the connection ends after the close
    s.settimeout(3)
    rest = read_frame(s)[0]
    s.close()
    return op == 8 and close_code(pl) == code and rest is None, f"got opcode {op} code {close_code(pl)}, then {rest}"


# ------------------------------------------------------------ the checks

with Server(None, binary=WSECHO) as s:
    url = f"ws://127.0.0.1:{s.port}"

    async def echo_checks():
        async with websockets.connect(url + "/echo", max_size=2 ** 25) as ws:
            ext = ws.response_headers.get("Sec-WebSocket-Extensions", "")
            t.check(f"{NAME}: permessage-deflate negotiated when offered", ext.startswith("permessage-deflate"), ext)
            await ws.send("hello, κόσμε 😀")
            t.check(f"{NAME}: text echo", await ws.recv() == "hello, κόσμε 😀")
            data = os.urandom(70000)
            await ws.send(data)
            t.check(f"{NAME}: binary echo (70000 random bytes, compressed)", await ws.recv() == data)
            await ws.send(["frag", "ment", "ed ", "text"])
            t.check(f"{NAME}: fragmented message reassembled", await ws.recv() == "fragmented text")
            await ws.send([b"\x00" * 1000, b"\x01" * 100000])
            t.check(f"{NAME}: fragmented binary reassembled", await ws.recv() == b"\x00" * 1000 + b"\x01" * 100000)
            await ws.send("")
            t.check(f"{NAME}: empty message", await ws.recv() == "")
            pong = await ws.ping(b"are you there")
            await asyncio.wait_for(pong, 5)
            t.check(f"{NAME}: ping answered with its pong", True)
            big = (b"uweb websocket " * (MIB16 // 15 + 1))[:MIB16]
            t0 = time.time()
            await ws.send(big)
            got = await ws.recv()
            t.check(f"{NAME}: 16 MiB message echoed with compression ({time.time() - t0:.1f}s)", got == big)
            text = "é" * (MIB16 // 2)
            await ws.send(text)
            t.check(f"{NAME}: 16 MiB text message echoed with compression", await ws.recv() == text)
        async with websockets.connect(url + "/echo", compression=None, max_size=2 ** 25) as ws:
            t.check(f"{NAME}: no extension when the client offers none",
                    "Sec-WebSocket-Extensions" not in ws.response_headers)
            big = os.urandom(MIB16)
            t0 = time.time()
            await ws.send(big)
            t.check(f"{NAME}: 16 MiB binary message echoed without compression ({time.time() - t0:.1f}s)",
                    await ws.recv() == big)
            await ws.send("plain")
            t.check(f"{NAME}: text echo without compression", await ws.recv() == "plain")
            await ws.close(4321, "done here")
            t.check(f"{NAME}: the server echoes the client's close code",
                    ws.close_rcvd is not None and ws.close_rcvd.code == 4321, str(ws.close_rcvd))
        async with websockets.connect(url + "/echo-plain") as ws:
            t.check(f"{NAME}: a route without compression declines the offer",
                    "Sec-WebSocket-Extensions" not in ws.response_headers)
            await ws.send("x" * 5000)
            t.check(f"{NAME}: echo on that route", await ws.recv() == "x" * 5000)
        async with websockets.connect(url + "/close/4001") as ws:
            await ws.send("close please")
            try:
                await asyncio.wait_for(ws.recv(), 5)
                t.check(f"{NAME}: server closes with code 4001 and its reason", False, "got a message")
            except websockets.ConnectionClosed as e:
                t.check(f"{NAME}: server closes with code 4001 and its reason",
                        e.rcvd is not None and e.rcvd.code == 4001 and e.rcvd.reason == "bye", str(e))
        async with websockets.connect(url + "/echo-small") as ws:
            await ws.send("y" * 2000)
            try:
                await asyncio.wait_for(ws.recv(), 5)
                t.check(f"{NAME}: over max_message closes with 1009", False, "echoed")
            except websockets.ConnectionClosed as e:
                t.check(f"{NAME}: over max_message closes with 1009", e.rcvd is not None and e.rcvd.code == 1009, str(e))
        async with websockets.connect(url + "/echo-small") as ws:
            await ws.send("z" * 1000)
            t.check(f"{NAME}: under max_message is echoed", await ws.recv() == "z" * 1000)

    run(echo_checks(), 120)

    # raw frames: what the RFC makes the server refuse
    ok, why = refused_with(s.port, frame(1, b"bad \xc0\xaf utf-8"), 1007)
    t.check(f"{NAME}: invalid UTF-8 in a text message closes with 1007", ok, why)
    ok, why = refused_with(s.port, frame(1, "split ".encode() + "€".encode()[:2], fin=False)
                           + frame(0, b"\xff" + b"x"), 1007)
    t.check(f"{NAME}: invalid UTF-8 across fragments closes with 1007", ok, why)
    ok, why = refused_with(s.port, frame(1, b"unmasked", mask=None), 1002)
    t.check(f"{NAME}: an unmasked client frame closes with 1002", ok, why)
    ok, why = refused_with(s.port, frame(0xB, b"x"), 1002)
    t.check(f"{NAME}: a reserved opcode closes with 1002", ok, why)
    ok, why = refused_with(s.port, frame(9, b"p", fin=False), 1002)
    t.check(f"{NAME}: a fragmented ping closes with 1002", ok, why)
    ok, why = refused_with(s.port, frame(8, b"\x03\xed"), 1002)   # 1005 may not be sent
    t.check(f"{NAME}: a close with a reserved code closes with 1002", ok, why)

    # frames sent right behind the handshake are read (they came with the request)
    sock = socket.create_connection(("127.0.0.1", s.port), timeout=5)
    sock.sendall(b"GET /echo-plain HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                 b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
                 + frame(1, b"early"))
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(1)
    op, pl = read_frame(sock)
    t.check(f"{NAME}: 101 Switching Protocols with the RFC's Sec-WebSocket-Accept",
            head.startswith(b"HTTP/1.1 101 Switching Protocols\r\n")
            and b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" in head, head.decode(errors="replace"))
    t.check(f"{NAME}: a frame sent with the handshake is echoed", (op, pl) == (1, b"early"), f"{op} {pl!r}")
    # a ping between fragments, answered at once
    sock.sendall(frame(1, b"ab", fin=False) + frame(9, b"mid") + frame(0, b"cd"))
    got = [read_frame(sock), read_frame(sock)]
    t.check(f"{NAME}: a ping between fragments gets its pong, then the message",
            got == [(10, b"mid"), (1, b"abcd")], str(got))
    sock.sendall(frame(8, b"\x03\xe8"))
    op, pl = read_frame(sock)
    t.check(f"{NAME}: a client's close 1000 is echoed", op == 8 and close_code(pl) == 1000, f"{op} {pl!r}")
    sock.close()

    # handshake refusals
    def status_of(req):
        c = socket.create_connection(("127.0.0.1", s.port), timeout=5)
        c.sendall(req)
        line = c.recv(4096).split(b"\r\n")[0].decode(errors="replace")
        c.close()
        return line

    t.check(f"{NAME}: GET without Upgrade answers 426",
            " 426 " in status_of(b"GET /echo HTTP/1.1\r\nHost: x\r\n\r\n"))
    t.check(f"{NAME}: Sec-WebSocket-Version 8 answers 426",
            " 426 " in status_of(b"GET /echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                                 b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n"))
    t.check(f"{NAME}: a bad Sec-WebSocket-Key answers 400",
            " 400 " in status_of(b"GET /echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                                 b"Sec-WebSocket-Key: short\r\nSec-WebSocket-Version: 13\r\n\r\n"))

    # liveness: the server pings a silent peer, and drops one that does not answer
    sock, head = handshake(s.port, "/live")
    sock.settimeout(3)
    t0 = time.time()
    op, pl = read_frame(sock)
    t.check(f"{NAME}: the server pings after ping_interval of silence ({time.time() - t0:.2f}s)",
            op == 9 and 0.1 < time.time() - t0 < 2, f"{op} {pl!r}")
    op2, _ = read_frame(sock)
    t.check(f"{NAME}: a peer that does not answer the ping is dropped ({time.time() - t0:.2f}s)",
            op2 is None and time.time() - t0 < 3, str(op2))
    sock.close()

    async def live_ok():
        async with websockets.connect(url + "/live") as ws:
            await asyncio.sleep(1.2)          # several ping rounds, answered by the client library
            await ws.send("still here")
            return await ws.recv()
    t.check(f"{NAME}: a peer that answers pings stays connected", run(live_ok()) == "still here")

# wss:// over TLS
ca_dir = tempfile.mkdtemp(prefix="uweb-ws-")
subprocess.run([os.path.join(ROOT, "scripts", "mkcert.sh"), ca_dir], check=True, capture_output=True)
tls_port = free_port()
with Server(None, [f"--tls-port={tls_port}", f"--tls-cert={ca_dir}/localhost.pem", f"--tls-key={ca_dir}/localhost.key"],
            binary=WSECHO) as s:
    wait_port(tls_port)
    ctx = ssl.create_default_context(cafile=f"{ca_dir}/ca.pem")

    async def tls_checks():
        async with websockets.connect(f"wss://localhost:{tls_port}/echo", ssl=ctx, max_size=2 ** 25) as ws:
            await ws.send("over TLS")
            ok = await ws.recv() == "over TLS"
            data = os.urandom(3 * 1024 * 1024)
            await ws.send(data)
            ok2 = await ws.recv() == data
            pong = await ws.ping()
            await asyncio.wait_for(pong, 5)
            return ok, ok2
    ok, ok2 = run(tls_checks())
    t.check(f"{NAME}: wss:// echo over TLS", ok)
    t.check(f"{NAME}: wss:// 3 MiB binary echo", ok2)

    # a stop closes open WebSockets with 1001 at once
    async def stop_check():
        async with websockets.connect(f"ws://127.0.0.1:{s.port}/echo") as ws:
            await ws.send("x")
            await ws.recv()
            t0 = time.time()
            s.proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(ws.recv(), 8)
                return None, 0
            except websockets.ConnectionClosed as e:
                return (e.rcvd.code if e.rcvd else None), time.time() - t0
    code, took = run(stop_check())
    t.check(f"{NAME}: SIGTERM closes open WebSockets with 1001 ({took:.2f}s)", code == 1001 and took < 3, str(code))
    s.proc.wait(10)
    t.check(f"{NAME}: the server exits 0 after the stop", s.proc.returncode == 0, str(s.proc.returncode))


# idle WebSockets and the server's memory
def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


N = int(os.environ.get("UWEB_WS_IDLE", "10000"))
try:
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, N + 1000)), hard))
except (ValueError, OSError):
    pass


def open_idle(port, n, deadline):
    """n WebSockets to /idle with raw non-blocking sockets (a handshake
    each, 500 in flight): the sockets whose 101 came."""
    import selectors
    sel = selectors.DefaultSelector()
    req = (b"GET /idle HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
    done, started, pending = [], 0, 0
    while len(done) + pending < n or pending:
        while pending < 500 and started < n:
            c = socket.socket()
            c.setblocking(False)
            c.connect_ex(("127.0.0.1", port))
            sel.register(c, selectors.EVENT_WRITE, [b""])
            started += 1
            pending += 1
        if time.time() > deadline:
            break
        for key, ev in sel.select(1.0):
            c, buf = key.fileobj, key.data
            if ev & selectors.EVENT_WRITE:
                c.send(req)
                sel.modify(c, selectors.EVENT_READ, buf)
                continue
            d = c.recv(4096)
            buf[0] += d
            if not d or b"\r\n\r\n" in buf[0]:
                sel.unregister(c)
                pending -= 1
                if buf[0].startswith(b"HTTP/1.1 101 "):
                    done.append(c)
                else:
                    c.close()
        if started >= n and not pending:
            break
    return done


with Server(None, [f"--max-connections={N + 100}"], binary=WSECHO) as s:
    base = rss_kib(s.proc.pid)
    t0 = time.time()
    conns = open_idle(s.port, N, t0 + 300)
    opened = time.time() - t0
    time.sleep(1.0)
    full = rss_kib(s.proc.pid)
    # all still there: the first and the last answer a ping
    alive = 0
    for c in (conns[:1] + conns[-1:]) if conns else []:
        c.setblocking(True)
        c.settimeout(10)
        c.sendall(frame(9, b"still"))
        try:
            alive += read_exact(c, 7) == b"\x8a\x05still"
        except (OSError, EOFError):
            pass
    per = (full - base) * 1024 / max(N, 1)
    limit = (128 if uwtest.ASAN else 64) * 1024    # ASan's redzones and quarantine: about 57 KiB
    t.check(f"{NAME}: {N} idle WebSockets open ({opened:.1f}s); server RSS {base} KiB -> {full} KiB, "
            f"{per / 1024:.1f} KiB per idle WebSocket", len(conns) == N and alive == 2 and per < limit,
            f"{len(conns)} opened, {alive} of 2 answered a ping")
    for c in conns:
        c.close()

t.done()
