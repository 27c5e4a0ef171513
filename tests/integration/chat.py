#!/usr/bin/python3
"""apps/chat with python3-websockets (Debian's, hence /usr/bin/python3) and
curl: members see each other's messages, a newcomer gets the history, a
member that stops reading is dropped while the others get every message
and the server's memory stays flat, and /events streams the room to curl.
"""
import asyncio
import json
import os
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from uwtest import T, Server, app, ASAN  # noqa: E402

t = T()
NAME = "chat"
try:
    import websockets
except ImportError:
    t.check(f"{NAME}: python3-websockets is installed", False, "Debian package python3-websockets (DEB_PACKAGES in src/ws/build.mk)")
    t.done()
t.require_built(app("chat"))


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        return next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))


async def recv_json(ws, timeout=5):
    return json.loads(await asyncio.wait_for(ws.recv(), timeout))


async def until(ws, pred, timeout=10):
    end = time.time() + timeout
    while time.time() < end:
        m = await recv_json(ws, end - time.time())
        if pred(m):
            return m
    return None


with Server("chat") as s:
    url = f"ws://127.0.0.1:{s.port}/ws"
    # curl prints the head (-i) once the handler has begun the stream and
    # joined the room; the members connect only then, so curl sees all.
    curl = subprocess.Popen(["curl", "-isN", "-m", "60", f"http://127.0.0.1:{s.port}/events"], stdout=subprocess.PIPE)
    got = []
    reader = threading.Thread(target=lambda: got.extend(iter(lambda: curl.stdout.read1(65536), b"")), daemon=True)
    reader.start()
    end = time.time() + 20
    while b"\r\n\r\n" not in b"".join(got) and time.time() < end:
        time.sleep(0.02)
    t.check(f"{NAME}: curl's /events stream has begun", b"\r\n\r\n" in b"".join(got), repr(b"".join(got)[:200]))

    async def main():
        a = await websockets.connect(url + "?name=alice")
        b = await websockets.connect(url + "?name=b%C3%B6b")
        m = await until(a, lambda m: m.get("system") == "böb joined")
        t.check(f"{NAME}: alice sees böb join, 2 online", m is not None and m["online"] == 2, str(m))
        await a.send("hello böb")
        m = await until(b, lambda m: m.get("from") == "alice")
        t.check(f"{NAME}: böb gets alice's message", m is not None and m["text"] == "hello böb", str(m))
        await b.send("x" * 3000)
        m = await until(a, lambda m: m.get("from") == "böb")
        t.check(f"{NAME}: a text over 2000 bytes is cut to 2000", m is not None and len(m["text"]) == 2000, str(m)[:80])
        c = await websockets.connect(url)
        hist = [await recv_json(c) for _ in range(4)]
        t.check(f"{NAME}: a newcomer gets the history, and a guest name",
                [h.get("text") or h.get("system") for h in hist][:3] == ["alice joined", "böb joined", "hello böb"]
                and hist[-1]["text"] == "x" * 2000, str(hist)[:200])
        await c.close()

        # a member that reads nothing (a small receive buffer, never read)
        slow = socket.socket()
        slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        slow.connect(("127.0.0.1", s.port))
        slow.sendall(b"GET /ws?name=slow HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
        await until(a, lambda m: m.get("system") == "slow joined")
        before = rss_kib(s.proc.pid)
        n = 3000
        got = 0

        async def reader():
            nonlocal got
            while got < n:
                m = await recv_json(b, 20)
                if m.get("from") == "alice" and m["text"].startswith("flood"):
                    got += 1
        rt = asyncio.create_task(reader())
        for i in range(n):
            await a.send(f"flood {i} " + "y" * 1500)
        await asyncio.wait_for(rt, 60)
        after = rss_kib(s.proc.pid)
        t.check(f"{NAME}: the others get all {n} messages while one member reads nothing", got == n, str(got))
        if ASAN:   # freed memory waits in ASan's quarantine (256 MiB)
            t.skip(f"{NAME}: the server's memory stays flat", f"not measured under ASan ({before} -> {after} KiB)")
        else:
            t.check(f"{NAME}: the server's memory stays flat ({before} -> {after} KiB)", after - before < 16 * 1024)
        m = await until(a, lambda m: m.get("system") == "slow left", 20)
        t.check(f"{NAME}: the member that reads nothing is dropped", m is not None and m["online"] == 2, str(m))
        slow.close()
        await a.close()
        await b.close()

    asyncio.run(asyncio.wait_for(main(), 120))
    time.sleep(0.3)
    curl.terminate()
    reader.join(10)
    events = b"".join(got).decode()
    datas = [json.loads(l[6:]) for l in events.splitlines() if l.startswith("data: ")]
    t.check(f"{NAME}: curl reads the room from /events (server-sent events)",
            "event: chat" in events and any(d.get("text") == "hello böb" for d in datas), events[:200])
t.done()
